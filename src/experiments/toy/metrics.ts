// The toy's per-step metrics: one group in the metrics slot (run/metricsLayout.ts).
import { MetricsLayout, present, type Slot } from '../run/metricsLayout.ts';

/** One run's fields, shared with the batched sweep trainer (which adds `alive`). */
export const RUN_METRICS = ['loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss'] as const;
export type ToyMetric = (typeof RUN_METRICS)[number];

export const TOY_LAYOUT = new MetricsLayout<never, ToyMetric>(['step'], RUN_METRICS, 1);

export interface StepMetrics {
  step: number;
  loss: number;
  zA: number;
  zB: number;
  normA: number;
  normB: number;
  normSBA: number;
  /** Present on evaluation steps only. */
  testLoss?: number;
}

/** One run's metrics from a group of a parsed slot. */
export function stepMetrics(step: number, g: Record<ToyMetric, number>): StepMetrics {
  const row: StepMetrics = { step, loss: g.loss, zA: g.zA, zB: g.zB, normA: g.normA, normB: g.normB, normSBA: g.normSBA };
  const t = present(g.testLoss);
  if (t !== undefined) row.testLoss = t;
  return row;
}

export const toyRow = (slot: Slot<never, ToyMetric>): StepMetrics => stepMetrics(slot.step, slot.groups[0]);

/** Columns of a metrics table (CSV export). */
export const METRIC_FIELDS = ['step', ...RUN_METRICS] as const;
