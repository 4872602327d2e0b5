// The WGSL GPT-2 path end to end against the float64 reference on the tiny GPT-2 (d = 32, 2 layers,
// 4 heads, vocab 320) at awkward sizes (B = 2, T = 13): logits, per-row losses, ||Z_A||/||Z_B|| and every
// LoRA gradient, with all four targets adapted, with a subset (the backward stops at the lowest adapted
// module), and with the vocabulary split into chunks (100 + 100 + 100 + 20 rows: the path a 128 MiB
// binding limit forces on GPT-2's 50257-token table).
//
// The comparison and its tolerances are src/selfcheck/gpt2Step.ts's checkGpt2Step (the self-check's own):
// also the step's metrics and the adapters after AdamW's first step.
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import type { Gpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import type { LoraTarget } from '../../src/models/gpt2.ts';
import { checkGpt2Step } from '../../src/selfcheck/gpt2Step.ts';
import { tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testGpu();
});

const w = tinyWeights();

async function compare(run: Gpt2RunConfig, maxVocabChunk?: number) {
  const { result, plan } = await checkGpt2Step(ctx, w, run, { maxVocabChunk });
  expect(result.pass, result.detail).toBe(true);
  return plan;
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
