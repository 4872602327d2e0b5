// The GPT-2 tab's state: the form (raw text per field, validated as typed through GPT2_FIELDS), the
// model and text choices, a loaded PEFT adapter (which fixes r, alpha, rsLoRA and the targets), the
// download in progress, the runs with their metric rows, and generations.
// Metric rows live in plain arrays (appended by gpt2Runner); the store's `rev` moves at most once per
// animation frame so React re-renders at frame rate, not per row.
import { decodeText, quote } from '../experiments/untrusted.ts';
import { create } from 'zustand';
import { GPT2_FIELDS, GPT2_KEYS, defaultGpt2RunConfig, gpt2ConfigError, parseGpt2Field, type Gpt2Key, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../experiments/gpt2/metrics.ts';
import type { Gpt2Plan } from '../experiments/gpt2/plan.ts';
import { GPT2_DROPOUT, GPT2_MODELS, LORA_TARGETS, type Gpt2Config, type LoraTarget } from '../models/gpt2.ts';
import type { FileProgress } from '../models/hub.ts';
import { adapterRunSettings, loadAdapter, type LoadedAdapter } from '../experiments/gpt2/adapterFiles.ts';
import type { TextEvaluation } from '../experiments/gpt2/evaluate.ts';

export type Gpt2ModelChoice = 'tiny' | 'distilgpt2' | 'gpt2';
export type TextSource = 'shakespeare' | 'custom';

/** A GPT-2 with the real vocabulary and tokenizer but tiny widths, random weights from the seed: no download. */
export const TINY_GPT2_CONFIG: Gpt2Config = {
  model_type: 'gpt2', n_embd: 64, n_layer: 2, n_head: 4, n_positions: 256, vocab_size: 50257, layer_norm_epsilon: 1e-5, n_inner: 256, activation_function: 'gelu_new', ...GPT2_DROPOUT,
};

export const MODEL_CHOICES: ReadonlyArray<{ id: Gpt2ModelChoice; label: string; short: string; config: Gpt2Config }> = [
  { id: 'tiny', label: 'Tiny GPT-2 (random weights, for trying the UI without a download)', short: 'Tiny GPT-2 (random, offline)', config: TINY_GPT2_CONFIG },
  { id: 'distilgpt2', label: GPT2_MODELS.distilgpt2.label, short: 'DistilGPT-2 (82M, 6 layers)', config: GPT2_MODELS.distilgpt2.config },
  { id: 'gpt2', label: GPT2_MODELS.gpt2.label, short: 'GPT-2 small (124M, 12 layers)', config: GPT2_MODELS.gpt2.config },
];
export const modelConfig = (m: Gpt2ModelChoice): Gpt2Config => MODEL_CHOICES.find((c) => c.id === m)!.config;

export const BUNDLED_TEXT_PATH = 'data/tinyshakespeare.txt';
/** Pasted or dropped text: at most this many characters (tokenising a few MB is seconds on the main thread). */
export const MAX_TEXT_CHARS = 2_000_000;
/** Enough tokens for one training sequence plus a held-out part. */
export const MIN_TEXT_CHARS = 200;

/**
 * A dropped or chosen text file, checked before anything changes: at most MAX_TEXT_CHARS, UTF-8 text,
 * and a text textError accepts. The message names the file.
 */
export async function readTextFile(f: Pick<File, 'name' | 'size' | 'arrayBuffer'>): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
  const name = quote(f.name, 40);
  if (f.size > MAX_TEXT_CHARS * 4) return { ok: false, error: `${name} is ${(f.size / 1e6).toFixed(1)} MB; at most ${MAX_TEXT_CHARS / 1e6} M characters.` };
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await f.arrayBuffer());
  } catch {
    return { ok: false, error: `Could not read ${name}.` };
  }
  const r = decodeText(bytes);
  if (!r.ok) return { ok: false, error: `${name} ${r.error}; the text was not changed.` };
  const bad = textError(r.value);
  return bad ? { ok: false, error: `${name}: ${bad} The text was not changed.` } : r;
}

/** Why a custom text cannot be trained on, or null. */
export function textError(text: string): string | null {
  if (text.trim().length === 0) return 'The text is empty: paste some text or drop a .txt file.';
  if (text.length > MAX_TEXT_CHARS) return `The text is ${(text.length / 1e6).toFixed(1)} M characters; at most ${MAX_TEXT_CHARS / 1e6} M.`;
  if (text.trim().length < MIN_TEXT_CHARS) return `The text is too short (${text.trim().length} characters); give at least ${MIN_TEXT_CHARS}.`;
  if (text.includes('\u0000')) return 'This looks like a binary file, not text.';
  return null;
}

