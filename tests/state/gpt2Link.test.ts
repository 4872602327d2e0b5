// The GPT-2 share link: round trip, the bundled text by reference, hostile input refused with a message.
import { describe, expect, it } from 'vitest';
import { defaultGpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import { decodeGpt2Link, encodeGpt2Link, isGpt2Fragment } from '../../src/state/gpt2Link.ts';
import { decodeLink } from '../../src/state/shareLink.ts';
import { textError, validateForm, defaultsFor } from '../../src/state/gpt2Store.ts';

describe('GPT-2 share link', () => {
  it('round-trips every setting, the model, the text reference and compare', () => {
    const config = { ...defaultGpt2RunConfig(), targets: ['attn.c_attn', 'mlp.c_proj'] as const, rank: 4, alpha: 8, rslora: true, init: 'B' as const, eta: 0.003, lambda: 16, seq: 64, batch: 2, steps: 30, seed: 7 };
    const link = encodeGpt2Link({ model: 'distilgpt2', text: 'shakespeare', config: { ...config, targets: [...config.targets] }, compare: true });
    expect(isGpt2Fragment('#' + link)).toBe(true);
    expect(link).toContain('txt=shakespeare');
    const d = decodeGpt2Link('#' + link);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.state).toEqual({ model: 'distilgpt2', text: 'shakespeare', config: { ...config, targets: [...config.targets] }, compare: true });
  });

  it('refuses bad input with a message and never throws', () => {
    for (const bad of ['gpt2?m=gpt5', 'gpt2?r=0', 'gpt2?t=attn.q', 'gpt2?zz=1', 'gpt2?r=1&r=2', 'gpt2?r=%E0', 'gpt2?v=9', 'gpt2?' + 'a'.repeat(5000), 'gpt2?m=tiny&T=512']) {
      const d = decodeGpt2Link(bad);
      expect(d.ok, bad).toBe(false);
      if (!d.ok) expect(d.error.length).toBeGreaterThan(3);
    }
  });

  it('leaves the playground links alone', () => {
    expect(isGpt2Fragment('#v=1&n=64')).toBe(false);
    expect(decodeLink('').ok).toBe(true);
  });
});

describe('GPT-2 form', () => {
  it('validates text and cross-field constraints against the chosen model', () => {
    expect(textError('')).toMatch(/empty/);
    expect(textError('short')).toMatch(/too short/);
    expect(textError('x'.repeat(300))).toBeNull();
    const raw = Object.fromEntries(Object.entries(defaultsFor('tiny')).filter(([k]) => k !== 'targets').map(([k, v]) => [k, String(v)])) as Parameters<typeof validateForm>[0]['raw'];
    const base = { raw, targets: ['attn.c_attn' as const], model: 'tiny' as const, textSource: 'shakespeare' as const, customText: '' };
    expect(validateForm(base).config).not.toBeNull();
    expect(validateForm({ ...base, raw: { ...base.raw, rank: '100' } }).errors.rank).toMatch(/exceeds/);
    expect(validateForm({ ...base, raw: { ...base.raw, seq: '512' } }).errors.seq).toMatch(/exceeds/);
    expect(validateForm({ ...base, targets: [] }).errors.targets).toBeTruthy();
    expect(validateForm({ ...base, textSource: 'custom' }).errors.text).toMatch(/empty/);
  });
});
