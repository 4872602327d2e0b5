// The one validator of stored results, for records read back from the browser's history and for records
// in a dropped or downloaded bundle alike: untrusted input in, a rebuilt record or a message naming the
// offending field out. Known fields only (an unknown one is refused), prototype names refused anywhere,
// every setting through the experiment schemas, every column's length checked against the step count
// before it is decoded, every step list strictly increasing and within the run's steps.
import { validateGpt2RunConfig } from '../experiments/gpt2/config.ts';
import { gridPoints, gridSize, validateSweepSpec, type ResolvedSweep } from '../experiments/sweep/spec.ts';
import type { RunCurve, RunSummary, SweepRunStatus, SweepTiming } from '../experiments/sweep/aggregate.ts';
import { validateToyConfig } from '../experiments/toy/config.ts';
import { parseGpt2Config, targetDims, type Gpt2Config, type LoraTarget } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import { base64ToBytes, type Column } from './columns.ts';
import type { Verdict } from './compare.ts';
import { GPT2_ADAPTER_COLUMNS, GPT2_TRACE_KEYS, RECORD_VERSION, STORED_STATUSES, TOY_DENSE, type Gpt2RunRecord, type Gpt2TraceColumns, type ResultRecord, type StoredGeneration, type SweepRecord, type ToyRunRecord, type ToyTraceColumns } from './records.ts';

export class RecordError extends Error {}

const fail = (path: string, what: string): never => {
  throw new RecordError(`${path} ${what}`);
};

/** Names that would reach an object's prototype if copied carelessly: refused wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function plainObject(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return fail(path, 'must be an object');
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) fail(path, 'must be a plain object');
  for (const k of Object.keys(v)) if (FORBIDDEN_KEYS.has(k)) fail(path, `has the forbidden key "${k}"`);
  return v as Record<string, unknown>;
}

/** An object with these fields (required ones must be present; nothing else may be). */
function fields(v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  const o = plainObject(v, path);
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) fail(path, `has an unknown field "${k.slice(0, 40)}"`);
  for (const k of required) if (!Object.hasOwn(o, k)) fail(path, `lacks the field "${k}"`);
  return o;
}

function str(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') return fail(path, 'must be text');
  if (v.length > max) fail(path, `is longer than ${max} characters`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail(path, `must be a whole number in ${min}..${max}`);
  return v;
}

function finite(v: unknown, path: string, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) return fail(path, min === 0 ? 'must be a finite number >= 0' : 'must be a finite number');
  return v;
}

function finiteOrNull(v: unknown, path: string): number | null {
  return v === null ? null : finite(v, path);
}

function oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) return fail(path, `must be one of ${options.join(', ')}`);
  return v as T;
}

function array(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) return fail(path, 'must be a list');
  if (v.length > max) fail(path, `has ${v.length} entries (at most ${max})`);
  return v;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
export function recordId(v: unknown, path: string): string {
  if (typeof v !== 'string' || !ID.test(v)) return fail(path, 'must be an id (1-64 letters, digits, - or _)');
  return v;
}

/**
 * A metric column: a Float32Array/Float64Array (history) or {"f32"|"f64": base64} (a bundle), with
 * exactly `length` values when given. The base64 text's length is checked before it is decoded.
 */
export function column(v: unknown, path: string, length?: number, only32 = false): Column {
  let c: Column;
  if (v instanceof Float32Array || v instanceof Float64Array) c = v;
  else {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, 'must be {"f32": base64} or {"f64": base64}');
    const o = plainObject(v, path);
    const keys = Object.keys(o);
    if (keys.length !== 1 || (keys[0] !== 'f32' && keys[0] !== 'f64')) return fail(path, 'must be {"f32": base64} or {"f64": base64}');
    const size = keys[0] === 'f32' ? 4 : 8;
    const text = o[keys[0]];
    if (typeof text !== 'string') return fail(path, 'must hold base64 text');
    if (length !== undefined && text.length !== 4 * Math.ceil((length * size) / 3)) return fail(path, `does not hold ${length} values`);
    const bytes = base64ToBytes(text);
    if (!bytes || bytes.length % size !== 0) return fail(path, 'is not valid base64 of whole values');
    c = size === 4 ? new Float32Array(bytes.buffer, 0, bytes.length / 4) : new Float64Array(bytes.buffer, 0, bytes.length / 8);
  }
  if (length !== undefined && c.length !== length) fail(path, `has ${c.length} values, expected ${length}`);
  if (only32 && !(c instanceof Float32Array)) fail(path, 'must be float32');
  return c;
}

