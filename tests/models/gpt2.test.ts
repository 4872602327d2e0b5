import { describe, expect, it } from 'vitest';
import {
  GPT2_MODELS,
  LORA_TARGETS,
  estimateMemory,
  gpt2ParamCount,
  gpt2WeightsFromTensors,
  isGpt2MaskBuffer,
  loadGpt2,
  memoryProblems,
  parseGpt2Config,
  targetDims,
  type Gpt2Config,
} from '../../src/models/gpt2.ts';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from '../../src/models/safetensors.ts';
import { makeTinyGpt2, TINY_DIMS } from '../../src/reference/tinyGpt2.ts';

// Vitest's deep equality is slow on large typed arrays: compare bits in a loop.
function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('GPT-2 config', () => {
  it('reads the hub config.json of gpt2 (n_inner null -> 4d, n_ctx ignored when n_positions given)', () => {
    const hub = {
      activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256, embd_pdrop: 0.1, eos_token_id: 50256,
      initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024,
      resid_pdrop: 0.1, summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
      summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } }, vocab_size: 50257,
    };
    expect(parseGpt2Config(hub)).toEqual(GPT2_MODELS.gpt2.config);
    expect(parseGpt2Config({ ...hub, n_layer: 6 })).toEqual(GPT2_MODELS.distilgpt2.config);
  });

  it('refuses what the engine does not implement, with the reason', () => {
    const base = { ...GPT2_MODELS.gpt2.config, n_inner: null };
    expect(() => parseGpt2Config({ ...base, model_type: 'llama' })).toThrow(/model_type is "llama"/);
    expect(() => parseGpt2Config({ ...base, n_head: 7 })).toThrow(/not divisible by n_head 7/);
    expect(() => parseGpt2Config({ ...base, n_layer: 0 })).toThrow(/n_layer must be a positive integer/);
    expect(() => parseGpt2Config({ ...base, activation_function: 'relu' })).toThrow(/activation_function "relu"/);
    expect(() => parseGpt2Config({ ...base, scale_attn_by_inverse_layer_idx: true })).toThrow(/scale_attn_by_inverse_layer_idx/);
    expect(() => parseGpt2Config({ ...base, tie_word_embeddings: false })).toThrow(/tie_word_embeddings/);
    expect(() => parseGpt2Config([])).toThrow(/JSON object/);
  });

  it('counts the real parameter numbers of distilgpt2 and gpt2', () => {
    // Known totals (tied LM head counted once): GPT-2 small 124,439,808; DistilGPT-2 81,912,576.
    expect(gpt2ParamCount(GPT2_MODELS.gpt2.config)).toBe(124_439_808);
    expect(gpt2ParamCount(GPT2_MODELS.distilgpt2.config)).toBe(81_912_576);
  });
});

