// The GPT-2 tab's runs and the history: each run is recorded as it trains (gpt2Runner.ts calls in at
// start, on rows, with every CPU copy of its adapters, and at the end, with its samples), and stored runs
// come back into the tab with their charts, samples and downloadable adapter: those shown before a
// reload, those a GPT-2 link matches, or those chosen in History.
import { ENGINE_VERSION } from '../../experiments/run/engineVersion.ts';
import { GPT2_KEYS, type Gpt2RunConfig } from '../../experiments/gpt2/config.ts';
import type { RunStatus } from '../../experiments/run/status.ts';
import type { Gpt2Config } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import { gpt2Rows, type Gpt2RunRecord, type StoredGeneration } from '../../results/records.ts';
import { applyGpt2Settings } from '../gpt2LinkOpen.ts';
import { showStoredRuns } from '../gpt2Runner.ts';
import { MODEL_CHOICES, RUN_COLORS, type Generation, type Gpt2ModelChoice, type Gpt2Run } from '../gpt2Store.ts';
import type { Gpt2Entry } from './db.ts';
import { historyDb, noteUnreadable, readRecord } from './history.ts';
import { useHistoryStore, type ListedEntry } from './historyStore.ts';
import { Gpt2Recorder, type Gpt2RecordInfo } from './recorder.ts';

const recorders = new Map<number, Gpt2Recorder>();

/** A run's session is built: record it from its first step. */
export function recordGpt2Start(run: Gpt2Run, info: Omit<Gpt2RecordInfo, 'config'>, adapter: string): void {
  const rec = new Gpt2Recorder(run.rows, { ...info, config: run.config }, adapter);
  recorders.set(run.id, rec);
  run.recordId = rec.id;
}

export function recordGpt2Rows(runId: number): void {
  recorders.get(runId)?.touch();
}

/** A CPU copy of a run's adapters, stored with the next write. */
export function recordGpt2Weights(runId: number, step: number, weights: LoraWeights[]): void {
  recorders.get(runId)?.setWeights(step, weights);
}

/** A run will take no more steps (done, diverged, failed, lost, or abandoned when paused): its record ends. */
export function recordGpt2End(run: Gpt2Run, generations: readonly Generation[]): void {
  const rec = recorders.get(run.id);
  recorders.delete(run.id);
  if (!rec) return;
  if (run.rows.length === 0) return rec.discard();
  const status = run.status === 'done' || run.status === 'diverged' || run.status === 'error' || run.status === 'lost' ? run.status : 'interrupted';
  const divergedAt = run.status === 'diverged' ? run.step : null;
  const kept: StoredGeneration[] = generations.filter((g) => g.runId === run.id && !g.pending).map((g) => ({ step: g.step, mode: g.mode, prompt: g.prompt, text: g.text }));
  rec.finish({ status, divergedAt, generations: kept, ...(run.message ? { message: run.message.slice(0, 2000) } : {}) });
}

// ---- restoring ----

let nextRestoredId = 1_000_000;

/** The tab's run (and its samples and adapter copy) for a stored record. */
export function gpt2RunOf(r: Gpt2RunRecord, status: RunStatus): { run: Gpt2Run; generations: Generation[]; weights: { step: number; weights: LoraWeights[] } | null } {
  const id = nextRestoredId++;
  const rows = gpt2Rows(r.trace, r.adapters.length);
  const step = rows.length ? rows[rows.length - 1].step : 0;
  const model = (['tiny', 'distilgpt2', 'gpt2'].includes(r.model) ? r.model : 'tiny') as Gpt2ModelChoice;
  const message = status === 'interrupted' ? `Interrupted at step ${step} of ${r.config.steps}; the stored steps are shown.` : r.message;
  const run: Gpt2Run = {
    id, init: r.config.init, color: RUN_COLORS[r.config.init], status, message, config: r.config, model, adapters: r.adapters, rows, step,
    tokensPerSecond: 0, memoryBytes: 0, plannedBytes: 0, recordId: r.id, restored: true,
  };
  const generations = r.generations.map((g, i): Generation => ({ id: id * 100 + i, runId: id, step: g.step, mode: g.mode, prompt: g.prompt, text: g.text, pending: false }));
  return { run, generations, weights: r.weights && { step: r.weights.step, weights: r.weights.tensors } };
}

/**
 * Show stored runs in the GPT-2 tab in place of its runs, with their settings in the form (so Train
 * reproduces them). False while the tab is training.
 */
export function showGpt2Records(records: ReadonlyArray<{ record: Gpt2RunRecord; status: RunStatus }>): boolean {
  if (!showStoredRuns(records.map(({ record, status }) => gpt2RunOf(record, status)))) return false;
  const first = records[0]?.record;
  const model = MODEL_CHOICES.find((m) => m.id === first?.model && JSON.stringify(m.config) === JSON.stringify(first.modelConfig));
  // The settings go to the form when the page offers that model (the CLI's tiny model is smaller than the page's).
  if (first && model) applyGpt2Settings(model.id, first.text === 'shakespeare' ? 'shakespeare' : 'custom', records.length > 1 ? { ...first.config, init: 'A' } : first.config);
  return true;
}

const gpt2Entries = () => useHistoryStore.getState().entries.filter((l): l is ListedEntry & { entry: Gpt2Entry } => l.entry.kind === 'gpt2');

/** Stored records read back for the tab; ids that cannot be read are noted in History and left out. */
export async function readGpt2Records(ids: readonly string[]): Promise<Array<{ record: Gpt2RunRecord; status: RunStatus }>> {
  if (!(await historyDb())) return [];
  const out: Array<{ record: Gpt2RunRecord; status: RunStatus }> = [];
  for (const id of ids) {
    const listed = useHistoryStore.getState().entries.find((l) => l.entry.id === id);
    if (!listed || listed.status === 'running' || listed.status === 'cancelled') continue;
    try {
      const record = await readRecord(id);
      if (record.kind === 'gpt2') out.push({ record, status: listed.status });
    } catch (e) {
      noteUnreadable(id, (e as Error).message);
    }
  }
  return out;
}

const sameConfig = (a: Gpt2RunConfig, b: Gpt2RunConfig) => GPT2_KEYS.every((k) => a[k] === b[k]) && a.targets.join() === b.targets.join();

/**
 * Stored runs a GPT-2 link stands for: same model (and its shapes), text, settings, engine version and
 * adapter, finished; for a comparison, an Init[A] and an Init[B] run of one group.
 */
export async function matchingGpt2(link: { model: string; modelConfig: Gpt2Config; text: string; config: Gpt2RunConfig; compare: boolean }, adapter: string | null): Promise<string[]> {
  if (adapter === null || !(await historyDb())) return [];
  const fits = (l: ListedEntry & { entry: Gpt2Entry }, init: 'A' | 'B') =>
    l.status === 'done' && l.entry.engineVersion === ENGINE_VERSION && l.entry.adapter === adapter && l.entry.model === link.model && l.entry.text === link.text &&
    JSON.stringify(l.entry.modelConfig) === JSON.stringify(link.modelConfig) && sameConfig(l.entry.config, { ...link.config, init });
  const entries = gpt2Entries();
  if (!link.compare) return entries.filter((l) => fits(l, link.config.init)).slice(0, 1).map((l) => l.entry.id);
  for (const a of entries.filter((l) => fits(l, 'A'))) {
    const b = entries.find((l) => l.entry.group === a.entry.group && fits(l, 'B'));
    if (b) return [a.entry.id, b.entry.id];
  }
  return [];
}

