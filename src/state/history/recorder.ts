// Recording a run or a sweep into the history while it goes. A recorder is a Writer of the history's write
// loop (history.ts): it remembers how many rows are stored and, at each write (at most one batch a
// second for the whole page), hands over the rows that arrived since as one part. Its status becomes
// final only in its last write, with its last rows and tensors; until then it reads 'running' (and
// 'interrupted' once its tab is gone). The rows themselves stay where the page keeps them (a run's Trace,
// a GPT-2 run's rows, the sweep's summaries): nothing is copied until it is written.
import { ENGINE_VERSION } from '../../experiments/run/engineVersion.ts';
import type { Gpt2RunConfig } from '../../experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../../experiments/gpt2/metrics.ts';
import type { RunSummary } from '../../experiments/sweep/aggregate.ts';
import type { SweepSpec } from '../../experiments/sweep/spec.ts';
import type { ToyConfig } from '../../experiments/toy/config.ts';
import type { Gpt2Config } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import { gpt2Columns, lastFinite, newRecordId, RECORD_VERSION, type Gpt2RunRecord } from '../../results/records.ts';
import type { Trace } from '../trace.ts';
import type { Entry, EntryWrite, Gpt2Entry, PartData, SweepEntry, Tensors, ToyEntry } from './db.ts';
import { addWriter, deleteRecords, refreshHistory, removeWriter, scheduleFlush, type Writer } from './history.ts';
import { useHistoryStore } from './historyStore.ts';
import { announceChange, TAB_ID } from './tabs.ts';

const columnBytes = (cols: object) => Object.values(cols).reduce((a: number, c: ArrayBufferView) => a + c.byteLength, 0);

abstract class EntryRecorder<E extends Entry> implements Writer {
  blocked = false;
  private created = false;
  private stopped = false;
  private finishing: Partial<E> | null = null;
  private tensors: { value: Tensors; bytes: number } | null = null;
  private tensorBytes = 0;

  constructor(protected entry: E) {
    addWriter(this);
  }

  get id(): string {
    return this.entry.id;
  }

  get dirty(): boolean {
    return !this.stopped && (!this.created || this.finishing !== null || this.tensors !== null || this.pending() > 0);
  }

  /** Rows that arrived since the last write. */
  protected abstract pending(): number;
  /** Rows from index `from` on, as one part. */
  protected abstract part(from: number): { data: PartData; rows: number; bytes: number };
  protected finalLoss(): number | null {
    return null;
  }

  /** New rows arrived: write them with the next batch. */
  touch(): void {
    if (!this.stopped) scheduleFlush();
  }

  /** Tensors to store (replacing earlier ones) with the next write. */
  setTensors(value: Tensors, bytes: number): void {
    if (this.stopped) return;
    this.tensors = { value, bytes };
    scheduleFlush();
  }

  /** The run ended: its last rows, tensors and final status go in one write, now. */
  finish(patch: Partial<E>): void {
    if (this.stopped) return;
    this.finishing = patch;
    scheduleFlush(0);
  }

  /** Stop recording and delete what was stored (a run discarded before it finished). */
  discard(): void {
    const wasCreated = this.created;
    this.stop();
    if (wasCreated) void deleteRecords([this.id]);
  }

  take(): EntryWrite | null {
    if (!this.dirty) return null;
    const next = this.pending() > 0 ? this.part(this.entry.rows) : null;
    const tensorBytes = this.tensors ? this.tensors.bytes : this.tensorBytes;
    const entry = {
      ...this.entry,
      ...(this.finishing ?? {}),
      updatedAt: Date.now(),
      rows: this.entry.rows + (next?.rows ?? 0),
      parts: this.entry.parts + (next ? 1 : 0),
      bytes: this.entry.bytes - this.tensorBytes + (next?.bytes ?? 0) + tensorBytes,
      finalLoss: this.finalLoss(),
    } as E;
    return { entry, part: next?.data, tensors: this.tensors?.value, create: !this.created };
  }

