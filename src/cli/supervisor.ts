// Keeps Dawn's own output out of the CLI's. Dawn (the `webgpu` package) writes from C++, where Node cannot
// intercept it: adapter probing warnings ("Warning: Vulkan ... required ... at InitializeImpl (...cpp:257)")
// go to file descriptor 2, and the device's log messages (and uncaptured errors that no listener
// prevents) are printf'd to descriptor 1, where they would corrupt --json output.
//
// So the CLI runs as two processes. The supervisor (what the user started) starts the worker (the same
// entry point) with two extra pipes: the worker writes its results to descriptor 3 and its messages to
// descriptor 4 (process.stdout / process.stderr are routed there), which the supervisor copies to its
// stdout and stderr. Whatever arrives on the worker's descriptors 1 and 2 is Dawn's (or Node's own crash
// report): shown with --verbose, otherwise kept and, if the worker dies without saying why, saved to a
// file that the one error line names.
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { keepElsewhere } from './paths.ts';

const WORKER_ENV = 'LORA_CLI_WORKER';
const RESULT_FD = 3;
const MESSAGE_FD = 4;
/** Native output kept for a crash report. */
const KEEP_NATIVE_BYTES = 256 * 1024;

/** This process is the worker of a supervisor (its parent, named in the variable: a variable left set by hand does not count). */
export const isWorker = (): boolean => process.env[WORKER_ENV] === String(process.ppid);

/** Runs the CLI in a worker process and exits with its code. */
export function supervise(argv: readonly string[]): void {
  const verbose = argv.includes('--verbose');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    env: { ...process.env, [WORKER_ENV]: String(process.pid) },
    stdio: ['inherit', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  const native: Buffer[] = [];
  let nativeBytes = 0;
  const onNative = (chunk: Buffer) => {
    if (verbose) process.stderr.write(chunk);
    native.push(chunk);
    nativeBytes += chunk.length;
    while (nativeBytes > KEEP_NATIVE_BYTES && native.length > 1) nativeBytes -= native.shift()!.length;
  };
  let saidWhy = false;
  /** The code the worker decided on (said on its message channel just before it exits). */
  let decided: number | undefined;
  child.stdio[1]!.on('data', onNative);
  child.stdio[2]!.on('data', onNative);
  (child.stdio[RESULT_FD] as NodeJS.ReadableStream).on('data', (c: Buffer) => process.stdout.write(c));
  (child.stdio[MESSAGE_FD] as NodeJS.ReadableStream).on('data', (c: Buffer) => {
    let text = c.toString();
    text = text.replace(EXIT_MARK, (_, code: string) => ((decided = Number(code)), ''));
    if (/(^|\n)error: /.test(text)) saidWhy = true;
    if (text) process.stderr.write(text);
  });
  process.stdout.on('error', () => undefined); // a closed pipe (| head): the worker still ends normally
  // Ctrl-C reaches both processes (one process group): the worker decides; a TERM sent here is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (e) => {
    process.stderr.write(`error: cannot start the CLI worker: ${e.message}\n`);
    process.exit(1);
  });
  child.on('close', (code, signal) => {
    // NOTE: Dawn sometimes crashes while the process exits, after the command has finished and said so
    // (a device torn down with work in flight): the command's own code stands (--verbose shows the crash).
    if (decided !== undefined) process.exit(decided);
    let exit = code ?? 1;
    if (signal === 'SIGINT') process.exit(130); // interrupted by the user, who knows why
    if (signal || (!saidWhy && exit !== 0)) {
      const log = verbose || !native.length ? null : keepElsewhere('dawn-output.log', Buffer.concat(native));
      const how = signal ? `was killed by ${signal}` : `stopped with exit code ${exit}`;
      process.stderr.write(`error: the CLI ${how} without a message${log ? ` (Dawn's and Node's output: ${log})` : verbose ? '' : '; run with --verbose to see Dawn\'s output'}\n`);
      exit = 1;
    }
    process.exit(exit === 2 ? 2 : exit === 0 ? 0 : 1);
  });
}

function writeAll(fd: number, chunk: string | Uint8Array, encoding?: BufferEncoding): void {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw e;
    }
  }
}

/** The worker's last word on its message channel: the code it exits with (never shown). */
const EXIT_MARK = /\u0000exit (\d+)\n/;

/** In the worker: says the exit code to the supervisor, then exits. */
export function exitWorker(code: number): never {
  writeAll(MESSAGE_FD, `\u0000exit ${code}\n`);
  process.exit(code);
}

/** In the worker: process.stdout and process.stderr (and so console) write to the supervisor's pipes. */
export function routeWorkerOutput(): void {
  const route = (stream: NodeJS.WriteStream, fd: number) => {
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void) => {
      if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
      writeAll(fd, chunk, encoding);
      cb?.(null);
      return true;
    }) as NodeJS.WriteStream['write'];
  };
  route(process.stdout, RESULT_FD);
  route(process.stderr, MESSAGE_FD);
}
