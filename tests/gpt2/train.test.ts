// Training the tiny GPT-2 in Node through the session API: AdamW steps lower the loss; the zero start
// (Init[A]: the base model's logits, ||Z_B|| = 0, A untouched by the first step, B moved by lambda*eta);
// greedy generation against the float64 reference; the memory plan against what is really allocated;
// configurations that cannot fit refused before allocation, with the reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu, testHost } from '../gpu.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { checkGpt2Run, Gpt2FitError, Gpt2Session, splitTokens, type Gpt2StepMetrics, type StatusEvent } from '../../src/experiments/gpt2/session.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import { planGpt2, planProblems } from '../../src/experiments/gpt2/plan.ts';
import { GPT2_MODELS } from '../../src/models/gpt2.ts';
import { gpt2Reference } from '../../src/reference/gpt2Reference.ts';
import { patternStream, randomAdapters, randomBatch, refAdapters, relErr, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testGpu();
});

const w = tinyWeights();
const V = w.config.vocab_size;

describe('GPT-2 LoRA training on the tiny model', () => {
  it('AdamW steps lower the loss (all four targets, Init[A]); metrics arrive for every step, eval loss every k', async () => {
    const run = tinyRun({ steps: 12, evalEvery: 4, eta: 1e-2, lambda: 4 });
    const session = await Gpt2Session.create(testHost(), w, run, splitTokens(patternStream(V, 600), 0.25));
    const rows: Gpt2StepMetrics[] = [];
    const statuses: StatusEvent[] = [];
    session.subscribe({ onMetrics: (r) => rows.push(...r), onStatus: (e) => statuses.push(e) });
    await session.stepOnce();
    expect(session.state.status).toBe('paused');
    const end = await session.runToEnd();
    expect(end.status).toBe('done');
    expect(statuses.map((s) => s.status)).toEqual(['paused', 'running', 'done']);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(rows.filter((r) => r.evalLoss !== undefined).map((r) => r.step)).toEqual([1, 4, 8, 12]);
    const first = rows[0];
    const last = rows[rows.length - 1];
    expect(first.zB.every((z) => z === 0)).toBe(true); // Init[A]: B = 0
    expect(last.zB.every((z) => z > 0)).toBe(true);
    expect(last.loss).toBeLessThan(0.85 * first.loss);
    expect(last.evalLoss!).toBeLessThan(0.9 * first.evalLoss!);
    expect(last.perplexity).toBeCloseTo(Math.exp(last.loss), 3);
    expect(rows.every((r) => r.zA.length === session.adapters.length)).toBe(true);
    expect(session.stats.secondsPerStep).toBeGreaterThan(0);
    await session.dispose();
  });

  for (const init of ['A', 'B'] as const) {
    it(`Init[${init}] starts at the base model; the first step moves only ${init === 'A' ? 'B' : 'A'}, by its rate`, async () => {
      const run = tinyRun({ init, eta: 1e-3, lambda: 8, steps: 1 });
      const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 100) });
      const batch = randomBatch(V, run.batch, run.seq);
      const base = gpt2Reference(w, [], batch.tokens, batch.targets, run.batch, run.seq);
      expect(relErr((await trainer.evaluate(batch)).logits, base.logits)).toBeLessThan(1e-4);
      const before = await trainer.readAdapters();
      const grads = await trainer.gradients(batch);
      await trainer.step({ batch });
      const after = await trainer.readAdapters();
      const frozen = init === 'A' ? 'A' : 'B';
      const moved = init === 'A' ? 'B' : 'A';
      const lr = init === 'A' ? run.lambda * run.eta : run.eta;
      before.forEach((b, k) => {
        expect(Array.from(after[k][frozen])).toEqual(Array.from(b[frozen]));
        expect(Array.from(b[moved]).every((v) => v === 0)).toBe(true);
        // Adam's first step from 0 is -lr * g / (|g| + eps) (lora-math.md section 3, E2).
        const g = grads[k][moved === 'A' ? 'dA' : 'dB'];
        expect(g.some((v) => v !== 0)).toBe(true);
        after[k][moved].forEach((v, i) => {
          const want = (-lr * g[i]) / (Math.abs(g[i]) + run.eps);
          expect(Math.abs(v - want), `${moved}[${i}]`).toBeLessThanOrEqual(1e-5 * lr);
        });
      });
      trainer.destroy();
    });
  }

  it('greedy generation continues a prompt exactly as the float64 reference does (adapters included)', async () => {
    const run = tinyRun({ seq: 9 });
    const adapters = randomAdapters(w, run);
    const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 100) }, { adapters });
    const prompt = [5, 17, 300, 2, 99];
    const got = await trainer.generate(prompt, { maxNewTokens: 6 });
    const context = [...prompt];
    for (let i = 0; i < 6; i++) {
      const ref = gpt2Reference(w, refAdapters(adapters, run), context, context.map(() => 0), 1, context.length);
      const last = ref.logits.subarray((context.length - 1) * V, context.length * V);
      context.push(last.indexOf(Math.max(...last)));
    }
    expect(got.ids).toEqual(context.slice(prompt.length));
    expect(got.tokensPerSecond).toBeGreaterThan(0);
    const sampled = await trainer.generate(prompt, { maxNewTokens: 4, temperature: 1, topK: 10, seed: 3 });
    expect(sampled.ids).toEqual((await trainer.generate(prompt, { maxNewTokens: 4, temperature: 1, topK: 10, seed: 3 })).ids);
    trainer.destroy();
  });

  it('allocates what the plan says (within the uniforms and split-K partials)', async () => {
    const run = tinyRun();
    const trainer = await Gpt2Trainer.create(ctx, w, run, splitTokens(patternStream(V, 200), 0.5), { maxVocabChunk: 128 });
    await trainer.generate([1, 2, 3], { maxNewTokens: 1 }); // the generation buffers are allocated on first use
    const planned = trainer.plan.total;
    const actual = trainer.memoryBytes;
    expect(actual).toBeGreaterThanOrEqual(planned);
    expect(actual - planned).toBeLessThan(0.05 * planned);
    trainer.destroy();
  });

  it('allocates what the plan says with every Trainer option on (dropout scratch, micro-batches, clipping)', async () => {
    const run = tinyRun({ dropout: 0.1, loraDropout: 0.1, gradAccum: 3, maxGradNorm: 1, schedule: 'cosine' });
    const trainer = await Gpt2Trainer.create(ctx, w, run, splitTokens(patternStream(V, 400), 0.5));
    await trainer.generate([1, 2, 3], { maxNewTokens: 1 });
    expect(trainer.plan.buffers.map((b) => b.name)).toEqual(expect.arrayContaining(['dropout.proj', 'dropout.loraX', 'step.tokens', 'clip.sums', 'gen.kvCache']));
    expect(trainer.memoryBytes).toBeGreaterThanOrEqual(trainer.plan.total);
    expect(trainer.memoryBytes - trainer.plan.total).toBeLessThan(0.05 * trainer.plan.total);
    trainer.destroy();
  });

  it('refuses a configuration over the memory budget before allocating, saying what it needs', async () => {
    const run = tinyRun();
    const { plan } = checkGpt2Run(ctx, w.config, run);
    const err = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 100) }, { memoryBudget: plan.total - 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(Gpt2FitError);
    expect(err.message).toMatch(/needs about [\d.]+ MiB of GPU memory \(weights [\d.]+ MiB, activations .*\) but the budget is [\d.]+ MiB/);
    expect((err as Gpt2FitError).plan.total).toBe(plan.total);
    await expect(Gpt2Trainer.create(ctx, w, tinyRun({ seq: 65 }), { train: patternStream(V, 100) })).rejects.toThrow(/exceeds the model's 64 positions/);
    await expect(Gpt2Trainer.create(ctx, w, run, { train: Uint32Array.of(1, 2, 3) })).rejects.toThrow(/at least 14/);
    const outside = patternStream(V, 100);
    outside[50] = V;
    await expect(Gpt2Trainer.create(ctx, w, run, { train: outside })).rejects.toThrow(/token 320 at position 50 is outside the model's vocabulary/);
  });
});

