// shaders/adamw.wgsl through src/gpu/kernels/adamw.ts on the Node device: two steps against the AdamW
// formulas of docs/lora-math.md section 3, weight decay on and off, several tensor sizes, and the stacked
// runs of a sweep batch (`step_runs`). The checks and their two-level tolerance are
// src/selfcheck/kernels/adamw.ts (the self-check's own).
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, runDispatches, U, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { adamw, type AdamHyper } from '../../src/gpu/kernels/adamw.ts';
import { advanceStep, createTrainState } from '../../src/gpu/kernels/trainState.ts';
import { adamGrads, checkAdamw, checkAdamwRuns } from '../../src/selfcheck/kernels/adamw.ts';

const f32 = Math.fround;

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

describe('AdamW kernel', () => {
  const HYPERS: Array<[string, AdamHyper]> = [
    ['no weight decay', { lr: 1e-2, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    ['weight decay 0.1', { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    ['large eps, other betas', { lr: 0.5, weightDecay: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-3 }],
  ];
  for (const [name, h] of HYPERS) {
    for (const count of [1, 3, 257, 1000]) {
      it(`two steps, ${name}, ${count} entries`, async () => {
        const r = await checkAdamw(env, h, count, count);
        expect(r.pass, r.detail).toBe(true);
      });
    }
  }

  it('step_runs: three runs with their own lr and weight decay in one tensor, a dead run untouched', async () => {
    const runs = [{ lr: 1e-2, weightDecay: 0 }, { lr: 0.3, weightDecay: 0.1 }, { lr: 3e-3, weightDecay: 0.01 }];
    for (const dead of [1, 2]) {
      const r = await checkAdamwRuns(env, runs, 65, dead, 40 + dead);
      expect(r.pass, r.detail).toBe(true);
    }
    const one = await checkAdamwRuns(env, [{ lr: 0.05, weightDecay: 0.02 }], 257, -1, 50, { beta1: 0.8, beta2: 0.95, eps: 1e-3 });
    expect(one.pass, one.detail).toBe(true);
  });

  it('LoRA+ groups: two tensors on one state move by their own rates (eta and lambda * eta)', async () => {
    const count = 65;
    const eta = 1e-3;
    const lambda = 16;
    const state = createTrainState(arena, 1, 1);
    const metrics = arena.storage('metrics', 4);
    const common = { weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const aTheta = Float32Array.from({ length: count }, (_, i) => Math.sin(i));
    const bTheta = new Float32Array(count);
    const gA = adamGrads(count, 1), gB = adamGrads(count, 2);
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
