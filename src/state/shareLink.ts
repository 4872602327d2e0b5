// The share link: the URL fragment encodes the whole experiment (every setting, the seed) and the runs
// to compare, derived from the schema's short keys (TOY_FIELDS[k].short), e.g.
//
//   #v=1&i=A&id=gaussian&e=0.001&l=16&n=1024&r=4&...&sd=1&run=i:A&run=~i:B,e:0.01
//
// `run` entries are a run's settings as differences from the main settings (`key:value` pairs joined
// by commas); a leading `~` marks a run that is kept but hidden. Every setting is written out (not only
// those off their default), so a link keeps its meaning when a default changes.
//
// Decoding trusts nothing: a bounded length, a strict grammar, known keys only, every value through the
// schema's parseField and crossFieldError, a bound on the memory the experiment would need. Any problem
// gives an error message and the caller opens the defaults; decoding never throws.
import { crossFieldError, defaultToyConfig, parseToyField, TOY_FIELDS, TOY_KEYS, type ToyConfig, type ToyKey } from '../experiments/toy/config.ts';
import { toyMemoryBytes } from '../experiments/toy/plan.ts';
import { quote } from '../experiments/untrusted.ts';
import { formatRaw } from './configStore.ts';

export const LINK_VERSION = 1;
/** Longer fragments are refused before any parsing. */
export const MAX_LINK_CHARS = 4096;
export const MAX_LINK_RUNS = 16;
/** An experiment that needs more GPU memory than this is not a plausible link (absurd sizes). */
export const MAX_LINK_BYTES = 4 * 2 ** 30;

export interface SharedRun {
  config: ToyConfig;
  hidden: boolean;
}

export interface SharedState {
  config: ToyConfig;
  runs: SharedRun[];
}

export type Decoded = { ok: true; state: SharedState; upgradedFrom?: number } | { ok: false; error: string };

const SHORT_TO_KEY = new Map<string, ToyKey>(TOY_KEYS.map((k) => [TOY_FIELDS[k].short, k]));
const RUN_PARAM = 'run';
const VERSION_PARAM = 'v';

function encodeValue(key: ToyKey, value: ToyConfig[ToyKey]): string {
  return TOY_FIELDS[key].kind === 'bool' ? (value ? '1' : '0') : formatRaw(key, value);
}

export function encodeLink(state: SharedState): string {
  const parts = [`${VERSION_PARAM}=${LINK_VERSION}`];
  for (const k of TOY_KEYS) parts.push(`${TOY_FIELDS[k].short}=${encodeValue(k, state.config[k])}`);
  for (const run of state.runs.slice(0, MAX_LINK_RUNS)) {
    const diff = TOY_KEYS.filter((k) => run.config[k] !== state.config[k]).map((k) => `${TOY_FIELDS[k].short}:${encodeValue(k, run.config[k])}`);
    parts.push(`${RUN_PARAM}=${run.hidden ? '~' : ''}${diff.join(',')}`);
  }
  return parts.join('&');
}

export { quote };

class LinkError extends Error {}

type Params = Array<[string, string]>;

/**
 * Upgrades from each older version to the next: UPGRADES[v] turns a version-v parameter list into
 * version v+1. Version 0 is the unversioned form written by hand or by the first prototype: full
 * setting names (`init=B&eta=0.01`, or the CLI's `teacher-rank`) and no runs.
 */
const UPGRADES: Record<number, (p: Params) => Params> = {
  0: (p) =>
    p.map(([name, value]) => {
      const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const key = TOY_KEYS.find((k) => k.toLowerCase() === camel.toLowerCase());
      if (!key) throw new LinkError(`unknown setting ${quote(name)}`);
      return [TOY_FIELDS[key].short, value] as [string, string];
    }),
};

function splitParams(fragment: string): Params {
  const params: Params = [];
  for (const part of fragment.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new LinkError(`malformed part ${quote(part)}`);
    const name = part.slice(0, eq);
    if (!/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(name)) throw new LinkError(`malformed name ${quote(name)}`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw new LinkError(`badly escaped value for ${quote(name)}`);
    }
    params.push([name, value]);
  }
  if (params.length > 4 * TOY_KEYS.length + MAX_LINK_RUNS) throw new LinkError(`too many parts (${params.length})`);
  return params;
}

