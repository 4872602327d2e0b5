// The Experiments tab's sweep: the form (preset, kind, axes and shared settings as typed text), its
// validation through sweepSpec's validator (messages placed beside the field they name), and the state
// of the sweep that runs or ran (runs finished so far, progress, the aggregated result).
import { create } from 'zustand';
import type { Checked } from '../experiments/toy/config.ts';
import type { RunSummary, SweepMetric, SweepResult } from '../experiments/sweep/aggregate.ts';
import { defaultToyConfig } from '../experiments/toy/config.ts';
import { axisText, gridSize, KIND_AXES, parseAxisText, SWEEP_PRESETS, validateSweepSpec, type AxisName, type ResolvedSweep, type SweepKind, type SweepSpec } from '../experiments/sweep/spec.ts';

export type SweepPresetId = keyof typeof SWEEP_PRESETS;
export const SWEEP_PRESET_IDS = ['e3', 'e4', 'e5', 'e6'] as const satisfies readonly SweepPresetId[];
export const PRESET_TITLES: Record<SweepPresetId | 'custom', string> = {
  e3: 'E3: one-step ‖Z_B‖ vs width',
  e4: 'E4: learning rate η × width n',
  e5: 'E5: ‖Z_A‖, ‖Z_B‖ vs width, large η',
  e6: 'E6: LoRA+ ratio λ × η',
  custom: 'Custom (from a link)',
};

/** Shared settings the form shows (besides the swept axes); the others keep the link's or the defaults. */
export const BASE_FIELDS = ['n', 'eta', 'lambda', 'steps', 'testEvery'] as const;
export type BaseField = (typeof BASE_FIELDS)[number];
export type FieldId = AxisName | `base.${BaseField}`;

export interface SweepForm {
  preset: SweepPresetId | 'custom';
  kind: SweepKind;
  axes: Partial<Record<AxisName, string>>;
  base: Partial<Record<BaseField, string>>;
  /** Settings of the spec the form does not show (carried through unchanged). */
  extraBase: Record<string, unknown>;
  threshold?: number;
  curves?: boolean;
}

export type SweepPhase = 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'error';

export interface SweepState {
  form: SweepForm;
  /** The validated sweep, or the message and the field it belongs to. */
  checked: Checked<ResolvedSweep>;
  errorField: FieldId | null;
  phase: SweepPhase;
  message: string | null;
  /** The sweep that runs / ran. */
  running: ResolvedSweep | null;
  /** Summaries of the finished runs, by grid index. */
  finished: Record<number, RunSummary>;
  runsDone: number;
  runsTotal: number;
  seconds: number;
  result: SweepResult | null;
  /** The history record of the sweep shown (being recorded, or restored); null when none. */
  recordId: string | null;
  /** What the heatmaps and optima rank by; null: the kind's default (aggregate.ts defaultMetric). */
  metric: SweepMetric | null;
  set(patch: Partial<Omit<SweepState, 'set'>>): void;
}

/**
 * What a software adapter (SwiftShader) finishes in a minute or two: widths up to 512, few steps, at
 * most 7 learning rates (every other point of a longer list: a factor-4 grid from a factor-2 one), 5
 * ratios and 2 seeds (still a spread, never a single draw).
 */
export function scaleForAdapter(spec: SweepSpec, software: boolean): SweepSpec {
  if (!software) return spec;
  const out: SweepSpec = structuredClone(spec);
  const base = { ...(out.base ?? {}) };
  if (base.steps !== undefined && base.steps > 60) base.steps = 60;
  if (base.testEvery !== undefined && base.testEvery > 10) base.testEvery = 10;
  if (base.n !== undefined && base.n > 256) base.n = 256;
  if (Array.isArray(out.axes.n)) {
    const n = out.axes.n.filter((v) => v <= 512);
    out.axes.n = n.length >= 2 || (n.length === 1 && out.kind === 'lambda-eta') ? n : n.length ? out.axes.n.slice(0, 2) : [512];
  }
  if (out.axes.eta && !Array.isArray(out.axes.eta) && out.axes.eta.count > 7) out.axes.eta = { ...out.axes.eta, count: 7 };
  if (Array.isArray(out.axes.eta) && out.axes.eta.length > 7) out.axes.eta = out.axes.eta.filter((_, i) => i % 2 === 0).slice(0, 7);
  if (Array.isArray(out.axes.lambda) && out.axes.lambda.length > 5) out.axes.lambda = out.axes.lambda.slice(0, 5);
  if (out.axes.seed && out.axes.seed.length > 2) out.axes.seed = out.axes.seed.slice(0, 2);
  out.base = base;
  return out;
}

