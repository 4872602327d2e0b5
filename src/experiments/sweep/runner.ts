// Runs a sweep on a GpuHost and returns its SweepResult (aggregate.ts). Two engines:
//
//   batched     (default) runs that share shapes and their problem (same width and seed, and every
//               setting but init, initDist, eta, lambda, wd) train together in ToyBatchTrainer's shared
//               dispatches, each batch a RunSession
//               (run/session.ts) in an arena of its own; the next batch is built and trains while the
//               previous one's last metrics are still being copied out.
//   sequential  one ToySession per run, one after the other: the engine the playground uses for a single
//               run; kept as the reference and the "before" of the runs/s measurement.
//
// Seeds are separate batches: each seed is its own problem (W0, P0, data), and at the widths where time
// goes (n >= 1024) a seed's batch already holds every run of the grid, so sharing dispatches across seeds
// would save launches that cost nothing next to the O(m n r) work of each run (measured in
// docs/findings.md, section Speed). Ranks above MAX_BATCH_RANK fall back to the sequential engine run by
// run. A width whose frozen tensors do not fit the memory budget is refused with a message. When the device is lost, the
// runs it cut short are marked 'lost' at their last step and the batches not yet started run on a fresh
// device (GpuHost).
import type { GpuContext } from '../../gpu/device.ts';
import type { GpuHost } from '../../gpu/host.ts';
import { RunSession } from '../run/session.ts';
import { batchSize, type ToyConfig } from '../toy/config.ts';
import { checkFits } from '../toy/plan.ts';
import { ToySession } from '../toy/session.ts';
import { aggregateSweep, RunAccumulator, type RunSummary, type SweepMetric, type SweepResult, type SweepTiming } from './aggregate.ts';
import { gridPoints, pointConfig, resolveSweep, type GridPoint, type ResolvedSweep, type SweepSpec } from './spec.ts';
import { batchFitError, batchKey, batchSession, MAX_BATCH_RANK, maxRunsPerBatch, ToyBatchTrainer, type BatchStepRow } from './batchTrainer.ts';

export type SweepEngine = 'batched' | 'sequential';

export interface SweepProgress {
  runsDone: number;
  runsTotal: number;
  /** Summaries of the runs finished since the last report. */
  finished: RunSummary[];
  seconds: number;
  /** The result so far (unfinished runs are 'queued' cells): what a live view draws. */
  partial(): SweepResult;
}

export interface SweepRunOptions {
  engine?: SweepEngine;
  /** At most this many runs per batch (default: as many as fit the memory budget). */
  maxBatch?: number;
  /** GPU bytes one batch may use (default 512 MiB on a software adapter, 2 GiB otherwise). */
  memoryBudget?: number;
  /** Copy metrics out every this many steps. */
  readEvery?: number;
  onProgress?: (p: SweepProgress) => void;
  /** Stops submitting work; runs not finished are reported with status 'error' and message 'cancelled'. */
  signal?: AbortSignal;
  /** What the views rank by (aggregate.ts defaultMetric when not given). */
  metric?: SweepMetric;
}

/** GPU bytes one batch may use by default. */
export function defaultMemoryBudget(software: boolean): number {
  return software ? 512 * 2 ** 20 : 2 * 2 ** 30;
}

/** Batches of grid points that can train together, in grid order of their first run. */
export function planBatches(s: ResolvedSweep, maxPerBatch: (c: ToyConfig) => number): GridPoint[][] {
  const groups = new Map<string, GridPoint[]>();
  for (const p of gridPoints(s)) {
    const key = batchKey(pointConfig(s, p));
    const g = groups.get(key) ?? [];
    g.push(p);
    groups.set(key, g);
  }
  const out: GridPoint[][] = [];
  for (const g of groups.values()) {
    const size = Math.max(1, maxPerBatch(pointConfig(s, g[0])));
    for (let i = 0; i < g.length; i += size) out.push(g.slice(i, i + size));
  }
  return out;
}

const now = () => globalThis.performance?.now() ?? Date.now();

