import code from '../../../shaders/bias.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const biasShader = { name: 'bias', code };

/** out (rows x cols) = bias broadcast over rows (+ res, rows x cols). A Conv1D's matmul then accumulates onto it. */
export function biasRows(arena: GpuArena, spec: { rows: number; cols: number; bias: GPUBuffer; out: GPUBuffer; residual?: GPUBuffer; label?: string }): Dispatch {
  const entry = spec.residual ? 'rows_residual' : 'rows';
  const pipe = pipeline(arena.device, biasShader, entry);
  const params = arena.uniform('bias.params', [['u32', spec.rows], ['u32', spec.cols], ['u32', 0], ['u32', 0]]);
  const buffers = [params, spec.bias, spec.out, ...(spec.residual ? [spec.residual] : [])];
  return { label: `bias.${entry}`, pipeline: pipe, bindGroup: bindBuffers(arena.device, pipe, spec.label ?? `bias.${entry}`, buffers), workgroups: grid1d(Math.ceil((spec.rows * spec.cols) / 256)) };
}
