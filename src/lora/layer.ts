// A LoRA linear layer on the GPU (lora-math.md section 1). Frozen W0 (nOut x nIn), trainable
// A (r x nIn) and B (nOut x r), scale s. For a batch X (m x nIn):
//   Z_A = X A^T                (m x r)
//   H   = X W0^T + s Z_A B^T   (m x nOut)   one matmul with the low-rank path fused as its epilogue
// Backward from G = dL/dH (m x nOut):
//   dB = s G^T Z_A  (nOut x r)   U = s G B  (m x r)   dA = U^T X  (r x nIn)
// All dispatches are built once per (layer, batch buffers) and replayed every step.
import type { GpuArena } from '../gpu/arena.ts';
import { matmul } from '../gpu/kernels/matmul.ts';
import type { Dispatch } from '../gpu/pipelines.ts';

export interface LoraLayer {
  nIn: number;
  nOut: number;
  rank: number;
  scale: number;
  W0: GPUBuffer;
  A: GPUBuffer;
  B: GPUBuffer;
  dA: GPUBuffer;
  dB: GPUBuffer;
}

export function createLoraLayer(
  arena: GpuArena,
  label: string,
  shape: { nIn: number; nOut: number; rank: number; scale: number },
  data: { W0: Float32Array | GPUBuffer; A: Float32Array; B: Float32Array },
): LoraLayer {
  const { nIn, nOut, rank } = shape;
  return {
    ...shape,
    W0: data.W0 instanceof Float32Array ? arena.storage(`${label}.W0`, data.W0) : data.W0,
    A: arena.storage(`${label}.A`, data.A),
    B: arena.storage(`${label}.B`, data.B),
    dA: arena.storage(`${label}.dA`, rank * nIn),
    dB: arena.storage(`${label}.dB`, nOut * rank),
  };
}

/** Activations of one forward pass over a batch of m rows, kept for the backward pass. */
export interface LoraBatch {
  m: number;
  x: GPUBuffer;   // m x nIn (input, owned by the caller)
  zA: GPUBuffer;  // m x r
  h: GPUBuffer;   // m x nOut (output)
  u: GPUBuffer;   // m x r (backward scratch)
}

export function createLoraBatch(arena: GpuArena, layer: LoraLayer, label: string, m: number, x: GPUBuffer, h?: GPUBuffer): LoraBatch {
  return {
    m,
    x,
    zA: arena.storage(`${label}.zA`, m * layer.rank),
    h: h ?? arena.storage(`${label}.h`, m * layer.nOut),
    u: arena.storage(`${label}.u`, m * layer.rank),
  };
}

export function loraForward(arena: GpuArena, L: LoraLayer, b: LoraBatch): Dispatch[] {
  return [
    ...matmul(arena, { M: b.m, N: L.rank, K: L.nIn, a: b.x, b: L.A, c: b.zA, transB: true, splits: 'auto', label: 'lora.zA' }),
    ...matmul(arena, {
      M: b.m, N: L.nOut, K: L.nIn, a: b.x, b: L.W0, c: b.h, transB: true,
      lowrank: { z: b.zA, l: L.B, rank: L.rank, scale: L.scale }, label: 'lora.frozen+BA',
    }),
  ];
}

/** Gradients of A and B from g = dL/dH (m x nOut); with `accumulate`, added to dA and dB (micro-batches). */
export function loraBackward(arena: GpuArena, L: LoraLayer, b: LoraBatch, g: GPUBuffer, accumulate = false): Dispatch[] {
  return [
    ...matmul(arena, { M: L.nOut, N: L.rank, K: b.m, a: g, b: b.zA, c: L.dB, transA: true, alpha: L.scale, splits: 'auto', accumulate, label: 'lora.dB' }),
    ...matmul(arena, { M: b.m, N: L.rank, K: L.nOut, a: g, b: L.B, c: b.u, alpha: L.scale, splits: 'auto', label: 'lora.U' }),
    ...matmul(arena, { M: L.rank, N: L.nIn, K: b.m, a: b.u, b: b.x, c: L.dA, transA: true, splits: 'auto', accumulate, label: 'lora.dA' }),
  ];
}

/**
 * dL/dX = G W0 + U A (m x nIn), the input gradient, needed when something below the layer trains.
 * Run after loraBackward (which writes U = s G B). `w0Layout` is how W0 is stored: 'outIn' (nOut x nIn,
 * nn.Linear, what loraForward assumes) or 'inOut' (nIn x nOut: GPT-2's Conv1D, y = x W + b), so the
 * frozen product is NN or NT. With `accumulate`, dX is added to what `dx` holds.
 */
export function loraBackwardInput(
  arena: GpuArena,
  L: LoraLayer,
  b: LoraBatch,
  g: GPUBuffer,
  dx: GPUBuffer,
  opts: { w0Layout?: 'outIn' | 'inOut'; accumulate?: boolean } = {},
): Dispatch[] {
  return [
    ...matmul(arena, { M: b.m, N: L.nIn, K: L.nOut, a: g, b: L.W0, c: dx, transB: opts.w0Layout === 'inOut', accumulate: !!opts.accumulate, label: 'lora.dX' }),
    ...matmul(arena, { M: b.m, N: L.nIn, K: L.rank, a: b.u, b: L.A, c: dx, accumulate: true, label: 'lora.dX.UA' }),
  ];
}
