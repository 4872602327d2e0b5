// The Experiments tab's sweeps and the history: a sweep is recorded as its runs finish (sweepRunner.ts
// calls in), and a stored sweep comes back into the tab with its views recomputed from its runs'
// summaries (aggregateSweep, pure: no GPU): the one shown before a reload, one a sweep link matches, or
// one chosen in History.
import { ENGINE_VERSION } from '../../experiments/run/engineVersion.ts';
import { aggregateSweep, type RunSummary, type SweepTiming } from '../../experiments/sweep/aggregate.ts';
import { encodeSweepLink, gridPoints, validateSweepSpec, type ResolvedSweep } from '../../experiments/sweep/spec.ts';
import type { SweepRecord } from '../../results/records.ts';
import { checkSweep } from '../../results/validate.ts';
import { formFromSpec, setForm, useSweepStore, type SweepForm, type SweepPhase } from '../sweepStore.ts';
import type { SweepEntry } from './db.ts';
import { historyDb, noteUnreadable, readRecord } from './history.ts';
import { useHistoryStore, type ListedEntry } from './historyStore.ts';
import { SweepRecorder } from './recorder.ts';

let recorder: SweepRecorder | null = null;

export function recordSweepStart(s: ResolvedSweep, preset: string, adapter: string): void {
  recorder = new SweepRecorder(s.spec, adapter, preset === 'custom' ? undefined : preset);
  useSweepStore.getState().set({ recordId: recorder.id });
}

export function recordSweepProgress(finished: readonly RunSummary[]): void {
  recorder?.add(finished);
}

export function recordSweepEnd(status: 'done' | 'cancelled' | 'error', runs: readonly RunSummary[], timing: SweepTiming | null, message: string | null): void {
  if (!recorder) return;
  recorder.add(runs);
  recorder.finish({ status, timing, ...(message ? { message } : {}) });
  recorder = null;
}

const when = (t: number) => new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Show a stored sweep in the Experiments tab as it was: form, progress, views. */
export function showSweepRecord(r: SweepRecord, note: string): void {
  const { resolved } = checkSweep(r, 'sweep');
  const points = gridPoints(resolved);
  const byIndex = new Map(r.runs.map((x) => [x.index, x]));
  const summaries = points.map((p) => byIndex.get(p.index));
  const finished = Object.fromEntries(r.runs.map((x) => [x.index, x]));
  const phase: SweepPhase = r.status === 'done' ? 'done' : 'cancelled';
  const form: SweepForm = formFromSpec(r.spec, (r.preset as SweepForm['preset']) ?? 'custom');
  setForm(form);
  const missing = points.length - r.runs.filter((x) => x.status === 'done' || x.status === 'diverged').length;
  const status = r.status === 'done' ? '' : ` It was ${r.status === 'running' ? 'interrupted' : r.status} with ${missing} of ${points.length} runs unfinished.`;
  useSweepStore.getState().set({
    phase, running: resolved, finished, runsDone: r.runs.length, runsTotal: points.length, seconds: r.timing?.seconds ?? 0, recordId: r.id,
    result: aggregateSweep(resolved, summaries, r.timing ?? undefined),
    message: `${note} Sweep from ${when(r.createdAt)} on ${r.adapter}, shown without recomputing.${status} Run sweep to reproduce it.`,
  });
}

const sweepEntries = () => useHistoryStore.getState().entries.filter((l): l is ListedEntry & { entry: SweepEntry } => l.entry.kind === 'sweep');

/** Read and show a stored sweep; false (with the reason in History) when it cannot be read. */
export async function showStoredSweep(id: string, note = 'Stored result.'): Promise<boolean> {
  if (!(await historyDb())) return false;
  try {
    const r = await readRecord(id);
    if (r.kind !== 'sweep') return false;
    const listed = useHistoryStore.getState().entries.find((l) => l.entry.id === id);
    showSweepRecord({ ...r, status: listed?.status ?? r.status }, note);
    return true;
  } catch (e) {
    noteUnreadable(id, (e as Error).message);
    return false;
  }
}

/** The newest finished stored sweep of exactly this grid, engine version and adapter. */
export async function matchingSweep(s: ResolvedSweep, adapter: string | null): Promise<string | null> {
  if (adapter === null || !(await historyDb())) return null;
  const key = encodeSweepLink(s);
  for (const l of sweepEntries()) {
    if (l.status !== 'done' || l.entry.engineVersion !== ENGINE_VERSION || l.entry.adapter !== adapter) continue;
    const r = validateSweepSpec(l.entry.spec);
    if (r.ok && encodeSweepLink(r.value) === key) return l.entry.id;
  }
  return null;
}

/** Leave the tab empty again (History's "hide" of the sweep shown). */
export function hideSweep(): void {
  const st = useSweepStore.getState();
  if (st.phase === 'running' || st.phase === 'cancelling') return;
  st.set({ phase: 'idle', running: null, finished: {}, runsDone: 0, runsTotal: 0, seconds: 0, result: null, message: null, recordId: null });
}
