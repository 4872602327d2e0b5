import code from '../../../shaders/layernorm.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const layernormShader = { name: 'layernorm', code };

/** Threads per row: enough to cover GPT-2's 768 columns in 12 strides, few barriers for the tiny model. */
function threadsPerRow(cols: number): number {
  return cols >= 256 ? 64 : cols >= 64 ? 32 : 16;
}

const params = (arena: GpuArena, rows: number, cols: number, eps: number) =>
  arena.uniform('layernorm.params', [['u32', rows], ['u32', cols], ['u32', 0], ['u32', 0], ['f32', eps], ['f32', 0], ['f32', 0], ['f32', 0]]);

/** y = LN(x) * gamma + beta per row (x, y: rows x cols); stats (rows x 2) keeps mean and 1/std for backward. */
export function layerNormForward(arena: GpuArena, s: { rows: number; cols: number; eps: number; x: GPUBuffer; gamma: GPUBuffer; beta: GPUBuffer; y: GPUBuffer; stats: GPUBuffer }): Dispatch {
  const pipe = pipeline(arena.device, layernormShader, 'forward', { WG: threadsPerRow(s.cols) });
  return {
    label: 'layernorm.forward',
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, 'layernorm.forward', [params(arena, s.rows, s.cols, s.eps), s.x, s.gamma, s.stats, s.beta, s.y]),
    workgroups: grid1d(s.rows),
  };
}

/** dx (=, or += with accumulate) the input gradient of LN given dy; gamma and beta are frozen. */
export function layerNormBackward(arena: GpuArena, s: { rows: number; cols: number; x: GPUBuffer; gamma: GPUBuffer; stats: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer; accumulate: boolean }): Dispatch {
  const pipe = pipeline(arena.device, layernormShader, 'backward', { WG: threadsPerRow(s.cols), ACCUMULATE: s.accumulate });
  return {
    label: 'layernorm.backward',
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, 'layernorm.backward', [params(arena, s.rows, s.cols, 0), s.x, s.gamma, s.stats, s.dy, s.dx]),
    workgroups: grid1d(s.rows),
  };
}
