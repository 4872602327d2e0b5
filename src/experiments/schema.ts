// The typed schema every setting is described by (the toy's TOY_FIELDS, GPT-2's GPT2_FIELDS): kind,
// range, default, label, help and the share link's short key. Form controls, share links, CLI flags and
// validation all derive from it; this file holds the one parser of a raw value and the one validator of
// a whole untrusted object.

import { quote } from './untrusted.ts';

export type FieldSpec =
  | { kind: 'int'; default: number; min: number; max: number; label: string; help: string; log?: boolean; short: string }
  | { kind: 'number'; default: number; min: number; max: number; label: string; help: string; log?: boolean; short: string }
  /**
   * A number that may also be left to something else (GPT-2's dropout: the model's config): the word
   * `auto` in place of a number means "not set here" and parses to null.
   */
  | { kind: 'number'; auto: string; default: number | null; min: number; max: number; label: string; help: string; log?: boolean; short: string }
  | { kind: 'enum'; default: string; options: readonly string[]; label: string; help: string; short: string }
  | { kind: 'bool'; default: boolean; label: string; help: string; short: string };

export type Fields = Readonly<Record<string, FieldSpec>>;

/** The value type of a field: boolean, one of its options, or number. */
export type ValueOf<F> = F extends { kind: 'bool' } ? boolean : F extends { kind: 'enum'; options: readonly (infer O)[] } ? O : F extends { auto: string } ? number | null : number;

/** A settings object of a schema: one value per field. */
export type SettingsOf<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]> };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Own keys only: a prototype name ("constructor", "__proto__") is never a field. */
export function isField<F extends Fields>(fields: F, key: string): key is Extract<keyof F, string> {
  return Object.hasOwn(fields, key);
}

export function defaultsOf<F extends Fields>(fields: F): SettingsOf<F> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(fields)) out[k] = fields[k].default;
  return out as SettingsOf<F>;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Validate one raw value (text from a form field, URL or CLI flag, or a JSON value) for field `key`. */
export function parseField<F extends Fields, K extends keyof F & string>(fields: F, key: K, raw: unknown): Checked<ValueOf<F[K]>> {
  const spec: FieldSpec = fields[key];
  const ok = (v: unknown): Checked<ValueOf<F[K]>> => ({ ok: true, value: v as ValueOf<F[K]> });
  const name = spec.label;
  if (spec.kind === 'bool') {
    if (raw === true || raw === 'true' || raw === '1' || raw === 1) return ok(true);
    if (raw === false || raw === 'false' || raw === '0' || raw === 0) return ok(false);
    return { ok: false, error: `${name} must be true or false` };
  }
  if (spec.kind === 'enum') {
    if (typeof raw === 'string' && spec.options.includes(raw)) return ok(raw);
    return { ok: false, error: `${name} must be one of ${spec.options.join(', ')}` };
  }
  if ('auto' in spec && (raw === null || (typeof raw === 'string' && raw.trim() === spec.auto))) return ok(null);
  let v: number;
  if (typeof raw === 'number') v = raw;
  else if (typeof raw === 'string' && NUMBER.test(raw)) v = Number(raw);
  else return { ok: false, error: 'auto' in spec ? `${name} must be a number or ${spec.auto}` : `${name} must be a number` };
  if (!Number.isFinite(v)) return { ok: false, error: `${name} must be finite` };
  if (spec.kind === 'int' && !Number.isInteger(v)) return { ok: false, error: `${name} must be a whole number` };
  if (v < spec.min || v > spec.max) return { ok: false, error: `${name} must be between ${spec.min} and ${spec.max}` };
  return ok(v);
}

/**
 * Validate a whole (possibly partial, untrusted) object: own known keys only, each parsed; defaults fill
 * the rest. `extra` takes keys outside the schema (GPT-2's target list) and returns an error or null.
 */
export function validateSettings<F extends Fields>(fields: F, raw: unknown, extra?: (key: string, value: unknown, out: Record<string, unknown>) => string | null | undefined): Checked<SettingsOf<F>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'config must be an object' };
  const out = defaultsOf(fields) as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) {
    if (isField(fields, k)) {
      const r = parseField(fields, k, v);
      if (!r.ok) return r;
      out[k] = r.value;
      continue;
    }
    const e = extra?.(k, v, out);
    if (e === undefined) return { ok: false, error: `unknown setting ${quote(k, 40)}` };
    if (e !== null) return { ok: false, error: e };
  }
  return { ok: true, value: out as SettingsOf<F> };
}
