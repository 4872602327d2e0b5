// shaders/adamw.wgsl (`step`: one tensor; `step_runs`: R runs stacked, each with its own lr and weight
// decay, dead runs skipped) through src/gpu/kernels/adamw.ts: two steps against the AdamW formulas of
// lora-math.md section 3.
//
// Tolerance, two levels.
//  1. Per step, against the formulas evaluated in float64 from the GPU's own previous theta, m, v and
//     from the bias corrections the training state holds (1 - beta^t as fp32): each quantity is a few
//     fp32 operations, so m and v within 3u of |b m| + |(1-b) g| (resp. b v + (1-b) g^2), and theta
//     within 4u (|theta| + |theta'|) + 16u * lr * (|b1 m| + |(1-b1) g|) / (1 - b1^t) / (sqrt(v_hat) + eps),
//     u = 2^-24. Any wrong term (bias correction, decay order, lr) is orders of magnitude larger.
//  2. End to end, against toyReference's adamwStep (float64 betas and powers). The state keeps
//     c_t = 1 - beta^t by a recurrence, not 1 - (fp32 beta^t) (which would lose ~500x to cancellation
//     at t = 2), so c_t is good to a few u, beta2 itself rounds to fp32 (1.3e-5 relative in 1 - beta2),
//     and the update is within 1e-5 * lr + 4u |theta|.
import { writeFloats } from '../../gpu/buffers.ts';
import { adamw, adamwRuns, type AdamHyper } from '../../gpu/kernels/adamw.ts';
import { advanceStep, createTrainState } from '../../gpu/kernels/trainState.ts';
import { adamwStep } from '../../reference/toyReference.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { rng, runDispatches, U, type CheckEnv } from '../harness.ts';

const f32 = Math.fround;

/** Gradients spanning many magnitudes (Adam is scale-free), with exact zeros sprinkled in. */
export function adamGrads(count: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, (_, i) => (i % 7 === 3 ? 0 : (2 * r() - 1) * 10 ** (-6 + 7 * r())));
}

interface Snapshot {
  theta: ArrayLike<number>;
  m: ArrayLike<number>;
  v: ArrayLike<number>;
}

/** Level 1: one GPU step against the formulas from the GPU's previous state. */
function stepFormulas(cmp: Compare, prev: Snapshot, g: ArrayLike<number>, next: Snapshot, h: AdamHyper, bc1: number, bc2: number, what: string): void {
  const lr = f32(h.lr), wd = f32(h.weightDecay), b1 = f32(h.beta1), b2 = f32(h.beta2), eps = f32(h.eps);
  const n = g.length;
  const want = { m: new Float64Array(n), v: new Float64Array(n), theta: new Float64Array(n) };
  const bound = { m: new Float64Array(n), v: new Float64Array(n), theta: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const mTerms = Math.abs(b1 * prev.m[i]) + Math.abs((1 - b1) * g[i]);
    const m = b1 * prev.m[i] + (1 - b1) * g[i];
    const v = b2 * prev.v[i] + (1 - b2) * g[i] * g[i];
    const denom = Math.sqrt(v / bc2) + eps;
    const theta = prev.theta[i] * (1 - lr * wd) - (lr * (m / bc1)) / denom;
    want.m[i] = m;
    want.v[i] = v;
    want.theta[i] = theta;
    bound.m[i] = 3 * U * mTerms;
    bound.v[i] = 3 * U * v; // v's terms are non-negative: |b v| + |(1-b) g^2| = v
    bound.theta[i] = 4 * U * (Math.abs(prev.theta[i]) + Math.abs(theta)) + (16 * U * lr * (mTerms / bc1)) / denom;
  }
  cmp.bounded(`${what} m`, next.m, want.m, bound.m, 3 * U).bounded(`${what} v`, next.v, want.v, bound.v, 3 * U).bounded(`${what} theta`, next.theta, want.theta, bound.theta, 4 * U);
}

async function readState(env: CheckEnv, state: GPUBuffer): Promise<{ step: number; bc1: number; bc2: number }> {
  const f = await env.read(state, 8);
  return { step: new Uint32Array(f.buffer)[0], bc1: f[4], bc2: f[5] };
}

/**
 * `step`: two AdamW steps of one tensor of `count` entries (the second with a zero gradient where the first
 * had none), each against the formulas, then both against the float64 reference; the moments start at 0,
 * and the first step moves theta by lr |g| / (|g| + eps) after the decay, against the gradient's sign.
 */
