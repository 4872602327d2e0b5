// Per-step GPT-2 metrics in a GPU ring, read back asynchronously (src/gpu/readbackRing.ts), with a stride that depends on the run, since every adapted (layer,
// module) has its own norms. A slot is
//   [step, loss, evalLoss, then per adapter k: zA, zB, normA, normB, normSBA at 3 + 5k ..]
// written by the kernels (train_state.wgsl's advance sets the step and NaN-fills the rest, reduce.wgsl's
// finalize writes each value). Norms are coordinate RMS (lora-math.md section 1), measured in the
// step's forward, before its update.
import { storageBuffer } from '../../gpu/buffers.ts';
import { ReadbackRing } from '../../gpu/readbackRing.ts';

export const BASE_FIELDS = 3;
export const ADAPTER_FIELDS = ['zA', 'zB', 'normA', 'normB', 'normSBA'] as const;
export type AdapterField = (typeof ADAPTER_FIELDS)[number];

export const gpt2Stride = (adapters: number) => BASE_FIELDS + ADAPTER_FIELDS.length * adapters;
export const adapterField = (k: number, f: AdapterField) => BASE_FIELDS + ADAPTER_FIELDS.length * k + ADAPTER_FIELDS.indexOf(f);
export const LOSS_FIELD = 1;
export const EVAL_FIELD = 2;

export interface Gpt2StepMetrics {
  step: number;
  /** Mean next-token cross-entropy of the step's batch (nats), before the update. */
  loss: number;
  perplexity: number;
  /** Held-out loss, on evaluation steps only. */
  evalLoss?: number;
  evalPerplexity?: number;
  /** Coordinate RMS per adapter, indexed like Gpt2Trainer.adapters. */
  zA: number[];
  zB: number[];
  normA: number[];
  normB: number[];
  normSBA: number[];
}

export function parseGpt2Rows(data: Float32Array, ring: number, stride: number, adapters: number, from: number, to: number): Gpt2StepMetrics[] {
  const rows: Gpt2StepMetrics[] = [];
  for (let step = from; step <= to; step++) {
    const o = ((step - 1) % ring) * stride;
    if (data[o] !== step) continue;
    const loss = data[o + LOSS_FIELD];
    const row: Gpt2StepMetrics = { step, loss, perplexity: Math.exp(loss), zA: [], zB: [], normA: [], normB: [], normSBA: [] };
    const ev = data[o + EVAL_FIELD];
    if (!Number.isNaN(ev)) {
      row.evalLoss = ev;
      row.evalPerplexity = Math.exp(ev);
    }
    for (let k = 0; k < adapters; k++) for (const f of ADAPTER_FIELDS) row[f].push(data[o + adapterField(k, f)]);
    rows.push(row);
  }
  return rows;
}

/** GPT-2's ring: the stride depends on how many (layer, module) adapters the run has. */
export class Gpt2MetricsRing extends ReadbackRing<Gpt2StepMetrics[]> {
  constructor(device: GPUDevice, ring: number, stride: number, adapters: number, deliver: (rows: Gpt2StepMetrics[]) => void, stagingCount = 4) {
    super(device, storageBuffer(device, 'gpt2.metrics', ring * stride), ring, stride, (data, from, to) => parseGpt2Rows(data, ring, stride, adapters, from, to), deliver, stagingCount);
  }
}
