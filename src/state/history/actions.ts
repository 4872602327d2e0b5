// What the History panel's buttons do: show or hide a stored run or sweep in its tab, delete entries
// (from the views too), clear everything, make room when storage is full.
import { adapterSnapshot, showStoredRuns as showGpt2Runs } from '../gpt2Runner.ts';
import { useGpt2Store, type Gpt2Run } from '../gpt2Store.ts';
import { deleteRun, showStoredRuns } from '../runner.ts';
import { useRunsStore } from '../runsStore.ts';
import { useSweepStore } from '../sweepStore.ts';
import { useUiStore } from '../uiStore.ts';
import { readGpt2Records, showGpt2Records } from './gpt2.ts';
import { clearHistory, deleteRecords } from './history.ts';
import { useHistoryStore, type ListedEntry } from './historyStore.ts';
import { storedRun } from './playground.ts';
import { hideSweep, showStoredSweep } from './sweeps.ts';

/** Whether an entry is shown in its tab now. */
export function isShown(l: ListedEntry, state: { runIds: ReadonlySet<string>; sweep: string | null; gpt2: ReadonlySet<string> }): boolean {
  if (l.entry.kind === 'toy') return state.runIds.has(l.entry.id);
  if (l.entry.kind === 'sweep') return state.sweep === l.entry.id;
  return state.gpt2.has(l.entry.id);
}

const gpt2Busy = () => useGpt2Store.getState().phase !== 'idle';
const sweepBusy = () => ['running', 'cancelling'].includes(useSweepStore.getState().phase);

function say(text: string): void {
  useHistoryStore.getState().set({ dropMessage: { kind: 'error', text } });
}

export async function setShown(l: ListedEntry, show: boolean): Promise<void> {
  const id = l.entry.id;
  if (l.entry.kind === 'toy') {
    const run = useRunsStore.getState().runs.find((r) => r.record?.id === id);
    if (!show) return run ? deleteRun(run.id) : undefined;
    if (run) return;
    const item = await storedRun(id);
    if (item && (await showStoredRuns([item]))) useUiStore.getState().setTab('playground');
    return;
  }
  if (l.entry.kind === 'sweep') {
    if (sweepBusy()) return say('A sweep is running: wait for it to end (or cancel it) first.');
    if (!show) return hideSweep();
    if (await showStoredSweep(id)) useUiStore.getState().setTab('experiments');
    return;
  }
  if (gpt2Busy()) return say('GPT-2 is training: stop it first.');
  if (!show) return keepGpt2Runs((r) => r.recordId !== id);
  // A GPT-2 run is shown with the runs trained beside it (its comparison).
  const group = useHistoryStore.getState().entries.filter((x) => x.entry.kind === 'gpt2' && x.entry.group === (l.entry as { group: string }).group).map((x) => x.entry.id);
  const records = await readGpt2Records(group.length ? group : [id]);
  if (records.length && showGpt2Records(records)) useUiStore.getState().setTab('gpt2');
}

/** Keep only some of the GPT-2 tab's runs (as stored results: their sessions end, their adapter copies stay). */
function keepGpt2Runs(keep: (r: Gpt2Run) => boolean): void {
  const g = useGpt2Store.getState();
  showGpt2Runs(g.runs.filter(keep).map((run) => ({ run: { ...run, restored: true }, generations: g.generations.filter((x) => x.runId === run.id), weights: adapterSnapshot(run.id) })));
}

/** Remove entries from the views (stored runs shown) and from the history. Entries this tab is still writing are left alone. */
export async function deleteEntries(ids: readonly string[]): Promise<void> {
  const entries = useHistoryStore.getState().entries.filter((l) => ids.includes(l.entry.id) && !l.here);
  const gone = new Set(entries.map((l) => l.entry.id));
  for (const r of useRunsStore.getState().runs) if (r.record && gone.has(r.record.id)) await deleteRun(r.id);
  if (useSweepStore.getState().recordId && gone.has(useSweepStore.getState().recordId!) && !sweepBusy()) hideSweep();
  if (!gpt2Busy() && useGpt2Store.getState().runs.some((r) => r.recordId && gone.has(r.recordId))) keepGpt2Runs((r) => !r.recordId || !gone.has(r.recordId));
  await deleteRecords([...gone]);
}

/** Delete everything stored. Refused while this tab is recording a run or a sweep. */
export async function clearAll(): Promise<void> {
  const { entries, skipped } = useHistoryStore.getState();
  if (entries.some((l) => l.here)) return say('Something is training in this tab: let it finish (or reset it) before clearing the history.');
  await deleteEntries(entries.map((l) => l.entry.id));
  await clearHistory();
  if (skipped.length) useHistoryStore.getState().set({ skipped: [] });
}

/** Full storage: delete the oldest finished entries (a quarter of them, at least one). */
export async function deleteOldest(): Promise<void> {
  const old = useHistoryStore.getState().entries.filter((l) => !l.here && l.status !== 'running').sort((a, b) => a.entry.createdAt - b.entry.createdAt);
  await deleteEntries(old.slice(0, Math.max(1, Math.ceil(old.length / 4))).map((l) => l.entry.id));
}

/** Remove the entries that could not be read. */
export async function deleteSkipped(): Promise<void> {
  const ids = useHistoryStore.getState().skipped.map((s) => s.id).filter((id) => id !== '?');
  useHistoryStore.getState().set({ skipped: [] });
  await deleteRecords(ids);
}
