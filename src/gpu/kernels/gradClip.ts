import code from '../../../shaders/grad_clip.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, pipeline, type Dispatch } from '../pipelines.ts';
import { reduceToBuffer } from './reduce.ts';
import { STATE_WGSL } from './trainState.ts';

export const gradClipShader = { name: 'grad_clip', code: `${code}\n${STATE_WGSL}` };

/**
 * Clipping by global norm over `grads` (each `count` floats): every tensor's sum of squares, then one
 * kernel that adds them in order, writes the norm to metrics field `field` and state.clip = min(1,
 * maxNorm / (norm + 1e-6)) for AdamW (CLIPPED) to scale the gradients by. Nothing is read back.
 */
export function clipByGlobalNorm(arena: GpuArena, spec: { grads: ReadonlyArray<{ grad: GPUBuffer; count: number }>; maxNorm: number; state: GPUBuffer; metrics: GPUBuffer; field: number }): Dispatch[] {
  if (!(spec.maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be positive, got ${spec.maxNorm}`);
  const sums = arena.storage('clip.sums', spec.grads.length);
  const d: Dispatch[] = spec.grads.flatMap((g, k) => reduceToBuffer(arena, { x: g.grad, count: g.count, scale: 1, label: 'clip.sumsq', out: sums, index: k, state: spec.state }));
  const pipe = pipeline(arena.device, gradClipShader, 'global_norm');
  const params = arena.uniform('clip.params', [['u32', spec.grads.length], ['u32', spec.field], ['u32', 0], ['u32', 0], ['f32', spec.maxNorm], ['f32', 0], ['f32', 0], ['f32', 0]]);
  d.push({ label: 'grad_clip.global_norm', pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'clip.global_norm', [params, sums, spec.state, spec.metrics]), workgroups: [1, 1, 1] });
  return d;
}
