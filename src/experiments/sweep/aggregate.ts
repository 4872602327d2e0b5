// From per-step metrics to what a view draws: each run's summary (RunAccumulator), then per kind the
// heatmaps, optimal-eta series, one-step norms and log-log fits (aggregateSweep). Pure: no GPU, so the
// tests feed it hand-made rows. Everything here is JSON-safe: non-finite numbers become null.
import type { InitScheme } from '../../lora/init.ts';
import { isDivergedLoss } from '../run/divergence.ts';
import type { RunStatus } from '../run/status.ts';
import type { StepMetrics } from '../toy/metrics.ts';
import { isField, type Checked } from '../schema.ts';
import { TOY_FIELDS } from '../toy/config.ts';
import { printable, quote } from '../untrusted.ts';
import { gridPoints, validateSweepSpec, type AxisName, type GridPoint, type ResolvedSweep, type SweepKind, type SweepSpec } from './spec.ts';

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
  point: { init: InitScheme; n: number; lambda: number; eta: number };
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
      point: { init: point.init, n: point.n, lambda: point.lambda, eta: point.eta },
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
  /** Index of the run in SweepResult.runs. */
  run: number;
  status: SweepRunStatus;
  /** The plotted value (final test loss); null when diverged or failed. */
  value: number | null;
  divergedAt: number | null;
  /** The best cell of its row (lowest value). */
  rowBest: boolean;
}

export interface Heatmap {
  x: ViewAxis;
  y: ViewAxis;
  value: { name: 'finalTestLoss'; label: string; scale: 'log'; min: number | null; max: number | null };
  /** Row-major: cells[yi * x.values.length + xi]. */
  cells: HeatCell[];
}

export interface OptimumPoint {
  /** The row's coordinate (n for E4, lambda for E6). */
  x: number;
  /** Grid eta with the lowest final test loss; null when every cell of the row diverged. */
  eta: number | null;
  loss: number | null;
  run: number | null;
  /** The optimum is at the edge of the eta grid (the true optimum may lie outside it). */
  atEdge: boolean;
  /** Parabola through the best cell and its neighbours in (log eta, log loss); null at the edge. */
  etaRefined: number | null;
}

export interface LrWidthInitView {
  init: InitScheme;
  heatmap: Heatmap;
  /** Optimal eta per width (x = n). */
  optimum: OptimumPoint[];
  /** log10 eta* = intercept + slope log10 n, on the grid optima and on the refined ones. */
  fit: LogLogFit | null;
  fitRefined: LogLogFit | null;
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
  points: WidthSeriesPoint[];
  /** E3: log-log slope of the one-step change of ||Z_B|| against n (about 1 for Init[B], 0 for Init[A]). */
  oneStepFit: LogLogFit | null;
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
  axes: { init: InitScheme[]; n: number[]; lambda: number[]; eta: number[] };
  /** Settings shared by every run. */
  base: Record<string, number | string | boolean>;
  threshold: number;
  runs: RunSummary[];
  timing?: SweepTiming;
}

export type SweepResult =
  | (ResultBase & { kind: 'lr-width'; lrWidth: LrWidthInitView[] })
  | (ResultBase & { kind: 'lambda-eta'; lambdaEta: LambdaEtaInitView[] })
  | (ResultBase & { kind: 'width-scaling'; widthScaling: WidthScalingInitView[] });

// ---------------------------------------------------------------------------------------------------
// aggregation

const LABELS: Record<AxisName, string> = { init: 'init', n: 'width n', lambda: 'LoRA+ ratio λ', eta: 'learning rate η' };

