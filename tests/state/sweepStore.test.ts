import { describe, expect, it } from 'vitest';
import { decodeSweepLink, encodeSweepLink, gridSize, SWEEP_PRESETS } from '../../src/experiments/sweep/spec.ts';
import { isGpt2Fragment } from '../../src/state/gpt2Link.ts';
import { decodeLink } from '../../src/state/shareLink.ts';
import { isSweepFragment } from '../../src/state/sweepLink.ts';
import { checkForm, formFromSpec, scaleForAdapter, SWEEP_PRESET_IDS } from '../../src/state/sweepStore.ts';

describe('sweep form', () => {
  it('every preset, scaled for a software adapter, validates and stays small', () => {
    for (const id of SWEEP_PRESET_IDS) {
      const spec = scaleForAdapter(SWEEP_PRESETS[id], true);
      const { checked } = checkForm(formFromSpec(spec, id));
      expect(checked.ok, id).toBe(true);
      if (!checked.ok) continue;
      expect(Math.max(...checked.value.axes.n)).toBeLessThanOrEqual(512);
      expect(checked.value.base.steps).toBeLessThanOrEqual(60);
      expect(gridSize(checked.value)).toBeLessThanOrEqual(120);
      expect(checked.value.axes.eta.length).toBeLessThanOrEqual(7);
      expect(checked.value.axes.seed.length).toBeLessThanOrEqual(2);
    }
  });

  it('a hardware adapter gets the presets unchanged', () => {
    expect(scaleForAdapter(SWEEP_PRESETS.e4, false)).toBe(SWEEP_PRESETS.e4);
  });

  it('E6 scaled for software: one width, a factor-4 eta grid, two seeds; the form shows the seeds', () => {
    const spec = scaleForAdapter(SWEEP_PRESETS.e6, true);
    expect(spec.axes).toMatchObject({ seed: [1, 2], n: [512], lambda: [1, 2, 4, 8, 16] });
    expect(spec.axes.eta).toEqual([-13, -11, -9, -7, -5].map((k) => 2 ** k));
    const form = formFromSpec(spec, 'e6');
    expect(form.axes).toMatchObject({ seed: '1,2', n: '512', init: 'A' });
    // A spec that gives its one seed as a setting shows it in the seed field.
    expect(formFromSpec({ version: 1, kind: 'lr-width', base: { seed: 4 }, axes: { n: [64], eta: [1e-3] } }, 'custom').axes.seed).toBe('4');
  });

  it('places the validator message beside the field it names', () => {
    const form = formFromSpec(SWEEP_PRESETS.e4, 'e4');
    expect(checkForm({ ...form, axes: { ...form.axes, eta: '1e-3,abc' } }).errorField).toBe('eta');
    expect(checkForm({ ...form, axes: { ...form.axes, n: '128,64' } }).errorField).toBe('n');
    expect(checkForm({ ...form, axes: { ...form.axes, n: '' } }).errorField).toBe('n');
    expect(checkForm({ ...form, axes: { ...form.axes, init: 'A,C' } }).errorField).toBe('init');
    expect(checkForm({ ...form, base: { ...form.base, steps: '0' } }).errorField).toBe('base.steps');
    const e6 = formFromSpec(SWEEP_PRESETS.e6, 'e6');
    expect(checkForm({ ...e6, axes: { ...e6.axes, n: '3' } }).errorField).toBe('n');
    expect(checkForm({ ...e6, axes: { ...e6.axes, seed: '1,x' } }).errorField).toBe('seed');
    const e5 = formFromSpec(SWEEP_PRESETS.e5, 'e5');
    expect(checkForm({ ...e5, base: { ...e5.base, eta: '0' } }).errorField).toBe('base.eta');
  });

  it('the form round-trips through the share link', () => {
    const tiny = { ...formFromSpec(SWEEP_PRESETS.e4, 'e4'), axes: { init: 'A,B', n: '32,64', eta: '1e-3,3e-2,10', seed: '1,2' }, base: { steps: '5', testEvery: '1' } };
    const { checked } = checkForm(tiny);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const link = encodeSweepLink(checked.value);
    expect(isSweepFragment(`#${link}`)).toBe(true);
    const back = decodeSweepLink(link);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.value.axes).toEqual(checked.value.axes);
    expect(back.value.base).toEqual(checked.value.base);
    expect(checkForm(formFromSpec(back.value.spec, 'custom')).checked).toEqual(back);
  });

  it('sweep fragments do not collide with the playground and GPT-2 links', () => {
    expect(isSweepFragment('#gpt2?v=1')).toBe(false);
    expect(isSweepFragment('#v=2&n=256')).toBe(false);
    expect(isGpt2Fragment('#sweep=1&kind=lr-width')).toBe(false);
    expect(decodeLink('#sweep=1&kind=lr-width').ok).toBe(false);
  });
});
