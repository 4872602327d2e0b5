// A trained adapter as a folder PEFT loads (adapter_config.json + adapter_model.safetensors, src/models/peft.ts)
// with a short README.md model card beside it, as adapters on the hub carry; and a PEFT folder read back
// into a run: the settings it fixes (r, lora_alpha, use_rslora, target_modules) and the weights of every module.
import { completeAdapter, exportPeftAdapter, importPeftAdapter, type AdapterSettings, type LoraWeights } from '../../models/peft.ts';
import type { Gpt2Config, LoraTarget } from '../../models/gpt2.ts';
import { dropoutRates, gpt2LoraScale, type Gpt2RunConfig } from './config.ts';

export interface AdapterFolder {
  'adapter_config.json': string;
  'adapter_model.safetensors': Uint8Array;
  'README.md': string;
}

/** Where the base weights came from, and what the run did, for the config and the card. */
export interface AdapterOrigin {
  /** base_model_name_or_path: a hub id, a local folder, or null (random weights that exist nowhere else). */
  baseModel: string | null;
  /** How the card names the base model ("openai-community/gpt2", "random weights (seed 1)"). */
  baseLabel: string;
  /** Steps trained so far, and the last training loss. */
  steps: number;
  loss?: number;
  /** What it was trained on (a file name, "tiny Shakespeare"). */
  text?: string;
}

/**
 * PEFT's init_lora_weights for the run's scheme: true only for PEFT's own (Init[A], kaiming-uniform A,
 * B = 0). Every other scheme is false (PEFT: no LoRA-specific init; the loaded weights are what count),
 * with the scheme described, and how to re-create it in PEFT, in the card: PEFT's "gaussian" is A ~
 * N(0, 1/r^2), not this project's N(0, 1/fan_in), so it is never written.
 */
export function initScheme(run: Pick<Gpt2RunConfig, 'init' | 'initDist'>): { initLoraWeights: boolean; description: string; recreate?: string } {
  if (run.init === 'A' && run.initDist === 'uniform') {
    return { initLoraWeights: true, description: 'Init[A], PEFT’s default: A ~ kaiming_uniform(a = √5) = U(−1/√fan_in, 1/√fan_in), B = 0' };
  }
  if (run.init === 'A') {
    return {
      initLoraWeights: false,
      description: 'Init[A], Gaussian: A ~ N(0, 1/fan_in) (std 1/√fan_in), B = 0. Not PEFT’s "gaussian", whose std is 1/r',
      recreate: 'nn.init.normal_(layer.lora_A[name].weight, std=1 / math.sqrt(layer.in_features))\nnn.init.zeros_(layer.lora_B[name].weight)',
    };
  }
  const uniform = run.initDist === 'uniform';
  return {
    initLoraWeights: false,
    description: `Init[B]: A = 0, B ~ ${uniform ? 'U(−1/√r, 1/√r)' : 'N(0, 1/r) (std 1/√r)'} (Hayou et al., 2406.08447); PEFT has no such scheme`,
    recreate: `nn.init.zeros_(layer.lora_A[name].weight)\n${uniform ? 'nn.init.uniform_(layer.lora_B[name].weight, -1 / math.sqrt(r), 1 / math.sqrt(r))' : 'nn.init.normal_(layer.lora_B[name].weight, std=1 / math.sqrt(r))'}`,
  };
}

export function adapterSettings(run: Gpt2RunConfig, origin: AdapterOrigin): AdapterSettings {
  const init = initScheme(run);
  return {
    baseModel: origin.baseModel, r: run.rank, alpha: run.alpha, rslora: run.rslora, targets: run.targets, loraDropout: run.loraDropout,
    initLoraWeights: init.initLoraWeights,
    notes: { lora_playground_init: `Init[${run.init}] ${run.initDist}`, loraplus_lambda: String(run.lambda), eta: String(run.eta), steps: String(origin.steps), seed: String(run.seed) },
  };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(+x.toPrecision(6)));

