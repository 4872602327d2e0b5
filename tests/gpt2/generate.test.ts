// Generation with a KV cache: the decoding attention kernels against float64 at awkward sizes, and the
// cached generation against the engine's own full forward (no cache) over the same windows, past the
// point where the window restarts (windowStart), greedy and sampled, its logits against float64 (the
// checks and their tolerances are the self-check's own: src/selfcheck/kernels/transformer.ts,
// src/selfcheck/gpt2Generate.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuArena } from '../../src/gpu/arena.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { windowStart } from '../../src/experiments/gpt2/generate.ts';
import { testGpu } from '../gpu.ts';
import { checkCachedGeneration } from '../../src/selfcheck/gpt2Generate.ts';
import { checkEnv, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { checkAttentionDecode } from '../../src/selfcheck/kernels/transformer.ts';
import { tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
let env: CheckEnv;
beforeAll(async () => {
  ctx = await testGpu();
  env = checkEnv(new GpuArena(ctx.device, 'decode-test'));
});

describe('decoding attention (attention.wgsl kv_store, decode_scores, decode_values)', () => {
  // H heads of D dims (D = 5 and 70: not multiples of the 64-thread workgroup), a cache of W positions
  // (67: past the 64 threads that share a head's positions).
  for (const shape of [[3, 5, 11], [2, 70, 9], [1, 1, 4], [2, 70, 67]] as const) {
    it(`H ${shape[0]}, D ${shape[1]}, cache ${shape[2]}: each new row equals the causal attention row of the full sequence`, async () => {
      const r = await checkAttentionDecode(env, shape);
      expect(r.pass, r.detail).toBe(true);
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
    const prompt = Array.from({ length: 50 }, (_, i) => (i * 37 + 11) % V);
    const n = 40; // 50 + 40 > 64: the window restarts once
    const { result, ids } = await checkCachedGeneration(ctx, w, tinyRun({ seq: P, batch: 1 }), [
      { prompt, newTokens: n, temperature: 0, topK: 0, seed: 1 },
      { prompt, newTokens: n, temperature: 1.5, topK: 5, seed: 4 },
    ]);
    expect(result.pass, result.detail).toBe(true);
    expect(ids.map((x) => x.length)).toEqual([n, n]);
    expect(new Set(ids[1]).size).toBeGreaterThan(3); // sampling does sample
  });
});
