// shaders/train_state.wgsl (advance, gather) through src/gpu/kernels/trainState.ts on the Node device. The
// step-by-step checks and their tolerances are src/selfcheck/kernels/trainState.ts (the self-check's own).
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, runDispatches, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { checkAdvance, checkGather } from '../../src/selfcheck/kernels/trainState.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { advanceStep, createTrainState } from '../../src/gpu/kernels/trainState.ts';

const SENTINEL = -31.5;

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
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
    const r = await checkAdvance(env, 3, 5, 7);
    expect(r.pass, r.detail).toBe(true);
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
      const r = await checkGather(env, N, rows, cols, stepsStored);
      expect(r.pass, r.detail).toBe(true);
    });
  }
});