import type { RunStatus } from '../experiments/run/status.ts';

export interface Gpt2Run {
  id: number;
  init: 'A' | 'B';
  color: string;
  status: RunStatus;
  message?: string;
  config: Gpt2RunConfig;
  model: Gpt2ModelChoice;
  /** Adapter labels (k of the metric arrays), e.g. "h0 attn.c_attn". */
  adapters: string[];
  rows: Gpt2StepMetrics[];
  step: number;
  tokensPerSecond: number;
  memoryBytes: number;
  plannedBytes: number;
  /** Its history record (written as it trains, or the one it was restored from). */
  recordId?: string;
  /** Shown from a stored record: no session behind it (no generation; its adapter comes from the record). */
  restored?: boolean;
  /** The loaded adapter it started from (its name). */
  adapterName?: string;
  /** Loss and perplexity on the held-out text, when asked for. */
  evaluation?: Pick<TextEvaluation, 'loss' | 'perplexity' | 'seq'> & { windows: number; step: number };
}

/** A PEFT adapter given to the tab (dropped files, a folder or a zip). */
export interface AdapterChoice {
  /** What was given (a folder, zip or file name). */
  name: string;
  configJson: string;
  safetensors: Uint8Array;
  /** Checked against the chosen model; null when it does not fit it (`error` says why). */
  loaded: LoadedAdapter | null;
  error: string | null;
}

export interface Generation {
  id: number;
  runId: number;
  step: number;
  mode: 'greedy' | 'sample';
  prompt: string;
  text: string;
  pending: boolean;
  /** Decoding rate once done (new tokens after the first, per second). */
  tokensPerSecond?: number;
}

export type Phase = 'idle' | 'downloading' | 'loading-text' | 'training';

export interface Gpt2State {
  raw: Record<Gpt2Key, string>;
  errors: Partial<Record<Gpt2Key | 'targets' | 'model' | 'text' | 'adapter', string>>;
  targets: LoraTarget[];
  model: Gpt2ModelChoice;
  textSource: TextSource;
  customText: string;
  customName: string;
  adapter: AdapterChoice | null;
  prompt: string;
  temperature: number;
  /** The parsed config when every field is valid. */
  config: Gpt2RunConfig | null;
  phase: Phase;
  phaseText: string;
  download: FileProgress[];
  /** A failure outside a run (download, tokenizer, refused plan). */
  failure: string | null;
  plan: { plan: Gpt2Plan; problems: string[] } | null;
  runs: Gpt2Run[];
  generations: Generation[];
  heatmapField: 'zA' | 'zB';
  rev: number;
  setField(k: Gpt2Key, raw: string): void;
  setTargets(t: LoraTarget[]): void;
  setModel(m: Gpt2ModelChoice): void;
  setText(source: TextSource, text?: string, name?: string): void;
  /** Load a PEFT adapter (null: remove it). Returns why it cannot be used, and then changes nothing. */
  setAdapter(a: Pick<AdapterChoice, 'name' | 'configJson' | 'safetensors'> | null): string | null;
  set(patch: Partial<Omit<Gpt2State, 'set' | 'setField' | 'setTargets' | 'setModel' | 'setText' | 'setAdapter'>>): void;
}

