// Float64 CPU reference of GPT-2 with LoRA adapters (the forward and backward of
// src/experiments/gpt2/graph.ts, written independently with plain loops). The GPU path is checked
// against it; it is itself checked against central finite differences (tests/gpt2/reference.test.ts).
//
//   x0 = wte[tok] + wpe[t]
//   block: ln1 = LN(x); qkv = ln1 Wa + ba + s (ln1 A^T) B^T; att = causal softmax(q k^T / sqrt(D)) v
//          xm = x + att Wp + bp [+ LoRA]; ln2 = LN(xm); fc = ln2 Wf + bf [+ LoRA]; h = GELU_tanh(fc)
//          x' = xm + h Wo + bo [+ LoRA]
//   logits = LN_f(x_L) wte^T;  loss = mean_n (logsumexp(logits_n) - logits_n[target_n])
// Conv1D weights are [in, out]; A is r x in, B is out x r (lora-math.md section 1).

import type { Gpt2Config, Gpt2Weights, LoraTarget } from '../models/gpt2.ts';
import { dphi, phi } from './toyReference.ts';

type Arr = ArrayLike<number>;

export interface RefAdapter {
  layer: number;
  target: LoraTarget;
  A: Arr; // r x in
  B: Arr; // out x r
  rank: number;
  scale: number;
}

/** y (n x out) = x (n x in) W (in x out) + b */
function conv(x: Float64Array, n: number, nIn: number, W: Arr, b: Arr, nOut: number): Float64Array {
  const y = new Float64Array(n * nOut);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < nOut; o++) y[i * nOut + o] = b[o];
    for (let k = 0; k < nIn; k++) {
      const xv = x[i * nIn + k];
      for (let o = 0; o < nOut; o++) y[i * nOut + o] += xv * W[k * nOut + o];
    }
  }
  return y;
}

/** Z_A = X A^T (n x r); y += s Z_A B^T */
function loraAdd(x: Float64Array, n: number, nIn: number, nOut: number, a: RefAdapter, y: Float64Array): Float64Array {
  const r = a.rank;
  const zA = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let q = 0; q < r; q++) {
    let s = 0;
    for (let k = 0; k < nIn; k++) s += x[i * nIn + k] * a.A[q * nIn + k];
    zA[i * r + q] = s;
  }
  for (let i = 0; i < n; i++) for (let o = 0; o < nOut; o++) {
    let s = 0;
    for (let q = 0; q < r; q++) s += zA[i * r + q] * a.B[o * r + q];
    y[i * nOut + o] += a.scale * s;
  }
  return zA;
}

export interface LnCache { y: Float64Array; mean: Float64Array; rstd: Float64Array }

export function lnForward(x: Float64Array, n: number, C: number, g: Arr, b: Arr, eps: number): LnCache {
  const y = new Float64Array(n * C);
  const mean = new Float64Array(n);
  const rstd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += x[i * C + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[i * C + c] - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) y[i * C + c] = (x[i * C + c] - m) * rs * g[c] + b[c];
    mean[i] = m;
    rstd[i] = rs;
  }
  return { y, mean, rstd };
}

/** dx of LN given dy (gain g, frozen). */
export function lnBackward(x: Float64Array, n: number, C: number, g: Arr, cache: LnCache, dy: Float64Array): Float64Array {
  const dx = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    const m = cache.mean[i];
    const rs = cache.rstd[i];
    let s1 = 0;
    let s2 = 0;
    for (let c = 0; c < C; c++) {
      const gd = g[c] * dy[i * C + c];
      s1 += gd;
      s2 += gd * (x[i * C + c] - m) * rs;
    }
    s1 /= C;
    s2 /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (x[i * C + c] - m) * rs;
      dx[i * C + c] = rs * (g[c] * dy[i * C + c] - s1 - xhat * s2);
    }
  }
  return dx;
}

export interface AttCache { P: Float64Array; out: Float64Array }

export function attForward(qkv: Float64Array, B: number, T: number, H: number, D: number): AttCache {
  const C = H * D;
  const P = new Float64Array(B * H * T * T);
  const out = new Float64Array(B * T * C);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const row = ((b * H + h) * T + t) * T;
    let mx = -Infinity;
    for (let j = 0; j <= t; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += qkv[(b * T + t) * 3 * C + h * D + d] * qkv[(b * T + j) * 3 * C + C + h * D + d];
      P[row + j] = s * scale;
      mx = Math.max(mx, P[row + j]);
    }
    let sum = 0;
    for (let j = 0; j <= t; j++) sum += (P[row + j] = Math.exp(P[row + j] - mx));
    for (let j = 0; j <= t; j++) P[row + j] /= sum;
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let j = 0; j <= t; j++) s += P[row + j] * qkv[(b * T + j) * 3 * C + 2 * C + h * D + d];
      out[(b * T + t) * C + h * D + d] = s;
    }
  }
  return { P, out };
}

