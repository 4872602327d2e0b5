// Display views of traces: debiased EMA smoothing and downsampling onto one step grid shared by every
// series of a chart (so the hover read-out lines runs up step by step). Full data stays in the Trace.

/**
 * Exponential moving average with the start-up bias removed (as in Adam and TensorBoard):
 *   e_t = beta e_{t-1} + (1 - beta) x_t,  e_0 = 0;   smoothed_t = e_t / (1 - beta^t).
 * Non-finite inputs are passed through as NaN and do not enter the average.
 */
export function emaDebiased(values: ArrayLike<number>, beta: number): Float64Array {
  const out = new Float64Array(values.length);
  if (!(beta > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  let e = 0;
  let correction = 1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) {
      out[i] = NaN;
      continue;
    }
    e = beta * e + (1 - beta) * x;
    correction *= beta;
    out[i] = e / (1 - correction);
  }
  return out;
}

export interface SeriesInput {
  /** Column name in the chart rows. */
  key: string;
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

export type ChartRow = { step: number } & Record<string, number | null>;

export interface RowOptions {
  /** Buckets across the step axis; each bucket contributes at most two rows per series. */
  maxBuckets: number;
  smoothing: number;
  logY: boolean;
}

/**
 * Rows for a recharts chart: for each input, column `key` (smoothed, or raw when smoothing is 0) and,
 * when smoothing, `key + RAW` (the raw values, drawn faintly). With more steps than buckets, each bucket
 * of `stride` steps becomes two rows (its first and last step) holding its first and last smoothed
 * value and, for the raw line, its minimum and maximum in the order they occurred, so spikes and
 * divergence stay visible at any zoom. A point moves by less than one bucket (1/maxBuckets of the axis).
 */
export const RAW = '~raw';

export function chartRows(inputs: readonly SeriesInput[], opts: RowOptions): ChartRow[] {
  let maxStep = 0;
  for (const s of inputs) if (s.steps.length) maxStep = Math.max(maxStep, s.steps[s.steps.length - 1]);
  const stride = Math.max(1, Math.ceil(maxStep / Math.max(1, opts.maxBuckets)));
  const rows = new Map<number, ChartRow>();
  const put = (step: number, key: string, v: number) => {
    let row = rows.get(step);
    if (!row) rows.set(step, (row = { step } as ChartRow));
    row[key] = Number.isFinite(v) && (!opts.logY || v > 0) ? v : null;
  };
  for (const s of inputs) {
    const smoothed = opts.smoothing > 0 ? emaDebiased(s.values, opts.smoothing) : null;
    const n = s.steps.length;
    let i = 0;
    while (i < n) {
      const bucket = Math.floor((s.steps[i] - 1) / stride);
      let j = i;
      while (j + 1 < n && Math.floor((s.steps[j + 1] - 1) / stride) === bucket) j++;
      // Rows sit on the bucket grid (shared by every series, so the hover read-out lines them up);
      // with stride 1 the grid is the steps themselves.
      const lo = stride === 1 ? s.steps[i] : bucket * stride + 1;
      const hi = stride === 1 ? s.steps[j] : Math.min((bucket + 1) * stride, maxStep);
      if (j === i) {
        put(hi, s.key, smoothed ? smoothed[i] : s.values[i]);
        if (smoothed) put(hi, s.key + RAW, s.values[i]);
      } else {
        if (smoothed) {
          put(lo, s.key, smoothed[i]);
          put(hi, s.key, smoothed[j]);
        }
        // Extremes of the raw values; a non-finite value (divergence) wins as the maximum.
        let iMin = i;
        let iMax = i;
        for (let k = i; k <= j; k++) {
          const v = s.values[k];
          if (!Number.isFinite(v)) {
            iMax = k;
            break;
          }
          if (v < s.values[iMin]) iMin = k;
          if (v > s.values[iMax]) iMax = k;
        }
        const [first, second] = iMin <= iMax ? [iMin, iMax] : [iMax, iMin];
        const rawKey = smoothed ? s.key + RAW : s.key;
        put(lo, rawKey, s.values[first]);
        put(hi, rawKey, s.values[second]);
      }
      i = j + 1;
    }
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

/** The [min, max] of the finite (and, for a log axis, positive) values in the given columns. */
export function valueRange(rows: readonly ChartRow[], keys: readonly string[], logY: boolean): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of rows) {
    for (const k of keys) {
      const v = row[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || (logY && v <= 0)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** A log axis's domain padded to whole ticks and its ticks: decades, or 1-2-5 within a narrow range. */
export function logTicks(range: [number, number]): { domain: [number, number]; ticks: number[] } {
  let [lo, hi] = range;
  if (lo === hi) {
    lo /= 2;
    hi *= 2;
  }
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.ceil(Math.log10(hi));
  const decades = d1 - d0;
  const mantissas = decades <= 1 ? [1, 2, 5] : decades <= 3 ? [1, 3] : [1];
  const step = Math.max(1, Math.ceil(decades / 8));
  const all: number[] = [];
  for (let d = d0; d <= d1; d++) for (const m of mantissas) all.push(m * 10 ** d);
  // Domain: the tightest candidate ticks around the data.
  const below = all.filter((t) => t <= lo * (1 + 1e-12));
  const above = all.filter((t) => t >= hi * (1 - 1e-12));
  const domain: [number, number] = [below.length ? below[below.length - 1] : all[0], above.length ? above[0] : all[all.length - 1]];
  const ticks = all.filter((t) => t >= domain[0] * (1 - 1e-12) && t <= domain[1] * (1 + 1e-12)).filter((t) => mantissas.length > 1 || Math.round(Math.log10(t) - d0) % step === 0);
  return { domain, ticks };
}

/** Compact numbers for axes and read-outs: 3 significant digits, exponent form when small or large. */
export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)));
  const [m, e] = v.toExponential(digits - 1).split('e');
  return `${Number(m)}e${Number(e)}`;
}
