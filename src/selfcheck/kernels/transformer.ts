// The transformer kernels (shaders/{embedding,bias,layernorm,attention,softmax_xent}.wgsl through
// src/gpu/kernels/*.ts) against float64, at sizes that are multiples of nothing (rows 7 or 26, T = 13,
// head dim 5, vocab 333 in chunks of 100), in every variant the GPT-2 engine uses: the embedding at
// n % T (training) and at a given position (embed_at: decoding), attention with and without dropout on
// the probabilities (*_drop, masks from src/reference/dropoutMask.ts) and its decoding kernels with a KV
// cache, the cross-entropy's loss rows at an offset and its gradient scale (gradient accumulation).
// Each output is checked relative to its tensor's scale: these kernels do short fp32 sums (<= a few
// hundred terms), so 1e-5 is loose for a correct kernel and far too tight for an indexing bug. Guard
// tails after every output catch writes past the end.
import { attentionBackward, attentionDecode, attentionForward } from '../../gpu/kernels/attention.ts';
import { biasRows } from '../../gpu/kernels/bias.ts';
import { embedding } from '../../gpu/kernels/embedding.ts';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm.ts';
import { softmaxXentBackward, softmaxXentForward } from '../../gpu/kernels/softmaxXent.ts';
import { dropoutMask } from '../../reference/dropoutMask.ts';
import { attBackward, attForward, lnBackward, lnForward } from '../../reference/gpt2Reference.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, rand32, rng, runDispatches, sentinelOutput, stateAt, type CheckEnv } from '../harness.ts';

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

/**
 * out = wte[tok] + wpe[n % T] (26 rows, T = 13), or with `position`, wpe[position + n] (embed_at: 7 rows
 * from that position, as decoding feeds them), with the token table (V = 333) in chunks of `chunkRows`;
 * chunk edges among the tokens.
 */
