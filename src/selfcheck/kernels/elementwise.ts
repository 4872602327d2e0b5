// shaders/activation.wgsl and shaders/loss.wgsl through src/gpu/kernels/elementwise.ts, against float64.
//
// Activations. Each output is a handful of fp32 operations on one exactly representable input, plus
// one WGSL tanh. WGSL only promises tanh to an absolute error (it is specified via sinh/cosh), so
// the bound is absolute-plus-relative per element: (8 * 2^-24 + TANH_ABS) * scale, where scale is the
// size of the intermediates that carry rounding and tanh's absolute error (see forwardScale and
// backwardScale below). ReLU involves no rounding at all: compared bit for bit.
//
// MSE. residual = y - t is one fp32 subtraction and grad = residual * fp32(1/m) one multiplication; WGSL
// requires both to be correctly rounded, so they are compared bit for bit with Math.fround of the same
// operations. Against the float64 meaning, (y - t)/m, that is within 3 * 2^-24 relative (three roundings).
import { activationBackward, activationBackwardOuter, activationForward, mse, type Activation } from '../../gpu/kernels/elementwise.ts';
import { dphi, phi } from '../../reference/toyReference.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, rand32, rng, runDispatches, sentinelOutput, U, type CheckEnv } from '../harness.ts';

/** Absolute error allowed for the GPU's tanh (a few ulps of 1; SwiftShader's is well inside this). */
const TANH_ABS = 2 ** -20;
const SENTINEL = -777.25;

/** Awkward inputs first (zeros, signs, huge, tiny, GELU's cancellation zone), then random N-ish values. */
const SPECIAL = [0, -0, 1, -1, 1e-7, -1e-7, 0.5, -0.5, 3, -3, 5.5, -5.5, 9, -9, 20, -20, 50, -50, 100, -100, 1e4, -1e4, 3e10, -3e10];

export function activationInputs(count: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = Float32Array.from({ length: count }, () => 6 * (r() + r() + r() - 1.5));
  x.set(SPECIAL.slice(0, count));
  return x;
}

/** Size of phi(x)'s intermediates: what the rounding and tanh's absolute error are relative to. */
function forwardScale(act: Activation, x: number, y: number): number {
  return Math.abs(y) + (act === 'gelu' ? 1 + Math.abs(x) : 1);
}

/**
 * Sensitivity of phi'(x) to the same errors: 1 - t^2 turns tanh's absolute error into about 2x that,
 * and GELU' multiplies it by 0.5 x C (1 + 3k x^2) ~ 0.1 |x|^3. Past |x| = 10, tanh(C(x + k x^3))
 * is 1 to within 1e-29, so (1 - t^2) is exactly 0 for any tanh that rounds to nearest-ish.
 */
function backwardScale(act: Activation, x: number): number {
  const a = Math.min(Math.abs(x), 10);
  return act === 'gelu' ? 2 + a + 0.1 * a * a * a : 3;
}

/** got against want within scale * (8u + TANH_ABS) per element (bit for bit for ReLU), and the guard tail. */
function judge(act: Activation, what: string, got: Float32Array, want: ArrayLike<number>, scale: ArrayLike<number>): CheckResult {
  const n = want.length;
  const cmp = new Compare();
  if (act === 'relu') cmp.exact(what, got.subarray(0, n), Array.from(want, Math.fround));
  else cmp.bounded(what, got.subarray(0, n), want, Array.from(scale, (s) => s * (8 * U + TANH_ABS)), 8 * U + TANH_ABS);
  return cmp.untouched(what, got, SENTINEL, n).result();
}

export type ActivationEntry = 'forward' | 'backward' | 'backward_outer';

/**
 * One entry point of activation.wgsl for one activation: forward y = phi(x) and backward dx = dy phi'(x)
 * over `count` elements; backward_outer dx[i,j] = g[i] w[j] phi'(x[i,j]) over rows x cols (count = rows *
 * cols), with row 1 given a zero residual (its gradient row must be exactly zero).
 */
