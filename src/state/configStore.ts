// The experiment being set up in the control panel. Every field keeps the text as typed (`raw`) and
// its validation message; `config` only ever holds a fully valid ToyConfig (parsed by the schema's
// parseField + crossFieldError), so nothing malformed can reach the engine.
import { create } from 'zustand';
import { crossFieldError, defaultToyConfig, parseToyField, TOY_FIELDS, TOY_KEYS, type ToyConfig, type ToyKey } from '../experiments/toy/config.ts';

export type RawConfig = Record<ToyKey, string>;

export interface ConfigState {
  /** Field text as typed. */
  raw: RawConfig;
  /** Per-field message (malformed, out of range, or a cross-field constraint). */
  errors: Partial<Record<ToyKey, string>>;
  /** The last fully valid configuration: what Run, Compare and the share link use. */
  config: ToyConfig;
  /** True when every field as typed is valid (then `config` equals the form). */
  valid: boolean;
  setField(key: ToyKey, raw: string): void;
  /** Replace the whole form with an already validated configuration (preset, share link, a run's settings). */
  setConfig(config: ToyConfig): void;
}

/** The text a field shows for a value: numbers in JS's shortest round-trip form ("0.001", "1e-7"). */
export function formatRaw(key: ToyKey, value: ToyConfig[ToyKey]): string {
  const spec = TOY_FIELDS[key];
  if (spec.kind === 'bool') return value ? 'true' : 'false';
  return String(value);
}

export function rawOf(config: ToyConfig): RawConfig {
  const out = {} as RawConfig;
  for (const k of TOY_KEYS) out[k] = formatRaw(k, config[k]);
  return out;
}

/** Validate every field of a form; returns the config when all is well. */
export function checkRaw(raw: RawConfig): { errors: Partial<Record<ToyKey, string>>; config: ToyConfig | null } {
  const errors: Partial<Record<ToyKey, string>> = {};
  const parsed = defaultToyConfig() as Record<ToyKey, unknown>;
  for (const k of TOY_KEYS) {
    const r = parseToyField(k, raw[k]);
    if (r.ok) parsed[k] = r.value;
    else errors[k] = r.error;
  }
  if (Object.keys(errors).length) return { errors, config: null };
  const config = parsed as ToyConfig;
  const cross = crossFieldError(config);
  if (cross) return { errors: { [cross.key]: cross.error }, config: null };
  return { errors, config };
}

const initial = defaultToyConfig();

export const useConfigStore = create<ConfigState>()((set, get) => ({
  raw: rawOf(initial),
  errors: {},
  config: initial,
  valid: true,
  setField(key, text) {
    // Bound what a field can hold: a pasted megabyte never gets as far as the parser.
    const raw = { ...get().raw, [key]: text.slice(0, 64) };
    const { errors, config } = checkRaw(raw);
    set(config ? { raw, errors, config, valid: true } : { raw, errors, valid: false });
  },
  setConfig(config) {
    set({ raw: rawOf(config), errors: {}, config: { ...config }, valid: true });
  },
}));
