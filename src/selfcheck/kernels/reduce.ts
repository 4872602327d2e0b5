// shaders/reduce.wgsl (reduceToMetric: sum of squares / dot, scaled, optionally square-rooted, written to
// the current step's metrics slot) through src/gpu/kernels/reduce.ts, against float64.
//
// Tolerance. The sum runs in fixed order: a strided per-thread sum, a 128-wide tree (7 levels), and for
// large inputs the same again over the per-workgroup partials (src/gpu/kernels/reduce.ts: one workgroup
// sums up to 32768 elements directly, 256 per thread; above that, chunks of 4096, 32 per thread). Each
// term passes through at most `additions(count)` roundings, so the fp32 sum is within additions * u of
// sum |x_i y_i|; the scale multiply adds one rounding, sqrt halves the relative error and adds one.
// (Random rounding errors mostly cancel; this worst-case bound is still far tighter than any bug.)
import { reduceToMetric } from '../../gpu/kernels/reduce.ts';
import { advanceStep, createTrainState } from '../../gpu/kernels/trainState.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { rand32, runDispatches, U, type CheckEnv } from '../harness.ts';

/** Worst-case roundings any one term sees, following the kernel's fixed summation order. */
export function reduceAdditions(count: number): number {
  if (count <= 32768) return Math.ceil(count / 128) + 7;
  const groups = Math.ceil(count / Math.max(4096, Math.ceil(count / 1024 / 128) * 128));
  return Math.ceil(4096 / 128) + 7 + Math.ceil(groups / 128) + 7;
}

export interface ReduceCase {
  count: number;
  /** scale * sum x*y instead of scale * sum x^2. */
  dot: boolean;
  sqrt: boolean;
  scale: number;
  /** Inputs uniform in (-range, range). */
  range?: number;
}

const RING = 3;
const STRIDE = 6;
const FIELD = 4;

/**
 * One metric at step 1 of a fresh training state: the value in field FIELD of slot 0 against float64.
 * With `dot` and `sqrt` the dot must be positive (it is ||B A||^2 = <B^T B, A A^T> in use): y is biased toward x.
 */
export async function checkReduce(env: CheckEnv, c: ReduceCase, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const range = c.range ?? 1;
  const x = rand32(c.count, seed, -range, range);
  const y = c.dot ? (c.sqrt ? Float32Array.from(rand32(c.count, seed + 1), (v, i) => x[i] + 0.5 * v) : rand32(c.count, seed + 1, -range, range)) : undefined;
  const state = createTrainState(arena, RING, STRIDE);
  const metrics = arena.storage('metrics', RING * STRIDE);
  const what = `${c.dot ? 'dot' : 'sumsq'}${c.sqrt ? ' sqrt' : ''} k=${c.count}`;
  await runDispatches(arena.device, [
    advanceStep(arena, state, metrics, 0.9, 0.999),
    ...reduceToMetric(arena, { x: arena.storage('x', x), y: y && arena.storage('y', y), count: c.count, scale: c.scale, sqrt: c.sqrt, label: what, metrics, state, field: FIELD }),
  ], what);
  const got = (await env.read(metrics, STRIDE))[FIELD];
  let sum = 0;
  let abs = 0;
  for (let i = 0; i < c.count; i++) {
    const p = x[i] * (y ? y[i] : x[i]);
    sum += p;
    abs += Math.abs(p);
  }
  const s = Math.fround(c.scale);
  const add = reduceAdditions(c.count);
  const cmp = new Compare();
  if (!c.sqrt) return cmp.scalar(what, got, s * sum, (add + 1) * U * s * abs).result();
  cmp.require(`${what}: the reduced value must be positive to take its square root`, sum > 0);
  const want = Math.sqrt(s * sum);
  // d sqrt(v) = dv / (2 sqrt(v)): the absolute error of v over 2 sqrt(v), plus one rounding.
  return cmp.scalar(what, got, want, ((add + 1) * U * s * abs) / (2 * want) + U * want).result();
}
