// shaders/grad_clip.wgsl (global_norm) after the per-tensor sums of squares of shaders/reduce.wgsl
// (TO_RING false: into a plain buffer), through src/gpu/kernels/gradClip.ts: the global gradient norm over
// every trainable tensor goes to this step's metrics slot and state.clip = min(1, max / (norm + 1e-6)),
// as torch.nn.utils.clip_grad_norm_ computes it, against float64.
//
// Tolerance. Every term of sum_k ||g_k||^2 is positive, so the fixed-order fp32 sum is within
// (additions + 1) u of the float64 sum, additions being the most roundings one term sees: within its
// tensor, reduceAdditions(count_k) (src/selfcheck/kernels/reduce.ts); across the K tensors, strided
// per-thread sums then a 128-wide tree, ceil(K / 128) + 7. sqrt halves that relative error and adds one
// rounding; the clip scale adds an add and a division, and max_norm its rounding to fp32 (3u).
import { clipByGlobalNorm } from '../../gpu/kernels/gradClip.ts';
import { advanceStep, createTrainState } from '../../gpu/kernels/trainState.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { rand32, runDispatches, U, type CheckEnv } from '../harness.ts';
import { reduceAdditions } from './reduce.ts';

/**
 * Two training steps, each clipping tensors of the given sizes (random in (-1, 1)) to `maxNorm`: the norm
 * in each step's metrics slot (field 2 of 4, other fields NaN), the clip scale in the state.
 */
export async function checkGradClip(env: CheckEnv, sizes: readonly number[], maxNorm: number, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const data = sizes.map((n, k) => rand32(n, seed + k));
  const ring = 3, stride = 4, field = 2;
  const state = createTrainState(arena, ring, stride);
  const metrics = arena.storage('metrics', ring * stride);
  const grads = data.map((d) => ({ grad: arena.storage('grad', d), count: d.length }));
  const advance = advanceStep(arena, state, metrics, 0.9, 0.999);
  const clip = clipByGlobalNorm(arena, { grads, maxNorm, state, metrics, field });
  await runDispatches(arena.device, [advance, ...clip, advance, ...clip], 'clip');
  let sq = 0;
  for (const d of data) for (const v of d) sq += v * v;
  const norm = Math.sqrt(sq);
  const additions = Math.max(...sizes.map(reduceAdditions)) + Math.ceil(sizes.length / 128) + 7;
  const normRel = ((additions + 1) * U) / 2 + U;
  const cmp = new Compare();
  const m = await env.read(metrics, ring * stride);
  for (const step of [1, 2]) {
    const slot = (step - 1) * stride;
    cmp.close(`global norm of ${sizes.length} tensors at step ${step}`, m[slot + field], norm, normRel);
    cmp.require(`step ${step}'s slot: its step number and NaN in the fields nothing wrote`, m[slot] === step && Number.isNaN(m[slot + 1]) && Number.isNaN(m[slot + 3]));
  }
  const want = Math.min(1, maxNorm / (norm + 1e-6));
  cmp.close(`clip scale min(1, ${maxNorm} / (norm + 1e-6))`, (await env.read(state, 8))[7], want, want < 1 ? normRel + 3 * U : 0);
  return cmp.result();
}
