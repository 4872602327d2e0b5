// Files the CLI reads and writes. Paths are checked before any work (args.ts calls the check* functions
// while parsing), outputs are written through a temporary file renamed into place (a failure leaves
// nothing at the path), and a result that cannot be written where asked is written to the temporary
// folder instead, and the message says where: a computed result is never thrown away.
import { closeSync, constants, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { printable, quote } from '../experiments/untrusted.ts';
import { UsageError } from './errors.ts';

/** The longest text V8 can hold in one string (2^29 - 24 characters): a bigger file cannot be read as text. */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
const show = (p: string) => quote(p, 80);

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return null;
    throw new UsageError(`cannot read ${show(path)}: ${errCode(e)}`);
  }
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** An input file: exists, a regular file (a folder, FIFO or device is refused: reading one may never end), readable. */
export function checkInputFile(flag: string, path: string, maxBytes = MAX_TEXT_BYTES): void {
  const st = statOrNull(path);
  if (!st) throw new UsageError(`${flag}: ${show(path)} does not exist`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${show(path)} is not a regular file`);
  if (st.size > maxBytes) throw new UsageError(`${flag}: ${show(path)} is ${MiB(st.size)}, more than the ${MiB(maxBytes)} this command reads`);
  try {
    closeSync(openSync(path, constants.O_RDONLY));
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${show(path)}: ${errCode(e)}`);
  }
}

export function checkInputDir(flag: string, path: string): void {
  const st = statOrNull(path);
  if (!st) throw new UsageError(`${flag}: ${show(path)} does not exist`);
  if (!st.isDirectory()) throw new UsageError(`${flag}: ${show(path)} is not a folder`);
}

/** Creates and removes a probe entry in `dir`: the one reliable test that files can be made there (root, /proc, read-only mounts). */
function probeWritable(flag: string, dir: string, what: string): void {
  let probe: string;
  try {
    probe = mkdtempSync(join(dir, '.lora-write-check-'));
  } catch (e) {
    throw new UsageError(`${flag}: cannot write ${what} in ${show(dir)}: ${errCode(e)}`);
  }
  rmdirSync(probe);
}

/** A file to be written: an existing path must be a regular file; its folder must exist and accept new files. */
export function checkOutputFile(flag: string, path: string): void {
  const st = statOrNull(path);
  if (st && !st.isFile()) throw new UsageError(`${flag}: ${show(path)} exists and is not a regular file`);
  const dir = dirname(resolve(path));
  const dst = statOrNull(dir);
  if (!dst) throw new UsageError(`${flag}: the folder ${show(dirname(path))} does not exist`);
  if (!dst.isDirectory()) throw new UsageError(`${flag}: ${show(dirname(path))} is not a folder`);
  probeWritable(flag, dir, 'files');
}

/** A folder to be written into (created with its parents at the end when missing). */
export function checkOutputDir(flag: string, path: string): void {
  let at = resolve(path);
  const st = statOrNull(at);
  if (st && !st.isDirectory()) throw new UsageError(`${flag}: ${show(path)} exists and is not a folder`);
  // The nearest existing ancestor must be a folder that accepts new entries.
  while (!statOrNull(at)) {
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (!statOrNull(at)?.isDirectory()) throw new UsageError(`${flag}: ${show(at)} is not a folder`);
  probeWritable(flag, at, 'a folder');
}

/** A file or a folder to be written: whichever it is, it can be made. */
export function checkOutputPath(flag: string, path: string): void {
  if (statOrNull(path)?.isDirectory()) checkOutputDir(flag, path);
  else checkOutputFile(flag, path);
}

/** Reads a checked input file as UTF-8 text (checkInputFile first: size and kind). */
export function readText(flag: string, path: string): string {
  checkInputFile(flag, path);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${show(path)}: ${errCode(e)}`);
  }
}

/** Reads and parses a JSON input file; a missing, unreadable or malformed file is a UsageError naming it. */
export function readJsonFile(flag: string, path: string): unknown {
  const text = readText(flag, path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${show(path)} is not valid JSON (${printable((e as Error).message.split('\n')[0])})`);
  }
}

/** Something that writes a file's content through `write` (called with pieces, in order). */
export type Writer = (write: (piece: string | Uint8Array) => void) => void;

function writeAll(fd: number, piece: string | Uint8Array): void {
  const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes to `path` through a temporary file in the same folder renamed into place: nothing is left at `path` on failure. */
function writeAtomic(path: string, content: string | Uint8Array | Writer): void {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    if (typeof content === 'function') content((piece) => writeAll(fd, piece));
    else writeAll(fd, content);
    fstatSync(fd); // surfaces a late error of the file system before the rename
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Writes an output the command has computed. If `path` cannot be written now (removed folder, full disk),
 * the content goes to a file in the temporary folder and the error (a fault: the path was checked before
 * the work) says where it is, so the result is not lost.
 */
export function writeOutput(flag: string, path: string, content: string | Uint8Array | Writer): void {
  try {
    writeAtomic(path, content);
  } catch (e) {
    const kept = keepElsewhere(basename(path), content);
    throw new Error(`cannot write ${show(path)} (${flag}): ${errCode(e)}; ${kept ? `the result is in ${kept}` : 'and no copy could be kept'}`);
  }
}

/** Writes `content` to a new file in the temporary folder; returns its path (null if that fails too). */
export function keepElsewhere(name: string, content: string | Uint8Array | Writer): string | null {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'lora-cli-'));
    const path = join(dir, name.replace(/[^\w.-]/g, '_') || 'result');
    writeAtomic(path, content);
    return path;
  } catch {
    return null;
  }
}

/** Creates an output folder checked by checkOutputDir. */
export function makeOutputDir(flag: string, path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new UsageError(`${flag}: cannot create ${show(path)}: ${errCode(e)}`);
  }
}
