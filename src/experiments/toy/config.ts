// The one typed schema of a toy experiment. Controls, the share link, the CLI flags, validation and
// defaults are all derived from TOY_FIELDS: adding a setting is one entry here.

import { defaultsOf, parseField, validateSettings, type Checked, type FieldSpec, type SettingsOf } from '../schema.ts';

export type { Checked, FieldSpec } from '../schema.ts';

export const TOY_FIELDS = {
  init: { kind: 'enum', default: 'A', options: ['A', 'B'], label: 'Init scheme', help: 'Init[A]: B = 0, A random (PEFT default). Init[B]: A = 0, B random.', short: 'i' },
  initDist: { kind: 'enum', default: 'gaussian', options: ['gaussian', 'uniform'], label: 'Init distribution', help: 'Gaussian N(0, 1/fan_in) or PEFT kaiming-uniform U(-1/sqrt(fan_in), 1/sqrt(fan_in)).', short: 'id' },
  eta: { kind: 'number', default: 1e-3, min: 1e-7, max: 10, log: true, label: 'Learning rate η (A)', help: 'AdamW learning rate of A; B gets λ·η.', short: 'e' },
  lambda: { kind: 'number', default: 1, min: 0.0625, max: 1024, log: true, label: 'LoRA+ ratio λ', help: 'lr_B = λ · lr_A. λ = 1 is plain LoRA; the LoRA+ paper suggests about 2^4.', short: 'l' },
  n: { kind: 'int', default: 256, min: 16, max: 8192, log: true, label: 'Width n', help: 'Hidden width of the toy network (the adapted layer is n x n).', short: 'n' },
  rank: { kind: 'int', default: 4, min: 1, max: 64, label: 'Rank r', help: 'LoRA rank (at most n).', short: 'r' },
  alpha: { kind: 'number', default: 4, min: 1e-3, max: 1e4, log: true, label: 'Alpha α', help: 'Scale s = α/r (or α/√r with rsLoRA).', short: 'a' },
  rslora: { kind: 'bool', default: false, label: 'rsLoRA scale', help: 'Use s = α/√r instead of α/r.', short: 'rs' },
  activation: { kind: 'enum', default: 'relu', options: ['relu', 'tanh', 'gelu'], label: 'Activation φ', help: 'Nonlinearity of the toy network (GELU is the tanh approximation).', short: 'ac' },
  d: { kind: 'int', default: 16, min: 1, max: 1024, label: 'Input dim d', help: 'Dimension of the inputs x ~ N(0, I_d).', short: 'd' },
  teacherRank: { kind: 'int', default: 2, min: 1, max: 64, label: 'Teacher rank r*', help: 'Rank of the teacher’s update U* V*ᵀ (at most n).', short: 'tr' },
  nTrain: { kind: 'int', default: 1000, min: 1, max: 100000, label: 'Training examples', help: 'N_train, drawn once from the seed.', short: 'nt' },
  nTest: { kind: 'int', default: 100, min: 1, max: 100000, label: 'Test examples', help: 'N_test, for the test loss.', short: 'ne' },
  noise: { kind: 'number', default: 0, min: 0, max: 100, label: 'Target noise σ', help: 'Gaussian noise added to the training targets.', short: 'no' },
  batch: { kind: 'int', default: 0, min: 0, max: 100000, label: 'Batch size', help: '0 = full batch; otherwise mini-batches reshuffled every epoch.', short: 'b' },
  wd: { kind: 'number', default: 0, min: 0, max: 10, label: 'Weight decay', help: 'Decoupled (AdamW) weight decay, same for A and B.', short: 'wd' },
  beta1: { kind: 'number', default: 0.9, min: 0, max: 0.999999, label: 'Adam β1', help: 'First-moment decay.', short: 'b1' },
  beta2: { kind: 'number', default: 0.999, min: 0, max: 0.99999999, label: 'Adam β2', help: 'Second-moment decay.', short: 'b2' },
  eps: { kind: 'number', default: 1e-8, min: 1e-20, max: 1, log: true, label: 'Adam ε', help: 'Denominator floor.', short: 'ep' },
  steps: { kind: 'int', default: 500, min: 1, max: 100000, log: true, label: 'Steps', help: 'Training steps.', short: 's' },
  testEvery: { kind: 'int', default: 10, min: 1, max: 100000, label: 'Test every k', help: 'Evaluate the test loss every k steps.', short: 'te' },
  seed: { kind: 'int', default: 1, min: 0, max: 2147483647, label: 'Seed', help: 'Seeds every random draw (named stream per tensor).', short: 'sd' },
} as const satisfies Record<string, FieldSpec>;

export type ToyKey = keyof typeof TOY_FIELDS;
export type ToyConfig = SettingsOf<typeof TOY_FIELDS>;

export const TOY_KEYS = Object.keys(TOY_FIELDS) as ToyKey[];

export function defaultToyConfig(): ToyConfig {
  return defaultsOf(TOY_FIELDS);
}

/** Validate one raw value for a toy setting (the schema's parseField over TOY_FIELDS). */
export function parseToyField<K extends ToyKey>(key: K, raw: unknown): Checked<ToyConfig[K]> {
  return parseField(TOY_FIELDS, key, raw) as Checked<ToyConfig[K]>;
}

/** Constraints between fields; returns the offending key and a message, or null. */
export function crossFieldError(c: ToyConfig): { key: ToyKey; error: string } | null {
  if (c.rank > c.n) return { key: 'rank', error: `Rank r (${c.rank}) must not exceed width n (${c.n})` };
  if (c.teacherRank > c.n) return { key: 'teacherRank', error: `Teacher rank (${c.teacherRank}) must not exceed width n (${c.n})` };
  if (c.batch > c.nTrain) return { key: 'batch', error: `Batch size (${c.batch}) must not exceed the training examples (${c.nTrain})` };
  return null;
}

/** Validate a whole (possibly partial, untrusted) object: known keys only, each checked; defaults fill the rest. */
export function validateToyConfig(raw: unknown): Checked<ToyConfig> {
  const r = validateSettings(TOY_FIELDS, raw);
  if (!r.ok) return r;
  const cross = crossFieldError(r.value);
  return cross ? { ok: false, error: cross.error } : r;
}

/** The LoRA scale s = alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScale(c: Pick<ToyConfig, 'alpha' | 'rank' | 'rslora'>): number {
  return c.rslora ? c.alpha / Math.sqrt(c.rank) : c.alpha / c.rank;
}

/** Examples per step (the full training set when batch = 0). */
export function batchSize(c: Pick<ToyConfig, 'batch' | 'nTrain'>): number {
  return c.batch === 0 ? c.nTrain : c.batch;
}
