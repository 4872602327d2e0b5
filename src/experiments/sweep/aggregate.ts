// From per-step metrics to what a view draws: each run's summary (RunAccumulator), then per kind the
// heatmaps, optimal-eta series, one-step norms and log-log fits (aggregateSweep). Pure: no GPU, so the
// tests feed it hand-made rows. Everything here is JSON-safe: non-finite numbers become null.
//
// Seeds: each seed is its own problem. A heatmap cell is the geometric mean of its seeds' values (a cell
// that diverged with any seed counts as diverged, and says with how many); every optimum is also found
// per seed, and the E4 slope and the E6 ratios are taken per seed and then averaged, with their spread.
import type { InitScheme } from '../../lora/init.ts';
import { isDivergedLoss } from '../run/divergence.ts';
import type { RunStatus } from '../run/status.ts';
import type { StepMetrics } from '../toy/metrics.ts';
import { isField, type Checked } from '../schema.ts';
import { TOY_FIELDS } from '../toy/config.ts';
import { printable, quote } from '../untrusted.ts';
import { gridIndex, gridPoints, validateSweepSpec, type AxisName, type GridPoint, type ResolvedSweep, type SweepKind, type SweepSpec } from './spec.ts';

/** A run of a sweep: 'queued' is not finished yet (a live view of a running sweep); 'lost' stopped with the device. */
export type SweepRunStatus = Extract<RunStatus, 'done' | 'diverged' | 'error' | 'lost' | 'queued'>;

/** Per-step curves of one run (only when the sweep keeps curves). */
export interface RunCurve {
  step: number[];
  loss: Array<number | null>;
  zA: Array<number | null>;
  zB: Array<number | null>;
  /** null between evaluations. */
  testLoss: Array<number | null>;
}

export interface RunSummary {
  /** Position in the grid (gridPoints order). */
  index: number;
  point: { seed: number; init: InitScheme; n: number; lambda: number; eta: number };
  status: SweepRunStatus;
  /** The step whose loss was non-finite or above 1e6 x the first loss; null if the run did not diverge. */
  divergedAt: number | null;
  /** Steps with metrics recorded (up to and including the divergence step). */
  steps: number;
  firstLoss: number | null;
  finalLoss: number | null;
  bestLoss: number | null;
  /** Test loss at the last step; null for a diverged run. */
  finalTestLoss: number | null;
  /** Lowest test loss over the evaluations before divergence. */
  bestTestLoss: number | null;
  /** First step whose training loss is at most threshold x firstLoss; null if never. */
  stepsToThreshold: number | null;
  /** Largest coordinate RMS of Z_A and Z_B over the recorded steps (finite values only). */
  maxZA: number | null;
  maxZB: number | null;
  finalZA: number | null;
  finalZB: number | null;
  /** ||Z_B|| at steps 1 and 2 (forward of each step, before its update) and their difference: E3. */
  zB1: number | null;
  zB2: number | null;
  oneStepDeltaZB: number | null;
  curve?: RunCurve;
  error?: string;
}

const fin = (v: number | undefined | null): number | null => (v === undefined || v === null || !Number.isFinite(v) ? null : v);

/** A step row, plus the batched engine's divergence flag when it has one. */
export type SweepStepRow = StepMetrics & { alive?: boolean };

/**
 * Folds one run's metrics rows (in step order, any chunking) into its summary. Divergence follows
 * lora-math.md section 4 (non-finite loss or above 1e6 x the first loss); rows after it are ignored, and
 * so is the test loss measured at the divergence step.
 */
export class RunAccumulator {
  private s: RunSummary;
  private firstLoss: number | undefined;
  private ended = false;
  private lastStep = 0;

  constructor(point: GridPoint | RunSummary['point'] & { index: number }, private readonly totalSteps: number, private readonly threshold: number, keepCurve: boolean) {
    this.s = {
      index: point.index,
      point: { seed: point.seed, init: point.init, n: point.n, lambda: point.lambda, eta: point.eta },
      status: 'done',
      divergedAt: null,
      steps: 0,
      firstLoss: null,
      finalLoss: null,
      bestLoss: null,
      finalTestLoss: null,
      bestTestLoss: null,
      stepsToThreshold: null,
      maxZA: null,
      maxZB: null,
      finalZA: null,
      finalZB: null,
      zB1: null,
      zB2: null,
      oneStepDeltaZB: null,
    };
    if (keepCurve) this.s.curve = { step: [], loss: [], zA: [], zB: [], testLoss: [] };
  }

  /** True once the run has diverged (further rows are ignored). */
  get diverged(): boolean {
    return this.s.divergedAt !== null;
  }

  push(rows: readonly SweepStepRow[]): void {
    for (const r of rows) {
      if (this.ended || r.step <= this.lastStep) continue;
      this.lastStep = r.step;
      const s = this.s;
      if (r.step === 1) {
        this.firstLoss = r.loss;
        s.firstLoss = fin(r.loss);
      }
      const first = this.firstLoss;
      const bad = r.alive === false || isDivergedLoss(r.loss, first);
      s.steps = r.step;
      const max = (a: number | null, v: number) => (Number.isFinite(v) ? (a === null ? v : Math.max(a, v)) : a);
      s.maxZA = max(s.maxZA, r.zA);
      s.maxZB = max(s.maxZB, r.zB);
      s.finalZA = fin(r.zA);
      s.finalZB = fin(r.zB);
      if (r.step === 1) s.zB1 = fin(r.zB);
      if (r.step === 2) s.zB2 = fin(r.zB);
      if (s.curve) {
        s.curve.step.push(r.step);
        s.curve.loss.push(fin(r.loss));
        s.curve.zA.push(fin(r.zA));
        s.curve.zB.push(fin(r.zB));
        s.curve.testLoss.push(bad ? null : fin(r.testLoss));
      }
      if (bad) {
        s.status = 'diverged';
        s.divergedAt = r.step;
        s.finalLoss = fin(r.loss);
        this.ended = true;
        continue;
      }
      s.finalLoss = fin(r.loss);
      if (Number.isFinite(r.loss)) s.bestLoss = s.bestLoss === null ? r.loss : Math.min(s.bestLoss, r.loss);
      if (s.stepsToThreshold === null && first !== undefined && r.loss <= this.threshold * first) s.stepsToThreshold = r.step;
      if (r.testLoss !== undefined && Number.isFinite(r.testLoss)) {
        s.bestTestLoss = s.bestTestLoss === null ? r.testLoss : Math.min(s.bestTestLoss, r.testLoss);
        if (r.step === this.totalSteps) s.finalTestLoss = r.testLoss;
      }
    }
  }

