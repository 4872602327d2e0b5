// The Hugging Face training options of the GPT-2 engine against float64 (the checks and their tolerances
// are the self-check's own: src/selfcheck/kernels/dropout.ts, kernels/transformer.ts, gpt2Train.ts):
//   dropout.wgsl / counter_rng.wgsl: the masks equal the TypeScript mirror bit for bit, their rate is p
//     within 1% on 10^6 draws, masks of other steps, sites, micro-batches and seeds are independent;
//   attention dropout (attention.wgsl *_drop) forward and backward at awkward sizes;
//   whole training steps with dropout (HF's three + PEFT's lora_dropout), clipping by global norm, the
//     linear and cosine schedules with warmup, and gradient accumulation, against gpt2TrainReference;
//   gradient accumulation k against one batch of k times the size; dropout deterministic per seed;
//   the sequential batch order.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device.ts';
import { dropThreshold } from '../../src/gpu/kernels/dropout.ts';
import { GpuArena } from '../../src/gpu/arena.ts';
import { BatchSampler } from '../../src/experiments/gpt2/data.ts';
import type { Gpt2StepMetrics } from '../../src/experiments/gpt2/metrics.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import { testGpu } from '../gpu.ts';
import type { CheckResult } from '../../src/selfcheck/compare.ts';
import { microBatches } from '../../src/selfcheck/gpt2Fixture.ts';
import { checkGpt2Training, trainTinyGpt2 } from '../../src/selfcheck/gpt2Train.ts';
import { checkEnv, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { checkDropout } from '../../src/selfcheck/kernels/dropout.ts';
import { checkAttention } from '../../src/selfcheck/kernels/transformer.ts';
import { dropoutMask, pcg4d } from '../../src/reference/dropoutMask.ts';
import { hfLrFactor } from '../../src/reference/gpt2Reference.ts';
import { patternStream, relErr, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
let env: CheckEnv;
beforeAll(async () => {
  ctx = await testGpu();
  env = checkEnv(new GpuArena(ctx.device, 'options-test'));
});

const expectPass = (r: CheckResult) => expect(r.pass, r.detail).toBe(true);

describe('dropout masks (counter_rng.wgsl, dropout.wgsl)', () => {
  for (const p of [0.1, 0.5]) {
    it(`p = ${p}: drop, drop_add, drop_acc with the TypeScript mirror's mask bit for bit; its rate is p within 1% on 10^6 draws`, async () => {
      // 10^6 draws, not a multiple of the workgroup.
      expectPass(await checkDropout(env, { p, count: 1_000_003, site: 77, seed: 12345, step: 9, micro: 2, rateBound: 0.01 * p }));
    });
  }

  it('masks of another step, site, micro-batch or seed are independent (agreement p^2 + (1-p)^2)', () => {
    const n = 200_000;
    const p = 0.3;
    const base = dropoutMask({ p, site: 5, seed: 1, step: 3 }, n)!;
    for (const other of [{ step: 4 }, { site: 6 }, { micro: 1 }, { seed: 2 }]) {
      const m = dropoutMask({ p, site: 5, seed: 1, step: 3, ...other }, n)!;
      let agree = 0;
      for (let i = 0; i < n; i++) if ((m[i] === 0) === (base[i] === 0)) agree++;
      expect(Math.abs(agree / n - (p * p + (1 - p) * (1 - p))), JSON.stringify(other)).toBeLessThan(0.005);
    }
    // Neighbouring elements are independent too: P(both dropped) = p^2.
    let both = 0;
    for (let i = 0; i + 1 < n; i++) if (base[i] === 0 && base[i + 1] === 0) both++;
    expect(Math.abs(both / (n - 1) - p * p)).toBeLessThan(0.005);
    expect(pcg4d(0, 0, 0, 0)).toEqual(pcg4d(0, 0, 0, 0));
    expect(dropThreshold(0)).toBe(0);
  });

  it('37 elements at another step, micro-batch 0', async () => {
    expectPass(await checkDropout(env, { p: 0.4, count: 37, site: 3, seed: 8, step: 2, rateBound: 0.4 }));
  });
});

describe('attention dropout (attention.wgsl forward_values_drop, backward_*_drop)', () => {
  for (const shape of [[2, 13, 3, 5], [1, 1, 2, 4], [3, 6, 1, 7]] as const) {
    it(`B ${shape[0]}, T ${shape[1]}, H ${shape[2]}, D ${shape[3]}: out and dqkv with the mask, P undropped`, async () => {
      expectPass(await checkAttention(env, shape, { p: 0.35, site: 9, seed: 5, step: 6 }));
    });
  }
});

describe('training steps against the float64 reference', () => {
  const w = tinyWeights();
  const V = w.config.vocab_size;
  const batches = (count: number, k: number, B: number, T: number, seed = 1) => microBatches(V, count, k, B, T, seed);

  it('dropout on (embd, attn, resid and lora_dropout) matches the reference masks and gradients', async () => {
    const run = tinyRun({ dropout: 0.2, loraDropout: 0.3, steps: 3, eta: 1e-3, lambda: 4, eps: 1e-2, seed: 7 });
    const steps = batches(3, 1, run.batch, run.seq);
    const { result, trajectory } = await checkGpt2Training(ctx, w, run, steps);
    expectPass(result);
    // Dropout changes the trajectory: the same run without it ends elsewhere.
    const plain = await trainTinyGpt2(ctx, w, { ...run, dropout: 0, loraDropout: 0 }, steps, trajectory.adapters);
    expect(relErr(plain.after[0].B, trajectory.after[0].B)).toBeGreaterThan(1e-3);
  });

  it('clipping by global norm (active at every step) and the linear schedule with warmup', async () => {
    const run = tinyRun({ maxGradNorm: 0.05, schedule: 'linear', warmup: 2, steps: 5, eta: 1e-2, lambda: 2, eps: 1e-2 });
    expectPass((await checkGpt2Training(ctx, w, run, batches(5, 1, run.batch, run.seq), { clipping: 'active' })).result);
    expect(Array.from({ length: 5 }, (_, t) => hfLrFactor(run, t))).toEqual([0, 0.5, 1, 2 / 3, 1 / 3]);
  });

  it('the cosine schedule with gradient accumulation (k = 3) and dropout', async () => {
    const run = tinyRun({ schedule: 'cosine', warmup: 1, steps: 4, gradAccum: 3, maxGradNorm: 1, dropout: 0.1, eta: 1e-2, eps: 1e-2, seed: 3 });
    expectPass((await checkGpt2Training(ctx, w, run, batches(4, 3, run.batch, run.seq, 40))).result);
  });

  it('HF schedule factors: warmup, then constant, linear to 0, cosine to 0', () => {
    const s = (schedule: 'constant' | 'linear' | 'cosine') => Array.from({ length: 6 }, (_, t) => hfLrFactor({ schedule, warmup: 2, steps: 6 }, t));
    expect(s('constant')).toEqual([0, 0.5, 1, 1, 1, 1]);
    expect(s('linear')).toEqual([0, 0.5, 1, 0.75, 0.5, 0.25]);
    expect(s('cosine').map((v) => +v.toFixed(6))).toEqual([0, 0.5, 1, 0.853553, 0.5, 0.146447]);
  });

  it('gradient accumulation over k micro-batches equals one batch of k times the size (float32 order)', async () => {
    const k = 3;
    const micro = batches(2, k, 2, 13, 70);
    const big = micro.map((m) => [{ tokens: Uint32Array.from(m.flatMap((b) => Array.from(b.tokens))), targets: Uint32Array.from(m.flatMap((b) => Array.from(b.targets))) }]);
    const base = tinyRun({ steps: 2, eta: 1e-2, eps: 1e-2, maxGradNorm: 0.5, schedule: 'linear' });
    const accumulated = await trainTinyGpt2(ctx, w, { ...base, batch: 2, gradAccum: k }, micro);
    const together = await trainTinyGpt2(ctx, w, { ...base, batch: 2 * k, gradAccum: 1 }, big, accumulated.adapters);
    accumulated.rows.forEach((r, i) => {
      expect(Math.abs(r.loss - together.rows[i].loss) / r.loss).toBeLessThan(1e-6);
      expect(Math.abs(r.gradNorm! - together.rows[i].gradNorm!) / r.gradNorm!).toBeLessThan(1e-5);
    });
    accumulated.after.forEach((a, q) => {
      expect(relErr(a.A, together.after[q].A)).toBeLessThan(1e-5);
      expect(relErr(a.B, together.after[q].B)).toBeLessThan(1e-5);
    });
  });

  it('dropout is deterministic per seed: the same seed gives the same run bit for bit, another seed another', async () => {
    const run = tinyRun({ dropout: 0.1, loraDropout: 0.1, steps: 3, gradAccum: 2 });
    const steps = batches(3, 2, run.batch, run.seq, 90);
    const a = await trainTinyGpt2(ctx, w, run, steps);
    const b = await trainTinyGpt2(ctx, w, run, steps, a.adapters);
    const c = await trainTinyGpt2(ctx, w, { ...run, seed: run.seed + 1 }, steps, a.adapters);
    expect(b.rows.map((r) => r.loss)).toEqual(a.rows.map((r) => r.loss));
    expect(Array.from(b.after[3].A)).toEqual(Array.from(a.after[3].A));
    expect(c.rows[0].loss).not.toBe(a.rows[0].loss);
  });
});

describe('batch order', () => {
  it('sequential: consecutive windows from the start, batch after batch, wrapping when the next does not fit', () => {
    const ids = Uint32Array.from({ length: 100 }, (_, i) => i);
    const s = new BatchSampler(ids, 3, 13, 1, 'sequential');
    const first = s.next();
    expect(first.starts).toEqual([0, 13, 26]);
    expect(Array.from(first.tokens.subarray(13, 26))).toEqual(Array.from({ length: 13 }, (_, i) => 13 + i));
    expect(Array.from(first.targets.subarray(0, 13))).toEqual(Array.from({ length: 13 }, (_, i) => 1 + i));
    expect(s.next().starts).toEqual([39, 52, 65]);
    expect(s.next().starts).toEqual([78, 0, 13]); // 91 + 14 > 100: back to the start
    const random = new BatchSampler(ids, 3, 13, 1, 'random').next().starts!;
    expect(random.every((x) => x >= 0 && x + 14 <= 100)).toBe(true);
    expect(random).not.toEqual([0, 13, 26]);
  });

  it('the trainer reports each step\'s windows, and sequential order trains on exactly those windows', async () => {
    const w = tinyWeights();
    const train = patternStream(w.config.vocab_size, 300, 29);
    const seen: Array<[number, readonly number[]]> = [];
    const run = tinyRun({ order: 'sequential', steps: 3, gradAccum: 2 });
    const trainer = await Gpt2Trainer.create(ctx, w, run, { train }, { onBatch: (step, starts) => seen.push([step, starts]) });
    const rows: Gpt2StepMetrics[] = [];
    trainer.onRows = (r) => rows.push(...r);
    for (let i = 0; i < 3; i++) await trainer.step();
    await trainer.flush();
    trainer.destroy();
    expect(seen).toEqual([[1, [0, 13, 26, 39]], [2, [52, 65, 78, 91]], [3, [104, 117, 130, 143]]]);
    // The same windows given explicitly reproduce the run.
    const again = await Gpt2Trainer.create(ctx, w, run, { train });
    const rows2: Gpt2StepMetrics[] = [];
    again.onRows = (r) => rows2.push(...r);
    for (const [, starts] of seen) {
      const T = run.seq;
      const tokens = Uint32Array.from(starts.flatMap((s) => Array.from(train.subarray(s, s + T))));
      const targets = Uint32Array.from(starts.flatMap((s) => Array.from(train.subarray(s + 1, s + T + 1))));
      await again.step({ batch: { tokens, targets } });
    }
    await again.flush();
    again.destroy();
    expect(rows2.map((r) => r.loss)).toEqual(rows.map((r) => r.loss));
  });
});
