import code from '../../../shaders/adamw.wgsl?raw';
import { storageBuffer, uniformBuffer } from '../buffers.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const adamwShader = { name: 'adamw', code };

export interface AdamHyper {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** One AdamW update of `theta` (count floats) from `grad`; allocates this tensor's m and v (zeroed). */
export function adamw(device: GPUDevice, spec: { theta: GPUBuffer; grad: GPUBuffer; count: number; state: GPUBuffer; hyper: AdamHyper; label: string }): { dispatch: Dispatch; m: GPUBuffer; v: GPUBuffer } {
  const m = storageBuffer(device, `${spec.label}.adam_m`, spec.count);
  const v = storageBuffer(device, `${spec.label}.adam_v`, spec.count);
  const h = spec.hyper;
  const params = uniformBuffer(device, `${spec.label}.adam`, [
    ['u32', spec.count], ['u32', 0], ['u32', 0], ['u32', 0],
    ['f32', h.lr], ['f32', h.weightDecay], ['f32', h.beta1], ['f32', h.beta2],
    ['f32', h.eps], ['f32', 0], ['f32', 0], ['f32', 0],
  ]);
  const pipe = pipeline(device, adamwShader, 'step');
  return {
    m,
    v,
    dispatch: { label: 'adamw', pipeline: pipe, bindGroup: bindBuffers(device, pipe, `${spec.label}.adamw`, [params, spec.theta, spec.grad, m, v, spec.state]), workgroups: grid1d(Math.ceil(spec.count / 256)) },
  };
}