  /** Marks the run failed (e.g. the GPU refused it) or cut short by a lost device; its metrics so far are kept. */
  fail(message: string, status: 'error' | 'lost' = 'error'): void {
    if (this.ended) return;
    this.s.status = status;
    this.s.error = message;
    this.ended = true;
  }

  /** Steps recorded so far. */
  get steps(): number {
    return this.s.steps;
  }

  summary(): RunSummary {
    const s = { ...this.s };
    s.oneStepDeltaZB = s.zB1 !== null && s.zB2 !== null ? s.zB2 - s.zB1 : null;
    if (s.status === 'diverged') s.finalTestLoss = null;
    return s;
  }
}

// ---------------------------------------------------------------------------------------------------
// fits

/** Least-squares line through (log10 x, log10 y): y ~ 10^intercept * x^slope. */
export interface LogLogFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination; null with fewer than 3 points. */
  r2: number | null;
  /** Standard error of the slope; null with fewer than 3 points. */
  slopeStderr: number | null;
  points: number;
}

/** Fit on the points with finite, positive x and y; null with fewer than 2 such points (or all x equal). */
export function fitLogLog(points: ReadonlyArray<{ x: number; y: number | null }>): LogLogFit | null {
  const pts = points.filter((p) => p.y !== null && p.x > 0 && p.y > 0 && Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => [Math.log10(p.x), Math.log10(p.y as number)]);
  const k = pts.length;
  if (k < 2) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / k;
  const my = pts.reduce((a, p) => a + p[1], 0) / k;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (const [x, y] of pts) sse += (y - (intercept + slope * x)) ** 2;
  const r2 = k >= 3 ? (syy === 0 ? 1 : 1 - sse / syy) : null;
  const slopeStderr = k >= 3 ? Math.sqrt(sse / (k - 2) / sxx) : null;
  return { slope, intercept, r2, slopeStderr, points: k };
}

/** A reference line y = 10^intercept * x^slope, anchored to pass through (x0, y0). */
export interface RefLine {
  label: string;
  slope: number;
  intercept: number;
}

export function refLine(label: string, slope: number, x0: number, y0: number): RefLine {
  return { label, slope, intercept: Math.log10(y0) - slope * Math.log10(x0) };
}

/** Anchor for reference lines: the geometric mean of the points (so they pass through the data's middle). */
function anchor(points: ReadonlyArray<{ x: number; y: number | null }>): { x: number; y: number } | null {
  const ok = points.filter((p) => p.y !== null && p.y > 0 && p.x > 0);
  if (!ok.length) return null;
  const gx = ok.reduce((a, p) => a + Math.log10(p.x), 0) / ok.length;
  const gy = ok.reduce((a, p) => a + Math.log10(p.y as number), 0) / ok.length;
  return { x: 10 ** gx, y: 10 ** gy };
}

function refLines(points: ReadonlyArray<{ x: number; y: number | null }>, slopes: Array<[string, number]>): RefLine[] {
  const a = anchor(points);
  return a ? slopes.map(([label, slope]) => refLine(label, slope, a.x, a.y)) : [];
}

// ---------------------------------------------------------------------------------------------------
// metrics

/** What a heatmap cell and an optimum are measured by (a run summary's field). */
export const SWEEP_METRICS = ['finalLoss', 'finalTestLoss', 'bestLoss', 'bestTestLoss'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];
export const METRIC_LABELS: Record<SweepMetric, string> = {
  finalLoss: 'final train loss',
  finalTestLoss: 'final test loss',
  bestLoss: 'best train loss so far',
  bestTestLoss: 'best test loss so far',
};

/** E4 ranks by final test loss (lora-math.md section 5); E6's headline is the training loss. */
export function defaultMetric(kind: SweepKind): SweepMetric {
  return kind === 'lambda-eta' ? 'finalLoss' : 'finalTestLoss';
}

/** A run's value under `metric`; null unless it finished (a diverged run has no loss to rank). */
export function metricValue(r: RunSummary, metric: SweepMetric): number | null {
  return r.status === 'done' ? r[metric] : null;
}

/** Geometric mean of the positive values; null when there are none. */
export function geomean(xs: ReadonlyArray<number | null>): number | null {
  const ok = xs.filter((x): x is number => x !== null && x > 0 && Number.isFinite(x));
  if (ok.length <= 1) return ok[0] ?? null; // one seed: its value, exactly
  return 10 ** (ok.reduce((a, x) => a + Math.log10(x), 0) / ok.length);
}

/** Mean, standard deviation and standard error of the mean of the non-null values. */
export interface Spread {
  mean: number;
  sd: number | null;
  stderr: number | null;
  count: number;
}

export function spread(xs: ReadonlyArray<number | null>): Spread | null {
  const ok = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (!ok.length) return null;
  const mean = ok.reduce((a, x) => a + x, 0) / ok.length;
  if (ok.length < 2) return { mean, sd: null, stderr: null, count: 1 };
  const sd = Math.sqrt(ok.reduce((a, x) => a + (x - mean) ** 2, 0) / (ok.length - 1));
  return { mean, sd, stderr: sd / Math.sqrt(ok.length), count: ok.length };
}

