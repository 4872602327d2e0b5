// SweepSpec: validation messages, grid construction and the text forms (CLI axes, share link). No GPU.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import {
  axisValues, decodeSweepLink, encodeSweepLink, gridPoints, gridSize, logGrid, parseAxisText, pointConfig, SWEEP_PRESETS, validateSweepSpec,
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
    expect(ok({ version: 1, kind: 'width-scaling', axes: { n: [64, 128] } }).axes).toEqual({ init: ['A', 'B'], n: [64, 128], lambda: [1], eta: [1e-3] });
    const le = ok({ version: 1, kind: 'lambda-eta', base: { n: 256 }, axes: { lambda: [1, 16], eta: [1e-3, 1e-2] } });
    expect(le.axes).toEqual({ init: ['A'], n: [256], lambda: [1, 16], eta: [1e-3, 1e-2] });
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

  it('every preset is valid', () => {
    for (const [name, spec] of Object.entries(SWEEP_PRESETS)) expect(validateSweepSpec(spec), name).toMatchObject({ ok: true });
    expect(gridSize(ok(SWEEP_PRESETS.e4))).toBe(90);
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