function heatmap(runs: RunSummary[], ids: number[][], x: AxisName, xs: number[], y: AxisName, ys: number[]): Heatmap {
  const cells: HeatCell[] = [];
  let min: number | null = null;
  let max: number | null = null;
  for (let yi = 0; yi < ys.length; yi++) {
    let best = -1;
    for (let xi = 0; xi < xs.length; xi++) {
      const r = runs[ids[yi][xi]];
      const value = r.status === 'done' ? r.finalTestLoss : null;
      if (value !== null) {
        min = min === null ? value : Math.min(min, value);
        max = max === null ? value : Math.max(max, value);
        if (best < 0 || value < (cells[yi * xs.length + best].value as number)) best = xi;
      }
      cells.push({ xi, yi, run: r.index, status: r.status, value, divergedAt: r.divergedAt, rowBest: false });
    }
    if (best >= 0) cells[yi * xs.length + best].rowBest = true;
  }
  return {
    x: { name: x, label: LABELS[x], values: xs, scale: 'log' },
    y: { name: y, label: LABELS[y], values: ys, scale: 'log' },
    value: { name: 'finalTestLoss', label: 'final test loss', scale: 'log', min, max },
    cells,
  };
}

/** The best cell of each heatmap row, with a parabolic refinement in (log eta, log loss). */
function rowOptima(h: Heatmap): OptimumPoint[] {
  const nx = h.x.values.length;
  return h.y.values.map((yv, yi) => {
    const row = h.cells.slice(yi * nx, yi * nx + nx);
    const b = row.findIndex((c) => c.rowBest);
    if (b < 0) return { x: yv, eta: null, loss: null, run: null, atEdge: false, etaRefined: null };
    const atEdge = b === 0 || b === nx - 1;
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

/** A placeholder summary for a run that has not finished. */
export function queuedSummary(p: GridPoint): RunSummary {
  const s = new RunAccumulator(p, 0, 1, false).summary();
  return { ...s, status: 'queued' };
}

/**
 * Build the view data of a sweep from its run summaries (in grid order). Missing entries (a sweep still
 * running) become 'queued' cells, so a view can draw the same result type live and at the end.
 */
export function aggregateSweep(s: ResolvedSweep, summaries: ReadonlyArray<RunSummary | undefined>, timing?: SweepTiming): SweepResult {
  const points = gridPoints(s);
  if (summaries.length !== points.length) throw new Error(`aggregateSweep: ${summaries.length} summaries for a grid of ${points.length}`);
  const runs = points.map((p, i) => summaries[i] ?? queuedSummary(p));
  const id = (init: number, n: number, lambda: number, eta: number) => points.findIndex((p) => p.at.init === init && p.at.n === n && p.at.lambda === lambda && p.at.eta === eta);
  const { init, n, lambda, eta } = s.axes;
  const base: ResultBase = {
    format: 'lora-playground-sweep',
    version: 1,
    spec: s.spec,
    axes: s.axes,
    base: { ...s.base },
    threshold: s.threshold,
    runs,
    timing,
  };
  const kind: SweepKind = s.kind;
  if (kind === 'lr-width') {
    const lrWidth = init.map((scheme, a): LrWidthInitView => {
      const ids = n.map((_, b) => eta.map((_, d) => id(a, b, 0, d)));
      const h = heatmap(runs, ids, 'eta', eta, 'n', n);
      const optimum = rowOptima(h);
      const pts = optimum.map((o) => ({ x: o.x, y: o.eta }));
      return {
        init: scheme,
        heatmap: h,
        optimum,
        fit: fitLogLog(pts),
        fitRefined: fitLogLog(optimum.map((o) => ({ x: o.x, y: o.etaRefined ?? o.eta }))),
        references: refLines(pts, [['n^-1', -1], ['n^-1/2', -0.5]]),
      };
    });
    return { ...base, kind, lrWidth };
  }
  if (kind === 'lambda-eta') {
    const lambdaEta = init.map((scheme, a): LambdaEtaInitView => {
      const ids = lambda.map((_, c) => eta.map((_, d) => id(a, 0, c, d)));
      const h = heatmap(runs, ids, 'eta', eta, 'lambda', lambda);
      const bestPerLambda = rowOptima(h);
      let best: LambdaEtaInitView['best'] = null;
      for (const o of bestPerLambda) if (o.loss !== null && (best === null || o.loss < best.loss)) best = { lambda: o.x, eta: o.eta!, loss: o.loss, run: o.run! };
      return { init: scheme, n: n[0], heatmap: h, bestPerLambda, best };
    });
    return { ...base, kind, lambdaEta };
  }
  const widthScaling = init.map((scheme, a): WidthScalingInitView => {
    const pts: WidthSeriesPoint[] = n.map((nv, b) => {
      const r = runs[id(a, b, 0, 0)];
      return {
        n: nv, run: r.index, status: r.status, divergedAt: r.divergedAt, zB1: r.zB1, zB2: r.zB2, oneStepDeltaZB: r.oneStepDeltaZB,
        maxZA: r.maxZA, maxZB: r.maxZB, finalZA: r.finalZA, finalZB: r.finalZB, bestTestLoss: r.bestTestLoss,
      };
    });
    const oneStep = pts.map((p) => ({ x: p.n, y: p.oneStepDeltaZB }));
    return {
      init: scheme,
      eta: eta[0],
      lambda: lambda[0],
      points: pts,
      oneStepFit: fitLogLog(oneStep),
      maxZAFit: fitLogLog(pts.map((p) => ({ x: p.n, y: p.maxZA }))),
      maxZBFit: fitLogLog(pts.map((p) => ({ x: p.n, y: p.maxZB }))),
      references: refLines(oneStep, [['n^1', 1], ['n^0', 0]]),
    };
  });
  return { ...base, kind: 'width-scaling', widthScaling };
}

/** The runs as CSV, one row per run (the columns a view plots; curves are left out). */
export function sweepToCsv(r: SweepResult): string {
  const cols = [
    'index', 'init', 'n', 'lambda', 'eta', 'status', 'divergedAt', 'steps', 'firstLoss', 'finalLoss', 'bestLoss',
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

/** One line per fitted slope, for logs and the findings page. */
export function describeFits(r: SweepResult): string[] {
  const f = (fit: LogLogFit | null) => (fit ? `${fit.slope.toFixed(3)}${fit.slopeStderr !== null ? ` ± ${fit.slopeStderr.toFixed(3)}` : ''} (${fit.points} points${fit.r2 !== null ? `, R² ${fit.r2.toFixed(3)}` : ''})` : 'n/a');
  if (r.kind === 'lr-width') {
    return r.lrWidth.flatMap((v) => [
      `Init[${v.init}] optimal eta vs n: slope ${f(v.fit)}; refined ${f(v.fitRefined)}; optima ${v.optimum.map((o) => `n=${o.x}:${o.eta === null ? 'all diverged' : o.eta.toPrecision(3) + (o.atEdge ? '(edge)' : '')}`).join(' ')}`,
    ]);
  }
  if (r.kind === 'lambda-eta') {
    return r.lambdaEta.map((v) => `Init[${v.init}] n=${v.n}: best ${v.best ? `lambda=${v.best.lambda} eta=${v.best.eta.toPrecision(3)} test loss ${v.best.loss.toPrecision(4)}` : 'none'}; per lambda ${v.bestPerLambda.map((o) => `${o.x}:${o.loss === null ? '-' : o.loss.toPrecision(3)}`).join(' ')}`);
  }
  return r.widthScaling.map((v) => `Init[${v.init}] eta=${v.eta}: one-step d||Z_B|| slope ${f(v.oneStepFit)}; max||Z_A|| slope ${f(v.maxZAFit)}; max||Z_B|| slope ${f(v.maxZBFit)}`);
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
 * grid point, and the views are computed again from the runs (nothing of them is trusted). Never throws.
 */
export function parseSweepResult(raw: unknown): Checked<SweepResult> {
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
  const result = aggregateSweep(spec.value, runs, timing);
  return { ok: true, value: base ? { ...result, base: { ...result.base, ...(base as Record<string, number | string | boolean>) } } : result };
}