// ---------------------------------------------------------------------------------------------------
// view types

export interface ViewAxis {
  name: AxisName;
  label: string;
  values: number[];
  scale: 'log';
}

export interface HeatCell {
  /** Indices into x.values and y.values. */
  xi: number;
  yi: number;
  /** Index in SweepResult.runs of the first seed's run; `runs` has one per seed. */
  run: number;
  runs: number[];
  /** 'diverged' (or 'error', 'lost') when any seed's run did; 'queued' until one has finished. */
  status: SweepRunStatus;
  /** The plotted value: the geometric mean over the seeds that finished; null when diverged or failed. */
  value: number | null;
  /** Smallest and largest seed value (equal with one seed); null without a value. */
  range: [number, number] | null;
  /** Seeds in `value`, and seeds whose run diverged. */
  seeds: number;
  seedsDiverged: number;
  /** Earliest divergence step among the seeds. */
  divergedAt: number | null;
  /** The best cell of its row (lowest value). */
  rowBest: boolean;
}

export interface Heatmap {
  x: ViewAxis;
  y: ViewAxis;
  value: { name: SweepMetric; label: string; scale: 'log'; min: number | null; max: number | null };
  /** Row-major: cells[yi * x.values.length + xi]. */
  cells: HeatCell[];
}

export interface SeedOptimum {
  seed: number;
  eta: number | null;
  loss: number | null;
  atEdge: boolean;
  etaRefined: number | null;
}

export interface OptimumPoint {
  /** The row's coordinate (n for E4, lambda for E6). */
  x: number;
  /** Grid eta with the lowest value (over the seeds' geometric mean); null when every cell of the row diverged. */
  eta: number | null;
  loss: number | null;
  run: number | null;
  /** The optimum is at the edge of the eta grid (the true optimum may lie outside it). */
  atEdge: boolean;
  /** Parabola through the best cell and its neighbours in (log eta, log loss); null at the edge. */
  etaRefined: number | null;
  /** The same, seed by seed (when the sweep has more than one seed). */
  perSeed?: SeedOptimum[];
}

/** A slope fitted seed by seed, then averaged: the error bar is the seeds' spread. */
export interface SeedFits {
  seeds: number[];
  /** Per seed, the slope on the refined optima (null when a seed has fewer than 2 optima). */
  slopes: Array<number | null>;
  mean: number;
  sd: number | null;
  stderr: number | null;
  count: number;
}

export interface LrWidthInitView {
  init: InitScheme;
  heatmap: Heatmap;
  /** Optimal eta per width (x = n). */
  optimum: OptimumPoint[];
  /** log10 eta* = intercept + slope log10 n, on the grid optima and on the refined ones (of the seeds' mean). */
  fit: LogLogFit | null;
  fitRefined: LogLogFit | null;
  /** With several seeds: the slope of each seed's refined optima, their mean and standard error. */
  seedFits: SeedFits | null;
  /** With 3 seeds or more: fitRefined's slope with its jackknife (leave one seed out) standard error. */
  fitJackknife: JackknifeFit | null;
  /** n^-1 and n^-1/2, through the optima's geometric mean. */
  references: RefLine[];
}

export interface LambdaEtaInitView {
  init: InitScheme;
  n: number;
  /** x = eta, y = lambda. */
  heatmap: Heatmap;
  /** Best over eta for each lambda (x = lambda). */
  bestPerLambda: OptimumPoint[];
  best: { lambda: number; eta: number; loss: number; run: number } | null;
}

/** One seed's E6 numbers at one (init, n, lambda): the best loss over eta, and its ratio to lambda = 1 on this seed. */
export interface E6SeedRow {
  seed: number;
  bestTrainLoss: number | null;
  etaTrain: number | null;
  trainAtEdge: boolean;
  bestTestLoss: number | null;
  etaTest: number | null;
  testAtEdge: boolean;
  trainRatio: number | null;
  testRatio: number | null;
}

/**
 * E6 (lora-math.md section 5) at one (init, n, lambda): per seed the best final train (test) loss over
 * eta, as a ratio to lambda = 1 on the same seed; here their geometric means over the seeds and the
 * smallest and largest seed ratio. Ratios are null when lambda = 1 is not in the grid.
 */
export interface E6Row {
  init: InitScheme;
  n: number;
  lambda: number;
  bestTrainLoss: number | null;
  bestTestLoss: number | null;
  trainRatio: number | null;
  testRatio: number | null;
  trainRatioRange: [number, number] | null;
  testRatioRange: [number, number] | null;
  seeds: E6SeedRow[];
}

export interface WidthSeriesPoint {
  n: number;
  run: number;
  status: SweepRunStatus;
  divergedAt: number | null;
  zB1: number | null;
  zB2: number | null;
  oneStepDeltaZB: number | null;
  maxZA: number | null;
  maxZB: number | null;
  finalZA: number | null;
  finalZB: number | null;
  bestTestLoss: number | null;
}

export interface WidthScalingInitView {
  init: InitScheme;
  eta: number;
  lambda: number;
  /** Geometric means over the seeds (a point is diverged if any seed's run diverged). */
  points: WidthSeriesPoint[];
  /** E3: log-log slope of the one-step change of ||Z_B|| against n (about 1 for Init[B], 0 for Init[A]). */
  oneStepFit: LogLogFit | null;
  /** The same slope seed by seed, averaged (several seeds). */
  oneStepSeedFits: SeedFits | null;
  /** E5: slopes of max ||Z_A|| and max ||Z_B|| against n. */
  maxZAFit: LogLogFit | null;
  maxZBFit: LogLogFit | null;
  /** n^1 and n^0 through the one-step points. */
  references: RefLine[];
}

