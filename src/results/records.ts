// Stored results: what run history (IndexedDB, state/history/) keeps and what a result bundle carries, in
// one form for both. A record is a toy run, a GPT-2 run or a sweep, with the engine version and adapter it
// was computed on, its settings, its full trace as metric columns (columns.ts) and its final tensors.
// Pure: no DOM, no GPU; the page and the CLI share it.
import type { Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../experiments/gpt2/metrics.ts';
import type { RunSummary, SweepTiming } from '../experiments/sweep/aggregate.ts';
import type { SweepSpec } from '../experiments/sweep/spec.ts';
import type { ToyConfig } from '../experiments/toy/config.ts';
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import type { Gpt2Config } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import { compactColumn, type Column } from './columns.ts';
import type { Verdict } from './compare.ts';

/** Version of the record layout (not of the numerics: that is ENGINE_VERSION). */
export const RECORD_VERSION = 1;

/**
 * Where a stored run or sweep stands. 'running' is only ever in the browser's history: the run was
 * training when last written (in this tab or another; when no live tab owns it, it was interrupted).
 */
export type StoredStatus = 'running' | 'done' | 'diverged' | 'error' | 'lost' | 'interrupted' | 'cancelled';
export const STORED_STATUSES: readonly StoredStatus[] = ['running', 'done', 'diverged', 'error', 'lost', 'interrupted', 'cancelled'];

interface RecordBase {
  v: typeof RECORD_VERSION;
  /** A random id (crypto.randomUUID): records from two tabs or two machines never collide. */
  id: string;
  /** Milliseconds since 1970 when the run started. */
  createdAt: number;
  engineVersion: number;
  /** The adapter it was computed on (GpuContext.adapterName). */
  adapter: string;
  status: StoredStatus;
  message?: string;
}

// ---- toy runs ----

export const TOY_DENSE = ['loss', 'zA', 'zB', 'normA', 'normB', 'normSBA'] as const;
export type ToyDense = (typeof TOY_DENSE)[number];

/** A toy run's trace: `step` and the dense metrics have one value per step; the test loss only on its steps. */
export type ToyTraceColumns = { step: Column; testStep: Column; testLoss: Column } & Record<ToyDense, Column>;

export interface ToyRunRecord extends RecordBase {
  kind: 'toy';
  config: ToyConfig;
  divergedAt: number | null;
  /** Wall time spent training (pauses excluded). */
  trainMs: number;
  trace: ToyTraceColumns;
  /** Final A (rank x n) and B (n x rank), row-major; null when the run ended without them (lost device). */
  final: { A: Float32Array; B: Float32Array } | null;
  /** When this run reproduced a stored one: which, and how its trace compared. */
  reproduction?: { of: string; verdict: Verdict };
}

export function toyColumns(rows: readonly StepMetrics[]): ToyTraceColumns {
  const tested = rows.filter((r) => r.testLoss !== undefined);
  const out = { step: compactColumn(rows.map((r) => r.step)), testStep: compactColumn(tested.map((r) => r.step)), testLoss: compactColumn(tested.map((r) => r.testLoss!)) } as ToyTraceColumns;
  for (const f of TOY_DENSE) out[f] = compactColumn(rows.map((r) => r[f]));
  return out;
}

export function toyRows(c: ToyTraceColumns): StepMetrics[] {
  const out: StepMetrics[] = [];
  let t = 0;
  for (let i = 0; i < c.step.length; i++) {
    const row: StepMetrics = { step: c.step[i], loss: c.loss[i], zA: c.zA[i], zB: c.zB[i], normA: c.normA[i], normB: c.normB[i], normSBA: c.normSBA[i] };
    if (t < c.testStep.length && c.testStep[t] === row.step) row.testLoss = c.testLoss[t++];
    out.push(row);
  }
  return out;
}

// ---- GPT-2 runs ----

export const GPT2_ADAPTER_COLUMNS = ['zA', 'zB', 'normA', 'normB', 'normSBA'] as const;

/**
 * A GPT-2 run's trace: per step `step`, `loss`, `lrScale` (the schedule's factor); on evaluation steps
 * `evalLoss`, on clipped runs' steps `gradNorm` (each with its steps); per adapter and step the norms
 * (step-major: [step][adapter]).
 */
export type Gpt2TraceColumns = { step: Column; loss: Column; lrScale: Column; evalStep: Column; evalLoss: Column; gradStep: Column; gradNorm: Column } & Record<(typeof GPT2_ADAPTER_COLUMNS)[number], Column>;
export const GPT2_TRACE_KEYS = ['step', 'loss', 'lrScale', 'evalStep', 'evalLoss', 'gradStep', 'gradNorm', ...GPT2_ADAPTER_COLUMNS] as const;

export interface StoredGeneration {
  step: number;
  mode: 'greedy' | 'sample';
  prompt: string;
  text: string;
}

export interface Gpt2RunRecord extends RecordBase {
  kind: 'gpt2';
  /** The page's model choice ('tiny', 'distilgpt2', 'gpt2') or the CLI's ('tiny' there is smaller: see modelConfig). */
  model: string;
  modelConfig: Gpt2Config;
  /** The base model: its hub repo, or words for random weights or a local folder (only a hub repo becomes PEFT's base_model_name_or_path). */
  baseModel: string;
  /** What it trained on: the bundled text, pasted text (not stored) or the CLI's synthetic tokens. */
  text: 'shakespeare' | 'custom' | 'synthetic';
  config: Gpt2RunConfig;
  /** Runs trained side by side (Init[A] vs Init[B]) share a group id. */
  group: string;
  divergedAt: number | null;
  /** Adapter labels ("h0 attn.c_attn"), the order of the per-adapter columns. */
  adapters: string[];
  trace: Gpt2TraceColumns;
  /** The LoRA tensors as of `step` (the last CPU copy), or null. */
  weights: { step: number; tensors: LoraWeights[] } | null;
  generations: StoredGeneration[];
}

export function gpt2Columns(rows: readonly Gpt2StepMetrics[]): Gpt2TraceColumns {
  const evals = rows.filter((r) => r.evalLoss !== undefined);
  const clipped = rows.filter((r) => r.gradNorm !== undefined);
  const out = {
    step: compactColumn(rows.map((r) => r.step)),
    loss: compactColumn(rows.map((r) => r.loss)),
    lrScale: compactColumn(rows.map((r) => r.lrScale)),
    evalStep: compactColumn(evals.map((r) => r.step)),
    evalLoss: compactColumn(evals.map((r) => r.evalLoss!)),
    gradStep: compactColumn(clipped.map((r) => r.step)),
    gradNorm: compactColumn(clipped.map((r) => r.gradNorm!)),
  } as Gpt2TraceColumns;
  for (const f of GPT2_ADAPTER_COLUMNS) out[f] = compactColumn(rows.flatMap((r) => r[f]));
  return out;
}

export function gpt2Rows(c: Gpt2TraceColumns, adapters: number): Gpt2StepMetrics[] {
  const out: Gpt2StepMetrics[] = [];
  let e = 0;
  let g = 0;
  for (let i = 0; i < c.step.length; i++) {
    const loss = c.loss[i];
    const row: Gpt2StepMetrics = { step: c.step[i], loss, perplexity: Math.exp(loss), lrScale: c.lrScale[i], zA: [], zB: [], normA: [], normB: [], normSBA: [] };
    if (e < c.evalStep.length && c.evalStep[e] === row.step) {
      row.evalLoss = c.evalLoss[e++];
      row.evalPerplexity = Math.exp(row.evalLoss);
    }
    if (g < c.gradStep.length && c.gradStep[g] === row.step) row.gradNorm = c.gradNorm[g++];
    for (const f of GPT2_ADAPTER_COLUMNS) row[f] = Array.from(c[f].subarray(i * adapters, (i + 1) * adapters));
    out.push(row);
  }
  return out;
}

// ---- sweeps ----

export interface SweepRecord extends RecordBase {
  kind: 'sweep';
  spec: SweepSpec;
  /** The Experiments tab's preset it came from, if any (e4, ...). */
  preset?: string;
  /** Summaries of the runs that finished, by grid index; the views are recomputed from them (aggregateSweep). */
  runs: RunSummary[];
  timing: SweepTiming | null;
}

export type ResultRecord = ToyRunRecord | Gpt2RunRecord | SweepRecord;

/** The loss a history list shows: the last finite training loss of a run (null when none). */
export function lastFinite(c: ArrayLike<number>): number | null {
  for (let i = c.length - 1; i >= 0; i--) if (Number.isFinite(c[i])) return c[i];
  return null;
}

/** A new record id. */
export const newRecordId = (): string => globalThis.crypto.randomUUID();
