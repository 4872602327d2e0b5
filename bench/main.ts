// The benchmark's command line, shared by `npm run bench` (bench/run.ts) and the packed CLI of a GPU machine
// (scripts/gpu-entry.ts, `run.sh`): parses the flags, runs the suite in Node on Dawn (or hands over to the
// browser driver), prints the table (or, with --json, the result) and writes the result file.
// How TF.js is loaded differs: Vite bundles it on the fly in the project, the packed CLI has it built in.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { report } from './report.ts';
import type { SuiteResult } from './suite.ts';
import type { TfjsModule } from './tfjs-peer.ts';

export const BENCH_USAGE = 'bench [--browser] [--quick] [--no-peer] [--only=matmul,kernels,toy] [--n=256,4096] [--json] [--out=FILE]';

export interface BenchArgs {
  browser: boolean;
  quick: boolean;
  peer: boolean;
  /** The result as JSON on stdout (the table goes to stderr); no file unless --out names one. */
  json: boolean;
  only?: string[];
  n?: number[];
  out?: string;
}

export interface BenchHooks {
  /** The module of bench/tfjs-entry.ts. */
  loadTfjs: () => Promise<TfjsModule>;
  /** The same suite in headless Chromium; absent where no browser can be driven (the packed CLI). */
  runBrowser?: (args: BenchArgs) => Promise<SuiteResult>;
  /** Where results.json goes by default. */
  defaultOut: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** null and a message on stderr for a bad argument (exit 2); 'help' for --help. */
function parseArgs(argv: string[]): BenchArgs | 'help' | null {
  const args: BenchArgs = { browser: false, quick: false, peer: true, json: false };
  for (const a of argv) {
    if (a === '--browser') args.browser = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--no-peer') args.peer = false;
    else if (a === '--json') args.json = true;
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',').filter(Boolean);
    else if (a.startsWith('--out=')) args.out = resolve(a.slice(6));
    else if (/^--n=\d+(,\d+)*$/.test(a)) args.n = a.slice(4).split(',').map(Number);
    else if (a === '--help' || a === '-h') return 'help';
    else {
      log(`bench: unknown argument ${a} (try --help)`);
      return null;
    }
  }
  return args;
}

/** The Node device, destroyed before exiting (exiting with TF.js work in flight crashed Dawn). */
let nodeDevice: GPUDevice | undefined;

async function runNode(args: BenchArgs, hooks: BenchHooks): Promise<SuiteResult> {
  const { nodeGpuContext } = await import('../src/gpu/node.ts');
  const { runSuite } = await import('./suite.ts');
  const ctx = await nodeGpuContext();
  nodeDevice = ctx.device;
  let peer = null;
  let peerError: string | undefined;
  if (args.peer) {
    try {
      const { TfjsPeer } = await import('./tfjs-peer.ts');
      peer = await TfjsPeer.create(ctx.device, hooks.loadTfjs);
    } catch (e) {
      peerError = (e as Error).message;
      log(`TF.js peer unavailable: ${peerError}`);
    }
  }
  return runSuite(ctx, { quick: args.quick, peer, peerError, log, only: args.only, n: args.n });
}

/** Runs the benchmark; returns the exit code (0, 1 on failure, 2 on a bad argument). */
export async function benchMain(argv: string[], hooks: BenchHooks): Promise<number> {
  const args = parseArgs(argv);
  if (args === null) return 2;
  if (args === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  if (args.browser && !hooks.runBrowser) {
    log('bench: --browser needs the project checkout (npm run bench -- --browser); this build runs in Node only');
    return 2;
  }
  const mode = args.browser ? 'browser (headless Chromium)' : 'node (Dawn)';
  try {
    const result = args.browser ? await hooks.runBrowser!(args) : await runNode(args, hooks);
    const table = report(result, mode);
    const meta = { mode, date: new Date().toISOString(), node: process.version, argv };
    const json = `${JSON.stringify({ ...meta, ...result }, null, 1)}\n`;
    if (args.json) {
      log(table);
      process.stdout.write(json);
    } else {
      process.stdout.write(`${table}\n`);
    }
    const out = args.out ?? (args.json ? undefined : hooks.defaultOut);
    if (out) {
      writeFileSync(out, json);
      log(`wrote ${out}`);
    }
    return 0;
  } catch (e) {
    log(`bench: ${(e as Error).stack ?? e}`);
    return 1;
  } finally {
    nodeDevice?.destroy();
  }
}
