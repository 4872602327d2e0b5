// The transformer kernels one by one (shaders/{embedding,bias,layernorm,attention,softmax_xent}.wgsl
// through src/gpu/kernels/*.ts) against float64, at sizes that are multiples of nothing. The checks and
// their tolerances are src/selfcheck/kernels/transformer.ts (the self-check's own); the attention's
// behaviour at huge scores is pinned here.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, runDispatches, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { attentionForward } from '../../src/gpu/kernels/attention.ts';
import type { CheckResult } from '../../src/selfcheck/compare.ts';
import { checkAttention, checkBias, checkEmbedding, checkLayerNorm, checkSoftmaxXent } from '../../src/selfcheck/kernels/transformer.ts';

const SENTINEL = -777.25;
let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

const up = (data: Float32Array | Uint32Array) => arena.storage('input', data);
/** An output of `count` floats + a 16-float guard tail, preset to SENTINEL. */
const out = (count: number) => up(new Float32Array(count + 16).fill(SENTINEL));
async function read(buf: GPUBuffer, count: number): Promise<Float32Array> {
  const all = await readFloats(device, buf, count + 16);
  for (let i = count; i < count + 16; i++) expect(all[i], `guard tail at ${i}`).toBe(SENTINEL);
  return all.subarray(0, count);
}
const expectPass = (r: CheckResult) => expect(r.pass, r.detail).toBe(true);

describe('embedding', () => {
  for (const chunkRows of [333, 100]) {
    it(`out = wte[tok] + wpe[n % T] with the vocabulary in chunks of ${chunkRows}`, async () => expectPass(await checkEmbedding(env, chunkRows)));
  }
});

describe('bias', () => {
  it('out = bias (+ residual) broadcast over rows', async () => expectPass(await checkBias(env)));
});

describe('layernorm', () => {
  for (const cols of [37, 100, 300]) {
    it(`forward and backward (=, +=) over rows of ${cols}, mean far from zero`, async () => expectPass(await checkLayerNorm(env, cols)));
  }
});

describe('attention', () => {
  for (const shape of [[2, 13, 3, 5], [1, 1, 2, 4], [3, 6, 1, 7]] as const) {
    it(`causal forward (P, out) and backward (dqkv) for B, T, H, D = ${shape.join(', ')}`, async () => expectPass(await checkAttention(env, shape)));
  }

  it('scores of +-1e4 (a naive exp would overflow) give finite probabilities that sum to 1', async () => {
    const B = 1, T = 5, H = 1, D = 2, C = 2;
    const qkv = new Float32Array(T * 3 * C);
    for (let t = 0; t < T; t++) qkv.set([100, 0, (t % 2 ? 100 : -100), 0, t, -t], t * 3 * C);
    const probs = out(T * T), att = out(T * C);
    await runDispatches(device, attentionForward(arena, { batch: B, seq: T, heads: H, dim: D, qkv: up(qkv), probs, out: att }), 'attention big');
    const P = await read(probs, T * T);
    for (let t = 0; t < T; t++) {
      const row = Array.from(P.subarray(t * T, (t + 1) * T));
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(row.slice(t + 1).every((p) => p === 0)).toBe(true);
    }
  });
});

describe('softmax cross-entropy', () => {
  for (const chunkCols of [333, 100, 7]) {
    it(`loss and dlogits over 333 classes in chunks of ${chunkCols} (online max/sum)`, async () => expectPass(await checkSoftmaxXent(env, 7, 333, chunkCols)));
  }
  it('chunks of 2048 columns or more (the 256-thread variant) beside a short one: 2100 classes in 2048 + 52', async () => expectPass(await checkSoftmaxXent(env, 3, 2100, 2048)));
});
