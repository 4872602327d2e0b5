// The data path of one GPT-2 LoRA training step, forward and backward side by side (llm.c's layout).
// N = B*T rows, C = n_embd, F = n_inner, H heads of D = C/H, V vocabulary (in chunks of wte rows).
//
// forward                                                            kernel (shaders/)
//   x0 = wte[tok] + wpe[pos]                       N x C             embedding.wgsl
//   per block l, x = x_l:
//     ln1 = LN(x)                                  N x C             layernorm.wgsl
//     qkv = ln1 Wattn + b  [+ s (ln1 A^T) B^T]     N x 3C            bias.wgsl + matmul.wgsl (NN, low-rank epilogue)
//     att = causal_softmax(q k^T / sqrt D) v       N x C, P B.H.T.T  attention.wgsl
//     xMid = x + att Wproj + b  [+ LoRA]           N x C
//     ln2 = LN(xMid)
//     fc = ln2 Wfc + b  [+ LoRA]                   N x F
//     gelu = GELU_tanh(fc)                         N x F             activation.wgsl
//     x_{l+1} = xMid + gelu Wout + b  [+ LoRA]     N x C
//   lnf = LN(x_L);  logits_c = lnf wte_c^T         N x V_c per chunk (tied head, NT)
//   loss = mean_n (logsumexp - logit[target])                        softmax_xent.wgsl
// backward (only what the adapters need: nothing below the lowest adapted module's input)
//   dlogits_c = (softmax - onehot) / N (in place);  dlnf = sum_c dlogits_c wte_c
//   dres = LNback(x_L, dlnf)                       the residual stream's gradient
//   per block l, top down, G = dL/d(module output), X its input:
//     adapter grads  dB = s G^T Z_A, U = s G B, dA = U^T X             src/lora/layer.ts
//     dX = G W^T (+ U A)                                                 (Conv1D W is [in, out]: NT)
//     mlp.c_proj (G = dres) -> dgelu -> dfc = dgelu * GELU'(fc) -> c_fc -> dln2
//     dres += LNback(xMid, dln2)
//     attn.c_proj (G = dres) -> datt -> attention backward -> dqkv -> c_attn -> dln1
//     dres += LNback(x_l, dln1)
// Frozen biases, LayerNorm gains and embeddings get no gradient and no optimizer state.
import type { GpuArena } from '../../gpu/arena.ts';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention.ts';
import { biasRows } from '../../gpu/kernels/bias.ts';
import { activationBackward, activationForward } from '../../gpu/kernels/elementwise.ts';
import { embedding } from '../../gpu/kernels/embedding.ts';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm.ts';
import { matmul } from '../../gpu/kernels/matmul.ts';
import { softmaxXentBackward, softmaxXentForward, type LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import type { Dispatch } from '../../gpu/pipelines.ts';
import { createLoraBatch, loraBackward, loraBackwardInput, type LoraBatch } from '../../lora/layer.ts';
import { LORA_TARGETS, targetDims, type LoraTarget } from '../../models/gpt2.ts';
import type { Adapter, FrozenGpt2 } from './model.ts';
import { backwardScratch, blockActivations, type BackwardScratch, type BlockActivation } from './plan.ts';

/** Activations of one forward graph over B sequences of T tokens. */
export interface GraphBuffers {
  B: number;
  T: number;
  /** Residual stream x_0 .. x_L (two buffers, ping-ponged, when blocks are shared). */
  xs: GPUBuffer[];
  /** Per block (one set reused by every block when shared: inference keeps nothing for backward). */
  blocks: Array<Record<BlockActivation, GPUBuffer>>;
  lnf: GPUBuffer;
  lnfStats: GPUBuffer;
  /** Z_A and U of each adapter for this graph's rows, by adapter label. */
  lora: Map<string, LoraBatch>;
}

export function allocGraph(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], B: number, T: number, shared: boolean): GraphBuffers {
  const c = model.config;
  const N = B * T;
  const L = c.n_layer;
  const prefix = shared ? 'gen.' : '';
  const xs = Array.from({ length: shared ? 2 : L + 1 }, (_, l) => arena.storage(`${prefix}x${l}`, N * c.n_embd));
  const sizes = blockActivations(c, B, T);
  const blocks = Array.from({ length: shared ? 1 : L }, (_, l) => {
    const out = {} as Record<BlockActivation, GPUBuffer>;
    for (const [name, n] of Object.entries(sizes) as Array<[BlockActivation, number]>) out[name] = arena.storage(`${prefix}h${l}.${name}`, n);
    return out;
  });
  const g: GraphBuffers = {
    B, T, xs, blocks,
    lnf: arena.storage(`${prefix}lnf`, N * c.n_embd),
    lnfStats: arena.storage(`${prefix}lnf.stats`, 2 * N),
    lora: new Map(),
  };
  for (const a of adapters) {
    const io = moduleIO(g, a.layer, a.target);
    g.lora.set(a.label, createLoraBatch(arena, a.lora, `${prefix}${a.label}`, N, io.x, io.out));
  }
  return g;
}