export function attBackward(qkv: Float64Array, cache: AttCache, dout: Float64Array, B: number, T: number, H: number, D: number): Float64Array {
  const C = H * D;
  const dqkv = new Float64Array(B * T * 3 * C);
  const scale = 1 / Math.sqrt(D);
  const at = (n: number, part: number, h: number, d: number) => n * 3 * C + part * C + h * D + d;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const row = ((b * H + h) * T + t) * T;
    const dP = new Float64Array(T);
    let dot = 0;
    for (let j = 0; j <= t; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += dout[(b * T + t) * C + h * D + d] * qkv[at(b * T + j, 2, h, d)];
      dP[j] = s;
      dot += cache.P[row + j] * s;
    }
    for (let j = 0; j <= t; j++) {
      const p = cache.P[row + j];
      const dS = p * (dP[j] - dot);
      for (let d = 0; d < D; d++) {
        dqkv[at(b * T + t, 0, h, d)] += scale * dS * qkv[at(b * T + j, 1, h, d)];
        dqkv[at(b * T + j, 1, h, d)] += scale * dS * qkv[at(b * T + t, 0, h, d)];
        dqkv[at(b * T + j, 2, h, d)] += p * dout[(b * T + t) * C + h * D + d];
      }
    }
  }
  return dqkv;
}

export interface RefResult {
  /** N x V */
  logits: Float64Array;
  /** Per-row cross-entropy, N. */
  losses: Float64Array;
  loss: number;
  /** Coordinate RMS of Z_A and Z_B per adapter (in the order given). */
  zA: number[];
  zB: number[];
  /** dL/dA (r x in) and dL/dB (out x r) per adapter, when `grads` was asked for. */
  grads?: Array<{ dA: Float64Array; dB: Float64Array }>;
}

function dims(c: Gpt2Config, t: LoraTarget): [number, number] {
  const C = c.n_embd;
  const F = c.n_inner;
  return t === 'attn.c_attn' ? [C, 3 * C] : t === 'attn.c_proj' ? [C, C] : t === 'mlp.c_fc' ? [C, F] : [F, C];
}