/** Apply `short=value` pairs onto `base`, refusing unknown keys, repeats and invalid values. */
function applySettings(base: ToyConfig, pairs: Params, where: string): ToyConfig {
  const out = { ...base } as Record<ToyKey, unknown>;
  const seen = new Set<ToyKey>();
  for (const [short, value] of pairs) {
    const key = SHORT_TO_KEY.get(short);
    if (!key) throw new LinkError(`unknown setting ${quote(short)}${where}`);
    if (seen.has(key)) throw new LinkError(`${TOY_FIELDS[key].label} given twice${where}`);
    seen.add(key);
    const r = parseToyField(key, value);
    if (!r.ok) throw new LinkError(`${r.error} (got ${quote(value, 16)})${where}`);
    out[key] = r.value;
  }
  const config = out as ToyConfig;
  const cross = crossFieldError(config);
  if (cross) throw new LinkError(cross.error + where);
  const bytes = toyMemoryBytes(config);
  if (bytes > MAX_LINK_BYTES) throw new LinkError(`the experiment would need ${(bytes / 2 ** 30).toFixed(1)} GiB of GPU memory${where}`);
  return config;
}

function parseRun(base: ToyConfig, text: string, index: number): SharedRun {
  const hidden = text.startsWith('~');
  const body = hidden ? text.slice(1) : text;
  const pairs: Params = [];
  if (body !== '') {
    for (const item of body.split(',')) {
      const colon = item.indexOf(':');
      if (colon <= 0) throw new LinkError(`malformed run ${index + 1} (${quote(item)})`);
      pairs.push([item.slice(0, colon), item.slice(colon + 1)]);
    }
  }
  return { config: applySettings(base, pairs, ` in run ${index + 1}`), hidden };
}

/** Decode a URL fragment (with or without the leading '#'). An empty fragment is the defaults. */
export function decodeLink(fragment: string): Decoded {
  try {
    if (typeof fragment !== 'string') throw new LinkError('not text');
    if (fragment.startsWith('#')) fragment = fragment.slice(1);
    if (fragment.length > MAX_LINK_CHARS) throw new LinkError(`the link is too long (${fragment.length} characters, at most ${MAX_LINK_CHARS})`);
    let params = splitParams(fragment);
    if (params.length === 0) return { ok: true, state: { config: defaultToyConfig(), runs: [] } };
    const versions = params.filter(([k]) => k === VERSION_PARAM);
    if (versions.length > 1) throw new LinkError('the version is given twice');
    let version = 0;
    if (versions.length === 1) {
      const v = versions[0][1];
      if (!/^\d{1,3}$/.test(v)) throw new LinkError(`malformed version ${quote(v)}`);
      version = Number(v);
      if (version > LINK_VERSION) throw new LinkError(`the link was made by a newer version of the playground (v${version}; this page reads up to v${LINK_VERSION})`);
      if (version === 0) throw new LinkError('malformed version "0"');
      params = params.filter(([k]) => k !== VERSION_PARAM);
    }
    const from = version;
    for (; version < LINK_VERSION; version++) params = UPGRADES[version](params);
    const runTexts = params.filter(([k]) => k === RUN_PARAM).map(([, v]) => v);
    if (runTexts.length > MAX_LINK_RUNS) throw new LinkError(`too many runs (${runTexts.length}, at most ${MAX_LINK_RUNS})`);
    const config = applySettings(defaultToyConfig(), params.filter(([k]) => k !== RUN_PARAM), '');
    const runs = runTexts.map((t, i) => parseRun(config, t, i));
    return from < LINK_VERSION ? { ok: true, state: { config, runs }, upgradedFrom: from } : { ok: true, state: { config, runs } };
  } catch (e) {
    // Anything unexpected is still a bad link, never an exception for the page.
    return { ok: false, error: e instanceof LinkError ? e.message : 'the link could not be read' };
  }
}
