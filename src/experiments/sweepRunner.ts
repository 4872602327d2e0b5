// Runs a sweep on a GPU context and returns its SweepResult (sweepAggregate.ts). Two engines:
//
//   batched     (default) runs that share shapes (same width and every setting but init, initDist, eta,
//               lambda, wd) train together in ToyBatchTrainer's shared dispatches; storage buffers go
//               back to a pool and are reused by the next batch, pipelines are cached, and nothing waits
//               on the GPU between batches: the next batch is built and submitted while the previous
//               one's last metrics are still being copied out.
//   sequential  one ToySession per run, one after the other: the engine the playground uses for a single
//               run; kept as the reference and the "before" of the runs/s measurement.
//
// Ranks above MAX_BATCH_RANK fall back to the sequential engine run by run.
import type { GpuContext } from '../gpu/device.ts';
import { batchSize, type ToyConfig } from './config.ts';
import { ToySession } from './session.ts';
import { aggregateSweep, RunAccumulator, type RunSummary, type SweepResult, type SweepTiming } from './sweepAggregate.ts';
import { gridPoints, pointConfig, resolveSweep, type GridPoint, type ResolvedSweep, type SweepSpec } from './sweepSpec.ts';
import { checkFits } from './toy.ts';
import { batchKey, BufferPool, MAX_BATCH_RANK, maxRunsPerBatch, ToyBatchTrainer } from './toyBatch.ts';

export type SweepEngine = 'batched' | 'sequential';

export interface SweepProgress {
  runsDone: number;
  runsTotal: number;
  /** Summaries of the runs finished since the last report. */
  finished: RunSummary[];
  seconds: number;
  /** The result so far (unfinished runs are 'pending' cells): what a live view draws. */
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
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function runSweep(ctx: GpuContext, spec: SweepSpec | ResolvedSweep, opts: SweepRunOptions = {}): Promise<SweepResult> {
  const s = 'kind' in spec && 'swept' in spec ? spec : resolveSweep(spec as SweepSpec);
  const points = gridPoints(s);
  const engine = opts.engine ?? 'batched';
  const t0 = now();
  const accs = points.map((p) => new RunAccumulator(p, s.base.steps, s.threshold, s.curves));
  const summaries: Array<RunSummary | undefined> = new Array(points.length);
  let done = 0;
  const finish = (indices: number[]) => {
    const finished = indices.map((i) => (summaries[i] = accs[i].summary()));
    done += finished.length;
    opts.onProgress?.({ runsDone: done, runsTotal: points.length, finished, seconds: (now() - t0) / 1000, partial: () => aggregateSweep(s, summaries) });
  };
  for (const p of points) {
    const tooBig = checkFits(ctx, pointConfig(s, p));
    if (tooBig) {
      accs[p.index].fail(tooBig);
    }
  }

  let batches = 0;
  const sequential = async (p: GridPoint) => {
    const acc = accs[p.index];
    if (opts.signal?.aborted) return acc.fail('cancelled');
    try {
      const session = await ToySession.create(ctx, pointConfig(s, p), { readEvery: opts.readEvery ?? 64 });
      session.subscribe({ onMetrics: (rows) => acc.push(rows) });
      const end = await session.runToEnd();
      session.dispose();
      if (end.status === 'error') acc.fail(end.message ?? 'training failed');
    } catch (e) {
      acc.fail((e as Error).message);
    }
    batches++;
  };

  if (engine === 'sequential') {
    for (const p of points) {
      if (summaries[p.index] === undefined && accs[p.index].summary().status !== 'error') await sequential(p);
      finish([p.index]);
    }
  } else {
    const budget = opts.memoryBudget ?? (ctx.isSoftware ? 512 * 2 ** 20 : 2 * 2 ** 30);
    const runnable = (p: GridPoint) => accs[p.index].summary().status !== 'error';
    const plan = planBatches(s, (c) => Math.min(opts.maxBatch ?? Infinity, maxRunsPerBatch(ctx, c, budget)));
    const pool = new BufferPool(ctx.device);
    const pending: Array<Promise<void>> = [];
    ctx.device.pushErrorScope('out-of-memory');
    ctx.device.pushErrorScope('validation');
    let lastYield = now();
    try {
      for (const group of plan) {
        const live = group.filter(runnable);
        const failed = group.filter((p) => !runnable(p)).map((p) => p.index);
        if (failed.length) finish(failed);
        if (!live.length) continue;
        const config = pointConfig(s, live[0]);
        if (config.rank > MAX_BATCH_RANK) {
          for (const p of live) {
            await sequential(p);
            finish([p.index]);
          }
          continue;
        }
        if (opts.signal?.aborted) {
          for (const p of live) accs[p.index].fail('cancelled');
          finish(live.map((p) => p.index));
          continue;
        }
        const trainer = new ToyBatchTrainer(
          ctx,
          config,
          live.map((p) => ({ init: p.init, initDist: config.initDist, eta: p.eta, lambda: p.lambda, wd: config.wd })),
          { pool, readEvery: opts.readEvery ?? 32, onMetrics: (perRun) => perRun.forEach((rows, i) => accs[live[i].index].push(rows)) },
        );
        batches++;
        const allDiverged = () => live.every((p) => accs[p.index].diverged);
        while (trainer.stepsSubmitted < config.steps && !allDiverged() && !opts.signal?.aborted) {
          await trainer.step({ flushMetrics: trainer.stepsSubmitted + 1 === config.steps });
          if (now() - lastYield > 12) {
            await yieldToEventLoop(); // deliveries (mapAsync) and, in a page, rendering
            lastYield = now();
          }
        }
        const cancelled = opts.signal?.aborted && trainer.stepsSubmitted < config.steps;
        pending.push(
          trainer.finish().then(() => {
            if (cancelled) for (const p of live) if (!accs[p.index].diverged) accs[p.index].fail('cancelled');
            finish(live.map((p) => p.index));
          }),
        );
      }
      await Promise.all(pending);
    } finally {
      const validation = await ctx.device.popErrorScope();
      const oom = await ctx.device.popErrorScope();
      pool.destroy();
      if (validation || oom) throw new Error(oom ? `out of GPU memory during the sweep: ${oom.message}` : `WebGPU validation error during the sweep: ${validation!.message}`);
    }
  }

  const runs = summaries.map((x, i) => x ?? accs[i].summary());
  const seconds = (now() - t0) / 1000;
  const timing: SweepTiming = {
    engine,
    adapter: ctx.adapterName,
    seconds,
    runs: runs.length,
    runsPerSecond: runs.length / seconds,
    runStepsPerSecond: runs.reduce((a, r) => a + r.steps, 0) / seconds,
    batches,
  };
  return aggregateSweep(s, runs, timing);
}

/** Rough GPU work of one training step of `c`, in multiply-adds (for planning and estimates). */
export function stepWork(c: ToyConfig, engine: SweepEngine): number {
  const m = batchSize(c);
  const lowRank = 6 * m * c.n * Math.max(4, c.rank);
  return engine === 'sequential' ? m * c.n * c.n + lowRank : lowRank;
}