export interface SweepTiming {
  engine: 'batched' | 'sequential';
  adapter: string;
  seconds: number;
  runs: number;
  /** Runs finished per second of wall time (the sweep's throughput). */
  runsPerSecond: number;
  /** Training steps (summed over runs, up to divergence) per second. */
  runStepsPerSecond: number;
  /** GPU batches (shared dispatches) the runs were trained in. */
  batches: number;
  /** CPU seconds of the process, where the host can tell (Node: the CLI fills it in). */
  cpuSeconds?: number;
}

interface ResultBase {
  format: 'lora-playground-sweep';
  version: 1;
  spec: SweepSpec;
  /** The grid's explicit axis values. */
  axes: { seed: number[]; init: InitScheme[]; n: number[]; lambda: number[]; eta: number[] };
  /** Settings shared by every run. */
  base: Record<string, number | string | boolean>;
  threshold: number;
  /** What the heatmaps and optima rank by. */
  metric: SweepMetric;
  runs: RunSummary[];
  timing?: SweepTiming;
}

export type SweepResult =
  | (ResultBase & { kind: 'lr-width'; lrWidth: LrWidthInitView[] })
  | (ResultBase & { kind: 'lambda-eta'; lambdaEta: LambdaEtaInitView[]; e6: E6Row[] })
  | (ResultBase & { kind: 'width-scaling'; widthScaling: WidthScalingInitView[] });

// ---------------------------------------------------------------------------------------------------
// aggregation

const LABELS: Record<AxisName, string> = { seed: 'seed', init: 'init', n: 'width n', lambda: 'LoRA+ ratio λ', eta: 'learning rate η' };

/** One cell over its seeds' runs. */
function seedCell(runs: RunSummary[], ids: number[], metric: SweepMetric): Omit<HeatCell, 'xi' | 'yi' | 'rowBest'> {
  const rs = ids.map((i) => runs[i]);
  const has = (st: SweepRunStatus) => rs.some((r) => r.status === st);
  const status: SweepRunStatus = has('error') ? 'error' : has('lost') ? 'lost' : has('diverged') ? 'diverged' : rs.every((r) => r.status === 'queued') ? 'queued' : 'done';
  const vals = rs.map((r) => metricValue(r, metric)).filter((v): v is number => v !== null && v > 0);
  const value = status === 'done' ? geomean(vals) : null;
  const div = rs.filter((r) => r.divergedAt !== null).map((r) => r.divergedAt as number);
  return {
    run: ids[0],
    runs: ids,
    status,
    value,
    range: value === null ? null : [Math.min(...vals), Math.max(...vals)],
    seeds: value === null ? 0 : vals.length,
    seedsDiverged: rs.filter((r) => r.status === 'diverged').length,
    divergedAt: div.length ? Math.min(...div) : null,
  };
}

/** A heatmap over two axes; ids[yi][xi] are the cell's runs, one per seed. */
function heatmap(runs: RunSummary[], ids: number[][][], x: AxisName, xs: number[], y: AxisName, ys: number[], metric: SweepMetric): Heatmap {
  const cells: HeatCell[] = [];
  let min: number | null = null;
  let max: number | null = null;
  for (let yi = 0; yi < ys.length; yi++) {
    let best = -1;
    for (let xi = 0; xi < xs.length; xi++) {
      const cell = { xi, yi, ...seedCell(runs, ids[yi][xi], metric), rowBest: false };
      const value = cell.value;
      if (value !== null) {
        min = min === null ? value : Math.min(min, value);
        max = max === null ? value : Math.max(max, value);
        if (best < 0 || value < (cells[yi * xs.length + best].value as number)) best = xi;
      }
      cells.push(cell);
    }
    if (best >= 0) cells[yi * xs.length + best].rowBest = true;
  }
  return {
    x: { name: x, label: LABELS[x], values: xs, scale: 'log' },
    y: { name: y, label: LABELS[y], values: ys, scale: 'log' },
    value: { name: metric, label: METRIC_LABELS[metric], scale: 'log', min, max },
    cells,
  };
}

/**
 * Whether the best of a row of runs (at position b of `count`) is at the edge of what was run: the end of
 * the grid, or next to a point that was not run ('error': refused, failed or left out of this width's grid).
 */
function atRunEdge(b: number, count: number, statusAt: (i: number) => SweepRunStatus): boolean {
  return b === 0 || b === count - 1 || statusAt(b - 1) === 'error' || statusAt(b + 1) === 'error';
}

/** The best cell of each heatmap row, with a parabolic refinement in (log eta, log loss). */
function rowOptima(h: Heatmap): OptimumPoint[] {
  const nx = h.x.values.length;
  return h.y.values.map((yv, yi) => {
    const row = h.cells.slice(yi * nx, yi * nx + nx);
    const b = row.findIndex((c) => c.rowBest);
    if (b < 0) return { x: yv, eta: null, loss: null, run: null, atEdge: false, etaRefined: null };
    const atEdge = atRunEdge(b, nx, (i) => row[i].status);
    let etaRefined: number | null = null;
    if (!atEdge && row[b - 1].value !== null && row[b + 1].value !== null) {
      const [x0, x1, x2] = [b - 1, b, b + 1].map((i) => Math.log10(h.x.values[i]));
      const [y0, y1, y2] = [b - 1, b, b + 1].map((i) => Math.log10(row[i].value as number));
      const denom = (x0 - x1) * (x0 - x2) * (x1 - x2);
      const A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom;
      const B = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom;
      if (A > 0) etaRefined = 10 ** Math.min(x2, Math.max(x0, -B / (2 * A)));
    }
    return { x: yv, eta: h.x.values[b], loss: row[b].value, run: row[b].run, atEdge, etaRefined };
  });
}

/**
 * Heatmap rows (y) x eta columns over the seeds, and the optimum of each row for the seeds' mean and
 * for each seed alone. `id(seed, yi, xi)` is a run's index.
 */
