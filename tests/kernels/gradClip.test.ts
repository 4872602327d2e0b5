// The per-step values a GPT-2 step computes on the GPU, against float64 (the checks and their tolerances
// are the self-check's own: src/selfcheck/kernels/gradClip.ts, src/selfcheck/kernels/trainState.ts):
//   grad_clip.wgsl (with reduce.wgsl's per-tensor sums, TO_RING false): the global norm over tensors of
//     awkward sizes (1, 37, and 40 001, past the one-workgroup reduction), and over 150 tensors (more
//     than the 128-thread workgroup), state.clip = min(1, max / (norm + 1e-6)), the norm in the metrics slot;
//   train_state.wgsl advance: Hugging Face's schedules, at the edges (warmup longer than the run, one step).
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuArena } from '../../src/gpu/arena.ts';
import type { ScheduleSpec } from '../../src/gpu/kernels/trainState.ts';
import { testGpu } from '../gpu.ts';
import { checkEnv, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { checkGradClip } from '../../src/selfcheck/kernels/gradClip.ts';
import { checkSchedule } from '../../src/selfcheck/kernels/trainState.ts';

let env: CheckEnv;
beforeAll(async () => {
  env = checkEnv(new GpuArena((await testGpu()).device, 'grad-clip-test'));
});

describe('clipping by global norm (grad_clip.wgsl)', () => {
  for (const sizes of [[1, 37, 40_001], Array.from({ length: 150 }, (_, i) => 1 + ((i * 7) % 23))]) {
    for (const maxNorm of [0.01, 1e6]) {
      it(`${sizes.length} tensors, max norm ${maxNorm}: norm to the metrics slot, clip scale to the state`, async () => {
        const r = await checkGradClip(env, sizes, maxNorm, sizes.length);
        expect(r.pass, r.detail).toBe(true);
      });
    }
  }
});

describe('the learning-rate schedule in advance (train_state.wgsl)', () => {
  const cases: Array<Omit<ScheduleSpec, 'lrField'>> = [
    { kind: 'linear', warmup: 0, total: 7 },
    { kind: 'cosine', warmup: 3, total: 11 },
    { kind: 'constant', warmup: 4, total: 6 },
    { kind: 'linear', warmup: 9, total: 5 }, // warmup longer than the run
    { kind: 'cosine', warmup: 0, total: 1 },
  ];
  for (const s of cases) {
    it(`${s.kind}, warmup ${s.warmup}, ${s.total} steps: each step's factor in its metrics slot and the state`, async () => {
      const r = await checkSchedule(env, s);
      expect(r.pass, r.detail).toBe(true);
    });
  }
});
