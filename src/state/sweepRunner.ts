// Runs the Experiments tab's sweep with the batched engine (runSweep) on the page's one device
// (pageGpu.ts), and reports into the sweep store: each batch's finished runs as they arrive (the heatmap
// fills in), then the aggregated result. Cancel stops submitting work; unfinished runs come back as
// 'cancelled'. A lost device marks the runs it cut short 'lost'; the batches not yet started run on a
// fresh device.
import { runSweep } from '../experiments/sweep/runner.ts';
import { gridSize } from '../experiments/sweep/spec.ts';
import { recordSweepEnd, recordSweepProgress, recordSweepStart } from './history/sweeps.ts';
import { trainingRefusal } from './gpuCheckStore.ts';
import { pageHost } from './pageGpu.ts';
import { useSweepStore } from './sweepStore.ts';

let abort: AbortController | null = null;

const store = () => useSweepStore.getState();

export async function startSweep(): Promise<void> {
  const s = store();
  if (s.phase === 'running' || s.phase === 'cancelling' || !s.checked.ok) return;
  const refused = trainingRefusal('sweep');
  if (refused) return s.set({ phase: 'error', message: refused });
  const sweep = s.checked.value;
  abort = new AbortController();
  const signal = abort.signal;
  s.set({ phase: 'running', message: null, running: sweep, finished: {}, runsDone: 0, runsTotal: gridSize(sweep), seconds: 0, result: null, recordId: null });
  let recording = false;
  try {
    recordSweepStart(sweep, s.form.preset, (await pageHost.context()).adapterName);
    recording = true;
    const result = await runSweep(pageHost, sweep, {
      signal,
      onProgress: (p) => {
        const finished = { ...store().finished };
        for (const r of p.finished) finished[r.index] = r;
        recordSweepProgress(p.finished);
        store().set({ finished, runsDone: p.runsDone, runsTotal: p.runsTotal, seconds: p.seconds });
      },
    });
    const cancelled = signal.aborted;
    const lost = result.runs.filter((r) => r.status === 'lost').length;
    const finished = Object.fromEntries(result.runs.map((r) => [r.index, r]));
    const message = cancelled ? 'Cancelled: the runs that had not finished are left out of the views.' : lost ? `The GPU device was lost during the sweep: ${lost} run${lost === 1 ? ' was' : 's were'} cut short and are left out of the views; the others finished on a fresh device.` : null;
    store().set({ phase: cancelled ? 'cancelled' : 'done', result, finished, runsDone: result.runs.length, seconds: result.timing?.seconds ?? store().seconds, message });
    recordSweepEnd(cancelled ? 'cancelled' : 'done', result.runs, result.timing ?? null, message);
  } catch (e) {
    const message = `The sweep failed: ${e instanceof Error ? e.message : String(e)}`;
    store().set({ phase: 'error', message });
    if (recording) recordSweepEnd('error', Object.values(store().finished), null, message);
  } finally {
    abort = null;
  }
}

export function cancelSweep(): void {
  if (!abort) return;
  abort.abort();
  store().set({ phase: 'cancelling' });
}
