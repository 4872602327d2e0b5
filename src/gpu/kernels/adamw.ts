import code from '../../../shaders/adamw.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';
import { STATE_WGSL } from './trainState.ts';

export const adamwShader = { name: 'adamw', code: `${code}\n${STATE_WGSL}` };

export interface AdamHyper {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * One AdamW update of `theta` (count floats) from `grad`; allocates this tensor's m and v (zeroed).
 * `scheduled`: lr times the state's schedule factor; `clipped`: grad times the state's clipping scale.
 */
export function adamw(arena: GpuArena, spec: { theta: GPUBuffer; grad: GPUBuffer; count: number; state: GPUBuffer; hyper: AdamHyper; label: string; scheduled?: boolean; clipped?: boolean }): { dispatch: Dispatch; m: GPUBuffer; v: GPUBuffer } {
  const m = arena.storage(`${spec.label}.adam_m`, spec.count);
  const v = arena.storage(`${spec.label}.adam_v`, spec.count);
  const h = spec.hyper;
  const params = arena.uniform(`${spec.label}.adam`, [
    ['u32', spec.count], ['u32', 0], ['u32', 0], ['u32', 0],
    ['f32', h.lr], ['f32', h.weightDecay], ['f32', h.beta1], ['f32', h.beta2],
    ['f32', h.eps], ['f32', 0], ['f32', 0], ['f32', 0],
  ]);
  const pipe = pipeline(arena.device, adamwShader, 'step', { SCHEDULED: !!spec.scheduled, CLIPPED: !!spec.clipped });
  return {
    m,
    v,
    dispatch: { label: 'adamw', pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, `${spec.label}.adamw`, [params, spec.theta, spec.grad, m, v, spec.state]), workgroups: grid1d(Math.ceil(spec.count / 256)) },
  };
}

/**
 * AdamW on R runs stacked in one tensor (run b owns elements [b*count, (b+1)*count)), each with its own
 * (lr, weight decay) in `hyper` (R x vec2); runs whose `alive` flag is 0 are left untouched. The caller
 * owns the moments m and v (zeroed, R x count each).
 */
export function adamwRuns(
  arena: GpuArena,
  spec: { theta: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer; hyper: GPUBuffer; alive: GPUBuffer; state: GPUBuffer; count: number; runs: number; beta1: number; beta2: number; eps: number; label: string },
): Dispatch {
  const pipe = pipeline(arena.device, adamwShader, 'step_runs');
  const u = arena.uniform(`${spec.label}.adam`, [['u32', spec.count], ['u32', spec.runs], ['u32', 0], ['u32', 0], ['f32', spec.beta1], ['f32', spec.beta2], ['f32', spec.eps], ['f32', 0]]);
  return {
    label: 'adamw.runs',
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, spec.label, [u, spec.theta, spec.grad, spec.m, spec.v, spec.state, spec.hyper, spec.alive]),
    workgroups: grid1d(Math.ceil((spec.runs * spec.count) / 256)),
  };
}