/** Strictly increasing whole steps in 1..max. */
function steps(c: Column, path: string, max: number): void {
  let last = 0;
  for (let i = 0; i < c.length; i++) {
    const s = c[i];
    if (!Number.isInteger(s) || s <= last || s > max) fail(path, `must be increasing whole steps in 1..${max} (entry ${i} is ${s})`);
    last = s;
  }
}

function base(o: Record<string, unknown>, path: string) {
  if (o.v !== RECORD_VERSION) fail(`${path}.v`, `is ${JSON.stringify(o.v)?.slice(0, 12)}: this page reads record version ${RECORD_VERSION}`);
  const out = {
    v: RECORD_VERSION as typeof RECORD_VERSION,
    id: recordId(o.id, `${path}.id`),
    createdAt: finite(o.createdAt, `${path}.createdAt`, 0),
    engineVersion: int(o.engineVersion, `${path}.engineVersion`, 0, 1e6),
    adapter: str(o.adapter, `${path}.adapter`, 200),
    status: oneOf(o.status, `${path}.status`, STORED_STATUSES),
  };
  return o.message === undefined ? out : { ...out, message: str(o.message, `${path}.message`, 2000) };
}

const BASE = ['v', 'id', 'kind', 'createdAt', 'engineVersion', 'adapter', 'status'] as const;

function divergedAt(v: unknown, path: string, max: number): number | null {
  return v === null ? null : int(v, path, 1, max);
}

function verdict(v: unknown, path: string): Verdict {
  const kind = oneOf(plainObject(v, path).kind, `${path}.kind`, ['bit-identical', 'within-tolerance', 'differs'] as const);
  if (kind === 'bit-identical') {
    const o = fields(v, path, ['kind', 'steps']);
    return { kind, steps: int(o.steps, `${path}.steps`, 0, 1e7) };
  }
  if (kind === 'within-tolerance') {
    const o = fields(v, path, ['kind', 'steps', 'worstRelative', 'worstStep', 'worstMetric']);
    return { kind, steps: int(o.steps, `${path}.steps`, 0, 1e7), worstRelative: finite(o.worstRelative, `${path}.worstRelative`, 0), worstStep: int(o.worstStep, `${path}.worstStep`, 0, 1e7), worstMetric: str(o.worstMetric, `${path}.worstMetric`, 40) };
  }
  const o = fields(v, path, ['kind', 'step', 'metric', 'stored', 'reproduced']);
  const numOrNull = (x: unknown, p: string) => (x === null ? null : typeof x === 'number' ? x : fail(p, 'must be a number or null'));
  return { kind, step: int(o.step, `${path}.step`, 0, 1e7), metric: str(o.metric, `${path}.metric`, 40), stored: numOrNull(o.stored, `${path}.stored`), reproduced: numOrNull(o.reproduced, `${path}.reproduced`) };
}

// ---- toy runs ----

export function checkToyRun(raw: unknown, path = 'run'): ToyRunRecord {
  const o = fields(raw, path, [...BASE, 'config', 'divergedAt', 'trainMs', 'trace', 'final'], ['message', 'reproduction']);
  if (o.kind !== 'toy') fail(`${path}.kind`, 'must be "toy"');
  const head = base(o, path);
  const config = validateToyConfig(o.config);
  if (!config.ok) return fail(`${path}.config`, `is not valid: ${config.error}`);
  const c = config.value;
  const t = fields(o.trace, `${path}.trace`, ['step', ...TOY_DENSE, 'testStep', 'testLoss']);
  const step = column(t.step, `${path}.trace.step`);
  if (step.length > c.steps) fail(`${path}.trace.step`, `has ${step.length} steps, more than the run's ${c.steps}`);
  steps(step, `${path}.trace.step`, c.steps);
  const trace = { step } as ToyTraceColumns;
  for (const f of TOY_DENSE) trace[f] = column(t[f], `${path}.trace.${f}`, step.length);
  trace.testStep = column(t.testStep, `${path}.trace.testStep`);
  if (trace.testStep.length > step.length) fail(`${path}.trace.testStep`, 'has more entries than steps');
  steps(trace.testStep, `${path}.trace.testStep`, c.steps);
  trace.testLoss = column(t.testLoss, `${path}.trace.testLoss`, trace.testStep.length);
  let final: ToyRunRecord['final'] = null;
  if (o.final !== null) {
    const f = fields(o.final, `${path}.final`, ['A', 'B']);
    final = { A: column(f.A, `${path}.final.A`, c.rank * c.n, true) as Float32Array, B: column(f.B, `${path}.final.B`, c.n * c.rank, true) as Float32Array };
  }
  const out: ToyRunRecord = { ...head, kind: 'toy', config: c, divergedAt: divergedAt(o.divergedAt, `${path}.divergedAt`, c.steps), trainMs: finite(o.trainMs, `${path}.trainMs`, 0), trace, final };
  if (o.reproduction !== undefined) {
    const r = fields(o.reproduction, `${path}.reproduction`, ['of', 'verdict']);
    out.reproduction = { of: recordId(r.of, `${path}.reproduction.of`), verdict: verdict(r.verdict, `${path}.reproduction.verdict`) };
  }
  return out;
}

