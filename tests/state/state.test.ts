import { describe, expect, it } from 'vitest';
import { defaultToyConfig, TOY_FIELDS, TOY_KEYS } from '../../src/experiments/toy/config.ts';
import { checkRaw, rawOf, useConfigStore } from '../../src/state/configStore.ts';
import { describeRuns, symbolOf } from '../../src/state/describe.ts';
import { runsToCsv, runsToJson } from '../../src/state/exportData.ts';
import { useRunsStore } from '../../src/state/runsStore.ts';
import { chartRows, emaDebiased, formatNumber, logTicks, RAW, valueRange } from '../../src/state/series.ts';
import { Trace } from '../../src/state/trace.ts';

const row = (step: number, loss: number, testLoss?: number) => ({ step, loss, zA: step, zB: 0, normA: 1, normB: 2, normSBA: 3, ...(testLoss === undefined ? {} : { testLoss }) });

describe('config store: every field validates as typed, only valid configs are kept', () => {
  it('refuses malformed and out-of-range text beside the field and keeps the last valid config', () => {
    const store = useConfigStore.getState();
    store.setConfig(defaultToyConfig());
    store.setField('n', '12x');
    let s = useConfigStore.getState();
    expect(s.errors.n).toBe('Width n must be a number');
    expect(s.valid).toBe(false);
    expect(s.config.n).toBe(256);
    store.setField('n', '100000');
    expect(useConfigStore.getState().errors.n).toBe('Width n must be between 16 and 8192');
    store.setField('n', '64');
    s = useConfigStore.getState();
    expect(s.valid).toBe(true);
    expect(s.config.n).toBe(64);
    expect(s.raw.n).toBe('64');
  });

  it('reports cross-field constraints on the offending field and clears them when fixed elsewhere', () => {
    const store = useConfigStore.getState();
    store.setConfig({ ...defaultToyConfig(), n: 16 });
    store.setField('rank', '32');
    expect(useConfigStore.getState().errors.rank).toMatch(/must not exceed width n \(16\)/);
    store.setField('n', '64');
    expect(useConfigStore.getState().errors).toEqual({});
    expect(useConfigStore.getState().config.rank).toBe(32);
  });

  it('bounds what a field holds and formats values in their shortest form', () => {
    useConfigStore.getState().setField('seed', '9'.repeat(10_000));
    expect(useConfigStore.getState().raw.seed.length).toBe(64);
    expect(rawOf({ ...defaultToyConfig(), eta: 1e-7 }).eta).toBe('1e-7');
    expect(checkRaw(rawOf(defaultToyConfig()))).toEqual({ errors: {}, config: defaultToyConfig() });
    useConfigStore.getState().setConfig(defaultToyConfig());
  });
});

describe('series: smoothing and downsampling for display', () => {
  it('debiased EMA starts at the first value and follows a constant exactly', () => {
    expect([...emaDebiased([5, 5, 5], 0.9)]).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 12)));
    const e = emaDebiased([1, 3], 0.5); // e1 = 0.5 -> /0.5 = 1; e2 = 0.25 + 1.5 = 1.75 -> /0.75
    expect(e[0]).toBeCloseTo(1, 12);
    expect(e[1]).toBeCloseTo(1.75 / 0.75, 12);
    const withNaN = emaDebiased([1, NaN, 1], 0.5);
    expect(Number.isNaN(withNaN[1])).toBe(true);
    expect(withNaN[2]).toBeCloseTo(1, 12);
  });

  it('keeps every step when there are fewer steps than buckets', () => {
    const rows = chartRows([{ key: 'a', steps: [1, 2, 3], values: [3, 2, 1] }], { maxBuckets: 10, smoothing: 0, logY: false });
    expect(rows).toEqual([{ step: 1, a: 3 }, { step: 2, a: 2 }, { step: 3, a: 1 }]);
  });

  it('bounds the rows at 10^5 steps and keeps the spikes', () => {
    const N = 100_000;
    const steps = Float64Array.from({ length: N }, (_, i) => i + 1);
    const values = Float64Array.from({ length: N }, (_, i) => 1 / (i + 1));
    values[54_321] = 1e6;
    values[77_777] = Infinity;
    const t0 = performance.now();
    const rows = chartRows([{ key: 'a', steps, values }, { key: 'b', steps: steps.filter((s) => s % 10 === 0), values: values.filter((_, i) => (i + 1) % 10 === 0) }], { maxBuckets: 400, smoothing: 0.9, logY: true });
    expect(performance.now() - t0).toBeLessThan(200);
    expect(rows.length).toBeLessThanOrEqual(2 * 400 + 2);
    expect(Math.max(...rows.map((r) => (r['a' + RAW] as number) ?? 0))).toBe(1e6);
    // The non-finite value is kept as a gap (null), not dropped silently into a neighbour.
    expect(rows.some((r) => r['a' + RAW] === null)).toBe(true);
    expect(rows.every((r, i) => i === 0 || r.step > rows[i - 1].step)).toBe(true);
  });

  it('drops non-positive values on a log axis', () => {
    const rows = chartRows([{ key: 'z', steps: [1, 2], values: [0, 0.5] }], { maxBuckets: 10, smoothing: 0, logY: true });
    expect(rows[0].z).toBeNull();
    expect(valueRange(rows, ['z'], true)).toEqual([0.5, 0.5]);
  });

  it('log ticks cover the data with decades', () => {
    const { domain, ticks } = logTicks([0.0023, 0.41]);
    expect(domain[0]).toBeLessThanOrEqual(0.0023);
    expect(domain[1]).toBeGreaterThanOrEqual(0.41);
    expect(ticks).toContain(0.01);
    expect(formatNumber(0.000123)).toBe('1.23e-4');
    expect(formatNumber(1234.5)).toBe('1230');
    expect(formatNumber(NaN)).toBe('–');
  });
});

