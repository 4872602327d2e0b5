// Seeds as an axis of a sweep, and the E6 ratio view, on hand-made runs (no GPU): heatmap cells are the
// geometric mean over seeds with their range, a cell that diverged with any seed is diverged, optima and
// the E4 slope are also taken seed by seed (mean and standard error), and E6 gives per seed the best loss
// over eta as a ratio to lambda = 1 on the same seed, geometric means over the seeds.
import { describe, expect, it } from 'vitest';
import { aggregateSweep, geomean, reaggregate, RunAccumulator, spread, type RunSummary } from '../../src/experiments/sweep/aggregate.ts';
import { gridPoints, validateSweepSpec, type GridPoint, type ResolvedSweep, type SweepSpec } from '../../src/experiments/sweep/spec.ts';

const resolve = (spec: SweepSpec): ResolvedSweep => {
  const r = validateSweepSpec(spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

/** A finished run with these final train and test losses; null: diverged at step 3. */
function runs(s: ResolvedSweep, f: (p: GridPoint) => { train: number; test: number } | null): RunSummary[] {
  return gridPoints(s).map((p) => {
    const acc = new RunAccumulator(p, 10, 0.1, false);
    const v = f(p);
    const row = (step: number, loss: number, testLoss?: number) => ({ step, loss, testLoss, zA: 1, zB: 0.1, normA: 0, normB: 0, normSBA: 0 });
    acc.push(v === null ? [row(1, 1, 1), row(3, NaN)] : [row(1, 1, 1), row(10, v.train, v.test)]);
    return acc.summary();
  });
}

describe('seed aggregation', () => {
  it('geomean and spread', () => {
    expect(geomean([2, 8, null])).toBeCloseTo(4, 12);
    expect(geomean([0.3])).toBe(0.3); // one value: exactly itself
    expect(geomean([null, -1])).toBeNull();
    expect(spread([1, 2, 3])).toEqual({ mean: 2, sd: 1, stderr: 1 / Math.sqrt(3), count: 3 });
    expect(spread([5, null])).toEqual({ mean: 5, sd: null, stderr: null, count: 1 });
    expect(spread([null])).toBeNull();
  });

  // Three seeds whose optimal eta falls like n^0, n^-1/2 and n^-1 (exact factor-2 grid points over
  // widths 64, 256, 1024), each with its own loss scale 1, 2, 4.
  const etas = [-9, -8, -7, -6, -5, -4, -3].map((k) => 2 ** k);
  const s = resolve({ version: 1, kind: 'lr-width', axes: { seed: [11, 12, 13], init: ['A'], n: [64, 256, 1024], eta: etas } });
  const slope: Record<number, number> = { 11: 0, 12: -0.5, 13: -1 };
  const scale: Record<number, number> = { 11: 1, 12: 2, 13: 4 };
  const best = (p: GridPoint) => 2 ** -4 * (p.n / 64) ** slope[p.seed];
  const test = (p: GridPoint) => 0.1 * scale[p.seed] * (1 + Math.abs(Math.log2(p.eta / best(p))));
  const all = runs(s, (p) => (p.seed === 12 && p.n === 1024 && p.eta === 2 ** -3 ? null : { train: 0.01, test: test(p) }));
  const r = aggregateSweep(s, all);
  if (r.kind !== 'lr-width') throw new Error('kind');
  const v = r.lrWidth[0];

  it('a heatmap cell is the geometric mean over seeds, with its range; diverged with any seed is diverged', () => {
    const cell = (n: number, eta: number) => v.heatmap.cells[v.heatmap.y.values.indexOf(n) * etas.length + etas.indexOf(eta)];
    const c = cell(64, 2 ** -4); // every seed at its optimum: 0.1, 0.2, 0.4
    expect(c.value).toBeCloseTo(0.2, 12);
    expect(c.range).toEqual([0.1, 0.4]);
    expect(c).toMatchObject({ status: 'done', seeds: 3, seedsDiverged: 0, runs: [c.run, c.run + 21, c.run + 42] });
    expect(cell(1024, 2 ** -3)).toMatchObject({ status: 'diverged', value: null, seeds: 0, seedsDiverged: 1, divergedAt: 3 });
    expect(v.heatmap.value.name).toBe('finalTestLoss');
  });

  it('optima per seed; the slope per seed, averaged with its standard error', () => {
    expect(v.optimum[0].perSeed!.map((o) => o.eta)).toEqual([2 ** -4, 2 ** -4, 2 ** -4]);
    expect(v.optimum[2].perSeed!.map((o) => [o.seed, o.eta])).toEqual([[11, 2 ** -4], [12, 2 ** -6], [13, 2 ** -8]]);
    const f = v.seedFits!;
    expect(f.seeds).toEqual([11, 12, 13]);
    f.slopes.forEach((x, i) => expect(x).toBeCloseTo([0, -0.5, -1][i], 10));
    expect(f.mean).toBeCloseTo(-0.5, 10);
    expect(f.sd).toBeCloseTo(0.5, 10);
    expect(f.stderr).toBeCloseTo(0.5 / Math.sqrt(3), 10);
    expect(f.count).toBe(3);
  });

  it('the slope of the seeds\' mean gets a jackknife error bar (leave one seed out)', () => {
    const j = v.fitJackknife!;
    expect(j.slope).toBe(v.fitRefined!.slope);
    expect(j.leaveOneOut).toHaveLength(3);
    const xs = j.leaveOneOut as number[];
    const m = (xs[0] + xs[1] + xs[2]) / 3;
    expect(j.stderr).toBeCloseTo(Math.sqrt((2 / 3) * xs.reduce((a, x) => a + (x - m) ** 2, 0)), 12);
    // Leaving out the flat seed (slope 0) steepens the mean's slope; leaving out the steepest flattens it.
    expect(xs[0]).toBeLessThan(xs[2]);
    const two = aggregateSweep(resolve({ ...s.spec, axes: { ...s.spec.axes, seed: [11, 12] } }), all.slice(0, 42));
    expect(two.kind === 'lr-width' && two.lrWidth[0].fitJackknife).toBeNull();
  });

  it('another metric ranks by another field (reaggregate of a saved result)', () => {
    const byTrain = reaggregate(JSON.parse(JSON.stringify(r)), { metric: 'finalLoss' });
    if (byTrain.kind !== 'lr-width') throw new Error('kind');
    expect(byTrain.metric).toBe('finalLoss');
    expect(byTrain.lrWidth[0].heatmap.value).toMatchObject({ name: 'finalLoss', label: 'final train loss', min: 0.01, max: 0.01 });
    expect(byTrain.lrWidth[0].optimum[0].eta).toBe(etas[0]); // all equal: the first
  });
});

describe('E6: best loss over eta per seed, as a ratio to lambda = 1 on the same seed', () => {
  // Per seed, lambda = 4 reaches 1/2 (seed 1) and 1/8 (seed 2) of lambda = 1's best training loss, at a
  // 4x smaller eta; the test loss ties (ratio 1). Seed 2's problem has 10x the loss of seed 1's, and
  // width 128 3x that of width 64.
  const s = resolve({ version: 1, kind: 'lambda-eta', axes: { seed: [1, 2], n: [64, 128], lambda: [1, 4], eta: [1e-3, 4e-3, 1.6e-2] } });
  const loss = (p: GridPoint) => {
    const level = (p.seed === 1 ? 1 : 10) * (p.n === 128 ? 3 : 1) * (p.lambda === 4 ? (p.seed === 1 ? 0.5 : 0.125) : 1);
    const bestEta = p.lambda === 4 ? 4e-3 : 1.6e-2;
    return { train: level * (1 + Math.abs(Math.log(p.eta / bestEta))), test: 0.05 * (p.seed === 1 ? 1 : 10) };
  };
  const r = aggregateSweep(s, runs(s, loss));
  if (r.kind !== 'lambda-eta') throw new Error('kind');

  it('one row per (init, n, lambda) with the geometric means and per-seed values', () => {
    expect(r.e6.map((x) => [x.init, x.n, x.lambda])).toEqual([['A', 64, 1], ['A', 64, 4], ['A', 128, 1], ['A', 128, 4]]);
    const row = r.e6[1];
    expect(row.trainRatio).toBeCloseTo(Math.sqrt(0.5 * 0.125), 12);
    expect(row.trainRatioRange).toEqual([0.125, 0.5]);
    expect(row.testRatio).toBeCloseTo(1, 12);
    expect(row.bestTrainLoss).toBeCloseTo(Math.sqrt(0.5 * 1.25), 12);
    expect(row.seeds.map((x) => [x.seed, x.etaTrain, x.trainAtEdge, x.trainRatio])).toEqual([[1, 4e-3, false, 0.5], [2, 4e-3, false, 0.125]]);
    expect(r.e6[3].trainRatio).toBeCloseTo(Math.sqrt(0.5 * 0.125), 12);
    expect(r.e6[3].bestTrainLoss).toBeCloseTo(3 * Math.sqrt(0.5 * 1.25), 12);
    expect(r.e6[0]).toMatchObject({ trainRatio: 1, testRatio: 1, trainRatioRange: [1, 1] });
    expect(r.e6[0].seeds[0]).toMatchObject({ etaTrain: 1.6e-2, trainAtEdge: true });
  });

  it('the heatmaps are per (init, width), ranked by the training loss by default', () => {
    expect(r.metric).toBe('finalLoss');
    expect(r.lambdaEta.map((v) => [v.init, v.n])).toEqual([['A', 64], ['A', 128]]);
    expect(r.lambdaEta[0].bestPerLambda.map((o) => o.eta)).toEqual([1.6e-2, 4e-3]);
    expect(r.lambdaEta[0].best).toMatchObject({ lambda: 4, eta: 4e-3 });
  });

  it('an optimum next to a learning rate that was not run counts as at the edge', () => {
    // Width 128 did not run eta = 1.6e-2 (status 'error', as a merged result marks it): lambda = 1's best
    // there is 4e-3, bounded by nothing on its right.
    const all = runs(s, loss).map((r) => (r.point.n === 128 && r.point.eta === 1.6e-2 ? { ...r, status: 'error' as const, error: 'not run' } : r));
    const cut = aggregateSweep(s, all);
    if (cut.kind !== 'lambda-eta') throw new Error('kind');
    expect(cut.e6[2].seeds.map((x) => [x.etaTrain, x.trainAtEdge])).toEqual([[4e-3, true], [4e-3, true]]);
    expect(cut.e6[3].seeds.map((x) => x.trainAtEdge)).toEqual([true, true]); // lambda 4's best, 4e-3, is now next to it too
    expect(cut.lambdaEta[1].bestPerLambda[0]).toMatchObject({ eta: 4e-3, atEdge: true, etaRefined: null });
    expect(cut.lambdaEta[1].heatmap.cells[2]).toMatchObject({ status: 'error', value: null });
  });

  it('a lambda whose every run diverged has no best loss and no ratio; without lambda = 1 there are no ratios', () => {
    const div = aggregateSweep(s, runs(s, (p) => (p.lambda === 4 && p.seed === 2 ? null : loss(p))));
    if (div.kind !== 'lambda-eta') throw new Error('kind');
    expect(div.e6[1].seeds[1]).toMatchObject({ bestTrainLoss: null, trainRatio: null, etaTrain: null });
    expect(div.e6[1].trainRatio).toBe(0.5); // the seed that has one
    const no1 = resolve({ version: 1, kind: 'lambda-eta', axes: { lambda: [2, 4], eta: [1e-3, 1e-2] } });
    const r2 = aggregateSweep(no1, runs(no1, () => ({ train: 0.1, test: 0.1 })));
    if (r2.kind !== 'lambda-eta') throw new Error('kind');
    expect(r2.e6.map((x) => x.trainRatio)).toEqual([null, null]);
    expect(r2.e6[0].bestTrainLoss).toBe(0.1);
  });
});
