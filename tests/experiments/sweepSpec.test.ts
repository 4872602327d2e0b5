// SweepSpec: validation messages, grid construction and the text forms (CLI axes, share link). No GPU.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import {
  axisValues, decodeSweepLink, encodeSweepLink, gridIndex, gridPoints, gridSize, logGrid, parseAxisText, pointConfig, SWEEP_PRESETS, validateSweepSpec,
  type ResolvedSweep, type SweepSpec,
} from '../../src/experiments/sweep/spec.ts';
import { batchKey } from '../../src/experiments/sweep/batchTrainer.ts';

const ok = (raw: unknown): ResolvedSweep => {
  const r = validateSweepSpec(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const err = (raw: unknown): string => {
  const r = validateSweepSpec(raw);
  if (r.ok) throw new Error('expected a validation error');
  return r.error;
};

const lrWidth: SweepSpec = { version: 1, kind: 'lr-width', base: { steps: 5 }, axes: { init: ['A', 'B'], n: [64, 128], eta: [1e-3, 1e-2, 1e-1] } };

describe('grid construction', () => {
  it('log grid: exact endpoints, constant ratio', () => {
    const g = logGrid(1e-4, 1, 9);
    expect(g).toHaveLength(9);
    expect(g[0]).toBe(1e-4);
    expect(g[8]).toBe(1);
    for (let i = 1; i < 9; i++) expect(g[i] / g[i - 1]).toBeCloseTo(Math.sqrt(10), 10);
    expect(logGrid(3, 3, 1)).toEqual([3]);
  });

  it('integer axes round a log range to whole numbers', () => {
    expect(axisValues('n', { from: 64, to: 1024, count: 5 })).toEqual([64, 128, 256, 512, 1024]);
    expect(axisValues('eta', { from: 1e-3, to: 1e-1, count: 3 })).toEqual([1e-3, 0.01, 0.1]);
  });

  it('2 inits x 2 widths x 3 etas: 12 points, row-major (init, n, lambda, eta) with eta fastest', () => {
    const s = ok(lrWidth);
    const pts = gridPoints(s);
    expect(gridSize(s)).toBe(12);
    expect(pts.map((p) => p.index)).toEqual([...Array(12).keys()]);
    expect(pts.slice(0, 4).map((p) => [p.init, p.n, p.eta])).toEqual([['A', 64, 1e-3], ['A', 64, 1e-2], ['A', 64, 1e-1], ['A', 128, 1e-3]]);
    expect(pts[11]).toMatchObject({ init: 'B', n: 128, eta: 1e-1, lambda: 1, at: { init: 1, n: 1, lambda: 0, eta: 2 } });
    // Every point's config: defaults, then base, then the point.
    const c = pointConfig(s, pts[7]);
    expect(c).toEqual({ ...defaultToyConfig(), steps: 5, init: 'B', n: 64, eta: 1e-2, lambda: 1 });
  });

  it('defaults per kind: lr-width and width-scaling sweep both inits, lambda-eta takes base init A', () => {
    expect(ok({ version: 1, kind: 'lr-width', axes: { n: [64], eta: [1e-3] } }).axes.init).toEqual(['A', 'B']);
    expect(ok({ version: 1, kind: 'width-scaling', axes: { n: [64, 128] } }).axes).toEqual({ seed: [1], init: ['A', 'B'], n: [64, 128], lambda: [1], eta: [1e-3] });
    const le = ok({ version: 1, kind: 'lambda-eta', base: { n: 256, seed: 7 }, axes: { lambda: [1, 16], eta: [1e-3, 1e-2] } });
    expect(le.axes).toEqual({ seed: [7], init: ['A'], n: [256], lambda: [1, 16], eta: [1e-3, 1e-2] });
    expect(gridPoints(le).map((p) => [p.lambda, p.eta])).toEqual([[1, 1e-3], [1, 1e-2], [16, 1e-3], [16, 1e-2]]);
    expect(ok({ version: 1, kind: 'width-scaling', axes: { n: [64] } }).curves).toBe(true);
    expect(ok(lrWidth).curves).toBe(false);
  });

  it('runs that differ only in init, eta, lambda share a batch; different widths do not', () => {
    const s = ok(lrWidth);
    const keys = gridPoints(s).map((p) => batchKey(pointConfig(s, p)));
    expect(new Set(keys).size).toBe(2);
    expect(keys[0]).toBe(keys[8]); // A, 64 and B, 64
    expect(keys[0]).not.toBe(keys[3]);
  });

  it('seeds: the slowest axis, a separate problem (batch) each; gridIndex inverts gridPoints', () => {
    const s = ok({ ...lrWidth, axes: { ...lrWidth.axes, seed: [3, 1] } });
    const pts = gridPoints(s);
    expect(gridSize(s)).toBe(24);
    expect(pts.slice(0, 12).every((p) => p.seed === 3)).toBe(true);
    expect(pts[12]).toMatchObject({ seed: 1, init: 'A', n: 64, eta: 1e-3, at: { seed: 1, init: 0, n: 0, lambda: 0, eta: 0 } });
    for (const p of pts) expect(gridIndex(s, p.at)).toBe(p.index);
    expect(pointConfig(s, pts[12]).seed).toBe(1);
    const keys = pts.map((p) => batchKey(pointConfig(s, p)));
    expect(new Set(keys).size).toBe(4); // 2 seeds x 2 widths
    expect(keys[0]).not.toBe(keys[12]);
    // A single seed given as a setting (older specs and links) is the seed axis.
    expect(ok({ ...lrWidth, base: { seed: 9 } }).axes.seed).toEqual([9]);
  });

  it('lambda-eta sweeps widths too (E6 per width), or takes one width from base', () => {
    const s = ok({ version: 1, kind: 'lambda-eta', axes: { n: [64, 128], lambda: [1, 4], eta: [1e-3, 1e-2] } });
    expect(s.axes.n).toEqual([64, 128]);
    expect(gridPoints(s).map((p) => [p.n, p.lambda, p.eta])).toEqual([
      [64, 1, 1e-3], [64, 1, 1e-2], [64, 4, 1e-3], [64, 4, 1e-2], [128, 1, 1e-3], [128, 1, 1e-2], [128, 4, 1e-3], [128, 4, 1e-2],
    ]);
    expect(err({ version: 1, kind: 'lambda-eta', base: { n: 64 }, axes: { n: [64, 128], lambda: [1], eta: [1e-3] } })).toMatch(/base\.n: n is an axis of lambda-eta sweeps; give it in axes\.n/);
  });

  it('every preset is valid', () => {
    for (const [name, spec] of Object.entries(SWEEP_PRESETS)) expect(validateSweepSpec(spec), name).toMatchObject({ ok: true });
    expect(gridSize(ok(SWEEP_PRESETS.e4))).toBe(5 * 2 * 7 * 13);
    // E6 as lora-math.md section 5 specifies it: Init[A], 3 widths, 6 ratios, a factor-2 eta grid 2^-13 .. 2^-4, 3 seeds, 200 steps.
    const e6 = ok(SWEEP_PRESETS.e6);
    expect(e6.axes).toEqual({ seed: [1, 2, 3], init: ['A'], n: [1024, 4096, 8192], lambda: [1, 2, 4, 8, 16, 32], eta: [-13, -12, -11, -10, -9, -8, -7, -6, -5, -4].map((k) => 2 ** k) });
    expect(e6.base).toMatchObject({ steps: 200, nTrain: 1000, batch: 0 });
  });
});

describe('validator: bad specs are rejected with a message naming the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'sweep', /must be an object/],
    ['wrong version', { ...lrWidth, version: 2 }, /version must be 1/],
    ['unknown kind', { ...lrWidth, kind: 'lr' }, /kind must be one of lr-width, lambda-eta, width-scaling/],
    ['unknown top-level field', { ...lrWidth, extra: 1 }, /unknown field "extra"/],
    ['unknown setting in base', { ...lrWidth, base: { widht: 3 } }, /base: unknown setting "widht"/],
    ['bad base value', { ...lrWidth, base: { steps: 0 } }, /base\.steps: Steps must be between 1 and 100000/],
    ['axis given in base', { ...lrWidth, base: { eta: 0.1 } }, /base\.eta: eta is an axis of lr-width sweeps; give it in axes\.eta/],
    ['missing required axis', { version: 1, kind: 'lr-width', axes: { n: [64] } }, /axes\.eta is required for a lr-width sweep/],
    ['axis the kind does not sweep', { version: 1, kind: 'width-scaling', axes: { n: [64], eta: [1e-3] } }, /axes\.eta: a width-scaling sweep does not sweep eta .*set eta in base/],
    ['unknown axis', { ...lrWidth, axes: { ...lrWidth.axes, rank: [1, 2] } }, /axes: unknown axis "rank"/],
    ['eta out of range', { ...lrWidth, axes: { ...lrWidth.axes, eta: [1e-3, 20] } }, /axes\.eta\[1\]: Learning rate η \(A\) must be between 1e-7 and 10/],
    ['non-integer width', { ...lrWidth, axes: { ...lrWidth.axes, n: [64, 100.5] } }, /axes\.n\[1\]: Width n must be a whole number/],
    ['repeated value', { ...lrWidth, axes: { ...lrWidth.axes, n: [64, 64] } }, /axes\.n repeats 64/],
    ['decreasing values', { ...lrWidth, axes: { ...lrWidth.axes, eta: [1e-2, 1e-3] } }, /axes\.eta must be in increasing order/],
    ['empty axis', { ...lrWidth, axes: { ...lrWidth.axes, eta: [] } }, /axes\.eta is empty/],
    ['range with from >= to', { ...lrWidth, axes: { ...lrWidth.axes, eta: { from: 1, to: 1e-3, count: 4 } } }, /axes\.eta: from \(1\) must be below to \(0\.001\)/],
    ['range count', { ...lrWidth, axes: { ...lrWidth.axes, eta: { from: 1e-3, to: 1, count: 0 } } }, /axes\.eta\.count must be a whole number from 1 to 64/],
    ['range too fine for integers', { ...lrWidth, axes: { ...lrWidth.axes, n: { from: 16, to: 20, count: 9 } } }, /axes\.n repeats .*too fine/],
    ['bad init', { ...lrWidth, axes: { ...lrWidth.axes, init: ['A', 'C'] } }, /axes\.init\[1\] must be "A" or "B"/],
    ['rank above the smallest width', { ...lrWidth, base: { rank: 32 }, axes: { ...lrWidth.axes, n: [16, 64] } }, /at n = 16: Rank r \(32\) must not exceed width n \(16\)/],
    ['too many runs', { ...lrWidth, axes: { init: ['A', 'B'], n: { from: 16, to: 8192, count: 40 }, eta: { from: 1e-6, to: 1, count: 40 } } }, /the grid has 3200 runs \(at most 2000\)/],
    ['seed not a list', { ...lrWidth, axes: { ...lrWidth.axes, seed: { from: 1, to: 3, count: 3 } } }, /axes\.seed must be a non-empty list of seeds/],
    ['bad seed', { ...lrWidth, axes: { ...lrWidth.axes, seed: [1, -2] } }, /axes\.seed\[1\]: Seed must be between 0 and 2147483647/],
    ['repeated seed', { ...lrWidth, axes: { ...lrWidth.axes, seed: [1, 2, 1] } }, /axes\.seed repeats 1/],
    ['too many seeds', { ...lrWidth, axes: { ...lrWidth.axes, seed: Array.from({ length: 33 }, (_, i) => i) } }, /axes\.seed has 33 seeds \(at most 32\)/],
    ['seed in base and axes', { ...lrWidth, base: { seed: 2 }, axes: { ...lrWidth.axes, seed: [1, 2] } }, /base\.seed: seed is an axis of lr-width sweeps; give it in axes\.seed/],
    ['threshold', { ...lrWidth, threshold: 2 }, /threshold must be a number in \(0, 1\]/],
    ['curves', { ...lrWidth, curves: 'yes' }, /curves must be true or false/],
  ];
  for (const [name, raw, message] of cases) it(name, () => expect(err(raw)).toMatch(message));
});

