import code from '../../../shaders/train_state.wgsl?raw';
import stateCode from '../../../shaders/state.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

/** The State struct (shaders/state.wgsl), appended to every module that reads the training state. */
export const STATE_WGSL = stateCode;

export const trainStateShader = { name: 'train_state', code: `${code}\n${STATE_WGSL}` };

/** Layout of the GPU training state (must match `struct State` in the shaders). */
export function createTrainState(arena: GpuArena, ring: number, stride: number): GPUBuffer {
  const words = new Uint32Array(8);
  const f = new Float32Array(words.buffer);
  words[0] = 0; // step: incremented at the start of each step, so the first step is 1
  words[1] = ring;
  words[2] = stride;
  f[4] = 0; // bc1 = 1 - beta1^t at t = 0
  f[5] = 0; // bc2 = 1 - beta2^t
  f[6] = 1; // lr_scale: written by every advance
  f[7] = 1; // clip: written by the clipping kernel when a trainer clips
  return arena.storage('train.state', words);
}

export const LR_SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** The learning-rate schedule `advance` evaluates on the GPU each step (train_state.wgsl). */
export interface ScheduleSpec {
  kind: LrSchedule;
  warmup: number;
  /** Total steps (the schedule's end). */
  total: number;
  /** Metrics field that receives each step's factor (0: not recorded). */
  lrField?: number;
}

/** True when the schedule's factor is 1 at every step (AdamW then needs no factor at all). */
export const isConstantSchedule = (s?: ScheduleSpec): boolean => !s || (s.kind === 'constant' && s.warmup === 0);

export function advanceStep(arena: GpuArena, state: GPUBuffer, metrics: GPUBuffer, beta1: number, beta2: number, schedule?: ScheduleSpec): Dispatch {
  const pipe = pipeline(arena.device, trainStateShader, 'advance');
  const params = arena.uniform('advance.params', [
    ['f32', beta1], ['f32', beta2], ['u32', 0], ['u32', schedule?.lrField ?? 0],
    ['u32', LR_SCHEDULES.indexOf(schedule?.kind ?? 'constant')], ['u32', schedule?.warmup ?? 0], ['u32', schedule?.total ?? 0], ['u32', 0],
  ]);
  return { label: 'train.advance', pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'train.advance', [params, state, metrics]), workgroups: [1, 1, 1] };
}

/** out (rows x cols) = src rows picked by this step's slice of `indices` (stepsStored x rows, cycled). */
export function gatherRows(arena: GpuArena, spec: { state: GPUBuffer; src: GPUBuffer; indices: GPUBuffer; out: GPUBuffer; rows: number; cols: number; stepsStored: number }): Dispatch {
  const pipe = pipeline(arena.device, trainStateShader, 'gather');
  const params = arena.uniform('gather.params', [['u32', spec.rows], ['u32', spec.cols], ['u32', spec.stepsStored], ['u32', 0]]);
  return {
    label: 'train.gather',
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, 'train.gather', [params, spec.state, spec.src, spec.indices, spec.out]),
    workgroups: grid1d(Math.ceil((spec.rows * spec.cols) / 256)),
  };
}
