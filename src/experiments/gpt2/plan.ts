// What a GPT-2 LoRA configuration allocates on the GPU, computed before anything is allocated: the
// trainer allocates exactly these buffers (it takes their sizes from the functions below), so the plan
// is what the run will use, up to uniforms and split-K partials (kilobytes).
//
// Two limits matter. Per buffer: WebGPU caps one binding at maxStorageBufferBindingSize (128 MiB by
// default; src/gpu/device.ts asks for the adapter's real limit). GPT-2's f32 token table is 50257 x 768
// = 154 MB, so it and the logits (N x 50257) are split into vocabulary chunks that each fit; anything
// else too big for one binding is refused with the reason. In total: WebGPU does not report how much
// memory the GPU has, so the caller states a budget (default 4 GiB, a laptop GPU) and a configuration
// above it is refused before it starts instead of failing half-way through allocation.
import type { Gpt2Config, LoraTarget } from '../../models/gpt2.ts';
import { targetDims } from '../../models/gpt2.ts';
import type { DropoutRates } from './config.ts';

export const F32 = 4;
export const DEFAULT_MEMORY_BUDGET = 4 * 2 ** 30;
/** Slots in the metrics ring (steps that can be in flight before a readback must have happened). */
export const METRICS_RING = 64;

export interface Gpt2Shape {
  seq: number;
  batch: number;
  rank: number;
  targets: readonly LoraTarget[];
  /** Training options that allocate (a Gpt2RunConfig has them all; absent: none of them). */
  dropout?: number | null;
  loraDropout?: number;
  gradAccum?: number;
  maxGradNorm?: number;
}

/** The dropout rates a shape trains with (a run config's dropoutRates; none when the shape does not say). */
function shapeRates(config: Gpt2Config, s: Gpt2Shape): DropoutRates {
  const all = s.dropout === undefined ? 0 : s.dropout;
  const lora = s.loraDropout ?? 0;
  return all === null ? { embd: config.embd_pdrop, attn: config.attn_pdrop, resid: config.resid_pdrop, lora } : { embd: all, attn: all, resid: all, lora };
}

/**
 * Dropout scratch of a training graph (floats): a residual branch before its dropout (also the embedding
 * before embd dropout, and the branch's gradient in backward), and an adapter's dropped input (also U A in backward).
 */
export function dropoutScratch(config: Pick<Gpt2Config, 'n_embd'>, rows: number, rates: DropoutRates | undefined, widestAdapterInput: number): { proj: number; loraX: number } {
  return {
    proj: rates && (rates.embd > 0 || rates.resid > 0) ? rows * config.n_embd : 0,
    loraX: rates && rates.lora > 0 ? rows * widestAdapterInput : 0,
  };
}

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** Bytes storageBuffer() allocates for `floats` 4-byte words (16-byte padded, never empty). */
export const paddedBytes = (floats: number) => Math.max(16, Math.ceil((floats * F32) / 16) * 16);

const bindLimit = (l: BufferLimits) => Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);

/**
 * Rows of the vocabulary per chunk: a wte chunk (rows x C) and a logits chunk (N x rows) must each fit one
 * binding. `maxRows` forces smaller chunks (tests exercise the chunked path on the tiny model with it).
 */
export function vocabChunkRows(config: Gpt2Config, rowsN: number, limits: BufferLimits, maxRows?: number): number {
  const bind = bindLimit(limits);
  const rows = Math.min(config.vocab_size, Math.floor(bind / (F32 * config.n_embd)), Math.floor(bind / (F32 * rowsN)), maxRows ?? Infinity);
  return Math.max(1, rows);
}

export function vocabChunks(vocab: number, rowsPerChunk: number): Array<{ v0: number; rows: number }> {
  const out: Array<{ v0: number; rows: number }> = [];
  for (let v0 = 0; v0 < vocab; v0 += rowsPerChunk) out.push({ v0, rows: Math.min(rowsPerChunk, vocab - v0) });
  return out;
}

/** Saved forward activations of one transformer block for B sequences of T tokens (floats). */
export function blockActivations(c: Gpt2Config, B: number, T: number) {
  const N = B * T;
  const C = c.n_embd;
  const F = c.n_inner;
  return {
    ln1: N * C, ln1Stats: 2 * N, qkv: 3 * N * C, probs: B * c.n_head * T * T, att: N * C,
    xMid: N * C, ln2: N * C, ln2Stats: 2 * N, fc: N * F, gelu: N * F,
  };
}
export type BlockActivation = keyof ReturnType<typeof blockActivations>;