describe('GPT-2 memory plan at the real shapes (no GPU)', () => {
  const limits128 = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };
  const limits1G = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
  const shape = { seq: 128, batch: 4, rank: 8, targets: ['attn.c_attn'] as const };

  it('splits the 154 MB token table under a 128 MiB binding limit, keeps it whole under 1 GiB', () => {
    const small = planGpt2(GPT2_MODELS.gpt2.config, shape, limits128);
    expect(small.chunks.map((c) => c.rows)).toEqual([43690, 50257 - 43690]);
    expect(small.buffers.filter((b) => !b.chunked).every((b) => b.bytes <= 128 * 2 ** 20)).toBe(true);
    expect(planProblems(small, limits128, 4 * 2 ** 30)).toEqual([]);
    expect(planGpt2(GPT2_MODELS.gpt2.config, shape, limits1G).chunks).toHaveLength(1);
  });

  it('gives distilgpt2 and gpt2 totals that are weights + activations + logits + adapters', () => {
    for (const id of ['distilgpt2', 'gpt2'] as const) {
      const p = planGpt2(GPT2_MODELS[id].config, shape, limits1G);
      expect(p.byGroup.weights).toBeGreaterThan(id === 'gpt2' ? 497e6 : 327e6);
      expect(p.byGroup.logits).toBe(512 * 50257 * 4);
      expect(p.total).toBeLessThan(id === 'gpt2' ? 1.2 * 2 ** 30 : 0.9 * 2 ** 30);
    }
  });

  it('refuses an attention buffer larger than one binding, naming it', () => {
    const p = planGpt2(GPT2_MODELS.gpt2.config, { ...shape, seq: 1024, batch: 32 }, limits128);
    const problems = planProblems(p, limits128, 64 * 2 ** 30);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/h\d+\.probs needs 1536 MiB but this GPU binds at most 128 MiB per buffer; lower the batch \(32\) or sequence length \(1024\)/);
    expect(checkGpt2Run({ limits: { ...limits128 } as GPUSupportedLimits }, GPT2_MODELS.gpt2.config, { ...tinyRun(), seq: 1024, batch: 32, targets: ['attn.c_attn'] }, { memoryBudget: 64 * 2 ** 30 }).problems).toEqual(problems);
  });
});