describe('GPT-2 weight map', () => {
  it('loads the tiny model from a real safetensors file + config.json, every tensor in its place', () => {
    const tiny = makeTinyGpt2(7);
    const w = loadGpt2(JSON.stringify(tiny.configJson), tiny.safetensorsBytes);
    expect(w.config).toEqual(tiny.config);
    const { d, layers, vocab, positions } = TINY_DIMS;
    expect(w.layers).toHaveLength(layers);
    expect(w.wte.shape).toEqual([vocab, d]);
    expect(w.wpe.shape).toEqual([positions, d]);
    const same = (a: { data: Float32Array }, name: string) => expect(sameBits(a.data, tiny.tensors.get(name)!.data), name).toBe(true);
    same(w.wte, 'wte.weight');
    same(w.wpe, 'wpe.weight');
    same(w.lnF.weight, 'ln_f.weight');
    same(w.lnF.bias, 'ln_f.bias');
    for (let i = 0; i < layers; i++) {
      const L = w.layers[i];
      same(L.ln1.weight, `h.${i}.ln_1.weight`);
      same(L.ln1.bias, `h.${i}.ln_1.bias`);
      same(L.attn.cAttn.weight, `h.${i}.attn.c_attn.weight`);
      same(L.attn.cAttn.bias, `h.${i}.attn.c_attn.bias`);
      same(L.attn.cProj.weight, `h.${i}.attn.c_proj.weight`);
      same(L.attn.cProj.bias, `h.${i}.attn.c_proj.bias`);
      same(L.ln2.weight, `h.${i}.ln_2.weight`);
      same(L.ln2.bias, `h.${i}.ln_2.bias`);
      same(L.mlp.cFc.weight, `h.${i}.mlp.c_fc.weight`);
      same(L.mlp.cFc.bias, `h.${i}.mlp.c_fc.bias`);
      same(L.mlp.cProj.weight, `h.${i}.mlp.c_proj.weight`);
      same(L.mlp.cProj.bias, `h.${i}.mlp.c_proj.bias`);
      expect(L.attn.cAttn.weight.shape).toEqual([d, 3 * d]); // Conv1D [in, out]
      expect(L.mlp.cFc.weight.shape).toEqual([d, 4 * d]);
      expect(L.mlp.cProj.weight.shape).toEqual([4 * d, d]);
    }
  });

  it('is deterministic in the seed and differs across seeds', () => {
    expect(sameBits(makeTinyGpt2(3).safetensorsBytes, makeTinyGpt2(3).safetensorsBytes)).toBe(true);
    expect(sameBits(makeTinyGpt2(3).tensors.get('wte.weight')!.data, makeTinyGpt2(4).tensors.get('wte.weight')!.data)).toBe(false);
  });

  it('accepts the "transformer." prefix, skips attn.bias mask buffers, accepts a tied lm_head', () => {
    const tiny = makeTinyGpt2(1);
    const withExtras = new Map<string, TensorToWrite>();
    for (const [n, t] of tiny.tensors) withExtras.set('transformer.' + n, t);
    withExtras.set('transformer.h.0.attn.bias', { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64).fill(1) });
    withExtras.set('transformer.h.1.attn.masked_bias', { shape: [], data: new Float32Array([-1e4]) });
    withExtras.set('lm_head.weight', tiny.tensors.get('wte.weight')!);
    const w = loadGpt2(tiny.configJson, writeSafetensors(withExtras));
    expect(sameBits(w.wte.data, tiny.tensors.get('wte.weight')!.data)).toBe(true);
    expect(isGpt2MaskBuffer('h.11.attn.bias')).toBe(true);
    expect(isGpt2MaskBuffer('h.11.attn.c_attn.bias')).toBe(false);
  });

  it('skips mask buffers of a non-float dtype without converting them (as old GPT-2 checkpoints store them)', () => {
    const tiny = makeTinyGpt2(1);
    // Append a BOOL mask by hand: the writer only writes floats.
    const parsed = parseSafetensors(tiny.safetensorsBytes);
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const parts: Uint8Array[] = [];
    let off = 0;
    for (const [n, t] of parsed.tensors) {
      header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
      parts.push(new Uint8Array(t.data.slice().buffer));
      off += t.data.byteLength;
    }
    header['h.0.attn.bias'] = { dtype: 'BOOL', shape: [1, 1, 4, 4], data_offsets: [off, off + 16] };
    parts.push(new Uint8Array(16).fill(1));
    off += 16;
    const h = new TextEncoder().encode(JSON.stringify(header));
    const file = new Uint8Array(8 + h.length + off);
    new DataView(file.buffer).setBigUint64(0, BigInt(h.length), true);
    file.set(h, 8);
    let at = 8 + h.length;
    for (const p of parts) {
      file.set(p, at);
      at += p.length;
    }
    expect(loadGpt2(tiny.configJson, file).layers).toHaveLength(2);
  });

  it('loads F16 and BF16 checkpoints (widened to f32)', () => {
    const tiny = makeTinyGpt2(2);
    const half = new Map<string, TensorToWrite>([...tiny.tensors].map(([n, t]) => [n, { ...t, dtype: 'F16' as const }]));
    const w = loadGpt2(tiny.configJson, writeSafetensors(half));
    const orig = tiny.tensors.get('h.1.mlp.c_fc.weight')!.data;
    const got = w.layers[1].mlp.cFc.weight.data;
    for (let i = 0; i < orig.length; i++) expect(Math.abs(got[i] - orig[i])).toBeLessThanOrEqual(Math.abs(orig[i]) * 2 ** -11 + 2 ** -24);
  });

  it('names what is missing, unexpected, mis-shaped, duplicated or untied', () => {
    const tiny = makeTinyGpt2(1);
    const cfg = tiny.config;
    const without = new Map(tiny.tensors);
    without.delete('h.1.mlp.c_proj.bias');
    without.set('h.0.attn.c_attn.lora_A.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => gpt2WeightsFromTensors(cfg, without)).toThrow(/missing h\.1\.mlp\.c_proj\.bias\. unexpected h\.0\.attn\.c_attn\.lora_A\.weight/);

    const transposed = new Map(tiny.tensors);
    const { d } = TINY_DIMS;
    transposed.set('h.0.attn.c_attn.weight', { shape: [3 * d, d], data: new Float32Array(3 * d * d) }); // nn.Linear layout: wrong for GPT-2
    expect(() => gpt2WeightsFromTensors(cfg, transposed)).toThrow(/"h\.0\.attn\.c_attn\.weight" has shape \[96,32\] but the config implies \[32,96\]/);

    const twice = new Map(tiny.tensors);
    twice.set('transformer.wpe.weight', tiny.tensors.get('wpe.weight')!);
    expect(() => gpt2WeightsFromTensors(cfg, twice)).toThrow(/"wpe\.weight" twice/);

    const untied = new Map(tiny.tensors);
    untied.set('lm_head.weight', { shape: tiny.tensors.get('wte.weight')!.shape, data: tiny.tensors.get('wte.weight')!.data.map((x) => x + 1) });
    expect(() => gpt2WeightsFromTensors(cfg, untied)).toThrow(/untied/);

    const bigger: Gpt2Config = { ...cfg, n_layer: 3 };
    expect(() => gpt2WeightsFromTensors(bigger, tiny.tensors)).toThrow(/3-layer GPT-2: missing h\.2\.ln_1\.weight/);
  });

  it('reports target dimensions as PEFT in/out features', () => {
    const c = GPT2_MODELS.gpt2.config;
    expect(LORA_TARGETS.map((t) => targetDims(c, t))).toEqual([
      { in: 768, out: 2304 },
      { in: 768, out: 768 },
      { in: 768, out: 3072 },
      { in: 3072, out: 768 },
    ]);
  });
});

