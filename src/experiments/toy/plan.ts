// What a toy configuration needs on the GPU, known before anything is allocated: every buffer the
// teacher's targets (trainer.ts withTeacherTargets) and the ToyTrainer allocate, with the test set, so a
// configuration is refused with the numbers before any work instead of failing (or swapping) half-way.
//
// Peak memory is the larger of two phases: the teacher's targets (computed set by set, freed after) and
// the trainer (with the temporaries of its frozen features). One buffer must fit the adapter's binding
// and buffer limits; the whole must fit a memory budget (WebGPU does not say how much memory there is).
import type { GpuContext } from '../../gpu/device.ts';
import { batchSize, type ToyConfig } from './config.ts';

export interface ToyPlan {
  /** Peak bytes (the larger phase). */
  total: number;
  /** Peak bytes by what they hold. */
  byGroup: { weights: number; features: number; activations: number; setup: number };
  /** The biggest single buffer. */
  largest: { name: string; rows: number; cols: number; bytes: number };
}

const F32 = 4;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;

export function planToy(c: ToyConfig): ToyPlan {
  const { n, d, rank: r, teacherRank: rt } = c;
  const N = c.nTrain;
  const Nt = c.nTest;
  const m = batchSize(c);
  const rows = Math.max(N, Nt);
  // Trainer: frozen weights and the adapter with its gradients and Adam moments.
  const weights = n * n + n + 8 * n * r;
  // Frozen features of the whole data set and the targets.
  const features = (N + Nt) * n + N + Nt + (m < N ? N + m + m * n + m : 0);
  // Forward and backward of a training batch (Z_A, P2, U, H2, y, residual, dy, dP2) and of the test set.
  const activations = m * (2 * r + 3 * n + 3) + Nt * (2 * r + 2 * n + 3);
  // Temporaries while the frozen features are computed (W_in, X, X W_in^T of the larger set).
  const setup = n * d + rows * (d + n);
  const trainer = weights + features + activations + setup;
  // The teacher's targets, per set (the larger one): W0, its factors, H1, the batch, H2, X, X W_in^T.
  const teacher = n * n + 4 * n * rt + n + n * d + rows * (4 * n + d + 2 * rt + 1);
  const teacherPeak = teacher > trainer;
  const byGroup = teacherPeak
    ? { weights: (n * n + 4 * n * rt + n + n * d) * F32, features: rows * n * F32, activations: rows * (2 * n + 2 * rt + 1) * F32, setup: rows * (d + n) * F32 }
    : { weights: weights * F32, features: features * F32, activations: activations * F32, setup: setup * F32 };
  const candidates = [
    { name: 'W0', rows: n, cols: n },
    { name: 'H1.train', rows: N, cols: n },
    { name: 'H1.test', rows: Nt, cols: n },
    { name: 'X.train', rows: N, cols: d },
  ];
  const largest = candidates.map((b) => ({ ...b, bytes: b.rows * b.cols * F32 })).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { total: Math.max(trainer, teacher) * F32, byGroup, largest };
}

/** Bytes of GPU memory a toy configuration needs at its peak. */
export function toyMemoryBytes(c: ToyConfig): number {
  return planToy(c).total;
}

/** The per-buffer limit of an adapter: storage buffers are bound whole. */
export const bufferLimit = (limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>) => Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);

/**
 * Checks a configuration against the adapter's limits and a memory budget (bytes; none when omitted)
 * before anything is allocated; returns why it will not fit, with the numbers, or null.
 */
export function checkFits(ctx: Pick<GpuContext, 'limits'>, c: ToyConfig, budget = Infinity): string | null {
  const plan = planToy(c);
  const limit = bufferLimit(ctx.limits);
  const big = plan.largest;
  if (big.bytes > limit) {
    return `the buffer ${big.name} (${big.rows} x ${big.cols}) needs ${mib(big.bytes)} but this GPU allows at most ${mib(limit)} per buffer`;
  }
  if (plan.total > budget) {
    const parts = Object.entries(plan.byGroup).filter(([, b]) => b > 0).map(([g, b]) => `${g} ${mib(b)}`).join(', ');
    return `it needs about ${mib(plan.total)} of GPU memory (${parts}) but the budget is ${mib(budget)}`;
  }
  return null;
}
