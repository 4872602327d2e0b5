// GPT-2: config, the weight map from safetensors names to a typed structure, and a memory estimate.
//
// Layout facts the kernels rely on (HF transformers' GPT-2, d = n_embd, F = n_inner = 4d by default):
//   wte [vocab, d] (also the LM head: tied), wpe [n_positions, d], ln_f.{weight,bias} [d]
//   per layer h.i:  ln_1, ln_2 .{weight,bias} [d]
//                   attn.c_attn.weight [d, 3d] + bias [3d]   (q | k | v along the output axis)
//                   attn.c_proj.weight [d, d]  + bias [d]
//                   mlp.c_fc.weight    [d, F]  + bias [F]
//                   mlp.c_proj.weight  [F, d]  + bias [d]
// NOTE: Conv1D weights are stored [in, out] (y = x W + b), the transpose of nn.Linear's [out, in].
// `h.i.attn.bias` / `h.i.attn.masked_bias` are causal-mask buffers, not parameters: skipped.

import { printable, quote, quoteJson } from '../experiments/untrusted.ts';
import { parseSafetensors, type ParseOptions } from './safetensors.ts';

export interface Gpt2Config {
  model_type: 'gpt2';
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_positions: number;
  vocab_size: number;
  layer_norm_epsilon: number;
  /** MLP width; config.json's null means 4 * n_embd, resolved here. */
  n_inner: number;
  /** GPT-2's GELU is the tanh approximation ("gelu_new" == "gelu_pytorch_tanh"). */
  activation_function: 'gelu_new' | 'gelu_pytorch_tanh';
  /**
   * Dropout probabilities HF's GPT-2 applies in train mode (0.1 each in GPT-2's config.json and in
   * GPT2Config's defaults): after the embeddings, on the attention probabilities, and on each residual
   * branch (attn.c_proj and mlp.c_proj outputs) before it is added to the stream.
   */
  embd_pdrop: number;
  attn_pdrop: number;
  resid_pdrop: number;
}

export class Gpt2Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Gpt2Error';
  }
}