/** README.md: what the adapter is, how to load it, and the run's settings. */
export function modelCard(model: Gpt2Config, run: Gpt2RunConfig, origin: AdapterOrigin): string {
  const init = initScheme(run);
  const hubId = origin.baseModel && /^[\w.-]+(\/[\w.-]+)?$/.test(origin.baseModel) && !origin.baseModel.startsWith('.') ? origin.baseModel : null;
  const rates = dropoutRates(run, model);
  const dropout = rates.embd === rates.attn && rates.attn === rates.resid ? `${fmt(rates.embd)} (embd, attn, resid)` : `embd ${fmt(rates.embd)}, attn ${fmt(rates.attn)}, resid ${fmt(rates.resid)}`;
  const lines = [
    '---',
    ...(hubId ? [`base_model: ${hubId}`] : []),
    'library_name: peft',
    'tags:',
    '- lora',
    '- lora-playground',
    '---',
    '',
    `# LoRA adapter for ${origin.baseLabel}`,
    '',
    `Trained with LoRA Playground (hand-written WebGPU kernels) for ${origin.steps} step${origin.steps === 1 ? '' : 's'}${origin.text ? ` on ${origin.text}` : ''}${origin.loss !== undefined ? `; last training loss ${origin.loss.toFixed(4)}` : ''}.`,
    '',
  ];
  if (hubId) {
    lines.push('```python', 'from transformers import AutoModelForCausalLM', 'from peft import PeftModel', '', `model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("${hubId}"), "path/to/this/folder")`, '```', '');
  } else {
    lines.push(`The base model is ${origin.baseLabel}${origin.baseModel ? ` (${origin.baseModel})` : ', which is not on the Hugging Face hub'}: load this adapter onto those weights (PEFT: \`PeftModel.from_pretrained(base, "path/to/this/folder")\`).`, '');
  }
  const row = (k: string, v: string) => `| ${k} | ${v} |`;
  lines.push(
    '## Training settings',
    '',
    '| setting | value |',
    '| --- | --- |',
    row('LoRA', `r = ${run.rank}, lora_alpha = ${fmt(run.alpha)}, scale ${run.rslora ? 'α/√r' : 'α/r'} = ${fmt(gpt2LoraScale(run))}${run.rslora ? ' (rsLoRA)' : ''}`),
    row('modules', `${run.targets.join(', ')} in all ${model.n_layer} layers`),
    row('initialisation', `${init.description}; init_lora_weights: ${init.initLoraWeights}`),
    row('optimizer', `AdamW, lr ${fmt(run.eta)} for A and ${fmt(run.eta * run.lambda)} for B (LoRA+ λ = ${fmt(run.lambda)}), betas (${fmt(run.beta1)}, ${fmt(run.beta2)}), eps ${run.eps}, weight decay ${fmt(run.wd)}`),
    row('schedule', `${run.schedule}, ${run.warmup} warmup step${run.warmup === 1 ? '' : 's'}, over ${run.steps} steps`),
    row('batch', `${run.batch} × ${run.seq} tokens${run.gradAccum > 1 ? `, ${run.gradAccum} accumulated micro-batches (effective ${run.batch * run.gradAccum})` : ''}; ${run.order} windows`),
    row('dropout', `${dropout}${run.dropout === null ? ' from the model config' : ''}; lora_dropout ${fmt(run.loraDropout)}`),
    row('gradient clipping', run.maxGradNorm > 0 ? `global norm ${fmt(run.maxGradNorm)}` : 'none'),
    row('seed', String(run.seed)),
    '',
  );
  if (init.recreate) {
    lines.push('## Re-creating the initialisation in PEFT', '', `${init.description}. With \`init_lora_weights=False\`, then for every LoRA layer (adapter \`name\`, rank \`r\`):`, '', '```python', init.recreate, '```', '');
  }
  return lines.join('\n');
}

/** The three files of a run's adapter folder. */
export function adapterFolder(model: Gpt2Config, run: Gpt2RunConfig, weights: readonly LoraWeights[], origin: AdapterOrigin): AdapterFolder {
  return { ...exportPeftAdapter(model, adapterSettings(run, origin), weights), 'README.md': modelCard(model, run, origin) };
}