/** Gradient scratch for the backward pass, reused by every block (floats). */
export function backwardScratch(c: Gpt2Config, B: number, T: number) {
  const N = B * T;
  const C = c.n_embd;
  const F = c.n_inner;
  return { dres: N * C, dln: N * C, datt: N * C, dqkv: 3 * N * C, dS: B * c.n_head * T * T, dgelu: N * F, dfc: N * F };
}
export type BackwardScratch = keyof ReturnType<typeof backwardScratch>;

/** The final LayerNorm and the loss (floats; the logits chunks are listed separately). */
export function headBuffers(c: Gpt2Config, N: number) {
  return { lnf: N * c.n_embd, lnfStats: 2 * N, dlnf: N * c.n_embd, losses: N, xentStats: 4 * N, ones: N, tokens: N, targets: N };
}
export type HeadBuffer = keyof ReturnType<typeof headBuffers>;

/** A LoRA adapter's tensors: trainable A, B, their gradients, AdamW moments, and per-batch Z_A and U (floats). */
export function adapterBuffers(c: Gpt2Config, target: LoraTarget, rank: number, N: number) {
  const { in: nIn, out: nOut } = targetDims(c, target);
  return { A: rank * nIn, B: nOut * rank, dA: rank * nIn, dB: nOut * rank, adamA: 2 * rank * nIn, adamB: 2 * nOut * rank, zA: N * rank, u: N * rank };
}

export type PlanGroup = 'weights' | 'activations' | 'logits' | 'lora' | 'optimizer' | 'scratch' | 'generation';

export interface PlannedBuffer {
  name: string;
  group: PlanGroup;
  bytes: number;
  /** Split into vocabulary chunks (wte, logits): never more than one binding each by construction. */
  chunked?: boolean;
}

export interface Gpt2Plan {
  shape: Gpt2Shape;
  /** B * T rows through every matmul. */
  rows: number;
  vocabChunkRows: number;
  chunks: Array<{ v0: number; rows: number }>;
  buffers: PlannedBuffer[];
  byGroup: Record<PlanGroup, number>;
  total: number;
  /** The biggest single buffer that cannot be split. */
  largest: PlannedBuffer;
}

