import { describe, expect, it } from 'vitest';
import { defaultToyConfig, TOY_FIELDS, TOY_KEYS, validateToyConfig, type ToyConfig, type ToyKey } from '../../src/experiments/toy/config.ts';
import { decodeLink, encodeLink, LINK_VERSION, MAX_LINK_CHARS, MAX_LINK_RUNS, type SharedState } from '../../src/state/shareLink.ts';

/** A small deterministic generator for the fuzz tests (no Math.random: failures must replay). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

/** A random valid configuration, drawn across each field's range (log-uniform where the schema says log). */
function randomConfig(r: ReturnType<typeof rng>): ToyConfig {
  for (;;) {
    const c = defaultToyConfig() as Record<ToyKey, unknown>;
    for (const k of TOY_KEYS) {
      if (r.next() < 0.5) continue;
      const f = TOY_FIELDS[k];
      if (f.kind === 'bool') c[k] = r.next() < 0.5;
      else if (f.kind === 'enum') c[k] = r.pick(f.options);
      else {
        const log = 'log' in f && f.log && f.min > 0;
        let v = log ? Math.exp(Math.log(f.min) + r.next() * (Math.log(f.max) - Math.log(f.min))) : f.min + r.next() * (f.max - f.min);
        if (f.kind === 'int') v = Math.min(f.max, Math.max(f.min, Math.round(v)));
        c[k] = v;
      }
    }
    // Keep the sizes modest so the memory bound does not refuse most draws.
    c.n = Math.min(c.n as number, 1024);
    c.nTrain = Math.min(c.nTrain as number, 5000);
    c.nTest = Math.min(c.nTest as number, 5000);
    const v = validateToyConfig(c);
    if (v.ok) return v.value;
  }
}

const defaults = (): SharedState => ({ config: defaultToyConfig(), runs: [] });

describe('share link: encoding', () => {
  it('writes the version and every setting by its short key', () => {
    const link = encodeLink(defaults());
    expect(link.startsWith(`v=${LINK_VERSION}&`)).toBe(true);
    for (const k of TOY_KEYS) expect(link).toContain(`&${TOY_FIELDS[k].short}=`);
    expect(link.length).toBeLessThan(200);
    expect(link).toMatch(/^[A-Za-z0-9=&.:,~+-]*$/); // nothing a browser would percent-encode
  });

  it('round-trips a comparison: runs as differences from the main settings, hidden runs marked', () => {
    const config = { ...defaultToyConfig(), n: 1024, lambda: 16, eta: 0.002 };
    const state: SharedState = { config, runs: [{ config: { ...config, init: 'A' }, hidden: false }, { config: { ...config, init: 'B', eta: 0.01 }, hidden: true }] };
    const link = encodeLink(state);
    expect(link).toContain('&run=&run=~i:B,e:0.01');
    const back = decodeLink('#' + link);
    expect(back).toEqual({ ok: true, state });
  });

  it('round-trips thousands of random experiments exactly', () => {
    const r = rng(1);
    for (let i = 0; i < 2000; i++) {
      const config = randomConfig(r);
      const runs = Array.from({ length: r.int(4) }, () => ({ config: r.next() < 0.5 ? config : randomConfig(r), hidden: r.next() < 0.3 }));
      const state = { config, runs };
      const back = decodeLink(encodeLink(state));
      if (!back.ok) throw new Error(`${encodeLink(state)}: ${back.error}`);
      expect(back.state).toEqual(state);
    }
  });
});

describe('share link: older and partial links', () => {
  it('an empty fragment is the defaults', () => {
    expect(decodeLink('')).toEqual({ ok: true, state: defaults() });
    expect(decodeLink('#')).toEqual({ ok: true, state: defaults() });
  });

  it('opens an unversioned (v0) link with full setting names, camelCase or the CLI’s kebab-case', () => {
    const d = decodeLink('#init=B&eta=0.01&teacher-rank=3&nTrain=200&rslora=true');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.upgradedFrom).toBe(0);
    expect(d.state.config).toEqual({ ...defaultToyConfig(), init: 'B', eta: 0.01, teacherRank: 3, nTrain: 200, rslora: true });
    expect(decodeLink('#init=B&zzz=1')).toEqual({ ok: false, error: 'unknown setting "zzz"' });
  });

  it('a v1 link that predates a setting gets that setting’s default', () => {
    const d = decodeLink('#v=1&n=128&i=B');
    expect(d).toEqual({ ok: true, state: { config: { ...defaultToyConfig(), n: 128, init: 'B' }, runs: [] } });
  });
});

