// One line per stored result, as the History panel lists it and `cli show` prints it: what it is, how it
// ended, its final loss, where and with which engine it was computed.
import { gridSize, validateSweepSpec, type SweepSpec } from '../experiments/sweep/spec.ts';
import { describeSetting } from '../state/describe.ts';
import { formatNumber } from '../state/series.ts';
import { lastFinite, type Gpt2RunRecord, type ResultRecord, type StoredStatus, type SweepRecord, type ToyRunRecord } from './records.ts';

export function toySummary(r: Pick<ToyRunRecord, 'config'>): string {
  const c = r.config;
  return [describeSetting('init', c.init), describeSetting('n', c.n), describeSetting('rank', c.rank), describeSetting('eta', c.eta), describeSetting('lambda', c.lambda), `${c.steps} steps`, `seed ${c.seed}`].join(', ');
}

export function gpt2Summary(r: Pick<Gpt2RunRecord, 'model' | 'config'>): string {
  const c = r.config;
  return `GPT-2 ${r.model}, Init[${c.init}], r = ${c.rank}, η = ${formatNumber(c.eta, 4)}, λ = ${formatNumber(c.lambda, 4)}, ${c.targets.join('+')}, ${c.steps} steps`;
}

export function sweepSummary(r: Pick<SweepRecord, 'spec'>): string {
  const s = validateSweepSpec(r.spec as SweepSpec);
  return s.ok ? `sweep ${s.value.kind}, ${gridSize(s.value)} runs of ${s.value.base.steps} steps` : 'sweep';
}

export function statusText(status: StoredStatus, divergedAt: number | null): string {
  return status === 'diverged' && divergedAt !== null ? `diverged at step ${divergedAt}` : status;
}

/** "Init[A], n = 64, ...: done, 30/30 steps, final loss 0.0123 (google swiftshader, engine v1)". */
export function recordLine(r: ResultRecord): string {
  const where = `(${r.adapter}, engine v${r.engineVersion})`;
  if (r.kind === 'sweep') {
    const done = r.runs.filter((x) => x.status === 'done' || x.status === 'diverged').length;
    return `${sweepSummary(r)}: ${r.status}, ${done} finished ${where}`;
  }
  const loss = lastFinite(r.trace.loss);
  const head = r.kind === 'toy' ? toySummary(r) : gpt2Summary(r);
  return `${head}: ${statusText(r.status, r.divergedAt)}, ${r.trace.step.length}/${r.config.steps} steps, final loss ${loss === null ? '–' : formatNumber(loss, 4)} ${where}`;
}