export async function checkAdamw(env: CheckEnv, h: AdamHyper, count: number, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const r = rng(seed);
  const theta0 = Float32Array.from({ length: count }, () => 2 * r() - 1);
  const g1 = adamGrads(count, seed + 1);
  const g2 = adamGrads(count, seed + 2);
  if (count > 1) g2[1] = 0; // zero gradient at step 2 after a nonzero one: the moments still move theta
  const state = createTrainState(arena, 2, 4);
  const theta = arena.storage('theta', theta0);
  const grad = arena.storage('grad', g1);
  const opt = adamw(arena, { theta, grad, count, state, hyper: h, label: 'p' });
  const advance = advanceStep(arena, state, arena.storage('metrics', 8), h.beta1, h.beta2);
  const snap = async (): Promise<Snapshot> => ({ theta: await env.read(theta, count), m: await env.read(opt.m, count), v: await env.read(opt.v, count) });
  const cmp = new Compare();
  const s0 = await snap();
  cmp.exact('initial m, v', [...Array.from(s0.m), ...Array.from(s0.v)], new Array(2 * count).fill(0));
  await runDispatches(arena.device, [advance, opt.dispatch], 'adamw step 1');
  const st1 = await readState(env, state);
  const s1 = await snap();
  cmp.exact('step counter', [st1.step], [1]);
  stepFormulas(cmp, s0, g1, s1, h, st1.bc1, st1.bc2, 'step 1');

  writeFloats(arena.device, grad, g2);
  await runDispatches(arena.device, [advance, opt.dispatch], 'adamw step 2');
  const st2 = await readState(env, state);
  const s2 = await snap();
  cmp.exact('step counter', [st2.step], [2]);
  stepFormulas(cmp, s1, g2, s2, h, st2.bc1, st2.bc2, 'step 2');

  // Level 2: the float64 reference from the start, exact betas.
  const ref = Float64Array.from(theta0);
  const m = new Float64Array(count), v = new Float64Array(count);
  adamwStep(ref, g1, m, v, 1, h);
  adamwStep(ref, g2, m, v, 2, h);
  cmp.bounded('theta after 2 steps vs float64', s2.theta, ref, Array.from(ref, (x) => 1e-5 * h.lr + 4 * U * Math.abs(x)), 1e-5);

  // Step 1's sharp property: theta moved by lr * |g| / (|g| + eps) after decay, exactly for g = 0.
  const decayed = Array.from(theta0, (x) => x * (1 - f32(h.lr) * f32(h.weightDecay)));
  const moved = Array.from(s1.theta, (x, i) => Math.abs(x - decayed[i]));
  const move = Array.from(g1, (g) => (f32(h.lr) * Math.abs(g)) / (Math.abs(g) + f32(h.eps)));
  cmp.bounded('step 1 move = lr |g| / (|g| + eps)', moved, move, Array.from(theta0, (x) => 8 * U * (Math.abs(x) + h.lr)), 8 * U);
  cmp.require('step 1 moves theta against the gradient', Array.from(g1).every((g, i) => g === 0 || Math.sign(s1.theta[i] - decayed[i]) === -Math.sign(g)));
  if (h.weightDecay === 0) cmp.exact('step 1 leaves theta where g = 0', Array.from(g1.keys()).filter((i) => g1[i] === 0).map((i) => s1.theta[i]), Array.from(g1.keys()).filter((i) => g1[i] === 0).map((i) => theta0[i]));
  return cmp.result();
}

/**
 * `step_runs`: R runs stacked in one tensor (run b owns [b count, (b + 1) count)), each with its own lr and
 * weight decay, run `dead` flagged not alive: two steps, every live run against the float64 reference
 * (level 2 above), the dead run's theta and moments untouched bit for bit.
 */
export async function checkAdamwRuns(env: CheckEnv, runs: Array<{ lr: number; weightDecay: number }>, count: number, dead: number, seed: number, adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8 }): Promise<CheckResult> {
  const { arena } = env;
  const R = runs.length;
  const r = rng(seed);
  const theta0 = Float32Array.from({ length: R * count }, () => 2 * r() - 1);
  const g1 = adamGrads(R * count, seed + 1);
  const g2 = adamGrads(R * count, seed + 2);
  const state = createTrainState(arena, 2, 4);
  const theta = arena.storage('theta', theta0);
  const grad = arena.storage('grad', g1);
  const m = arena.storage('m', R * count);
  const v = arena.storage('v', R * count);
  const alive = arena.storage('alive', Uint32Array.from(runs, (_, b) => (b === dead ? 0 : 1)));
  const hyper = arena.storage('hyper', Float32Array.from(runs.flatMap((x) => [x.lr, x.weightDecay])));
  const step = adamwRuns(arena, { theta, grad, m, v, hyper, alive, state, count, runs: R, ...adam, label: 'runs' });
  const advance = advanceStep(arena, state, arena.storage('metrics', 8), adam.beta1, adam.beta2);
  await runDispatches(arena.device, [advance, step], 'adamw step_runs 1');
  writeFloats(arena.device, grad, g2);
  await runDispatches(arena.device, [advance, step], 'adamw step_runs 2');
  const got = await env.read(theta, R * count);
  const gotM = await env.read(m, R * count);
  const cmp = new Compare();
  runs.forEach((run, b) => {
    const part = (x: Float32Array) => x.subarray(b * count, (b + 1) * count);
    if (b === dead) {
      cmp.exact(`dead run ${b} theta`, part(got), part(theta0)).exact(`dead run ${b} m`, part(gotM), new Float32Array(count));
      return;
    }
    const ref = Float64Array.from(part(theta0));
    const mm = new Float64Array(count), vv = new Float64Array(count);
    const h = { ...adam, ...run };
    adamwStep(ref, part(g1), mm, vv, 1, h);
    adamwStep(ref, part(g2), mm, vv, 2, h);
    cmp.bounded(`run ${b} theta after 2 steps vs float64`, part(got), ref, Array.from(ref, (x) => 1e-5 * run.lr + 4 * U * Math.abs(x)), 1e-5);
  });
  return cmp.result();
}
