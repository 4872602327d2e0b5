import code from '../../../shaders/embedding.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const embeddingShader = { name: 'embedding', code };

/** One vocabulary chunk of the token table: rows [v0, v0 + rows) of wte in their own buffer. */
export interface VocabChunk {
  v0: number;
  rows: number;
  buffer: GPUBuffer;
}

/**
 * out (N x C) = wte[tokens] + wpe[n % seq] (or, with `position`, wpe[position[0] + n]), N = tokens.length: one dispatch per vocabulary chunk (the first
 * writes, the rest add their rows). Token ids must be < the vocabulary size (checked on the CPU side).
 */
export function embedding(arena: GpuArena, spec: { rows: number; cols: number; seq: number; tokens: GPUBuffer; chunks: readonly VocabChunk[]; wpe: GPUBuffer; out: GPUBuffer; position?: GPUBuffer }): Dispatch[] {
  const count = spec.rows * spec.cols;
  return spec.chunks.map((chunk, i) => {
    const pipe = pipeline(arena.device, embeddingShader, spec.position ? 'embed_at' : 'embed', { FIRST: i === 0 });
    const params = arena.uniform('embedding.params', [
      ['u32', count], ['u32', spec.cols], ['u32', spec.seq], ['u32', chunk.v0],
      ['u32', chunk.rows], ['u32', 0], ['u32', 0], ['u32', 0],
    ]);
    return {
      label: 'embedding',
      pipeline: pipe,
      bindGroup: bindBuffers(arena.device, pipe, `embedding.${i}`, { 0: params, 1: spec.tokens, 2: chunk.buffer, 3: spec.wpe, 4: spec.out, 5: spec.position }),
      workgroups: grid1d(Math.ceil(count / 256)),
    };
  });
}
