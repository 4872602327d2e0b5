// Checks of the float64 toy-model reference against itself: analytic gradients against central finite
// differences of its own loss, the forward against an independent matrix-form evaluation, the spec's
// zero-start consequences, and AdamW's first-step property.
import { describe, expect, it } from 'vitest';
import { add, mat, matmul, map, rms, scale, transpose } from '../../src/reference/linalg.ts';
import {
  adamwStep,
  dphi,
  loraScale,
  phi,
  referenceForward,
  referenceGradients,
  referenceTrain,
  type RefConfig,
  type RefTensors,
} from '../../src/reference/toyReference.ts';

/** mulberry32 + Box-Muller: a deterministic N(0,1) stream for test tensors. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function randn(rand: () => number, count: number, std: number): Float64Array {
  return Float64Array.from({ length: count }, () => rand() * std);
}

function toy(n: number, d: number, N: number, r: number, seed: number, opts: { zeroA?: boolean; zeroB?: boolean } = {}): RefTensors {
  const rand = gaussian(seed);
  return {
    n,
    d,
    N,
    W_in: randn(rand, n * d, 1 / Math.sqrt(d)),
    W0: randn(rand, n * n, 1 / Math.sqrt(n)),
    W_out: randn(rand, n, 1 / Math.sqrt(n)),
    A: opts.zeroA ? new Float64Array(r * n) : randn(rand, r * n, 1 / Math.sqrt(n)),
    B: opts.zeroB ? new Float64Array(n * r) : randn(rand, n * r, 1 / Math.sqrt(r)),
    X_train: randn(rand, N * d, 1),
    Y_train: randn(rand, N, 1),
  };
}

function config(over: Partial<RefConfig> = {}): RefConfig {
  return { activation: 'tanh', rank: 2, alpha: 3, rslora: false, eta: 1e-2, lambda: 4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, steps: 1, ...over };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Central differences of the reference loss with respect to every entry of A or B. */
