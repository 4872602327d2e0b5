// Runs and their traces. A run's settings are fixed when it is created; its Trace is append-only and
// mutable (10^5 rows must not be copied per update), so the store bumps `rev` — at most once per
// animation frame (runner.ts) — to tell React that a trace has grown.
import { create } from 'zustand';
import type { ToyConfig } from '../experiments/toy/config.ts';
import type { RunStatus } from '../experiments/run/status.ts';
import type { Verdict } from '../results/compare.ts';
import type { ToyRunRecord, ToyTraceColumns } from '../results/records.ts';
import { Trace } from './trace.ts';

export { FINISHED, STATUS_TEXT, type RunStatus } from '../experiments/run/status.ts';

export interface Run {
  id: number;
  config: ToyConfig;
  color: string;
  visible: boolean;
  status: RunStatus;
  /** Runs queued together (a compare, a preset, a shared link) share a group and train together. */
  group: number;
  /** Last step whose metrics arrived. */
  step: number;
  divergedAt?: number;
  /** Why the run stopped (error, lost device) or what it is doing. */
  message?: string;
  /** Steps per second over the last few seconds (the engine's window). */
  stepsPerSecond: number;
  /** Wall time spent training (paused time excluded) and the steps done in it: the run's average rate. */
  trainMs: number;
  trace: Trace;
  /** Bumped whenever `trace` grows. */
  rev: number;
  /** Its history record: written as it trains, or the stored record it was restored from. */
  record?: { id: string; createdAt: number; adapter: string; engineVersion: number };
  /** Shown from a stored record (history, a matching link, a bundle), not trained in this page. */
  restored?: boolean;
  /** Queued by a link: a stored run with the same settings, engine and adapter may stand in for training it. */
  fromLink?: boolean;
  /** Final A (r x n) and B (n x r) once it has finished (bundles); null when they could not be read. */
  final?: { A: Float32Array; B: Float32Array } | null;
  /** The stored run this one reproduces, and its trace, compared when this one finishes. */
  reproduces?: { runId: number; recordId?: string; trace: ToyTraceColumns };
  /** How this run's trace compared with the one it reproduces. */
  verdict?: Verdict;
}

/** A run to add: queued settings, or a stored record shown as it is (restored). */
export interface NewRun {
  config: ToyConfig;
  hidden?: boolean;
  fromLink?: boolean;
  reproduces?: Run['reproduces'];
  /** A stored record to show instead of training; `status` is what it has now (interrupted if cut short). */
  restored?: { record: ToyRunRecord; status: RunStatus };
}

/** The fields of a run shown from a stored record. */
function restoredFields(record: ToyRunRecord, status: RunStatus): Partial<Run> {
  const trace = Trace.fromColumns(record.trace);
  const steps = record.config.steps;
  const message = status === 'interrupted' ? `Interrupted at step ${trace.lastStep} of ${steps}: the page closed (or storage filled up) before the run finished; the stored steps are shown.` : record.message;
  return {
    status, trace, step: trace.lastStep, trainMs: record.trainMs, divergedAt: record.divergedAt ?? undefined, message, final: record.final, verdict: record.reproduction?.verdict,
    record: { id: record.id, createdAt: record.createdAt, adapter: record.adapter, engineVersion: record.engineVersion }, restored: true,
  };
}

/** Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), blue and vermillion first. */
export const RUN_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#6B6B6B', '#8E5B2F'] as const;
export const MAX_RUNS = 16;


export interface RunsState {
  runs: Run[];
  /** Add runs (queued, visible unless said otherwise) as one group that trains together; returns their ids. */
  addRuns(items: NewRun[]): number[];
  update(id: number, patch: Partial<Omit<Run, 'id' | 'trace'>>): void;
  remove(id: number): void;
  setVisible(id: number, visible: boolean): void;
  clear(): void;
}

let nextId = 1;
let nextGroup = 1;

export function averageStepsPerSecond(run: Pick<Run, 'step' | 'trainMs'>): number {
  return run.trainMs > 0 ? (run.step * 1000) / run.trainMs : 0;
}

export const useRunsStore = create<RunsState>()((set, get) => ({
  runs: [],
  addRuns(items) {
    const runs = [...get().runs];
    const ids: number[] = [];
    const group = nextGroup++;
    for (const item of items) {
      const used = new Set(runs.map((r) => r.color));
      const color = RUN_COLORS.find((c) => !used.has(c)) ?? RUN_COLORS[runs.length % RUN_COLORS.length];
      const id = nextId++;
      ids.push(id);
      const run: Run = { id, config: { ...item.config }, color, visible: !item.hidden, status: 'queued', group, step: 0, stepsPerSecond: 0, trainMs: 0, trace: new Trace(), rev: 0 };
      if (item.fromLink) run.fromLink = true;
      if (item.reproduces) run.reproduces = item.reproduces;
      runs.push(item.restored ? { ...run, ...restoredFields(item.restored.record, item.restored.status) } : run);
    }
    set({ runs });
    return ids;
  },
  update(id, patch) {
    set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
  },
  remove(id) {
    set({ runs: get().runs.filter((r) => r.id !== id) });
  },
  setVisible(id, visible) {
    set({ runs: get().runs.map((r) => (r.id === id ? { ...r, visible } : r)) });
  },
  clear() {
    set({ runs: [] });
  },
}));
