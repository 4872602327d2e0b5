// The batched sweep engine (toy_batch.wgsl, both forward/U kernels) against the float64 reference, as E0
// does for the per-run engine: every step's loss, ||Z_A||, ||Z_B||, ||sBA|| and the final A and B of each
// run within 1e-3 relative. Awkward sizes: n = 37 (not a multiple of 64 lanes or 8-row blocks), 23 rows,
// rank 1 (padded to 4 in the kernels), two runs with different inits in one batch; and n = 263 with 301
// rows, so that rows_thread and grad_b (256 rows / columns per workgroup, 4 per lane) span two blocks
// per run with a ragged last one, and rows_thread reads P0 transposed. The comparison is
// src/selfcheck/toyRuns.ts's checkBatchParity (the self-check's own).
import { describe, expect, it } from 'vitest';
import type { RowsKernel } from '../../src/experiments/sweep/batchTrainer.ts';
import type { ToyConfig } from '../../src/experiments/toy/config.ts';
import { checkBatchParity, smallConfig } from '../../src/selfcheck/toyRuns.ts';
import { testHost } from '../gpu.ts';

describe('batched engine against the float64 reference', () => {
  const config = smallConfig({ activation: 'gelu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4 });
  const wide = smallConfig({ activation: 'relu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4, n: 263, nTrain: 301, nTest: 13, steps: 4, testEvery: 2 });
  const cases: Array<[string, RowsKernel, ToyConfig]> = [
    ['thread', 'thread', config],
    ['workgroup', 'workgroup', config],
    ['thread, two 256-row blocks per run', 'thread', wide],
  ];
  for (const [name, rowsKernel, c] of cases) {
    it(`rows kernel '${name}': Init[A] and Init[B] in one batch`, async () => {
      const r = await checkBatchParity(testHost(), c, rowsKernel);
      expect(r.pass, r.detail).toBe(true);
    });
  }
});
