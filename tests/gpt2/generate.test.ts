// Generation with a KV cache: the decoding attention kernels against float64 at awkward sizes, and the
// cached generation against the engine's own full forward (no cache) over the same windows, past the
// point where the window restarts (windowStart), greedy and sampled.
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuArena } from '../../src/gpu/arena.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { attentionDecode } from '../../src/gpu/kernels/attention.ts';
import { sampleToken, windowStart } from '../../src/experiments/gpt2/generate.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import { Stream } from '../../src/experiments/rng.ts';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches } from '../../src/selfcheck/harness.ts';
import { attForward } from '../../src/reference/gpt2Reference.ts';
import { patternStream, randomAdapters, relErr, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testGpu();
});

describe('decoding attention (attention.wgsl kv_store, decode_scores, decode_values)', () => {
  // H heads of D dims (D = 5 and 70: not multiples of the 64-thread workgroup), a cache of W positions.
  for (const [H, D, W] of [[3, 5, 11], [2, 70, 9], [1, 1, 4]]) {
    it(`H ${H}, D ${D}, cache ${W}: each new row equals the causal attention row of the full sequence`, async () => {
      const arena = new GpuArena(ctx.device, 'decode-test');
      const C = H * D;
      const r = rng(H * 100 + D);
      const qkvAll = Float64Array.from({ length: W * 3 * C }, () => 2 * r() - 1);
      const want = attForward(qkvAll, 1, W, H, D).out; // W x C
      const qkv = arena.storage('qkv', 3 * C);
      const pos = arena.storage('pos', new Uint32Array(1));
      const kcache = arena.storage('k', W * C);
      const vcache = arena.storage('v', W * C);
      const scores = arena.storage('scores', H * W);
      const out = arena.storage('out', C + 4);
      const d = attentionDecode(arena, { heads: H, dim: D, positions: W, qkv, pos, kcache, vcache, scores, out });
      for (let t = 0; t < W; t++) {
        ctx.device.queue.writeBuffer(qkv, 0, Float32Array.from(qkvAll.subarray(t * 3 * C, (t + 1) * 3 * C)));
        ctx.device.queue.writeBuffer(pos, 0, Uint32Array.of(t));
        await runDispatches(ctx.device, d, `decode ${t}`);
        const got = await readFloats(ctx.device, out, C + 4);
        expect(relErr(got.subarray(0, C), want.subarray(t * C, (t + 1) * C)), `row ${t}`).toBeLessThan(1e-5);
        expect(Array.from(got.subarray(C))).toEqual([0, 0, 0, 0]); // nothing written past the row
      }
      arena.destroy();
    });
  }
});

describe('generation with a KV cache', () => {
  const w = tinyWeights();
  const V = w.config.vocab_size;
  const P = w.config.n_positions; // 64: the cache

  it('windowStart keeps the window within the cache, restarting from the last half', () => {
    expect(windowStart(0, 64, 64)).toBe(0);
    expect(windowStart(0, 65, 64)).toBe(33);
    expect(windowStart(33, 96, 64)).toBe(33);
    expect(windowStart(33, 98, 64)).toBe(66);
    expect(windowStart(0, 200, 64)).toBe(168);
  });

  it('gives the tokens of a full forward over each window (greedy and sampled), across a window restart', async () => {
    const run = tinyRun({ seq: P, batch: 1 });
    const adapters = randomAdapters(w, run);
    const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters });
    const prompt = Array.from({ length: 50 }, (_, i) => (i * 37 + 11) % V);
    const n = 40; // 50 + 40 > 64: the window restarts once
    // Without a cache: the training graph's forward over the window (padded: causal attention ignores what follows).
    async function uncached(temperature: number, seed: number): Promise<number[]> {
      const context = [...prompt];
      let start = windowStart(0, context.length, P);
      const stream = new Stream(seed, 'sample');
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const win = context.slice(start);
        const tokens = new Uint32Array(P);
        tokens.set(win);
        const { logits } = await trainer.evaluate({ tokens, targets: new Uint32Array(P) });
        const id = sampleToken(logits.subarray((win.length - 1) * V, win.length * V), temperature, 5, stream);
        out.push(id);
        context.push(id);
        start = windowStart(start, context.length, P);
      }
      return out;
    }
    const greedy = await trainer.generate(prompt, { maxNewTokens: n });
    expect(greedy.ids).toEqual(await uncached(0, 1));
    const sampled = await trainer.generate(prompt, { maxNewTokens: n, temperature: 1.5, topK: 5, seed: 4 });
    expect(sampled.ids).toEqual(await uncached(1.5, 4));
    expect(new Set(sampled.ids).size).toBeGreaterThan(3);
    trainer.destroy();
  });
});
