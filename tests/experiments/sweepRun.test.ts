// End to end in Node (Dawn on SwiftShader): a small sweep (2 inits x 3 etas x 2 widths, few steps)
// through the batched engine (GELU), checked against the per-run engine (ToySession) run by run, with one
// diverging learning rate in every batch (NaN isolation). (Step-by-step
// agreement of every metric is what the run-by-run comparison checks, through the summaries.)
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import type { RunSummary, SweepResult } from '../../src/experiments/sweep/aggregate.ts';
import { batchFitError, bytesPerRun, maxRunsPerBatch } from '../../src/experiments/sweep/batchTrainer.ts';
import { planBatches, runSweep } from '../../src/experiments/sweep/runner.ts';
import { validateSweepSpec, type SweepSpec } from '../../src/experiments/sweep/spec.ts';
import { testHost } from '../gpu.ts';
import { trainBatch } from './toyHarness.ts';

const SPEC: SweepSpec = {
  version: 1,
  kind: 'lr-width',
  // GELU exercises the batched kernels' copy of activation.wgsl's phi/phi' (tanh inside; ReLU is the E3
  // test's); mini-batches of 32 reshuffled every 3 steps exercise the shared gather; lambda 4 and weight
  // decay the per-run AdamW hyperparameters.
  base: { steps: 6, testEvery: 3, nTrain: 96, nTest: 24, batch: 32, activation: 'gelu', lambda: 4, wd: 0.01 },
  // eta = 5 diverges within a few steps at both widths; the others train.
  axes: { init: ['A', 'B'], n: [32, 48], eta: [1e-3, 3e-2, 5] },
};

const rel = (a: number | null, b: number | null) => (a === null || b === null ? (a === b ? 0 : Infinity) : Math.abs(a - b) / Math.max(1e-12, Math.abs(b)));

