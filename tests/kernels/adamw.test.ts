// shaders/adamw.wgsl through src/gpu/kernels/adamw.ts on the Node device: two steps against the AdamW
// formulas of docs/lora-math.md section 3, weight decay on and off, several tensor sizes.
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
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from './harness.ts';
import { readFloats, writeFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { adamw, type AdamHyper } from '../../src/gpu/kernels/adamw.ts';
import { advanceStep, createTrainState } from '../../src/gpu/kernels/trainState.ts';
import { adamwStep } from '../reference/toyReference.ts';

const f32 = Math.fround;

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});


/** Gradients spanning many magnitudes (Adam is scale-free), with exact zeros sprinkled in. */
function grads(count: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, (_, i) => (i % 7 === 3 ? 0 : (2 * r() - 1) * 10 ** (-6 + 7 * r())));
}

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

async function readState(state: GPUBuffer): Promise<{ step: number; bc1: number; bc2: number }> {
  const f = await readFloats(device, state, 8);
  return { step: new Uint32Array(f.buffer)[0], bc1: f[4], bc2: f[5] };
}

interface Snapshot {
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** Level 1: one GPU step against the formulas from the GPU's previous state. */
function checkStep(prev: Snapshot, g: Float32Array, next: Snapshot, h: AdamHyper, bc1: number, bc2: number, what: string): void {
  const lr = f32(h.lr), wd = f32(h.weightDecay), b1 = f32(h.beta1), b2 = f32(h.beta2), eps = f32(h.eps);
  let bad = 0;
  let first = '';
  for (let i = 0; i < g.length; i++) {
    const mTerms = Math.abs(b1 * prev.m[i]) + Math.abs((1 - b1) * g[i]);
    const vTerms = b2 * prev.v[i] + (1 - b2) * g[i] * g[i];
    const m = b1 * prev.m[i] + (1 - b1) * g[i];
    const v = b2 * prev.v[i] + (1 - b2) * g[i] * g[i];
    const vHat = v / bc2;
    const denom = Math.sqrt(vHat) + eps;
    const theta = prev.theta[i] * (1 - lr * wd) - (lr * (m / bc1)) / denom;
    const thetaTol = 4 * U * (Math.abs(prev.theta[i]) + Math.abs(theta)) + (16 * U * lr * (mTerms / bc1)) / denom;
    const errs: Array<[string, number, number, number]> = [
      ['m', next.m[i], m, 3 * U * mTerms],
      ['v', next.v[i], v, 3 * U * vTerms],
      ['theta', next.theta[i], theta, thetaTol],
    ];
    for (const [name, got, want, tol] of errs) {
      if (!(Math.abs(got - want) <= tol)) {
        if (!bad) first = `${name}[${i}]: got ${got}, want ${want} +- ${tol} (g=${g[i]})`;
        bad++;
      }
    }
  }
  expect(bad, `${what}: ${bad} bad; first: ${first}`).toBe(0);
}

describe('AdamW kernel', () => {
  const HYPERS: Array<[string, AdamHyper]> = [
    ['no weight decay', { lr: 1e-2, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    ['weight decay 0.1', { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    ['large eps, other betas', { lr: 0.5, weightDecay: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-3 }],
  ];
  for (const [name, h] of HYPERS) {
    for (const count of [1, 3, 257, 1000]) {
      it(`two steps, ${name}, ${count} entries`, async () => {
        const r = rng(count);
        const theta0 = Float32Array.from({ length: count }, () => 2 * r() - 1);
        const g1 = grads(count, count + 1);
        const g2 = grads(count, count + 2);
        if (count > 1) g2[1] = 0; // zero gradient at step 2 after a nonzero one: the moments still move theta
        const state = createTrainState(arena, 2, 4);
        const metrics = arena.storage('metrics', 8);
        const theta = arena.storage('theta', theta0);
        const grad = arena.storage('grad', g1);
        const opt = adamw(arena, { theta, grad, count, state, hyper: h, label: 'p' });
        const advance = advanceStep(arena, state, metrics, h.beta1, h.beta2);
        const snap = async (): Promise<Snapshot> => ({
          theta: await readFloats(device, theta, count),
          m: await readFloats(device, opt.m, count),
          v: await readFloats(device, opt.v, count),
        });

        const s0 = await snap();
        expect(Array.from(s0.m)).toEqual(new Array(count).fill(0)); // moments start at zero
        expect(Array.from(s0.v)).toEqual(new Array(count).fill(0));
        await run([advance, opt.dispatch], 'adamw step 1');
        const st1 = await readState(state);
        expect(st1.step).toBe(1);
        const s1 = await snap();
        checkStep(s0, g1, s1, h, st1.bc1, st1.bc2, `${name}, step 1`);

        writeFloats(device, grad, g2);
        await run([advance, opt.dispatch], 'adamw step 2');
        const st2 = await readState(state);
        expect(st2.step).toBe(2);
        const s2 = await snap();
        checkStep(s1, g2, s2, h, st2.bc1, st2.bc2, `${name}, step 2`);

        // Level 2: the float64 reference from the start, exact betas.
        const ref = Float64Array.from(theta0);
        const m = new Float64Array(count), v = new Float64Array(count);
        adamwStep(ref, g1, m, v, 1, h);
        adamwStep(ref, g2, m, v, 2, h);
        for (let i = 0; i < count; i++) expect(Math.abs(s2.theta[i] - ref[i]), `theta[${i}]`).toBeLessThanOrEqual(1e-5 * h.lr + 4 * U * Math.abs(ref[i]));

        // Step 1's sharp property: theta moved by lr * |g| / (|g| + eps) after decay, exactly for g = 0.
        for (let i = 0; i < count; i++) {
          const decayed = theta0[i] * (1 - f32(h.lr) * f32(h.weightDecay));
          const a = Math.abs(g1[i]);
          const move = (f32(h.lr) * a) / (a + f32(h.eps));
          if (g1[i] === 0 && h.weightDecay === 0) expect(s1.theta[i]).toBe(theta0[i]);
          expect(Math.abs(Math.abs(s1.theta[i] - decayed) - move)).toBeLessThanOrEqual(8 * U * (Math.abs(theta0[i]) + h.lr));
          if (g1[i] !== 0) expect(Math.sign(s1.theta[i] - decayed)).toBe(-Math.sign(g1[i]));
        }
      });
    }
  }

  it('LoRA+ groups: two tensors on one state move by their own rates (eta and lambda * eta)', async () => {
    const count = 65;
    const eta = 1e-3;
    const lambda = 16;
    const state = createTrainState(arena, 1, 1);
    const metrics = arena.storage('metrics', 4);
    const common = { weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const aTheta = Float32Array.from({ length: count }, (_, i) => Math.sin(i));
    const bTheta = new Float32Array(count);
    const gA = grads(count, 1), gB = grads(count, 2);
    const A = arena.storage('A', aTheta), B = arena.storage('B', bTheta);
    const optA = adamw(arena, { theta: A, grad: arena.storage('gA', gA), count, state, hyper: { lr: eta, ...common }, label: 'A' });
    const optB = adamw(arena, { theta: B, grad: arena.storage('gB', gB), count, state, hyper: { lr: lambda * eta, ...common }, label: 'B' });
    await run([advanceStep(arena, state, metrics, 0.9, 0.999), optA.dispatch, optB.dispatch], 'lora+ step');
    const a1 = await readFloats(device, A, count), b1 = await readFloats(device, B, count);
    for (let i = 0; i < count; i++) {
      const ga = Math.abs(gA[i]), gb = Math.abs(gB[i]);
      expect(Math.abs(Math.abs(a1[i] - aTheta[i]) - (f32(eta) * ga) / (ga + f32(1e-8)))).toBeLessThanOrEqual(8 * U * (1 + eta));
      expect(Math.abs(Math.abs(b1[i]) - (f32(lambda * eta) * gb) / (gb + f32(1e-8)))).toBeLessThanOrEqual(8 * U * lambda * eta);
    }
  });
});