const block = (g: GraphBuffers, l: number) => g.blocks[g.blocks.length === 1 ? 0 : l];
const residual = (g: GraphBuffers, l: number) => g.xs[g.xs.length === 2 && g.blocks.length === 1 ? l % 2 : l];

/** Input, output and residual of a Conv1D module within block l. */
function moduleIO(g: GraphBuffers, l: number, t: LoraTarget): { x: GPUBuffer; out: GPUBuffer; residual?: GPUBuffer } {
  const a = block(g, l);
  switch (t) {
    case 'attn.c_attn': return { x: a.ln1, out: a.qkv };
    case 'attn.c_proj': return { x: a.att, out: a.xMid, residual: residual(g, l) };
    case 'mlp.c_fc': return { x: a.ln2, out: a.fc };
    case 'mlp.c_proj': return { x: a.gelu, out: residual(g, l + 1), residual: a.xMid };
  }
}

/** out = x W + b (+ residual) (+ s (x A^T) B^T when adapted): bias first, then one matmul accumulates onto it. */
function conv1dForward(arena: GpuArena, model: FrozenGpt2, g: GraphBuffers, l: number, t: LoraTarget, adapter: Adapter | undefined): Dispatch[] {
  const rows = g.B * g.T;
  const { in: nIn, out: nOut } = targetDims(model.config, t);
  const { x, out, residual: res } = moduleIO(g, l, t);
  const frozen = model.blocks[l].conv[t];
  const d: Dispatch[] = [];
  const batch = adapter ? g.lora.get(adapter.label)! : undefined;
  if (adapter && batch) d.push(...matmul(arena, { M: rows, N: adapter.lora.rank, K: nIn, a: x, b: adapter.lora.A, c: batch.zA, transB: true, splits: 'auto', label: 'lora.zA' }));
  d.push(biasRows(arena, { rows, cols: nOut, bias: frozen.b, out, residual: res }));
  d.push(
    ...matmul(arena, {
      M: rows, N: nOut, K: nIn, a: x, b: frozen.w, c: out, accumulate: true,
      lowrank: adapter && batch ? { z: batch.zA, l: adapter.lora.B, rank: adapter.lora.rank, scale: adapter.lora.scale } : undefined,
      label: adapter ? 'conv1d+lora' : 'conv1d',
    }),
  );
  return d;
}

