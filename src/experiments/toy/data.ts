// The toy teacher-student data (lora-math.md section 4), drawn from named streams of one seed, and the
// tensor exchange file (section 6) that pins every tensor for parity checks.
import { quoteJson } from '../untrusted.ts';
import { gaussian, Stream } from '../rng.ts';
import { initLora } from '../../lora/init.ts';
import { validateToyConfig, type ToyConfig } from './config.ts';

/** Every tensor of a toy run, row-major f32. Y_* may be absent until the teacher has run. */
export interface ToyTensors {
  n: number;
  d: number;
  rank: number;
  W_in: Float32Array;  // n x d
  W0: Float32Array;    // n x n
  W_out: Float32Array; // 1 x n
  A: Float32Array;     // r x n
  B: Float32Array;     // n x r
  X_train: Float32Array; // N x d
  Y_train?: Float32Array; // N x 1
  X_test: Float32Array;  // Ntest x d
  Y_test?: Float32Array;  // Ntest x 1
  /** The teacher's update W0 + U* V*^T as LoRA factors (A = V*^T, B = U*, scale 1); absent for exchange files. */
  teacher?: { A: Float32Array; B: Float32Array; rank: number };
}

/** Draw the frozen network, the teacher, the inputs and the LoRA init from the seed. */
export function drawToyTensors(c: ToyConfig): ToyTensors {
  const { n, d, seed } = c;
  const tr = c.teacherRank;
  const normal = (name: string, count: number, std: number) => gaussian(new Stream(seed, name), count, std);
  const U = normal('U*', n * tr, 1 / Math.sqrt(tr));  // n x r*
  const V = normal('V*', n * tr, 1 / Math.sqrt(n));   // n x r*
  const Vt = new Float32Array(tr * n);                // r* x n
  for (let i = 0; i < n; i++) for (let q = 0; q < tr; q++) Vt[q * n + i] = V[i * tr + q];
  const { A, B } = initLora({ nIn: n, nOut: n, rank: c.rank }, c.init, c.initDist, seed);
  return {
    n,
    d,
    rank: c.rank,
    W_in: normal('W_in', n * d, 1 / Math.sqrt(d)),
    W0: normal('W0', n * n, 1 / Math.sqrt(n)),
    W_out: normal('W_out', n, 1 / Math.sqrt(n)),
    A,
    B,
    X_train: normal('data', c.nTrain * d, 1),
    X_test: normal('data-test', c.nTest * d, 1),
    teacher: { A: Vt, B: U, rank: tr },
  };
}

/** Adds N(0, sigma^2) label noise to the training targets (stream "noise"). */
export function addNoise(y: Float32Array, sigma: number, seed: number): Float32Array {
  if (sigma === 0) return y;
  const e = gaussian(new Stream(seed, 'noise'), y.length, sigma);
  return y.map((v, i) => v + e[i]);
}

// ---- the exchange file ----

export const EXCHANGE_FORMAT = 'lora-playground-tensors';

export interface ExchangeConfig {
  activation: ToyConfig['activation'];
  rank: number;
  alpha: number;
  rslora: boolean;
  eta: number;
  lambda: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  batch_size: number;
  steps: number;
}

export interface ExchangeFile {
  format: typeof EXCHANGE_FORMAT;
  version: 1;
  config: ExchangeConfig;
  tensors: Record<string, { shape: [number, number]; data: number[] }>;
}

/** The exchange file's tensors in file order: name, shape and data (Y_* only when the teacher has run). */
function exchangeTensors(t: ToyTensors): Array<[string, [number, number], Float32Array]> {
  const N = t.X_train.length / t.d;
  const Nt = t.X_test.length / t.d;
  const out: Array<[string, [number, number], Float32Array]> = [
    ['W_in', [t.n, t.d], t.W_in],
    ['W0', [t.n, t.n], t.W0],
    ['W_out', [1, t.n], t.W_out],
    ['A', [t.rank, t.n], t.A],
    ['B', [t.n, t.rank], t.B],
    ['X_train', [N, t.d], t.X_train],
    ['X_test', [Nt, t.d], t.X_test],
  ];
  if (t.Y_train) out.push(['Y_train', [N, 1], t.Y_train]);
  if (t.Y_test) out.push(['Y_test', [Nt, 1], t.Y_test]);
  return out;
}

function exchangeConfig(c: ToyConfig, N: number): ExchangeConfig {
  return {
    activation: c.activation, rank: c.rank, alpha: c.alpha, rslora: c.rslora, eta: c.eta, lambda: c.lambda,
    beta1: c.beta1, beta2: c.beta2, eps: c.eps, weight_decay: c.wd, batch_size: c.batch === 0 ? N : c.batch, steps: c.steps,
  };
}

export function toExchange(c: ToyConfig, t: ToyTensors): ExchangeFile {
  const tensors: ExchangeFile['tensors'] = {};
  for (const [name, shape, data] of exchangeTensors(t)) tensors[name] = { shape, data: Array.from(data) };
  return { format: EXCHANGE_FORMAT, version: 1, config: exchangeConfig(c, t.X_train.length / t.d), tensors };
}

/** Numbers in the exchange file of `t` (to size the file before writing it: about 20 bytes each). */
export function exchangeNumbers(t: Pick<ToyConfig, 'n' | 'd' | 'rank' | 'nTrain' | 'nTest'>): number {
  return t.n * t.d + t.n * t.n + t.n + 2 * t.rank * t.n + (t.nTrain + t.nTest) * (t.d + 1);
}