/** Reads a Hugging Face config.json (GPT-2 family) and refuses options the engine does not implement. */
export function parseGpt2Config(json: unknown): Gpt2Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Gpt2Error('config.json must be a JSON object');
  const c = json as Record<string, unknown>;
  if (c.model_type !== undefined && c.model_type !== 'gpt2') throw new Gpt2Error(`config.json: model_type is ${quoteJson(c.model_type)}, expected "gpt2"`);
  const int = (key: string, fallback?: string): number => {
    const v = c[key] ?? (fallback !== undefined ? c[fallback] : undefined);
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new Gpt2Error(`config.json: ${key} must be a positive integer, got ${quoteJson(v)}`);
    return v as number;
  };
  const n_embd = int('n_embd');
  const n_head = int('n_head');
  if (n_embd % n_head !== 0) throw new Gpt2Error(`config.json: n_embd ${n_embd} is not divisible by n_head ${n_head}`);
  const eps = c.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new Gpt2Error(`config.json: layer_norm_epsilon must be a positive number, got ${quoteJson(eps)}`);
  const act = c.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') throw new Gpt2Error(`config.json: activation_function ${quoteJson(act)} is not supported (GPT-2 uses "gelu_new")`);
  const refuse = (key: string, ok: unknown) => {
    if (c[key] !== undefined && c[key] !== ok) throw new Gpt2Error(`config.json: ${key}=${quoteJson(c[key])} is not supported (only ${JSON.stringify(ok)})`);
  };
  refuse('scale_attn_weights', true);
  refuse('scale_attn_by_inverse_layer_idx', false);
  refuse('reorder_and_upcast_attn', false);
  refuse('add_cross_attention', false);
  refuse('tie_word_embeddings', true);
  const pdrop = (key: string): number => {
    const v = c[key] ?? 0.1; // GPT2Config's default
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Gpt2Error(`config.json: ${key} must be a probability in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    model_type: 'gpt2',
    n_embd,
    n_layer: int('n_layer'),
    n_head,
    n_positions: int('n_positions', 'n_ctx'),
    vocab_size: int('vocab_size'),
    layer_norm_epsilon: eps,
    n_inner: c.n_inner == null ? 4 * n_embd : int('n_inner'),
    activation_function: act,
    embd_pdrop: pdrop('embd_pdrop'),
    attn_pdrop: pdrop('attn_pdrop'),
    resid_pdrop: pdrop('resid_pdrop'),
  };
}

/** GPT-2's own dropout probabilities (config.json of distilgpt2 and gpt2; GPT2Config's defaults). */
export const GPT2_DROPOUT = { embd_pdrop: 0.1, attn_pdrop: 0.1, resid_pdrop: 0.1 } as const;

/** The models the playground offers. Configs are the hub's config.json values (used to estimate memory before downloading). */
export const GPT2_MODELS = {
  distilgpt2: {
    id: 'distilgpt2',
    repo: 'distilbert/distilgpt2',
    label: 'DistilGPT-2 (82M parameters, 6 layers)',
    config: { model_type: 'gpt2', n_embd: 768, n_layer: 6, n_head: 12, n_positions: 1024, vocab_size: 50257, layer_norm_epsilon: 1e-5, n_inner: 3072, activation_function: 'gelu_new', ...GPT2_DROPOUT },
  },
  gpt2: {
    id: 'gpt2',
    repo: 'openai-community/gpt2',
    label: 'GPT-2 small (124M parameters, 12 layers)',
    config: { model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257, layer_norm_epsilon: 1e-5, n_inner: 3072, activation_function: 'gelu_new', ...GPT2_DROPOUT },
  },
} as const satisfies Record<string, { id: string; repo: string; label: string; config: Gpt2Config }>;
export type Gpt2ModelId = keyof typeof GPT2_MODELS;
/** Files the loader needs from a model repo. */
export const GPT2_MODEL_FILES = ['config.json', 'model.safetensors'] as const;

// ---- weights ----

export interface Param {
  shape: number[];
  /** Row-major f32. */
  data: Float32Array;
}
export interface Conv1D {
  weight: Param; // [in, out]
  bias: Param; // [out]
}
export interface LayerNorm {
  weight: Param; // [d]
  bias: Param; // [d]
}
export interface Gpt2Layer {
  ln1: LayerNorm;
  attn: { cAttn: Conv1D; cProj: Conv1D };
  ln2: LayerNorm;
  mlp: { cFc: Conv1D; cProj: Conv1D };
}
export interface Gpt2Weights {
  config: Gpt2Config;
  wte: Param; // [vocab, d], also the (tied) LM head
  wpe: Param; // [n_positions, d]
  layers: Gpt2Layer[];
  lnF: LayerNorm;
}

/** The adaptable Conv1D layers, named as PEFT's target_modules suffixes (".attn.c_proj" differs from ".mlp.c_proj"). */
export const LORA_TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** in_features / out_features of a target layer (its Conv1D weight is [in, out]). */
export function targetDims(config: Gpt2Config, target: LoraTarget): { in: number; out: number } {
  const d = config.n_embd;
  const f = config.n_inner;
  switch (target) {
    case 'attn.c_attn': return { in: d, out: 3 * d };
    case 'attn.c_proj': return { in: d, out: d };
    case 'mlp.c_fc': return { in: d, out: f };
    case 'mlp.c_proj': return { in: f, out: d };
  }
}

/** Every parameter's canonical name (no "transformer." prefix) and shape, in the order GPT-2 defines them. */
export function gpt2ParamShapes(config: Gpt2Config): Map<string, number[]> {
  const { n_embd: d, n_inner: f, vocab_size: v, n_positions: p } = config;
  const m = new Map<string, number[]>([['wte.weight', [v, d]], ['wpe.weight', [p, d]]]);
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}.`;
    m.set(h + 'ln_1.weight', [d]).set(h + 'ln_1.bias', [d]);
    m.set(h + 'attn.c_attn.weight', [d, 3 * d]).set(h + 'attn.c_attn.bias', [3 * d]);
    m.set(h + 'attn.c_proj.weight', [d, d]).set(h + 'attn.c_proj.bias', [d]);
    m.set(h + 'ln_2.weight', [d]).set(h + 'ln_2.bias', [d]);
    m.set(h + 'mlp.c_fc.weight', [d, f]).set(h + 'mlp.c_fc.bias', [f]);
    m.set(h + 'mlp.c_proj.weight', [f, d]).set(h + 'mlp.c_proj.bias', [d]);
  }
  m.set('ln_f.weight', [d]).set('ln_f.bias', [d]);
  return m;
}