/** Adapter gradients from G (= dL/d out) and, when `dx` is given, dX = G W^T (+ U A). */
function conv1dBackward(arena: GpuArena, model: FrozenGpt2, g: GraphBuffers, l: number, t: LoraTarget, adapter: Adapter | undefined, G: GPUBuffer, dx: GPUBuffer | undefined): Dispatch[] {
  const rows = g.B * g.T;
  const { in: nIn, out: nOut } = targetDims(model.config, t);
  const d: Dispatch[] = [];
  const batch = adapter ? g.lora.get(adapter.label)! : undefined;
  if (adapter && batch) d.push(...loraBackward(arena, adapter.lora, batch, G));
  if (dx) {
    if (adapter && batch) d.push(...loraBackwardInput(arena, adapter.lora, batch, G, dx, { w0Layout: 'inOut' }));
    else d.push(...matmul(arena, { M: rows, N: nIn, K: nOut, a: G, b: model.blocks[l].conv[t].w, c: dx, transB: true, label: 'conv1d.dX' }));
  }
  return d;
}

/** Embeddings, every block, and the final LayerNorm (lnf): everything before the LM head. */
export function forward(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], g: GraphBuffers, tokens: GPUBuffer): Dispatch[] {
  const c = model.config;
  const N = g.B * g.T;
  const C = c.n_embd;
  const eps = c.layer_norm_epsilon;
  const find = (l: number, t: LoraTarget) => adapters.find((a) => a.layer === l && a.target === t);
  const d: Dispatch[] = embedding(arena, { rows: N, cols: C, seq: g.T, tokens, chunks: model.wte, wpe: model.wpe, out: residual(g, 0) });
  for (let l = 0; l < c.n_layer; l++) {
    const a = block(g, l);
    const w = model.blocks[l];
    d.push(layerNormForward(arena, { rows: N, cols: C, eps, x: residual(g, l), gamma: w.ln1.g, beta: w.ln1.b, y: a.ln1, stats: a.ln1Stats }));
    d.push(...conv1dForward(arena, model, g, l, 'attn.c_attn', find(l, 'attn.c_attn')));
    d.push(...attentionForward(arena, { batch: g.B, seq: g.T, heads: c.n_head, dim: C / c.n_head, qkv: a.qkv, probs: a.probs, out: a.att }));
    d.push(...conv1dForward(arena, model, g, l, 'attn.c_proj', find(l, 'attn.c_proj')));
    d.push(layerNormForward(arena, { rows: N, cols: C, eps, x: a.xMid, gamma: w.ln2.g, beta: w.ln2.b, y: a.ln2, stats: a.ln2Stats }));
    d.push(...conv1dForward(arena, model, g, l, 'mlp.c_fc', find(l, 'mlp.c_fc')));
    d.push(activationForward(arena, 'gelu', N * c.n_inner, a.fc, a.gelu));
    d.push(...conv1dForward(arena, model, g, l, 'mlp.c_proj', find(l, 'mlp.c_proj')));
  }
  d.push(layerNormForward(arena, { rows: N, cols: C, eps, x: residual(g, c.n_layer), gamma: model.lnf.g, beta: model.lnf.b, y: g.lnf, stats: g.lnfStats }));
  return d;
}

/** The tied LM head: logits_c (rows x V_c) = x wte_c^T for every vocabulary chunk; x is rows x C. */
export function lmHead(arena: GpuArena, model: FrozenGpt2, rows: number, x: GPUBuffer, logits: readonly LogitChunk[]): Dispatch[] {
  return model.wte.flatMap((chunk, i) =>
    matmul(arena, { M: rows, N: chunk.rows, K: model.config.n_embd, a: x, b: chunk.buffer, c: logits[i].logits, transB: true, label: 'lm_head' }),
  );
}

export interface LossBuffers {
  logits: LogitChunk[];
  targets: GPUBuffer;
  xentStats: GPUBuffer;
  losses: GPUBuffer;
  dlnf: GPUBuffer;
}

/** Per-row cross-entropy losses of the head's logits (mean taken by the metrics reduction). */
export function lossForward(arena: GpuArena, model: FrozenGpt2, g: GraphBuffers, h: LossBuffers): Dispatch[] {
  const rows = g.B * g.T;
  return [...lmHead(arena, model, rows, g.lnf, h.logits), ...softmaxXentForward(arena, { rows, chunks: h.logits, targets: h.targets, stats: h.xentStats, loss: h.losses })];
}

