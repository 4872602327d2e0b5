// Per-step GPT-2 metrics: the batch's loss and the held-out loss are shared fields of the metrics slot,
// and each adapted (layer, module) is a group with its own norms (run/metricsLayout.ts). Norms are
// coordinate RMS (lora-math.md section 1), measured in the step's forward, before its update.
import { MetricsLayout, present, type Slot } from '../run/metricsLayout.ts';

export const ADAPTER_FIELDS = ['zA', 'zB', 'normA', 'normB', 'normSBA'] as const;
export type AdapterField = (typeof ADAPTER_FIELDS)[number];
export type Gpt2SharedField = 'loss' | 'evalLoss' | 'lrScale' | 'gradNorm';

export const gpt2Layout = (adapters: number) => new MetricsLayout<Gpt2SharedField, AdapterField>(['step', 'loss', 'evalLoss', 'lrScale', 'gradNorm'], ADAPTER_FIELDS, adapters);

export interface Gpt2StepMetrics {
  step: number;
  /** Mean next-token cross-entropy of the step's batch (nats), before the update. */
  loss: number;
  perplexity: number;
  /** Held-out loss, on evaluation steps only. */
  evalLoss?: number;
  evalPerplexity?: number;
  /** This step's learning-rate factor from the schedule (lr of A = eta x lrScale, of B = lambda eta x lrScale). */
  lrScale: number;
  /** Global L2 norm of the LoRA gradients before clipping (when clipping is on). */
  gradNorm?: number;
  /** Coordinate RMS per adapter, indexed like Gpt2Trainer.adapters. */
  zA: number[];
  zB: number[];
  normA: number[];
  normB: number[];
  normSBA: number[];
}

export function gpt2Row(slot: Slot<Gpt2SharedField, AdapterField>): Gpt2StepMetrics {
  const loss = slot.shared.loss;
  const row: Gpt2StepMetrics = { step: slot.step, loss, perplexity: Math.exp(loss), lrScale: slot.shared.lrScale, zA: [], zB: [], normA: [], normB: [], normSBA: [] };
  const gn = present(slot.shared.gradNorm);
  if (gn !== undefined) row.gradNorm = gn;
  const ev = present(slot.shared.evalLoss);
  if (ev !== undefined) {
    row.evalLoss = ev;
    row.evalPerplexity = Math.exp(ev);
  }
  for (const g of slot.groups) for (const f of ADAPTER_FIELDS) row[f].push(g[f]);
  return row;
}
