// Float64 CPU reference of the toy model (docs/lora-math.md section 4) trained by AdamW (section 3),
// from explicit tensors (the exchange file of section 6). Plain loops, row-major, no cleverness: this
// is what the GPU path is checked against (E0 parity, E2 first gradients, kernel tests).
//
//   s   = alpha / r                (rsLoRA: alpha / sqrt(r))
//   h1  = phi(X W_in^T)            (m x n)
//   Z_A = h1 A^T                   (m x r)
//   Z_B = s Z_A B^T                (m x n)
//   P2  = h1 W0^T + Z_B            (m x n)
//   h2  = phi(P2)                  (m x n)
//   y   = h2 W_out^T               (m)
//   L   = 1/(2m) sum (y - y*)^2
// Backward: g = (y - y*)/m; dP2 = (g W_out) * phi'(P2); dB = s dP2^T Z_A; U = s dP2 B; dA = U^T h1.

import { rms } from './linalg.ts';

export type RefActivation = 'relu' | 'tanh' | 'gelu';

export interface RefConfig {
  activation: RefActivation;
  rank: number;
  alpha: number;
  rslora: boolean;
  eta: number;
  lambda: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  steps: number;
}

type Vec = Float64Array | ArrayLike<number>;

/** Row-major tensors: W_in n x d, W0 n x n, W_out 1 x n, A r x n, B n x r, X_train N x d, Y_train N x 1. */
export interface RefTensors {
  W_in: Vec;
  W0: Vec;
  W_out: Vec;
  A: Vec;
  B: Vec;
  X_train: Vec;
  Y_train: Vec;
  n: number;
  d: number;
  N: number;
}

export interface RefForward {
  loss: number;
  /** Coordinate RMS of Z_A (m x r) and Z_B (m x n). */
  zA: number;
  zB: number;
  s: number;
  /** h1 = phi(X W_in^T), m x n. */
  h1: Float64Array;
  /** Z_A = h1 A^T, m x r. */
  ZA: Float64Array;
  /** Z_B = s Z_A B^T, m x n. */
  ZB: Float64Array;
  /** Pre-activation of the adapted layer, m x n. */
  P2: Float64Array;
  h2: Float64Array;
  /** Model output, m. */
  y: Float64Array;
  /** y - y*, m. */
  residual: Float64Array;
}

export interface RefGradients {
  dA: Float64Array;
  dB: Float64Array;
  /** dL/dP2 (m x n) and U = s dP2 B (m x r), for kernel-level checks. */
  dP2: Float64Array;
  U: Float64Array;
  forward: RefForward;
}

export interface RefStepMetrics {
  step: number;
  loss: number;
  zA: number;
  zB: number;
  normA: number;
  normB: number;
  normSBA: number;
}

export interface RefTrainResult {
  steps: RefStepMetrics[];
  A: Float64Array;
  B: Float64Array;
  /** Gradients of every step (computed from that step's forward, before its update). */
  grads: Array<{ dA: Float64Array; dB: Float64Array }>;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

export function phi(act: RefActivation, v: number): number {
  switch (act) {
    case 'relu':
      return v > 0 ? v : 0;
    case 'tanh':
      return Math.tanh(v);
    case 'gelu':
      return 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_K * v * v * v)));
  }
}

/** phi'(v); ReLU's derivative at 0 is taken as 0 (PyTorch's convention). */
export function dphi(act: RefActivation, v: number): number {
  switch (act) {
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'tanh': {
      const t = Math.tanh(v);
      return 1 - t * t;
    }
    case 'gelu': {
      const t = Math.tanh(GELU_C * (v + GELU_K * v * v * v));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * v * v);
    }
  }
}

export function loraScale(cfg: Pick<RefConfig, 'alpha' | 'rank' | 'rslora'>): number {
  return cfg.rslora ? cfg.alpha / Math.sqrt(cfg.rank) : cfg.alpha / cfg.rank;
}

function checkLen(name: string, v: Vec, want: number): void {
  if (v.length !== want) throw new Error(`toyReference: ${name} has ${v.length} entries, expected ${want}`);
}

function checkShapes(t: RefTensors, r: number, A: Vec, B: Vec): void {
  const { n, d, N } = t;
  checkLen('W_in', t.W_in, n * d);
  checkLen('W0', t.W0, n * n);
  checkLen('W_out', t.W_out, n);
  checkLen('X_train', t.X_train, N * d);
  checkLen('Y_train', t.Y_train, N);
  checkLen('A', A, r * n);
  checkLen('B', B, n * r);
}