export type Scratch = Record<BackwardScratch, GPUBuffer>;

export function allocScratch(arena: GpuArena, model: FrozenGpt2, B: number, T: number): Scratch {
  const out = {} as Scratch;
  for (const [name, n] of Object.entries(backwardScratch(model.config, B, T)) as Array<[BackwardScratch, number]>) out[name] = arena.storage(name, n);
  return out;
}

/** The lowest adapted module in forward order, where backward stops: [layer, module index in LORA_TARGETS]. */
export function lowestAdapter(adapters: readonly Adapter[]): [number, number] {
  let best: [number, number] = [Infinity, Infinity];
  for (const a of adapters) {
    const k = LORA_TARGETS.indexOf(a.target);
    if (a.layer < best[0] || (a.layer === best[0] && k < best[1])) best = [a.layer, k];
  }
  return best;
}

/** Loss gradient down to the lowest adapter, leaving every adapter's dA and dB written. */
export function backward(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], g: GraphBuffers, h: LossBuffers, s: Scratch): Dispatch[] {
  const c = model.config;
  const N = g.B * g.T;
  const C = c.n_embd;
  const [l0, m0] = lowestAdapter(adapters);
  const find = (l: number, t: LoraTarget) => adapters.find((a) => a.layer === l && a.target === t);
  const d: Dispatch[] = [];
  if (!adapters.length) return d;

  // Head: dlogits in place, dlnf = sum_c dlogits_c wte_c (NN), then through ln_f into the residual stream.
  d.push(...softmaxXentBackward(arena, { rows: N, chunks: h.logits, targets: h.targets, stats: h.xentStats }));
  model.wte.forEach((chunk, i) => {
    d.push(...matmul(arena, { M: N, N: C, K: chunk.rows, a: h.logits[i].logits, b: chunk.buffer, c: h.dlnf, accumulate: i > 0, label: 'lm_head.dX' }));
  });
  d.push(layerNormBackward(arena, { rows: N, cols: C, x: residual(g, c.n_layer), gamma: model.lnf.g, stats: g.lnfStats, dy: h.dlnf, dx: s.dres, accumulate: false }));

  for (let l = c.n_layer - 1; l >= l0; l--) {
    const a = block(g, l);
    const w = model.blocks[l];
    // Module k runs if k >= stop; it passes a gradient down (dX) only if k > stop.
    const stop = l === l0 ? m0 : -1;
    const step = (k: number, G: GPUBuffer, dx: GPUBuffer) => (k >= stop ? conv1dBackward(arena, model, g, l, LORA_TARGETS[k], find(l, LORA_TARGETS[k]), G, k > stop ? dx : undefined) : []);
    d.push(...step(3, s.dres, s.dgelu));
    if (stop <= 2) d.push(activationBackward(arena, 'gelu', N * c.n_inner, a.fc, s.dgelu, s.dfc));
    d.push(...step(2, s.dfc, s.dln));
    if (stop <= 1) d.push(layerNormBackward(arena, { rows: N, cols: C, x: a.xMid, gamma: w.ln2.g, stats: a.ln2Stats, dy: s.dln, dx: s.dres, accumulate: true }));
    d.push(...step(1, s.dres, s.datt));
    if (stop <= 0) d.push(...attentionBackward(arena, { batch: g.B, seq: g.T, heads: c.n_head, dim: C / c.n_head, qkv: a.qkv, probs: a.probs, dout: s.datt, dS: s.dS, dqkv: s.dqkv }));
    d.push(...step(0, s.dqkv, s.dln));
    if (stop < 0) d.push(layerNormBackward(arena, { rows: N, cols: C, x: residual(g, l), gamma: w.ln1.g, stats: a.ln1Stats, dy: s.dln, dx: s.dres, accumulate: true }));
  }
  return d;
}