function etaRows(s: ResolvedSweep, runs: RunSummary[], id: (z: number, yi: number, xi: number) => number, y: AxisName, ys: number[], metric: SweepMetric) {
  const seeds = s.axes.seed;
  const { eta } = s.axes;
  const grid = (zs: number[]) => ys.map((_, yi) => eta.map((_, xi) => zs.map((z) => id(z, yi, xi))));
  const h = heatmap(runs, grid(seeds.map((_, z) => z)), 'eta', eta, y, ys, metric);
  const optimum = rowOptima(h);
  if (seeds.length > 1) {
    const perSeed = seeds.map((seed, z) => ({ seed, optima: rowOptima(heatmap(runs, grid([z]), 'eta', eta, y, ys, metric)) }));
    optimum.forEach((o, yi) => {
      o.perSeed = perSeed.map(({ seed, optima }) => ({ seed, eta: optima[yi].eta, loss: optima[yi].loss, atEdge: optima[yi].atEdge, etaRefined: optima[yi].etaRefined }));
    });
  }
  /** The rows' optima over the seeds' mean without seed `z` (for the jackknife). */
  const withoutSeed = (z: number) => rowOptima(heatmap(runs, grid(seeds.map((_, i) => i).filter((i) => i !== z)), 'eta', eta, y, ys, metric));
  return { heatmap: h, optimum, withoutSeed };
}

/**
 * Jackknife over seeds of the slope fitted to the seeds' mean (refined optima): the slope with each seed
 * left out in turn gives the standard error of the full-sample slope, the seed-to-seed uncertainty of
 * that estimate (the regression's own error bar ignores it). Needs 3 seeds or more.
 */
export interface JackknifeFit {
  slope: number;
  stderr: number;
  /** The slope with each seed left out. */
  leaveOneOut: Array<number | null>;
}

function jackknife(full: LogLogFit | null, leaveOneOut: Array<number | null>): JackknifeFit | null {
  const ok = leaveOneOut.filter((x): x is number => x !== null);
  if (!full || ok.length < 3 || ok.length !== leaveOneOut.length) return null;
  const k = ok.length;
  const mean = ok.reduce((a, x) => a + x, 0) / k;
  return { slope: full.slope, stderr: Math.sqrt(((k - 1) / k) * ok.reduce((a, x) => a + (x - mean) ** 2, 0)), leaveOneOut };
}

/** Per seed, the log-log slope of `y(seed, point)` against x; their mean and standard error. */
function seedFits(seeds: number[], xs: number[], y: (z: number, xi: number) => number | null): SeedFits | null {
  if (seeds.length < 2) return null;
  const slopes = seeds.map((_, z) => fitLogLog(xs.map((x, xi) => ({ x, y: y(z, xi) })))?.slope ?? null);
  const sp = spread(slopes);
  return sp ? { seeds, slopes, ...sp } : null;
}

/** A placeholder summary for a run that has not finished. */
export function queuedSummary(p: GridPoint): RunSummary {
  const s = new RunAccumulator(p, 0, 1, false).summary();
  return { ...s, status: 'queued' };
}

/** E6 rows of a lambda-eta sweep: per (init, n, lambda), the best loss over eta per seed and its ratio to lambda = 1. */
function e6Rows(s: ResolvedSweep, runs: RunSummary[]): E6Row[] {
  const { seed, init, n, lambda, eta } = s.axes;
  const one = lambda.indexOf(1);
  const out: E6Row[] = [];
  /** Best of `metric` over eta for (seed z, init a, width b, lambda c). */
  const bestOverEta = (z: number, a: number, b: number, c: number, metric: SweepMetric) => {
    let best: { loss: number; eta: number; at: number } | null = null;
    eta.forEach((e, d) => {
      const v = metricValue(runs[gridIndex(s, { seed: z, init: a, n: b, lambda: c, eta: d })], metric);
      if (v !== null && (best === null || v < best.loss)) best = { loss: v, eta: e, at: d };
    });
    return best as { loss: number; eta: number; at: number } | null;
  };
  const edge = (b: { at: number } | null, z: number, a: number, w: number, c: number) =>
    b !== null && eta.length > 1 && atRunEdge(b.at, eta.length, (d) => runs[gridIndex(s, { seed: z, init: a, n: w, lambda: c, eta: d })].status);
  const ratio = (v: number | null, ref: number | null) => (v !== null && ref !== null && ref > 0 ? v / ref : null);
  const range = (xs: Array<number | null>): [number, number] | null => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? [Math.min(...ok), Math.max(...ok)] : null;
  };
  init.forEach((scheme, a) =>
    n.forEach((width, b) =>
      lambda.forEach((l, c) => {
        const seeds: E6SeedRow[] = seed.map((sd, z) => {
          const train = bestOverEta(z, a, b, c, 'finalLoss');
          const test = bestOverEta(z, a, b, c, 'finalTestLoss');
          const train1 = one < 0 ? null : bestOverEta(z, a, b, one, 'finalLoss');
          const test1 = one < 0 ? null : bestOverEta(z, a, b, one, 'finalTestLoss');
          return {
            seed: sd,
            bestTrainLoss: train?.loss ?? null, etaTrain: train?.eta ?? null, trainAtEdge: edge(train, z, a, b, c),
            bestTestLoss: test?.loss ?? null, etaTest: test?.eta ?? null, testAtEdge: edge(test, z, a, b, c),
            trainRatio: ratio(train?.loss ?? null, train1?.loss ?? null),
            testRatio: ratio(test?.loss ?? null, test1?.loss ?? null),
          };
        });
        out.push({
          init: scheme, n: width, lambda: l,
          bestTrainLoss: geomean(seeds.map((x) => x.bestTrainLoss)),
          bestTestLoss: geomean(seeds.map((x) => x.bestTestLoss)),
          trainRatio: geomean(seeds.map((x) => x.trainRatio)),
          testRatio: geomean(seeds.map((x) => x.testRatio)),
          trainRatioRange: range(seeds.map((x) => x.trainRatio)),
          testRatioRange: range(seeds.map((x) => x.testRatio)),
          seeds,
        });
      }),
    ),
  );
  return out;
}

