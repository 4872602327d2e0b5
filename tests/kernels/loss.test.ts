// shaders/loss.wgsl (MSE residual and gradient) through src/gpu/kernels/elementwise.ts on the Node device.
//
// Tolerance. residual = y - t is one fp32 subtraction and grad = residual * fp32(1/m) one
// multiplication; WGSL requires both to be correctly rounded, so they are compared bit for bit with
// Math.fround of the same operations. Against the float64 meaning, (y - t)/m, that is within
// 3 * 2^-24 relative (the three roundings), also checked.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from './harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { mse } from '../../src/gpu/kernels/elementwise.ts';

const SENTINEL = 4242.5;

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});


const run = (d: Dispatch, what: string) => runDispatches(device, d, what);

async function runMse(y: Float32Array, t: Float32Array): Promise<{ residual: Float32Array; grad: Float32Array }> {
  const m = y.length;
  const residual = arena.storage('residual', new Float32Array(m + 64).fill(SENTINEL));
  const grad = arena.storage('grad', new Float32Array(m + 64).fill(SENTINEL));
  await run(mse(arena, m, arena.storage('y', y), arena.storage('t', t), residual, grad), `mse m=${m}`);
  return { residual: await readFloats(device, residual, m + 64), grad: await readFloats(device, grad, m + 64) };
}

describe('MSE residual and gradient', () => {
  for (const m of [1, 3, 255, 256, 257, 1000]) {
    it(`m = ${m}: residual = y - t exactly, grad = residual / m`, async () => {
      const r = rng(m);
      const y = Float32Array.from({ length: m }, () => 4 * r() - 2);
      const t = Float32Array.from({ length: m }, () => 4 * r() - 2);
      if (m > 2) t[1] = y[1]; // a zero residual
      const got = await runMse(y, t);
      const invM = Math.fround(1 / m);
      for (let i = 0; i < m; i++) {
        const res = Math.fround(y[i] - t[i]);
        expect(got.residual[i], `residual[${i}]`).toBe(res);
        expect(got.grad[i], `grad[${i}]`).toBe(Math.fround(res * invM));
        const exact = (y[i] - t[i]) / m;
        expect(Math.abs(got.grad[i] - exact)).toBeLessThanOrEqual(3 * U * Math.abs(exact));
      }
      if (m > 2) expect(Math.abs(got.grad[1])).toBe(0);
      // Nothing written past m (the dispatch rounds up to whole workgroups of 256).
      for (let i = m; i < m + 64; i++) {
        expect(got.residual[i]).toBe(SENTINEL);
        expect(got.grad[i]).toBe(SENTINEL);
      }
    });
  }

  it('the loss follows from the residual: 1/(2m) sum r^2 matches float64', async () => {
    const m = 100;
    const r = rng(9);
    const y = Float32Array.from({ length: m }, () => r() * 10 - 5);
    const t = Float32Array.from({ length: m }, () => r() * 10 - 5);
    const got = await runMse(y, t);
    let gpuLoss = 0;
    let refLoss = 0;
    for (let i = 0; i < m; i++) {
      gpuLoss += got.residual[i] ** 2;
      refLoss += (y[i] - t[i]) ** 2;
    }
    expect(Math.abs(gpuLoss / (2 * m) - refLoss / (2 * m))).toBeLessThanOrEqual(3 * U * (refLoss / (2 * m)));
  });
});
