// The Playground's runs and the history: each run is recorded from its first step (runner.ts calls in at
// start, on rows and at the end), a finished reproduction gets its verdict, and stored runs come back:
// those the tab showed before a reload (the workspace), and those matching a link's runs.
import type { RunStatus } from '../../experiments/run/status.ts';
import { ENGINE_VERSION } from '../../experiments/run/engineVersion.ts';
import { TOY_KEYS, type ToyConfig } from '../../experiments/toy/config.ts';
import { compareToyTraces } from '../../results/compare.ts';
import type { ToyRunRecord } from '../../results/records.ts';
import { FINISHED, useRunsStore, type NewRun, type Run } from '../runsStore.ts';
import type { ToyEntry } from './db.ts';
import { historyDb, noteUnreadable, readRecord } from './history.ts';
import { useHistoryStore, type ListedEntry } from './historyStore.ts';
import { ToyRecorder } from './recorder.ts';
import type { Workspace } from './workspace.ts';

const recorders = new Map<number, ToyRecorder>();
const findRun = (id: number) => useRunsStore.getState().runs.find((r) => r.id === id);

/** A run starts training on `adapter`: record it from its first step. */
export function recordStart(runId: number, adapter: string): void {
  const run = findRun(runId);
  if (!run || recorders.has(runId)) return;
  const rec = new ToyRecorder(run.trace, run.config, adapter);
  recorders.set(runId, rec);
  useRunsStore.getState().update(runId, { record: { id: rec.id, createdAt: rec.createdAt, adapter, engineVersion: ENGINE_VERSION }, restored: false });
}

/** Rows arrived for a run: written with the next batch. */
export function recordRows(runId: number): void {
  recorders.get(runId)?.touch();
}

/**
 * A run has ended (its session stopped): its final tensors and status are written, and a reproduction
 * gets its verdict against the trace it reproduces. A run that ended with no steps leaves no record.
 */
export function recordEnd(runId: number, final: { A: Float32Array; B: Float32Array } | null): void {
  const run = findRun(runId);
  const rec = recorders.get(runId);
  recorders.delete(runId);
  if (!run) return rec?.discard();
  const patch: Partial<Run> = { final };
  if (run.reproduces && (run.status === 'done' || run.status === 'diverged')) patch.verdict = compareToyTraces(run.reproduces.trace, run.trace.columns());
  useRunsStore.getState().update(runId, patch);
  if (!rec) return;
  if (run.trace.length === 0) return rec.discard();
  rec.setFinal(final);
  const status = FINISHED.has(run.status) ? (run.status as ToyEntry['status']) : 'interrupted';
  const reproduction = patch.verdict && run.reproduces?.recordId ? { of: run.reproduces.recordId, verdict: patch.verdict } : undefined;
  rec.finish({ status, divergedAt: run.divergedAt ?? null, trainMs: run.trainMs, ...(run.message ? { message: run.message } : {}), ...(reproduction ? { reproduction } : {}) });
}

/** A run removed before it finished (Reset, ×): what was stored of it goes too. */
export function recordDiscard(runId: number): void {
  recorders.get(runId)?.discard();
  recorders.delete(runId);
}

// ---- restoring ----

export const sameToyConfig = (a: ToyConfig, b: ToyConfig): boolean => TOY_KEYS.every((k) => a[k] === b[k]);

/** A listed entry's status as a run shows it ('running' in another live tab is not restorable). */
function runStatus(l: ListedEntry): RunStatus | null {
  return l.status === 'running' || l.status === 'cancelled' ? null : l.status;
}

async function restorable(id: string, l: ListedEntry): Promise<NewRun['restored'] | null> {
  const status = runStatus(l);
  if (!status || l.entry.rows === 0) return null; // interrupted before its first rows were stored: nothing to show
  try {
    const record = (await readRecord(id)) as ToyRunRecord;
    return record.kind === 'toy' ? { record, status } : null;
  } catch (e) {
    noteUnreadable(id, (e as Error).message);
    return null;
  }
}

const toyEntries = () => useHistoryStore.getState().entries.filter((l): l is ListedEntry & { entry: ToyEntry } => l.entry.kind === 'toy');

/**
 * A link's runs, each replaced by a stored run where one stands for it: first the runs this tab showed
 * before (same settings: a reload), then any finished run with the same settings, engine version and
 * adapter (newest first). The rest stay queued to train.
 */
export async function withStoredRuns(items: NewRun[], adapter: string | null, workspace: Workspace | null): Promise<NewRun[]> {
  if (!(await historyDb())) return items;
  const used = new Set(useRunsStore.getState().runs.flatMap((r) => (r.record ? [r.record.id] : [])));
  const entries = toyEntries();
  const byId = new Map(entries.map((l) => [l.entry.id, l]));
  const out: NewRun[] = [];
  for (const item of items) {
    let restored: NewRun['restored'] | null = null;
    const mine = (workspace?.playground ?? []).map((w) => byId.get(w.id)).filter((l): l is ListedEntry & { entry: ToyEntry } => !!l && !used.has(l.entry.id) && sameToyConfig(l.entry.config, item.config));
    const same = adapter === null ? [] : entries
      .filter((l) => !used.has(l.entry.id) && l.entry.engineVersion === ENGINE_VERSION && l.entry.adapter === adapter && (l.status === 'done' || l.status === 'diverged') && sameToyConfig(l.entry.config, item.config));
    for (const l of [...mine, ...same]) {
      restored = await restorable(l.entry.id, l);
      if (restored) {
        used.add(l.entry.id);
        break;
      }
    }
    out.push(restored ? { config: restored.record.config, hidden: item.hidden, restored } : item);
  }
  return out;
}

/** The runs this tab showed before a reload (or the last tab, for a page opened anew), restored as they were. */
export async function workspaceRuns(workspace: Workspace): Promise<NewRun[]> {
  if (!workspace.playground.length || !(await historyDb())) return [];
  const byId = new Map(toyEntries().map((l) => [l.entry.id, l]));
  const out: NewRun[] = [];
  for (const w of workspace.playground) {
    const l = byId.get(w.id);
    const restored = l ? await restorable(w.id, l) : null;
    if (restored) out.push({ config: restored.record.config, hidden: w.hidden, restored });
  }
  return out;
}

/** A stored record shown in the Playground (History's "show"). */
export async function storedRun(id: string): Promise<NewRun | null> {
  const l = toyEntries().find((x) => x.entry.id === id);
  const restored = l ? await restorable(id, l) : null;
  return restored ? { config: restored.record.config, restored } : null;
}