describe('memory estimate', () => {
  const gpt2 = GPT2_MODELS.gpt2.config;

  it('weights, LoRA and optimizer bytes are exact', () => {
    const e = estimateMemory(gpt2, { seq: 128, batch: 4, rank: 8, targets: ['attn.c_attn'] });
    expect(e.weights).toBe(124_439_808 * 4);
    const lora = 12 * 8 * (768 + 2304); // per layer r * (in + out)
    expect(e.lora).toBe(2 * lora * 4);
    expect(e.optimizer).toBe(2 * lora * 4);
    expect(e.total).toBe(e.weights + e.activations + e.lora + e.optimizer);
  });

  it('activations grow linearly in batch, faster than linearly in sequence (attention), and with rank', () => {
    const a = (seq: number, batch: number, rank = 8) => estimateMemory(gpt2, { seq, batch, rank, targets: LORA_TARGETS }).activations;
    expect(a(128, 8)).toBeCloseTo(2 * a(128, 4), -1);
    expect(a(256, 4) / a(128, 4)).toBeGreaterThan(2);
    expect(a(128, 4, 16)).toBeGreaterThan(a(128, 4, 8));
    // The logits dominate at GPT-2's vocabulary: B*T*V floats at least.
    expect(a(128, 4)).toBeGreaterThan(4 * 128 * 50257 * 4);
  });

  it('names the largest buffer and reports configs that do not fit', () => {
    const small = estimateMemory(gpt2, { seq: 64, batch: 1, rank: 4, targets: ['attn.c_attn'] });
    expect(small.largestBuffer).toEqual({ name: 'wte (embedding / LM head)', bytes: 50257 * 768 * 4 });
    const big = estimateMemory(gpt2, { seq: 1024, batch: 8, rank: 4, targets: ['attn.c_attn'] });
    expect(big.largestBuffer.name).toBe('logits');
    // WebGPU's default maxStorageBufferBindingSize (128 MiB) is smaller than GPT-2's embedding matrix.
    expect(memoryProblems(small, { maxStorageBufferBindingSize: 128 * 2 ** 20 })).toEqual([
      'the wte (embedding / LM head) buffer needs 147 MiB; this GPU binds at most 128 MiB per buffer',
    ]);
    expect(memoryProblems(small, { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31, maxTotalBytes: 4 * 2 ** 30 })).toEqual([]);
    expect(memoryProblems(big, { maxTotalBytes: 2 ** 30 })[0]).toMatch(/needs about \d+ MiB of GPU memory; the limit is 1024 MiB/);
  });

  it('refuses impossible requests', () => {
    expect(() => estimateMemory(gpt2, { seq: 2048, batch: 1, rank: 8, targets: [] })).toThrow(/exceeds n_positions 1024/);
    expect(() => estimateMemory(gpt2, { seq: 16, batch: 0, rank: 8, targets: [] })).toThrow(/batch must be a positive integer/);
  });
});