/** Forward (and, with `grads`, backward to every adapter) on B sequences of T tokens. */
export function gpt2Reference(w: Gpt2Weights, adapters: readonly RefAdapter[], tokens: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number, opts: { grads?: boolean } = {}): RefResult {
  const c = w.config;
  const C = c.n_embd;
  const F = c.n_inner;
  const H = c.n_head;
  const D = C / H;
  const V = c.vocab_size;
  const N = B * T;
  const eps = c.layer_norm_epsilon;
  const find = (l: number, t: LoraTarget) => adapters.findIndex((a) => a.layer === l && a.target === t);
  const zAs: Float64Array[] = adapters.map(() => new Float64Array(0));
  const zB: number[] = adapters.map(() => 0);

  const x0 = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let k = 0; k < C; k++) x0[n * C + k] = w.wte.data[tokens[n] * C + k] + w.wpe.data[(n % T) * C + k];

  // One Conv1D module with its adapter (if any); records Z_A and ||Z_B||.
  const module = (l: number, t: LoraTarget, x: Float64Array, W: Arr, b: Arr): Float64Array => {
    const [nIn, nOut] = dims(c, t);
    const y = conv(x, N, nIn, W, b, nOut);
    const k = find(l, t);
    if (k >= 0) {
      const before = Float64Array.from(y);
      zAs[k] = loraAdd(x, N, nIn, nOut, adapters[k], y);
      let ss = 0;
      for (let i = 0; i < y.length; i++) ss += (y[i] - before[i]) ** 2;
      zB[k] = Math.sqrt(ss / y.length);
    }
    return y;
  };

  const xs = [x0];
  const caches = [];
  for (let l = 0; l < c.n_layer; l++) {
    const L = w.layers[l];
    const x = xs[l];
    const ln1 = lnForward(x, N, C, L.ln1.weight.data, L.ln1.bias.data, eps);
    const qkv = module(l, 'attn.c_attn', ln1.y, L.attn.cAttn.weight.data, L.attn.cAttn.bias.data);
    const att = attForward(qkv, B, T, H, D);
    const proj = module(l, 'attn.c_proj', att.out, L.attn.cProj.weight.data, L.attn.cProj.bias.data);
    const xm = x.map((v, i) => v + proj[i]);
    const ln2 = lnForward(xm, N, C, L.ln2.weight.data, L.ln2.bias.data, eps);
    const fc = module(l, 'mlp.c_fc', ln2.y, L.mlp.cFc.weight.data, L.mlp.cFc.bias.data);
    const h = fc.map((v) => phi('gelu', v));
    const out = module(l, 'mlp.c_proj', h, L.mlp.cProj.weight.data, L.mlp.cProj.bias.data);
    xs.push(xm.map((v, i) => v + out[i]));
    caches.push({ ln1, qkv, att, xm, ln2, fc, h });
  }
  const lnf = lnForward(xs[c.n_layer], N, C, w.lnF.weight.data, w.lnF.bias.data, eps);
  const logits = new Float64Array(N * V);
  for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) {
    let s = 0;
    for (let k = 0; k < C; k++) s += lnf.y[n * C + k] * w.wte.data[v * C + k];
    logits[n * V + v] = s;
  }
  const losses = new Float64Array(N);
  const lse = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[n * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - mx);
    lse[n] = mx + Math.log(s);
    losses[n] = lse[n] - logits[n * V + targets[n]];
  }
  const loss = losses.reduce((a, b) => a + b, 0) / N;
  const rms = (z: Float64Array) => (z.length ? Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length) : 0);
  const result: RefResult = { logits, losses, loss, zA: zAs.map(rms), zB };
  if (!opts.grads) return result;

  // ---- backward ----
  const grads = adapters.map((a) => {
    const [nIn, nOut] = dims(c, a.target);
    return { dA: new Float64Array(a.rank * nIn), dB: new Float64Array(nOut * a.rank) };
  });
  // Module backward: adapter grads from G and X, returns dX = G W^T + U A.
  const moduleBack = (l: number, t: LoraTarget, x: Float64Array, W: Arr, G: Float64Array): Float64Array => {
    const [nIn, nOut] = dims(c, t);
    const dx = new Float64Array(N * nIn);
    for (let i = 0; i < N; i++) for (let k = 0; k < nIn; k++) {
      let s = 0;
      for (let o = 0; o < nOut; o++) s += G[i * nOut + o] * W[k * nOut + o];
      dx[i * nIn + k] = s;
    }
    const ki = find(l, t);
    if (ki < 0) return dx;
    const a = adapters[ki];
    const r = a.rank;
    const zA = zAs[ki];
    const U = new Float64Array(N * r);
    for (let i = 0; i < N; i++) for (let q = 0; q < r; q++) {
      let s = 0;
      for (let o = 0; o < nOut; o++) s += G[i * nOut + o] * a.B[o * r + q];
      U[i * r + q] = a.scale * s;
    }
    const g = grads[ki];
    for (let o = 0; o < nOut; o++) for (let q = 0; q < r; q++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += G[i * nOut + o] * zA[i * r + q];
      g.dB[o * r + q] = a.scale * s;
    }
    for (let q = 0; q < r; q++) for (let k = 0; k < nIn; k++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += U[i * r + q] * x[i * nIn + k];
      g.dA[q * nIn + k] = s;
    }
    for (let i = 0; i < N; i++) for (let k = 0; k < nIn; k++) {
      let s = 0;
      for (let q = 0; q < r; q++) s += U[i * r + q] * a.A[q * nIn + k];
      dx[i * nIn + k] += s;
    }
    return dx;
  };

  const dlnf = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) {
    const dl = (Math.exp(logits[n * V + v] - lse[n]) - (v === targets[n] ? 1 : 0)) / N;
    for (let k = 0; k < C; k++) dlnf[n * C + k] += dl * w.wte.data[v * C + k];
  }
  let dres = lnBackward(xs[c.n_layer], N, C, w.lnF.weight.data, lnf, dlnf);
  for (let l = c.n_layer - 1; l >= 0; l--) {
    const L = w.layers[l];
    const k = caches[l];
    const dh = moduleBack(l, 'mlp.c_proj', k.h, L.mlp.cProj.weight.data, dres);
    const dfc = dh.map((v, i) => v * dphi('gelu', k.fc[i]));
    const dln2 = moduleBack(l, 'mlp.c_fc', k.ln2.y, L.mlp.cFc.weight.data, dfc);
    const dxm = lnBackward(k.xm, N, C, L.ln2.weight.data, k.ln2, dln2).map((v, i) => v + dres[i]);
    const datt = moduleBack(l, 'attn.c_proj', k.att.out, L.attn.cProj.weight.data, dxm);
    const dqkv = attBackward(k.qkv, k.att, datt, B, T, H, D);
    const dln1 = moduleBack(l, 'attn.c_attn', k.ln1.y, L.attn.cAttn.weight.data, dqkv);
    dres = lnBackward(xs[l], N, C, L.ln1.weight.data, k.ln1, dln1).map((v, i) => v + dxm[i]);
  }
  result.grads = grads;
  return result;
}
