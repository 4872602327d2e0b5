// Sweeps (lora-math.md section 5, E3-E6): a grid of toy configurations, described by a serialisable
// SweepSpec that a share link, a JSON file or CLI flags can carry. This file is pure (no GPU): the spec
// type, its validator (untrusted input in, clear messages out), grid expansion and the link codec.
//
//   kind            swept axes (grid order: seed, init, n, lambda, eta; eta fastest)   view
//   lr-width        init x n x eta           (lambda from base)                  E4 heatmaps, optimal eta vs n
//   lambda-eta      init x n x lambda x eta  (n from base unless swept)          E6 ratio to lambda = 1 per width, heatmaps
//   width-scaling   init x n                 (eta, lambda from base)             E3 one-step ||Z_B||, E5 norms vs n
//
// Every kind also sweeps seeds (axes.seed, a list): each seed is a different random problem (frozen
// network, teacher, data), so the views aggregate over seeds (geometric means, per-seed optima, spread)
// and nobody reads one draw's optimum as a result.
import { crossFieldError, defaultToyConfig, parseToyField, TOY_FIELDS, TOY_KEYS, type Checked, type ToyConfig, type ToyKey } from '../toy/config.ts';
import type { InitScheme } from '../../lora/init.ts';
import { isField } from '../schema.ts';
import { quote } from '../untrusted.ts';

export const SWEEP_VERSION = 1;
export const SWEEP_KINDS = ['lr-width', 'lambda-eta', 'width-scaling'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];
export const AXIS_NAMES = ['seed', 'init', 'n', 'lambda', 'eta'] as const;
export type AxisName = (typeof AXIS_NAMES)[number];
export type NumericAxisName = Exclude<AxisName, 'init' | 'seed'>;

/** Log-spaced grid: `count` points from `from` to `to` inclusive (rounded to integers for n). */
export interface LogRange {
  from: number;
  to: number;
  count: number;
}
export type NumericAxis = number[] | LogRange;

export interface SweepSpec {
  version: typeof SWEEP_VERSION;
  kind: SweepKind;
  /** Settings shared by every run; missing ones take the toy defaults. Swept keys may not appear here. */
  base?: Partial<ToyConfig>;
  axes: {
    /** Seeds, each a separate problem; default: base.seed alone. */
    seed?: number[];
    init?: InitScheme[];
    n?: NumericAxis;
    lambda?: NumericAxis;
    eta?: NumericAxis;
  };
  /** Time to threshold: first step whose training loss is at most threshold x the run's first loss. Default 0.1. */
  threshold?: number;
  /** Keep every run's per-step curves (loss, ||Z_A||, ||Z_B||, test loss). Default: on for width-scaling only. */
  curves?: boolean;
}

/** Which axes each kind sweeps: required ones must be given, optional ones have a default, others are refused. */
export const KIND_AXES: Record<SweepKind, { required: AxisName[]; optional: AxisName[]; summary: string }> = {
  'lr-width': { required: ['eta', 'n'], optional: ['init', 'seed'], summary: 'E4: final test loss over eta x width, per init' },
  'lambda-eta': { required: ['lambda', 'eta'], optional: ['init', 'n', 'seed'], summary: 'E6: LoRA+ ratio lambda x eta, per width' },
  'width-scaling': { required: ['n'], optional: ['init', 'seed'], summary: 'E3/E5: ||Z_A||, ||Z_B|| against width at a fixed eta' },
};

export const MAX_AXIS_VALUES = 64;
export const MAX_SEEDS = 32;
export const MAX_SWEEP_RUNS = 2000;
export const DEFAULT_THRESHOLD = 0.1;

/** The spec with every axis as explicit sorted values and every setting filled in. */
export interface ResolvedSweep {
  spec: SweepSpec;
  kind: SweepKind;
  base: ToyConfig;
  axes: { seed: number[]; init: InitScheme[]; n: number[]; lambda: number[]; eta: number[] };
  /** The axes this kind sweeps (the others are single values from base). */
  swept: AxisName[];
  threshold: number;
  curves: boolean;
}

