// The coordinate-RMS metrics of a LoRA layer (lora-math.md section 1): ||Z|| = sqrt(mean(Z^2)).
// ||Z_B|| and ||s B A|| never materialise an m x nOut or nOut x nIn matrix; they use r x r Gram matrices:
//   ||Z_A B^T||_F^2 = <B^T B, Z_A^T Z_A>      ||B A||_F^2 = <B^T B, A A^T>
import type { GpuArena } from '../gpu/arena.ts';
import { matmul } from '../gpu/kernels/matmul.ts';
import { reduceToMetric } from '../gpu/kernels/reduce.ts';
import type { Dispatch } from '../gpu/pipelines.ts';
import type { LoraBatch, LoraLayer } from './layer.ts';

export interface NormFields {
  zA: number;
  zB: number;
  normA: number;
  normB: number;
  normSBA: number;
}

export function loraNorms(arena: GpuArena, L: LoraLayer, b: LoraBatch, target: { metrics: GPUBuffer; state: GPUBuffer }, fields: NormFields): Dispatch[] {
  const r = L.rank;
  const s2 = L.scale * L.scale;
  const btb = arena.storage('norms.BtB', r * r);
  const ztz = arena.storage('norms.ZtZ', r * r);
  const aat = arena.storage('norms.AAt', r * r);
  const metric = (x: GPUBuffer, count: number, scale: number, field: number, label: string, y?: GPUBuffer) =>
    reduceToMetric(arena, { x, y, count, scale, sqrt: true, label, field, ...target });
  return [
    ...metric(b.zA, b.m * r, 1 / (b.m * r), fields.zA, 'norms.zA'),
    ...matmul(arena, { M: r, N: r, K: L.nOut, a: L.B, b: L.B, c: btb, transA: true, splits: 'auto', label: 'norms.gram' }),
    ...matmul(arena, { M: r, N: r, K: b.m, a: b.zA, b: b.zA, c: ztz, transA: true, splits: 'auto', label: 'norms.gram' }),
    ...matmul(arena, { M: r, N: r, K: L.nIn, a: L.A, b: L.A, c: aat, transB: true, splits: 'auto', label: 'norms.gram' }),
    ...metric(btb, r * r, s2 / (b.m * L.nOut), fields.zB, 'norms.zB', ztz),
    ...metric(L.A, r * L.nIn, 1 / (r * L.nIn), fields.normA, 'norms.A'),
    ...metric(L.B, L.nOut * r, 1 / (L.nOut * r), fields.normB, 'norms.B'),
    ...metric(btb, r * r, s2 / (L.nOut * L.nIn), fields.normSBA, 'norms.sBA', aat),
  ];
}
