import code from '../../../shaders/softmax_xent.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const softmaxXentShader = { name: 'softmax_xent', code };

/** One vocabulary chunk of the logits: columns [v0, v0 + cols) of N x V, stored N x cols. */
export interface LogitChunk {
  v0: number;
  cols: number;
  logits: GPUBuffer;
}

function params(arena: GpuArena, rows: number, cols: number, v0: number, lossOffset = 0, invCount = 1 / rows): GPUBuffer {
  return arena.uniform('xent.params', [['u32', rows], ['u32', cols], ['u32', v0], ['u32', lossOffset], ['f32', invCount], ['f32', 0], ['f32', 0], ['f32', 0]]);
}

/**
 * Forward: per-row loss (rows, written from row `lossOffset` of `loss` on) = logsumexp(logits row) - logit
 * of the target, folding the chunks in order into stats (rows x 4: running max, running sum, target logit, logsumexp).
 */
export function softmaxXentForward(arena: GpuArena, s: { rows: number; chunks: readonly LogitChunk[]; targets: GPUBuffer; stats: GPUBuffer; loss: GPUBuffer; lossOffset?: number }): Dispatch[] {
  const out: Dispatch[] = s.chunks.map((c, i) => {
    const WG = c.cols >= 2048 ? 256 : 64;
    const pipe = pipeline(arena.device, softmaxXentShader, 'chunk_stats', { FIRST: i === 0, WG });
    return {
      label: 'xent.chunk_stats',
      pipeline: pipe,
      bindGroup: bindBuffers(arena.device, pipe, `xent.stats.${i}`, { 0: params(arena, s.rows, c.cols, c.v0), 1: s.targets, 2: s.stats, 3: c.logits }),
      workgroups: grid1d(s.rows),
    };
  });
  const fin = pipeline(arena.device, softmaxXentShader, 'finalize');
  out.push({
    label: 'xent.finalize',
    pipeline: fin,
    bindGroup: bindBuffers(arena.device, fin, 'xent.finalize', { 0: params(arena, s.rows, 0, 0, s.lossOffset ?? 0), 2: s.stats, 3: s.loss }),
    workgroups: [Math.ceil(s.rows / 64), 1, 1],
  });
  return out;
}

/**
 * Backward: each logits chunk becomes dL/dlogits = (softmax - onehot) * invCount, in place (after the
 * forward); invCount is 1 / rows (the mean over rows) unless given (1 / (k rows) for gradient accumulation).
 */
export function softmaxXentBackward(arena: GpuArena, s: { rows: number; chunks: readonly LogitChunk[]; targets: GPUBuffer; stats: GPUBuffer; invCount?: number }): Dispatch[] {
  return s.chunks.map((c, i) => {
    const pipe = pipeline(arena.device, softmaxXentShader, 'chunk_backward');
    return {
      label: 'xent.chunk_backward',
      pipeline: pipe,
      bindGroup: bindBuffers(arena.device, pipe, `xent.backward.${i}`, { 0: params(arena, s.rows, c.cols, c.v0, 0, s.invCount), 1: s.targets, 2: s.stats, 3: c.logits }),
      workgroups: grid1d(Math.ceil((s.rows * c.cols) / 256)),
    };
  });
}