/** An adapter checked against a model: loaded, or the reason it does not fit. */
function checkAdapter(model: Gpt2ModelChoice, a: Pick<AdapterChoice, 'name' | 'configJson' | 'safetensors'>): AdapterChoice {
  try {
    return { ...a, loaded: loadAdapter(modelConfig(model), a.configJson, a.safetensors), error: null };
  } catch (e) {
    return { ...a, loaded: null, error: `${a.name}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function formatGpt2Raw(k: Gpt2Key, v: unknown): string {
  const spec = GPT2_FIELDS[k];
  if (v === null && 'auto' in spec) return spec.auto;
  return spec.kind === 'bool' ? (v ? 'true' : 'false') : String(v);
}

function rawOf(c: Gpt2RunConfig): Record<Gpt2Key, string> {
  const out = {} as Record<Gpt2Key, string>;
  for (const k of GPT2_KEYS) out[k] = formatGpt2Raw(k, c[k]);
  return out;
}

/**
 * Re-validate every field and the cross-field constraints against the chosen model. A loaded adapter's
 * r, alpha, rsLoRA and targets are the run's (their fields show them and are locked).
 */
export function validateForm(s: Pick<Gpt2State, 'raw' | 'targets' | 'model' | 'textSource' | 'customText'> & { adapter?: AdapterChoice | null }): Pick<Gpt2State, 'errors' | 'config'> {
  const errors: Gpt2State['errors'] = {};
  const out: Record<string, unknown> = { targets: s.targets };
  for (const k of GPT2_KEYS) {
    const r = parseGpt2Field(k, s.raw[k]);
    if (r.ok) out[k] = r.value;
    else errors[k] = r.error;
  }
  if (s.adapter?.error) errors.adapter = s.adapter.error;
  else if (s.adapter?.loaded) Object.assign(out, adapterRunSettings(s.adapter.loaded.settings));
  if (s.targets.length === 0) errors.targets = 'Choose at least one module to adapt.';
  if (s.textSource === 'custom') {
    const e = textError(s.customText);
    if (e) errors.text = e;
  }
  if (Object.keys(errors).length) return { errors, config: null };
  const config = out as Gpt2RunConfig;
  const cross = gpt2ConfigError(config, modelConfig(s.model));
  if (cross) {
    if (/Sequence/.test(cross)) errors.seq = cross;
    else errors.rank = cross;
    return { errors, config: null };
  }
  return { errors, config };
}

/** Defaults sized for the tiny model on a software adapter; the hub models keep the schema's defaults. */
export function defaultsFor(model: Gpt2ModelChoice): Gpt2RunConfig {
  const c = defaultGpt2RunConfig();
  if (model === 'tiny') return { ...c, seq: 64, batch: 4, steps: 60, eta: 2e-3, evalEvery: 10 };
  return c;
}

const initial = (() => {
  const base = { raw: rawOf(defaultsFor('tiny')), targets: ['attn.c_attn', 'mlp.c_fc'] as LoraTarget[], model: 'tiny' as Gpt2ModelChoice, textSource: 'shakespeare' as TextSource, customText: '' };
  return { ...base, ...validateForm(base) };
})();

export const useGpt2Store = create<Gpt2State>()((set, get) => ({
  ...initial,
  customName: '',
  adapter: null,
  prompt: 'ROMEO:',
  temperature: 0.8,
  phase: 'idle',
  phaseText: '',
  download: [],
  failure: null,
  plan: null,
  runs: [],
  generations: [],
  heatmapField: 'zB',
  rev: 0,
  setField: (k, raw) => {
    const s = get();
    const next = { ...s, raw: { ...s.raw, [k]: raw } };
    set({ raw: next.raw, ...validateForm(next) });
  },
  setTargets: (targets) => {
    const ordered = LORA_TARGETS.filter((t) => targets.includes(t));
    set({ targets: ordered, ...validateForm({ ...get(), targets: ordered }) });
  },
  setModel: (model) => {
    const s = get();
    const adapter = s.adapter ? checkAdapter(model, s.adapter) : null;
    set({ model, adapter, ...validateForm({ ...s, model, adapter }) });
  },
  setAdapter: (given) => {
    const s = get();
    if (!given) return set({ adapter: null, ...validateForm({ ...s, adapter: null }) }), null;
    const adapter = checkAdapter(s.model, given);
    if (!adapter.loaded) return adapter.error;
    const fixed = adapterRunSettings(adapter.loaded.settings);
    const raw = { ...s.raw, rank: String(fixed.rank), alpha: String(fixed.alpha), rslora: String(fixed.rslora), loraDropout: String(adapter.loaded.settings.loraDropout ?? 0) };
    set({ adapter, raw, targets: fixed.targets, ...validateForm({ ...s, adapter, raw, targets: fixed.targets }) });
    return null;
  },
  setText: (textSource, text, name) => {
    const s = get();
    const next = { ...s, textSource, customText: text ?? s.customText, customName: name ?? (text !== undefined ? '' : s.customName) };
    set({ textSource, customText: next.customText, customName: next.customName, ...validateForm(next) });
  },
  set: (patch) => set(patch),
}));

export const RUN_COLORS = { A: '#0f5fa8', B: '#d1495b' } as const;
