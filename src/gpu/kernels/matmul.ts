import code from '../../../shaders/matmul.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';

export const matmulShader = { name: 'matmul', code };

/** K advances this much per workgroup-memory tile; split-K chunks are multiples of it. */
const BK = 16;

/**
 * A shape class: WX x WY threads, each owning QM x QN quads of 4x4 outputs, cover a BM x BN block of C
 * (BM = 4 QM WY, BN = 4 QN WX). These are the override constants of shaders/matmul.wgsl.
 */
export interface TileShape {
  WX: number;
  WY: number;
  QM: 1 | 2;
  QN: 1 | 2;
}

const pow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/**
 * Threads along a side of `len` > 32 outputs, quads of 4 q: 8 (64-wide blocks) unless that pads more than
 * 10%, then the count in 5..16 that pads least (nearest 8 on ties). The toy's batch of 100 rows gets one
 * 104-row block instead of two 64-row blocks: 28% less work, and about that much faster on SwiftShader.
 */
function sideThreads(len: number, q: number): number {
  const pad = (w: number) => Math.ceil(len / (4 * q * w)) * 4 * q * w - len;
  if (pad(8) <= 0.1 * len) return 8;
  let best = 8;
  for (let w = 5; w <= 16; w++) if (pad(w) < pad(best) || (pad(w) === pad(best) && Math.abs(w - 8) < Math.abs(best - 8))) best = w;
  return best;
}

/**
 * Blocks of 8 x 8 per thread, about 64 x 64, for anything wide; skinny products (the rank-r side of LoRA:
 * N or M down to 1) get a block just wide enough for their short side and taller along the long side, so
 * that almost no lane computes padding. At most 256 threads.
 */
export function tileShape(M: number, N: number): TileShape {
  const QM = M <= 4 ? 1 : 2;
  const QN = N <= 4 ? 1 : 2;
  const wide = M > 32 && N > 32;
  let WX = wide ? sideThreads(N, QN) : Math.min(8, pow2(Math.ceil(N / (4 * QN))));
  let WY = wide ? sideThreads(M, QM) : Math.min(8, pow2(Math.ceil(M / (4 * QM))));
  // Grow a thin workgroup along the long side, but keep at least 4 blocks along it: a skinny product with
  // one workgroup runs on one core of a CPU adapter (and one SM of a GPU).
  while (WX * WY < 64 && WY < 32 && 4 * QM * WY * 8 <= M && WY >= WX) WY *= 2;
  while (WX * WY < 64 && WX < 32 && 4 * QN * WX * 8 <= N && WX >= WY) WX *= 2;
  return { WX, WY, QM, QN };
}

export interface MatmulSpec {
  /** C (M x N) = alpha * op(A) (M x K) * op(B) (K x N). */
  M: number;
  N: number;
  K: number;
  a: GPUBuffer;
  b: GPUBuffer;
  c: GPUBuffer;
  /** A stored K x M (read transposed). */
  transA?: boolean;
  /** B stored N x K (read transposed). */
  transB?: boolean;
  alpha?: number;
  /** C += ... instead of C = ... */
  accumulate?: boolean;
  /** Independent products, with per-operand element strides (0 shares an operand across the batch). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** Fused low-rank epilogue: C += scale * Z (M x rank) * L^T (L: N x rank). */
  lowrank?: { z: GPUBuffer; l: GPUBuffer; rank: number; scale: number; strideZ?: number; strideL?: number };
  /** Split the K loop across workgroups (deterministic two-pass sum). 'auto' picks by shape. */
  splits?: number | 'auto';
  label?: string;
}

/** Split-K pays when the output grid is too small to occupy the GPU and K is long (tall-skinny gradients). */
export function autoSplits(M: number, N: number, K: number, batch = 1): number {
  const t = tileShape(M, N);
  const tiles = Math.ceil(M / (4 * t.QM * t.WY)) * Math.ceil(N / (4 * t.QN * t.WX)) * batch;
  if (tiles >= 64 || K < 1024) return 1;
  return Math.max(1, Math.min(Math.floor(K / 256), Math.ceil(128 / tiles), 64));
}

