// The one typed schema of a GPT-2 LoRA run (the toy's config.ts pattern): every setting once, with its
// type, range, default and help. Controls, CLI flags and validation derive from GPT2_FIELDS; the LoRA
// target set is the one non-scalar setting and is validated beside it.
import { defaultsOf, parseField, validateSettings, type Checked, type FieldSpec, type SettingsOf } from '../schema.ts';
import { quote } from '../untrusted.ts';
import { LORA_TARGETS, targetDims, type Gpt2Config, type LoraTarget } from '../../models/gpt2.ts';

export const GPT2_FIELDS = {
  rank: { kind: 'int', default: 8, min: 1, max: 256, label: 'Rank r', help: 'LoRA rank of every adapted module.', short: 'r' },
  alpha: { kind: 'number', default: 16, min: 1e-3, max: 1e4, log: true, label: 'Alpha α', help: 'Scale s = α/r (or α/√r with rsLoRA).', short: 'a' },
  rslora: { kind: 'bool', default: false, label: 'rsLoRA scale', help: 'Use s = α/√r instead of α/r.', short: 'rs' },
  init: { kind: 'enum', default: 'A', options: ['A', 'B'], label: 'Init scheme', help: 'Init[A]: B = 0, A random (PEFT default). Init[B]: A = 0, B random.', short: 'i' },
  initDist: { kind: 'enum', default: 'uniform', options: ['gaussian', 'uniform'], label: 'Init distribution', help: 'PEFT kaiming-uniform U(-1/√fan_in, 1/√fan_in) or Gaussian N(0, 1/fan_in).', short: 'id' },
  eta: { kind: 'number', default: 5e-4, min: 1e-7, max: 1, log: true, label: 'Learning rate η (A)', help: 'AdamW learning rate of every A; B gets λ·η.', short: 'e' },
  lambda: { kind: 'number', default: 1, min: 0.0625, max: 1024, log: true, label: 'LoRA+ ratio λ', help: 'lr_B = λ · lr_A (λ = 1 is plain LoRA).', short: 'l' },
  wd: { kind: 'number', default: 0, min: 0, max: 10, label: 'Weight decay', help: 'Decoupled (AdamW) weight decay of A and B.', short: 'wd' },
  beta1: { kind: 'number', default: 0.9, min: 0, max: 0.999999, label: 'Adam β1', help: 'First-moment decay.', short: 'b1' },
  beta2: { kind: 'number', default: 0.999, min: 0, max: 0.99999999, label: 'Adam β2', help: 'Second-moment decay.', short: 'b2' },
  eps: { kind: 'number', default: 1e-8, min: 1e-20, max: 1, log: true, label: 'Adam ε', help: 'Denominator floor.', short: 'ep' },
  seq: { kind: 'int', default: 128, min: 1, max: 1024, label: 'Sequence length', help: 'Tokens per training example (at most the model’s n_positions).', short: 'T' },
  batch: { kind: 'int', default: 4, min: 1, max: 64, label: 'Batch size', help: 'Sequences per step.', short: 'B' },
  steps: { kind: 'int', default: 200, min: 1, max: 1000000, log: true, label: 'Steps', help: 'Training steps.', short: 's' },
  evalEvery: { kind: 'int', default: 20, min: 0, max: 1000000, label: 'Eval every k', help: 'Held-out loss every k steps (0: never).', short: 'ev' },
  seed: { kind: 'int', default: 1, min: 0, max: 2147483647, label: 'Seed', help: 'Seeds the adapter init, the batch order and the dropout masks.', short: 'sd' },
  order: { kind: 'enum', default: 'random', options: ['random', 'sequential'], label: 'Batch order', help: 'random: windows at seeded random offsets (nanoGPT); sequential: consecutive windows from the start of the training text, batch after batch, so a run can be reproduced outside this page from the text alone.', short: 'o' },
  gradAccum: { kind: 'int', default: 1, min: 1, max: 64, label: 'Gradient accumulation', help: 'Micro-batches per step (HF gradient_accumulation_steps): an effective batch of batch × k in the memory of one batch.', short: 'ga' },
  schedule: { kind: 'enum', default: 'linear', options: ['constant', 'linear', 'cosine'], label: 'LR schedule', help: 'After the warmup: linear decay to 0 (HF Trainer’s default), cosine to 0, or constant.', short: 'sc' },
  warmup: { kind: 'int', default: 0, min: 0, max: 1000000, label: 'Warmup steps', help: 'Learning rate rises linearly from 0 over this many steps (HF warmup_steps; 0 = none).', short: 'wu' },
  maxGradNorm: { kind: 'number', default: 1, min: 0, max: 1e6, label: 'Max grad norm', help: 'Clip the global L2 norm of all LoRA gradients to this (HF Trainer’s default 1.0); 0 = no clipping.', short: 'gn' },
  dropout: { kind: 'number', auto: 'config', default: null, min: 0, max: 0.95, label: 'Dropout', help: 'GPT-2’s dropout in training, as Hugging Face applies it in train mode. config = the model’s embd_pdrop, attn_pdrop and resid_pdrop (0.1 each for GPT-2: what a PEFT user gets by default); a number sets all three; 0 turns dropout off.', short: 'dr' },
  loraDropout: { kind: 'number', default: 0, min: 0, max: 0.95, label: 'LoRA dropout', help: 'PEFT’s lora_dropout: dropout on each adapter’s input in training (PEFT’s default 0).', short: 'ld' },
} as const satisfies Record<string, FieldSpec>;