// ---- GPT-2 runs ----

/** A GPT-2 config within sizes a browser could hold (the engine's own parser does the rest). */
export function checkModelConfig(raw: unknown, path: string): Gpt2Config {
  const o = fields(raw, path, ['model_type', 'n_embd', 'n_layer', 'n_head', 'n_positions', 'vocab_size', 'layer_norm_epsilon', 'n_inner', 'activation_function', 'embd_pdrop', 'attn_pdrop', 'resid_pdrop']);
  int(o.n_embd, `${path}.n_embd`, 1, 16384);
  int(o.n_layer, `${path}.n_layer`, 1, 128);
  int(o.n_inner, `${path}.n_inner`, 1, 65536);
  int(o.n_positions, `${path}.n_positions`, 1, 65536);
  int(o.vocab_size, `${path}.vocab_size`, 1, 1 << 20);
  try {
    return parseGpt2Config(o);
  } catch (e) {
    return fail(path, `is not a GPT-2 config: ${(e as Error).message}`);
  }
}

/** LoRA tensors of every (layer, target) of a run, shapes from the model config. */
export function checkLoraTensors(v: unknown, path: string, model: Gpt2Config, targets: readonly LoraTarget[], rank: number): LoraWeights[] {
  const list = array(v, path, model.n_layer * targets.length);
  const seen = new Set<string>();
  const out = list.map((w, i): LoraWeights => {
    const p = `${path}[${i}]`;
    const o = fields(w, p, ['layer', 'target', 'A', 'B']);
    const layer = int(o.layer, `${p}.layer`, 0, model.n_layer - 1);
    const target = oneOf(o.target, `${p}.target`, targets);
    const key = `${layer}.${target}`;
    if (seen.has(key)) fail(p, `repeats layer ${layer} ${target}`);
    seen.add(key);
    const d = targetDims(model, target);
    return { layer, target, A: column(o.A, `${p}.A`, rank * d.in, true) as Float32Array, B: column(o.B, `${p}.B`, d.out * rank, true) as Float32Array };
  });
  if (out.length !== model.n_layer * targets.length) fail(path, `has ${out.length} adapters, expected ${model.n_layer * targets.length} (every layer x ${targets.join(', ')})`);
  return out;
}

