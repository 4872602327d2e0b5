// How a command ends badly. A UsageError is what the user asked for and cannot be done (a bad flag, a file
// that is not what it should be, a configuration that will not fit): one line, exit code 2. Any other
// error is a fault (the GPU, the file system, a bug): one line, exit code 1.

export class UsageError extends Error {}

/** Errors known to be harmless while something runs (see tolerateUncaught). */
const tolerated = new Set<(e: Error) => boolean>();

export const isTolerated = (e: unknown): boolean => e instanceof Error && [...tolerated].some((m) => m(e));

/**
 * While a library is known to raise stray errors from timers (writeFigures' Chromium), errors matching
 * `match` are ignored by the CLI worker's handler of uncaught errors (or, outside the worker, by one
 * installed here for as long). Returns the function that ends it.
 */
export function tolerateUncaught(match: (e: Error) => boolean): () => void {
  tolerated.add(match);
  const standalone = process.listenerCount('uncaughtException') === 0;
  const listener = (e: Error) => {
    if (!match(e)) throw e;
  };
  if (standalone) process.on('uncaughtException', listener);
  return () => {
    tolerated.delete(match);
    if (standalone) process.off('uncaughtException', listener);
  };
}
