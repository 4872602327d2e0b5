import code from '../../../shaders/attention.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const attentionShader = { name: 'attention', code };

/** B sequences of T tokens, H heads of D = C / H dims. */
export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  dim: number;
}

function params(arena: GpuArena, s: AttentionShape): GPUBuffer {
  const C = s.heads * s.dim;
  return arena.uniform('attention.params', [
    ['u32', s.batch], ['u32', s.seq], ['u32', s.heads], ['u32', s.dim],
    ['u32', C], ['u32', 0], ['u32', 0], ['u32', 0],
    ['f32', 1 / Math.sqrt(s.dim)], ['f32', 0], ['f32', 0], ['f32', 0],
  ]);
}

/** qkv (N x 3C) -> probs (B x H x T x T, causal softmax) and out (N x C). */
export function attentionForward(arena: GpuArena, s: AttentionShape & { qkv: GPUBuffer; probs: GPUBuffer; out: GPUBuffer }): Dispatch[] {
  const u = params(arena, s);
  const rows = s.batch * s.heads * s.seq;
  const elems = s.batch * s.seq * s.heads * s.dim;
  const p1 = pipeline(arena.device, attentionShader, 'forward_probs');
  const p2 = pipeline(arena.device, attentionShader, 'forward_values');
  return [
    { label: 'attention.probs', pipeline: p1, bindGroup: bindBuffers(arena.device, p1, 'attention.probs', [u, s.qkv, s.probs]), workgroups: grid1d(Math.ceil(rows / 64)) },
    { label: 'attention.values', pipeline: p2, bindGroup: bindBuffers(arena.device, p2, 'attention.values', [u, s.qkv, s.probs, s.out]), workgroups: grid1d(Math.ceil(elems / 64)) },
  ];
}

/** dout (N x C) -> dqkv (N x 3C), through dS (B x H x T x T scratch). */
export function attentionBackward(arena: GpuArena, s: AttentionShape & { qkv: GPUBuffer; probs: GPUBuffer; dout: GPUBuffer; dS: GPUBuffer; dqkv: GPUBuffer }): Dispatch[] {
  const u = params(arena, s);
  const rows = s.batch * s.heads * s.seq;
  const elems = s.batch * s.seq * s.heads * s.dim;
  const p1 = pipeline(arena.device, attentionShader, 'backward_scores');
  const p2 = pipeline(arena.device, attentionShader, 'backward_qkv');
  return [
    { label: 'attention.backward_scores', pipeline: p1, bindGroup: bindBuffers(arena.device, p1, 'attention.backward_scores', [u, s.qkv, s.probs, s.dout, s.dS]), workgroups: grid1d(Math.ceil(rows / 64)) },
    { label: 'attention.backward_qkv', pipeline: p2, bindGroup: bindBuffers(arena.device, p2, 'attention.backward_qkv', [u, s.qkv, s.probs, s.dout, s.dS, s.dqkv]), workgroups: grid1d(Math.ceil(elems / 64)) },
  ];
}
