// Export (and re-import) of a trained GPT-2 adapter in PEFT's on-disk format, loadable with
// `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), folder)` unchanged.
//
//   adapter_config.json        LoraConfig fields (fan_in_fan_out: true because GPT-2's layers are Conv1D)
//   adapter_model.safetensors  base_model.model.transformer.h.{i}.{target}.lora_A.weight  [r, in_features]
//                              base_model.model.transformer.h.{i}.{target}.lora_B.weight  [out_features, r]
//
// NOTE: PEFT builds lora_A = nn.Linear(in, r) and lora_B = nn.Linear(r, out) for Conv1D too (in/out come from
// the Conv1D weight's [in, out] shape), and its forward is x @ A^T @ B^T * scaling: fan_in_fan_out only
// transposes the merged delta (B A)^T to match Conv1D's [in, out] storage. So A and B are stored exactly as
// lora-math.md defines them (A: r x n_in, B: n_out x r), with no transpose, and scaling = alpha / r
// (alpha / sqrt(r) with use_rslora).

import { printable, quote, quoteJson } from '../experiments/untrusted.ts';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from './safetensors.ts';
import { LORA_TARGETS, targetDims, type Gpt2Config, type LoraTarget } from './gpt2.ts';

export interface AdapterSettings {
  /** Hub id of the base model, e.g. "openai-community/gpt2". */
  baseModel: string;
  r: number;
  alpha: number;
  rslora: boolean;
  targets: readonly LoraTarget[];
  /**
   * PEFT's init_lora_weights for the record: true (kaiming-uniform A, B = 0), "gaussian", or false. It does
   * not change how the saved weights load; Init[B] has no PEFT equivalent, so say which was used in `notes`.
   */
  initLoraWeights?: boolean | 'gaussian';
  /** Extra strings stored in the safetensors __metadata__ (e.g. init scheme, LoRA+ ratio, steps). */
  notes?: Record<string, string>;
}

export interface LoraWeights {
  layer: number;
  target: LoraTarget;
  A: Float32Array; // [r, in_features], row-major
  B: Float32Array; // [out_features, r], row-major
}

export const peftTensorName = (layer: number, target: LoraTarget, which: 'A' | 'B') =>
  `base_model.model.transformer.h.${layer}.${target}.lora_${which}.weight`;

/**
 * adapter_config.json as an object. Only keys LoraConfig has had since PEFT 0.7 are written (older PEFT
 * versions reject unknown keys; newer ones fill in defaults for the keys left out).
 */
export function buildAdapterConfig(s: AdapterSettings): Record<string, unknown> {
  validateSettings(s);
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: s.baseModel,
    revision: null,
    inference_mode: true,
    r: s.r,
    lora_alpha: s.alpha,
    lora_dropout: 0.0,
    use_rslora: s.rslora,
    // Full suffixes: PEFT matches a module when its name ends with "." + entry, so "attn.c_proj" does not
    // also catch mlp.c_proj (a bare "c_proj" would).
    target_modules: [...s.targets],
    fan_in_fan_out: true,
    bias: 'none',
    modules_to_save: null,
    init_lora_weights: s.initLoraWeights ?? true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    auto_mapping: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    loftq_config: {},
  };
}

function validateSettings(s: AdapterSettings) {
  if (!Number.isSafeInteger(s.r) || s.r <= 0) throw new Error(`PEFT export: r must be a positive integer, got ${s.r}`);
  if (!Number.isFinite(s.alpha) || s.alpha <= 0) throw new Error(`PEFT export: lora_alpha must be a positive number, got ${s.alpha}`);
  if (s.targets.length === 0) throw new Error('PEFT export: no target modules');
  for (const t of s.targets) if (!LORA_TARGETS.includes(t)) throw new Error(`PEFT export: unknown target ${JSON.stringify(t)}`);
  if (new Set(s.targets).size !== s.targets.length) throw new Error('PEFT export: duplicate target modules');
}

/** The scale PEFT applies: alpha / r, or alpha / sqrt(r) with rsLoRA (lora-math.md section 1). */
export const loraScaling = (r: number, alpha: number, rslora: boolean) => (rslora ? alpha / Math.sqrt(r) : alpha / r);

/**
 * adapter_model.safetensors bytes. Requires exactly one A/B pair per (layer, target) in the settings, with
 * shapes from the config; tensors are written sorted by name with metadata {"format": "pt", ...notes}.
 */