/** Every buffer a training run (with on-demand generation) allocates, with its size. */
export function planGpt2(config: Gpt2Config, shape: Gpt2Shape, limits: BufferLimits, opts: { maxVocabChunk?: number } = {}): Gpt2Plan {
  const { seq: T, batch: B, rank } = shape;
  const N = B * T;
  const C = config.n_embd;
  const F = config.n_inner;
  const L = config.n_layer;
  const rowsPerChunk = vocabChunkRows(config, N, limits, opts.maxVocabChunk);
  const chunks = vocabChunks(config.vocab_size, rowsPerChunk);
  const buffers: PlannedBuffer[] = [];
  const add = (name: string, group: PlanGroup, floats: number, chunked = false) => buffers.push({ name, group, bytes: paddedBytes(floats), chunked });

  chunks.forEach((ch, i) => add(`wte[${i}]`, 'weights', ch.rows * C, true));
  add('wpe', 'weights', config.n_positions * C);
  for (let l = 0; l < L; l++) {
    for (const [name, n] of Object.entries({ ln1g: C, ln1b: C, wAttn: C * 3 * C, bAttn: 3 * C, wProj: C * C, bProj: C, ln2g: C, ln2b: C, wFc: C * F, bFc: F, wOut: F * C, bOut: C })) add(`h${l}.${name}`, 'weights', n);
  }
  add('lnf.g', 'weights', C);
  add('lnf.b', 'weights', C);

  for (let l = 0; l <= L; l++) add(`x${l}`, 'activations', N * C);
  for (let l = 0; l < L; l++) for (const [name, n] of Object.entries(blockActivations(config, B, T))) add(`h${l}.${name}`, 'activations', n);
  const k = shape.gradAccum ?? 1;
  for (const [name, n] of Object.entries(headBuffers(config, N))) add(name, name === 'dlnf' ? 'scratch' : 'activations', name === 'ones' ? k * N : n);
  if (k > 1) for (const [name, n] of Object.entries({ tokens: k * N, targets: k * N, losses: k * N, micro: k })) add(`step.${name}`, 'activations', n);
  chunks.forEach((ch, i) => add(`logits[${i}]`, 'logits', N * ch.rows, true));
  for (const [name, n] of Object.entries(backwardScratch(config, B, T))) add(name, 'scratch', n);

  const targets = [...new Set(shape.targets)];
  const widest = Math.max(0, ...targets.map((t) => targetDims(config, t).in));
  for (const [name, n] of Object.entries(dropoutScratch(config, N, shapeRates(config, shape), widest))) if (n > 0) add(`dropout.${name}`, 'scratch', n);
  if ((shape.maxGradNorm ?? 0) > 0) add('clip.sums', 'scratch', 2 * targets.length * L);
  for (let l = 0; l < L; l++) {
    for (const t of targets) {
      const a = adapterBuffers(config, t, rank, N);
      add(`h${l}.${t}.A`, 'lora', a.A);
      add(`h${l}.${t}.B`, 'lora', a.B);
      add(`h${l}.${t}.dA`, 'lora', a.dA);
      add(`h${l}.${t}.dB`, 'lora', a.dB);
      // AdamW's m and v are two buffers each (src/gpu/kernels/adamw.ts).
      add(`h${l}.${t}.A.m`, 'optimizer', a.adamA / 2);
      add(`h${l}.${t}.A.v`, 'optimizer', a.adamA / 2);
      add(`h${l}.${t}.B.m`, 'optimizer', a.adamB / 2);
      add(`h${l}.${t}.B.v`, 'optimizer', a.adamB / 2);
      add(`h${l}.${t}.zA`, 'activations', a.zA);
      add(`h${l}.${t}.u`, 'scratch', a.u);
    }
  }

  // The metrics ring and its 4 staging buffers (METRICS_RING slots of 5 + 5 per adapter floats: metrics.ts).
  add('metrics', 'scratch', 5 * METRICS_RING * (5 + 5 * targets.length * L));

  // Generation (generate.ts): one token at a time through one row's graph, with the KV cache of every layer.
  for (const [name, n] of Object.entries(generationBuffers(config, rank, targets.length * L))) add(`gen.${name}`, 'generation', n);
  chunks.forEach((ch, i) => add(`gen.logits[${i}]`, 'generation', ch.rows, true));
  add('gen.staging', 'generation', config.vocab_size);

  const byGroup: Record<PlanGroup, number> = { weights: 0, activations: 0, logits: 0, lora: 0, optimizer: 0, scratch: 0, generation: 0 };
  for (const b of buffers) byGroup[b.group] += b.bytes;
  const total = buffers.reduce((s, b) => s + b.bytes, 0);
  const largest = buffers.filter((b) => !b.chunked).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { shape, rows: N, vocabChunkRows: rowsPerChunk, chunks, buffers, byGroup, total, largest };
}

/**
 * The generation buffers (floats): one row's graph (one block's activations reused by all blocks, two
 * residual rows), the token and its position, each adapter's Z_A and U of one row, the keys and values of
 * every layer at every position (n_positions x C each), and the attention scores of one row.
 */
export function generationBuffers(c: Gpt2Config, rank: number, adapters: number) {
  const block = Object.values(blockActivations(c, 1, 1)).reduce((a, b) => a + b, 0);
  return { block, residual: 2 * c.n_embd, lnf: c.n_embd + 2, token: 1, position: 1, adapters: adapters * 2 * rank, kvCache: 2 * c.n_layer * c.n_positions * c.n_embd, scores: c.n_head * c.n_positions };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;

/** Why a plan will not run on this adapter within `budget` bytes (empty when it fits). */
export function planProblems(plan: Gpt2Plan, limits: BufferLimits, budget: number): string[] {
  const out: string[] = [];
  const bind = bindLimit(limits);
  const { seq, batch } = plan.shape;
  if (plan.largest.bytes > bind) {
    out.push(`the buffer ${plan.largest.name} needs ${mib(plan.largest.bytes)} but this GPU binds at most ${mib(bind)} per buffer; lower the batch (${batch}) or sequence length (${seq})`);
  }
  if (plan.total > budget) {
    const parts = (Object.entries(plan.byGroup) as Array<[PlanGroup, number]>).filter(([, b]) => b > 0).map(([g, b]) => `${g} ${mib(b)}`).join(', ');
    out.push(`needs about ${mib(plan.total)} of GPU memory (${parts}) but the budget is ${mib(budget)}; lower the batch, sequence length or rank, or raise the budget`);
  }
  return out;
}

export function formatBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : mib(b);
}