/** An adapter read for a model: its settings, and weights for every (layer, target) it adapts. */
export interface LoadedAdapter {
  settings: AdapterSettings;
  weights: LoraWeights[];
  /** Modules target_modules selects in no layer of the file (layers_to_transform): A = B = 0 there. */
  zeroFilled: number;
}

/** Reads and checks a PEFT adapter folder against `model` (AdapterError / SafetensorsError say what is wrong). */
export function loadAdapter(model: Gpt2Config, configJson: string, safetensors: Uint8Array): LoadedAdapter {
  const { settings, weights } = importPeftAdapter(model, configJson, safetensors);
  const all = completeAdapter(model, settings, weights);
  return { settings, weights: all, zeroFilled: all.length - weights.length };
}

/** The run settings an adapter fixes. */
export function adapterRunSettings(s: AdapterSettings): { rank: number; alpha: number; rslora: boolean; targets: LoraTarget[] } {
  return { rank: s.r, alpha: s.alpha, rslora: s.rslora, targets: [...s.targets] };
}

/** A setting given alongside an adapter that says otherwise: the run key, PEFT's key, both values. */
export interface AdapterConflict {
  key: 'rank' | 'alpha' | 'rslora' | 'targets';
  peftKey: 'r' | 'lora_alpha' | 'use_rslora' | 'target_modules';
  given: string;
  adapter: string;
}

const PEFT_KEY = { rank: 'r', alpha: 'lora_alpha', rslora: 'use_rslora', targets: 'target_modules' } as const;

/** The settings in `given` that contradict the adapter's (never a silently different scale). */
export function adapterConflicts(s: AdapterSettings, given: Partial<Pick<Gpt2RunConfig, 'rank' | 'alpha' | 'rslora' | 'targets'>>): AdapterConflict[] {
  const fixed = adapterRunSettings(s);
  const out: AdapterConflict[] = [];
  for (const key of ['rank', 'alpha', 'rslora', 'targets'] as const) {
    const g = given[key];
    if (g === undefined) continue;
    const text = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
    if (text(g) !== text(fixed[key])) out.push({ key, peftKey: PEFT_KEY[key], given: text(g), adapter: text(fixed[key]) });
  }
  return out;
}

/** A dropped or chosen file: its path (within a folder, when a folder was given) and bytes. */
export interface GivenFile {
  path: string;
  bytes: Uint8Array;
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const dir = (path: string) => path.slice(0, path.lastIndexOf('/') + 1);

/**
 * The two files of a PEFT adapter among what was given: the files themselves, a folder's files, or a
 * .zip holding them (a folder with checkpoints picks the shallowest pair). Throws with what was found.
 */
export async function findAdapterFiles(given: readonly GivenFile[], unzip: (bytes: Uint8Array) => Promise<Map<string, Uint8Array>>): Promise<{ configJson: string; safetensors: Uint8Array; folder: string }> {
  const files: GivenFile[] = [];
  for (const f of given) {
    if (f.path.toLowerCase().endsWith('.zip')) for (const [path, bytes] of await unzip(f.bytes)) files.push({ path: `${f.path}/${path}`, bytes });
    else files.push(f);
  }
  const configs = files.filter((f) => base(f.path) === 'adapter_config.json').sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const c of configs) {
    const weights = files.find((f) => dir(f.path) === dir(c.path) && base(f.path) === 'adapter_model.safetensors');
    if (weights) return { configJson: new TextDecoder().decode(c.bytes), safetensors: weights.bytes, folder: dir(c.path).replace(/\/$/, '') };
  }
  const names = files.map((f) => base(f.path));
  if (names.includes('adapter_model.bin')) throw new Error('adapter_model.bin is a PyTorch pickle; save the adapter as safetensors (PEFT’s default: save_pretrained(..., safe_serialization=True))');
  const missing = configs.length ? 'adapter_model.safetensors beside adapter_config.json' : names.includes('adapter_model.safetensors') ? 'adapter_config.json beside adapter_model.safetensors' : 'adapter_config.json and adapter_model.safetensors';
  throw new Error(`no PEFT adapter here: need ${missing}; got ${names.slice(0, 5).join(', ') || 'no files'}${names.length > 5 ? ', …' : ''}`);
}
