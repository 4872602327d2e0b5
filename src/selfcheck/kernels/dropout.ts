// shaders/dropout.wgsl (drop, drop_add, drop_acc) with its mask from shaders/counter_rng.wgsl, through
// src/gpu/kernels/dropout.ts, against the TypeScript mirror of the stream (src/reference/dropoutMask.ts).
//
// Tolerance. The mask is u32 arithmetic (wrapping multiply-adds, shifts, xors: the same on every GPU) and
// a kept element of `drop` is one fp32 multiply by 1/(1 - p), correctly rounded in WGSL: `drop` must
// equal the mirror bit for bit, so a wrong mask bit or scale cannot hide. drop_add and drop_acc add res
// with one more rounding, and a driver may fuse the multiply into that add (fma): within 2u (|res| +
// |x s|) of res plus the rounded product. The share of dropped elements must be p within `rateBound` (default: 5 standard
// deviations of count Bernoulli(p) draws), so a stream that is the mirror's but not random fails too.
import { dropout, keepScale } from '../../gpu/kernels/dropout.ts';
import { dropoutMask } from '../../reference/dropoutMask.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, rand32, runDispatches, sentinelOutput, stateAt, U, type CheckEnv } from '../harness.ts';

const SENTINEL = -123.5;

export interface DropoutCase {
  /** Drop probability, in (0, 1). */
  p: number;
  count: number;
  site: number;
  seed: number;
  /** The training state's step and micro-batch (what keys the mask besides site and seed). */
  step: number;
  micro?: number;
  /** |dropped share - p| allowed (default 5 sqrt(p (1 - p) / count)). */
  rateBound?: number;
}

/** out = m x s, res + m x s, out + m x s over `count` random x with the case's mask, against the mirror. */
export async function checkDropout(env: CheckEnv, c: DropoutCase): Promise<CheckResult> {
  const { arena } = env;
  const n = c.count;
  const mask = { p: c.p, site: c.site, seed: c.seed };
  const state = stateAt(arena, c.step, c.micro ?? 0);
  // x in [0.5, 1.5): never 0, so a dropped element (exactly 0) is told apart from a kept one.
  const x = rand32(n, c.seed + 1, 0.5, 1.5);
  const res = rand32(n, c.seed + 2);
  const xb = arena.storage('x', x);
  const drop = sentinelOutput(arena, n, SENTINEL, undefined, 'drop');
  const add = sentinelOutput(arena, n, SENTINEL, undefined, 'drop_add');
  const acc = sentinelOutput(arena, n, SENTINEL, res, 'drop_acc');
  await runDispatches(arena.device, [
    dropout(arena, 'drop', { count: n, mask, x: xb, out: drop, state }),
    dropout(arena, 'drop_add', { count: n, mask, x: xb, res: arena.storage('res', res), out: add, state }),
    dropout(arena, 'drop_acc', { count: n, mask, x: xb, out: acc, state }),
  ], 'dropout');
  const m = dropoutMask({ ...mask, step: c.step, micro: c.micro }, n);
  if (!m) throw new Error('checkDropout: p must be > 0');
  const s = keepScale(c.p);
  const kept = Float32Array.from(x, (v, i) => (m[i] === 0 ? 0 : Math.fround(v * s)));
  const sum = Float64Array.from(res, (r, i) => r + kept[i]);
  const bound = Float64Array.from(res, (r, i) => 2 * U * (Math.abs(r) + kept[i]));
  const cmp = new Compare();
  const got = await env.read(drop, n + GUARD);
  cmp.exact('drop: m x / (1 - p) (the mask bit for bit)', got.subarray(0, n), kept).untouched('drop', got, SENTINEL, n);
  for (const [what, buf] of [['drop_add: res + m x s', add], ['drop_acc: out + m x s', acc]] as const) {
    const all = await env.read(buf, n + GUARD);
    cmp.bounded(what, all.subarray(0, n), sum, bound, 2 * U).untouched(what, all, SENTINEL, n);
  }
  let dropped = 0;
  for (let i = 0; i < n; i++) if (got[i] === 0) dropped++;
  return cmp.scalar(`share dropped of ${n}`, dropped / n, c.p, c.rateBound ?? 5 * Math.sqrt((c.p * (1 - c.p)) / n)).result();
}
