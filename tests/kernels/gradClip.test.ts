// The per-step values a GPT-2 step computes on the GPU, against float64:
//   grad_clip.wgsl (with reduce.wgsl's per-tensor sums, TO_RING false): the global norm over tensors of
//     awkward sizes (1, 37, and 40 001, past the one-workgroup reduction), and over 150 tensors (more
//     than the 128-thread workgroup), state.clip = min(1, max / (norm + 1e-6)), the norm in the metrics slot;
//   train_state.wgsl advance: Hugging Face's schedules, at the edges (warmup longer than the run, one step).
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuArena } from '../../src/gpu/arena.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { clipByGlobalNorm } from '../../src/gpu/kernels/gradClip.ts';
import { advanceStep, createTrainState, type ScheduleSpec } from '../../src/gpu/kernels/trainState.ts';
import { testGpu } from '../gpu.ts';
import { hfLrFactor } from '../../src/reference/gpt2Reference.ts';
import { rng, runDispatches } from '../../src/selfcheck/harness.ts';

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'grad-clip-test');
});

describe('clipping by global norm (grad_clip.wgsl)', () => {
  for (const sizes of [[1, 37, 40_001], Array.from({ length: 150 }, (_, i) => 1 + ((i * 7) % 23))]) {
    for (const maxNorm of [0.01, 1e6]) {
      it(`${sizes.length} tensors, max norm ${maxNorm}: norm to the metrics slot, clip scale to the state`, async () => {
        const r = rng(sizes.length);
        const data = sizes.map((n) => Float32Array.from({ length: n }, () => 2 * r() - 1));
        const ring = 3, stride = 4, field = 2;
        const state = createTrainState(arena, ring, stride);
        const metrics = arena.storage('metrics', ring * stride);
        const grads = data.map((d) => ({ grad: arena.storage('grad', d), count: d.length }));
        // Two steps: the norm lands in step 2's slot.
        const advance = advanceStep(arena, state, metrics, 0.9, 0.999);
        const clip = clipByGlobalNorm(arena, { grads, maxNorm, state, metrics, field });
        await runDispatches(device, [advance, ...clip, advance, ...clip], 'clip');
        let sq = 0;
        for (const d of data) for (const v of d) sq += v * v;
        const norm = Math.sqrt(sq);
        const m = await readFloats(device, metrics, ring * stride);
        expect(Math.abs(m[stride + field] - norm) / norm).toBeLessThan(1e-6);
        const clipScale = (await readFloats(device, state, 8))[7];
        const want = Math.min(1, maxNorm / (norm + 1e-6));
        expect(Math.abs(clipScale - want) / want).toBeLessThan(1e-6);
      });
    }
  }
});

describe('the learning-rate schedule in advance (train_state.wgsl)', () => {
  const cases: ScheduleSpec[] = [
    { kind: 'linear', warmup: 0, total: 7 },
    { kind: 'cosine', warmup: 3, total: 11 },
    { kind: 'constant', warmup: 4, total: 6 },
    { kind: 'linear', warmup: 9, total: 5 }, // warmup longer than the run
    { kind: 'cosine', warmup: 0, total: 1 },
  ];
  for (const s of cases) {
    it(`${s.kind}, warmup ${s.warmup}, ${s.total} steps: each step's factor in its metrics slot and the state`, async () => {
      const ring = 16, stride = 2;
      const state = createTrainState(arena, ring, stride);
      const metrics = arena.storage('metrics', ring * stride);
      const advance = advanceStep(arena, state, metrics, 0.9, 0.999, { ...s, lrField: 1 });
      await runDispatches(device, Array.from({ length: s.total }, () => advance), 'advance');
      const m = await readFloats(device, metrics, ring * stride);
      for (let t = 0; t < s.total; t++) {
        const want = hfLrFactor({ schedule: s.kind, warmup: s.warmup, steps: s.total }, t);
        expect(Math.abs(m[t * stride + 1] - want), `step ${t + 1}`).toBeLessThan(1e-6);
      }
      expect((await readFloats(device, state, 8))[6]).toBe(m[(s.total - 1) * stride + 1]);
    });
  }
});
