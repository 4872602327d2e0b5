import activationCode from '../../../shaders/activation.wgsl?raw';
import lossCode from '../../../shaders/loss.wgsl?raw';
import phiCode from '../../../shaders/phi.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

/** phi.wgsl is appended: its functions are shared with toy_batch.wgsl. */
export const activationShader = { name: 'activation', code: `${activationCode}\n${phiCode}` };
export { phiCode };
export const lossShader = { name: 'loss', code: lossCode };

export type Activation = 'relu' | 'tanh' | 'gelu';
export const ACTIVATION_ID: Record<Activation, number> = { relu: 0, tanh: 1, gelu: 2 };

/** y = phi(x), elementwise over `count`. */
export function activationForward(arena: GpuArena, act: Activation, count: number, x: GPUBuffer, y: GPUBuffer): Dispatch {
  const pipe = pipeline(arena.device, activationShader, 'forward', { ACT: ACTIVATION_ID[act] });
  const params = arena.uniform('activation.params', [['u32', count], ['u32', 1], ['u32', 0], ['u32', 0]]);
  return { label: `activation.${act}`, pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'activation.forward', [params, x, y]), workgroups: grid1d(Math.ceil(count / 256)) };
}

/** dx = dy * phi'(x), x the pre-activation. */
export function activationBackward(arena: GpuArena, act: Activation, count: number, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Dispatch {
  const pipe = pipeline(arena.device, activationShader, 'backward', { ACT: ACTIVATION_ID[act] });
  const params = arena.uniform('activation.params', [['u32', count], ['u32', 1], ['u32', 0], ['u32', 0]]);
  return { label: `activation.${act}.backward`, pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'activation.backward', [params, x, dx, dy]), workgroups: grid1d(Math.ceil(count / 256)) };
}

/** dx[i,j] = g[i] * w[j] * phi'(x[i,j]) for x: rows x cols (gradient through a one-output head). */
export function activationBackwardOuter(arena: GpuArena, act: Activation, rows: number, cols: number, x: GPUBuffer, g: GPUBuffer, w: GPUBuffer, dx: GPUBuffer): Dispatch {
  const pipe = pipeline(arena.device, activationShader, 'backward_outer', { ACT: ACTIVATION_ID[act] });
  const params = arena.uniform('activation.params', [['u32', rows * cols], ['u32', cols], ['u32', 0], ['u32', 0]]);
  return { label: `activation.${act}.backward_outer`, pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'activation.backward_outer', [params, x, dx, g, w]), workgroups: grid1d(Math.ceil((rows * cols) / 256)) };
}

/** residual = y - t, grad = residual / m. */
export function mse(arena: GpuArena, m: number, y: GPUBuffer, t: GPUBuffer, residual: GPUBuffer, grad: GPUBuffer): Dispatch {
  const pipe = pipeline(arena.device, lossShader, 'mse');
  const params = arena.uniform('mse.params', [['u32', m], ['f32', 1 / m], ['u32', 0], ['u32', 0]]);
  return { label: 'loss.mse', pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, 'loss.mse', [params, y, t, residual, grad]), workgroups: [Math.ceil(m / 256), 1, 1] };
}
