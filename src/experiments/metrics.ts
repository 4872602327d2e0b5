// The toy's per-step metrics: the slot layout of its GPU ring and the ring itself (read back
// asynchronously by src/gpu/readbackRing.ts).
import { storageBuffer } from '../gpu/buffers.ts';
import { ReadbackRing } from '../gpu/readbackRing.ts';

export const METRIC_FIELDS = ['step', 'loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss'] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];
export const FIELD: Record<MetricField, number> = Object.fromEntries(METRIC_FIELDS.map((f, i) => [f, i])) as Record<MetricField, number>;
export const STRIDE = METRIC_FIELDS.length;

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

/** The toy trainer's ring: one slot of STRIDE floats per step. */
export class MetricsRing extends ReadbackRing<StepMetrics[]> {
  constructor(device: GPUDevice, ring: number, deliver: (rows: StepMetrics[]) => void, stagingCount = 4) {
    super(device, storageBuffer(device, 'metrics.ring', ring * STRIDE), ring, STRIDE, (data, from, to) => parseRows(data, ring, from, to), deliver, stagingCount);
  }

  override destroy(): void {
    super.destroy();
    this.buffer.destroy();
  }
}

/** Rows for steps from..to (inclusive), in step order, from a copy of the ring. */
export function parseRows(data: Float32Array, ring: number, from: number, to: number): StepMetrics[] {
  const rows: StepMetrics[] = [];
  for (let step = from; step <= to; step++) {
    const o = ((step - 1) % ring) * STRIDE;
    if (data[o + FIELD.step] !== step) continue; // overwritten (cannot happen when copies keep up) or not yet written
    const row: StepMetrics = {
      step,
      loss: data[o + FIELD.loss],
      zA: data[o + FIELD.zA],
      zB: data[o + FIELD.zB],
      normA: data[o + FIELD.normA],
      normB: data[o + FIELD.normB],
      normSBA: data[o + FIELD.normSBA],
    };
    const t = data[o + FIELD.testLoss];
    if (!Number.isNaN(t)) row.testLoss = t;
    rows.push(row);
  }
  return rows;
}
