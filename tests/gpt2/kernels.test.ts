// The transformer kernels one by one (shaders/{embedding,bias,layernorm,attention,softmax_xent}.wgsl
// through src/gpu/kernels/*.ts) against float64, at sizes that are multiples of nothing (rows 7 or 26,
// T = 13, head dim 5, vocab 333 in chunks of 100). Each output is checked relative to its tensor's scale:
// these kernels do short fp32 sums (<= a few hundred terms), so 1e-5 is loose for a correct kernel and
// far too tight for an indexing bug. Guard tails after every output catch writes past the end.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches } from '../kernels/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { attentionBackward, attentionForward } from '../../src/gpu/kernels/attention.ts';
import { biasRows } from '../../src/gpu/kernels/bias.ts';
import { embedding } from '../../src/gpu/kernels/embedding.ts';
import { layerNormBackward, layerNormForward } from '../../src/gpu/kernels/layernorm.ts';
import { softmaxXentBackward, softmaxXentForward } from '../../src/gpu/kernels/softmaxXent.ts';
import { attBackward, attForward, lnBackward, lnForward } from '../reference/gpt2Reference.ts';
import { relErr } from './fixture.ts';

const SENTINEL = -777.25;
let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});

function rand(count: number, seed: number, scale = 1, offset = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => offset + scale * (2 * r() - 1));
}
const up = (data: Float32Array | Uint32Array) => arena.storage('input', data);
/** An output of `count` floats + a 16-float guard tail, preset to SENTINEL (or to `fill`). */
const out = (count: number, fill?: Float32Array) => {
  const d = new Float32Array(count + 16).fill(SENTINEL);
  if (fill) d.set(fill);
  return up(d);
};
async function read(buf: GPUBuffer, count: number): Promise<Float32Array> {
  const all = await readFloats(device, buf, count + 16);
  for (let i = count; i < count + 16; i++) expect(all[i], `guard tail at ${i}`).toBe(SENTINEL);
  return all.subarray(0, count);
}
const f64 = (a: Float32Array) => Float64Array.from(a);

describe('embedding', () => {
  for (const chunkRows of [333, 100]) {
    it(`out = wte[tok] + wpe[n % T] with the vocabulary in chunks of ${chunkRows}`, async () => {
      const V = 333, C = 12, P = 20, B = 2, T = 13, N = B * T;
      const wte = rand(V * C, 1), wpe = rand(P * C, 2);
      const r = rng(3);
      const tok = Uint32Array.from({ length: N }, () => Math.floor(r() * V));
      tok[0] = 0; tok[1] = V - 1; tok[2] = 99; tok[3] = 100; tok[4] = 299; tok[5] = 300; // chunk edges
      const chunks = [];
      for (let v0 = 0; v0 < V; v0 += chunkRows) {
        const rows = Math.min(chunkRows, V - v0);
        chunks.push({ v0, rows, buffer: up(wte.slice(v0 * C, (v0 + rows) * C)) });
      }
      const o = out(N * C);
      await runDispatches(device, embedding(arena, { rows: N, cols: C, seq: T, tokens: up(tok), chunks, wpe: up(wpe), out: o }), 'embedding');
      const got = await read(o, N * C);
      const want = Float64Array.from({ length: N * C }, (_, i) => wte[tok[Math.floor(i / C)] * C + (i % C)] + wpe[(Math.floor(i / C) % T) * C + (i % C)]);
      expect(relErr(got, want)).toBeLessThan(1e-6);
    });
  }
});

describe('bias', () => {
  it('out = bias (+ residual) broadcast over rows', async () => {
    const rows = 7, cols = 37;
    const bias = rand(cols, 4), res = rand(rows * cols, 5);
    const a = out(rows * cols), b = out(rows * cols);
    await runDispatches(device, [biasRows(arena, { rows, cols, bias: up(bias), out: a }), biasRows(arena, { rows, cols, bias: up(bias), out: b, residual: up(res) })], 'bias');
    const ga = await read(a, rows * cols), gb = await read(b, rows * cols);
    for (let i = 0; i < rows * cols; i++) {
      expect(ga[i]).toBe(bias[i % cols]);
      expect(gb[i]).toBe(Math.fround(bias[i % cols] + res[i]));
    }
  });
});

