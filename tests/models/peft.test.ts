import { describe, expect, it } from 'vitest';
import {
  AdapterError,
  peftTargetModules,
  buildAdapterConfig,
  buildAdapterSafetensors,
  exportPeftAdapter,
  importPeftAdapter,
  loraScaling,
  peftTensorName,
  type AdapterSettings,
  type LoraWeights,
} from '../../src/models/peft.ts';
import { GPT2_MODELS, LORA_TARGETS, targetDims, type Gpt2Config, type LoraTarget } from '../../src/models/gpt2.ts';
import { readSafetensorsHeader, parseSafetensors, writeSafetensors } from '../../src/models/safetensors.ts';
import { FixtureRng, makeTinyGpt2 } from '../../src/reference/tinyGpt2.ts';

const gpt2 = GPT2_MODELS.gpt2.config;

function randomAdapter(config: Gpt2Config, r: number, targets: readonly LoraTarget[], seed = 1): LoraWeights[] {
  const rng = new FixtureRng(seed);
  const out: LoraWeights[] = [];
  for (let layer = 0; layer < config.n_layer; layer++) {
    for (const target of targets) {
      const { in: nIn, out: nOut } = targetDims(config, target);
      out.push({ layer, target, A: rng.gaussian(r * nIn, 1 / Math.sqrt(nIn)), B: rng.gaussian(nOut * r, 0.01) });
    }
  }
  return out;
}

const settings = (over: Partial<AdapterSettings> = {}): AdapterSettings => ({
  baseModel: 'openai-community/gpt2',
  r: 8,
  alpha: 16,
  rslora: false,
  targets: ['attn.c_attn'],
  ...over,
});

