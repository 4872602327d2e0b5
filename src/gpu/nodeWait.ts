// NOTE: Dawn's Node binding polls wgpuInstanceProcessEvents through setImmediate for as long as any GPU
// promise (onSubmittedWorkDone, mapAsync) is pending, i.e. it spins one CPU core while waiting. On a
// 2-core machine running SwiftShader, whose workers are the GPU, that core is half the "GPU": timings were
// up to 2x worse and very noisy. This keeps the first SPIN_MS of each wait on setImmediate (low latency for
// short waits) and then polls once per millisecond. It affects every wait in the process, ours and
// TF.js's alike. Node only; the browser's GPU process does not work this way.

const SPIN_MS = 0.25;
/** Calls further apart than this start a new wait. */
const GAP_MS = 2;

let installed = false;

export function throttleDawnPolling(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  let waitStart = 0;
  let last = -Infinity;
  const patched = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    const now = performance.now();
    if (now - last > GAP_MS) waitStart = now;
    last = now;
    if (now - waitStart < SPIN_MS) return immediate(fn, ...args);
    return setTimeout(fn, 1, ...args);
  }) as unknown as typeof setImmediate;
  globalThis.setImmediate = Object.assign(patched, { __promisify__: immediate.__promisify__ });
}