/**
 * Writes the exchange file in pieces, never holding it in memory (a width of 8192 is over a gigabyte of
 * text, more than one JavaScript string can hold): the same text as JSON.stringify(toExchange(c, t)).
 * Throws on a non-finite number (JSON has none; the file would not load).
 */
export function writeExchange(c: ToyConfig, t: ToyTensors, write: (piece: string) => void): void {
  write(`{"format":${JSON.stringify(EXCHANGE_FORMAT)},"version":1,"config":${JSON.stringify(exchangeConfig(c, t.X_train.length / t.d))},"tensors":{`);
  const CHUNK = 1 << 16;
  exchangeTensors(t).forEach(([name, shape, data], i) => {
    write(`${i ? ',' : ''}"${name}":{"shape":[${shape[0]},${shape[1]}],"data":[`);
    for (let k = 0; k < data.length; k += CHUNK) {
      const part = data.subarray(k, k + CHUNK);
      for (let j = 0; j < part.length; j++) if (!Number.isFinite(part[j])) throw new Error(`${name}[${k + j}] is not a finite number (${part[j]})`);
      write((k ? ',' : '') + part.join(','));
    }
    write(']}');
  });
  write('}}');
}

/** Parse and validate an exchange file; throws an Error whose message names the problem. */
export function fromExchange(raw: unknown, base: ToyConfig): { config: ToyConfig; tensors: ToyTensors } {
  const fail = (msg: string): never => { throw new Error(`tensor file: ${msg}`); };
  if (typeof raw !== 'object' || raw === null) fail('not a JSON object');
  const f = raw as Partial<ExchangeFile>;
  if (f.format !== EXCHANGE_FORMAT) fail(`"format" must be "${EXCHANGE_FORMAT}"`);
  if (f.version !== 1) fail(`unsupported version ${quoteJson(f.version, 20)} (expected 1)`);
  if (typeof f.config !== 'object' || f.config === null) fail('missing "config" object');
  if (typeof f.tensors !== 'object' || f.tensors === null) fail('missing "tensors" object');
  const cfg = f.config as Partial<ExchangeConfig>;
  const tensors = f.tensors as Record<string, unknown>;
  const get = (name: string, required: boolean): { shape: [number, number]; data: Float32Array } | undefined => {
    const t = tensors[name] as { shape?: unknown; data?: unknown } | undefined;
    if (t === undefined) return required ? fail(`missing tensor ${name}`) : undefined;
    if (!Array.isArray(t.shape) || t.shape.length !== 2 || !t.shape.every((v) => Number.isInteger(v) && v > 0)) fail(`${name}.shape must be [rows, cols] of positive integers`);
    const [rows, cols] = t.shape as [number, number];
    if (!Array.isArray(t.data)) fail(`${name}.data must be an array`);
    const data = t.data as unknown[];
    if (data.length !== rows * cols) fail(`${name} has ${data.length} numbers but shape ${rows}x${cols} needs ${rows * cols}`);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${name}.data[${i}] is not a finite number`);
      out[i] = v as number;
    }
    return { shape: [rows, cols], data: out };
  };
  const W_in = get('W_in', true)!, W0 = get('W0', true)!, W_out = get('W_out', true)!, A = get('A', true)!, B = get('B', true)!;
  const X = get('X_train', true)!, Y = get('Y_train', true)!;
  const Xt = get('X_test', false), Yt = get('Y_test', false);
  const [n, d] = W_in.shape;
  const r = A.shape[0];
  const N = X.shape[0];
  const expect = (name: string, got: [number, number], want: [number, number]) => {
    if (got[0] !== want[0] || got[1] !== want[1]) fail(`${name} has shape [${got}] but the other tensors need [${want}]`);
  };
  expect('W0', W0.shape, [n, n]);
  expect('W_out', W_out.shape, [1, n]);
  expect('A', A.shape, [r, n]);
  expect('B', B.shape, [n, r]);
  expect('X_train', X.shape, [N, d]);
  expect('Y_train', Y.shape, [N, 1]);
  if (!!Xt !== !!Yt) fail('X_test and Y_test must come together');
  if (Xt && Yt) {
    expect('X_test', Xt.shape, [Xt.shape[0], d]);
    expect('Y_test', Yt.shape, [Xt.shape[0], 1]);
  }
  if (cfg.rank !== undefined && cfg.rank !== r) fail(`config.rank (${quoteJson(cfg.rank, 20)}) does not match A's rows (${r})`);
  const batchSize = cfg.batch_size ?? N;
  const candidate = {
    ...base,
    n, d, rank: r, nTrain: N, nTest: Xt ? Xt.shape[0] : 1,
    activation: cfg.activation ?? base.activation, alpha: cfg.alpha ?? base.alpha, rslora: cfg.rslora ?? base.rslora,
    eta: cfg.eta ?? base.eta, lambda: cfg.lambda ?? base.lambda, beta1: cfg.beta1 ?? base.beta1, beta2: cfg.beta2 ?? base.beta2,
    eps: cfg.eps ?? base.eps, wd: cfg.weight_decay ?? base.wd, batch: batchSize >= N ? 0 : batchSize, steps: cfg.steps ?? base.steps,
  };
  const checked = validateToyConfig(candidate);
  if (!checked.ok) fail(checked.error);
  return {
    config: (checked as { value: ToyConfig }).value,
    tensors: {
      n, d, rank: r, W_in: W_in.data, W0: W0.data, W_out: W_out.data, A: A.data, B: B.data,
      X_train: X.data, Y_train: Y.data,
      X_test: Xt ? Xt.data : X.data.slice(0, d), Y_test: Yt ? Yt.data : Y.data.slice(0, 1),
    },
  };
}