/** A width-scaling point over its seeds: geometric means of the norms, diverged if any seed diverged. */
function widthPoint(n: number, rs: RunSummary[], ids: number[]): WidthSeriesPoint {
  const cell = seedCell(rs, ids, 'bestTestLoss');
  // Norms that are exactly 0 for every seed (||Z_B|| at step 1) stay 0.
  const mean = (f: (r: RunSummary) => number | null) => (ids.every((i) => f(rs[i]) === 0) ? 0 : geomean(ids.map((i) => f(rs[i]))));
  const first = rs[ids[0]];
  if (ids.length === 1) {
    return {
      n, run: first.index, status: first.status, divergedAt: first.divergedAt, zB1: first.zB1, zB2: first.zB2, oneStepDeltaZB: first.oneStepDeltaZB,
      maxZA: first.maxZA, maxZB: first.maxZB, finalZA: first.finalZA, finalZB: first.finalZB, bestTestLoss: first.bestTestLoss,
    };
  }
  return {
    n, run: first.index, status: cell.status, divergedAt: cell.divergedAt, zB1: mean((r) => r.zB1), zB2: mean((r) => r.zB2), oneStepDeltaZB: mean((r) => r.oneStepDeltaZB),
    maxZA: mean((r) => r.maxZA), maxZB: mean((r) => r.maxZB), finalZA: mean((r) => r.finalZA), finalZB: mean((r) => r.finalZB), bestTestLoss: mean((r) => r.bestTestLoss),
  };
}

export interface AggregateOptions {
  /** What heatmaps and optima rank by (default: defaultMetric(kind)). */
  metric?: SweepMetric;
}

/**
 * Build the view data of a sweep from its run summaries (in grid order). Missing entries (a sweep still
 * running) become 'queued' cells, so a view can draw the same result type live and at the end.
 */
export function aggregateSweep(s: ResolvedSweep, summaries: ReadonlyArray<RunSummary | undefined>, timing?: SweepTiming, opts: AggregateOptions = {}): SweepResult {
  const points = gridPoints(s);
  if (summaries.length !== points.length) throw new Error(`aggregateSweep: ${summaries.length} summaries for a grid of ${points.length}`);
  const runs = points.map((p, i) => summaries[i] ?? queuedSummary(p));
  const metric = opts.metric ?? defaultMetric(s.kind);
  const { seed, init, n, lambda, eta } = s.axes;
  const seedIdx = seed.map((_, z) => z);
  const id = (z: number, a: number, b: number, c: number, d: number) => gridIndex(s, { seed: z, init: a, n: b, lambda: c, eta: d });
  const base: ResultBase = {
    format: 'lora-playground-sweep',
    version: 1,
    spec: s.spec,
    axes: s.axes,
    base: { ...s.base },
    threshold: s.threshold,
    metric,
    runs,
    timing,
  };
  const kind: SweepKind = s.kind;
  if (kind === 'lr-width') {
    const lrWidth = init.map((scheme, a): LrWidthInitView => {
      const { heatmap: h, optimum, withoutSeed } = etaRows(s, runs, (z, b, d) => id(z, a, b, 0, d), 'n', n, metric);
      const pts = optimum.map((o) => ({ x: o.x, y: o.eta }));
      const refinedFit = (os: OptimumPoint[]) => fitLogLog(os.map((o) => ({ x: o.x, y: o.etaRefined ?? o.eta })));
      const fitRefined = refinedFit(optimum);
      return {
        init: scheme,
        heatmap: h,
        optimum,
        fit: fitLogLog(pts),
        fitRefined,
        fitJackknife: seed.length >= 3 ? jackknife(fitRefined, seed.map((_, z) => refinedFit(withoutSeed(z))?.slope ?? null)) : null,
        seedFits: seedFits(seed, n, (z, b) => {
          const o = optimum[b].perSeed?.[z];
          return o ? (o.etaRefined ?? o.eta) : null;
        }),
        references: refLines(pts, [['n^-1', -1], ['n^-1/2', -0.5]]),
      };
    });
    return { ...base, kind, lrWidth };
  }
  if (kind === 'lambda-eta') {
    const lambdaEta = init.flatMap((scheme, a) =>
      n.map((width, b): LambdaEtaInitView => {
        const { heatmap: h, optimum: bestPerLambda } = etaRows(s, runs, (z, c, d) => id(z, a, b, c, d), 'lambda', lambda, metric);
        let best: LambdaEtaInitView['best'] = null;
        for (const o of bestPerLambda) if (o.loss !== null && (best === null || o.loss < best.loss)) best = { lambda: o.x, eta: o.eta!, loss: o.loss, run: o.run! };
        return { init: scheme, n: width, heatmap: h, bestPerLambda, best };
      }),
    );
    return { ...base, kind, lambdaEta, e6: e6Rows(s, runs) };
  }
  const widthScaling = init.map((scheme, a): WidthScalingInitView => {
    const pts = n.map((nv, b) => widthPoint(nv, runs, seedIdx.map((z) => id(z, a, b, 0, 0))));
    const oneStep = pts.map((p) => ({ x: p.n, y: p.oneStepDeltaZB }));
    return {
      init: scheme,
      eta: eta[0],
      lambda: lambda[0],
      points: pts,
      oneStepFit: fitLogLog(oneStep),
      oneStepSeedFits: seedFits(seed, n, (z, b) => runs[id(z, a, b, 0, 0)].oneStepDeltaZB),
      maxZAFit: fitLogLog(pts.map((p) => ({ x: p.n, y: p.maxZA }))),
      maxZBFit: fitLogLog(pts.map((p) => ({ x: p.n, y: p.maxZB }))),
      references: refLines(oneStep, [['n^1', 1], ['n^0', 0]]),
    };
  });
  return { ...base, kind: 'width-scaling', widthScaling };
}

