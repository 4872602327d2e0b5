// The data path of one GPT-2 LoRA training step, forward and backward side by side (llm.c's layout).
// N = B*T rows, C = n_embd, F = n_inner, H heads of D = C/H, V vocabulary (in chunks of wte rows).
//
// forward                                                            kernel (shaders/)
//   x0 = drop_e(wte[tok] + wpe[pos])               N x C             embedding.wgsl (+ dropout.wgsl)
//   per block l, x = x_l:
//     ln1 = LN(x)                                  N x C             layernorm.wgsl
//     qkv = ln1 Wattn + b  [+ s (drop_l(ln1) A^T) B^T]   N x 3C      bias.wgsl + matmul.wgsl (NN, low-rank epilogue)
//     att = drop_a(causal_softmax(q k^T / sqrt D)) v  N x C, P B.H.T.T  attention.wgsl
//     xMid = x + drop_r(att Wproj + b  [+ LoRA])    N x C
//     ln2 = LN(xMid)
//     fc = ln2 Wfc + b  [+ LoRA]                   N x F
//     gelu = GELU_tanh(fc)                         N x F             activation.wgsl
//     x_{l+1} = xMid + drop_r(gelu Wout + b  [+ LoRA])   N x C
//   lnf = LN(x_L);  logits_c = lnf wte_c^T         N x V_c per chunk (tied head, NT)
//   loss = mean_n (logsumexp - logit[target])                        softmax_xent.wgsl
// Dropout (training only, HF GPT-2's train mode; dropout.wgsl, attention.wgsl): drop_e = embd_pdrop,
// drop_a = attn_pdrop on the probabilities, drop_r = resid_pdrop on each residual branch, drop_l = PEFT's
// lora_dropout on an adapter's input (the frozen path sees the undropped input). Masks are regenerated,
// never stored: backward calls the same kernels with the same site. With every rate 0 the graph is the
// one without dropout, dispatch for dispatch.
// backward (only what the adapters need: nothing below the lowest adapted module's input)
//   dlogits_c = (softmax - onehot) / N (in place);  dlnf = sum_c dlogits_c wte_c
//   dres = LNback(x_L, dlnf)                       the residual stream's gradient
//   per block l, top down, G = dL/d(module output), X its input:
//     adapter grads  dB = s G^T Z_A, U = s G B, dA = U^T drop_l(X)      src/lora/layer.ts
//     dX = G W^T (+ drop_l(U A))                                         (Conv1D W is [in, out]: NT)
//     mlp.c_proj (G = drop_r(dres)) -> dgelu -> dfc = dgelu * GELU'(fc) -> c_fc -> dln2
//     dres += LNback(xMid, dln2)
//     attn.c_proj (G = drop_r(dres)) -> datt -> attention backward -> dqkv -> c_attn -> dln1
//     dres += LNback(x_l, dln1)
// Frozen biases, LayerNorm gains and embeddings get no gradient and no optimizer state.
//
// Generation decodes one token at a time through the same forward with a KV cache (`decode`): embedding
// at the token's position, attention of its query against the cached keys and values.
import type { GpuArena } from '../../gpu/arena.ts';
import { attentionBackward, attentionDecode, attentionForward, type AttentionDropout } from '../../gpu/kernels/attention.ts';
import { biasRows } from '../../gpu/kernels/bias.ts';
import { dropout, type DropoutMask } from '../../gpu/kernels/dropout.ts';
import { activationBackward, activationForward } from '../../gpu/kernels/elementwise.ts';
import { embedding } from '../../gpu/kernels/embedding.ts';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm.ts';
import { matmul } from '../../gpu/kernels/matmul.ts';
import { softmaxXentBackward, softmaxXentForward, type LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import type { Dispatch } from '../../gpu/pipelines.ts';
import { createLoraBatch, loraBackward, loraBackwardInput, type LoraBatch } from '../../lora/layer.ts';
import { LORA_TARGETS, targetDims, type LoraTarget } from '../../models/gpt2.ts';
import type { DropoutRates } from './config.ts';
import type { Adapter, FrozenGpt2 } from './model.ts';
import { backwardScratch, blockActivations, dropoutScratch, type BackwardScratch, type BlockActivation } from './plan.ts';

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
  /** Dropout scratch (training graphs with dropout): a module's output before its residual dropout, and a dropped adapter input. */
  drop: { proj?: GPUBuffer; loraX?: GPUBuffer };
}

/**
 * The activations of a forward graph over B sequences of T tokens. `shared`: one block's buffers for all
 * blocks (inference). `rates`: the dropout the training graph will apply (its scratch is allocated here).
 */