describe('run names say what differs', () => {
  it('derives symbols from the schema labels', () => {
    expect(symbolOf('n')).toBe('n');
    expect(symbolOf('lambda')).toBe('λ');
    expect(symbolOf('eta')).toBe('η');
  });

  it('titles a comparison "Init[A] vs Init[B], λ = 16, n = 1024, η = 0.001"', () => {
    const c = { ...defaultToyConfig(), lambda: 16, n: 1024 };
    expect(describeRuns([{ ...c, init: 'A' }, { ...c, init: 'B' }])).toEqual({ title: 'Init[A] vs Init[B], λ = 16, n = 1024, η = 0.001', labels: ['Init[A]', 'Init[B]'] });
    expect(describeRuns([{ ...c, lambda: 1 }, c]).labels).toEqual(['λ = 1', 'λ = 16']);
  });
});

describe('traces and exports keep every step', () => {
  it('appends in order, ignores repeats, exports CSV and JSON with the settings', () => {
    const t = new Trace();
    for (let s = 1; s <= 1000; s++) t.append([row(s, 1 / s, s % 10 === 0 ? 2 / s : undefined)]);
    t.append([row(1000, 5)]);
    expect(t.length).toBe(1000);
    expect(t.series('testLoss').steps.length).toBe(100);
    const ids = useRunsStore.getState().addRuns([{ config: defaultToyConfig() }]);
    const run = { ...useRunsStore.getState().runs.find((r) => r.id === ids[0])!, trace: t };
    const csv = runsToCsv([run]).trim().split('\n');
    expect(csv.length).toBe(1001);
    expect(csv[0]).toBe(['run', 'label', 'step', 'loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss', ...TOY_KEYS].join(','));
    expect(csv[10].split(',').slice(2, 10)).toEqual(['10', '0.1', '10', '0', '1', '2', '3', '0.2']);
    const json = JSON.parse(runsToJson([run], 'v=1'));
    expect(json.runs[0].steps.length).toBe(1000);
    expect(json.runs[0].steps[9]).toEqual(row(10, 0.1, 0.2));
    expect(json.runs[0].config).toEqual(defaultToyConfig());
    useRunsStore.getState().clear();
  });
});

describe('slider stops come from the schema', async () => {
  const { sliderStops, nearestStop } = await import('../../src/state/sliderStops.ts');
  it('powers of two for n and λ, 1-2-5 for η, integers for rank, none for β1', () => {
    expect(sliderStops(TOY_FIELDS.n)).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]);
    expect(sliderStops(TOY_FIELDS.lambda)![0]).toBe(0.0625);
    expect(sliderStops(TOY_FIELDS.lambda)).toContain(16);
    expect(sliderStops(TOY_FIELDS.eta)!.slice(0, 4)).toEqual([1e-7, 2e-7, 5e-7, 1e-6]);
    expect(sliderStops(TOY_FIELDS.eta)).toContain(0.001);
    expect(sliderStops(TOY_FIELDS.steps)).toContain(500);
    expect(sliderStops(TOY_FIELDS.rank)!.length).toBe(64);
    expect(sliderStops(TOY_FIELDS.beta1)).toBeNull();
    expect(sliderStops(TOY_FIELDS.init)).toBeNull();
    expect(nearestStop(sliderStops(TOY_FIELDS.n)!, 1000)).toBe(6);
  });
});

describe('presets', async () => {
  const { PRESETS, resolvePreset } = await import('../../src/state/presets.ts');
  it('every preset is valid on hardware and on a software adapter, and says what it scaled', () => {
    for (const p of PRESETS) {
      for (const software of [false, true]) {
        const r = resolvePreset(p, software);
        expect(r.runs.length).toBeGreaterThan(0);
        if (software && p.software) expect(r.scaled).toMatch(/n = /);
        else expect(r.scaled).toBeNull();
      }
    }
  });
});