/**
 * The training options as they were before the HF Trainer options existed: no dropout, no clipping, a
 * constant learning rate, one micro-batch, random windows. Version-1 share links mean these.
 */
export const PLAIN_TRAINING = { order: 'random', gradAccum: 1, schedule: 'constant', warmup: 0, maxGradNorm: 0, dropout: 0, loraDropout: 0 } as const satisfies Partial<SettingsOf<typeof GPT2_FIELDS>>;

export type Gpt2Key = keyof typeof GPT2_FIELDS;
export type Gpt2RunConfig = SettingsOf<typeof GPT2_FIELDS> & {
  /** Adapted modules, in every layer. */
  targets: LoraTarget[];
};

export const GPT2_KEYS = Object.keys(GPT2_FIELDS) as Gpt2Key[];

export function defaultGpt2RunConfig(): Gpt2RunConfig {
  return { ...defaultsOf(GPT2_FIELDS), targets: ['attn.c_attn'] };
}

/** Validate one raw value for a GPT-2 setting (the schema's parseField over GPT2_FIELDS). */
export function parseGpt2Field<K extends Gpt2Key>(key: K, raw: unknown): Checked<Gpt2RunConfig[K]> {
  return parseField(GPT2_FIELDS, key, raw) as Checked<Gpt2RunConfig[K]>;
}

/** "attn.c_attn,mlp.c_fc" (or an array) -> a non-empty list of known targets in GPT-2's order, no repeats. */
export function parseTargets(raw: unknown): Checked<LoraTarget[]> {
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(raw) ? raw : null;
  if (!items) return { ok: false, error: 'LoRA targets must be a list such as attn.c_attn,mlp.c_fc' };
  for (const t of items) {
    if (!(LORA_TARGETS as readonly unknown[]).includes(t)) return { ok: false, error: `unknown LoRA target ${quote(String(t), 40)} (choose from ${LORA_TARGETS.join(', ')})` };
  }
  const set = new Set(items as LoraTarget[]);
  if (set.size === 0) return { ok: false, error: 'choose at least one LoRA target' };
  return { ok: true, value: LORA_TARGETS.filter((t) => set.has(t)) };
}

/** Constraints that involve the model: sequence length within n_positions, rank within each module's dims. */
export function gpt2ConfigError(c: Gpt2RunConfig, model: Gpt2Config): string | null {
  if (c.seq > model.n_positions) return `Sequence length ${c.seq} exceeds the model's ${model.n_positions} positions`;
  for (const t of c.targets) {
    const d = targetDims(model, t);
    if (c.rank > Math.min(d.in, d.out)) return `Rank ${c.rank} exceeds the ${t} layer's size (${d.in} x ${d.out})`;
  }
  return null;
}

/** Validate a whole (partial, untrusted) object: known keys only (and `targets`); defaults fill the rest. */
export function validateGpt2RunConfig(raw: unknown, model?: Gpt2Config): Checked<Gpt2RunConfig> {
  const r = validateSettings(GPT2_FIELDS, raw, (key, value, out) => {
    if (key !== 'targets') return undefined;
    const t = parseTargets(value);
    if (!t.ok) return t.error;
    out.targets = t.value;
    return null;
  });
  if (!r.ok) return r;
  const c = { targets: defaultGpt2RunConfig().targets, ...r.value } as Gpt2RunConfig;
  const cross = model ? gpt2ConfigError(c, model) : null;
  return cross ? { ok: false, error: cross } : { ok: true, value: c };
}

/** Dropout probabilities of a run: the model's (dropout: config) or the run's, and PEFT's lora_dropout. */
export interface DropoutRates {
  embd: number;
  attn: number;
  resid: number;
  lora: number;
}

export function dropoutRates(c: Pick<Gpt2RunConfig, 'dropout' | 'loraDropout'>, model: Pick<Gpt2Config, 'embd_pdrop' | 'attn_pdrop' | 'resid_pdrop'>): DropoutRates {
  const all = c.dropout;
  return all === null ? { embd: model.embd_pdrop, attn: model.attn_pdrop, resid: model.resid_pdrop, lora: c.loraDropout } : { embd: all, attn: all, resid: all, lora: c.loraDropout };
}

export function gpt2LoraScale(c: Pick<Gpt2RunConfig, 'alpha' | 'rank' | 'rslora'>): number {
  return c.rslora ? c.alpha / Math.sqrt(c.rank) : c.alpha / c.rank;
}