export function buildAdapterSafetensors(config: Gpt2Config, s: AdapterSettings, weights: readonly LoraWeights[]): Uint8Array {
  validateSettings(s);
  const seen = new Map<string, LoraWeights>();
  for (const w of weights) {
    if (!Number.isSafeInteger(w.layer) || w.layer < 0 || w.layer >= config.n_layer) throw new Error(`PEFT export: layer ${w.layer} is outside 0..${config.n_layer - 1}`);
    if (!s.targets.includes(w.target)) throw new Error(`PEFT export: weights for ${w.target} but it is not in target_modules`);
    const key = `${w.layer}.${w.target}`;
    if (seen.has(key)) throw new Error(`PEFT export: two weight sets for layer ${w.layer} ${w.target}`);
    const { in: nIn, out: nOut } = targetDims(config, w.target);
    if (w.A.length !== s.r * nIn) throw new Error(`PEFT export: layer ${w.layer} ${w.target} A has ${w.A.length} values, expected r x in = ${s.r} x ${nIn}`);
    if (w.B.length !== nOut * s.r) throw new Error(`PEFT export: layer ${w.layer} ${w.target} B has ${w.B.length} values, expected out x r = ${nOut} x ${s.r}`);
    seen.set(key, w);
  }
  const missing: string[] = [];
  for (let l = 0; l < config.n_layer; l++) for (const t of s.targets) if (!seen.has(`${l}.${t}`)) missing.push(`h.${l}.${t}`);
  if (missing.length) throw new Error(`PEFT export: missing weights for ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);

  const tensors = new Map<string, TensorToWrite>();
  const all = [...seen.values()].flatMap((w) => {
    const { in: nIn, out: nOut } = targetDims(config, w.target);
    return [
      [peftTensorName(w.layer, w.target, 'A'), { shape: [s.r, nIn], data: w.A }],
      [peftTensorName(w.layer, w.target, 'B'), { shape: [nOut, s.r], data: w.B }],
    ] as Array<[string, TensorToWrite]>;
  });
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, t] of all) tensors.set(name, t);
  return writeSafetensors(tensors, { format: 'pt', ...(s.notes ?? {}) });
}

/** Both files of the adapter folder, ready to save or zip. */
export function exportPeftAdapter(config: Gpt2Config, s: AdapterSettings, weights: readonly LoraWeights[]): { 'adapter_config.json': string; 'adapter_model.safetensors': Uint8Array } {
  return {
    'adapter_config.json': JSON.stringify(buildAdapterConfig(s), null, 2) + '\n',
    'adapter_model.safetensors': buildAdapterSafetensors(config, s, weights),
  };
}

const NAME_RE = /^base_model\.model\.transformer\.h\.(\d+)\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.lora_([AB])\.weight$/;

/**
 * Reads a PEFT LoRA adapter for a GPT-2 model (ours or one trained with PEFT, F32/F16/BF16), checking
 * names and shapes against the config. Returns the settings it implies and the weights per (layer, target).
 */
export function importPeftAdapter(config: Gpt2Config, adapterConfigJson: unknown, safetensors: ArrayBuffer | Uint8Array): { settings: AdapterSettings; weights: LoraWeights[] } {
  const c = (typeof adapterConfigJson === 'string' ? JSON.parse(adapterConfigJson) : adapterConfigJson) as Record<string, unknown>;
  if (c === null || typeof c !== 'object') throw new Error('adapter_config.json must be a JSON object');
  if (c.peft_type !== 'LORA') throw new Error(`adapter_config.json: peft_type ${quoteJson(c.peft_type)} is not LORA`);
  if (c.fan_in_fan_out !== true) throw new Error('adapter_config.json: fan_in_fan_out must be true for GPT-2 (Conv1D layers)');
  if (c.bias !== undefined && c.bias !== 'none') throw new Error(`adapter_config.json: bias ${quoteJson(c.bias)} is not supported (only "none")`);
  if (c.use_dora === true) throw new Error('adapter_config.json: DoRA adapters are not supported');
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (c[k] && typeof c[k] === 'object' && Object.keys(c[k] as object).length > 0) throw new Error(`adapter_config.json: per-layer ${printable(k, 40)} is not supported`);
  }
  const r = c.r as number;
  const alpha = c.lora_alpha as number;
  if (!Number.isSafeInteger(r) || r <= 0) throw new Error(`adapter_config.json: r must be a positive integer, got ${quoteJson(c.r)}`);
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new Error(`adapter_config.json: lora_alpha must be a positive number, got ${quoteJson(c.lora_alpha)}`);
  const { tensors } = parseSafetensors(safetensors);
  const byKey = new Map<string, { layer: number; target: LoraTarget; A?: Float32Array; B?: Float32Array }>();
  for (const [name, t] of tensors) {
    const m = NAME_RE.exec(name);
    if (!m) throw new Error(`adapter_model.safetensors: unexpected tensor ${quote(name, 80)}`);
    const layer = Number(m[1]);
    const target = m[2] as LoraTarget;
    if (layer >= config.n_layer) throw new Error(`adapter_model.safetensors: ${quote(name, 80)} names layer ${layer} but the model has ${config.n_layer}`);
    const { in: nIn, out: nOut } = targetDims(config, target);
    const want = m[3] === 'A' ? [r, nIn] : [nOut, r];
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) throw new Error(`adapter_model.safetensors: ${quote(name, 80)} has shape [${t.shape}], expected [${want}]`);
    const key = `${layer}.${target}`;
    const e = byKey.get(key) ?? { layer, target };
    e[m[3] as 'A' | 'B'] = t.data;
    byKey.set(key, e);
  }
  const weights: LoraWeights[] = [];
  for (const e of byKey.values()) {
    if (!e.A || !e.B) throw new Error(`adapter_model.safetensors: layer ${e.layer} ${e.target} has lora_${e.A ? 'A' : 'B'} but not lora_${e.A ? 'B' : 'A'}`);
    weights.push({ layer: e.layer, target: e.target, A: e.A, B: e.B });
  }
  weights.sort((a, b) => a.layer - b.layer || LORA_TARGETS.indexOf(a.target) - LORA_TARGETS.indexOf(b.target));
  const targets = LORA_TARGETS.filter((t) => weights.some((w) => w.target === t));
  const settings: AdapterSettings = {
    baseModel: String(c.base_model_name_or_path ?? ''),
    r,
    alpha,
    rslora: c.use_rslora === true,
    targets,
    initLoraWeights: (c.init_lora_weights as boolean | 'gaussian' | undefined) ?? true,
  };
  validateSettings(settings);
  return { settings, weights };
}