export function allocGraph(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], B: number, T: number, shared: boolean, rates?: DropoutRates): GraphBuffers {
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
    drop: {},
  };
  const scratch = dropoutScratch(c, N, rates, Math.max(0, ...adapters.map((a) => a.lora.nIn)));
  if (scratch.proj) g.drop.proj = arena.storage('dropout.proj', scratch.proj);
  if (scratch.loraX) g.drop.loraX = arena.storage('dropout.loraX', scratch.loraX);
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

/** Where a forward or backward draws its dropout masks (training only): rates, seed, the state's step. */
export interface GraphDropout {
  rates: DropoutRates;
  seed: number;
  /** The training state: its step counter (and micro-batch index) key the masks. */
  state: GPUBuffer;
}

/** The mask kinds of one block (and the embedding, kind 0 of layer 0). */
const SITE = { embd: 0, attn: 1, attnResid: 2, mlpResid: 3, lora: 4 } as const;

/** A dropout site's number: unique per (layer, kind) within a step, below 2^24 (counter_rng.wgsl). */
export function dropoutSite(layer: number, kind: keyof typeof SITE, target?: LoraTarget): number {
  return (layer * 8 + SITE[kind] + (kind === 'lora' ? LORA_TARGETS.indexOf(target!) : 0)) + 1;
}

function maskOf(drop: GraphDropout | undefined, p: number | undefined, site: number): DropoutMask | undefined {
  return drop && p && p > 0 ? { p, site, seed: drop.seed } : undefined;
}

/** The masks of module t in block l: its adapter's input (lora_dropout) and, for the c_proj modules, its residual branch. */
function moduleMasks(drop: GraphDropout | undefined, l: number, t: LoraTarget) {
  const resid = t === 'attn.c_proj' ? dropoutSite(l, 'attnResid') : t === 'mlp.c_proj' ? dropoutSite(l, 'mlpResid') : 0;
  return { lora: maskOf(drop, drop?.rates.lora, dropoutSite(l, 'lora', t)), resid: resid ? maskOf(drop, drop?.rates.resid, resid) : undefined };
}

/**
 * out = x W + b (+ residual) (+ s (x A^T) B^T when adapted): bias first, then one matmul accumulates onto it.
 * With dropout: Z_A from drop_l(x); and out = residual + drop_r(x W + b + ...) through the proj scratch.
 */
function conv1dForward(arena: GpuArena, model: FrozenGpt2, g: GraphBuffers, l: number, t: LoraTarget, adapter: Adapter | undefined, drop?: GraphDropout): Dispatch[] {
  const rows = g.B * g.T;
  const { in: nIn, out: nOut } = targetDims(model.config, t);
  const { x, out, residual: res } = moduleIO(g, l, t);
  const masks = moduleMasks(drop, l, t);
  const frozen = model.blocks[l].conv[t];
  const d: Dispatch[] = [];
  const batch = adapter ? g.lora.get(adapter.label)! : undefined;
  if (adapter && batch) {
    let zIn = x;
    if (masks.lora) {
      zIn = g.drop.loraX!;
      d.push(dropout(arena, 'drop', { count: rows * nIn, mask: masks.lora, x, out: zIn, state: drop!.state }));
    }
    d.push(...matmul(arena, { M: rows, N: adapter.lora.rank, K: nIn, a: zIn, b: adapter.lora.A, c: batch.zA, transB: true, splits: 'auto', label: 'lora.zA' }));
  }
  const branch = masks.resid && res ? g.drop.proj! : out;
  d.push(biasRows(arena, { rows, cols: nOut, bias: frozen.b, out: branch, residual: branch === out ? res : undefined }));
  d.push(
    ...matmul(arena, {
      M: rows, N: nOut, K: nIn, a: x, b: frozen.w, c: branch, accumulate: true,
      lowrank: adapter && batch ? { z: batch.zA, l: adapter.lora.B, rank: adapter.lora.rank, scale: adapter.lora.scale } : undefined,
      label: adapter ? 'conv1d+lora' : 'conv1d',
    }),
  );
  if (branch !== out) d.push(dropout(arena, 'drop_add', { count: rows * nOut, mask: masks.resid!, x: branch, res, out, state: drop!.state }));
  return d;
}

/**
 * Adapter gradients from G (= dL/d out) and, when `dx` is given, dX = G W^T (+ U A). With lora_dropout the
 * dropped input is regenerated for dA and the adapter's part of dX goes through the same mask.
 * `accumulate`: add to dA and dB (a later micro-batch of the step).
 */
