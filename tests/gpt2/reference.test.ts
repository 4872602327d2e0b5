// The float64 reference checked against itself: its analytic LoRA gradients against central finite
// differences of its own loss, for every adapter of the tiny GPT-2. This is what makes it a reference
// for the GPU path (a shared mistake in the chain rule would otherwise pass unnoticed).
import { describe, expect, it } from 'vitest';
import { gpt2Reference, type RefDropout } from '../../src/reference/gpt2Reference.ts';
import { FixtureRng } from '../../src/reference/tinyGpt2.ts';
import { randomAdapters, randomBatch, refAdapters, tinyRun, tinyWeights } from './fixture.ts';

describe('GPT-2 float64 reference', () => {
  // In training mode the masks are fixed for a given step, so the loss is still a smooth function of A and B.
  const dropout: RefDropout = { rates: { embd: 0.1, attn: 0.2, resid: 0.15, lora: 0.3 }, seed: 4, step: 2, micro: 1 };
  for (const mode of ['evaluation', 'training (dropout)'] as const) it(`analytic dL/dA and dL/dB match central differences for every adapter (4 targets x 2 layers), ${mode}`, () => {
    const w = tinyWeights();
    const run = tinyRun({ seq: 5, batch: 2 });
    const adapters = refAdapters(randomAdapters(w, run), run);
    const { tokens, targets } = randomBatch(w.config.vocab_size, run.batch, run.seq);
    const drop = mode === 'evaluation' ? undefined : dropout;
    const base = gpt2Reference(w, adapters, tokens, targets, run.batch, run.seq, { grads: true, dropout: drop });
    if (drop) expect(base.loss).not.toBe(gpt2Reference(w, adapters, tokens, targets, run.batch, run.seq).loss);
    const rng = new FixtureRng(21);
    const h = 1e-6;
    let worst = 0;
    adapters.forEach((a, k) => {
      for (const which of ['A', 'B'] as const) {
        const t = Float64Array.from(a[which]);
        const grad = base.grads![k][which === 'A' ? 'dA' : 'dB'];
        const scale = Math.max(...Array.from(grad, Math.abs));
        expect(scale, `${a.layer}.${a.target}.d${which} is all zero`).toBeGreaterThan(0);
        for (let probe = 0; probe < 4; probe++) {
          const i = rng.u32() % t.length;
          const at = (v: number) => {
            t[i] = v;
            const perturbed = adapters.map((b, j) => (j === k ? { ...b, [which]: t } : b));
            return gpt2Reference(w, perturbed, tokens, targets, run.batch, run.seq, { dropout: drop }).loss;
          };
          const x = a[which][i];
          const fd = (at(x + h) - at(x - h)) / (2 * h);
          t[i] = x;
          worst = Math.max(worst, Math.abs(fd - grad[i]) / scale);
        }
      }
    });
    expect(worst).toBeLessThan(1e-6);
  });
});