describe('text forms', () => {
  it('CLI axis syntax: lists and log ranges', () => {
    expect(parseAxisText('n', '64, 128,256')).toEqual({ ok: true, value: ['64', '128', '256'] });
    expect(parseAxisText('eta', '1e-4:1e-1:7')).toEqual({ ok: true, value: { from: '1e-4', to: '1e-1', count: 7 } });
    expect(parseAxisText('init', 'A,B')).toEqual({ ok: true, value: ['A', 'B'] });
    expect(parseAxisText('eta', '1:2:x')).toMatchObject({ ok: false });
    expect(parseAxisText('seed', '1..4')).toEqual({ ok: true, value: [1, 2, 3, 4] });
    expect(parseAxisText('seed', '2, 5')).toEqual({ ok: true, value: ['2', '5'] });
    expect(parseAxisText('seed', '1:3:3')).toEqual({ ok: false, error: 'seed "1:3:3": write seeds as a list 1,2,3 or a range 1..5' });
    expect(parseAxisText('seed', '5..2')).toMatchObject({ ok: false, error: expect.stringMatching(/2 is below 5/) });
    expect(parseAxisText('seed', '1..40')).toMatchObject({ ok: false, error: expect.stringMatching(/40 seeds \(at most 32\)/) });
    // Text values go through the schema's parser like any other.
    expect(ok({ version: 1, kind: 'lr-width', axes: { n: ['64', '128'], eta: { from: '1e-3', to: '1e-1', count: 3 } } }).axes.eta).toEqual([1e-3, 0.01, 0.1]);
  });

  it('share link round trip keeps every run the same', () => {
    for (const spec of [lrWidth, ...Object.values(SWEEP_PRESETS)]) {
      const s = ok(spec);
      const link = encodeSweepLink(s);
      const back = decodeSweepLink('#' + link);
      if (!back.ok) throw new Error(back.error);
      expect(back.value.kind).toBe(s.kind);
      expect(back.value.axes).toEqual(s.axes);
      expect(back.value.threshold).toBe(s.threshold);
      expect(back.value.curves).toBe(s.curves);
      expect(gridPoints(back.value).map((p) => pointConfig(back.value, p))).toEqual(gridPoints(s).map((p) => pointConfig(s, p)));
    }
  });

  it('links carry the seeds; an older link with one seed as a setting still opens', () => {
    const s = ok({ ...lrWidth, axes: { ...lrWidth.axes, seed: [4, 5] } });
    expect(encodeSweepLink(s)).toMatch(/&x\.seed=4%2C5&/);
    const older = decodeSweepLink('sweep=1&kind=lr-width&x.n=64&x.eta=1e-3&sd=3');
    expect(older.ok && older.value.axes.seed).toEqual([3]);
    const single = ok({ version: 1, kind: 'lambda-eta', base: { n: 96, seed: 6 }, axes: { init: ['B'], lambda: [1, 2], eta: [1e-3] } });
    const back = decodeSweepLink(encodeSweepLink(single));
    expect(back.ok && back.value.axes).toEqual({ seed: [6], init: ['B'], n: [96], lambda: [1, 2], eta: [1e-3] });
  });

  it('hostile links give messages, never throw', () => {
    expect(decodeSweepLink('kind=lr-width')).toEqual({ ok: false, error: 'not a sweep link (no "sweep=" version)' });
    expect(decodeSweepLink('sweep=1&kind=lr-width&x.n=64&x.eta=1e-3&zz=1')).toMatchObject({ ok: false, error: expect.stringMatching(/unknown link key "zz"/) });
    expect(decodeSweepLink('sweep=1&sweep=1')).toMatchObject({ ok: false, error: expect.stringMatching(/appears twice/) });
    expect(decodeSweepLink('sweep=1&kind=lr-width&x.n=%E0%A4%A&x.eta=1')).toMatchObject({ ok: false, error: expect.stringMatching(/bad escape/) });
    expect(decodeSweepLink('sweep=1&kind=lr-width&x.n=64&x.eta=1e-3&e=0.1')).toMatchObject({ ok: false, error: expect.stringMatching(/base\.eta: eta is an axis/) });
    expect(decodeSweepLink('x'.repeat(5000))).toMatchObject({ ok: false, error: expect.stringMatching(/too long/) });
    expect(decodeSweepLink('sweep=1&kind=width-scaling&x.n=64,128&s=-3')).toMatchObject({ ok: false, error: expect.stringMatching(/base\.steps/) });
  });
});
