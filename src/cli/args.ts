// Command-line flags derived from the experiment schema: every ToyConfig key is a flag in kebab-case
// (--teacher-rank), validated by the same parseField the UI and the share link use.
import { crossFieldError, defaultToyConfig, parseToyField, TOY_FIELDS, TOY_KEYS, type ToyConfig, type ToyKey } from '../experiments/toy/config.ts';

/** A user error: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {}

export const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const FLAG_TO_KEY = new Map<string, ToyKey>(TOY_KEYS.map((k) => [kebab(k), k]));

export interface ParsedArgs {
  config: ToyConfig;
  /** Flags that are not experiment settings (--json, --csv, --tensors FILE, --out FILE, ...). */
  options: Map<string, string | true>;
  /** Experiment keys given explicitly on the command line. */
  given: Set<ToyKey>;
}

/**
 * Parse `--flag value` / `--flag=value` / boolean `--flag`. `extra` names the non-experiment flags the
 * command accepts: true for a boolean switch, false for one that takes a value.
 */
export function parseArgs(argv: string[], extra: Record<string, boolean>): ParsedArgs {
  const config = defaultToyConfig() as Record<string, unknown>;
  const options = new Map<string, string | true>();
  const given = new Set<ToyKey>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const key = FLAG_TO_KEY.get(name);
    const isSwitch = key ? TOY_FIELDS[key].kind === 'bool' : extra[name] === true;
    if (!key && !(name in extra)) throw new UsageError(`unknown flag --${name}`);
    if (value === undefined) {
      if (isSwitch) value = 'true';
      else {
        value = argv[++i];
        if (value === undefined || (value.startsWith('--') && !/^--?\d/.test(value))) throw new UsageError(`--${name} needs a value`);
      }
    }
    if (key) {
      const r = parseToyField(key, value);
      if (!r.ok) throw new UsageError(`--${name}: ${r.error}`);
      config[key] = r.value;
      given.add(key);
    } else {
      options.set(name, isSwitch ? true : value);
    }
  }
  const cross = crossFieldError(config as ToyConfig);
  if (cross) throw new UsageError(`--${kebab(cross.key)}: ${cross.error}`);
  return { config: config as ToyConfig, options, given };
}

export function flagHelp(): string {
  return TOY_KEYS.map((k) => {
    const f = TOY_FIELDS[k];
    const range = f.kind === 'enum' ? f.options.join('|') : f.kind === 'bool' ? '' : `${f.min}..${f.max}`;
    return `  --${kebab(k).padEnd(14)} ${range.padEnd(18)} ${f.help} (default ${f.default})`;
  }).join('\n');
}
