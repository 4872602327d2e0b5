// The batched sweep engine (toy_batch.wgsl, both forward/U kernels) against the float64 reference, as E0
// does for the per-run engine: every step's loss, ||Z_A||, ||Z_B||, ||sBA|| and the final A and B of each
// run within 1e-3 relative. Awkward sizes: n = 37 (not a multiple of 64 lanes or 8-row blocks), 23 rows,
// rank 1 (padded to 4 in the kernels), two runs with different inits in one batch. The comparison is
// src/selfcheck/toyRuns.ts's checkBatchParity (the self-check's own).
import { describe, expect, it } from 'vitest';
import type { RowsKernel } from '../../src/experiments/sweep/batchTrainer.ts';
import { checkBatchParity, smallConfig } from '../../src/selfcheck/toyRuns.ts';
import { testHost } from '../gpu.ts';

describe('batched engine against the float64 reference', () => {
  const config = smallConfig({ activation: 'gelu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4 });

  for (const rowsKernel of ['thread', 'workgroup'] as RowsKernel[]) {
    it(`rows kernel '${rowsKernel}': Init[A] and Init[B] in one batch`, async () => {
      const r = await checkBatchParity(testHost(), config, rowsKernel);
      expect(r.pass, r.detail).toBe(true);
    });
  }
});