/** One run of the grid: its coordinates and index (row-major over seed, init, n, lambda, eta). */
export interface GridPoint {
  index: number;
  seed: number;
  init: InitScheme;
  n: number;
  lambda: number;
  eta: number;
  /** Position on each axis. */
  at: { seed: number; init: number; n: number; lambda: number; eta: number };
}

// ---------------------------------------------------------------------------------------------------
// axes

/** `count` log-spaced values from `from` to `to` inclusive (exact endpoints). */
export function logGrid(from: number, to: number, count: number): number[] {
  if (count === 1) return [from];
  const a = Math.log(from);
  const b = Math.log(to);
  return Array.from({ length: count }, (_, i) => (i === 0 ? from : i === count - 1 ? to : Math.exp(a + ((b - a) * i) / (count - 1))));
}

/** Rounds a log-grid value for display and for the link, keeping 6 significant digits. */
export function tidy(v: number): number {
  return Number(v.toPrecision(6));
}

/** Explicit values of a numeric axis (no validation). */
export function axisValues(name: NumericAxisName, axis: NumericAxis): number[] {
  const raw = Array.isArray(axis) ? axis : logGrid(axis.from, axis.to, axis.count).map(tidy);
  return name === 'n' ? raw.map((v) => Math.round(v)) : raw;
}

const AXIS_KEY: Record<AxisName, ToyKey> = { seed: 'seed', init: 'init', n: 'n', lambda: 'lambda', eta: 'eta' };

function checkNumericAxis(name: NumericAxisName, raw: unknown): Checked<{ axis: NumericAxis; values: number[] }> {
  const where = `axes.${name}`;
  const key = AXIS_KEY[name];
  const one = (v: unknown, at: string): Checked<number> => {
    const r = parseToyField(key, v);
    return r.ok ? { ok: true, value: r.value as number } : { ok: false, error: `${at}: ${r.error}` };
  };
  let axis: NumericAxis;
  if (Array.isArray(raw)) {
    if (raw.length === 0) return { ok: false, error: `${where} is empty` };
    if (raw.length > MAX_AXIS_VALUES) return { ok: false, error: `${where} has ${raw.length} values (at most ${MAX_AXIS_VALUES})` };
    const vals: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const r = one(raw[i], `${where}[${i}]`);
      if (!r.ok) return r;
      vals.push(r.value);
    }
    axis = vals;
  } else if (typeof raw === 'object' && raw !== null) {
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['from', 'to', 'count'].includes(k)) return { ok: false, error: `${where}: unknown field ${quote(k, 20)} (a range is {from, to, count})` };
    const from = one(o.from, `${where}.from`);
    if (!from.ok) return from;
    const to = one(o.to, `${where}.to`);
    if (!to.ok) return to;
    const count = o.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_AXIS_VALUES) return { ok: false, error: `${where}.count must be a whole number from 1 to ${MAX_AXIS_VALUES}` };
    if (count > 1 && !(from.value < to.value)) return { ok: false, error: `${where}: from (${from.value}) must be below to (${to.value})` };
    if (count === 1 && from.value !== to.value) return { ok: false, error: `${where}: a range of 1 value needs from = to` };
    axis = { from: from.value, to: to.value, count };
  } else {
    return { ok: false, error: `${where} must be a list of values or a range {from, to, count}` };
  }
  const values = axisValues(name, axis);
  for (let i = 1; i < values.length; i++) {
    if (values[i] === values[i - 1]) return { ok: false, error: `${where} repeats ${values[i]}${Array.isArray(axis) ? '' : ' (the range is too fine for whole numbers)'}` };
    if (values[i] < values[i - 1]) return { ok: false, error: `${where} must be in increasing order (${values[i - 1]} then ${values[i]})` };
  }
  return { ok: true, value: { axis, values } };
}

function checkSeedAxis(raw: unknown): Checked<number[]> {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, error: 'axes.seed must be a non-empty list of seeds (whole numbers), e.g. 1,2,3' };
  if (raw.length > MAX_SEEDS) return { ok: false, error: `axes.seed has ${raw.length} seeds (at most ${MAX_SEEDS})` };
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = parseToyField('seed', raw[i]);
    if (!r.ok) return { ok: false, error: `axes.seed[${i}]: ${r.error}` };
    if (out.includes(r.value)) return { ok: false, error: `axes.seed repeats ${r.value}` };
    out.push(r.value);
  }
  return { ok: true, value: out };
}

