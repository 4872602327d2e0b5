// The batched sweep engine (toy_batch.wgsl, both forward/U kernels) against the float64 reference, as E0
// does for the per-run engine: every step's loss, ||Z_A||, ||Z_B||, ||sBA|| and the final A and B of each
// run within 1e-3 relative. Awkward sizes: n = 37 (not a multiple of 64 lanes or 8-row blocks), 23 rows,
// rank 1 (padded to 4 in the kernels), two runs with different inits in one batch; and n = 263 with 301
// rows, so that rows_thread and grad_b (256 rows / columns per workgroup, 4 per lane) span two blocks
// per run with a ragged last one, and rows_thread reads P0 transposed.
import { describe, expect, it } from 'vitest';
import { drawToyTensors } from '../../src/experiments/toy/data.ts';
import { withTeacherTargets } from '../../src/experiments/toy/trainer.ts';
import type { RowsKernel } from '../../src/experiments/sweep/batchTrainer.ts';
import { testGpu } from '../gpu.ts';
import { relErr } from '../reference/linalg.ts';
import { referenceTrain } from '../reference/toyReference.ts';
import { close, refConfig, refTensors, smallConfig, trainBatch } from './toyHarness.ts';

describe('batched engine against the float64 reference', () => {
  const config = smallConfig({ activation: 'gelu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4 });
  const inits = ['A', 'B'] as const;

  const wide = smallConfig({ activation: 'relu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4, n: 263, nTrain: 301, nTest: 13, steps: 4, testEvery: 2 });
  const cases: Array<[string, RowsKernel, typeof config]> = [
    ['thread', 'thread', config],
    ['workgroup', 'workgroup', config],
    ['thread, two 256-row blocks per run', 'thread', wide],
  ];
  for (const [name, rowsKernel, config] of cases) {
    it(`rows kernel '${name}': Init[A] and Init[B] in one batch`, async () => {
      const ctx = await testGpu();
      const runs = inits.map((init) => ({ init, initDist: config.initDist, eta: config.eta, lambda: config.lambda, wd: config.wd }));
      const { rows, adapters: weights } = await trainBatch(config, runs, { rowsKernel, readEvery: 3 });

      for (const [b, init] of inits.entries()) {
        const c = { ...config, init };
        const tensors = await withTeacherTargets(ctx, c, drawToyTensors(c));
        const ref = referenceTrain(refTensors(tensors), refConfig(c));
        expect(rows[b].map((r) => r.step)).toEqual(ref.steps.map((r) => r.step));
        ref.steps.forEach((w, i) => {
          const g = rows[b][i];
          expect(close(g.loss, w.loss, 1e-3, 1e-12), `Init[${init}] loss at step ${w.step}: ${g.loss} vs ${w.loss}`).toBe(true);
          expect(close(g.zA, w.zA, 1e-3, 1e-6), `Init[${init}] zA at step ${w.step}: ${g.zA} vs ${w.zA}`).toBe(true);
          expect(close(g.zB, w.zB, 1e-3, 1e-6), `Init[${init}] zB at step ${w.step}: ${g.zB} vs ${w.zB}`).toBe(true);
          expect(close(g.normSBA, w.normSBA, 1e-3, 1e-6), `Init[${init}] ||sBA|| at step ${w.step}`).toBe(true);
        });
        expect(relErr(weights[b].A, ref.A), `Init[${init}] final A`).toBeLessThan(1e-3);
        expect(relErr(weights[b].B, ref.B), `Init[${init}] final B`).toBeLessThan(1e-3);
      }
    });
  }
});
