// `npm run bench`: the benchmark suite (bench/suite.ts) in Node on Dawn, or with --browser in headless
// Chromium (the same code, served by Vite from http://127.0.0.1 because WebGPU needs a secure context).
// Prints the table on stdout, progress on stderr, and writes bench/results.json (flags: bench/main.ts).
//
//   npm run bench -- [--browser] [--quick] [--no-peer] [--only=matmul,kernels,toy] [--n=256,4096] [--json] [--out=FILE]
//   (--n replaces the widths chosen for the adapter, e.g. to run the toy step at 4096 on SwiftShader)
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchMain, type BenchArgs } from './main.ts';
import type { SuiteResult } from './suite.ts';
import type { TfjsModule } from './tfjs-peer.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const log = (line: string) => process.stderr.write(`${line}\n`);

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

async function runBrowser(args: BenchArgs): Promise<SuiteResult> {
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

const code = await benchMain(process.argv.slice(2), { loadTfjs: loadTfjsForNode, runBrowser, defaultOut: join(here, 'results.json') });
process.stdout.write('', () => process.exit(code));