/** Full-batch forward pass (m = N) with the given A (r x n) and B (n x r). */
export function referenceForward(t: RefTensors, cfg: Pick<RefConfig, 'activation' | 'rank' | 'alpha' | 'rslora'>, A: Vec, B: Vec): RefForward {
  const { n, d, N: m } = t;
  const r = cfg.rank;
  checkShapes(t, r, A, B);
  const act = cfg.activation;
  const s = loraScale(cfg);

  const h1 = new Float64Array(m * n);
  for (let b = 0; b < m; b++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += t.X_train[b * d + k] * t.W_in[j * d + k];
      h1[b * n + j] = phi(act, acc);
    }
  }

  const ZA = new Float64Array(m * r);
  for (let b = 0; b < m; b++) {
    for (let q = 0; q < r; q++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += h1[b * n + j] * A[q * n + j];
      ZA[b * r + q] = acc;
    }
  }

  const ZB = new Float64Array(m * n);
  for (let b = 0; b < m; b++) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let q = 0; q < r; q++) acc += ZA[b * r + q] * B[i * r + q];
      ZB[b * n + i] = s * acc;
    }
  }

  const P2 = new Float64Array(m * n);
  const h2 = new Float64Array(m * n);
  for (let b = 0; b < m; b++) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += h1[b * n + j] * t.W0[i * n + j];
      const p = acc + ZB[b * n + i];
      P2[b * n + i] = p;
      h2[b * n + i] = phi(act, p);
    }
  }

  const y = new Float64Array(m);
  const residual = new Float64Array(m);
  let sse = 0;
  for (let b = 0; b < m; b++) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += h2[b * n + i] * t.W_out[i];
    y[b] = acc;
    residual[b] = acc - t.Y_train[b];
    sse += residual[b] * residual[b];
  }

  return { loss: sse / (2 * m), zA: rms(ZA), zB: rms(ZB), s, h1, ZA, ZB, P2, h2, y, residual };
}

/** dL/dA (r x n) and dL/dB (n x r) of the full-batch loss at (A, B). */
export function referenceGradients(t: RefTensors, cfg: Pick<RefConfig, 'activation' | 'rank' | 'alpha' | 'rslora'>, A: Vec, B: Vec): RefGradients {
  const f = referenceForward(t, cfg, A, B);
  const { n, N: m } = t;
  const r = cfg.rank;
  const s = f.s;

  const dP2 = new Float64Array(m * n);
  for (let b = 0; b < m; b++) {
    const g = f.residual[b] / m;
    for (let i = 0; i < n; i++) dP2[b * n + i] = g * t.W_out[i] * dphi(cfg.activation, f.P2[b * n + i]);
  }

  const dB = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < r; q++) {
      let acc = 0;
      for (let b = 0; b < m; b++) acc += dP2[b * n + i] * f.ZA[b * r + q];
      dB[i * r + q] = s * acc;
    }
  }

  const U = new Float64Array(m * r);
  for (let b = 0; b < m; b++) {
    for (let q = 0; q < r; q++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += dP2[b * n + i] * B[i * r + q];
      U[b * r + q] = s * acc;
    }
  }

  const dA = new Float64Array(r * n);
  for (let q = 0; q < r; q++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let b = 0; b < m; b++) acc += U[b * r + q] * f.h1[b * n + j];
      dA[q * n + j] = acc;
    }
  }

  return { dA, dB, dP2, U, forward: f };
}

/** Coordinate RMS of s B A (n x n), formed explicitly. */
export function normSBA(A: Vec, B: Vec, n: number, r: number, s: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let q = 0; q < r; q++) acc += B[i * r + q] * A[q * n + j];
      const v = s * acc;
      sum += v * v;
    }
  }
  return n > 0 ? Math.sqrt(sum / (n * n)) : 0;
}

/** One AdamW update in place (PyTorch semantics, decay first); t is the 1-based step number. */
export function adamwStep(
  theta: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  t: number,
  h: { lr: number; weightDecay: number; beta1: number; beta2: number; eps: number },
): void {
  const bc1 = 1 - Math.pow(h.beta1, t);
  const bc2 = 1 - Math.pow(h.beta2, t);
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i];
    theta[i] -= h.lr * h.weightDecay * theta[i];
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    theta[i] -= (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
  }
}

/**
 * Full-batch training of A and B for cfg.steps AdamW steps (lr_A = eta, lr_B = lambda * eta, the same
 * weight decay for both). Metrics of step t come from step t's forward, before its update.
 */
export function referenceTrain(t: RefTensors, cfg: RefConfig): RefTrainResult {
  const r = cfg.rank;
  const A = Float64Array.from(t.A);
  const B = Float64Array.from(t.B);
  checkShapes(t, r, A, B);
  const mA = new Float64Array(A.length);
  const vA = new Float64Array(A.length);
  const mB = new Float64Array(B.length);
  const vB = new Float64Array(B.length);
  const common = { weightDecay: cfg.weight_decay, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps };
  const steps: RefStepMetrics[] = [];
  const grads: RefTrainResult['grads'] = [];
  for (let step = 1; step <= cfg.steps; step++) {
    const g = referenceGradients(t, cfg, A, B);
    const f = g.forward;
    steps.push({ step, loss: f.loss, zA: f.zA, zB: f.zB, normA: rms(A), normB: rms(B), normSBA: normSBA(A, B, t.n, r, f.s) });
    grads.push({ dA: g.dA, dB: g.dB });
    adamwStep(A, g.dA, mA, vA, step, { ...common, lr: cfg.eta });
    adamwStep(B, g.dB, mB, vB, step, { ...common, lr: cfg.lambda * cfg.eta });
  }
  return { steps, A, B, grads };
}