/** The form showing a spec. */
export function formFromSpec(spec: SweepSpec, preset: SweepForm['preset']): SweepForm {
  const allowed = [...KIND_AXES[spec.kind].required, ...KIND_AXES[spec.kind].optional];
  const axes: SweepForm['axes'] = {};
  const given = (spec.base ?? {}) as Record<string, unknown>;
  const defaults = defaultToyConfig();
  for (const a of allowed) {
    const v = spec.axes[a];
    // An optional axis left to one setting (the seed; a lambda-eta width) shows that setting.
    if (v !== undefined) axes[a] = axisText(v);
    else if (given[a] !== undefined) axes[a] = String(given[a]);
    else axes[a] = a === 'init' ? (spec.kind === 'lambda-eta' ? 'A' : 'A,B') : a === 'seed' ? String(defaults.seed) : a === 'n' ? String(defaults.n) : '';
  }
  const base: SweepForm['base'] = {};
  const extraBase: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec.base ?? {})) {
    if ((allowed as string[]).includes(k)) continue;
    if ((BASE_FIELDS as readonly string[]).includes(k)) base[k as BaseField] = String(v);
    else extraBase[k] = v;
  }
  return { preset, kind: spec.kind, axes, base, extraBase, threshold: spec.threshold, curves: spec.curves };
}

/** The fields the form shows for a kind: its axes, then the shared settings that are not axes. */
export function formFields(kind: SweepKind): { axes: AxisName[]; base: BaseField[] } {
  const allowed = [...KIND_AXES[kind].required, ...KIND_AXES[kind].optional];
  const order: AxisName[] = ['init', 'n', 'lambda', 'eta', 'seed'];
  return { axes: order.filter((a) => allowed.includes(a)), base: BASE_FIELDS.filter((b) => !(allowed as string[]).includes(b)) };
}

/** Validate the form: each axis through parseAxisText, then the whole spec through validateSweepSpec. */
export function checkForm(form: SweepForm): { checked: Checked<ResolvedSweep>; errorField: FieldId | null } {
  const fields = formFields(form.kind);
  const axes: Record<string, unknown> = {};
  for (const a of fields.axes) {
    const text = (form.axes[a] ?? '').trim();
    if (!text) return { checked: { ok: false, error: `axes.${a} is empty` }, errorField: a };
    const r = parseAxisText(a, text);
    if (!r.ok) return { checked: r, errorField: a };
    axes[a] = r.value;
  }
  const base: Record<string, unknown> = { ...form.extraBase };
  for (const b of fields.base) {
    const text = (form.base[b] ?? '').trim();
    if (text) base[b] = text;
  }
  const raw: Record<string, unknown> = { version: 1, kind: form.kind, axes, base };
  if (form.threshold !== undefined) raw.threshold = form.threshold;
  if (form.curves !== undefined) raw.curves = form.curves;
  const checked = validateSweepSpec(raw);
  if (checked.ok) return { checked, errorField: null };
  const m = /^(axes|base)\.([A-Za-z]+)/.exec(checked.error) ?? /^at n = /.exec(checked.error);
  let errorField: FieldId | null = null;
  if (m && m[1] === 'axes') errorField = m[2] as AxisName;
  else if (m && m[1] === 'base' && (BASE_FIELDS as readonly string[]).includes(m[2])) errorField = `base.${m[2] as BaseField}`;
  else if (m) errorField = fields.axes.includes('n') ? 'n' : 'base.n';
  return { checked, errorField };
}

export function defaultForm(software: boolean): SweepForm {
  return formFromSpec(scaleForAdapter(SWEEP_PRESETS.e4, software), 'e4');
}

const initial = defaultForm(true);

export const useSweepStore = create<SweepState>()((set) => ({
  form: initial,
  ...checkForm(initial),
  phase: 'idle',
  message: null,
  running: null,
  finished: {},
  runsDone: 0,
  runsTotal: 0,
  seconds: 0,
  result: null,
  recordId: null,
  metric: null,
  set: (patch) => set(patch),
}));

/** On a hardware adapter, the untouched default form grows to the full E4 preset (the store starts sized for software). */
export function sizeDefaultForAdapter(software: boolean): void {
  const s = useSweepStore.getState();
  if (software || s.phase !== 'idle' || JSON.stringify(s.form) !== JSON.stringify(initial)) return;
  setForm(defaultForm(false));
}

/** Replace the form (re-validating it). */
export function setForm(form: SweepForm): void {
  useSweepStore.getState().set({ form, ...checkForm(form) });
}

export function editAxis(a: AxisName, text: string): void {
  const f = useSweepStore.getState().form;
  setForm({ ...f, preset: f.preset, axes: { ...f.axes, [a]: text } });
}

export function editBase(b: BaseField, text: string): void {
  const f = useSweepStore.getState().form;
  setForm({ ...f, base: { ...f.base, [b]: text } });
}

export function choosePreset(id: SweepPresetId, software: boolean): void {
  setForm(formFromSpec(scaleForAdapter(SWEEP_PRESETS[id], software), id));
  useSweepStore.getState().set({ metric: null }); // back to the experiment's own default (E6: the training loss)
}

/** Runs in the validated grid (0 when invalid). */
export function formRuns(c: Checked<ResolvedSweep>): number {
  return c.ok ? gridSize(c.value) : 0;
}
