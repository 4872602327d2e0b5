// The Hugging Face training options of the GPT-2 engine against float64:
//   dropout.wgsl / counter_rng.wgsl: the masks equal the TypeScript mirror bit for bit, their rate is p
//     within 1% on 10^6 draws, masks of other steps, sites, micro-batches and seeds are independent;
//   attention dropout (attention.wgsl *_drop) forward and backward at awkward sizes;
//   whole training steps with dropout (HF's three + PEFT's lora_dropout), clipping by global norm, the
//     linear and cosine schedules with warmup, and gradient accumulation, against gpt2TrainReference;
//   gradient accumulation k against one batch of k times the size; dropout deterministic per seed;
//   the sequential batch order.
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuArena } from '../../src/gpu/arena.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { attentionBackward, attentionForward } from '../../src/gpu/kernels/attention.ts';
import { dropout, dropThreshold } from '../../src/gpu/kernels/dropout.ts';
import { dropoutRates, type Gpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import { BatchSampler, type TokenBatch } from '../../src/experiments/gpt2/data.ts';
import type { Gpt2StepMetrics } from '../../src/experiments/gpt2/metrics.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches } from '../../src/selfcheck/harness.ts';
import { dropoutMask, pcg4d } from '../../src/reference/dropoutMask.ts';
import { attBackward, attForward, gpt2TrainReference, hfLrFactor } from '../../src/reference/gpt2Reference.ts';
import { patternStream, randomAdapters, randomBatch, refAdapters, relErr, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
let arena: GpuArena;
beforeAll(async () => {
  ctx = await testGpu();
  arena = new GpuArena(ctx.device, 'options-test');
});

/** A training state whose step counter (and micro-batch index) is `step` (`micro`). */
const stateAt = (step: number, micro = 0) => arena.storage('state', Uint32Array.of(step, 1, 1, micro, 0, 0, 0, 0));

describe('dropout masks (counter_rng.wgsl, dropout.wgsl)', () => {
  const COUNT = 1_000_003; // 10^6 draws, not a multiple of the workgroup

  for (const p of [0.1, 0.5]) {
    it(`p = ${p}: the mask is the TypeScript mirror's bit for bit; its rate is p within 1% on 10^6 draws`, async () => {
      const ones = arena.storage('ones', new Float32Array(COUNT).fill(1));
      const out = arena.storage('out', COUNT);
      const mask = { p, site: 77, seed: 12345 };
      await runDispatches(ctx.device, dropout(arena, 'drop', { count: COUNT, mask, x: ones, out, state: stateAt(9, 2) }), 'drop');
      const got = await readFloats(ctx.device, out, COUNT);
      const want = dropoutMask({ ...mask, step: 9, micro: 2 }, COUNT)!;
      let dropped = 0;
      for (let i = 0; i < COUNT; i++) {
        if (got[i] === 0) dropped++;
        if ((got[i] === 0) !== (want[i] === 0)) throw new Error(`element ${i}: GPU ${got[i]}, mirror ${want[i]}`);
      }
      expect(Math.abs(dropped / COUNT - p)).toBeLessThan(0.01 * p);
      expect(got.find((v) => v !== 0)).toBe(Math.fround(1 / (1 - p)));
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

  it('drop_add and drop_acc: res + m x s, out + m x s (37 elements)', async () => {
    const n = 37;
    const r = rng(4);
    const x = Float32Array.from({ length: n }, () => 2 * r() - 1);
    const res = Float32Array.from({ length: n }, () => 2 * r() - 1);
    const mask = { p: 0.4, site: 3, seed: 8 };
    const state = stateAt(2);
    const add = arena.storage('add', n + 4);
    const acc = arena.storage('acc', Float32Array.from({ length: n + 4 }, (_, i) => (i < n ? res[i] : -7)));
    await runDispatches(ctx.device, [
      dropout(arena, 'drop_add', { count: n, mask, x: arena.storage('x', x), res: arena.storage('res', res), out: add, state }),
      dropout(arena, 'drop_acc', { count: n, mask, x: arena.storage('x', x), out: acc, state }),
    ], 'drop_add/acc');
    const m = dropoutMask({ ...mask, step: 2 }, n)!;
    const want = Array.from({ length: n }, (_, i) => Math.fround(res[i] + Math.fround(x[i] * Math.fround(m[i]))));
    expect(Array.from((await readFloats(ctx.device, add, n + 4)).subarray(0, n))).toEqual(want);
    const gotAcc = await readFloats(ctx.device, acc, n + 4);
    expect(Array.from(gotAcc.subarray(0, n))).toEqual(want);
    expect(Array.from(gotAcc.subarray(n))).toEqual([-7, -7, -7, -7]);
  });
});

describe('attention dropout (attention.wgsl forward_values_drop, backward_*_drop)', () => {
  for (const [B, T, H, D] of [[2, 13, 3, 5], [1, 1, 2, 4], [3, 6, 1, 7]]) {
    it(`B ${B}, T ${T}, H ${H}, D ${D}: out and dqkv with the mask, P undropped`, async () => {
      const C = H * D, N = B * T;
      const r = rng(T * 7 + D);
      const qkv = Float32Array.from({ length: N * 3 * C }, () => 2 * (2 * r() - 1));
      const dout = Float32Array.from({ length: N * C }, () => 2 * r() - 1);
      const mask = { p: 0.35, site: 9, seed: 5 };
      const drop = { mask, state: stateAt(6) };
      const probs = arena.storage('probs', B * H * T * T), att = arena.storage('att', N * C), dS = arena.storage('dS', B * H * T * T), dqkv = arena.storage('dqkv', N * 3 * C);
      const q = arena.storage('qkv', qkv);
      const shape = { batch: B, seq: T, heads: H, dim: D };
      await runDispatches(ctx.device, [
        ...attentionForward(arena, { ...shape, qkv: q, probs, out: att, dropout: drop }),
        ...attentionBackward(arena, { ...shape, qkv: q, probs, dout: arena.storage('dout', dout), dS, dqkv, dropout: drop }),
      ], 'attention dropout');
      const m = dropoutMask({ ...mask, step: 6 }, B * H * T * T);
      const ref = attForward(Float64Array.from(qkv), B, T, H, D, m);
      expect(relErr(await readFloats(ctx.device, probs, B * H * T * T), ref.P)).toBeLessThan(1e-5);
      expect(relErr(await readFloats(ctx.device, att, N * C), ref.out)).toBeLessThan(1e-5);
      expect(relErr(await readFloats(ctx.device, dqkv, N * 3 * C), attBackward(Float64Array.from(qkv), ref, Float64Array.from(dout), B, T, H, D))).toBeLessThan(1e-5);
    });
  }
});

describe('training steps against the float64 reference', () => {
  const w = tinyWeights();
  const V = w.config.vocab_size;

  /** GPU steps on the given micro-batches (each step: k micro-batches of B x T), with the metrics of each. */
  async function gpuRun(run: Gpt2RunConfig, steps: TokenBatch[][], adapters = randomAdapters(w, run)) {
    const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters });
    const rows: Gpt2StepMetrics[] = [];
    trainer.onRows = (r) => rows.push(...r);
    for (const micro of steps) {
      const cat = (f: 'tokens' | 'targets') => Uint32Array.from(micro.flatMap((m) => Array.from(m[f])));
      await trainer.step({ batch: { tokens: cat('tokens'), targets: cat('targets') } });
    }
    await trainer.flush();
    const after = await trainer.readAdapters();
    trainer.destroy();
    return { rows, after, adapters };
  }

  function compare(run: Gpt2RunConfig, steps: TokenBatch[][], got: Awaited<ReturnType<typeof gpuRun>>, dropout = false) {
    const ref = gpt2TrainReference(w, refAdapters(got.adapters, run), steps, run.batch, run.seq, {
      ...run, dropout: dropout ? { rates: dropoutRates(run, w.config), seed: run.seed } : undefined,
    });
    expect(got.rows.map((r) => r.step)).toEqual(steps.map((_, i) => i + 1));
    ref.steps.forEach((s, i) => {
      const row = got.rows[i];
      expect(Math.abs(row.loss - s.loss) / s.loss, `loss ${i + 1}`).toBeLessThan(2e-6);
      expect(Math.abs(row.lrScale - s.lrScale), `lr factor ${i + 1}`).toBeLessThan(1e-6);
      if (run.maxGradNorm > 0) expect(Math.abs(row.gradNorm! - s.gradNorm) / s.gradNorm, `grad norm ${i + 1}`).toBeLessThan(2e-5);
      else expect(row.gradNorm).toBeUndefined();
    });
    ref.adapters.forEach((a, k) => {
      expect(relErr(got.after[k].A, a.A), `${a.layer}.${a.target} A`).toBeLessThan(1e-4);
      expect(relErr(got.after[k].B, a.B), `${a.layer}.${a.target} B`).toBeLessThan(1e-4);
    });
    return ref;
  }

  const batches = (count: number, k: number, B: number, T: number, seed = 1) =>
    Array.from({ length: count }, (_, i) => Array.from({ length: k }, (_, j) => randomBatch(V, B, T, seed + 10 * i + j)));

  it('dropout on (embd, attn, resid and lora_dropout) matches the reference masks and gradients', async () => {
    // eps large next to the gradients: the update then follows them proportionally (a sign flip of a
    // near-zero gradient in float32 would otherwise move an entry by a whole lr).
    const run = tinyRun({ dropout: 0.2, loraDropout: 0.3, steps: 3, eta: 1e-3, lambda: 4, eps: 1e-2, seed: 7 });
    const steps = batches(3, 1, run.batch, run.seq);
    const got = await gpuRun(run, steps);
    compare(run, steps, got, true);
    // Dropout changes the trajectory: the same run without it ends elsewhere.
    const plain = await gpuRun({ ...run, dropout: 0, loraDropout: 0 }, steps, got.adapters);
    expect(relErr(plain.after[0].B, got.after[0].B)).toBeGreaterThan(1e-3);
  });

  it('clipping by global norm (active) and the linear schedule with warmup', async () => {
    const run = tinyRun({ maxGradNorm: 0.05, schedule: 'linear', warmup: 2, steps: 5, eta: 1e-2, lambda: 2, eps: 1e-2 });
    const steps = batches(5, 1, run.batch, run.seq);
    const got = await gpuRun(run, steps);
    const ref = compare(run, steps, got);
    expect(ref.steps.map((s) => s.lrScale)).toEqual([0, 0.5, 1, 2 / 3, 1 / 3]);
    expect(ref.steps.every((s) => s.gradNorm > 0.05)).toBe(true); // clipping was active at every step
  });

  it('the cosine schedule with gradient accumulation (k = 3) and dropout', async () => {
    const run = tinyRun({ schedule: 'cosine', warmup: 1, steps: 4, gradAccum: 3, maxGradNorm: 1, dropout: 0.1, eta: 1e-2, eps: 1e-2, seed: 3 });
    const steps = batches(4, 3, run.batch, run.seq, 40);
    const got = await gpuRun(run, steps);
    compare(run, steps, got, true);
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
    const accumulated = await gpuRun({ ...base, batch: 2, gradAccum: k }, micro);
    const together = await gpuRun({ ...base, batch: 2 * k, gradAccum: 1 }, big, accumulated.adapters);
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
    const a = await gpuRun(run, steps);
    const b = await gpuRun(run, steps, a.adapters);
    const c = await gpuRun({ ...run, seed: run.seed + 1 }, steps, a.adapters);
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
