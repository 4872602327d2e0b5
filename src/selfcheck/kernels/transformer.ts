// The transformer kernels (shaders/{embedding,bias,layernorm,attention,softmax_xent}.wgsl through
// src/gpu/kernels/*.ts) against float64, at sizes that are multiples of nothing (rows 7 or 26, T = 13,
// head dim 5, vocab 333 in chunks of 100). Each output is checked relative to its tensor's scale: these
// kernels do short fp32 sums (<= a few hundred terms), so 1e-5 is loose for a correct kernel and far too
// tight for an indexing bug. Guard tails after every output catch writes past the end.
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention.ts';
import { biasRows } from '../../gpu/kernels/bias.ts';
import { embedding } from '../../gpu/kernels/embedding.ts';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm.ts';
import { softmaxXentBackward, softmaxXentForward } from '../../gpu/kernels/softmaxXent.ts';
import { attBackward, attForward, lnBackward, lnForward } from '../../reference/gpt2Reference.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, rand32, rng, runDispatches, sentinelOutput, type CheckEnv } from '../harness.ts';

const SENTINEL = -777.25;

/** Uniform(offset - scale, offset + scale). */
const rand = (count: number, seed: number, scale = 1, offset = 0) => rand32(count, seed, offset - scale, offset + scale);
const f64 = (a: Float32Array) => Float64Array.from(a);

/** Reads `count` floats and checks the guard tail after them. */
async function readOut(env: CheckEnv, cmp: Compare, what: string, buf: GPUBuffer, count: number): Promise<Float32Array> {
  const all = await env.read(buf, count + GUARD);
  cmp.untouched(what, all, SENTINEL, count);
  return all.subarray(0, count);
}

/** out = wte[tok] + wpe[n % T] with the token table (V = 333) in chunks of `chunkRows`; chunk edges among the tokens. */
export async function checkEmbedding(env: CheckEnv, chunkRows: number): Promise<CheckResult> {
  const { arena } = env;
  const V = 333, C = 12, P = 20, B = 2, T = 13, N = B * T;
  const wte = rand(V * C, 1), wpe = rand(P * C, 2);
  const r = rng(3);
  const tok = Uint32Array.from({ length: N }, () => Math.floor(r() * V));
  tok.set([0, V - 1, 99, 100, 299, 300]); // chunk edges
  const chunks = [];
  for (let v0 = 0; v0 < V; v0 += chunkRows) {
    const rows = Math.min(chunkRows, V - v0);
    chunks.push({ v0, rows, buffer: arena.storage('wte', wte.slice(v0 * C, (v0 + rows) * C)) });
  }
  const o = sentinelOutput(arena, N * C, SENTINEL);
  await runDispatches(arena.device, embedding(arena, { rows: N, cols: C, seq: T, tokens: arena.storage('tokens', tok), chunks, wpe: arena.storage('wpe', wpe), out: o }), 'embedding');
  const cmp = new Compare();
  const got = await readOut(env, cmp, 'embedding', o, N * C);
  const want = Float64Array.from({ length: N * C }, (_, i) => wte[tok[Math.floor(i / C)] * C + (i % C)] + wpe[(Math.floor(i / C) % T) * C + (i % C)]);
  return cmp.tensor('embedding', got, want, 1e-6).result();
}

/** out = bias broadcast over rows, and bias + residual: bit for bit (one fp32 add). */
export async function checkBias(env: CheckEnv): Promise<CheckResult> {
  const { arena } = env;
  const rows = 7, cols = 37;
  const bias = rand(cols, 4), res = rand(rows * cols, 5);
  const a = sentinelOutput(arena, rows * cols, SENTINEL), b = sentinelOutput(arena, rows * cols, SENTINEL);
  const bb = arena.storage('bias', bias);
  await runDispatches(arena.device, [biasRows(arena, { rows, cols, bias: bb, out: a }), biasRows(arena, { rows, cols, bias: bb, out: b, residual: arena.storage('res', res) })], 'bias');
  const cmp = new Compare();
  const ga = await readOut(env, cmp, 'bias rows', a, rows * cols);
  const gb = await readOut(env, cmp, 'bias rows_residual', b, rows * cols);
  return cmp
    .exact('bias rows', ga, Array.from(ga, (_, i) => bias[i % cols]))
    .exact('bias rows_residual', gb, Array.from(gb, (_, i) => Math.fround(bias[i % cols] + res[i])))
    .result();
}