function finiteDiff(t: RefTensors, cfg: RefConfig, which: 'A' | 'B', h: number): Float64Array {
  const A = Float64Array.from(t.A);
  const B = Float64Array.from(t.B);
  const target = which === 'A' ? A : B;
  const out = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const keep = target[i];
    target[i] = keep + h;
    const up = referenceForward(t, cfg, A, B).loss;
    target[i] = keep - h;
    const down = referenceForward(t, cfg, A, B).loss;
    target[i] = keep;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

describe('toy reference: gradients', () => {
  // Central differences with h = 1e-5: truncation error ~ h^2 * |L'''| ~ 1e-10, cancellation error
  // ~ 1e-16 * |L| / h ~ 1e-11, so agreement to 1e-6 of the gradient's scale is a sharp check.
  const cases: Array<[RefConfig['activation'], boolean, number]> = [
    ['tanh', false, 2],
    ['gelu', true, 3],
    ['relu', false, 1],
    ['gelu', false, 1],
  ];
  for (const [activation, rslora, rank] of cases) {
    it(`dA, dB match finite differences (${activation}, r=${rank}, rslora=${rslora})`, () => {
      const t = toy(5, 3, 4, rank, 11 + rank);
      const cfg = config({ activation, rslora, rank });
      if (activation === 'relu') {
        // Finite differences across a ReLU kink would be meaningless: make sure none is within reach.
        const f = referenceForward(t, cfg, t.A, t.B);
        for (const v of f.P2) expect(Math.abs(v)).toBeGreaterThan(1e-3);
      }
      const g = referenceGradients(t, cfg, t.A, t.B);
      const fdA = finiteDiff(t, cfg, 'A', 1e-5);
      const fdB = finiteDiff(t, cfg, 'B', 1e-5);
      expect(maxAbs(g.dA)).toBeGreaterThan(1e-4); // a vanishing gradient would make the check vacuous
      expect(maxAbs(g.dB)).toBeGreaterThan(1e-4);
      for (let i = 0; i < fdA.length; i++) expect(Math.abs(g.dA[i] - fdA[i])).toBeLessThan(1e-6 * maxAbs(fdA));
      for (let i = 0; i < fdB.length; i++) expect(Math.abs(g.dB[i] - fdB[i])).toBeLessThan(1e-6 * maxAbs(fdB));
    });
  }

  it('dphi is the derivative of phi for every activation (finite differences)', () => {
    for (const act of ['relu', 'tanh', 'gelu'] as const) {
      for (const v of [-4, -1.3, -0.2, 0.05, 0.7, 2.5, 6]) {
        const fd = (phi(act, v + 1e-6) - phi(act, v - 1e-6)) / 2e-6;
        expect(Math.abs(dphi(act, v) - fd)).toBeLessThan(1e-8);
      }
    }
    expect(dphi('relu', 0)).toBe(0);
    expect(phi('gelu', 0)).toBe(0);
    expect(dphi('gelu', 0)).toBe(0.5);
  });
});

describe('toy reference: forward', () => {
  it('matches an independent matrix-form evaluation with W0 + s B A', () => {
    for (const [activation, rslora] of [['relu', false], ['tanh', true], ['gelu', false]] as const) {
      const n = 6, d = 4, N = 5, r = 3;
      const t = toy(n, d, N, r, 99);
      const cfg = config({ activation, rslora, rank: r, alpha: 2 });
      const s = rslora ? 2 / Math.sqrt(3) : 2 / 3;
      expect(loraScale(cfg)).toBeCloseTo(s, 15);
      const X = mat(N, d, t.X_train);
      const h1 = map(matmul(X, transpose(mat(n, d, t.W_in))), (v) => phi(activation, v));
      const Weff = add(mat(n, n, t.W0), scale(matmul(mat(n, r, t.B), mat(r, n, t.A)), s));
      const h2 = map(matmul(h1, transpose(Weff)), (v) => phi(activation, v));
      const y = matmul(h2, transpose(mat(1, n, t.W_out)));
      let sse = 0;
      for (let b = 0; b < N; b++) sse += (y.data[b] - t.Y_train[b]) ** 2;
      const ZA = matmul(h1, transpose(mat(r, n, t.A)));
      const ZB = scale(matmul(ZA, transpose(mat(n, r, t.B))), s);

      const f = referenceForward(t, cfg, t.A, t.B);
      expect(f.loss).toBeGreaterThan(0);
      expect(Math.abs(f.loss - sse / (2 * N))).toBeLessThan(1e-12 * f.loss);
      for (let b = 0; b < N; b++) expect(Math.abs(f.y[b] - y.data[b])).toBeLessThan(1e-12);
      expect(Math.abs(f.zA - rms(ZA.data))).toBeLessThan(1e-12);
      expect(Math.abs(f.zB - rms(ZB.data))).toBeLessThan(1e-12);
      expect(f.zA).toBeGreaterThan(0);
      expect(f.zB).toBeGreaterThan(0);
    }
  });

  it('Init[A] (B = 0): base model output, ||Z_B|| = 0 and dL/dA = 0 exactly', () => {
    const t = toy(7, 3, 6, 2, 5, { zeroB: true });
    const cfg = config({ activation: 'gelu' });
    const g = referenceGradients(t, cfg, t.A, t.B);
    const base = referenceForward({ ...t, A: new Float64Array(t.A.length) }, cfg, new Float64Array(t.A.length), t.B);
    expect(g.forward.zB).toBe(0);
    expect(g.forward.zA).toBeGreaterThan(0);
    expect(Array.from(g.forward.y)).toEqual(Array.from(base.y));
    expect(maxAbs(g.dA)).toBe(0);
    expect(maxAbs(g.dB)).toBeGreaterThan(0);
  });

  it('Init[B] (A = 0): ||Z_A|| = ||Z_B|| = 0 and dL/dB = 0 exactly', () => {
    const t = toy(7, 3, 6, 2, 6, { zeroA: true });
    const g = referenceGradients(t, config({ activation: 'relu' }), t.A, t.B);
    expect(g.forward.zA).toBe(0);
    expect(g.forward.zB).toBe(0);
    expect(maxAbs(g.dB)).toBe(0);
    expect(maxAbs(g.dA)).toBeGreaterThan(0);
  });

  it('rejects tensors of the wrong size', () => {
    const t = toy(4, 2, 3, 2, 1);
    expect(() => referenceForward(t, config({ rank: 3 }), t.A, t.B)).toThrow(/A has 8 entries/);
  });
});

describe('toy reference: AdamW training', () => {
  for (const [eps, wd] of [[1e-8, 0], [1e-3, 0], [1e-8, 0.1]] as const) {
    it(`first step moves every entry by lr*|g|/(|g|+eps) (eps=${eps}, weight decay=${wd})`, () => {
      const t = toy(6, 3, 5, 2, 21);
      const cfg = config({ activation: 'tanh', eps, weight_decay: wd, eta: 3e-3, lambda: 8, steps: 1 });
      const res = referenceTrain(t, cfg);
      const { dA, dB } = res.grads[0];
      const check = (before: ArrayLike<number>, after: Float64Array, grad: Float64Array, lr: number) => {
        let moved = 0;
        for (let i = 0; i < after.length; i++) {
          const g = grad[i];
          const decayed = before[i] * (1 - lr * wd);
          const want = decayed - (lr * Math.sign(g) * Math.abs(g)) / (Math.abs(g) + eps);
          // The only differences are float64 rounding in the bias corrections (1 - beta^1 computed two ways).
          expect(Math.abs(after[i] - want)).toBeLessThan(1e-15 + 1e-12 * lr);
          if (g !== 0) moved++;
        }
        expect(moved).toBe(after.length);
      };
      check(t.A, res.A, dA, cfg.eta);
      check(t.B, res.B, dB, cfg.lambda * cfg.eta);
      if (eps === 1e-8 && wd === 0) {
        // The sharp form of the property: with |g| >> eps the move is the group's rate itself.
        for (let i = 0; i < res.A.length; i++) if (Math.abs(dA[i]) > 1e-4) expect(Math.abs(res.A[i] - t.A[i])).toBeCloseTo(cfg.eta, 6);
        for (let i = 0; i < res.B.length; i++) if (Math.abs(dB[i]) > 1e-4) expect(Math.abs(res.B[i] - t.B[i])).toBeCloseTo(cfg.lambda * cfg.eta, 6);
      }
    });
  }

  it('Init[A]: A is unchanged by the first step, B moves by lambda*eta', () => {
    const t = toy(6, 3, 5, 2, 31, { zeroB: true });
    const cfg = config({ eta: 1e-3, lambda: 16 });
    const res = referenceTrain(t, cfg);
    expect(Array.from(res.A)).toEqual(Array.from(t.A));
    const dB = res.grads[0].dB;
    for (let i = 0; i < res.B.length; i++) {
      const g = Math.abs(dB[i]);
      expect(g).toBeGreaterThan(0);
      expect(Math.abs(Math.abs(res.B[i]) - (16e-3 * g) / (g + 1e-8))).toBeLessThan(1e-17);
      // "by lambda*eta, to within eps effects": eps/|g| relative.
      expect(Math.abs(Math.abs(res.B[i]) - 16e-3)).toBeLessThanOrEqual((16e-3 * 1e-8) / g + 1e-17);
    }
  });

  it('records metrics from the forward before each update, and a second step uses bias-corrected moments', () => {
    const t = toy(5, 2, 7, 2, 41);
    const cfg = config({ activation: 'gelu', steps: 2, weight_decay: 0.05, eta: 1e-2, lambda: 2 });
    const res = referenceTrain(t, cfg);
    expect(res.steps.map((s) => s.step)).toEqual([1, 2]);
    const f0 = referenceForward(t, cfg, t.A, t.B);
    expect(res.steps[0].loss).toBe(f0.loss);
    expect(res.steps[0].zA).toBe(f0.zA);
    expect(res.steps[0].zB).toBe(f0.zB);
    expect(res.steps[0].normA).toBeCloseTo(rms(t.A), 14);
    expect(res.steps[0].normB).toBeCloseTo(rms(t.B), 14);
    // ||s B A||_F^2 = s^2 trace((B^T B)(A A^T)), the identity the GPU uses.
    const A = mat(2, 5, t.A), B = mat(5, 2, t.B);
    const btb = matmul(transpose(B), B), aat = matmul(A, transpose(A));
    let tr = 0;
    for (let i = 0; i < 2; i++) for (let k = 0; k < 2; k++) tr += btb.data[i * 2 + k] * aat.data[k * 2 + i];
    const s = loraScale(cfg);
    expect(res.steps[0].normSBA).toBeCloseTo(Math.sqrt((s * s * tr) / 25), 12);

    // Step 2 by hand from the step-1 state, written out without adamwStep.
    const one = referenceTrain(t, { ...cfg, steps: 1 });
    const g2 = referenceGradients(t, cfg, one.A, one.B);
    expect(res.steps[1].loss).toBe(g2.forward.loss);
    const { beta1: b1, beta2: b2, eps, weight_decay: wd } = cfg;
    for (let i = 0; i < res.A.length; i++) {
      const g1 = one.grads[0].dA[i], g = g2.dA[i];
      const m = b1 * (1 - b1) * g1 + (1 - b1) * g;
      const v = b2 * (1 - b2) * g1 * g1 + (1 - b2) * g * g;
      const want = one.A[i] * (1 - cfg.eta * wd) - (cfg.eta * (m / (1 - b1 * b1))) / (Math.sqrt(v / (1 - b2 * b2)) + eps);
      expect(Math.abs(res.A[i] - want)).toBeLessThan(1e-14);
    }
  });

  it('adamwStep leaves entries with a zero gradient and no decay untouched', () => {
    const theta = Float64Array.from([1.5, -2, 0.25]);
    const m = new Float64Array(3), v = new Float64Array(3);
    adamwStep(theta, [0, 0.5, 0], m, v, 1, { lr: 0.1, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(theta[0]).toBe(1.5);
    expect(theta[2]).toBe(0.25);
    expect(Math.abs(theta[1] - (-2 - (0.1 * 0.5) / (0.5 + 1e-8)))).toBeLessThan(1e-15);
  });

  it('trains: the loss falls over 60 steps at a moderate rate', () => {
    const t = toy(8, 3, 16, 2, 51, { zeroB: true });
    const res = referenceTrain(t, config({ activation: 'tanh', eta: 2e-2, lambda: 4, steps: 60 }));
    const first = res.steps[0].loss, last = res.steps[59].loss;
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(0.8 * first);
  });
});