describe('sweep end to end (SwiftShader)', () => {
  let batched: SweepResult;
  let sequential: SweepResult;

  beforeAll(async () => {
    batched = await runSweep(testHost(), SPEC, { engine: 'batched', readEvery: 4 });
    sequential = await runSweep(testHost(), SPEC, { engine: 'sequential' });
  });

  it('runs the whole grid in one batch per width and reports every run', () => {
    expect(batched.kind).toBe('lr-width');
    expect(batched.runs).toHaveLength(12);
    expect(batched.timing).toMatchObject({ engine: 'batched', runs: 12, batches: 2 });
    expect(batched.timing!.runsPerSecond).toBeGreaterThan(0);
    expect(batched.runs.map((r) => r.index)).toEqual([...Array(12).keys()]);
    for (const r of batched.runs) {
      if (r.point.eta === 5) {
        expect(r.status).toBe('diverged');
        expect(r.divergedAt).toBeGreaterThan(1);
        expect(r.finalTestLoss).toBeNull();
      } else {
        expect(r.status).toBe('done');
        expect(r.steps).toBe(6);
        expect(r.finalTestLoss).toBeGreaterThan(0);
      }
    }
    if (batched.kind !== 'lr-width') return;
    for (const v of batched.lrWidth) {
      expect(v.heatmap.cells.filter((c) => c.status === 'diverged').map((c) => c.xi)).toEqual([2, 2]);
      expect(v.optimum.every((o) => o.eta === 1e-3 || o.eta === 3e-2)).toBe(true);
    }
  });

  it('agrees with the per-run engine run by run, diverging runs included (at the same step)', () => {
    for (let i = 0; i < 12; i++) {
      const b: RunSummary = batched.runs[i];
      const s: RunSummary = sequential.runs[i];
      expect(b.status, `run ${i}`).toBe(s.status);
      expect(b.divergedAt, `run ${i}`).toBe(s.divergedAt);
      for (const k of ['firstLoss', 'finalLoss', 'bestLoss', 'finalTestLoss', 'bestTestLoss', 'maxZA', 'maxZB', 'zB2'] as const) {
        if (b.status === 'diverged' && (k === 'finalLoss' || k === 'maxZA' || k === 'maxZB')) continue; // chaotic after blow-up
        expect(rel(b[k], s[k]), `run ${i} ${k}: ${b[k]} vs ${s[k]}`).toBeLessThan(1e-3);
      }
    }
  });

  it('a diverging run does not touch the other runs of its batch', async () => {
    const c = { ...defaultToyConfig(), ...SPEC.base, n: 32 };
    const runs = [
      { init: 'A' as const, initDist: 'gaussian' as const, eta: 3e-2, lambda: 1, wd: 0 },
      { init: 'B' as const, initDist: 'gaussian' as const, eta: 50, lambda: 1, wd: 0 },
    ];
    const collect = (rs: typeof runs) => trainBatch(c, rs, { readEvery: 2 });
    const both = await collect(runs);
    const alone = await collect([runs[0]]);
    expect(both.rows[1].some((r) => !r.alive)).toBe(true);
    // Bit-identical: the healthy run's trajectory and weights do not depend on its neighbour.
    expect(both.rows[0]).toEqual(alone.rows[0]);
    expect(Array.from(both.adapters[0].A)).toEqual(Array.from(alone.adapters[0].A));
    expect(Array.from(both.adapters[0].B)).toEqual(Array.from(alone.adapters[0].B));
    expect(both.adapters[0].B.every(Number.isFinite)).toBe(true);
  });

  it('both forward/U kernels (a workgroup per 8 rows, a thread per row) give the same training, step by step', async () => {
    // The default picks one of them by adapter and width (rowsKernelFor); both must agree with each other
    // as the engine does with the per-run one. n = 72 is not a multiple of the 64 lanes of `rows`, and
    // 100 test rows not a multiple of its 8-row blocks; one run diverges.
    const c = { ...defaultToyConfig(), ...SPEC.base, n: 72, nTest: 100, steps: 6 };
    const runs = [1e-3, 3e-2, 5].flatMap((eta) => (['A', 'B'] as const).map((init) => ({ init, initDist: 'gaussian' as const, eta, lambda: 4, wd: 0.01 })));
    const trace = async (rowsKernel: 'workgroup' | 'thread') => (await trainBatch(c, runs, { rowsKernel, readEvery: 2 })).rows;
    const wg = await trace('workgroup');
    const th = await trace('thread');
    expect(wg.map((r) => r.length)).toEqual(runs.map(() => c.steps));
    expect(wg.some((r) => !r.at(-1)!.alive)).toBe(true);
    for (let b = 0; b < runs.length; b++) {
      for (let i = 0; i < c.steps; i++) {
        const [x, y] = [wg[b][i], th[b][i]];
        expect(y.alive, `run ${b} step ${i + 1}`).toBe(x.alive);
        if (!x.alive) continue;
        for (const k of ['loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss'] as const) {
          if (x[k] === undefined) continue;
          expect(rel(y[k] ?? null, x[k] ?? null), `run ${b} step ${i + 1} ${k}: ${y[k]} vs ${x[k]}`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('a width whose batch does not fit the memory budget is refused with a message; the others run', async () => {
    const spec: SweepSpec = { version: 1, kind: 'width-scaling', base: { steps: 2, nTrain: 40, nTest: 8 }, axes: { seed: [1, 2], init: ['A'], n: [32, 2048] } };
    const r = validateSweepSpec(spec);
    if (!r.ok) throw new Error(r.error);
    // 2048 x 2048 (W0) alone is 16 MiB: a 4 MiB budget fits n = 32 and refuses n = 2048 before building anything.
    const budget = 4 * 2 ** 20;
    expect(batchFitError({ ...r.value.base, n: 32 }, budget)).toBeNull();
    expect(batchFitError({ ...r.value.base, n: 2048 }, budget)).toMatch(/^n = 2048 with 40 training examples needs \d+ MiB of GPU memory for one batch .*more than the 4 MiB budget$/);
    const res = await runSweep(testHost(), spec, { memoryBudget: budget });
    expect(res.runs.map((x) => [x.point.seed, x.point.n, x.status])).toEqual([[1, 32, 'done'], [1, 2048, 'error'], [2, 32, 'done'], [2, 2048, 'error']]);
    expect(res.runs[1].error).toMatch(/more than the 4 MiB budget/);
    expect(res.timing!.batches).toBe(2);
    // A batch holds O((m + n) r) floats per run (no stored m x n pre-activations): hundreds of runs fit at n = 8192.
    const wide = { ...defaultToyConfig(), n: 8192 };
    expect(bytesPerRun(wide)).toBeLessThan(2 * 2 ** 20);
    expect(maxRunsPerBatch({ limits: { maxStorageBufferBindingSize: 2 ** 30 } as GPUSupportedLimits }, wide, 512 * 2 ** 20)).toBeGreaterThan(100);
  });

  it('plans one batch per shape, split by the size limit', () => {
    const r = validateSweepSpec(SPEC);
    if (!r.ok) throw new Error(r.error);
    expect(planBatches(r.value, () => 100).map((b) => b.map((p) => p.index))).toEqual([[0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10, 11]]);
    expect(planBatches(r.value, () => 4).map((b) => b.length)).toEqual([4, 2, 4, 2]);
  });
});
