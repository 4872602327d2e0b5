// Result aggregation against hand-made cases: per-run summaries from metric rows, heatmaps with diverged
// cells, optimal eta per width, log-log fits, one-step ||Z_B||, LoRA+ best per lambda, CSV. No GPU.
import { describe, expect, it } from 'vitest';
import { aggregateSweep, describeFits, fitLogLog, RunAccumulator, sweepToCsv, type RunSummary, type SweepStepRow } from '../../src/experiments/sweep/aggregate.ts';
import { sweepFigures } from '../../src/experiments/sweep/figures.ts';
import { gridPoints, validateSweepSpec, type GridPoint, type ResolvedSweep, type SweepSpec } from '../../src/experiments/sweep/spec.ts';

const resolve = (spec: SweepSpec): ResolvedSweep => {
  const r = validateSweepSpec(spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const row = (step: number, loss: number, extra: Partial<SweepStepRow> = {}): SweepStepRow => ({ step, loss, zA: 1, zB: 0.1 * step, normA: 0, normB: 0, normSBA: 0, ...extra });
const P: GridPoint = { index: 0, seed: 1, init: 'A', n: 64, lambda: 1, eta: 0.01, at: { seed: 0, init: 0, n: 0, lambda: 0, eta: 0 } };

describe('RunAccumulator', () => {
  it('summarises a finished run: final/best losses, threshold time, max norms, one-step ||Z_B||', () => {
    const acc = new RunAccumulator(P, 5, 0.5, true);
    acc.push([row(1, 1.0, { testLoss: 0.9, zA: 2, zB: 0 }), row(2, 0.8, { zA: 3, zB: 0.25 })]);
    acc.push([row(3, 0.45), row(4, 0.5, { testLoss: 0.4 }), row(5, 0.3, { testLoss: 0.42, zA: 0.5 })]);
    acc.push([row(3, 99)]); // a repeated step is ignored
    const s = acc.summary();
    expect(s).toMatchObject({
      status: 'done', divergedAt: null, steps: 5, firstLoss: 1, finalLoss: 0.3, bestLoss: 0.3,
      finalTestLoss: 0.42, bestTestLoss: 0.4, stepsToThreshold: 3, maxZA: 3, finalZA: 0.5, zB1: 0, zB2: 0.25, oneStepDeltaZB: 0.25,
    });
    expect(s.maxZB).toBeCloseTo(0.5);
    expect(s.curve!.step).toEqual([1, 2, 3, 4, 5]);
    expect(s.curve!.testLoss).toEqual([0.9, null, null, 0.4, 0.42]);
  });

  it('divergence: loss above 1e6 x the first, at its own step; later rows and the test loss at that step are ignored', () => {
    const acc = new RunAccumulator(P, 10, 0.1, false);
    acc.push([row(1, 2, { testLoss: 2.5 }), row(2, 1.5), row(3, 2.1e6, { testLoss: 1e7, zA: 40 }), row(4, 5e7), row(5, NaN)]);
    const s = acc.summary();
    expect(s).toMatchObject({ status: 'diverged', divergedAt: 3, steps: 3, finalTestLoss: null, bestTestLoss: 2.5, bestLoss: 1.5, maxZA: 40 });
    expect(acc.diverged).toBe(true);
  });

  it('divergence: a non-finite loss, or the GPU flag of the batched engine', () => {
    const nan = new RunAccumulator(P, 10, 0.1, false);
    nan.push([row(1, 1), row(2, Infinity, { zA: Infinity })]);
    expect(nan.summary()).toMatchObject({ status: 'diverged', divergedAt: 2, maxZA: 1 });
    const flagged = new RunAccumulator(P, 10, 0.1, false);
    flagged.push([row(1, 1, { alive: true }), row(2, 3, { alive: false })]);
    expect(flagged.summary()).toMatchObject({ status: 'diverged', divergedAt: 2 });
  });

  it('a failed run keeps its message', () => {
    const acc = new RunAccumulator(P, 10, 0.1, false);
    acc.fail('width 8192 needs a 256 MiB buffer');
    expect(acc.summary()).toMatchObject({ status: 'error', error: 'width 8192 needs a 256 MiB buffer' });
  });
});

describe('fits', () => {
  it('recovers an exact power law', () => {
    const fit = fitLogLog([64, 128, 256, 512].map((x) => ({ x, y: 3 * x ** -0.5 })))!;
    expect(fit.slope).toBeCloseTo(-0.5, 12);
    expect(10 ** fit.intercept).toBeCloseTo(3, 10);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(fit.slopeStderr).toBeCloseTo(0, 10);
    expect(fit.points).toBe(4);
  });

  it('skips null and non-positive values; needs two distinct x', () => {
    expect(fitLogLog([{ x: 64, y: 1 }, { x: 128, y: null }, { x: 256, y: 0 }])).toBeNull();
    expect(fitLogLog([{ x: 64, y: 1 }, { x: 64, y: 2 }])).toBeNull();
    const two = fitLogLog([{ x: 10, y: 1 }, { x: 100, y: null }, { x: 1000, y: 100 }])!;
    expect(two.slope).toBeCloseTo(1, 12);
    expect(two.r2).toBeNull();
  });
});

/** Summaries for every grid point from a function of the point (status 'done' unless value is null). */
function summaries(s: ResolvedSweep, f: (p: GridPoint) => { test: number | null; divergedAt?: number; zB2?: number; maxZA?: number }): RunSummary[] {
  return gridPoints(s).map((p) => {
    const v = f(p);
    const acc = new RunAccumulator(p, 10, 0.1, false);
    const rows: SweepStepRow[] = [row(1, 1, { zB: 0, zA: v.maxZA ?? 1 }), row(2, 0.9, { zB: v.zB2 ?? 0.1 })];
    if (v.test === null) rows.push(row(v.divergedAt ?? 3, NaN));
    else rows.push(row(10, 0.5, { testLoss: v.test }));
    acc.push(rows);
    return acc.summary();
  });
}

describe('aggregateSweep', () => {
  it('lr-width: heatmap per init with diverged cells, optimal eta per width and its slope', () => {
    const etas = [1e-4, 1e-3, 1e-2, 1e-1, 1];
    const s = resolve({ version: 1, kind: 'lr-width', axes: { init: ['A', 'B'], n: [64, 256, 1024], eta: etas } });
    // Init[A]: optimum at eta = 0.1 * 64 / n ... placed on the grid: n=64 -> 1e-1, 256 -> 1e-2, 1024 -> 1e-3 (slope about -1.66
    // in log10 eta per log10 n over 64..1024: exact grid points). Init[B]: optimum 1e-2 at every width, eta = 1 diverges.
    const optA: Record<number, number> = { 64: 1e-1, 256: 1e-2, 1024: 1e-3 };
    const runs = summaries(s, (p) => {
      if (p.init === 'B' && p.eta === 1) return { test: null, divergedAt: 4 };
      const best = p.init === 'A' ? optA[p.n] : 1e-2;
      return { test: 0.1 * (1 + Math.abs(Math.log10(p.eta / best))) };
    });
    const r = aggregateSweep(s, runs);
    if (r.kind !== 'lr-width') throw new Error('kind');
    expect(r.lrWidth.map((v) => v.init)).toEqual(['A', 'B']);
    const [A, B] = r.lrWidth;
    expect(A.heatmap.x.values).toEqual(etas);
    expect(A.heatmap.y.values).toEqual([64, 256, 1024]);
    expect(A.heatmap.cells).toHaveLength(15);
    expect(A.optimum.map((o) => o.eta)).toEqual([1e-1, 1e-2, 1e-3]);
    expect(A.optimum.every((o) => !o.atEdge)).toBe(true);
    expect(A.fit!.slope).toBeCloseTo(-1 / Math.log10(4), 10); // one decade per factor 4 in n
    // Symmetric V in log eta: the parabolic refinement lands on the grid optimum.
    expect(A.optimum[1].etaRefined!).toBeCloseTo(1e-2, 12);
    const cell = (yi: number, xi: number) => B.heatmap.cells[yi * 5 + xi];
    expect(cell(2, 4)).toMatchObject({ status: 'diverged', value: null, divergedAt: 4, rowBest: false, run: 29 });
    expect(cell(0, 2)).toMatchObject({ status: 'done', rowBest: true, value: 0.1 });
    expect(B.optimum.map((o) => o.eta)).toEqual([1e-2, 1e-2, 1e-2]);
    expect(B.fit!.slope).toBeCloseTo(0, 12);
    expect(B.heatmap.value.min).toBeCloseTo(0.1, 12);
    expect(B.heatmap.value.max).toBeCloseTo(0.3, 12); // eta = 1e-4 (eta = 1 diverged: not in the range)
    expect(A.references.map((l) => [l.label, l.slope])).toEqual([['n^-1', -1], ['n^-1/2', -0.5]]);
    // Reference lines pass through the optima's geometric mean.
    const gm = { x: 256, y: 1e-2 };
    for (const l of A.references) expect(l.intercept + l.slope * Math.log10(gm.x)).toBeCloseTo(Math.log10(gm.y), 10);
    expect(describeFits(r)[0]).toMatch(/^Init\[A\] optimal eta vs n: slope -1\.661/);
  });

  it('lr-width: a row where everything diverged has no optimum; an optimum at the grid edge is flagged', () => {
    const s = resolve({ version: 1, kind: 'lr-width', axes: { init: ['B'], n: [64, 128], eta: [1e-3, 1e-2, 1e-1] } });
    const runs = summaries(s, (p) => (p.n === 128 ? { test: null } : { test: p.eta }));
    const r = aggregateSweep(s, runs);
    if (r.kind !== 'lr-width') throw new Error('kind');
    expect(r.lrWidth[0].optimum).toEqual([
      { x: 64, eta: 1e-3, loss: 1e-3, run: 0, atEdge: true, etaRefined: null },
      { x: 128, eta: null, loss: null, run: null, atEdge: false, etaRefined: null },
    ]);
    expect(r.lrWidth[0].fit).toBeNull();
  });

  it('lambda-eta: heatmap over lambda x eta and the best loss per lambda', () => {
    const s = resolve({ version: 1, kind: 'lambda-eta', base: { n: 128 }, axes: { lambda: [1, 4, 16], eta: [1e-3, 1e-2, 1e-1] } });
    const runs = summaries(s, (p) => ({ test: p.lambda * p.eta >= 1 ? null : 1 / p.lambda + p.eta }));
    const r = aggregateSweep(s, runs, undefined, { metric: 'finalTestLoss' });
    if (r.kind !== 'lambda-eta') throw new Error('kind');
    const v = r.lambdaEta[0];
    expect(v).toMatchObject({ init: 'A', n: 128 });
    expect(v.heatmap.y.values).toEqual([1, 4, 16]);
    expect(v.bestPerLambda.map((o) => [o.x, o.eta])).toEqual([[1, 1e-3], [4, 1e-3], [16, 1e-3]]);
    expect(v.best).toMatchObject({ lambda: 16, eta: 1e-3, run: 6 });
    expect(v.best!.loss).toBeCloseTo(1 / 16 + 1e-3, 12);
    expect(v.heatmap.cells.filter((c) => c.status === 'diverged')).toHaveLength(1); // lambda 16, eta 0.1
  });

  it('width-scaling: one-step change of ||Z_B|| against n, slope 1 for growth like n and 0 when flat', () => {
    const s = resolve({ version: 1, kind: 'width-scaling', axes: { n: [128, 256, 512, 1024] } });
    const runs = summaries(s, (p) => ({ test: 0.1, zB2: p.init === 'B' ? 1e-4 * p.n : 2e-3, maxZA: p.init === 'A' ? Math.sqrt(p.n) : 1 }));
    const r = aggregateSweep(s, runs);
    if (r.kind !== 'width-scaling') throw new Error('kind');
    const [A, B] = r.widthScaling;
    expect(A.points.map((p) => p.oneStepDeltaZB)).toEqual([2e-3, 2e-3, 2e-3, 2e-3]);
    expect(A.oneStepFit!.slope).toBeCloseTo(0, 10);
    expect(B.oneStepFit!.slope).toBeCloseTo(1, 10);
    expect(A.maxZAFit!.slope).toBeCloseTo(0.5, 10);
    expect(B.references.map((l) => l.slope)).toEqual([1, 0]);
    expect(A).toMatchObject({ eta: 1e-3, lambda: 1 });
  });

  it('a sweep still running: missing runs are queued cells', () => {
    const s = resolve({ version: 1, kind: 'lr-width', axes: { init: ['A'], n: [64], eta: [1e-2, 1e-1] } });
    const done = summaries(s, () => ({ test: 0.3 }));
    const r = aggregateSweep(s, [done[0], undefined]);
    if (r.kind !== 'lr-width') throw new Error('kind');
    expect(r.lrWidth[0].heatmap.cells.map((c) => [c.status, c.value, c.rowBest])).toEqual([['done', 0.3, true], ['queued', null, false]]);
    expect(r.runs[1]).toMatchObject({ index: 1, status: 'queued', point: { eta: 0.1 } });
  });

  it('results are JSON-safe (no NaN or Infinity) and the CSV has one row per run', () => {
    const s = resolve({ version: 1, kind: 'lr-width', axes: { n: [64, 128], eta: [1e-2, 1] } });
    const runs = summaries(s, (p) => (p.eta === 1 ? { test: null } : { test: 0.2 }));
    const r = aggregateSweep(s, runs);
    const text = JSON.stringify(r);
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(r)));
    const csv = sweepToCsv(r).split('\n');
    expect(csv).toHaveLength(9);
    expect(csv[0].split(',').slice(0, 7)).toEqual(['index', 'init', 'n', 'lambda', 'eta', 'seed', 'status']);
    expect(csv[2].split(',').slice(0, 8)).toEqual(['1', 'A', '64', '1', '1', '1', 'diverged', '3']);
  });

  it('figures: every kind renders SVG (names are stable file stems)', () => {
    const lr = resolve({ version: 1, kind: 'lr-width', axes: { n: [64, 128], eta: [1e-2, 1e-1, 1] } });
    const names = sweepFigures(aggregateSweep(lr, summaries(lr, (p) => (p.eta === 1 ? { test: null } : { test: p.eta })))).map((f) => f.name);
    expect(names).toEqual(['lr-width-heatmap-A', 'lr-width-heatmap-B', 'lr-width-optimal-eta']);
    const ws = resolve({ version: 1, kind: 'width-scaling', axes: { n: [64, 128] } });
    const figs = sweepFigures(aggregateSweep(ws, summaries(ws, () => ({ test: 0.1 }))));
    expect(figs.map((f) => f.name)).toContain('width-one-step');
    for (const f of figs) expect(f.svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);
  });
});