describe('layernorm', () => {
  for (const cols of [37, 100, 300]) {
    it(`forward and backward (=, +=) over rows of ${cols}, mean far from zero`, async () => {
      const rows = 7, eps = 1e-5;
      const x = rand(rows * cols, cols, 2, 30); // |mean| >> std: a one-pass variance would cancel
      const g = rand(cols, 6, 0.5, 1), b = rand(cols, 7, 0.3), dy = rand(rows * cols, 8);
      const prior = rand(rows * cols, 9);
      const y = out(rows * cols), stats = out(2 * rows), dx = out(rows * cols), dxAcc = out(rows * cols, prior);
      const xb = up(x), gb = up(g);
      await runDispatches(device, [
        layerNormForward(arena, { rows, cols, eps, x: xb, gamma: gb, beta: up(b), y, stats }),
        layerNormBackward(arena, { rows, cols, x: xb, gamma: gb, stats, dy: up(dy), dx, accumulate: false }),
        layerNormBackward(arena, { rows, cols, x: xb, gamma: gb, stats, dy: up(dy), dx: dxAcc, accumulate: true }),
      ], 'layernorm');
      const ref = lnForward(f64(x), rows, cols, g, b, eps);
      const refDx = lnBackward(f64(x), rows, cols, g, ref, f64(dy));
      expect(relErr(await read(y, rows * cols), ref.y)).toBeLessThan(1e-5);
      const st = await read(stats, 2 * rows);
      expect(relErr(Array.from({ length: rows }, (_, i) => st[2 * i]), ref.mean)).toBeLessThan(1e-6);
      expect(relErr(Array.from({ length: rows }, (_, i) => st[2 * i + 1]), ref.rstd)).toBeLessThan(1e-5);
      expect(relErr(await read(dx, rows * cols), refDx)).toBeLessThan(1e-5);
      expect(relErr(await read(dxAcc, rows * cols), refDx.map((v, i) => v + prior[i]))).toBeLessThan(1e-5);
    });
  }
});

describe('attention', () => {
  for (const [B, T, H, D] of [[2, 13, 3, 5], [1, 1, 2, 4], [3, 6, 1, 7]]) {
    it(`causal forward (P, out) and backward (dqkv) for B ${B}, T ${T}, H ${H}, D ${D}`, async () => {
      const C = H * D, N = B * T;
      const qkv = rand(N * 3 * C, 10 + T, 2), dout = rand(N * C, 11);
      const probs = out(B * H * T * T), att = out(N * C), dS = out(B * H * T * T), dqkv = out(N * 3 * C);
      const q = up(qkv);
      const shape = { batch: B, seq: T, heads: H, dim: D };
      await runDispatches(device, [
        ...attentionForward(arena, { ...shape, qkv: q, probs, out: att }),
        ...attentionBackward(arena, { ...shape, qkv: q, probs, dout: up(dout), dS, dqkv }),
      ], 'attention');
      const ref = attForward(f64(qkv), B, T, H, D);
      expect(relErr(await read(probs, B * H * T * T), ref.P)).toBeLessThan(1e-5);
      expect(relErr(await read(att, N * C), ref.out)).toBeLessThan(1e-5);
      expect(relErr(await read(dqkv, N * 3 * C), attBackward(f64(qkv), ref, f64(dout), B, T, H, D))).toBeLessThan(1e-5);
    });
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
    it(`loss and dlogits over 333 classes in chunks of ${chunkCols} (online max/sum)`, async () => {
      const rows = 7, V = 333;
      const logits = rand(rows * V, 12, 40); // spread of +-40: exp overflows f32 without the max shift
      const r = rng(13);
      const targets = Uint32Array.from({ length: rows }, () => Math.floor(r() * V));
      targets[0] = 0; targets[1] = V - 1; targets[2] = 100;
      const chunks = [];
      for (let v0 = 0; v0 < V; v0 += chunkCols) {
        const cols = Math.min(chunkCols, V - v0);
        const part = new Float32Array(rows * cols);
        for (let n = 0; n < rows; n++) part.set(logits.subarray(n * V + v0, n * V + v0 + cols), n * cols);
        chunks.push({ v0, cols, logits: out(rows * cols, part) });
      }
      const stats = out(4 * rows), loss = out(rows), tb = up(targets);
      await runDispatches(device, [
        ...softmaxXentForward(arena, { rows, chunks, targets: tb, stats, loss }),
        ...softmaxXentBackward(arena, { rows, chunks, targets: tb, stats }),
      ], 'xent');
      const wantLoss = new Float64Array(rows), wantGrad = new Float64Array(rows * V);
      for (let n = 0; n < rows; n++) {
        const row = Array.from(logits.subarray(n * V, (n + 1) * V));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        wantLoss[n] = lse - row[targets[n]];
        row.forEach((v, j) => (wantGrad[n * V + j] = (Math.exp(v - lse) - (j === targets[n] ? 1 : 0)) / rows));
      }
      expect(relErr(await read(loss, rows), wantLoss)).toBeLessThan(1e-6);
      const grad = new Float32Array(rows * V);
      for (const ch of chunks) {
        const g = await read(ch.logits, rows * ch.cols);
        for (let n = 0; n < rows; n++) grad.set(g.subarray(n * ch.cols, (n + 1) * ch.cols), n * V + ch.v0);
      }
      expect(relErr(grad, wantGrad)).toBeLessThan(1e-5);
    });
  }
});