  committed(w: EntryWrite): void {
    const first = !this.created;
    this.created = true;
    this.entry = w.entry as E;
    if (this.tensors && w.tensors === this.tensors.value) {
      this.tensorBytes = this.tensors.bytes;
      this.tensors = null;
    }
    const final = this.finishing !== null && w.entry.status !== 'running';
    if (final) this.stop();
    if (first || final) {
      announceChange();
      void refreshHistory();
    } else if (useHistoryStore.getState().open) void refreshHistory();
  }

  gone(): void {
    this.stop();
  }

  private stop(): void {
    this.stopped = true;
    removeWriter(this);
  }
}

function head(kind: Entry['kind'], adapter: string) {
  const now = Date.now();
  return { v: RECORD_VERSION as typeof RECORD_VERSION, kind, id: newRecordId(), createdAt: now, engineVersion: ENGINE_VERSION, adapter, status: 'running' as const, owner: TAB_ID, updatedAt: now, rows: 0, parts: 0, bytes: 0, finalLoss: null };
}

// ---- toy runs ----

export class ToyRecorder extends EntryRecorder<ToyEntry> {
  constructor(private readonly trace: Trace, config: ToyConfig, adapter: string) {
    super({ ...head('toy', adapter), kind: 'toy', config: { ...config }, divergedAt: null, trainMs: 0 });
  }

  get createdAt(): number {
    return this.entry.createdAt;
  }

  protected pending(): number {
    return this.trace.length - this.entry.rows;
  }

  protected part(from: number) {
    const data = this.trace.columns(from);
    return { data, rows: data.step.length, bytes: columnBytes(data) };
  }

  protected override finalLoss(): number | null {
    return lastFinite(this.trace.series('loss').values);
  }

  /** The final A and B (stored with the last write). */
  setFinal(final: { A: Float32Array; B: Float32Array } | null): void {
    if (final) this.setTensors({ final }, final.A.byteLength + final.B.byteLength);
  }
}

// ---- GPT-2 runs ----

export interface Gpt2RecordInfo {
  model: string;
  modelConfig: Gpt2Config;
  baseModel: string;
  text: Gpt2RunRecord['text'];
  config: Gpt2RunConfig;
  group: string;
  adapters: string[];
}

export class Gpt2Recorder extends EntryRecorder<Gpt2Entry> {
  constructor(private readonly rows: Gpt2StepMetrics[], info: Gpt2RecordInfo, adapter: string) {
    super({ ...head('gpt2', adapter), kind: 'gpt2', ...info, config: { ...info.config }, divergedAt: null, generations: [] });
  }

  protected pending(): number {
    return this.rows.length - this.entry.rows;
  }

  protected part(from: number) {
    const data = gpt2Columns(this.rows.slice(from));
    return { data, rows: data.step.length, bytes: columnBytes(data) };
  }

  protected override finalLoss(): number | null {
    for (let i = this.rows.length - 1; i >= 0; i--) if (Number.isFinite(this.rows[i].loss)) return this.rows[i].loss;
    return null;
  }

  /** A CPU copy of the adapters (the runner reads one back every few seconds and at the end). */
  setWeights(step: number, tensors: LoraWeights[]): void {
    this.setTensors({ weights: { step, tensors } }, tensors.reduce((a, w) => a + w.A.byteLength + w.B.byteLength, 0));
  }
}

// ---- sweeps ----

export class SweepRecorder extends EntryRecorder<SweepEntry> {
  private readonly summaries: RunSummary[] = [];

  constructor(spec: SweepSpec, adapter: string, preset: string | undefined) {
    super({ ...head('sweep', adapter), kind: 'sweep', spec: structuredClone(spec), timing: null, ...(preset ? { preset } : {}) });
  }

  /** Runs that finished (a run already added is not added again). */
  add(finished: readonly RunSummary[]): void {
    const known = new Set(this.summaries.map((s) => s.index));
    this.summaries.push(...finished.filter((s) => !known.has(s.index) && s.status !== 'queued'));
    this.touch();
  }

  protected pending(): number {
    return this.summaries.length - this.entry.rows;
  }

  protected part(from: number) {
    const runs = this.summaries.slice(from);
    return { data: { runs }, rows: runs.length, bytes: JSON.stringify(runs).length };
  }
}

export const newGroupId = newRecordId;