function conv1dBackward(arena: GpuArena, model: FrozenGpt2, g: GraphBuffers, l: number, t: LoraTarget, adapter: Adapter | undefined, G: GPUBuffer, dx: GPUBuffer | undefined, drop: GraphDropout | undefined, accumulate: boolean): Dispatch[] {
  const rows = g.B * g.T;
  const { in: nIn, out: nOut } = targetDims(model.config, t);
  const d: Dispatch[] = [];
  const batch = adapter ? g.lora.get(adapter.label)! : undefined;
  const mask = moduleMasks(drop, l, t).lora;
  const frozenDx = () => matmul(arena, { M: rows, N: nIn, K: nOut, a: G, b: model.blocks[l].conv[t].w, c: dx!, transB: true, label: 'conv1d.dX' });
  if (!adapter || !batch) return dx ? frozenDx() : [];
  if (!mask) {
    d.push(...loraBackward(arena, adapter.lora, batch, G, accumulate));
    if (dx) d.push(...loraBackwardInput(arena, adapter.lora, batch, G, dx, { w0Layout: 'inOut' }));
    return d;
  }
  const dropped = g.drop.loraX!;
  const { x } = moduleIO(g, l, t);
  d.push(dropout(arena, 'drop', { count: rows * nIn, mask, x, out: dropped, state: drop!.state }));
  d.push(...loraBackward(arena, adapter.lora, { ...batch, x: dropped }, G, accumulate));
  if (dx) {
    d.push(...frozenDx());
    d.push(...matmul(arena, { M: rows, N: nIn, K: adapter.lora.rank, a: batch.u, b: adapter.lora.A, c: dropped, label: 'lora.dX.UA' }));
    d.push(dropout(arena, 'drop_acc', { count: rows * nIn, mask, x: dropped, out: dx, state: drop!.state }));
  }
  return d;
}

/** The KV cache a decoding forward (one token of one sequence) reads and extends. */
export interface DecodeCache {
  /** u32 [1]: the token's position (written before each token). */
  pos: GPUBuffer;
  /** Positions the cache holds. */
  positions: number;
  /** Per layer, positions x C. */
  k: GPUBuffer[];
  v: GPUBuffer[];
  /** heads x positions scratch. */
  scores: GPUBuffer;
}

/**
 * Embeddings, every block, and the final LayerNorm (lnf): everything before the LM head. `dropout`: the
 * training graph's masks. `decode`: one token (B = T = 1) at position pos[0], attending over the cache.
 */
