// GPT-2 LoRA training steps with the Hugging Face Trainer options of the engine (experiments/gpt2/
// trainer.ts: dropout from the counter-based stream, clipping by global norm, a learning-rate schedule,
// gradient accumulation) against the same steps in float64 (reference/gpt2Reference.ts
// gpt2TrainReference, its masks from reference/dropoutMask.ts), on the tiny GPT-2: every step's loss,
// schedule factor and gradient norm, and every adapter after the last step.
//
// Tolerance (the plain step's, gpt2Step.ts, through a few steps): the loss to 2e-6 relative, the
// gradient norm to 2e-5 (gradients are good to ~1.5e-6 of their scale), the schedule factor to 1e-6
// (train_state.wgsl's own bound), the adapters to 1e-4 of each tensor's scale. Runs that check this
// take Adam's eps large next to the gradients, so that each update follows its gradient proportionally
// (a near-zero gradient whose fp32 sign differs from float64's would otherwise move an entry by a whole lr).
import type { GpuContext } from '../gpu/device.ts';
import { dropoutRates, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import type { TokenBatch } from '../experiments/gpt2/data.ts';
import type { Gpt2StepMetrics } from '../experiments/gpt2/metrics.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import type { Gpt2Weights } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import { gpt2TrainReference } from '../reference/gpt2Reference.ts';
import { Compare, type CheckResult } from './compare.ts';
import { patternStream, randomAdapters, refAdapters } from './gpt2Fixture.ts';

export interface Gpt2Trajectory {
  /** One metrics row per step. */
  rows: Gpt2StepMetrics[];
  /** The adapters after the last step, and those it started from. */
  after: LoraWeights[];
  adapters: readonly LoraWeights[];
}

/** GPU steps on the given batches (each step: its k micro-batches of B x T, in order), from `adapters`. */
export async function trainTinyGpt2(ctx: GpuContext, w: Gpt2Weights, run: Gpt2RunConfig, steps: readonly TokenBatch[][], adapters: readonly LoraWeights[] = randomAdapters(w, run)): Promise<Gpt2Trajectory> {
  const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(w.config.vocab_size, 200) }, { adapters });
  const rows: Gpt2StepMetrics[] = [];
  trainer.onRows = (r) => rows.push(...r);
  try {
    for (const micro of steps) {
      const cat = (f: 'tokens' | 'targets') => Uint32Array.from(micro.flatMap((m) => Array.from(m[f])));
      await trainer.step({ batch: { tokens: cat('tokens'), targets: cat('targets') } });
    }
    await trainer.flush();
    return { rows, after: await trainer.readAdapters(), adapters };
  } finally {
    trainer.destroy();
  }
}

/**
 * `steps` training steps of `run` (dropout in training mode when its rates say so) against
 * gpt2TrainReference from the same adapters. `clipping: 'active'` also requires the gradient norm to
 * exceed maxGradNorm at every step, so that the clipped path is what was compared.
 */
export async function checkGpt2Training(ctx: GpuContext, w: Gpt2Weights, run: Gpt2RunConfig, steps: readonly TokenBatch[][], opts: { adapters?: readonly LoraWeights[]; clipping?: 'active' } = {}): Promise<{ result: CheckResult; trajectory: Gpt2Trajectory }> {
  const got = await trainTinyGpt2(ctx, w, run, steps, opts.adapters);
  const rates = dropoutRates(run, w.config);
  const dropping = rates.embd > 0 || rates.attn > 0 || rates.resid > 0 || rates.lora > 0;
  const ref = gpt2TrainReference(w, refAdapters(got.adapters, run), steps, run.batch, run.seq, { ...run, dropout: dropping ? { rates, seed: run.seed } : undefined });
  const cmp = new Compare();
  cmp.require(`one metrics row per step (steps ${got.rows.map((r) => r.step).join(', ')})`, got.rows.length === steps.length && got.rows.every((r, i) => r.step === i + 1));
  ref.steps.forEach((s, i) => {
    const row = got.rows[i];
    if (!row) return;
    cmp.close(`step ${i + 1} loss`, row.loss, s.loss, 2e-6).scalar(`step ${i + 1} lr factor`, row.lrScale, s.lrScale, 1e-6);
    if (run.maxGradNorm > 0) cmp.close(`step ${i + 1} gradient norm`, row.gradNorm ?? NaN, s.gradNorm, 2e-5);
    else cmp.require(`step ${i + 1}: no gradient norm without clipping`, row.gradNorm === undefined);
    if (opts.clipping === 'active') cmp.require(`step ${i + 1}: clipping active (norm ${s.gradNorm.toPrecision(3)} > ${run.maxGradNorm})`, s.gradNorm > run.maxGradNorm);
  });
  ref.adapters.forEach((a, k) => {
    const at = got.after[k];
    cmp.tensor(`${a.layer}.${a.target} A after ${steps.length} steps`, at.A, a.A, 1e-4).tensor(`${a.layer}.${a.target} B after ${steps.length} steps`, at.B, a.B, 1e-4);
  });
  return { result: cmp.result(), trajectory: got };
}