export async function checkEmbedding(env: CheckEnv, chunkRows: number, position?: number): Promise<CheckResult> {
  const { arena } = env;
  const V = 333, C = 12, P = 20, T = 13;
  const N = position === undefined ? 2 * T : 7;
  if (position !== undefined && position + N > P) throw new Error(`checkEmbedding: positions ${position}..${position + N - 1} past ${P}`);
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
  const at = position === undefined ? undefined : arena.storage('position', Uint32Array.of(position));
  await runDispatches(arena.device, embedding(arena, { rows: N, cols: C, seq: T, tokens: arena.storage('tokens', tok), chunks, wpe: arena.storage('wpe', wpe), out: o, position: at }), 'embedding');
  const cmp = new Compare();
  const what = position === undefined ? 'embedding' : `embedding at position ${position}`;
  const got = await readOut(env, cmp, what, o, N * C);
  const pos = (n: number) => (position === undefined ? n % T : position + n);
  const want = Float64Array.from({ length: N * C }, (_, i) => wte[tok[Math.floor(i / C)] * C + (i % C)] + wpe[pos(Math.floor(i / C)) * C + (i % C)]);
  return cmp.tensor(what, got, want, 1e-6).result();
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

/** Attention dropout's mask key: the probability, the stream (site, seed) and the state's step and micro-batch. */
export interface AttentionDropCase {
  p: number;
  site: number;
  seed: number;
  step: number;
  micro?: number;
}

/**
 * Causal forward (P, out) and backward (dqkv) for B sequences of T tokens, H heads of D dims; with `drop`,
 * the *_drop entry points: out and dqkv through the mask of the probabilities, P itself undropped.
 */
export async function checkAttention(env: CheckEnv, [B, T, H, D]: readonly [number, number, number, number], drop?: AttentionDropCase): Promise<CheckResult> {
  const { arena } = env;
  const C = H * D, N = B * T;
  const qkv = rand(N * 3 * C, 10 + T, 2), dout = rand(N * C, 11);
  const out = (n: number) => sentinelOutput(arena, n, SENTINEL);
  const probs = out(B * H * T * T), att = out(N * C), dS = out(B * H * T * T), dqkv = out(N * 3 * C);
  const q = arena.storage('qkv', qkv);
  const shape = { batch: B, seq: T, heads: H, dim: D };
  const dropout = drop && { mask: { p: drop.p, site: drop.site, seed: drop.seed }, state: stateAt(arena, drop.step, drop.micro) };
  await runDispatches(arena.device, [
    ...attentionForward(arena, { ...shape, qkv: q, probs, out: att, dropout }),
    ...attentionBackward(arena, { ...shape, qkv: q, probs, dout: arena.storage('dout', dout), dS, dqkv, dropout }),
  ], drop ? 'attention dropout' : 'attention');
  const mask = drop ? dropoutMask(drop, B * H * T * T) : null;
  const ref = attForward(f64(qkv), B, T, H, D, mask);
  const cmp = new Compare();
  cmp.tensor('probs', await readOut(env, cmp, 'probs', probs, B * H * T * T), ref.P, 1e-5);
  cmp.tensor('out', await readOut(env, cmp, 'out', att, N * C), ref.out, 1e-5);
  cmp.tensor('dqkv', await readOut(env, cmp, 'dqkv', dqkv, N * 3 * C), attBackward(f64(qkv), ref, f64(dout), B, T, H, D), 1e-5);
  return cmp.result();
}

/**
 * Decoding with a KV cache (kv_store, decode_scores, decode_values): W tokens fed one at a time into a
 * cache of W positions, H heads of D dims; each new row must equal row t of the causal attention over the
 * whole sequence (attForward), and nothing may be written past it.
 */
export async function checkAttentionDecode(env: CheckEnv, [H, D, W]: readonly [number, number, number]): Promise<CheckResult> {
  const { arena } = env;
  const device = arena.device;
  const C = H * D;
  const qkvAll = rand(W * 3 * C, 20 + D);
  const want = attForward(f64(qkvAll), 1, W, H, D).out; // W x C
  const qkv = arena.storage('qkv', 3 * C);
  const pos = arena.storage('pos', new Uint32Array(1));
  const o = sentinelOutput(arena, C, SENTINEL);
  const d = attentionDecode(arena, { heads: H, dim: D, positions: W, qkv, pos, kcache: arena.storage('kcache', W * C), vcache: arena.storage('vcache', W * C), scores: arena.storage('scores', H * W), out: o });
  const cmp = new Compare();
  for (let t = 0; t < W; t++) {
    device.queue.writeBuffer(qkv, 0, qkvAll.slice(t * 3 * C, (t + 1) * 3 * C));
    device.queue.writeBuffer(pos, 0, Uint32Array.of(t));
    await runDispatches(device, d, `decode position ${t}`);
    cmp.tensor(`row ${t}`, await readOut(env, cmp, `row ${t}`, o, C), want.subarray(t * C, (t + 1) * C), 1e-5);
  }
  return cmp.result();
}

/** Where the loss rows go and how the gradient is scaled (one of k accumulated micro-batches). */
export interface XentOptions {
  /** The per-row losses land at loss[lossOffset + n]; the rows before keep their values. */
  lossOffset?: number;
  /** dlogits = (softmax - onehot) * invCount (default 1 / rows). */
  invCount?: number;
}

/**
 * Per-row loss and dL/dlogits over V classes in chunks of `chunkCols` (online max and sum across chunks;
 * chunks of 2048 columns or more take the 256-thread variant), logits spread +-40 so that exp overflows
 * fp32 without the max shift; targets at the first, the last and a chunk-edge class.
 */
export async function checkSoftmaxXent(env: CheckEnv, rows: number, V: number, chunkCols: number, opts: XentOptions = {}): Promise<CheckResult> {
  const { arena } = env;
  const offset = opts.lossOffset ?? 0;
  const invCount = opts.invCount ?? 1 / rows;
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
  const stats = sentinelOutput(arena, 4 * rows, SENTINEL), loss = sentinelOutput(arena, offset + rows, SENTINEL), tb = arena.storage('targets', targets);
  await runDispatches(arena.device, [
    ...softmaxXentForward(arena, { rows, chunks, targets: tb, stats, loss, lossOffset: opts.lossOffset }),
    ...softmaxXentBackward(arena, { rows, chunks, targets: tb, stats, invCount: opts.invCount }),
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
    row.forEach((v, j) => (wantGrad[n * V + j] = (Math.exp(v - lse) - (j === targets[n] ? 1 : 0)) * Math.fround(invCount)));
  }
  const cmp = new Compare();
  const losses = await readOut(env, cmp, 'loss', loss, offset + rows);
  cmp.untouched(`loss rows before ${offset}`, losses, SENTINEL, 0, offset);
  cmp.tensor('loss', losses.subarray(offset), wantLoss, 1e-6);
  const grad = new Float32Array(rows * V);
  for (const ch of chunks) {
    const g = await readOut(env, cmp, `dlogits chunk ${ch.v0}`, ch.logits, rows * ch.cols);
    for (let n = 0; n < rows; n++) grad.set(g.subarray(n * ch.cols, (n + 1) * ch.cols), n * V + ch.v0);
  }
  return cmp.tensor('dlogits', grad, wantGrad, 1e-5).result();
}