export function forward(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], g: GraphBuffers, tokens: GPUBuffer, opts: { dropout?: GraphDropout; decode?: DecodeCache } = {}): Dispatch[] {
  const c = model.config;
  const N = g.B * g.T;
  const C = c.n_embd;
  const eps = c.layer_norm_epsilon;
  const { dropout: drop, decode } = opts;
  const find = (l: number, t: LoraTarget) => adapters.find((a) => a.layer === l && a.target === t);
  const embd = maskOf(drop, drop?.rates.embd, dropoutSite(0, 'embd'));
  const d: Dispatch[] = embedding(arena, { rows: N, cols: C, seq: g.T, tokens, chunks: model.wte, wpe: model.wpe, out: embd ? g.drop.proj! : residual(g, 0), position: decode?.pos });
  if (embd) d.push(dropout(arena, 'drop', { count: N * C, mask: embd, x: g.drop.proj!, out: residual(g, 0), state: drop!.state }));
  for (let l = 0; l < c.n_layer; l++) {
    const a = block(g, l);
    const w = model.blocks[l];
    const attnMask = maskOf(drop, drop?.rates.attn, dropoutSite(l, 'attn'));
    const attnDrop: AttentionDropout | undefined = attnMask ? { mask: attnMask, state: drop!.state } : undefined;
    d.push(layerNormForward(arena, { rows: N, cols: C, eps, x: residual(g, l), gamma: w.ln1.g, beta: w.ln1.b, y: a.ln1, stats: a.ln1Stats }));
    d.push(...conv1dForward(arena, model, g, l, 'attn.c_attn', find(l, 'attn.c_attn'), drop));
    if (decode) d.push(...attentionDecode(arena, { heads: c.n_head, dim: C / c.n_head, positions: decode.positions, qkv: a.qkv, pos: decode.pos, kcache: decode.k[l], vcache: decode.v[l], scores: decode.scores, out: a.att }));
    else d.push(...attentionForward(arena, { batch: g.B, seq: g.T, heads: c.n_head, dim: C / c.n_head, qkv: a.qkv, probs: a.probs, out: a.att, dropout: attnDrop }));
    d.push(...conv1dForward(arena, model, g, l, 'attn.c_proj', find(l, 'attn.c_proj'), drop));
    d.push(layerNormForward(arena, { rows: N, cols: C, eps, x: a.xMid, gamma: w.ln2.g, beta: w.ln2.b, y: a.ln2, stats: a.ln2Stats }));
    d.push(...conv1dForward(arena, model, g, l, 'mlp.c_fc', find(l, 'mlp.c_fc'), drop));
    d.push(activationForward(arena, 'gelu', N * c.n_inner, a.fc, a.gelu));
    d.push(...conv1dForward(arena, model, g, l, 'mlp.c_proj', find(l, 'mlp.c_proj'), drop));
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

/**
 * Loss gradient down to the lowest adapter, leaving every adapter's dA and dB written. `dropout`: the
 * forward's masks (same sites). Gradient accumulation: `invCount` 1/(k N) for one of k micro-batches and
 * `accumulate` to add to dA and dB (every micro-batch after the first).
 */
export function backward(arena: GpuArena, model: FrozenGpt2, adapters: readonly Adapter[], g: GraphBuffers, h: LossBuffers, s: Scratch, opts: { dropout?: GraphDropout; invCount?: number; accumulate?: boolean } = {}): Dispatch[] {
  const c = model.config;
  const N = g.B * g.T;
  const C = c.n_embd;
  const [l0, m0] = lowestAdapter(adapters);
  const find = (l: number, t: LoraTarget) => adapters.find((a) => a.layer === l && a.target === t);
  const d: Dispatch[] = [];
  if (!adapters.length) return d;

  // Head: dlogits in place, dlnf = sum_c dlogits_c wte_c (NN), then through ln_f into the residual stream.
  const { dropout: drop, accumulate = false } = opts;
  d.push(...softmaxXentBackward(arena, { rows: N, chunks: h.logits, targets: h.targets, stats: h.xentStats, invCount: opts.invCount }));
  model.wte.forEach((chunk, i) => {
    d.push(...matmul(arena, { M: N, N: C, K: chunk.rows, a: h.logits[i].logits, b: chunk.buffer, c: h.dlnf, accumulate: i > 0, label: 'lm_head.dX' }));
  });
  d.push(layerNormBackward(arena, { rows: N, cols: C, x: residual(g, c.n_layer), gamma: model.lnf.g, stats: g.lnfStats, dy: h.dlnf, dx: s.dres, accumulate: false }));

  for (let l = c.n_layer - 1; l >= l0; l--) {
    const a = block(g, l);
    const w = model.blocks[l];
    // Module k runs if k >= stop; it passes a gradient down (dX) only if k > stop.
    const stop = l === l0 ? m0 : -1;
    const step = (k: number, G: GPUBuffer, dx: GPUBuffer) => (k >= stop ? conv1dBackward(arena, model, g, l, LORA_TARGETS[k], find(l, LORA_TARGETS[k]), G, k > stop ? dx : undefined, drop, accumulate) : []);
    // A residual branch's gradient goes through its dropout mask: G = drop_r(dres), in the proj scratch.
    const branchGrad = (k: number): GPUBuffer => {
      const mask = moduleMasks(drop, l, LORA_TARGETS[k]).resid;
      if (!mask || k < stop) return s.dres;
      d.push(dropout(arena, 'drop', { count: N * C, mask, x: s.dres, out: g.drop.proj!, state: drop!.state }));
      return g.drop.proj!;
    };
    d.push(...step(3, branchGrad(3), s.dgelu));
    if (stop <= 2) d.push(activationBackward(arena, 'gelu', N * c.n_inner, a.fc, s.dgelu, s.dfc));
    d.push(...step(2, s.dfc, s.dln));
    if (stop <= 1) d.push(layerNormBackward(arena, { rows: N, cols: C, x: a.xMid, gamma: w.ln2.g, stats: a.ln2Stats, dy: s.dln, dx: s.dres, accumulate: true }));
    d.push(...step(1, branchGrad(1), s.datt));
    const attnMask = maskOf(drop, drop?.rates.attn, dropoutSite(l, 'attn'));
    if (stop <= 0) d.push(...attentionBackward(arena, { batch: g.B, seq: g.T, heads: c.n_head, dim: C / c.n_head, qkv: a.qkv, probs: a.probs, dout: s.datt, dS: s.dS, dqkv: s.dqkv, dropout: attnMask ? { mask: attnMask, state: drop!.state } : undefined }));
    d.push(...step(0, s.dqkv, s.dln));
    if (stop < 0) d.push(layerNormBackward(arena, { rows: N, cols: C, x: residual(g, l), gamma: w.ln1.g, stats: a.ln1Stats, dy: s.dln, dx: s.dres, accumulate: true }));
  }
  return d;
}
