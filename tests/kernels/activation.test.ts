// shaders/activation.wgsl through src/gpu/kernels/elementwise.ts on the Node device, against float64.
//
// Tolerance. Each output is a handful of fp32 operations on one exactly representable input, plus
// one WGSL tanh. WGSL only promises tanh to an absolute error (it is specified via sinh/cosh), so
// the bound is absolute-plus-relative per element: (8 * 2^-24 + TANH_ABS) * scale, where scale is the
// size of the intermediates that carry rounding and tanh's absolute error (see forwardScale and
// backwardScale below). ReLU involves no rounding at all: compared bit for bit.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from './harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { activationBackward, activationBackwardOuter, activationForward, type Activation } from '../../src/gpu/kernels/elementwise.ts';
import { dphi, phi } from '../reference/toyReference.ts';

/** Absolute error allowed for the GPU's tanh (a few ulps of 1; SwiftShader's is well inside this). */
const TANH_ABS = 2 ** -20;
const SENTINEL = -777.25;

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});


/** Awkward inputs first (zeros, signs, huge, tiny, GELU's cancellation zone), then random N-ish values. */
const SPECIAL = [0, -0, 1, -1, 1e-7, -1e-7, 0.5, -0.5, 3, -3, 5.5, -5.5, 9, -9, 20, -20, 50, -50, 100, -100, 1e4, -1e4, 3e10, -3e10];

function inputs(count: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = Float32Array.from({ length: count }, () => 6 * (r() + r() + r() - 1.5));
  x.set(SPECIAL.slice(0, count));
  return x;
}

function upload(data: Float32Array): GPUBuffer {
  return arena.storage('input', data);
}

function output(count: number): GPUBuffer {
  return upload(new Float32Array(count + 64).fill(SENTINEL));
}

const run = (d: Dispatch, what: string) => runDispatches(device, d, what);

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

/** Compares got[i] against want[i] within scale[i] * (8u + TANH_ABS) (exact for ReLU); checks the guard tail. */
function expectClose(act: Activation, got: Float32Array, want: ArrayLike<number>, scale: ArrayLike<number>, what: string): void {
  let bad = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    const tol = act === 'relu' ? 0 : scale[i] * (8 * U + TANH_ABS);
    const ok = act === 'relu' ? got[i] === Math.fround(want[i]) : Math.abs(got[i] - want[i]) <= tol;
    if (!ok || !Number.isFinite(got[i])) {
      if (!bad) first = `element ${i}: got ${got[i]}, want ${want[i]} +- ${tol}`;
      bad++;
    }
  }
  for (let i = want.length; i < got.length; i++) if (got[i] !== SENTINEL && !bad++) first = `wrote past the end at ${i}`;
  expect(bad, `${what}: ${bad} bad; first: ${first}`).toBe(0);
}

const ACTS: Activation[] = ['relu', 'tanh', 'gelu'];
const COUNTS = [1, 3, 24, 257, 1000];

describe('activation forward', () => {
  for (const act of ACTS) {
    it(`${act}: y = phi(x) for counts ${COUNTS.join(', ')}`, async () => {
      for (const count of COUNTS) {
        const x = inputs(count, count);
        const y = output(count);
        await run(activationForward(arena, act, count, upload(x), y), `${act} forward ${count}`);
        const got = await readFloats(device, y, count + 64);
        const want = Array.from(x, (v) => phi(act, v));
        const scale = Array.from(x, (v, i) => forwardScale(act, v, want[i]));
        expectClose(act, got, want, scale, `${act} forward count=${count}`);
      }
    });
  }

  it('exact values: ReLU(-0) and GELU(0) are zero, tanh saturates to +-1 without NaN', async () => {
    const x = Float32Array.from([0, -0, -1e-30, 1e-30, 60, -60, 1e4, -1e4]);
    const got: Record<string, Float32Array> = {};
    for (const act of ACTS) {
      const y = output(x.length);
      await run(activationForward(arena, act, x.length, upload(x), y), `${act} exact`);
      got[act] = await readFloats(device, y, x.length);
    }
    expect(Math.abs(got.relu[0])).toBe(0);
    expect(Math.abs(got.relu[1])).toBe(0);
    expect(got.relu[2]).toBe(0);
    expect(Array.from(got.tanh.subarray(4))).toEqual([1, -1, 1, -1]);
    expect(got.gelu[0]).toBe(0);
    expect(got.gelu[4]).toBe(60);
    expect(got.gelu[6]).toBe(1e4);
    expect(Math.abs(got.gelu[5])).toBeLessThan(1e-5);
    expect(Math.abs(got.gelu[7])).toBeLessThan(1e-3);
  });
});

