// The WGSL GPT-2 path end to end against the float64 reference on the tiny GPT-2 (d = 32, 2 layers,
// 4 heads, vocab 320) at awkward sizes (B = 2, T = 13): logits, per-row losses, ||Z_A||/||Z_B|| and every
// LoRA gradient, with all four targets adapted, with a subset (the backward stops at the lowest adapted
// module), and with the vocabulary split into chunks (100 + 100 + 100 + 20 rows: the path a 128 MiB
// binding limit forces on GPT-2's 50257-token table).
//
// Tolerance: fp32 through ~20 dependent stages (LayerNorm, dot products of length <= 128, softmax over
// 320) gives errors of about 5e-7 (logits) and 1.5e-6 (gradients, through the whole backward) of each
// tensor's scale here; 2e-5 and 1e-4 leave 40-60x headroom while an indexing bug (an O(1) error) cannot pass.
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import type { Gpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../../src/experiments/gpt2/metrics.ts';
import type { LoraTarget } from '../../src/models/gpt2.ts';
import { gpt2Reference } from '../reference/gpt2Reference.ts';
import { patternStream, randomAdapters, randomBatch, refAdapters, relErr, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testGpu();
});

const w = tinyWeights();
const data = { train: patternStream(w.config.vocab_size, 400) };

async function compare(run: Gpt2RunConfig, maxVocabChunk?: number) {
  const adapters = randomAdapters(w, run);
  const metrics: Gpt2StepMetrics[] = [];
  const trainer = await Gpt2Trainer.create(ctx, w, run, data, { adapters, maxVocabChunk });
  trainer.onRows = (r) => metrics.push(...r);
  try {
    const batch = randomBatch(w.config.vocab_size, run.batch, run.seq);
    const ref = gpt2Reference(w, refAdapters(adapters, run), batch.tokens, batch.targets, run.batch, run.seq, { grads: true });
    const fwd = await trainer.evaluate(batch);
    expect(relErr(fwd.logits, ref.logits), 'logits').toBeLessThan(2e-5);
    expect(relErr(fwd.losses, ref.losses), 'per-row losses').toBeLessThan(2e-5);
    const grads = await trainer.gradients(batch);
    expect(grads.map((g) => g.label)).toEqual(trainer.adapters.map((a) => a.label));
    grads.forEach((g, k) => {
      expect(relErr(g.dA, ref.grads![k].dA), `${g.label} dA`).toBeLessThan(1e-4);
      expect(relErr(g.dB, ref.grads![k].dB), `${g.label} dB`).toBeLessThan(1e-4);
    });
    // One real step on the same batch: its metrics are measured before the update.
    await trainer.step({ batch, flushMetrics: true });
    await trainer.flush();
    expect(metrics).toHaveLength(1);
    const m = metrics[0];
    expect(m.loss).toBeCloseTo(ref.loss, 4);
    expect(Math.abs(m.perplexity / Math.exp(ref.loss) - 1)).toBeLessThan(1e-5);
    ref.zA.forEach((z, k) => {
      expect(Math.abs(m.zA[k] - z) / z, `zA ${k}`).toBeLessThan(1e-4);
      expect(Math.abs(m.zB[k] - ref.zB[k]) / ref.zB[k], `zB ${k}`).toBeLessThan(1e-3);
    });
    return trainer.plan;
  } finally {
    trainer.destroy();
  }
}

describe('GPT-2 WGSL path against the float64 reference (tiny model, B = 2, T = 13)', () => {
  it('all four targets: logits, losses, norms and every dA, dB', async () => {
    const plan = await compare(tinyRun());
    expect(plan.chunks).toHaveLength(1);
  });

  it('vocabulary in chunks of 100 rows (100 + 100 + 100 + 20): same logits, losses and gradients', async () => {
    const plan = await compare(tinyRun(), 100);
    expect(plan.chunks.map((c) => c.rows)).toEqual([100, 100, 100, 20]);
  });

  const subsets: LoraTarget[][] = [['attn.c_attn'], ['attn.c_proj'], ['mlp.c_fc'], ['mlp.c_proj', 'attn.c_proj']];
  for (const targets of subsets) {
    it(`targets ${targets.join(' + ')} only (backward stops at the lowest adapted module), rank 2, rsLoRA`, async () => {
      await compare(tinyRun({ targets, rank: 2, rslora: true, seq: 7, batch: 3 }));
    });
  }
});