export function gpt2ParamCount(config: Gpt2Config): number {
  let n = 0;
  for (const s of gpt2ParamShapes(config).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Names in a GPT-2 checkpoint that are buffers, not parameters. */
export const isGpt2MaskBuffer = (name: string): boolean => /^(transformer\.)?h\.\d+\.attn\.(masked_)?bias$/.test(name);

/**
 * Maps checkpoint tensors (names with or without the "transformer." prefix) onto the typed structure,
 * checking every shape against the config. Mask buffers are ignored; a tied `lm_head.weight` is accepted
 * only if it equals wte. Anything missing or unexpected is an error that lists the names.
 */
export function gpt2WeightsFromTensors(config: Gpt2Config, tensors: Map<string, Param>): Gpt2Weights {
  const expected = gpt2ParamShapes(config);
  const found = new Map<string, Param>();
  const unexpected: string[] = [];
  let lmHead: Param | undefined;
  for (const [rawName, t] of tensors) {
    if (isGpt2MaskBuffer(rawName)) continue;
    if (rawName === 'lm_head.weight') {
      lmHead = t;
      continue;
    }
    const name = rawName.startsWith('transformer.') ? rawName.slice('transformer.'.length) : rawName;
    if (!expected.has(name)) unexpected.push(rawName);
    else if (found.has(name)) throw new Gpt2Error(`checkpoint has ${quote(name, 80)} twice (with and without the "transformer." prefix)`);
    else found.set(name, t);
  }
  const missing = [...expected.keys()].filter((n) => !found.has(n));
  if (missing.length || unexpected.length) {
    const list = (xs: string[]) => xs.slice(0, 8).map((x) => printable(x, 80)).join(', ') + (xs.length > 8 ? `, ... (${xs.length} in all)` : '');
    throw new Gpt2Error(
      `checkpoint does not match a ${config.n_layer}-layer GPT-2:` +
        (missing.length ? ` missing ${list(missing)}.` : '') +
        (unexpected.length ? ` unexpected ${list(unexpected)}.` : ''),
    );
  }
  for (const [name, shape] of expected) {
    const t = found.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new Gpt2Error(`${quote(name, 80)} has shape [${t.shape}] but the config implies [${shape}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Gpt2Error(`${quote(name, 80)}: data length ${t.data.length} does not match shape [${shape}]`);
  }
  const get = (name: string) => found.get(name)!;
  if (lmHead) {
    const wte = get('wte.weight');
    const same = lmHead.data.length === wte.data.length && lmHead.data.every((x, i) => Object.is(x, wte.data[i]));
    if (!same) throw new Gpt2Error('lm_head.weight differs from wte.weight: untied LM heads are not supported');
  }
  const conv = (p: string): Conv1D => ({ weight: get(p + '.weight'), bias: get(p + '.bias') });
  const layers: Gpt2Layer[] = [];
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}.`;
    layers.push({
      ln1: conv(h + 'ln_1'),
      attn: { cAttn: conv(h + 'attn.c_attn'), cProj: conv(h + 'attn.c_proj') },
      ln2: conv(h + 'ln_2'),
      mlp: { cFc: conv(h + 'mlp.c_fc'), cProj: conv(h + 'mlp.c_proj') },
    });
  }
  return { config, wte: get('wte.weight'), wpe: get('wpe.weight'), layers, lnF: conv('ln_f') };
}

/** config.json (parsed JSON or text) + model.safetensors bytes -> validated weights. F16/BF16 files are widened to f32. */
export function loadGpt2(configJson: unknown, safetensors: ArrayBuffer | Uint8Array): Gpt2Weights {
  const config = parseGpt2Config(typeof configJson === 'string' ? JSON.parse(configJson) : configJson);
  const skip: ParseOptions['skip'] = (name) => isGpt2MaskBuffer(name);
  const { tensors } = parseSafetensors(safetensors, { skip });
  return gpt2WeightsFromTensors(config, tensors);
}

// ---- memory estimate ----

export interface MemoryRequest {
  seq: number; // tokens per example (<= n_positions)
  batch: number;
  rank: number;
  targets: readonly LoraTarget[];
}

export interface MemoryEstimate {
  /** Frozen base weights, f32. */
  weights: number;
  /** Saved forward activations for backward, plus backward scratch (one layer's worth) and logits. */
  activations: number;
  /** LoRA A and B and their gradients. */
  lora: number;
  /** AdamW m and v for A and B. */
  optimizer: number;
  total: number;
  /** The biggest single buffer (WebGPU caps one buffer at maxBufferSize / maxStorageBufferBindingSize). */
  largestBuffer: { name: string; bytes: number };
}

const F32 = 4;

/**
 * Bytes an fp32 LoRA training step needs on the GPU, following llm.c's accounting of GPT-2 activations
 * with attention scores materialised (B*H*T*T per layer). An estimate for refusing configs up front,
 * not a promise: the engine's real allocation may differ by its scratch buffers.
 */
export function estimateMemory(config: Gpt2Config, req: MemoryRequest): MemoryEstimate {
  const { seq: T, batch: B, rank: r } = req;
  for (const [k, v] of Object.entries({ seq: T, batch: B, rank: r })) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new Gpt2Error(`estimateMemory: ${k} must be a positive integer, got ${v}`);
  }
  if (T > config.n_positions) throw new Gpt2Error(`estimateMemory: seq ${T} exceeds n_positions ${config.n_positions}`);
  const { n_embd: C, n_inner: F, n_head: H, vocab_size: V, n_layer: L } = config;
  const N = B * T;
  const targets = [...new Set(req.targets)];

  const weights = gpt2ParamCount(config) * F32;

  let loraParams = 0;
  for (const t of targets) {
    const { in: i, out: o } = targetDims(config, t);
    loraParams += L * r * (i + o);
  }
  const lora = 2 * loraParams * F32; // A, B + grads
  const optimizer = 2 * loraParams * F32; // m, v

  const att = B * H * T * T;
  // Saved per layer: ln_1 out + mean/rstd, qkv, attention probs, attention out, residual, ln_2 out + mean/rstd,
  // fc pre-GELU, fc post-GELU, residual out, and each target's Z_A = X A^T.
  const perLayer = N * C + 2 * N + 3 * N * C + att + N * C + N * C + N * C + 2 * N + N * F + N * F + N * C + targets.length * N * r;
  const saved = N * C /* embeddings */ + L * perLayer + N * C + 2 * N /* ln_f */ + N * V /* logits, probs in place */ + N /* losses */;
  const scratch = perLayer + 2 * N * C; // one layer's activation gradients + the residual-stream gradient
  const activations = (saved + scratch) * F32;

  const candidates: Array<[string, number]> = [
    ['wte (embedding / LM head)', V * C],
    ['wpe', config.n_positions * C],
    ['logits', N * V],
    ['attention scores (one layer)', att],
    ['mlp.c_fc weight', C * F],
    ['mlp activations (one layer)', N * F],
  ];
  const [name, n] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { weights, activations, lora, optimizer, total: weights + activations + lora + optimizer, largestBuffer: { name, bytes: n * F32 } };
}

export interface MemoryLimits {
  /** What the app allows itself in total (e.g. a fraction of the device's memory, which WebGPU does not report). */
  maxTotalBytes?: number;
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

/** Reasons a configuration will not fit, for the UI to show (empty when it fits). */
export function memoryProblems(est: MemoryEstimate, limits: MemoryLimits): string[] {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const out: string[] = [];
  if (limits.maxTotalBytes !== undefined && est.total > limits.maxTotalBytes) out.push(`needs about ${mb(est.total)} of GPU memory; the limit is ${mb(limits.maxTotalBytes)}`);
  const buf = Math.min(limits.maxBufferSize ?? Infinity, limits.maxStorageBufferBindingSize ?? Infinity);
  if (est.largestBuffer.bytes > buf) out.push(`the ${est.largestBuffer.name} buffer needs ${mb(est.largestBuffer.bytes)}; this GPU binds at most ${mb(buf)} per buffer`);
  return out;
}