export async function runSweep(host: GpuHost, spec: SweepSpec | ResolvedSweep, opts: SweepRunOptions = {}): Promise<SweepResult> {
  const s = 'kind' in spec && 'swept' in spec ? spec : resolveSweep(spec as SweepSpec);
  const points = gridPoints(s);
  const engine = opts.engine ?? 'batched';
  const t0 = now();
  const accs = points.map((p) => new RunAccumulator(p, s.base.steps, s.threshold, s.curves));
  const summaries: Array<RunSummary | undefined> = new Array(points.length);
  let done = 0;
  let batches = 0;
  const finish = (indices: number[]) => {
    const finished = indices.map((i) => (summaries[i] = accs[i].summary()));
    done += finished.length;
    opts.onProgress?.({ runsDone: done, runsTotal: points.length, finished, seconds: (now() - t0) / 1000, partial: () => aggregateSweep(s, summaries, undefined, { metric: opts.metric }) });
  };
  const ctx0 = await host.context();
  const budget = opts.memoryBudget ?? defaultMemoryBudget(ctx0.isSoftware);
  for (const p of points) {
    const c = pointConfig(s, p);
    const tooBig = checkFits(ctx0, c) ?? (engine === 'batched' && c.rank <= MAX_BATCH_RANK ? batchFitError(c, budget) : null);
    if (tooBig) accs[p.index].fail(tooBig);
  }
  const runnable = (p: GridPoint) => accs[p.index].summary().status !== 'error';
  const cancelled = () => !!opts.signal?.aborted;

  /** Drives one session to its end (or to a cancel), then marks what it cut short. */
  const drive = async (session: Pick<RunSession<{ step: number }>, 'runToEnd' | 'pause' | 'dispose'>, live: GridPoint[]) => {
    const onAbort = () => void session.pause();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      const end = await session.runToEnd();
      for (const p of live) {
        const acc = accs[p.index];
        if (end.status === 'lost') acc.fail(end.message ?? 'the GPU device was lost', 'lost');
        else if (end.status === 'error') acc.fail(end.message ?? 'training failed');
        else if (end.status === 'paused' && !acc.diverged) acc.fail('cancelled');
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await session.dispose();
    }
  };

  const sequential = async (p: GridPoint) => {
    const acc = accs[p.index];
    if (cancelled()) return acc.fail('cancelled');
    try {
      const session = await ToySession.create(host, pointConfig(s, p), { readEvery: opts.readEvery ?? 64 });
      session.subscribe({ onMetrics: (rows) => acc.push(rows) });
      batches++;
      await drive(session, [p]);
    } catch (e) {
      acc.fail((e as Error).message);
    }
  };

  if (engine === 'sequential') {
    for (const p of points) {
      if (runnable(p)) await sequential(p);
      finish([p.index]);
    }
  } else {
    const plan = planBatches(s, (c) => Math.min(opts.maxBatch ?? Infinity, maxRunsPerBatch(ctx0, c, budget)));
    // At most two batches at once: one training, the one before it copying out its last metrics.
    let previous: Promise<void> = Promise.resolve();
    for (const group of plan) {
      const live = group.filter(runnable);
      const refused = group.filter((p) => !runnable(p)).map((p) => p.index);
      if (refused.length) finish(refused);
      if (!live.length) continue;
      const config = pointConfig(s, live[0]);
      if (config.rank > MAX_BATCH_RANK || cancelled()) {
        await previous;
        for (const p of live) {
          await sequential(p);
          finish([p.index]);
        }
        continue;
      }
      let session: RunSession<BatchStepRow>;
      try {
        const ctx: GpuContext = await host.context();
        const trainer = await ToyBatchTrainer.create(ctx, config, live.map((p) => ({ init: p.init, initDist: config.initDist, eta: p.eta, lambda: p.lambda, wd: config.wd })), { readEvery: opts.readEvery ?? 32 });
        session = batchSession(trainer, host);
      } catch (e) {
        for (const p of live) accs[p.index].fail((e as Error).message);
        finish(live.map((p) => p.index));
        continue;
      }
      batches++;
      session.subscribe({ onMetrics: (rows) => rows.forEach((row) => row.runs.forEach((r, i) => accs[live[i].index].push([r]))) });
      const current = drive(session, live).then(() => finish(live.map((p) => p.index)));
      await previous; // the batch before this one has finished: at most two at once
      previous = current;
    }
    await previous;
  }

  const runs = summaries.map((x, i) => x ?? accs[i].summary());
  const seconds = (now() - t0) / 1000;
  const timing: SweepTiming = {
    engine,
    adapter: ctx0.adapterName,
    seconds,
    runs: runs.length,
    runsPerSecond: runs.length / seconds,
    runStepsPerSecond: runs.reduce((a, r) => a + r.steps, 0) / seconds,
    batches,
  };
  return aggregateSweep(s, runs, timing, { metric: opts.metric });
}

/** Rough GPU work of one training step of `c`, in multiply-adds (for planning and estimates). */
export function stepWork(c: ToyConfig, engine: SweepEngine): number {
  const m = batchSize(c);
  const lowRank = 6 * m * c.n * Math.max(4, c.rank);
  return engine === 'sequential' ? m * c.n * c.n + lowRank : lowRank;
}