describe('activation backward', () => {
  for (const act of ACTS) {
    it(`${act}: dx = dy * phi'(x), counts ${COUNTS.join(', ')}`, async () => {
      for (const count of COUNTS) {
        const x = inputs(count, 50 + count);
        const r = rng(90 + count);
        const dy = Float32Array.from({ length: count }, () => 2 * r() - 1);
        const dx = output(count);
        await run(activationBackward(arena, act, count, upload(x), upload(dy), dx), `${act} backward ${count}`);
        const got = await readFloats(device, dx, count + 64);
        const want = Array.from(x, (v, i) => dy[i] * dphi(act, v));
        const scale = Array.from(x, (v, i) => Math.abs(dy[i]) * backwardScale(act, v));
        expectClose(act, got, want, scale, `${act} backward count=${count}`);
      }
    });
  }

  it("phi'(0): ReLU gives 0 (PyTorch's convention), tanh 1, GELU 1/2", async () => {
    const x = Float32Array.from([0, -0, 1e-30, -1e-30]);
    const dy = Float32Array.from([1, 1, 1, 1]);
    const want: Record<Activation, number[]> = { relu: [0, 0, 1, 0], tanh: [1, 1, 1, 1], gelu: [0.5, 0.5, 0.5, 0.5] };
    for (const act of ACTS) {
      const dx = output(4);
      await run(activationBackward(arena, act, 4, upload(x), upload(dy), dx), `${act} backward at 0`);
      const got = Array.from(await readFloats(device, dx, 4));
      for (let i = 0; i < 4; i++) expect(Math.abs(got[i] - want[act][i]), `${act}'(${x[i]})`).toBeLessThanOrEqual(act === 'relu' ? 0 : 1e-6);
    }
  });
});

describe('activation backward_outer (gradient through the 1-output head)', () => {
  const SHAPES: Array<[number, number]> = [
    [1, 1],
    [1, 17],
    [3, 1],
    [3, 17],
    [17, 65],
    [4, 130],
  ];
  for (const act of ACTS) {
    it(`${act}: dx[i,j] = g[i] * w[j] * phi'(x[i,j])`, async () => {
      for (const [rows, cols] of SHAPES) {
        const count = rows * cols;
        const x = inputs(count, 7 * count + rows);
        const r = rng(count + 5);
        const g = Float32Array.from({ length: rows }, () => 2 * r() - 1);
        const w = Float32Array.from({ length: cols }, () => 2 * r() - 1);
        if (rows > 1) g[1] = 0; // a row with a zero residual must produce an all-zero row
        const dx = output(count);
        await run(activationBackwardOuter(arena, act, rows, cols, upload(x), upload(g), upload(w), dx), `${act} outer ${rows}x${cols}`);
        const got = await readFloats(device, dx, count + 64);
        const want = Array.from(x, (v, i) => g[Math.floor(i / cols)] * w[i % cols] * dphi(act, v));
        const scale = Array.from(x, (v, i) => Math.abs(g[Math.floor(i / cols)] * w[i % cols]) * (1 + backwardScale(act, v)));
        expectClose(act, got, want, scale, `${act} outer ${rows}x${cols}`);
        if (rows > 1) for (let j = 0; j < cols; j++) expect(Math.abs(got[cols + j])).toBe(0);
      }
    });
  }
});