// One placeholder per device, bound where a product has no low-rank operands. It lives as long as the
// device (a few bytes), outside every arena.
const dummies = new WeakMap<GPUDevice, GPUBuffer>();
function dummy(device: GPUDevice): GPUBuffer {
  let d = dummies.get(device);
  if (!d) dummies.set(device, (d = device.createBuffer({ label: 'matmul.unused', size: 16, usage: GPUBufferUsage.STORAGE })));
  return d;
}

export function variantName(s: Pick<MatmulSpec, 'transA' | 'transB'>): string {
  return `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
}

export function matmul(arena: GpuArena, s: MatmulSpec): Dispatch[] {
  // NOTE: operands are bound as arrays of vec4 (see the WGSL); a size that is not a multiple of 16 bytes would
  // hide the last floats behind the robustness clamp. GpuArena.storage() always pads.
  for (const [name, buf] of [['a', s.a], ['b', s.b]] as const) {
    if (buf.size % 16 !== 0) throw new Error(`matmul: operand ${name} (${buf.label}) is ${buf.size} bytes; allocate it with GpuArena.storage() (16-byte padded)`);
  }
  const batch = s.batch ?? 1;
  const strideA = s.strideA ?? s.M * s.K;
  const strideB = s.strideB ?? s.K * s.N;
  const strideC = s.strideC ?? s.M * s.N;
  const requested = s.splits ?? 1;
  let splits = requested === 'auto' ? autoSplits(s.M, s.N, s.K, batch) : requested;
  splits = Math.max(1, Math.min(splits, Math.ceil(s.K / BK)));
  if (splits > 1 && s.lowrank) throw new Error('matmul: the low-rank epilogue cannot be combined with split-K');
  const kChunk = Math.ceil(Math.ceil(s.K / splits) / BK) * BK;
  splits = Math.max(1, Math.ceil(s.K / kChunk));
  const label = s.label ?? `matmul.${variantName(s)}${s.lowrank ? '+lowrank' : ''}${splits > 1 ? '.splitk' : ''}`;
  const lr = s.lowrank;
  const tile = tileShape(s.M, s.N);
  // vec4 staging needs the operand's contiguous axis and its batch stride to be multiples of 4.
  const aligned = (axis: number, stride: number) => axis % 4 === 0 && (batch === 1 || stride % 4 === 0);
  const constants = {
    TRANS_A: !!s.transA, TRANS_B: !!s.transB, ACCUMULATE: !!s.accumulate && splits === 1, LOWRANK: !!lr,
    VEC_A: aligned(s.transA ? s.M : s.K, strideA), VEC_B: aligned(s.transB ? s.K : s.N, strideB),
    ...tile,
  };
  const pipe = pipeline(arena.device, matmulShader, 'main', constants);
  const target = splits > 1 ? arena.storage(`${label}.partials`, batch * splits * s.M * s.N) : s.c;
  const params = (alpha: number, stride: number) =>
    arena.uniform(`${label}.params`, [
      ['u32', s.M], ['u32', s.N], ['u32', s.K], ['u32', kChunk],
      ['u32', splits], ['u32', strideA], ['u32', strideB], ['u32', stride],
      ['f32', alpha], ['u32', lr?.rank ?? 0], ['f32', lr?.scale ?? 0], ['u32', lr?.strideZ ?? s.M * (lr?.rank ?? 0)],
      ['u32', lr?.strideL ?? 0], ['u32', batch], ['u32', 0], ['u32', 0],
    ]);
  const main: Dispatch = {
    label,
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, label, [
      params(s.alpha ?? 1, splits > 1 ? s.M * s.N : strideC), s.a, s.b, target, lr?.z ?? dummy(arena.device), lr?.l ?? dummy(arena.device),
    ]),
    workgroups: [Math.ceil(s.N / (4 * tile.QN * tile.WX)), Math.ceil(s.M / (4 * tile.QM * tile.WY)), batch * splits],
  };
  if (splits === 1) return [main];
  const rpipe = pipeline(arena.device, matmulShader, 'reduce_splits', { ACCUMULATE: !!s.accumulate });
  const reduce: Dispatch = {
    label: `${label}.reduce`,
    pipeline: rpipe,
    bindGroup: bindBuffers(arena.device, rpipe, `${label}.reduce`, [params(s.alpha ?? 1, strideC), target, s.c]),
    workgroups: grid1d(Math.ceil((batch * s.M * s.N) / 256)),
  };
  return [main, reduce];
}
