// Command-line flags, validated before any work. Two kinds of flags:
//   settings  every field of a schema (TOY_FIELDS, GPT2_FIELDS) is a flag in kebab-case (--teacher-rank),
//             validated by the same parseField the UI and the share links use;
//   options   everything else (--json, --out FILE, --max-batch N, ...), each declared with an OptionSpec that
//             says what its value must be: a number in a range, one of a list, non-empty text, a file to read,
//             a path to write. Input files are checked readable and output paths writable here, so a command
//             that starts working will not fail later on a path it could have refused at once.
// Names are looked up as own properties only: "--constructor" or "--__proto__" are unknown flags.
import { defaultsOf, parseField, type Fields, type SettingsOf } from '../experiments/schema.ts';
import { quote } from '../experiments/untrusted.ts';
import { crossFieldError, TOY_FIELDS, TOY_KEYS, type ToyConfig, type ToyKey } from '../experiments/toy/config.ts';
import { UsageError } from './errors.ts';
import { checkInputDir, checkInputFile, checkOutputDir, checkOutputFile, checkOutputPath } from './paths.ts';

export const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export { UsageError };

/** What an option's value must be. */
export type OptionSpec =
  | { kind: 'switch' }
  | { kind: 'int' | 'number'; min: number; max: number }
  | { kind: 'enum'; options: readonly string[] }
  /** Free text; empty is refused unless allowEmpty. `check` returns an error message or null. */
  | { kind: 'text'; allowEmpty?: boolean; check?: (value: string) => string | null }
  /** A file that is read: must exist, be a regular file and readable (at most maxBytes when given). */
  | { kind: 'file'; maxBytes?: number }
  /** A folder that is read. */
  | { kind: 'dir' }
  /** A file written at the end: its folder must exist and be writable; an existing path must be a regular file. */
  | { kind: 'out-file' }
  /** A folder written at the end (created with its parents when missing). */
  | { kind: 'out-dir' }
  /** A file or a folder written at the end (the command decides; e.g. a bundle). */
  | { kind: 'out-path' };

/** A command's options. `true` is a switch; `false` a value, checked as the shared option of that name, or as non-empty text. */
export type OptionSpecs = Readonly<Record<string, OptionSpec | boolean>>;

/** Options that mean the same in every command: declared `false`, they get these checks. */
export const SHARED_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  out: { kind: 'out-path' },
  'memory-budget-mib': { kind: 'number', min: 1, max: 2 ** 20 },
};