export function checkGpt2Run(raw: unknown, path = 'run'): Gpt2RunRecord {
  const o = fields(raw, path, [...BASE, 'model', 'modelConfig', 'baseModel', 'text', 'config', 'group', 'divergedAt', 'adapters', 'trace', 'weights', 'generations'], ['message']);
  if (o.kind !== 'gpt2') fail(`${path}.kind`, 'must be "gpt2"');
  const head = base(o, path);
  const model = str(o.model, `${path}.model`, 40);
  if (!/^[a-z0-9._-]+$/.test(model)) fail(`${path}.model`, 'must be a model id');
  const modelConfig = checkModelConfig(o.modelConfig, `${path}.modelConfig`);
  const config = validateGpt2RunConfig(o.config, modelConfig);
  if (!config.ok) return fail(`${path}.config`, `is not valid: ${config.error}`);
  const c = config.value;
  const k = modelConfig.n_layer * c.targets.length;
  const adapters = array(o.adapters, `${path}.adapters`, k).map((a, i) => str(a, `${path}.adapters[${i}]`, 64));
  if (adapters.length !== k) fail(`${path}.adapters`, `has ${adapters.length} labels, expected ${k}`);
  const t = fields(o.trace, `${path}.trace`, [...GPT2_TRACE_KEYS]);
  const step = column(t.step, `${path}.trace.step`);
  if (step.length > c.steps) fail(`${path}.trace.step`, `has ${step.length} steps, more than the run's ${c.steps}`);
  steps(step, `${path}.trace.step`, c.steps);
  const trace = { step, loss: column(t.loss, `${path}.trace.loss`, step.length), lrScale: column(t.lrScale, `${path}.trace.lrScale`, step.length) } as Gpt2TraceColumns;
  for (const [at, values] of [['evalStep', 'evalLoss'], ['gradStep', 'gradNorm']] as const) {
    trace[at] = column(t[at], `${path}.trace.${at}`);
    if (trace[at].length > step.length) fail(`${path}.trace.${at}`, 'has more entries than steps');
    steps(trace[at], `${path}.trace.${at}`, c.steps);
    trace[values] = column(t[values], `${path}.trace.${values}`, trace[at].length);
  }
  for (const f of GPT2_ADAPTER_COLUMNS) trace[f] = column(t[f], `${path}.trace.${f}`, step.length * k);
  let weights: Gpt2RunRecord['weights'] = null;
  if (o.weights !== null) {
    const w = fields(o.weights, `${path}.weights`, ['step', 'tensors']);
    weights = { step: int(w.step, `${path}.weights.step`, 0, c.steps), tensors: checkLoraTensors(w.tensors, `${path}.weights.tensors`, modelConfig, c.targets, c.rank) };
  }
  const generations = array(o.generations, `${path}.generations`, 200).map((g, i): StoredGeneration => {
    const p = `${path}.generations[${i}]`;
    const x = fields(g, p, ['step', 'mode', 'prompt', 'text']);
    return { step: int(x.step, `${p}.step`, 0, c.steps), mode: oneOf(x.mode, `${p}.mode`, ['greedy', 'sample'] as const), prompt: str(x.prompt, `${p}.prompt`, 2000), text: str(x.text, `${p}.text`, 20000) };
  });
  return {
    ...head, kind: 'gpt2', model, modelConfig, baseModel: str(o.baseModel, `${path}.baseModel`, 200), text: oneOf(o.text, `${path}.text`, ['shakespeare', 'custom', 'synthetic'] as const),
    config: c, group: recordId(o.group, `${path}.group`), divergedAt: divergedAt(o.divergedAt, `${path}.divergedAt`, c.steps), adapters, trace, weights, generations,
  };
}

// ---- sweeps ----

const SUMMARY_NUMBERS = ['firstLoss', 'finalLoss', 'bestLoss', 'finalTestLoss', 'bestTestLoss', 'maxZA', 'maxZB', 'finalZA', 'finalZB', 'zB1', 'zB2', 'oneStepDeltaZB'] as const;
const SWEEP_RUN_STATUSES: readonly SweepRunStatus[] = ['done', 'diverged', 'error', 'lost', 'queued'];

function numberList(v: unknown, path: string, length: number, nulls: boolean): Array<number | null> {
  const list = array(v, path, length);
  if (list.length !== length) fail(path, `has ${list.length} entries, expected ${length}`);
  return list.map((x, i) => (x === null && nulls ? null : finite(x, `${path}[${i}]`)));
}

