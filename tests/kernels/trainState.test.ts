// shaders/train_state.wgsl (advance, gather) through src/gpu/kernels/trainState.ts on the Node device.
//
// Tolerance. Everything here is exact (counters, copies, NaN fills) except Adam's running powers
// beta^t, an fp32 product of t factors: within (t + 1) * 2^-24 relative of the float64 power of the
// fp32-rounded beta (one rounding per multiply plus the rounding of beta itself).
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { runDispatches, U } from './harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { advanceStep, createTrainState, gatherRows } from '../../src/gpu/kernels/trainState.ts';

const SENTINEL = -31.5;

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

async function readState(state: GPUBuffer): Promise<{ step: number; ring: number; stride: number; bc1: number; bc2: number }> {
  const f = await readFloats(device, state, 8);
  const u = new Uint32Array(f.buffer);
  return { step: u[0], ring: u[1], stride: u[2], bc1: f[4], bc2: f[5] };
}

describe('train state: createTrainState + advanceStep', () => {
  it('starts at step 0 with beta powers 1', async () => {
    const state = createTrainState(arena, 4, 3);
    expect(await readState(state)).toEqual({ step: 0, ring: 4, stride: 3, bc1: 0, bc2: 0 });
  });

  it('each advance increments the step, multiplies the beta powers, and resets its metrics slot', async () => {
    const ring = 3;
    const stride = 5;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const state = createTrainState(arena, ring, stride);
    const metrics = arena.storage('metrics', new Float32Array(ring * stride + 8).fill(SENTINEL));
    const advance = advanceStep(arena, state, metrics, beta1, beta2);
    let expected = new Float32Array(ring * stride + 8).fill(SENTINEL);
    for (let t = 1; t <= 7; t++) {
      await run([advance], `advance ${t}`);
      const s = await readState(state);
      expect(s.step).toBe(t);
      expect(s.ring).toBe(ring);
      expect(s.stride).toBe(stride);
      // c_t = 1 - beta^t, accumulated in f32 by c_t = (1 - beta) + beta c_{t-1}: a few ulps per step.
      const c1 = 1 - Math.fround(beta1) ** t;
      const c2 = 1 - Math.fround(beta2) ** t;
      expect(Math.abs(s.bc1 - c1)).toBeLessThanOrEqual(3 * (t + 1) * U * c1);
      expect(Math.abs(s.bc2 - c2)).toBeLessThanOrEqual(3 * (t + 1) * U * c2);

      // Slot (t - 1) % ring now holds [t, NaN, NaN, ...]; every other slot and the tail are as before.
      const slot = ((t - 1) % ring) * stride;
      expected = expected.slice();
      expected[slot] = t;
      for (let f = 1; f < stride; f++) expected[slot + f] = NaN;
      const got = await readFloats(device, metrics, ring * stride + 8);
      for (let i = 0; i < got.length; i++) {
        if (Number.isNaN(expected[i])) expect(got[i], `metrics[${i}] after step ${t}`).toBeNaN();
        else expect(got[i], `metrics[${i}] after step ${t}`).toBe(expected[i]);
      }
      // Simulate this step's kernels filling a field, so the next wrap-around must clear it again.
      const filled = Float32Array.of(100 + t);
      device.queue.writeBuffer(metrics, (slot + 2) * 4, filled);
      expected[slot + 2] = 100 + t;
    }
  });

  it('a one-field slot (stride 1) and a one-slot ring keep only the step number', async () => {
    const state = createTrainState(arena, 1, 1);
    const metrics = arena.storage('metrics', new Float32Array(8).fill(SENTINEL));
    const advance = advanceStep(arena, state, metrics, 0.5, 0.25);
    await run([advance, advance, advance], 'advance x3');
    const s = await readState(state);
    expect(s.step).toBe(3);
    expect(s.bc1).toBe(1 - 0.125);
    expect(s.bc2).toBe(1 - 0.25 ** 3);
    const got = await readFloats(device, metrics, 8);
    expect(Array.from(got)).toEqual([3, ...new Array(7).fill(SENTINEL)]);
  });
});

describe('train state: gatherRows', () => {
  const CASES: Array<[number, number, number, number]> = [
    // [N (source rows), rows per batch, cols, steps stored]
    [5, 1, 1, 3],
    [10, 3, 17, 2],
    [40, 17, 1, 3],
    [700, 300, 3, 2],
  ];
  for (const [N, rows, cols, stepsStored] of CASES) {
    it(`picks this step's rows: N=${N}, rows=${rows}, cols=${cols}, ${stepsStored} batches stored (cycled)`, async () => {
      const src = Float32Array.from({ length: N * cols }, (_, i) => i + 0.25);
      const indices = new Uint32Array(stepsStored * rows);
      for (let i = 0; i < indices.length; i++) indices[i] = (i * 7919 + 3) % N;
      indices[0] = N - 1; // the last row
      if (rows > 1) indices[1] = indices[0]; // a repeated row
      const state = createTrainState(arena, 2, 1);
      const metrics = arena.storage('metrics', 2);
      const out = arena.storage('out', new Float32Array(rows * cols + 64).fill(SENTINEL));
      const advance = advanceStep(arena, state, metrics, 0.9, 0.999);
      const gather = gatherRows(arena, {
        state, src: arena.storage('src', src), indices: arena.storage('indices', indices), out, rows, cols, stepsStored,
      });
      for (let t = 1; t <= stepsStored + 1; t++) {
        await run([advance, gather], `gather step ${t}`);
        const got = await readFloats(device, out, rows * cols + 64);
        const batch = (t - 1) % stepsStored;
        for (let r = 0; r < rows; r++) {
          const from = indices[batch * rows + r];
          for (let c = 0; c < cols; c++) expect(got[r * cols + c], `step ${t} out[${r},${c}]`).toBe(src[from * cols + c]);
        }
        for (let i = rows * cols; i < got.length; i++) expect(got[i]).toBe(SENTINEL);
      }
    });
  }
});
