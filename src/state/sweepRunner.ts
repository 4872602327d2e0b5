// Runs the Experiments tab's sweep with the batched engine (runSweep), on a GPU context of its own, and
// reports into the sweep store: each batch's finished runs as they arrive (the heatmap fills in), then
// the aggregated result. Cancel stops submitting work; unfinished runs come back as 'cancelled'.
import { createGpuContext, type GpuContext } from '../gpu/device.ts';
import { runSweep } from '../experiments/sweepRunner.ts';
import { gridSize } from '../experiments/sweepSpec.ts';
import { useSweepStore } from './sweepStore.ts';

let ctx: GpuContext | null = null;
let ctxPromise: Promise<GpuContext> | null = null;
let abort: AbortController | null = null;

function getCtx(): Promise<GpuContext> {
  if (ctx) return Promise.resolve(ctx);
  ctxPromise ??= createGpuContext(globalThis.navigator?.gpu).then(
    (c) => {
      ctx = c;
      c.lost.then(() => {
        ctx = null;
        ctxPromise = null;
      });
      return c;
    },
    (e) => {
      ctxPromise = null;
      throw e;
    },
  );
  return ctxPromise;
}

const store = () => useSweepStore.getState();

export async function startSweep(): Promise<void> {
  const s = store();
  if (s.phase === 'running' || s.phase === 'cancelling' || !s.checked.ok) return;
  const sweep = s.checked.value;
  abort = new AbortController();
  const signal = abort.signal;
  s.set({ phase: 'running', message: null, running: sweep, finished: {}, runsDone: 0, runsTotal: gridSize(sweep), seconds: 0, result: null });
  try {
    const c = await getCtx();
    const result = await runSweep(c, sweep, {
      signal,
      onProgress: (p) => {
        const finished = { ...store().finished };
        for (const r of p.finished) finished[r.index] = r;
        store().set({ finished, runsDone: p.runsDone, runsTotal: p.runsTotal, seconds: p.seconds });
      },
    });
    const cancelled = signal.aborted;
    const finished = Object.fromEntries(result.runs.map((r) => [r.index, r]));
    store().set({ phase: cancelled ? 'cancelled' : 'done', result, finished, runsDone: result.runs.length, seconds: result.timing?.seconds ?? store().seconds, message: cancelled ? 'Cancelled: the runs that had not finished are left out of the views.' : null });
  } catch (e) {
    store().set({ phase: 'error', message: `The sweep failed: ${e instanceof Error ? e.message : String(e)}` });
  } finally {
    abort = null;
  }
}

export function cancelSweep(): void {
  if (!abort) return;
  abort.abort();
  store().set({ phase: 'cancelling' });
}
