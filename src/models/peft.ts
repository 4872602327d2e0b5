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
  /**
   * base_model_name_or_path: the hub id of the base model (e.g. "openai-community/gpt2"), the local folder
   * it was read from, or null for weights that exist nowhere else (random weights built by this project):
   * a made-up name would look like a hub id that AutoPeftModel would try to fetch.
   */
  baseModel: string | null;
  r: number;
  alpha: number;
  rslora: boolean;
  targets: readonly LoraTarget[];
  /** PEFT's lora_dropout (dropout on each adapter's input in train mode); 0 by default, as in PEFT. */
  loraDropout?: number;
  /**
   * PEFT's init_lora_weights. true means PEFT's default, kaiming-uniform A and B = 0, and is written only
   * for that scheme; any other scheme is written as false (PEFT: "no LoRA-specific init") and described in
   * the model card, never under a PEFT name that means something else ("gaussian" is std 1/r in PEFT).
   * It does not change how the saved weights load. On import: what the file says.
   */
  initLoraWeights?: boolean | string;
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
    lora_dropout: s.loraDropout ?? 0,
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
  if (s.loraDropout !== undefined && !(s.loraDropout >= 0 && s.loraDropout < 1)) throw new Error(`PEFT export: lora_dropout must be in [0, 1), got ${s.loraDropout}`);
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

/** An adapter that cannot be used, with the reason (which file, which key or tensor). */
export class AdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterError';
  }
}

const fail = (message: string): never => {
  throw new AdapterError(message);
};

/** PEFT options that change what the adapter computes (or need a modified base model): refused, named. */
const UNSUPPORTED: Array<[string, (v: unknown) => boolean, string]> = [
  ['use_dora', (v) => v === true, 'DoRA adapters are not supported'],
  ['lora_bias', (v) => v === true, 'lora_bias (a trainable bias on lora_B) is not supported'],
  ['bias', (v) => v !== undefined && v !== null && v !== 'none', 'only bias "none" is supported (no trained base biases)'],
  ['modules_to_save', (v) => Array.isArray(v) && v.length > 0, 'modules_to_save (fully trained extra modules) is not supported'],
  ['rank_pattern', (v) => !!v && typeof v === 'object' && Object.keys(v).length > 0, 'per-layer rank_pattern is not supported'],
  ['alpha_pattern', (v) => !!v && typeof v === 'object' && Object.keys(v).length > 0, 'per-layer alpha_pattern is not supported'],
  ['layer_replication', (v) => Array.isArray(v) && v.length > 0, 'layer_replication is not supported'],
  ['target_parameters', (v) => Array.isArray(v) && v.length > 0, 'target_parameters is not supported'],
  ['trainable_token_indices', (v) => v !== undefined && v !== null, 'trainable_token_indices is not supported'],
  ['use_qalora', (v) => v === true, 'QALoRA is not supported'],
  ['alora_invocation_tokens', (v) => v !== undefined && v !== null, 'aLoRA is not supported'],
  ['exclude_modules', (v) => v !== undefined && v !== null && (!Array.isArray(v) || v.length > 0), 'exclude_modules is not supported'],
];
/** Inits after which the adapter only fits a base model that PEFT modified (unless PEFT converted it on save). */
const BASE_CHANGING_INIT = /^(pissa|olora|corda|loftq)/i;

/**
 * The (layer, target) modules PEFT would adapt in a GPT-2 with `config`, from target_modules (a list:
 * a module matches when its name equals an entry or ends with "." + entry; a string: a full-match regex;
 * "all-linear": every Conv1D of the blocks) and layers_to_transform, as PEFT's check_target_module_exists.
 */
