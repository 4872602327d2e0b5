// `npm run bench`: the benchmark suite (bench/suite.ts) in Node on Dawn, or with --browser in headless
// Chromium (the same code, served by Vite from http://127.0.0.1 because WebGPU needs a secure context).
// Prints the table on stdout, progress on stderr, and writes bench/results.json.
//
//   npm run bench -- [--browser] [--quick] [--no-peer] [--only=matmul,kernels,toy] [--n=256,4096] [--out=FILE]
//   (--n replaces the widths chosen for the adapter, e.g. to run the toy step at 4096 on SwiftShader)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { report } from './report.ts';
import type { SuiteResult } from './suite.ts';
import type { TfjsModule } from './tfjs-peer.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

interface Args {
  browser: boolean;
  quick: boolean;
  peer: boolean;
  only?: string[];
  n?: number[];
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { browser: false, quick: false, peer: true, out: join(here, 'results.json') };
  for (const a of argv) {
    if (a === '--browser') args.browser = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--no-peer') args.peer = false;
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',').filter(Boolean);
    else if (a.startsWith('--out=')) args.out = resolve(a.slice(6));
    else if (/^--n=\d+(,\d+)*$/.test(a)) args.n = a.slice(4).split(',').map(Number);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('npm run bench -- [--browser] [--quick] [--no-peer] [--only=matmul,kernels,toy] [--n=256,4096] [--out=FILE]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a} (try --help)\n`);
      process.exit(2);
    }
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The Node device, destroyed before exiting (exiting with TF.js work in flight crashed Dawn). */
let nodeDevice: GPUDevice | undefined;

async function runNode(args: Args): Promise<SuiteResult> {
  const { nodeGpuContext } = await import('../src/gpu/node.ts');
  const { runSuite } = await import('./suite.ts');
  const ctx = await nodeGpuContext();
  nodeDevice = ctx.device;
  let peer = null;
  let peerError: string | undefined;
  if (args.peer) {
    try {
      const { TfjsPeer } = await import('./tfjs-peer.ts');
      peer = await TfjsPeer.create(ctx.device, loadTfjsForNode);
    } catch (e) {
      peerError = (e as Error).message;
      log(`TF.js peer unavailable: ${peerError}`);
    }
  }
  return runSuite(ctx, { quick: args.quick, peer, peerError, log, only: args.only, n: args.n });
}

/** bench/tfjs-entry.ts bundled by Vite into one ES module (see the note there), then imported. */
async function loadTfjsForNode(): Promise<TfjsModule> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'lora-bench-tfjs-'));
  await build({
    configFile: false,
    root,
    publicDir: false,
    logLevel: 'warn',
    resolve: { mainFields: ['module', 'jsnext:main', 'main'] },
    ssr: { noExternal: true, target: 'node' },
    build: { ssr: join(here, 'tfjs-entry.ts'), outDir, emptyOutDir: false, write: true, minify: false, rollupOptions: { output: { format: 'es', entryFileNames: 'tfjs.mjs' } } },
  });
  const mod = (await import(pathToFileURL(join(outDir, 'tfjs.mjs')).href)) as TfjsModule;
  rmSync(outDir, { recursive: true, force: true });
  return mod;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function runBrowser(args: Args): Promise<SuiteResult> {
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright-core');
  const port = await freePort();
  const server = await createServer({
    configFile: false,
    root: join(here, 'browser'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port, strictPort: true, fs: { allow: [root] }, hmr: false },
    optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'] },
  });
  await server.listen();
  const userDataDir = mkdtempSync(join(tmpdir(), 'lora-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
      // Real durations from timestamp queries (Chromium quantizes them to 100 us by default).
      '--disable-dawn-features=timestamp_quantization',
      // A backgrounded headless tab must not be throttled mid-benchmark.
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    ],
  });
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[bench] ')) log(t.slice(8));
      else if (m.type() === 'error') log(`[page] ${t}`);
    });
    page.on('pageerror', (e) => log(`[page] ${e.message}`));
    const q = new URLSearchParams();
    if (args.quick) q.set('quick', '1');
    if (!args.peer) q.set('peer', '0');
    if (args.only) q.set('only', args.only.join(','));
    if (args.n) q.set('n', args.n.join(','));
    await page.goto(`http://127.0.0.1:${port}/?${q}`);
    await page.waitForFunction(() => (window as { __bench?: unknown }).__bench !== undefined, null, { timeout: 20 * 60_000, polling: 1000 });
    const outcome = (await page.evaluate(() => (window as { __bench?: unknown }).__bench)) as { ok: true; result: SuiteResult } | { ok: false; error: string };
    if (!outcome.ok) throw new Error(`benchmark failed in the browser: ${outcome.error}`);
    return outcome.result;
  } finally {
    await context.close();
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

const args = parseArgs(process.argv.slice(2));
const mode = args.browser ? 'browser (headless Chromium)' : 'node (Dawn)';
try {
  const result = args.browser ? await runBrowser(args) : await runNode(args);
  process.stdout.write(`${report(result, mode)}\n`);
  const meta = { mode, date: new Date().toISOString(), node: process.version, argv: process.argv.slice(2) };
  writeFileSync(args.out, `${JSON.stringify({ ...meta, ...result }, null, 1)}\n`);
  log(`wrote ${args.out}`);
  nodeDevice?.destroy();
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  nodeDevice?.destroy();
  process.exit(1);
}