describe('share link: bad and hostile links open nothing and say why', () => {
  const bad: Array<[string, RegExp]> = [
    ['v=1&n=abc', /Width n must be a number/],
    ['v=1&n=1e9', /Width n must be between 16 and 8192/],
    ['v=1&n=64.5', /whole number/],
    ['v=1&e=NaN', /must be a number/],
    ['v=1&e=Infinity', /must be a number/],
    ['v=1&e=1e400', /finite/],
    ['v=1&i=C', /Init scheme must be one of A, B/],
    ['v=1&i=<script>alert(1)</script>', /Init scheme must be one of/],
    ['v=1&ac=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', /Activation/],
    ['v=1&rs=maybe', /true or false/],
    ['v=1&xyz=1', /unknown setting "xyz"/],
    ['v=1&__proto__=1', /malformed name/],
    ['v=1&constructor=1', /unknown setting/],
    ['v=1&n=64&n=128', /given twice/],
    ['v=1&r=32&n=16', /must not exceed width/],
    ['v=1&n=8192&nt=100000', /GiB of GPU memory/],
    ['v=1&v=1', /version is given twice/],
    ['v=99&n=64', /newer version/],
    ['v=abc', /malformed version/],
    ['v=0', /malformed version/],
    ['v=1&n=%E0%A4%A', /badly escaped/],
    ['v=1&=5', /malformed part/],
    ['v=1&justtext', /malformed part/],
    ['v=1&run=i:C', /in run 1/],
    ['v=1&run=i', /malformed run 1/],
    ['v=1&run=zz:1', /unknown setting "zz" in run 1/],
    ['v=1&run=n:16,r:32', /must not exceed width.*run 1/],
    ['v=1' + '&run='.repeat(MAX_LINK_RUNS + 1), /too many runs/],
  ];
  for (const [link, message] of bad) {
    it(`refuses ${link.slice(0, 60)}`, () => {
      const d = decodeLink('#' + link);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toMatch(message);
    });
  }

  it('refuses megabytes of junk quickly, before parsing', () => {
    const junk = 'v=1&' + 'A'.repeat(4 * 2 ** 20);
    const t0 = performance.now();
    const d = decodeLink(junk);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(d).toEqual({ ok: false, error: `the link is too long (${junk.length} characters, at most ${MAX_LINK_CHARS})` });
  });

  it('quotes untrusted text short and printable', () => {
    const d = decodeLink('#v=1&' + 'q'.repeat(31) + '\u0000=1');
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.error.length).toBeLessThan(80);
      expect(d.error).not.toMatch(/[\u0000-\u001f]/);
    }
  });
});

describe('share link: fuzz', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=&:,~.-+%#<>"\'/\\ ?!eE\u0000\u00e9\u2028\ud83d';
  const fragments = [...TOY_KEYS.map((k) => TOY_FIELDS[k].short), 'run', 'v', '=', '&', ':', ',', '~', '1e-3', '-1', '0', '1e999', 'NaN', 'true', '%', '%2', '%zz', '<script>', '__proto__', 'toString'];

  /** Every decode must return a result (never throw) and, when ok, a config the schema accepts. */
  function check(link: string): void {
    let d: ReturnType<typeof decodeLink>;
    expect(() => (d = decodeLink(link))).not.toThrow();
    if (d!.ok) {
      const again = validateToyConfig(d!.state.config);
      expect(again.ok).toBe(true);
      expect(d!.state.runs.length).toBeLessThanOrEqual(MAX_LINK_RUNS);
      for (const run of d!.state.runs) expect(validateToyConfig(run.config).ok).toBe(true);
      // Whatever was accepted re-encodes to a link that decodes to the same state.
      const back = decodeLink(encodeLink(d!.state));
      expect(back.ok && back.state).toEqual(d!.state);
    } else {
      expect(d!.error.length).toBeGreaterThan(0);
      expect(d!.error.length).toBeLessThan(200);
    }
  }

  it('survives 3000 random strings', () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const len = r.int(120);
      let s = '';
      for (let j = 0; j < len; j++) s += r.next() < 0.5 ? alphabet[r.int(alphabet.length)] : r.pick(fragments);
      check(s);
    }
  });

  it('survives 5000 mutations of valid links (character edits, splices, duplicated and dropped parts)', () => {
    const r = rng(11);
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const config = randomConfig(r);
      const runs = Array.from({ length: r.int(3) }, () => ({ config: { ...config, init: r.pick(['A', 'B'] as const) }, hidden: r.next() < 0.2 }));
      let link = encodeLink({ config, runs });
      const edits = 1 + r.int(3);
      for (let e = 0; e < edits; e++) {
        const at = r.int(link.length + 1);
        switch (r.int(5)) {
          case 0: link = link.slice(0, at) + alphabet[r.int(alphabet.length)] + link.slice(at + 1); break;
          case 1: link = link.slice(0, at) + r.pick(fragments) + link.slice(at); break;
          case 2: link = link.slice(0, at) + link.slice(at + 1 + r.int(8)); break;
          case 3: { const parts = link.split('&'); parts.push(r.pick(parts)); link = parts.join('&'); break; }
          default: { const parts = link.split('&'); parts.splice(r.int(parts.length), 1); link = parts.join('&'); }
        }
      }
      const d = decodeLink(link);
      if (d.ok) accepted++;
      check(link);
    }
    // Both outcomes occur: the mutations are neither all fatal nor all harmless.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(4900);
  });
});