function checkInitAxis(raw: unknown): Checked<InitScheme[]> {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, error: 'axes.init must be a non-empty list of "A" and "B"' };
  const out: InitScheme[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 'A' && raw[i] !== 'B') return { ok: false, error: `axes.init[${i}] must be "A" or "B"` };
    if (out.includes(raw[i])) return { ok: false, error: `axes.init repeats "${raw[i]}"` };
    out.push(raw[i]);
  }
  return { ok: true, value: out };
}

// ---------------------------------------------------------------------------------------------------
// the validator

const TOP_KEYS = ['version', 'kind', 'base', 'axes', 'threshold', 'curves'];

/**
 * Validate an untrusted sweep description (parsed JSON, a decoded link, CLI flags). Returns the resolved
 * sweep (explicit axes, full base config) or a message naming the offending field. Never throws.
 */
export function validateSweepSpec(raw: unknown): Checked<ResolvedSweep> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'a sweep must be an object' };
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP_KEYS.includes(k)) return { ok: false, error: `unknown field ${quote(k, 40)} (expected ${TOP_KEYS.join(', ')})` };
  if (o.version !== SWEEP_VERSION) return { ok: false, error: `version must be ${SWEEP_VERSION} (got ${quote(String(JSON.stringify(o.version)), 20)})` };
  if (typeof o.kind !== 'string' || !(SWEEP_KINDS as readonly string[]).includes(o.kind)) return { ok: false, error: `kind must be one of ${SWEEP_KINDS.join(', ')}` };
  const kind = o.kind as SweepKind;
  const { required, optional } = KIND_AXES[kind];
  const allowed = [...required, ...optional];

  // base: known settings only, each through the schema's parser; swept keys belong in axes. The seed and
  // a lambda-eta sweep's width are axes that may also come as one value in base (older specs and links).
  const axesIn = typeof o.axes === 'object' && o.axes !== null && !Array.isArray(o.axes) ? (o.axes as Record<string, unknown>) : {};
  const base = defaultToyConfig() as Record<string, unknown>;
  if (o.base !== undefined) {
    if (typeof o.base !== 'object' || o.base === null || Array.isArray(o.base)) return { ok: false, error: 'base must be an object of settings' };
    for (const [k, v] of Object.entries(o.base)) {
      if (!isField(TOY_FIELDS, k)) return { ok: false, error: `base: unknown setting ${quote(k, 40)}` };
      const single = (k === 'seed' || (k === 'n' && kind === 'lambda-eta')) && axesIn[k] === undefined;
      if ((allowed as string[]).includes(k) && !single) return { ok: false, error: `base.${k}: ${k} is an axis of ${kind} sweeps; give it in axes.${k}` };
      const r = parseToyField(k as ToyKey, v);
      if (!r.ok) return { ok: false, error: `base.${k}: ${r.error}` };
      base[k] = r.value;
    }
  }

  // axes
  if (typeof o.axes !== 'object' || o.axes === null || Array.isArray(o.axes)) return { ok: false, error: 'axes must be an object' };
  const axesRaw = o.axes as Record<string, unknown>;
  for (const k of Object.keys(axesRaw)) {
    if (!(AXIS_NAMES as readonly string[]).includes(k)) return { ok: false, error: `axes: unknown axis ${quote(k, 40)} (axes are ${AXIS_NAMES.join(', ')})` };
    if (!(allowed as string[]).includes(k)) return { ok: false, error: `axes.${k}: a ${kind} sweep does not sweep ${k} (it sweeps ${allowed.join(', ')}); set ${k} in base` };
  }
  for (const k of required) if (axesRaw[k] === undefined) return { ok: false, error: `axes.${k} is required for a ${kind} sweep` };
  const values = {
    seed: [base.seed as number],
    init: [base.init as InitScheme],
    n: [base.n as number],
    lambda: [base.lambda as number],
    eta: [base.eta as number],
  };
  const normAxes: SweepSpec['axes'] = {};
  if (axesRaw.seed !== undefined) {
    const r = checkSeedAxis(axesRaw.seed);
    if (!r.ok) return r;
    values.seed = r.value;
    normAxes.seed = r.value;
  }
  if (axesRaw.init !== undefined) {
    const r = checkInitAxis(axesRaw.init);
    if (!r.ok) return r;
    values.init = r.value;
    normAxes.init = r.value;
  } else if (optional.includes('init') && kind !== 'lambda-eta') {
    values.init = ['A', 'B'];
  }
  for (const name of ['n', 'lambda', 'eta'] as const) {
    if (axesRaw[name] === undefined) continue;
    const r = checkNumericAxis(name, axesRaw[name]);
    if (!r.ok) return r;
    values[name] = r.value.values;
    normAxes[name] = r.value.axis;
  }

  // options
  let threshold = DEFAULT_THRESHOLD;
  if (o.threshold !== undefined) {
    if (typeof o.threshold !== 'number' || !Number.isFinite(o.threshold) || o.threshold <= 0 || o.threshold > 1) return { ok: false, error: 'threshold must be a number in (0, 1] (a fraction of the first loss)' };
    threshold = o.threshold;
  }
  let curves = kind === 'width-scaling';
  if (o.curves !== undefined) {
    if (typeof o.curves !== 'boolean') return { ok: false, error: 'curves must be true or false' };
    curves = o.curves;
  }

  // size and cross-field constraints at every grid point (the smallest width is the binding one)
  const runs = values.seed.length * values.init.length * values.n.length * values.lambda.length * values.eta.length;
  if (runs > MAX_SWEEP_RUNS) return { ok: false, error: `the grid has ${runs} runs (at most ${MAX_SWEEP_RUNS})` };
  for (const n of values.n) {
    const cross = crossFieldError({ ...(base as ToyConfig), n });
    if (cross) return { ok: false, error: values.n.length > 1 ? `at n = ${n}: ${cross.error}` : cross.error };
  }

  const spec: SweepSpec = { version: SWEEP_VERSION, kind, axes: normAxes };
  if (o.base !== undefined) spec.base = { ...(o.base as Partial<ToyConfig>) };
  if (o.threshold !== undefined) spec.threshold = threshold;
  if (o.curves !== undefined) spec.curves = curves;
  const swept = AXIS_NAMES.filter((a) => values[a].length > 1 || required.includes(a) || (a === 'init' && allowed.includes(a)));
  return { ok: true, value: { spec, kind, base: base as ToyConfig, axes: values, swept, threshold, curves } };
}

