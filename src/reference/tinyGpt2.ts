// A tiny GPT-2-shaped model built in code: seeded random weights under GPT-2's exact tensor names and layouts,
// written as a real safetensors file plus a config.json. The model-loader tests read it back; the transformer
// kernel tests use it as their fixture.
//
// Weights are drawn so activations stay O(1) and nothing is exactly zero or one (a zero bias or a unit
// LayerNorm gain hides indexing bugs): Conv1D weight [in, out] ~ N(0, 1/in), biases ~ N(0, 0.1^2),
// LayerNorm gain 1 + N(0, 0.1^2) and shift N(0, 0.1^2), wte / wpe ~ N(0, 0.5^2).
// The names are written out here independently of src/models/gpt2.ts, so the loader is tested against them.

import { writeSafetensors, type TensorToWrite } from '../models/safetensors.ts';
import type { Gpt2Config } from '../models/gpt2.ts';

export interface TinyDims {
  d: number; // n_embd
  layers: number;
  heads: number;
  vocab: number;
  positions: number;
  /** MLP width (default 4d). */
  inner?: number;
}

export const TINY_DIMS: TinyDims = { d: 32, layers: 2, heads: 4, vocab: 320, positions: 64 };

export interface TinyTensor {
  shape: number[];
  data: Float32Array;
}

export interface TinyGpt2 {
  config: Gpt2Config;
  /** config.json as the hub writes it (n_inner null when it is 4d). */
  configJson: Record<string, unknown>;
  /** GPT-2 names without a prefix, in GPT-2's parameter order. */
  tensors: Map<string, TinyTensor>;
  safetensorsBytes: Uint8Array;
}

/** Small deterministic generator (splitmix32 + Box-Muller), independent of the app's RNG so fixtures never drift with it. */
export class FixtureRng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.s = (seed ^ 0x5eed1e55) | 0;
  }
  u32(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** (0, 1) */
  uniform(): number {
    return (this.u32() + 0.5) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
  gaussian(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }
}

export function makeTinyGpt2(seed = 1, dims: TinyDims = TINY_DIMS, opts: { prefix?: '' | 'transformer.' } = {}): TinyGpt2 {
  const { d, layers, heads, vocab, positions } = dims;
  const inner = dims.inner ?? 4 * d;
  if (d % heads !== 0) throw new Error(`makeTinyGpt2: d ${d} not divisible by heads ${heads}`);
  const rng = new FixtureRng(seed);
  const tensors = new Map<string, TinyTensor>();
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    tensors.set(name, { shape, data: rng.gaussian(shape.reduce((a, b) => a * b, 1), std, mean) });
  };
  const conv = (name: string, nIn: number, nOut: number) => {
    put(`${name}.weight`, [nIn, nOut], 1 / Math.sqrt(nIn)); // Conv1D: [in, out]
    put(`${name}.bias`, [nOut], 0.1);
  };
  const ln = (name: string) => {
    put(`${name}.weight`, [d], 0.1, 1);
    put(`${name}.bias`, [d], 0.1);
  };
  put('wte.weight', [vocab, d], 0.5);
  put('wpe.weight', [positions, d], 0.5);
  for (let i = 0; i < layers; i++) {
    ln(`h.${i}.ln_1`);
    conv(`h.${i}.attn.c_attn`, d, 3 * d);
    conv(`h.${i}.attn.c_proj`, d, d);
    ln(`h.${i}.ln_2`);
    conv(`h.${i}.mlp.c_fc`, d, inner);
    conv(`h.${i}.mlp.c_proj`, inner, d);
  }
  ln('ln_f');

  const configJson: Record<string, unknown> = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    n_embd: d,
    n_layer: layers,
    n_head: heads,
    n_positions: positions,
    n_ctx: positions,
    n_inner: dims.inner === undefined ? null : inner,
    vocab_size: vocab,
    layer_norm_epsilon: 1e-5,
    bos_token_id: vocab - 1,
    eos_token_id: vocab - 1,
    attn_pdrop: 0.1,
    embd_pdrop: 0.1,
    resid_pdrop: 0.1,
    scale_attn_weights: true,
    tie_word_embeddings: true,
  };
  const config: Gpt2Config = {
    model_type: 'gpt2',
    n_embd: d,
    n_layer: layers,
    n_head: heads,
    n_positions: positions,
    vocab_size: vocab,
    layer_norm_epsilon: 1e-5,
    n_inner: inner,
    activation_function: 'gelu_new',
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
    resid_pdrop: 0.1,
  };
  const prefix = opts.prefix ?? '';
  const toWrite = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) toWrite.set(prefix + name, t);
  return { config, configJson, tensors, safetensorsBytes: writeSafetensors(toWrite, { format: 'pt' }) };
}