export function optionSpec(specs: OptionSpecs, name: string): OptionSpec | undefined {
  if (!Object.hasOwn(specs, name)) return undefined;
  const s = specs[name];
  if (s === true) return { kind: 'switch' };
  if (s === false) return Object.hasOwn(SHARED_OPTIONS, name) ? SHARED_OPTIONS[name] : { kind: 'text' };
  return s;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Checks one option value; returns the error (without the flag name) or null. Paths are checked by checkPaths. */
export function optionError(spec: OptionSpec, value: string): string | null {
  switch (spec.kind) {
    case 'switch':
      return null;
    case 'int':
    case 'number': {
      if (!NUMBER.test(value)) return `must be a number (got ${quote(value, 16)})`;
      const v = Number(value);
      if (!Number.isFinite(v)) return 'must be finite';
      if (spec.kind === 'int' && !Number.isInteger(v)) return `must be a whole number (got ${quote(value, 16)})`;
      if (v < spec.min || v > spec.max) return `must be between ${spec.min} and ${spec.max} (got ${quote(value, 16)})`;
      return null;
    }
    case 'enum':
      return spec.options.includes(value) ? null : `must be one of ${spec.options.join(', ')} (got ${quote(value, 16)})`;
    case 'text':
      if (value === '' && !spec.allowEmpty) return 'must not be empty';
      return spec.check?.(value) ?? null;
    default:
      return value === '' ? 'needs a path' : null;
  }
}

export interface ParsedFlags<F extends Fields> {
  /** The schema's defaults with the given settings applied. */
  settings: SettingsOf<F>;
  /** Settings given explicitly on the command line. */
  given: Set<keyof F & string>;
  /** Options given (validated text; `true` for a switch). */
  options: Map<string, string | true>;
}

/**
 * Parse `--flag value` / `--flag=value` / `--switch`: settings of `fields` and the declared `options`.
 * Every value is checked, each flag may be given once, and file and path options are checked last
 * (readable, writable), all before the command does anything.
 */
export function parseFlags<F extends Fields>(argv: readonly string[], fields: F, options: OptionSpecs): ParsedFlags<F> {
  const settings = defaultsOf(fields) as Record<string, unknown>;
  const given = new Set<keyof F & string>();
  const out = new Map<string, string | true>();
  const keyOf = new Map<string, keyof F & string>(Object.keys(fields).map((k) => [kebab(k), k as keyof F & string]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument ${quote(arg, 40)} (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    const key = keyOf.get(name);
    const spec = key ? undefined : optionSpec(options, name);
    if (!key && !spec) throw new UsageError(`unknown flag --${quote(name, 40).slice(1, -1)}`);
    if ((key && given.has(key)) || out.has(name)) throw new UsageError(`--${name} is given twice`);
    const isSwitch = key ? fields[key].kind === 'bool' : spec!.kind === 'switch';
    if (value === undefined) {
      if (isSwitch) value = 'true';
      else {
        value = argv[++i];
        // A following flag is not a value ("--out --json"); a negative number is ("--temperature -1").
        if (value === undefined || (value.startsWith('--') && !/^--?\d/.test(value))) throw new UsageError(`--${name} needs a value`);
      }
    }
    if (key) {
      const r = parseField(fields, key, value);
      if (!r.ok) throw new UsageError(`--${name}: ${r.error}${fields[key].kind === 'enum' || fields[key].kind === 'bool' ? '' : ` (got ${quote(value, 16)})`}`);
      settings[key] = r.value;
      given.add(key);
      continue;
    }
    if (isSwitch) {
      if (!['true', '1', 'false', '0'].includes(value)) throw new UsageError(`--${name} is a switch: give it alone or as --${name}=true|false`);
      if (value === 'true' || value === '1') out.set(name, true);
      continue;
    }
    const error = optionError(spec!, value);
    if (error) throw new UsageError(`--${name} ${error}`);
    out.set(name, value);
  }
  checkPaths(out, options);
  return { settings: settings as SettingsOf<F>, given, options: out };
}

/** Input files readable, output paths writable: refused now, before any work. */
function checkPaths(values: Map<string, string | true>, options: OptionSpecs): void {
  for (const [name, value] of values) {
    if (value === true) continue;
    const spec = optionSpec(options, name)!;
    const flag = `--${name}`;
    if (spec.kind === 'file') checkInputFile(flag, value, spec.maxBytes);
    else if (spec.kind === 'dir') checkInputDir(flag, value);
    else if (spec.kind === 'out-file') checkOutputFile(flag, value);
    else if (spec.kind === 'out-dir') checkOutputDir(flag, value);
    else if (spec.kind === 'out-path') checkOutputPath(flag, value);
  }
}

/** A validated number option, or `fallback` when it was not given. */
export function numberOption(options: Map<string, string | true>, name: string, fallback: number): number;
export function numberOption(options: Map<string, string | true>, name: string): number | undefined;
export function numberOption(options: Map<string, string | true>, name: string, fallback?: number): number | undefined {
  const v = options.get(name);
  return typeof v === 'string' ? Number(v) : fallback;
}

export function textOption(options: Map<string, string | true>, name: string): string | undefined {
  const v = options.get(name);
  return typeof v === 'string' ? v : undefined;
}

// ---- the toy's flags ----

export interface ParsedArgs {
  config: ToyConfig;
  /** Flags that are not experiment settings (--json, --csv, --tensors FILE, --out FILE, ...). */
  options: Map<string, string | true>;
  /** Experiment keys given explicitly on the command line. */
  given: Set<ToyKey>;
}

/** The toy's settings (TOY_FIELDS) and the command's options; constraints between settings checked. */
export function parseArgs(argv: readonly string[], extra: OptionSpecs): ParsedArgs {
  const r = parseFlags(argv, TOY_FIELDS, extra);
  const cross = crossFieldError(r.settings);
  if (cross) throw new UsageError(`--${kebab(cross.key)}: ${cross.error}`);
  return { config: r.settings, options: r.options, given: r.given };
}

export function flagHelp(): string {
  return TOY_KEYS.map((k) => {
    const f = TOY_FIELDS[k];
    const range = f.kind === 'enum' ? f.options.join('|') : f.kind === 'bool' ? '' : `${f.min}..${f.max}`;
    return `  --${kebab(k).padEnd(14)} ${range.padEnd(18)} ${f.help} (default ${f.default})`;
  }).join('\n');
}
