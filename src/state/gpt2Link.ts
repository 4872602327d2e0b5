// The GPT-2 tab's share link, a fragment of its own beside the toy playground's:
//
//   #gpt2?v=1&m=tiny&txt=shakespeare&t=attn.c_attn,mlp.c_fc&r=8&a=16&rs=0&i=A&...&cmp=1
//
// Settings use GPT2_FIELDS' short keys; `t` the LoRA targets; `m` the model; `txt` the text by
// reference (only the bundled text can be referenced: pasted text stays on the machine that has it,
// and such a link opens with the text box empty); `cmp=1` means Init[A] vs Init[B] side by side.
// Decoding never throws: every value goes through parseGpt2Field / parseTargets, unknown keys refuse.
// Version 1 links predate dropout, clipping, schedules, accumulation and the batch order: what they leave
// out means PLAIN_TRAINING (what they trained with then), not today's defaults, so they replay the same run.
import { GPT2_FIELDS, GPT2_KEYS, gpt2ConfigError, parseGpt2Field, parseTargets, PLAIN_TRAINING, type Gpt2Key, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { defaultsFor, formatGpt2Raw, MODEL_CHOICES, modelConfig, type Gpt2ModelChoice, type TextSource } from './gpt2Store.ts';
import { quote } from './shareLink.ts';

export const GPT2_LINK_VERSION = 2;
export const GPT2_LINK_PREFIX = 'gpt2?';
const MAX_CHARS = 2048;

export interface Gpt2SharedState {
  model: Gpt2ModelChoice;
  text: TextSource;
  config: Gpt2RunConfig;
  compare: boolean;
}

export const isGpt2Fragment = (fragment: string): boolean => (fragment.startsWith('#') ? fragment.slice(1) : fragment).startsWith(GPT2_LINK_PREFIX);

export function encodeGpt2Link(s: Gpt2SharedState): string {
  const parts = [`v=${GPT2_LINK_VERSION}`, `m=${s.model}`, `txt=${s.text === 'shakespeare' ? 'shakespeare' : 'pasted'}`, `t=${s.config.targets.join(',')}`];
  for (const k of GPT2_KEYS) parts.push(`${GPT2_FIELDS[k].short}=${encodeURIComponent(formatGpt2Raw(k, s.config[k]).replace(/^true$/, '1').replace(/^false$/, '0'))}`);
  if (s.compare) parts.push('cmp=1');
  return GPT2_LINK_PREFIX + parts.join('&');
}

const SHORT = new Map<string, Gpt2Key>(GPT2_KEYS.map((k) => [GPT2_FIELDS[k].short, k]));

export function decodeGpt2Link(fragment: string): { ok: true; state: Gpt2SharedState } | { ok: false; error: string } {
  try {
    let f = fragment.startsWith('#') ? fragment.slice(1) : fragment;
    if (!f.startsWith(GPT2_LINK_PREFIX)) return { ok: false, error: 'not a GPT-2 link' };
    if (f.length > MAX_CHARS) return { ok: false, error: `the link is too long (${f.length} characters)` };
    f = f.slice(GPT2_LINK_PREFIX.length);
    let model: Gpt2ModelChoice = 'tiny';
    let text: TextSource = 'shakespeare';
    let compare = false;
    let version = GPT2_LINK_VERSION;
    const pairs: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const part of f.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq <= 0) return { ok: false, error: `malformed part ${quote(part)}` };
      const name = part.slice(0, eq);
      let value: string;
      try {
        value = decodeURIComponent(part.slice(eq + 1));
      } catch {
        return { ok: false, error: `badly escaped value for ${quote(name)}` };
      }
      if (seen.has(name)) return { ok: false, error: `${quote(name)} given twice` };
      seen.add(name);
      pairs.push([name, value]);
    }
    for (const [name, value] of pairs) {
      if (name === 'v') {
        if (!/^\d{1,3}$/.test(value)) return { ok: false, error: `malformed version ${quote(value)}` };
        if (Number(value) > GPT2_LINK_VERSION) return { ok: false, error: `the link was made by a newer version (v${value})` };
        version = Number(value);
      } else if (name === 'm') {
        const m = MODEL_CHOICES.find((c) => c.id === value);
        if (!m) return { ok: false, error: `unknown model ${quote(value)}` };
        model = m.id;
      } else if (name === 'txt') {
        if (value !== 'shakespeare' && value !== 'pasted') return { ok: false, error: `unknown text ${quote(value)}` };
        text = value === 'shakespeare' ? 'shakespeare' : 'custom';
      } else if (name === 'cmp') {
        compare = value === '1';
      }
    }
    const out = (version < 2 ? { ...defaultsFor(model), ...PLAIN_TRAINING } : defaultsFor(model)) as Record<string, unknown>;
    for (const [name, value] of pairs) {
      if (name === 'v' || name === 'm' || name === 'txt' || name === 'cmp') continue;
      if (name === 't') {
        const r = parseTargets(value);
        if (!r.ok) return { ok: false, error: r.error };
        out.targets = r.value;
        continue;
      }
      const key = SHORT.get(name);
      if (!key) return { ok: false, error: `unknown setting ${quote(name)}` };
      const r = parseGpt2Field(key, value);
      if (!r.ok) return { ok: false, error: `${r.error} (got ${quote(value, 16)})` };
      out[key] = r.value;
    }
    const config = out as Gpt2RunConfig;
    const cross = gpt2ConfigError(config, modelConfig(model));
    if (cross) return { ok: false, error: cross };
    return { ok: true, state: { model, text, config, compare } };
  } catch {
    return { ok: false, error: 'the link could not be read' };
  }
}