/** Forward (y, mean, 1/std) and backward (dx =, dx +=) over 7 rows of `cols`, the mean far from zero. */
export async function checkLayerNorm(env: CheckEnv, cols: number): Promise<CheckResult> {
  const { arena } = env;
  const rows = 7, eps = 1e-5;
  const x = rand(rows * cols, cols, 2, 30); // |mean| >> std: a one-pass variance would cancel
  const g = rand(cols, 6, 0.5, 1), b = rand(cols, 7, 0.3), dy = rand(rows * cols, 8);
  const prior = rand(rows * cols, 9);
  const out = (n: number, fill?: Float32Array) => sentinelOutput(arena, n, SENTINEL, fill);
  const y = out(rows * cols), stats = out(2 * rows), dx = out(rows * cols), dxAcc = out(rows * cols, prior);
  const xb = arena.storage('x', x), gb = arena.storage('gamma', g), dyb = arena.storage('dy', dy);
  await runDispatches(arena.device, [
    layerNormForward(arena, { rows, cols, eps, x: xb, gamma: gb, beta: arena.storage('beta', b), y, stats }),
    layerNormBackward(arena, { rows, cols, x: xb, gamma: gb, stats, dy: dyb, dx, accumulate: false }),
    layerNormBackward(arena, { rows, cols, x: xb, gamma: gb, stats, dy: dyb, dx: dxAcc, accumulate: true }),
  ], 'layernorm');
  const ref = lnForward(f64(x), rows, cols, g, b, eps);
  const refDx = lnBackward(f64(x), rows, cols, g, ref, f64(dy));
  const cmp = new Compare();
  cmp.tensor('y', await readOut(env, cmp, 'y', y, rows * cols), ref.y, 1e-5);
  const st = await readOut(env, cmp, 'stats', stats, 2 * rows);
  cmp.tensor('mean', Array.from({ length: rows }, (_, i) => st[2 * i]), ref.mean, 1e-6);
  cmp.tensor('1/std', Array.from({ length: rows }, (_, i) => st[2 * i + 1]), ref.rstd, 1e-5);
  cmp.tensor('dx', await readOut(env, cmp, 'dx', dx, rows * cols), refDx, 1e-5);
  cmp.tensor('dx +=', await readOut(env, cmp, 'dx +=', dxAcc, rows * cols), refDx.map((v, i) => v + prior[i]), 1e-5);
  return cmp.result();
}

/** Causal forward (P, out) and backward (dqkv) for B sequences of T tokens, H heads of D dims. */
export async function checkAttention(env: CheckEnv, [B, T, H, D]: readonly [number, number, number, number]): Promise<CheckResult> {
  const { arena } = env;
  const C = H * D, N = B * T;
  const qkv = rand(N * 3 * C, 10 + T, 2), dout = rand(N * C, 11);
  const out = (n: number) => sentinelOutput(arena, n, SENTINEL);
  const probs = out(B * H * T * T), att = out(N * C), dS = out(B * H * T * T), dqkv = out(N * 3 * C);
  const q = arena.storage('qkv', qkv);
  const shape = { batch: B, seq: T, heads: H, dim: D };
  await runDispatches(arena.device, [
    ...attentionForward(arena, { ...shape, qkv: q, probs, out: att }),
    ...attentionBackward(arena, { ...shape, qkv: q, probs, dout: arena.storage('dout', dout), dS, dqkv }),
  ], 'attention');
  const ref = attForward(f64(qkv), B, T, H, D);
  const cmp = new Compare();
  cmp.tensor('probs', await readOut(env, cmp, 'probs', probs, B * H * T * T), ref.P, 1e-5);
  cmp.tensor('out', await readOut(env, cmp, 'out', att, N * C), ref.out, 1e-5);
  cmp.tensor('dqkv', await readOut(env, cmp, 'dqkv', dqkv, N * 3 * C), attBackward(f64(qkv), ref, f64(dout), B, T, H, D), 1e-5);
  return cmp.result();
}

/**
 * Per-row loss and dL/dlogits over V classes in chunks of `chunkCols` (online max and sum across chunks;
 * chunks of 2048 columns or more take the 256-thread variant), logits spread +-40 so that exp overflows
 * fp32 without the max shift; targets at the first, the last and a chunk-edge class.
 */
export async function checkSoftmaxXent(env: CheckEnv, rows: number, V: number, chunkCols: number): Promise<CheckResult> {
  const { arena } = env;
  const logits = rand(rows * V, 12, 40);
  const r = rng(13);
  const targets = Uint32Array.from({ length: rows }, () => Math.floor(r() * V));
  targets.set([0, V - 1, Math.min(100, V - 1)].slice(0, rows));
  const chunks = [];
  for (let v0 = 0; v0 < V; v0 += chunkCols) {
    const cols = Math.min(chunkCols, V - v0);
    const part = new Float32Array(rows * cols);
    for (let n = 0; n < rows; n++) part.set(logits.subarray(n * V + v0, n * V + v0 + cols), n * cols);
    chunks.push({ v0, cols, logits: sentinelOutput(arena, rows * cols, SENTINEL, part) });
  }
  const stats = sentinelOutput(arena, 4 * rows, SENTINEL), loss = sentinelOutput(arena, rows, SENTINEL), tb = arena.storage('targets', targets);
  await runDispatches(arena.device, [
    ...softmaxXentForward(arena, { rows, chunks, targets: tb, stats, loss }),
    ...softmaxXentBackward(arena, { rows, chunks, targets: tb, stats }),
  ], 'xent');
  const wantLoss = new Float64Array(rows), wantGrad = new Float64Array(rows * V);
  for (let n = 0; n < rows; n++) {
    const row = logits.subarray(n * V, (n + 1) * V);
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - m);
    const lse = m + Math.log(sum);
    wantLoss[n] = lse - row[targets[n]];
    row.forEach((v, j) => (wantGrad[n * V + j] = (Math.exp(v - lse) - (j === targets[n] ? 1 : 0)) / rows));
  }
  const cmp = new Compare();
  cmp.tensor('loss', await readOut(env, cmp, 'loss', loss, rows), wantLoss, 1e-6);
  const grad = new Float32Array(rows * V);
  for (const ch of chunks) {
    const g = await readOut(env, cmp, `dlogits chunk ${ch.v0}`, ch.logits, rows * ch.cols);
    for (let n = 0; n < rows; n++) grad.set(g.subarray(n * ch.cols, (n + 1) * ch.cols), n * V + ch.v0);
  }
  return cmp.tensor('dlogits', grad, wantGrad, 1e-5).result();
}