export async function checkActivation(env: CheckEnv, act: Activation, entry: ActivationEntry, shape: { count: number; cols?: number }, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const { count } = shape;
  const up = (data: Float32Array) => arena.storage('input', data);
  const out = sentinelOutput(arena, count, SENTINEL);
  const x = activationInputs(count, seed);
  const what = `${act} ${entry} ${shape.cols ? `${count / shape.cols}x${shape.cols}` : count}`;
  if (entry === 'forward') {
    await runDispatches(arena.device, activationForward(arena, act, count, up(x), out), what);
    const want = Array.from(x, (v) => phi(act, v));
    return judge(act, what, await env.read(out, count + GUARD), want, Array.from(x, (v, i) => forwardScale(act, v, want[i])));
  }
  if (entry === 'backward') {
    const dy = rand32(count, seed + 40);
    await runDispatches(arena.device, activationBackward(arena, act, count, up(x), up(dy), out), what);
    const want = Array.from(x, (v, i) => dy[i] * dphi(act, v));
    return judge(act, what, await env.read(out, count + GUARD), want, Array.from(x, (v, i) => Math.abs(dy[i]) * backwardScale(act, v)));
  }
  const cols = shape.cols ?? count;
  const rows = count / cols;
  const r = rng(seed + 80);
  const g = Float32Array.from({ length: rows }, () => 2 * r() - 1);
  const w = Float32Array.from({ length: cols }, () => 2 * r() - 1);
  if (rows > 1) g[1] = 0; // a row with a zero residual must produce an all-zero row
  await runDispatches(arena.device, activationBackwardOuter(arena, act, rows, cols, up(x), up(g), up(w), out), what);
  const got = await env.read(out, count + GUARD);
  const want = Array.from(x, (v, i) => g[Math.floor(i / cols)] * w[i % cols] * dphi(act, v));
  const scale = Array.from(x, (v, i) => Math.abs(g[Math.floor(i / cols)] * w[i % cols]) * (1 + backwardScale(act, v)));
  const result = judge(act, what, got, want, scale);
  if (rows < 2 || !result.pass) return result;
  return new Compare().include(what, result).exact('zero-residual row', Array.from(got.subarray(cols, 2 * cols), Math.abs), new Array(cols).fill(0)).result();
}

/** loss.wgsl's mse over m rows: residual and gradient bit for bit, the gradient within 3u of (y - t)/m. */
export async function checkMse(env: CheckEnv, m: number, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const r = rng(seed);
  const y = Float32Array.from({ length: m }, () => 4 * r() - 2);
  const t = Float32Array.from({ length: m }, () => 4 * r() - 2);
  if (m > 2) t[1] = y[1]; // a zero residual
  const residual = sentinelOutput(arena, m, SENTINEL, undefined, 'residual');
  const grad = sentinelOutput(arena, m, SENTINEL, undefined, 'grad');
  await runDispatches(arena.device, mse(arena, m, arena.storage('y', y), arena.storage('t', t), residual, grad), `mse m=${m}`);
  const gotR = await env.read(residual, m + GUARD);
  const gotG = await env.read(grad, m + GUARD);
  const invM = Math.fround(1 / m);
  const res = Array.from(y, (v, i) => Math.fround(v - t[i]));
  const exact = Array.from(y, (v, i) => (v - t[i]) / m);
  return new Compare()
    .exact('residual', gotR.subarray(0, m), res)
    .exact('grad', gotG.subarray(0, m), res.map((v) => Math.fround(v * invM)))
    .bounded('grad vs (y - t)/m', gotG.subarray(0, m), exact, exact.map((v) => 3 * U * Math.abs(v)), 3 * U)
    .untouched('residual', gotR, SENTINEL, m)
    .untouched('grad', gotG, SENTINEL, m)
    .result();
}
