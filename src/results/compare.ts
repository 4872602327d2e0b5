// A reproduction against the stored trace it reproduces: the reproducibility badge.
//   bit-identical      every value of every metric at every step is the same float (NaN equals NaN)
//   within tolerance   same steps, and every relative difference |a - b| / max(|a|, |b|) is at most
//                      FLOAT32_TOLERANCE (the project's float32 parity bound, lora-math.md E0)
//   differs            the first step where a metric is further apart, or where the traces part ways
//                      (different length, a divergence on one side only)
import type { ToyTraceColumns } from './records.ts';
import { TOY_DENSE } from './records.ts';

export const FLOAT32_TOLERANCE = 1e-3;

export type Verdict =
  | { kind: 'bit-identical'; steps: number }
  | { kind: 'within-tolerance'; steps: number; worstRelative: number; worstStep: number; worstMetric: string }
  | { kind: 'differs'; step: number; metric: string; stored: number | null; reproduced: number | null };

function relative(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

export function compareToyTraces(stored: ToyTraceColumns, reproduced: ToyTraceColumns, tolerance = FLOAT32_TOLERANCE): Verdict {
  let worst = { rel: 0, step: 0, metric: '' };
  let identical = true;
  const n = Math.min(stored.step.length, reproduced.step.length);
  // Step by step, so "differs" names the first step where the traces part.
  const testAt = (c: ToyTraceColumns) => new Map(Array.from(c.testStep, (s, i) => [s, c.testLoss[i]]));
  const storedTest = testAt(stored);
  const reproducedTest = testAt(reproduced);
  for (let i = 0; i < n; i++) {
    const step = stored.step[i];
    if (reproduced.step[i] !== step) return { kind: 'differs', step: Math.min(step, reproduced.step[i]), metric: 'step', stored: step, reproduced: reproduced.step[i] };
    const pairs: Array<[string, number | undefined, number | undefined]> = TOY_DENSE.map((f) => [f, stored[f][i], reproduced[f][i]]);
    pairs.push(['testLoss', storedTest.get(step), reproducedTest.get(step)]);
    for (const [metric, a, b] of pairs) {
      if (a === undefined && b === undefined) continue;
      if (a === undefined || b === undefined) return { kind: 'differs', step, metric, stored: a ?? null, reproduced: b ?? null };
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) identical = false;
      const rel = relative(a, b);
      if (rel > tolerance) return { kind: 'differs', step, metric, stored: a, reproduced: b };
      if (rel > worst.rel) worst = { rel, step, metric };
    }
  }
  if (stored.step.length !== reproduced.step.length) {
    const step = (stored.step.length > n ? stored.step[n] : reproduced.step[n]) ?? n + 1;
    return { kind: 'differs', step, metric: 'length', stored: stored.step.length, reproduced: reproduced.step.length };
  }
  if (identical) return { kind: 'bit-identical', steps: n };
  return { kind: 'within-tolerance', steps: n, worstRelative: worst.rel, worstStep: worst.step, worstMetric: worst.metric };
}

/** The badge's text. */
export function verdictText(v: Verdict): string {
  if (v.kind === 'bit-identical') return `bit-identical (${v.steps} steps)`;
  if (v.kind === 'within-tolerance') return `within float32 tolerance (worst relative difference ${v.worstRelative.toExponential(1)}, ${v.worstMetric} at step ${v.worstStep})`;
  if (v.metric === 'length') return `differs from step ${v.step} (stored ${v.stored} steps, reproduced ${v.reproduced})`;
  return `differs at step ${v.step} (${v.metric}: stored ${v.stored}, reproduced ${v.reproduced})`;
}
