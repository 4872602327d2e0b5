// Running the CLI in tests: as the user does (a spawned process: the supervisor, its worker, Dawn's own
// output kept out) or in this process (main(), with stdout and stderr captured), and the one shape every
// refusal must have: exit 2, exactly one line "error: ..." on stderr (after the adapter line), no stack.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.ts';

export const CLI_ARGS = ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts'];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI as a separate process (supervisor and worker), as `npm run cli` starts it. */
export function spawnCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 });
    });
  });
}

/** The CLI's main() in this process (the GPU device is shared with the other tests), output captured. */
export async function runInProcess(args: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (into: string[]) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  const t0 = performance.now();
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  let code: number;
  try {
    code = await main([...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return { code, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - t0 };
}

/** The stderr lines after the one that names the adapter ("[webgpu] adapter: ..."). */
export function messageLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('[webgpu] adapter: '));
}

/** A refusal: exit 2, one line "error: ..." matching `pattern`, no stack trace, nothing on stdout. */
export function expectRefusal(r: CliRun, pattern: RegExp, what = ''): void {
  const lines = messageLines(r.stderr);
  expect(r.code, `${what}\n${r.stderr}`).toBe(2);
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(/^error: /);
  expect(lines[0], what).toMatch(pattern);
  expect(r.stderr, what).not.toMatch(/\n\s+at |\.(cpp|ts|js):\d+/); // no stack trace, no C++ location
  expect(r.stdout, what).toBe('');
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