export function peftTargetModules(config: Gpt2Config, c: Record<string, unknown>): Array<{ layer: number; target: LoraTarget }> {
  const tm = c.target_modules;
  let match: (key: string) => boolean;
  if (tm === 'all-linear') match = () => true;
  else if (typeof tm === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${tm})$`);
    } catch {
      return fail(`adapter_config.json: target_modules ${JSON.stringify(tm)} is not a regular expression this reader understands`);
    }
    match = (key) => re.test(key);
  } else if (Array.isArray(tm) && tm.length > 0 && tm.every((t) => typeof t === 'string')) {
    match = (key) => tm.some((t: string) => key === t || key.endsWith(`.${t}`));
  } else {
    return fail(`adapter_config.json: target_modules must be a non-empty list of module names or a pattern, got ${JSON.stringify(tm)}`);
  }
  const ltt = c.layers_to_transform;
  const layerOk = (l: number) => {
    if (ltt === undefined || ltt === null || (Array.isArray(ltt) && ltt.length === 0)) return true;
    return Array.isArray(ltt) ? ltt.includes(l) : ltt === l;
  };
  const out: Array<{ layer: number; target: LoraTarget }> = [];
  for (let layer = 0; layer < config.n_layer; layer++) {
    for (const target of LORA_TARGETS) if (layerOk(layer) && match(`transformer.h.${layer}.${target}`)) out.push({ layer, target });
  }
  if (!out.length) fail(`adapter_config.json: target_modules ${JSON.stringify(tm)} names no Conv1D layer of this ${config.n_layer}-layer GPT-2 (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj)`);
  return out;
}

/**
 * Reads a PEFT LoRA adapter for a GPT-2 model (ours or one trained with PEFT, F32/F16/BF16), checking it
 * as PEFT would load it: the modules target_modules (and layers_to_transform) select must each have
 * lora_A [r, in] and lora_B [out, r], nothing else may be in the file, every value must be finite.
 * fan_in_fan_out may say false: PEFT sets it to true for GPT-2's Conv1D layers itself (with a warning).
 * Returns the settings and the weights of the modules the file has (completeAdapter fills the rest).
 * Throws AdapterError (or SafetensorsError for a damaged file) naming the file and what is wrong.
 */
export function importPeftAdapter(config: Gpt2Config, adapterConfigJson: unknown, safetensors: ArrayBuffer | Uint8Array): { settings: AdapterSettings; weights: LoraWeights[] } {
  let c: Record<string, unknown>;
  if (typeof adapterConfigJson === 'string') {
    try {
      c = JSON.parse(adapterConfigJson);
    } catch (e) {
      return fail(`adapter_config.json is not valid JSON (${(e as Error).message})`);
    }
  } else c = adapterConfigJson as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) fail('adapter_config.json must be a JSON object');
  if (c.peft_type !== 'LORA') fail(`adapter_config.json: peft_type ${quoteJson(c.peft_type)} is not LORA`);
  for (const [key, bad, why] of UNSUPPORTED) if (bad(c[key])) fail(`adapter_config.json: ${why} (${key}: ${JSON.stringify(c[key]).slice(0, 60)})`);
  if (typeof c.init_lora_weights === 'string' && BASE_CHANGING_INIT.test(c.init_lora_weights)) {
    fail(`adapter_config.json: init_lora_weights ${JSON.stringify(c.init_lora_weights)} adapters need the base model PEFT modified at init; save it converted (path_initial_model_for_weight_conversion) to load it onto GPT-2`);
  }
  const r = c.r as number;
  const alpha = c.lora_alpha as number;
  if (!Number.isSafeInteger(r) || r <= 0) fail(`adapter_config.json: r must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) fail(`adapter_config.json: lora_alpha must be a positive number, got ${JSON.stringify(c.lora_alpha)}`);
  const loraDropout = (c.lora_dropout ?? 0) as number;
  if (typeof loraDropout !== 'number' || !(loraDropout >= 0 && loraDropout < 1)) fail(`adapter_config.json: lora_dropout must be in [0, 1), got ${JSON.stringify(c.lora_dropout)}`);
  if (c.use_rslora !== undefined && typeof c.use_rslora !== 'boolean') fail(`adapter_config.json: use_rslora must be true or false, got ${JSON.stringify(c.use_rslora)}`);
  const modules = peftTargetModules(config, c);

  const { tensors } = parseSafetensors(safetensors);
  const byKey = new Map<string, { layer: number; target: LoraTarget; A?: Float32Array; B?: Float32Array }>();
  for (const [name, t] of tensors) {
    const m = NAME_RE.exec(name);
    if (!m) fail(`adapter_model.safetensors: unexpected tensor ${quote(name, 80)} (a GPT-2 LoRA adapter holds base_model.model.transformer.h.{layer}.{module}.lora_A.weight and lora_B.weight)`);
    const layer = Number(m![1]);
    const target = m![2] as LoraTarget;
    if (layer >= config.n_layer) fail(`adapter_model.safetensors: ${quote(name, 80)} names layer ${layer} but the model has ${config.n_layer}`);
    if (!modules.some((x) => x.layer === layer && x.target === target)) fail(`adapter_model.safetensors: ${quote(name, 80)} is for a module target_modules does not select (${JSON.stringify(c.target_modules)})`);
    const { in: nIn, out: nOut } = targetDims(config, target);
    const want = m![3] === 'A' ? [r, nIn] : [nOut, r];
    if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) fail(`adapter_model.safetensors: ${quote(name, 80)} has shape [${t.shape}], expected [${want}] (r = ${r} from adapter_config.json)`);
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) fail(`adapter_model.safetensors: ${quote(name, 80)} holds a non-finite value (${t.data[i]}) at index ${i}`);
    const key = `${layer}.${target}`;
    const e = byKey.get(key) ?? { layer, target };
    e[m![3] as 'A' | 'B'] = t.data;
    byKey.set(key, e);
  }
  const missing = modules.filter((x) => { const e = byKey.get(`${x.layer}.${x.target}`); return !e?.A || !e?.B; });
  if (missing.length) {
    const first = missing[0];
    const e = byKey.get(`${first.layer}.${first.target}`);
    const which = !e ? 'lora_A and lora_B' : e.A ? 'lora_B' : 'lora_A';
    fail(`adapter_model.safetensors: no ${which} for h.${first.layer}.${first.target}${missing.length > 1 ? ` (and ${missing.length - 1} more modules)` : ''}, which target_modules selects`);
  }
  const weights: LoraWeights[] = [...byKey.values()].map((e) => ({ layer: e.layer, target: e.target, A: e.A!, B: e.B! }));
  weights.sort((a, b) => a.layer - b.layer || LORA_TARGETS.indexOf(a.target) - LORA_TARGETS.indexOf(b.target));
  const settings: AdapterSettings = {
    baseModel: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
    r,
    alpha,
    rslora: c.use_rslora === true,
    targets: LORA_TARGETS.filter((t) => modules.some((x) => x.target === t)),
    loraDropout,
    initLoraWeights: (c.init_lora_weights as boolean | string | undefined) ?? true,
  };
  validateSettings(settings);
  return { settings, weights };
}

/**
 * Every (layer, target) of `settings.targets` in every layer: the given weights, and A = B = 0 for modules
 * the adapter leaves out (layers_to_transform). A zero pair is exactly "not adapted", in training too:
 * both of its gradients are 0, so AdamW never moves it.
 */
export function completeAdapter(config: Gpt2Config, settings: Pick<AdapterSettings, 'r' | 'targets'>, weights: readonly LoraWeights[]): LoraWeights[] {
  const out: LoraWeights[] = [];
  for (let layer = 0; layer < config.n_layer; layer++) {
    for (const target of settings.targets) {
      const { in: nIn, out: nOut } = targetDims(config, target);
      out.push(weights.find((w) => w.layer === layer && w.target === target) ?? { layer, target, A: new Float32Array(settings.r * nIn), B: new Float32Array(nOut * settings.r) });
    }
  }
  return out;
}
