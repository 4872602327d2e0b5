import code from '../../../shaders/attention.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';
import { COUNTER_RNG_WGSL, dropThreshold, keepScale, type DropoutMask } from './dropout.ts';
import { STATE_WGSL } from './trainState.ts';

export const attentionShader = { name: 'attention', code: `${code}\n${STATE_WGSL}\n${COUNTER_RNG_WGSL}` };

/** B sequences of T tokens, H heads of D = C / H dims. */
export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  dim: number;
}

/** Dropout on the attention probabilities (train mode): the mask and the training state holding the step. */
export interface AttentionDropout {
  mask: DropoutMask;
  state: GPUBuffer;
}

function params(arena: GpuArena, s: AttentionShape, drop?: AttentionDropout): GPUBuffer {
  const C = s.heads * s.dim;
  const m = drop?.mask;
  return arena.uniform('attention.params', [
    ['u32', s.batch], ['u32', s.seq], ['u32', s.heads], ['u32', s.dim],
    ['u32', C], ['u32', m ? dropThreshold(m.p) : 0], ['u32', m?.site ?? 0], ['u32', (m?.seed ?? 0) >>> 0],
    ['f32', 1 / Math.sqrt(s.dim)], ['f32', m ? keepScale(m.p) : 1], ['f32', 0], ['f32', 0],
  ]);
}

/** qkv (N x 3C) -> probs (B x H x T x T, causal softmax) and out (N x C); with `dropout`, out = dropped(P) v. */
export function attentionForward(arena: GpuArena, s: AttentionShape & { qkv: GPUBuffer; probs: GPUBuffer; out: GPUBuffer; dropout?: AttentionDropout }): Dispatch[] {
  const u = params(arena, s, s.dropout);
  const rows = s.batch * s.heads * s.seq;
  const elems = s.batch * s.seq * s.heads * s.dim;
  const drop = s.dropout ? '_drop' : '';
  const p1 = pipeline(arena.device, attentionShader, 'forward_probs');
  const p2 = pipeline(arena.device, attentionShader, `forward_values${drop}`);
  return [
    { label: 'attention.probs', pipeline: p1, bindGroup: bindBuffers(arena.device, p1, 'attention.probs', [u, s.qkv, s.probs]), workgroups: grid1d(Math.ceil(rows / 64)) },
    { label: `attention.values${drop}`, pipeline: p2, bindGroup: bindBuffers(arena.device, p2, 'attention.values', { 0: u, 1: s.qkv, 2: s.probs, 3: s.out, 6: s.dropout?.state }), workgroups: grid1d(Math.ceil(elems / 64)) },
  ];
}

/** dout (N x C) -> dqkv (N x 3C), through dS (B x H x T x T scratch); `dropout` as in the forward (same mask). */
export function attentionBackward(arena: GpuArena, s: AttentionShape & { qkv: GPUBuffer; probs: GPUBuffer; dout: GPUBuffer; dS: GPUBuffer; dqkv: GPUBuffer; dropout?: AttentionDropout }): Dispatch[] {
  const u = params(arena, s, s.dropout);
  const rows = s.batch * s.heads * s.seq;
  const elems = s.batch * s.seq * s.heads * s.dim;
  const drop = s.dropout ? '_drop' : '';
  const p1 = pipeline(arena.device, attentionShader, `backward_scores${drop}`);
  const p2 = pipeline(arena.device, attentionShader, `backward_qkv${drop}`);
  const state = s.dropout?.state;
  return [
    { label: `attention.backward_scores${drop}`, pipeline: p1, bindGroup: bindBuffers(arena.device, p1, 'attention.backward_scores', { 0: u, 1: s.qkv, 2: s.probs, 3: s.dout, 4: s.dS, 6: state }), workgroups: grid1d(Math.ceil(rows / 64)) },
    { label: `attention.backward_qkv${drop}`, pipeline: p2, bindGroup: bindBuffers(arena.device, p2, 'attention.backward_qkv', { 0: u, 1: s.qkv, 2: s.probs, 3: s.dout, 4: s.dS, 5: s.dqkv, 6: state }), workgroups: grid1d(Math.ceil(elems / 64)) },
  ];
}

/**
 * One decoding step of attention with a KV cache: the new token's qkv row (3C) is stored at position
 * pos[0] of kcache / vcache (positions x C each), then out (C) = softmax(q K^T / sqrt D) V over positions 0..pos.
 * scores: heads x positions scratch.
 */
export function attentionDecode(arena: GpuArena, s: { heads: number; dim: number; positions: number; qkv: GPUBuffer; pos: GPUBuffer; kcache: GPUBuffer; vcache: GPUBuffer; scores: GPUBuffer; out: GPUBuffer }): Dispatch[] {
  const u = params(arena, { batch: 1, seq: s.positions, heads: s.heads, dim: s.dim });
  const C = s.heads * s.dim;
  const store = pipeline(arena.device, attentionShader, 'kv_store');
  const scores = pipeline(arena.device, attentionShader, 'decode_scores');
  const values = pipeline(arena.device, attentionShader, 'decode_values');
  return [
    { label: 'attention.kv_store', pipeline: store, bindGroup: bindBuffers(arena.device, store, 'attention.kv_store', { 0: u, 1: s.qkv, 7: s.pos, 8: s.kcache, 9: s.vcache }), workgroups: [Math.ceil(C / 64), 1, 1] },
    { label: 'attention.decode_scores', pipeline: scores, bindGroup: bindBuffers(arena.device, scores, 'attention.decode_scores', { 0: u, 1: s.qkv, 7: s.pos, 10: s.scores, 11: s.kcache }), workgroups: grid1d(Math.ceil((s.heads * s.positions) / 64)) },
    { label: 'attention.decode_values', pipeline: values, bindGroup: bindBuffers(arena.device, values, 'attention.decode_values', { 0: u, 7: s.pos, 10: s.scores, 12: s.vcache, 13: s.out }), workgroups: [s.heads, 1, 1] },
  ];
}
