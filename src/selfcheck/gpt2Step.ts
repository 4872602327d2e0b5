// One GPT-2 LoRA step of the WGSL path (experiments/gpt2/) against the float64 reference
// (reference/gpt2Reference.ts) on the tiny GPT-2 at awkward sizes: logits, per-row losses and every
// adapter's dA, dB before the step; the step's metrics (loss, perplexity, ||Z_A||, ||Z_B||); the adapters
// after it (AdamW's first step from the gradients just checked: A at eta, B at lambda * eta).
//
// Tolerance: fp32 through ~20 dependent stages (LayerNorm, dot products of length <= 128, softmax over
// 320) gives errors of about 5e-7 (logits) and 1.5e-6 (gradients, through the whole backward) of each
// tensor's scale on the tiny model; 2e-5 and 1e-4 leave 40-60x headroom while an indexing bug (an O(1)
// error) cannot pass. Adam's first step moves each entry by lr g / (|g| + eps) after the decay: within
// 8u (|theta| + lr) of that, from the GPU's own gradient (an entry whose gradient is near zero may
// legitimately take either sign).
import type { GpuContext } from '../gpu/device.ts';
import type { Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../experiments/gpt2/metrics.ts';
import type { Gpt2Plan } from '../experiments/gpt2/plan.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import type { Gpt2Weights } from '../models/gpt2.ts';
import { gpt2Reference } from '../reference/gpt2Reference.ts';
import { Compare, type CheckResult } from './compare.ts';
import { patternStream, randomAdapters, randomBatch, refAdapters } from './gpt2Fixture.ts';
import { U } from './harness.ts';

export async function checkGpt2Step(ctx: GpuContext, w: Gpt2Weights, run: Gpt2RunConfig, opts: { maxVocabChunk?: number } = {}): Promise<{ result: CheckResult; plan: Gpt2Plan }> {
  const V = w.config.vocab_size;
  const adapters = randomAdapters(w, run);
  const metrics: Gpt2StepMetrics[] = [];
  const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 400) }, { adapters, maxVocabChunk: opts.maxVocabChunk });
  trainer.onRows = (r) => metrics.push(...r);
  try {
    const batch = randomBatch(V, run.batch, run.seq);
    const ref = gpt2Reference(w, refAdapters(adapters, run), batch.tokens, batch.targets, run.batch, run.seq, { grads: true });
    const cmp = new Compare();
    const fwd = await trainer.evaluate(batch);
    cmp.tensor('logits', fwd.logits, ref.logits, 2e-5).tensor('per-row losses', fwd.losses, ref.losses, 2e-5);
    const grads = await trainer.gradients(batch);
    cmp.require(`gradients for ${grads.map((g) => g.label).join(', ')}, adapters ${trainer.adapters.map((a) => a.label).join(', ')}`, grads.length === ref.grads!.length && grads.every((g, k) => g.label === trainer.adapters[k].label));
    grads.forEach((g, k) => cmp.tensor(`${g.label} dA`, g.dA, ref.grads![k].dA, 1e-4).tensor(`${g.label} dB`, g.dB, ref.grads![k].dB, 1e-4));

    // One real step on the same batch: its metrics are measured before the update.
    await trainer.step({ batch, flushMetrics: true });
    await trainer.flush();
    cmp.require(`one metrics row after one step (got ${metrics.length})`, metrics.length === 1);
    const m = metrics[0];
    if (m) {
      cmp.scalar('loss', m.loss, ref.loss, 5e-5).close('perplexity', m.perplexity, Math.exp(ref.loss), 1e-5);
      ref.zA.forEach((z, k) => cmp.close(`||Z_A|| ${k}`, m.zA[k], z, 1e-4).close(`||Z_B|| ${k}`, m.zB[k], ref.zB[k], 1e-3));
    }
    const after = await trainer.readAdapters();
    grads.forEach((g, k) => {
      for (const [which, grad, lr] of [['A', g.dA, run.eta], ['B', g.dB, run.lambda * run.eta]] as const) {
        const before = adapters[k][which];
        const decay = 1 - Math.fround(lr) * Math.fround(run.wd);
        const want = Array.from(before, (x, i) => x * decay - (Math.fround(lr) * grad[i]) / (Math.abs(grad[i]) + Math.fround(run.eps)));
        cmp.bounded(`${g.label} ${which} after the step`, after[k][which], want, Array.from(before, (x) => 8 * U * (Math.abs(x) + lr)), 8 * U);
      }
    });
    return { result: cmp.result(), plan: trainer.plan };
  } finally {
    trainer.destroy();
  }
}