/** One run of a sweep, checked against the grid point it claims to be. */
export function checkRunSummary(raw: unknown, path: string, s: ResolvedSweep, grid: ReturnType<typeof gridPoints>): RunSummary {
  const o = fields(raw, path, ['index', 'point', 'status', 'divergedAt', 'steps', 'stepsToThreshold', ...SUMMARY_NUMBERS], ['curve', 'error']);
  const index = int(o.index, `${path}.index`, 0, grid.length - 1);
  const p = grid[index];
  const pt = fields(o.point, `${path}.point`, ['seed', 'init', 'n', 'lambda', 'eta']);
  if (pt.seed !== p.seed || pt.init !== p.init || pt.n !== p.n || pt.lambda !== p.lambda || pt.eta !== p.eta) fail(`${path}.point`, `does not match grid point ${index} of the sweep`);
  const stepsMax = s.base.steps;
  const out = {
    index,
    point: { seed: p.seed, init: p.init, n: p.n, lambda: p.lambda, eta: p.eta },
    status: oneOf(o.status, `${path}.status`, SWEEP_RUN_STATUSES),
    divergedAt: divergedAt(o.divergedAt, `${path}.divergedAt`, stepsMax),
    steps: int(o.steps, `${path}.steps`, 0, stepsMax),
    stepsToThreshold: o.stepsToThreshold === null ? null : int(o.stepsToThreshold, `${path}.stepsToThreshold`, 1, stepsMax),
  } as RunSummary;
  for (const k of SUMMARY_NUMBERS) out[k] = finiteOrNull(o[k], `${path}.${k}`);
  if (o.curve !== undefined) {
    const cv = fields(o.curve, `${path}.curve`, ['step', 'loss', 'zA', 'zB', 'testLoss']);
    const n = array(cv.step, `${path}.curve.step`, stepsMax).length;
    const curve: RunCurve = { step: numberList(cv.step, `${path}.curve.step`, n, false) as number[], loss: [], zA: [], zB: [], testLoss: [] };
    for (const k of ['loss', 'zA', 'zB', 'testLoss'] as const) curve[k] = numberList(cv[k], `${path}.curve.${k}`, n, true);
    out.curve = curve;
  }
  if (o.error !== undefined) out.error = str(o.error, `${path}.error`, 2000);
  return out;
}

function checkTiming(raw: unknown, path: string): SweepTiming {
  const o = fields(raw, path, ['engine', 'adapter', 'seconds', 'runs', 'runsPerSecond', 'runStepsPerSecond', 'batches'], ['cpuSeconds']);
  const t: SweepTiming = {
    engine: oneOf(o.engine, `${path}.engine`, ['batched', 'sequential'] as const),
    adapter: str(o.adapter, `${path}.adapter`, 200),
    seconds: finite(o.seconds, `${path}.seconds`, 0),
    runs: int(o.runs, `${path}.runs`, 0, 1e6),
    runsPerSecond: finite(o.runsPerSecond, `${path}.runsPerSecond`, 0),
    runStepsPerSecond: finite(o.runStepsPerSecond, `${path}.runStepsPerSecond`, 0),
    batches: int(o.batches, `${path}.batches`, 0, 1e6),
  };
  if (o.cpuSeconds !== undefined) t.cpuSeconds = finite(o.cpuSeconds, `${path}.cpuSeconds`, 0);
  return t;
}

export function checkSweep(raw: unknown, path = 'sweep'): SweepRecord & { resolved: ResolvedSweep } {
  const o = fields(raw, path, [...BASE, 'spec', 'runs', 'timing'], ['message', 'preset']);
  if (o.kind !== 'sweep') fail(`${path}.kind`, 'must be "sweep"');
  const head = base(o, path);
  const spec = validateSweepSpec(o.spec);
  if (!spec.ok) return fail(`${path}.spec`, `is not a valid sweep: ${spec.error}`);
  const resolved = spec.value;
  const grid = gridPoints(resolved);
  const runs = array(o.runs, `${path}.runs`, gridSize(resolved)).map((r, i) => checkRunSummary(r, `${path}.runs[${i}]`, resolved, grid));
  if (new Set(runs.map((r) => r.index)).size !== runs.length) fail(`${path}.runs`, 'repeats a grid point');
  const out: SweepRecord & { resolved: ResolvedSweep } = { ...head, kind: 'sweep', spec: resolved.spec, runs, timing: o.timing === null ? null : checkTiming(o.timing, `${path}.timing`), resolved };
  if (o.preset !== undefined) out.preset = str(o.preset, `${path}.preset`, 20);
  return out;
}

/** Any record, by its kind. Throws RecordError. */
export function checkRecord(raw: unknown, path = 'record'): ResultRecord {
  const kind = plainObject(raw, path).kind;
  if (kind === 'toy') return checkToyRun(raw, path);
  if (kind === 'gpt2') return checkGpt2Run(raw, path);
  if (kind === 'sweep') {
    const { resolved: _r, ...record } = checkSweep(raw, path);
    return record;
  }
  return fail(`${path}.kind`, 'must be "toy", "gpt2" or "sweep"');
}