/**
 * A saved or finished result, aggregated again from its runs (with this version's views, and another
 * metric if asked). Throws when its spec is invalid.
 */
export function reaggregate(r: Pick<SweepResult, 'spec' | 'runs' | 'timing'>, opts: AggregateOptions = {}): SweepResult {
  const check = validateSweepSpec(r.spec);
  if (!check.ok) throw new Error(`the result's spec is invalid: ${check.error}`);
  return aggregateSweep(check.value, r.runs, r.timing, opts);
}

/** The runs as CSV, one row per run (the columns a view plots; curves are left out). */
export function sweepToCsv(r: SweepResult): string {
  const cols = [
    'index', 'init', 'n', 'lambda', 'eta', 'seed', 'status', 'divergedAt', 'steps', 'firstLoss', 'finalLoss', 'bestLoss',
    'finalTestLoss', 'bestTestLoss', 'stepsToThreshold', 'maxZA', 'maxZB', 'finalZA', 'finalZB', 'zB1', 'zB2', 'oneStepDeltaZB',
  ] as const;
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const lines = [cols.join(',')];
  for (const run of r.runs) {
    const flat: Record<string, unknown> = { ...run, ...run.point };
    lines.push(cols.map((c) => cell(flat[c])).join(','));
  }
  return lines.join('\n');
}

const num = (v: number | null, digits = 3) => (v === null ? '-' : v.toPrecision(digits));
const fitText = (fit: LogLogFit | null) => (fit ? `${fit.slope.toFixed(3)}${fit.slopeStderr !== null ? ` ± ${fit.slopeStderr.toFixed(3)}` : ''} (${fit.points} points${fit.r2 !== null ? `, R² ${fit.r2.toFixed(3)}` : ''})` : 'n/a');
const seedFitText = (f: SeedFits | null) => (f ? `; per seed ${f.mean.toFixed(3)}${f.stderr !== null ? ` ± ${f.stderr.toFixed(3)}` : ''} (mean ± stderr of ${f.count} seeds: ${f.slopes.map((x) => num(x)).join(', ')})` : '');

/** One line per fitted slope (and per E6 width), for logs and the findings page. */
export function describeFits(r: SweepResult): string[] {
  const seeds = r.axes.seed.length > 1 ? ` [${r.axes.seed.length} seeds]` : '';
  if (r.kind === 'lr-width') {
    return r.lrWidth.flatMap((v) => [
      `Init[${v.init}] optimal eta vs n${seeds}: slope ${fitText(v.fit)}; refined ${fitText(v.fitRefined)}${v.fitJackknife ? `; jackknife over seeds ${v.fitJackknife.slope.toFixed(3)} ± ${v.fitJackknife.stderr.toFixed(3)}` : ''}${seedFitText(v.seedFits)}; optima ${v.optimum.map((o) => `n=${o.x}:${o.eta === null ? 'all diverged' : o.eta.toPrecision(3) + (o.atEdge ? '(edge)' : '')}`).join(' ')}`,
    ]);
  }
  if (r.kind === 'lambda-eta') {
    const lines = r.lambdaEta.map((v) => `Init[${v.init}] n=${v.n}${seeds}: best by ${METRIC_LABELS[r.metric]} ${v.best ? `lambda=${v.best.lambda} eta=${v.best.eta.toPrecision(3)} loss ${v.best.loss.toPrecision(4)}` : 'none'}; per lambda ${v.bestPerLambda.map((o) => `${o.x}:${o.loss === null ? '-' : o.loss.toPrecision(3)}${o.atEdge ? '(edge)' : ''}`).join(' ')}`);
    const groups = new Map<string, E6Row[]>();
    for (const row of r.e6) groups.set(`Init[${row.init}] n=${row.n}`, [...(groups.get(`Init[${row.init}] n=${row.n}`) ?? []), row]);
    for (const [k, rows] of groups) {
      const edges = rows.flatMap((x) => x.seeds).filter((x) => x.trainAtEdge || x.testAtEdge).length;
      lines.push(`${k} E6 ratio to lambda=1${seeds} train: ${rows.map((x) => `${x.lambda}:${num(x.trainRatio)}`).join(' ')}; test: ${rows.map((x) => `${x.lambda}:${num(x.testRatio)}`).join(' ')}${edges ? `; ${edges} seed optima at the edge of the eta grid` : ''}`);
    }
    return lines;
  }
  return r.widthScaling.map((v) => `Init[${v.init}] eta=${v.eta}${seeds}: one-step d||Z_B|| slope ${fitText(v.oneStepFit)}${seedFitText(v.oneStepSeedFits)}; max||Z_A|| slope ${fitText(v.maxZAFit)}; max||Z_B|| slope ${fitText(v.maxZBFit)}`);
}

// ---------------------------------------------------------------------------------------------------
// a saved result, read back (re-plot, re-print)

const SUMMARY_NUMBERS = ['firstLoss', 'finalLoss', 'bestLoss', 'finalTestLoss', 'bestTestLoss', 'maxZA', 'maxZB', 'finalZA', 'finalZB', 'zB1', 'zB2'] as const;
const SAVED_STATUSES: readonly SweepRunStatus[] = ['done', 'diverged', 'error', 'lost'];
const MAX_ERROR_CHARS = 2000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));

