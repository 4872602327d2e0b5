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
// Training mode (`dropout`): HF GPT-2's dropout and PEFT's lora_dropout with the engine's masks
// (dropoutMask.ts, the same sites as graph.ts), element indices as the GPU draws them:
//   x0 = drop_e(wte[tok] + wpe[t]);  att = drop_a(P) v;  xm = x + drop_r(att Wp + bp + LoRA);
//   x' = xm + drop_r(h Wo + bo + LoRA);  an adapter's Z_A = drop_l(x) A^T (the frozen product sees x).
// gpt2TrainReference: AdamW steps with the learning-rate schedule, clipping by global norm and gradient
// accumulation, as Hugging Face's Trainer does them (optimizer step after k micro-batches).

import type { DropoutRates } from '../experiments/gpt2/config.ts';
import { dropoutSite } from '../experiments/gpt2/graph.ts';
import type { Gpt2Config, Gpt2Weights, LoraTarget } from '../models/gpt2.ts';
import { dropoutMask } from './dropoutMask.ts';
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
  // (x is the adapter's input: dropped already under lora_dropout)
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

export interface AttCache { P: Float64Array; out: Float64Array; mask?: Float64Array | null }

/** `mask`: attention dropout, keep / (1 - p) per element of P (null: none). */
export function attForward(qkv: Float64Array, B: number, T: number, H: number, D: number, mask: Float64Array | null = null): AttCache {
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
      for (let j = 0; j <= t; j++) s += P[row + j] * (mask ? mask[row + j] : 1) * qkv[(b * T + j) * 3 * C + 2 * C + h * D + d];
      out[(b * T + t) * C + h * D + d] = s;
    }
  }
  return { P, out, mask };
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
    const m = (j: number) => (cache.mask ? cache.mask[row + j] : 1);
    for (let j = 0; j <= t; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += dout[(b * T + t) * C + h * D + d] * qkv[at(b * T + j, 2, h, d)];
      dP[j] = s * m(j); // through the dropout: d P = m d Pd
      dot += cache.P[row + j] * dP[j];
    }
    for (let j = 0; j <= t; j++) {
      const p = cache.P[row + j];
      const dS = p * (dP[j] - dot);
      for (let d = 0; d < D; d++) {
        dqkv[at(b * T + t, 0, h, d)] += scale * dS * qkv[at(b * T + j, 1, h, d)];
        dqkv[at(b * T + j, 1, h, d)] += scale * dS * qkv[at(b * T + t, 0, h, d)];
        dqkv[at(b * T + j, 2, h, d)] += p * m(j) * dout[(b * T + t) * C + h * D + d];
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

/** Training-mode dropout: the rates, and the key of this forward's masks (seed, step, micro-batch). */
export interface RefDropout {
  rates: DropoutRates;
  seed: number;
  step: number;
  micro?: number;
}

/**
 * Forward (and, with `grads`, backward to every adapter) on B sequences of T tokens; with `dropout`, in
 * training mode. `gradScale` multiplies the loss's gradient (1/k for one of k accumulated micro-batches).
 */
export function gpt2Reference(w: Gpt2Weights, adapters: readonly RefAdapter[], tokens: ArrayLike<number>, targets: ArrayLike<number>, B: number, T: number, opts: { grads?: boolean; dropout?: RefDropout } = {}): RefResult {
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
  const drop = opts.dropout;
  const maskAt = (p: number, site: number, count: number) => (drop ? dropoutMask({ p, site, seed: drop.seed, step: drop.step, micro: drop.micro }, count) : null);
  const apply = (x: Float64Array, m: Float64Array | null) => (m ? x.map((v, i) => v * m[i]) : x);
  const loraMask = (l: number, t: LoraTarget) => maskAt(drop?.rates.lora ?? 0, dropoutSite(l, 'lora', t), N * dims(c, t)[0]);

  const x0raw = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let k = 0; k < C; k++) x0raw[n * C + k] = w.wte.data[tokens[n] * C + k] + w.wpe.data[(n % T) * C + k];
  const x0 = apply(x0raw, maskAt(drop?.rates.embd ?? 0, dropoutSite(0, 'embd'), N * C));

  // One Conv1D module with its adapter (if any); records Z_A and ||Z_B||.
  const module = (l: number, t: LoraTarget, x: Float64Array, W: Arr, b: Arr): Float64Array => {
    const [nIn, nOut] = dims(c, t);
    const y = conv(x, N, nIn, W, b, nOut);
    const k = find(l, t);
    if (k >= 0) {
      const before = Float64Array.from(y);
      zAs[k] = loraAdd(apply(x, loraMask(l, t)), N, nIn, nOut, adapters[k], y);
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
    const att = attForward(qkv, B, T, H, D, maskAt(drop?.rates.attn ?? 0, dropoutSite(l, 'attn'), B * H * T * T));
    const attnResid = maskAt(drop?.rates.resid ?? 0, dropoutSite(l, 'attnResid'), N * C);
    const mlpResid = maskAt(drop?.rates.resid ?? 0, dropoutSite(l, 'mlpResid'), N * C);
    const proj = apply(module(l, 'attn.c_proj', att.out, L.attn.cProj.weight.data, L.attn.cProj.bias.data), attnResid);
    const xm = x.map((v, i) => v + proj[i]);
    const ln2 = lnForward(xm, N, C, L.ln2.weight.data, L.ln2.bias.data, eps);
    const fc = module(l, 'mlp.c_fc', ln2.y, L.mlp.cFc.weight.data, L.mlp.cFc.bias.data);
    const h = fc.map((v) => phi('gelu', v));
    const out = apply(module(l, 'mlp.c_proj', h, L.mlp.cProj.weight.data, L.mlp.cProj.bias.data), mlpResid);
    xs.push(xm.map((v, i) => v + out[i]));
    caches.push({ ln1, qkv, att, xm, ln2, fc, h, attnResid, mlpResid });
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
    const m = loraMask(l, t);
    x = apply(x, m); // dA = U^T drop_l(X); the adapter's part of dX goes through the same mask
    const dxLora = new Float64Array(N * nIn);
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
      dxLora[i * nIn + k] = s;
    }
    const dxl = apply(dxLora, m);
    for (let i = 0; i < dx.length; i++) dx[i] += dxl[i];
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
    const dh = moduleBack(l, 'mlp.c_proj', k.h, L.mlp.cProj.weight.data, apply(dres, k.mlpResid));
    const dfc = dh.map((v, i) => v * dphi('gelu', k.fc[i]));
    const dln2 = moduleBack(l, 'mlp.c_fc', k.ln2.y, L.mlp.cFc.weight.data, dfc);
    const dxm = lnBackward(k.xm, N, C, L.ln2.weight.data, k.ln2, dln2).map((v, i) => v + dres[i]);
    const datt = moduleBack(l, 'attn.c_proj', k.att.out, L.attn.cProj.weight.data, apply(dxm, k.attnResid));
    const dqkv = attBackward(k.qkv, k.att, datt, B, T, H, D);
    const dln1 = moduleBack(l, 'attn.c_attn', k.ln1.y, L.attn.cAttn.weight.data, dqkv);
    dres = lnBackward(xs[l], N, C, L.ln1.weight.data, k.ln1, dln1).map((v, i) => v + dxm[i]);
  }
  result.grads = grads;
  return result;
}

export interface RefTrainSettings {
  eta: number;
  lambda: number;
  wd: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** HF schedule over `steps` optimizer steps, after `warmup` steps of linear warmup. */
  schedule: 'constant' | 'linear' | 'cosine';
  warmup: number;
  steps: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  maxGradNorm: number;
  /** Micro-batches per step: each step's batch list holds this many (B sequences each). */
  gradAccum: number;
  dropout?: { rates: DropoutRates; seed: number };
}

export interface RefTrainStep {
  loss: number;
  lrScale: number;
  gradNorm: number;
}

/** Hugging Face's lr_lambda at `t` optimizer steps taken (get_{constant,linear,cosine}_schedule_with_warmup). */
export function hfLrFactor(s: Pick<RefTrainSettings, 'schedule' | 'warmup' | 'steps'>, t: number): number {
  if (t < s.warmup) return t / Math.max(1, s.warmup);
  if (s.schedule === 'constant') return 1;
  const rest = Math.max(1, s.steps - s.warmup);
  if (s.schedule === 'linear') return Math.max(0, (s.steps - t) / rest);
  return Math.max(0, 0.5 * (1 + Math.cos((Math.PI * (t - s.warmup)) / rest)));
}

/**
 * AdamW training of the adapters in float64, one optimizer step per entry of `steps` (each a list of k
 * micro-batches of B x T tokens): the mean loss over the step's rows, gradients of it summed over the
 * micro-batches, clipped by global norm (torch.nn.utils.clip_grad_norm_: scale min(1, max / (norm + 1e-6))),
 * then AdamW (lora-math.md section 3) at lr = base lr x the schedule's factor.
 */
export function gpt2TrainReference(
  w: Gpt2Weights,
  start: readonly RefAdapter[],
  steps: ReadonlyArray<ReadonlyArray<{ tokens: ArrayLike<number>; targets: ArrayLike<number> }>>,
  B: number,
  T: number,
  s: RefTrainSettings,
): { steps: RefTrainStep[]; adapters: RefAdapter[] } {
  const adapters = start.map((a) => ({ ...a, A: Float64Array.from(a.A), B: Float64Array.from(a.B) }));
  const moments = adapters.map((a) => ({ mA: new Float64Array(a.A.length), vA: new Float64Array(a.A.length), mB: new Float64Array(a.B.length), vB: new Float64Array(a.B.length) }));
  const out: RefTrainStep[] = [];
  steps.forEach((micro, i) => {
    const t = i + 1;
    const k = micro.length;
    const grads = adapters.map((a) => ({ dA: new Float64Array(a.A.length), dB: new Float64Array(a.B.length) }));
    let loss = 0;
    micro.forEach((mb, j) => {
      const dropout = s.dropout ? { ...s.dropout, step: t, micro: j } : undefined;
      const r = gpt2Reference(w, adapters, mb.tokens, mb.targets, B, T, { grads: true, dropout });
      loss += r.loss / k;
      r.grads!.forEach((g, q) => {
        g.dA.forEach((v, e) => (grads[q].dA[e] += v / k));
        g.dB.forEach((v, e) => (grads[q].dB[e] += v / k));
      });
    });
    let sq = 0;
    for (const g of grads) for (const v of [...g.dA, ...g.dB]) sq += v * v;
    const gradNorm = Math.sqrt(sq);
    const clip = s.maxGradNorm > 0 ? Math.min(1, s.maxGradNorm / (gradNorm + 1e-6)) : 1;
    const lrScale = hfLrFactor(s, t - 1);
    const bc1 = 1 - s.beta1 ** t;
    const bc2 = 1 - s.beta2 ** t;
    const adam = (theta: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lr: number) => {
      for (let e = 0; e < theta.length; e++) {
        const ge = g[e] * clip;
        theta[e] *= 1 - lr * s.wd;
        m[e] = s.beta1 * m[e] + (1 - s.beta1) * ge;
        v[e] = s.beta2 * v[e] + (1 - s.beta2) * ge * ge;
        theta[e] -= (lr * (m[e] / bc1)) / (Math.sqrt(v[e] / bc2) + s.eps);
      }
    };
    adapters.forEach((a, q) => {
      adam(a.A as Float64Array, grads[q].dA, moments[q].mA, moments[q].vA, s.eta * lrScale);
      adam(a.B as Float64Array, grads[q].dB, moments[q].mB, moments[q].vB, s.lambda * s.eta * lrScale);
    });
    out.push({ loss, lrScale, gradNorm });
  });
  return { steps: out, adapters };
}
