// The GPT-2 share link: round trip, the bundled text by reference, hostile input refused with a message.
import { describe, expect, it } from 'vitest';
import { defaultGpt2RunConfig, PLAIN_TRAINING } from '../../src/experiments/gpt2/config.ts';
import { decodeGpt2Link, encodeGpt2Link, isGpt2Fragment } from '../../src/state/gpt2Link.ts';
import { decodeLink } from '../../src/state/shareLink.ts';
import { textError, validateForm, defaultsFor, formatGpt2Raw, useGpt2Store, modelConfig } from '../../src/state/gpt2Store.ts';
import { adapterFolder } from '../../src/experiments/gpt2/adapterFiles.ts';
import { GPT2_KEYS } from '../../src/experiments/gpt2/config.ts';
import { targetDims } from '../../src/models/gpt2.ts';

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

  it('carries the Trainer options (order, accumulation, schedule, warmup, clipping, dropout "config" or a number)', () => {
    for (const over of [{ order: 'sequential', gradAccum: 4, schedule: 'cosine', warmup: 5, maxGradNorm: 0.5, dropout: null, loraDropout: 0.05 }, { schedule: 'constant', maxGradNorm: 0, dropout: 0 }] as const) {
      const config = { ...defaultGpt2RunConfig(), ...over };
      const link = encodeGpt2Link({ model: 'gpt2', text: 'shakespeare', config, compare: false });
      const d = decodeGpt2Link(link);
      expect(d.ok && d.state.config).toEqual(config);
    }
    expect(encodeGpt2Link({ model: 'gpt2', text: 'shakespeare', config: defaultGpt2RunConfig(), compare: false })).toMatch(/&dr=config&/);
    for (const bad of ['gpt2?dr=2', 'gpt2?dr=auto', 'gpt2?sc=step', 'gpt2?o=shuffled', 'gpt2?ga=0', 'gpt2?gn=-1']) expect(decodeGpt2Link(bad).ok, bad).toBe(false);
  });

  it('a version-1 link (before these options) replays the run it made: plain training, not today\'s defaults', () => {
    const d = decodeGpt2Link('gpt2?v=1&m=tiny&r=4');
    expect(d.ok && d.state.config).toMatchObject({ ...PLAIN_TRAINING, rank: 4 });
    const now = decodeGpt2Link('gpt2?v=2&m=tiny&r=4');
    expect(now.ok && now.state.config).toMatchObject({ schedule: 'linear', maxGradNorm: 1, dropout: null, rank: 4 });
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
    const raw = Object.fromEntries(GPT2_KEYS.map((k) => [k, formatGpt2Raw(k, defaultsFor('tiny')[k])])) as Parameters<typeof validateForm>[0]['raw'];
    const base = { raw, targets: ['attn.c_attn' as const], model: 'tiny' as const, textSource: 'shakespeare' as const, customText: '' };
    expect(validateForm(base).config).not.toBeNull();
    expect(validateForm({ ...base, raw: { ...base.raw, rank: '100' } }).errors.rank).toMatch(/exceeds/);
    expect(validateForm({ ...base, raw: { ...base.raw, seq: '512' } }).errors.seq).toMatch(/exceeds/);
    expect(validateForm({ ...base, targets: [] }).errors.targets).toBeTruthy();
    expect(validateForm({ ...base, textSource: 'custom' }).errors.text).toMatch(/empty/);
  });
});

describe('GPT-2 form with a loaded adapter', () => {
  const tiny = modelConfig('tiny');
  function folderFor(rank: number) {
    const run = { ...defaultsFor('tiny'), rank, alpha: 3, targets: ['attn.c_attn' as const], loraDropout: 0.05 };
    const weights = Array.from({ length: tiny.n_layer }, (_, layer) => {
      const d = targetDims(tiny, 'attn.c_attn');
      return { layer, target: 'attn.c_attn' as const, A: new Float32Array(rank * d.in).fill(0.01), B: new Float32Array(d.out * rank) };
    });
    return adapterFolder(tiny, run, weights, { baseModel: null, baseLabel: 'tiny', steps: 1 });
  }

  it('a bad file changes nothing and says why; a good one sets r, alpha, rsLoRA, targets; switching model re-checks it', () => {
    const st = useGpt2Store.getState();
    const before = { raw: st.raw, targets: st.targets, config: st.config, errors: st.errors };
    const good = folderFor(2);
    const bad = st.setAdapter({ name: 'broken', configJson: good['adapter_config.json'], safetensors: good['adapter_model.safetensors'].subarray(0, 64) });
    expect(bad).toMatch(/^broken: safetensors: .*truncated/);
    const after = useGpt2Store.getState();
    expect({ raw: after.raw, targets: after.targets, config: after.config, errors: after.errors }).toEqual(before);
    expect(after.adapter).toBeNull();

    expect(st.setAdapter({ name: 'mine', configJson: good['adapter_config.json'], safetensors: good['adapter_model.safetensors'] })).toBeNull();
    const s = useGpt2Store.getState();
    expect(s.raw).toMatchObject({ rank: '2', alpha: '3', rslora: 'false', loraDropout: '0.05' });
    expect(s.targets).toEqual(['attn.c_attn']);
    expect(s.config).toMatchObject({ rank: 2, alpha: 3, targets: ['attn.c_attn'] });
    s.setField('rank', '8'); // locked in the form; the adapter's r stays the run's
    expect(useGpt2Store.getState().config?.rank).toBe(2);

    useGpt2Store.getState().setModel('gpt2'); // 768-wide layers: the 64-wide adapter does not fit
    const g = useGpt2Store.getState();
    expect(g.errors.adapter).toMatch(/^mine: adapter_model\.safetensors: .* has shape \[2,64\], expected \[2,768\]/);
    expect(g.config).toBeNull();
    useGpt2Store.getState().setModel('tiny');
    expect(useGpt2Store.getState().errors.adapter).toBeUndefined();
    useGpt2Store.getState().setAdapter(null);
    expect(useGpt2Store.getState().adapter).toBeNull();
  });
});
