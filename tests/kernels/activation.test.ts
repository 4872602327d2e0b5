// shaders/activation.wgsl through src/gpu/kernels/elementwise.ts on the Node device, against float64: the
// per-element checks and their tolerances are src/selfcheck/kernels/elementwise.ts (the self-check's own);
// the exact values at 0 and in saturation are pinned here.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, runDispatches, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { activationBackward, activationForward, type Activation } from '../../src/gpu/kernels/elementwise.ts';
import { checkActivation, type ActivationEntry } from '../../src/selfcheck/kernels/elementwise.ts';

const SENTINEL = -777.25;

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

function upload(data: Float32Array): GPUBuffer {
  return arena.storage('input', data);
}

function output(count: number): GPUBuffer {
  return upload(new Float32Array(count + 64).fill(SENTINEL));
}

const run = (d: Dispatch, what: string) => runDispatches(device, d, what);

async function check(act: Activation, entry: ActivationEntry, shape: { count: number; cols?: number }, seed: number): Promise<void> {
  const r = await checkActivation(env, act, entry, shape, seed);
  expect(r.pass, `${act} ${entry} ${JSON.stringify(shape)}: ${r.detail}`).toBe(true);
}

const ACTS: Activation[] = ['relu', 'tanh', 'gelu'];
const COUNTS = [1, 3, 24, 257, 1000];

describe('activation forward', () => {
  for (const act of ACTS) {
    it(`${act}: y = phi(x) for counts ${COUNTS.join(', ')}`, async () => {
      for (const count of COUNTS) await check(act, 'forward', { count }, count);
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
      for (const count of COUNTS) await check(act, 'backward', { count }, 50 + count);
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
    it(`${act}: dx[i,j] = g[i] * w[j] * phi'(x[i,j]), a zero residual giving a zero row`, async () => {
      for (const [rows, cols] of SHAPES) await check(act, 'backward_outer', { count: rows * cols, cols }, 7 * rows * cols + rows);
    });
  }
});
