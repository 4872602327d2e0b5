// shaders/loss.wgsl (MSE residual and gradient) through src/gpu/kernels/elementwise.ts on the Node device:
// residual and gradient bit for bit and within 3u of (y - t)/m (src/selfcheck/kernels/elementwise.ts, the
// self-check's own), and the loss that follows from the residual.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, rng, runDispatches, U, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { mse } from '../../src/gpu/kernels/elementwise.ts';
import { checkMse } from '../../src/selfcheck/kernels/elementwise.ts';

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

describe('MSE residual and gradient', () => {
  for (const m of [1, 3, 255, 256, 257, 1000]) {
    it(`m = ${m}: residual = y - t exactly, grad = residual / m, nothing written past m`, async () => {
      const r = await checkMse(env, m, m);
      expect(r.pass, r.detail).toBe(true);
    });
  }

  it('the loss follows from the residual: 1/(2m) sum r^2 matches float64', async () => {
    const m = 100;
    const r = rng(9);
    const y = Float32Array.from({ length: m }, () => r() * 10 - 5);
    const t = Float32Array.from({ length: m }, () => r() * 10 - 5);
    const residual = arena.storage('residual', m);
    await runDispatches(device, mse(arena, m, arena.storage('y', y), arena.storage('t', t), residual, arena.storage('grad', m)), 'mse');
    const got = await readFloats(device, residual, m);
    let gpuLoss = 0;
    let refLoss = 0;
    for (let i = 0; i < m; i++) {
      gpuLoss += got[i] ** 2;
      refLoss += (y[i] - t[i]) ** 2;
    }
    expect(Math.abs(gpuLoss / (2 * m) - refLoss / (2 * m))).toBeLessThanOrEqual(3 * U * (refLoss / (2 * m)));
  });
});