/** Like validateSweepSpec, but throws an Error with the message (for code paths that already trust the input). */
export function resolveSweep(spec: SweepSpec): ResolvedSweep {
  const r = validateSweepSpec(spec);
  if (!r.ok) throw new Error(`invalid sweep: ${r.error}`);
  return r.value;
}

// ---------------------------------------------------------------------------------------------------
// the grid

/**
 * Every run of the grid, row-major over (seed, init, n, lambda, eta): eta varies fastest and the seed
 * slowest, so a single-seed sweep keeps its indices and a live view sees one whole seed first.
 */
export function gridPoints(s: ResolvedSweep): GridPoint[] {
  const out: GridPoint[] = [];
  const { seed, init, n, lambda, eta } = s.axes;
  for (let z = 0; z < seed.length; z++)
    for (let a = 0; a < init.length; a++)
      for (let b = 0; b < n.length; b++)
        for (let c = 0; c < lambda.length; c++)
          for (let d = 0; d < eta.length; d++)
            out.push({ index: out.length, seed: seed[z], init: init[a], n: n[b], lambda: lambda[c], eta: eta[d], at: { seed: z, init: a, n: b, lambda: c, eta: d } });
  return out;
}

/** Index of the grid point at these axis positions (gridPoints order). */
export function gridIndex(s: ResolvedSweep, at: GridPoint['at']): number {
  const { seed, init, n, lambda, eta } = s.axes;
  return (((at.seed * init.length + at.init) * n.length + at.n) * lambda.length + at.lambda) * eta.length + at.eta;
}