function checkCurve(raw: unknown, steps: number, where: string): string | null {
  if (!isObject(raw)) return `${where}.curve must be an object`;
  const len = Array.isArray(raw.step) ? raw.step.length : -1;
  if (len < 0 || len > steps) return `${where}.curve.step must be a list of at most ${steps} steps`;
  for (const k of ['step', 'loss', 'zA', 'zB', 'testLoss']) {
    const a = raw[k];
    if (!Array.isArray(a) || a.length !== len) return `${where}.curve.${k} must be a list of ${len} values`;
    if (!a.every(k === 'step' ? (v) => Number.isInteger(v) && v >= 1 && v <= steps : numOrNull)) return `${where}.curve.${k} holds a value that is not a ${k === 'step' ? 'step number' : 'finite number or null'}`;
  }
  return null;
}

/** Checks one saved run summary against its grid point; returns an error or null. */
function checkSummary(raw: unknown, p: GridPoint, totalSteps: number): string | null {
  const where = `runs[${p.index}]`;
  if (!isObject(raw)) return `${where} must be an object`;
  if (raw.index !== p.index) return `${where}.index must be ${p.index}`;
  const pt = raw.point;
  if (!isObject(pt) || pt.init !== p.init || pt.n !== p.n || pt.lambda !== p.lambda || pt.eta !== p.eta) return `${where}.point does not match the grid (init ${p.init}, n ${p.n}, lambda ${p.lambda}, eta ${p.eta})`;
  if (!(SAVED_STATUSES as readonly unknown[]).includes(raw.status)) return `${where}.status must be one of ${SAVED_STATUSES.join(', ')}`;
  if (!Number.isInteger(raw.steps) || (raw.steps as number) < 0 || (raw.steps as number) > totalSteps) return `${where}.steps must be a whole number from 0 to ${totalSteps}`;
  const steps = raw.steps as number;
  if (raw.status === 'done' && steps !== totalSteps) return `${where} is "done" but has ${steps} of ${totalSteps} steps`;
  // (A result combined over seeds, scripts/findings.ts, keeps the first seed's steps beside the earliest divergence.)
  const div = raw.divergedAt;
  if (raw.status === 'diverged' ? !(Number.isInteger(div) && (div as number) >= 1 && (div as number) <= totalSteps) : div !== null) return `${where}.divergedAt must be ${raw.status === 'diverged' ? 'a step of the run' : 'null'}`;
  if (!(raw.stepsToThreshold === null || (Number.isInteger(raw.stepsToThreshold) && (raw.stepsToThreshold as number) >= 1 && (raw.stepsToThreshold as number) <= totalSteps))) return `${where}.stepsToThreshold must be null or a step of the run`;
  for (const k of [...SUMMARY_NUMBERS, 'oneStepDeltaZB']) if (!numOrNull(raw[k])) return `${where}.${k} must be a finite number or null`;
  if (raw.error !== undefined && (typeof raw.error !== 'string' || raw.error.length > MAX_ERROR_CHARS)) return `${where}.error must be a message`;
  if (raw.curve !== undefined) return checkCurve(raw.curve, steps, where);
  for (const k of Object.keys(raw)) if (!['index', 'point', 'status', 'divergedAt', 'steps', 'stepsToThreshold', 'oneStepDeltaZB', 'curve', 'error', ...SUMMARY_NUMBERS].includes(k)) return `${where}: unknown field ${quote(k)}`;
  return null;
}

/**
 * Reads a saved SweepResult (untrusted JSON): its spec is validated, every run is checked against its
 * grid point, and the views are computed again from the runs (nothing of them is trusted), ranked by
 * `opts.metric`, else the metric it was saved with. Never throws.
 */
export function parseSweepResult(raw: unknown, opts: AggregateOptions = {}): Checked<SweepResult> {
  if (!isObject(raw) || raw.format !== 'lora-playground-sweep' || raw.version !== 1) return { ok: false, error: 'not a sweep result (format "lora-playground-sweep", version 1)' };
  const spec = validateSweepSpec(raw.spec);
  if (!spec.ok) return { ok: false, error: `its spec is invalid: ${spec.error}` };
  if (raw.kind !== spec.value.kind) return { ok: false, error: `its kind does not match its spec (${spec.value.kind})` };
  const points = gridPoints(spec.value);
  if (!Array.isArray(raw.runs) || raw.runs.length !== points.length) return { ok: false, error: `runs must be a list of the grid's ${points.length} runs` };
  for (const p of points) {
    const e = checkSummary(raw.runs[p.index], p, spec.value.base.steps);
    if (e) return { ok: false, error: e };
  }
  // The settings shown with the figures: the spec's, with the saved descriptions (e.g. "3 seeds: 1,2,3").
  const base = raw.base;
  if (base !== undefined) {
    if (!isObject(base)) return { ok: false, error: 'base must be an object of settings' };
    for (const [k, v] of Object.entries(base)) {
      if (!isField(TOY_FIELDS, k)) return { ok: false, error: `base: unknown setting ${quote(k)}` };
      if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 80 && /^[\x20-\x7e]*$/.test(v)))) return { ok: false, error: `base.${k} must be a number, true/false or a short printable text` };
    }
  }
  const runs = raw.runs as RunSummary[];
  const t = raw.timing;
  const timing = isObject(t) && (t.engine === 'batched' || t.engine === 'sequential') && typeof t.adapter === 'string' && ['seconds', 'runs', 'runsPerSecond', 'runStepsPerSecond', 'batches'].every((k) => typeof t[k] === 'number' && Number.isFinite(t[k]))
    ? ({ ...(t as unknown as SweepTiming), adapter: printable(t.adapter as string) })
    : undefined;
  const saved = SWEEP_METRICS.find((m) => m === raw.metric);
  const result = aggregateSweep(spec.value, runs, timing, { ...opts, metric: opts.metric ?? saved });
  return { ok: true, value: base ? { ...result, base: { ...result.base, ...(base as Record<string, number | string | boolean>) } } : result };
}