describe('PEFT adapter export', () => {
  it('writes adapter_config.json with the LoraConfig fields PEFT expects for GPT-2', () => {
    const c = buildAdapterConfig(settings({ targets: ['attn.c_attn', 'mlp.c_proj'], rslora: true }));
    expect(c).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'openai-community/gpt2',
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0,
      use_rslora: true,
      target_modules: ['attn.c_attn', 'mlp.c_proj'],
      fan_in_fan_out: true,
      bias: 'none',
      modules_to_save: null,
      init_lora_weights: true,
      inference_mode: true,
    });
    // Only keys that PEFT's LoraConfig has had since 0.7 (older versions reject unknown keys).
    const known = new Set([
      'peft_type', 'task_type', 'base_model_name_or_path', 'revision', 'inference_mode', 'r', 'lora_alpha', 'lora_dropout', 'use_rslora',
      'target_modules', 'fan_in_fan_out', 'bias', 'modules_to_save', 'init_lora_weights', 'layers_to_transform', 'layers_pattern',
      'rank_pattern', 'alpha_pattern', 'auto_mapping', 'megatron_config', 'megatron_core', 'loftq_config',
    ]);
    expect(Object.keys(c).filter((k) => !known.has(k))).toEqual([]);
    expect(buildAdapterConfig(settings({ baseModel: null })).base_model_name_or_path).toBeNull();
    expect(buildAdapterConfig(settings({ loraDropout: 0.05 })).lora_dropout).toBe(0.05);
  });

  it('names and shapes tensors as PEFT does: lora_A [r, in], lora_B [out, r] for every layer and target', () => {
    const s = settings({ targets: LORA_TARGETS });
    const bytes = buildAdapterSafetensors(gpt2, s, randomAdapter(gpt2, 8, LORA_TARGETS));
    const header = readSafetensorsHeader(bytes);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.tensors.size).toBe(12 * 4 * 2);
    const shape = (n: string) => header.tensors.get(n)?.shape;
    expect(shape('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')).toEqual([8, 768]);
    expect(shape('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')).toEqual([2304, 8]);
    expect(shape('base_model.model.transformer.h.11.attn.c_proj.lora_A.weight')).toEqual([8, 768]);
    expect(shape('base_model.model.transformer.h.11.attn.c_proj.lora_B.weight')).toEqual([768, 8]);
    expect(shape('base_model.model.transformer.h.5.mlp.c_fc.lora_A.weight')).toEqual([8, 768]);
    expect(shape('base_model.model.transformer.h.5.mlp.c_fc.lora_B.weight')).toEqual([3072, 8]);
    expect(shape('base_model.model.transformer.h.5.mlp.c_proj.lora_A.weight')).toEqual([8, 3072]);
    expect(shape('base_model.model.transformer.h.5.mlp.c_proj.lora_B.weight')).toEqual([768, 8]);
    for (const [, info] of header.tensors) expect(info.dtype).toBe('F32');
    const names = [...header.tensors.keys()];
    expect(names).toEqual([...names].sort()); // sorted, as PEFT's own files are
    expect(peftTensorName(3, 'mlp.c_fc', 'B')).toBe('base_model.model.transformer.h.3.mlp.c_fc.lora_B.weight');
  });

  it('stores A and B unchanged (no transpose under fan_in_fan_out) and reads them back bit-exactly', () => {
    const tiny = makeTinyGpt2(3);
    const targets: LoraTarget[] = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc'];
    const weights = randomAdapter(tiny.config, 4, targets, 9);
    const s = settings({ baseModel: 'test/tiny', r: 4, alpha: 8, targets, notes: { lora_playground_init: 'B-gaussian', loraplus_lambda: '16' } });
    const files = exportPeftAdapter(tiny.config, s, weights);
    const { tensors, metadata } = parseSafetensors(files['adapter_model.safetensors']);
    expect(metadata).toEqual({ format: 'pt', lora_playground_init: 'B-gaussian', loraplus_lambda: '16' });
    const w = weights.find((x) => x.layer === 1 && x.target === 'attn.c_attn')!;
    // A row-major [r, in]: element (i, j) at i * in + j, exactly as given
    expect(tensors.get(peftTensorName(1, 'attn.c_attn', 'A'))!.data).toEqual(w.A);
    expect(tensors.get(peftTensorName(1, 'attn.c_attn', 'B'))!.data).toEqual(w.B);

    const back = importPeftAdapter(tiny.config, files['adapter_config.json'], files['adapter_model.safetensors']);
    expect(back.settings).toMatchObject({ baseModel: 'test/tiny', r: 4, alpha: 8, rslora: false, targets });
    expect(back.weights).toHaveLength(weights.length);
    for (const orig of weights) {
      const got = back.weights.find((x) => x.layer === orig.layer && x.target === orig.target)!;
      expect(got.A).toEqual(orig.A);
      expect(got.B).toEqual(orig.B);
    }
  });

  it('refuses incomplete or mis-shaped weights, naming the layer', () => {
    const s = settings({ targets: ['attn.c_attn'] });
    const w = randomAdapter(gpt2, 8, ['attn.c_attn']);
    expect(() => buildAdapterSafetensors(gpt2, s, w.slice(1))).toThrow(/missing weights for h\.0\.attn\.c_attn/);
    expect(() => buildAdapterSafetensors(gpt2, s, [...w, w[0]])).toThrow(/two weight sets for layer 0/);
    const bad = w.map((x, i) => (i === 2 ? { ...x, B: new Float32Array(8 * 768) } : x));
    expect(() => buildAdapterSafetensors(gpt2, s, bad)).toThrow(/layer 2 attn\.c_attn B has 6144 values, expected out x r = 2304 x 8/);
    expect(() => buildAdapterSafetensors(gpt2, settings({ targets: ['mlp.c_fc'] }), w)).toThrow(/not in target_modules/);
    expect(() => buildAdapterConfig(settings({ r: 0 }))).toThrow(/r must be a positive integer/);
    expect(() => buildAdapterConfig(settings({ targets: [] }))).toThrow(/no target modules/);
  });

  it('imports an adapter as PEFT writes it (F16, only some layers) and refuses foreign ones', () => {
    const tiny = makeTinyGpt2(1);
    const { in: nIn, out: nOut } = targetDims(tiny.config, 'attn.c_attn');
    const a = new Float32Array(2 * nIn).fill(0.5);
    const b = new Float32Array(nOut * 2).fill(-0.25);
    const f16 = writeSafetensors({
      [peftTensorName(1, 'attn.c_attn', 'A')]: { shape: [2, nIn], data: a, dtype: 'F16' },
      [peftTensorName(1, 'attn.c_attn', 'B')]: { shape: [nOut, 2], data: b, dtype: 'F16' },
    });
    const cfg = { peft_type: 'LORA', r: 2, lora_alpha: 4, fan_in_fan_out: true, target_modules: ['c_attn'], layers_to_transform: [1], bias: 'none', use_rslora: false };
    const got = importPeftAdapter(tiny.config, cfg, f16);
    expect(got.weights).toHaveLength(1);
    expect(got.weights[0]).toMatchObject({ layer: 1, target: 'attn.c_attn' });
    expect(got.weights[0].A).toEqual(a);
    expect(got.settings.targets).toEqual(['attn.c_attn']);

    // PEFT sets fan_in_fan_out to true for GPT-2's Conv1D layers itself: false loads the same.
    expect(importPeftAdapter(tiny.config, { ...cfg, fan_in_fan_out: false }, f16).weights[0].A).toEqual(a);
    expect(() => importPeftAdapter(tiny.config, { ...cfg, peft_type: 'IA3' }, f16)).toThrow(/not LORA/);
    expect(() => importPeftAdapter(tiny.config, { ...cfg, r: 3 }, f16)).toThrow(/has shape \[2,32\], expected \[3,32\]/);
    expect(() => importPeftAdapter(tiny.config, { ...cfg, use_dora: true }, f16)).toThrow(/DoRA/);
    const stray = writeSafetensors({ 'base_model.model.lm_head.weight': { shape: [1], data: new Float32Array(1) } });
    expect(() => importPeftAdapter(tiny.config, cfg, stray)).toThrow(/unexpected tensor "base_model\.model\.lm_head\.weight"/);
    // Only layer 1 is in the file: target_modules selects layer 0 too, unless layers_to_transform says [1].
    const layers01 = { ...cfg, layers_to_transform: null };
    expect(() => importPeftAdapter(tiny.config, layers01, f16)).toThrow(/no lora_A and lora_B for h\.0\.attn\.c_attn, which target_modules selects/);
    const onlyA = writeSafetensors({ [peftTensorName(1, 'attn.c_attn', 'A')]: { shape: [2, nIn], data: a } });
    expect(() => importPeftAdapter(tiny.config, { ...cfg, layers_to_transform: [1] }, onlyA)).toThrow(/no lora_B for h\.1\.attn\.c_attn/);
    expect(() => importPeftAdapter(tiny.config, { ...cfg, target_modules: ['mlp.c_fc'] }, f16)).toThrow(/is for a module target_modules does not select/);
  });

  it('resolves target_modules as PEFT does: suffixes, a full-match pattern, all-linear, layers_to_transform', () => {
    const c = makeTinyGpt2(1).config; // 2 layers
    const mods = (tm: unknown, extra: Record<string, unknown> = {}) => peftTargetModules(c, { target_modules: tm, ...extra }).map((m) => `${m.layer}.${m.target}`);
    expect(mods(['c_attn'])).toEqual(['0.attn.c_attn', '1.attn.c_attn']);
    expect(mods(['c_proj'])).toEqual(['0.attn.c_proj', '0.mlp.c_proj', '1.attn.c_proj', '1.mlp.c_proj']); // a bare name matches both
    expect(mods(['attn.c_proj'])).toEqual(['0.attn.c_proj', '1.attn.c_proj']);
    expect(mods('.*\\.h\\.1\\.mlp\\.c_fc')).toEqual(['1.mlp.c_fc']);
    expect(mods('all-linear')).toHaveLength(8);
    expect(mods(['c_fc'], { layers_to_transform: 0 })).toEqual(['0.mlp.c_fc']);
    expect(() => mods(['q_proj'])).toThrow(/names no Conv1D layer/);
    expect(() => mods([])).toThrow(/non-empty list/);
  });

  it('refuses what it cannot load, with the reason, and bad files with a clear message', () => {
    const tiny = makeTinyGpt2(1);
    const w = randomAdapter(tiny.config, 2, ['attn.c_attn']);
    const files = exportPeftAdapter(tiny.config, settings({ r: 2, targets: ['attn.c_attn'] }), w);
    const cfg = JSON.parse(files['adapter_config.json']);
    const bytes = files['adapter_model.safetensors'];
    const load = (c: unknown, b: Uint8Array = bytes) => () => importPeftAdapter(tiny.config, c, b);
    expect(load('{"peft_type": "LORA", ')).toThrow(/adapter_config\.json is not valid JSON/);
    expect(load({ ...cfg, use_dora: true })).toThrow(/DoRA/);
    expect(load({ ...cfg, lora_bias: true })).toThrow(/lora_bias/);
    expect(load({ ...cfg, modules_to_save: ['lm_head'] })).toThrow(/modules_to_save/);
    expect(load({ ...cfg, rank_pattern: { 'h.0.attn.c_attn': 4 } })).toThrow(/rank_pattern/);
    expect(load({ ...cfg, init_lora_weights: 'pissa' })).toThrow(/need the base model PEFT modified/);
    expect(load({ ...cfg, lora_alpha: -1 })).toThrow(/lora_alpha must be a positive number/);
    expect(load({ ...cfg, lora_dropout: 1.5 })).toThrow(/lora_dropout must be in \[0, 1\)/);
    expect(load(cfg, bytes.subarray(0, bytes.length - 7))).toThrow(/truncated/);
    expect(load(cfg, bytes.subarray(0, 5))).toThrow(/too short/);
    const nan = w.map((x, i) => (i === 1 ? { ...x, B: x.B.map((v, j) => (j === 3 ? NaN : v)) } : x));
    expect(load(cfg, buildAdapterSafetensors(tiny.config, settings({ r: 2, targets: ['attn.c_attn'] }), nan))).toThrow(/h\.1\.attn\.c_attn\.lora_B\.weight" holds a non-finite value \(NaN\) at index 3/);
    const renamed = writeSafetensors({ 'base_model.model.transformer.h.0.attn.c_attn.lora_A.default.weight': { shape: [2, 32], data: w[0].A } });
    expect(load(cfg, renamed)).toThrow(/unexpected tensor "base_model\.model\.transformer\.h\.0\.attn\.c_attn\.lora_A\.default\.weight"/);
    const wide = writeSafetensors({ [peftTensorName(0, 'attn.c_attn', 'A')]: { shape: [2, 48], data: new Float32Array(96) } });
    expect(load(cfg, wide)).toThrow(/has shape \[2,48\], expected \[2,32\]/);
    expect(load(cfg, writeSafetensors({ [peftTensorName(5, 'attn.c_attn', 'A')]: { shape: [2, 32], data: w[0].A } }))).toThrow(/names layer 5 but the model has 2/);
  });

  it('scaling follows lora-math.md: alpha / r, or alpha / sqrt(r) with rsLoRA', () => {
    expect(loraScaling(8, 16, false)).toBe(2);
    expect(loraScaling(16, 16, true)).toBe(4);
  });
});