/** The full configuration of one grid point. */
export function pointConfig(s: ResolvedSweep, p: Pick<GridPoint, 'seed' | 'init' | 'n' | 'lambda' | 'eta'>): ToyConfig {
  return { ...s.base, seed: p.seed, init: p.init, n: p.n, lambda: p.lambda, eta: p.eta };
}

export function gridSize(s: ResolvedSweep): number {
  return s.axes.seed.length * s.axes.init.length * s.axes.n.length * s.axes.lambda.length * s.axes.eta.length;
}

// ---------------------------------------------------------------------------------------------------
// text forms: the CLI's axis syntax and the share link

/**
 * Parse an axis written as text: a comma list ("64,128,256", "A,B") or a log range "from:to:count"
 * ("1e-4:1e-1:7"); seeds are a list or a range of whole numbers "1..5". The result still goes through
 * validateSweepSpec.
 */
export function parseAxisText(name: AxisName, text: string): Checked<unknown> {
  const t = text.trim();
  if (name === 'init') return { ok: true, value: t.split(',').map((x) => x.trim()) };
  if (name === 'seed') {
    const range = /^(\d{1,10})\s*\.\.\s*(\d{1,10})$/.exec(t);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) return { ok: false, error: `seed range "${t}": ${to} is below ${from}` };
      if (to - from + 1 > MAX_SEEDS) return { ok: false, error: `seed range "${t}" has ${to - from + 1} seeds (at most ${MAX_SEEDS})` };
      return { ok: true, value: Array.from({ length: to - from + 1 }, (_, i) => from + i) };
    }
    if (t.includes(':') || t.includes('..')) return { ok: false, error: `seed "${t.slice(0, 40)}": write seeds as a list 1,2,3 or a range 1..5` };
    return { ok: true, value: t.split(',').map((x) => x.trim()) };
  }
  const range = t.split(':');
  if (range.length === 3) {
    const [from, to, count] = range.map((x) => x.trim());
    if (!/^\d+$/.test(count)) return { ok: false, error: `${name} range ${quote(t, 40)}: the count must be a whole number` };
    return { ok: true, value: { from, to, count: Number(count) } };
  }
  if (range.length !== 1) return { ok: false, error: `${name} ${quote(t, 40)}: write values as a,b,c or a log range from:to:count` };
  return { ok: true, value: t.split(',').map((x) => x.trim()) };
}

/** The text form of an axis (inverse of parseAxisText). */
export function axisText(axis: NumericAxis | InitScheme[]): string {
  if (Array.isArray(axis)) return axis.map(String).join(',');
  return `${axis.from}:${axis.to}:${axis.count}`;
}

export const MAX_SWEEP_LINK_CHARS = 4096;

/**
 * The sweep as a URL fragment, in the style of the playground's link (src/state/shareLink.ts):
 *   sweep=1&kind=lr-width&x.init=A,B&x.n=64,128,256&x.eta=1e-4:1e-1:7&thr=0.1&<short key>=<value>...
 * Every non-swept setting is written out (resolved), so a link keeps its meaning when a default changes.
 * Axes are prefixed with "x." (a setting's short key, e.g. "n", may equal an axis name).
 */
export function encodeSweepLink(s: ResolvedSweep): string {
  const parts = [`sweep=${SWEEP_VERSION}`, `kind=${s.kind}`];
  const allowed = [...KIND_AXES[s.kind].required, ...KIND_AXES[s.kind].optional] as string[];
  for (const a of AXIS_NAMES) {
    // An optional axis left to its default (the seed, a lambda-eta width or init) is written out too.
    const axis = s.spec.axes[a] ?? (allowed.includes(a) ? s.axes[a] : undefined);
    if (axis !== undefined) parts.push(`x.${a}=${encodeURIComponent(axisText(axis))}`);
  }
  parts.push(`thr=${s.threshold}`, `curves=${s.curves ? 1 : 0}`);
  for (const k of TOY_KEYS) {
    if (allowed.includes(k)) continue;
    const v = s.base[k];
    parts.push(`${TOY_FIELDS[k].short}=${typeof v === 'boolean' ? (v ? 1 : 0) : encodeURIComponent(String(v))}`);
  }
  return parts.join('&');
}

const SHORT_TO_KEY = new Map<string, ToyKey>(TOY_KEYS.map((k) => [TOY_FIELDS[k].short, k]));

/** Decode a sweep link (with or without the leading '#'). Never throws. */
export function decodeSweepLink(fragment: string): Checked<ResolvedSweep> {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (text.length > MAX_SWEEP_LINK_CHARS) return { ok: false, error: `the link is too long (${text.length} characters, at most ${MAX_SWEEP_LINK_CHARS})` };
  const raw: Record<string, unknown> = { axes: {} };
  const base: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, error: `malformed link part ${quote(part)}` };
    const k = part.slice(0, eq);
    let v: string;
    try {
      v = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return { ok: false, error: `bad escape in ${quote(k)}` };
    }
    if (seen.has(k)) return { ok: false, error: `${quote(k)} appears twice` };
    seen.add(k);
    if (k === 'sweep') raw.version = /^\d+$/.test(v) ? Number(v) : v;
    else if (k === 'kind') raw.kind = v;
    else if (k === 'thr') raw.threshold = /^[0-9.eE+-]+$/.test(v) ? Number(v) : v;
    else if (k === 'curves') raw.curves = v === '1' ? true : v === '0' ? false : v;
    else if (k.startsWith('x.') && (AXIS_NAMES as readonly string[]).includes(k.slice(2))) {
      const r = parseAxisText(k.slice(2) as AxisName, v);
      if (!r.ok) return r;
      (raw.axes as Record<string, unknown>)[k.slice(2)] = r.value;
    } else if (SHORT_TO_KEY.has(k)) base[SHORT_TO_KEY.get(k)!] = v;
    else return { ok: false, error: `unknown link key ${quote(k)}` };
  }
  if (raw.version === undefined) return { ok: false, error: 'not a sweep link (no "sweep=" version)' };
  if (Object.keys(base).length) raw.base = base;
  // Base keys that are axes of this kind may not appear: the validator says so.
  return validateSweepSpec(raw);
}

// ---------------------------------------------------------------------------------------------------
// presets: the sweeps behind the findings page (docs/findings.md); the Experiments tab scales them down
// on a software adapter (src/state/sweepStore.ts scaleForAdapter)

/** Powers of two from 2^from to 2^to: a factor-2 learning-rate grid with exact values. */
export function powersOfTwo(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => 2 ** (from + i));
}

export const SWEEP_PRESETS: Record<'e3' | 'e4' | 'e5' | 'e6', SweepSpec> = {
  // E3: one update at eta = 1e-3, lambda = 1; ||Z_B|| at step 2 minus step 1 against width, 5 seeds.
  e3: { version: 1, kind: 'width-scaling', base: { eta: 1e-3, lambda: 1, steps: 2, testEvery: 1 }, axes: { seed: [1, 2, 3, 4, 5], init: ['A', 'B'], n: [128, 256, 512, 1024] } },
  // E4: 5 seeds x 2 inits x 7 widths x 13 learning rates (factor 2, 2^-14 .. 2^-2), 200 steps.
  e4: { version: 1, kind: 'lr-width', base: { steps: 200, testEvery: 20 }, axes: { seed: [1, 2, 3, 4, 5], init: ['A', 'B'], n: [64, 128, 256, 512, 1024, 2048, 4096], eta: powersOfTwo(-14, -2) } },
  // E5: the largest eta of E4's grid at which Init[A] still trains at every width (10^-1.5: its ||Z_A||
  // grows with n while ||Z_B|| stays O(1); at 0.1 both inits' ||Z_B|| blow up); norms against width and time.
  e5: { version: 1, kind: 'width-scaling', base: { eta: 0.0316, steps: 200, testEvery: 20 }, axes: { init: ['A', 'B'], n: [64, 128, 256, 512, 1024] }, curves: true },
  // E6 (lora-math.md section 5): Init[A], 3 seeds x 3 widths x 6 ratios x 10 learning rates (2^-13 .. 2^-4), 200 steps.
  e6: { version: 1, kind: 'lambda-eta', base: { steps: 200, testEvery: 20 }, axes: { seed: [1, 2, 3], init: ['A'], n: [1024, 4096, 8192], lambda: [1, 2, 4, 8, 16, 32], eta: powersOfTwo(-13, -4) } },
};
