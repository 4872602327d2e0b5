// A batch of toy runs trained together (for sweeps): R configurations that share every frozen tensor
// (same width, seed, data, rank, scale, activation, optimiser betas) and differ only in their LoRA init
// and hyperparameters (init, initDist, eta, lambda, weight decay) train in the same dispatches.
//
// Per step, for all R runs at once (shaders/toy_batch.wgsl, matmul.wgsl, adamw.wgsl `step_runs`):
//   advance    step counter, Adam's beta^t, metrics slot            (train_state.wgsl, shared by the runs)
//   [gather]   the step's mini-batch rows of H1, P0 and Y           (mini-batch only)
//   Z_A^T      = A_all H1^T   (R r x m)                             one matmul, A_all = the R A's stacked
//   forward    P = P0 + s Z_A B^T, y = phi(P) W_out^T, residual     one thread per (run, row)
//   metrics    loss, ||Z_A||, ||Z_B||, ||A||, ||B||, ||s B A||, divergence flag (Gram matrices)
//   [test]     the same forward on the test set -> test loss        every testEvery steps
//   backward   U^T, dB (fused with phi' and the head), dA = U^T H1   (one matmul for dA of all runs)
//   update     AdamW with per-run lr (eta for A, lambda * eta for B), dead runs skipped
//
// What differs from ToyTrainer (same maths, lora-math.md section 4): the frozen pre-activation
// P0 = H1 W0^T is computed once per batch instead of every step (it depends on no trainable tensor), so
// a step costs O(m n r) per run instead of O(m n^2); and the teacher's targets are computed on the GPU
// and never read back, so building a batch never waits on the GPU. Results agree with ToyTrainer up to
// float32 summation order.
import batchCode from '../../shaders/toy_batch.wgsl?raw';
import { uniformBuffer } from '../gpu/buffers.ts';
import { ReadbackRing } from '../gpu/readbackRing.ts';
import type { GpuContext } from '../gpu/device.ts';
import { adamwShader } from '../gpu/kernels/adamw.ts';
import { ACTIVATION_ID, activationForward, phiCode } from '../gpu/kernels/elementwise.ts';
import { matmul } from '../gpu/kernels/matmul.ts';
import { advanceStep, createTrainState, gatherRows } from '../gpu/kernels/trainState.ts';
import { encodePass, grid1d, pipeline, type Dispatch, type DispatchProfiler } from '../gpu/pipelines.ts';
import { initLora, type InitDist, type InitScheme } from '../lora/init.ts';
import { batchSize, loraScale, type ToyConfig, type ToyKey } from './config.ts';
import type { StepMetrics } from './metrics.ts';
import { gaussian, Stream } from './rng.ts';
import { drawToyTensors } from './toyData.ts';
import { EpochOrder, stepsPerEpoch } from './epochOrder.ts';

export const batchShader = { name: 'toy_batch', code: `${batchCode}\n${phiCode}` };

/** Per-run fields of a metrics slot, in the order of toy_batch.wgsl's F_* constants. */
export const RUN_FIELDS = ['loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss', 'alive'] as const;
const F = RUN_FIELDS.length;
const RING = 256;
/** The batched kernels hold the rank in one vec4: ranks up to 4 (the toy default); sweeps run larger ones per run. */
export const MAX_BATCH_RANK = 4;
const RP = 4;

/** What may differ between the runs of one batch; every other setting must be equal. */
export const PER_RUN_KEYS = ['init', 'initDist', 'eta', 'lambda', 'wd'] as const satisfies readonly ToyKey[];

export interface BatchRun {
  init: InitScheme;
  initDist: InitDist;
  eta: number;
  lambda: number;
  wd: number;
}

/** One step of one run, as StepMetrics plus the GPU's divergence flag (false from the diverging step on). */
export interface RunStepMetrics extends StepMetrics {
  alive: boolean;
}

/** Configurations with equal keys can train in one batch. */
export function batchKey(c: ToyConfig): string {
  const shared = Object.keys(c).filter((k) => !(PER_RUN_KEYS as readonly string[]).includes(k)).sort();
  return shared.map((k) => `${k}=${String(c[k as ToyKey])}`).join(';');
}

/** GPU bytes one run adds to a batch (its activations, A, B, gradients and Adam state). */
export function bytesPerRun(c: ToyConfig): number {
  const m = batchSize(c);
  const { n, rank: r, nTest: nt } = c;
  void r;
  return 4 * (m * n + 8 * RP * n + RP * (2 * m + nt) + m + nt + 3 * RP * RP + 5);
}

/** Bytes shared by a batch (features H1, frozen pre-activations P0, targets), whatever its size. */
export function sharedBytes(c: ToyConfig): number {
  const m = batchSize(c);
  const { n, nTrain: N, nTest: nt } = c;
  return 4 * (2 * (N + nt) * n + (m < N ? 2 * m * n : 0) + n * n + N + nt);
}

/** How many runs of configuration `c` fit in one batch under `budgetBytes` and the binding limit. */
export function maxRunsPerBatch(ctx: GpuContext, c: ToyConfig, budgetBytes: number): number {
  const m = batchSize(c);
  const biggest = Math.max(m, c.nTest) * c.n * 4; // the R x rows x n pre-activation buffers
  const byBinding = Math.floor(ctx.limits.maxStorageBufferBindingSize / biggest);
  const byBudget = Math.floor(Math.max(0, budgetBytes - sharedBytes(c)) / bytesPerRun(c));
  return Math.max(1, Math.min(byBinding, byBudget));
}

/**
 * Storage buffers by size class (powers of two), reused from batch to batch. Handing a buffer back right
 * after the last submit that uses it is safe: the queue runs command buffers in order, so the next
 * batch's writes land after the previous batch's reads.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private owned = new Set<GPUBuffer>();
  created = 0;
  reused = 0;

  constructor(readonly device: GPUDevice) {}

  static sizeClass(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
  }

  acquire(label: string, floats: number): GPUBuffer {
    const size = BufferPool.sizeClass(floats * 4);
    const list = this.free.get(size);
    const b = list?.pop();
    if (b) {
      this.reused++;
      b.label = label;
      return b;
    }
    this.created++;
    const nb = this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.add(nb);
    return nb;
  }

  release(buffers: Iterable<GPUBuffer>): void {
    for (const b of buffers) {
      if (!this.owned.has(b)) continue;
      const list = this.free.get(b.size) ?? [];
      if (!list.includes(b)) list.push(b);
      this.free.set(b.size, list);
    }
  }

  /** Bytes held (in use or free). */
  get bytes(): number {
    let s = 0;
    for (const b of this.owned) s += b.size;
    return s;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.free.clear();
  }
}

export interface ToyBatchOptions {
  /** Receives, per run, the metrics rows of the steps copied out since the last delivery (step order). */
  onMetrics?: (perRun: RunStepMetrics[][]) => void;
  /** Copy metrics out every this many steps (bounded by the ring). */
  readEvery?: number;
  /** Reuse storage buffers across batches. Without one, the batch owns a private pool. */
  pool?: BufferPool;
  /** Times every dispatch of the step (timestamp queries; for benchmarks, not for sweeps). */
  profiler?: DispatchProfiler;
  /** The forward/U kernel: a workgroup per 8 rows ('workgroup') or a thread per row ('thread'). Default: rowsKernelFor. */
  rowsKernel?: RowsKernel;
}

export type RowsKernel = 'workgroup' | 'thread';

/** The faster forward/U kernel for width n (measured on SwiftShader; see rows_thread in toy_batch.wgsl). */
export function rowsKernelFor(n: number, software: boolean): RowsKernel {
  return software || n <= 256 ? 'thread' : 'workgroup';
}

export class ToyBatchTrainer {
  readonly runs: BatchRun[];
  stepsSubmitted = 0;
  private readonly pool: BufferPool;
  private readonly ownsPool: boolean;
  private pooled: GPUBuffer[] = [];
  private readonly owned: GPUBuffer[] = [];
  private readonly ring: RunRing;
  private readonly pre: Dispatch[];
  private readonly test: Dispatch[];
  private readonly post: Dispatch[];
  private readonly readEvery: number;
  private readonly epoch?: EpochOrder;
  private released = false;
  private readonly buffersOut: { A: GPUBuffer; B: GPUBuffer };

  /**
   * Builds the batch and submits its setup (features, frozen pre-activations, teacher targets, initial A
   * and B): nothing here waits on the GPU. `config` gives the shared settings; its per-run keys are ignored.
   */
  constructor(readonly ctx: GpuContext, readonly config: ToyConfig, runs: BatchRun[], private readonly opts: ToyBatchOptions = {}) {
    if (runs.length === 0) throw new Error('a batch needs at least one run');
    if (config.rank > MAX_BATCH_RANK) throw new Error(`batched training supports rank up to ${MAX_BATCH_RANK} (got ${config.rank})`);
    this.runs = runs;
    const device = ctx.device;
    const c = config;
    this.ownsPool = !opts.pool;
    this.pool = opts.pool ?? new BufferPool(device);
    this.readEvery = opts.readEvery ?? 32;
    const R = runs.length;
    const { n, d, rank } = c;
    const r = RP;
    const N = c.nTrain;
    const Nt = c.nTest;
    const m = batchSize(c);
    const s = loraScale(c);
    const t = drawToyTensors(c);

    const get = (label: string, floats: number) => {
      const b = this.pool.acquire(label, floats);
      this.pooled.push(b);
      return b;
    };
    const temp: GPUBuffer[] = [];
    const upload = (label: string, data: Float32Array | Uint32Array, keep = true) => {
      const b = get(label, data.length);
      device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      if (!keep) temp.push(b);
      return b;
    };
    const uniform = (label: string, fields: Array<['f32' | 'u32' | 'i32', number]>) => {
      const u = uniformBuffer(device, label, fields);
      this.owned.push(u);
      return u;
    };
    const params = (label: string, runsN: number, rows: number, trueRank: number, scale: number, resOff = 0) =>
      uniform(label, [['u32', runsN], ['u32', rows], ['u32', n], ['u32', trueRank], ['f32', scale], ['f32', 1 / rows], ['u32', resOff], ['u32', 0]]);
    const k = (entry: string, label: string, bindings: Record<number, GPUBuffer>, workgroups: [number, number, number], opts: { backward?: boolean } = {}): Dispatch => {
      const constants: Record<string, number | boolean> = {};
      if (entry === 'rows' || entry === 'rows_thread' || entry === 'grad_b') constants.ACT = ACTIVATION_ID[c.activation];
      if (entry === 'rows' || entry === 'rows_thread') constants.BACKWARD = opts.backward ?? true;
      const pipe = pipeline(device, batchShader, entry, constants);
      const bindGroup = device.createBindGroup({
        label,
        layout: pipe.getBindGroupLayout(0),
        entries: Object.entries(bindings).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
      });
      return { label: `batch.${entry}`, pipeline: pipe, bindGroup, workgroups };
    };
    const rowsGrid = (count: number) => grid1d(Math.ceil(count / 64));
    const blocksGrid = (runsN: number, rows: number) => grid1d(runsN * Math.ceil(rows / 8)); // ROWS in toy_batch.wgsl
    // Forward (P, y, residual) and, with backward, U^T for `rows` rows of `runsN` runs.
    const threadRows = (opts.rowsKernel ?? rowsKernelFor(n, ctx.isSoftware)) === 'thread';
    const forwardRows = (label: string, bindings: Record<number, GPUBuffer>, runsN: number, rows: number, backward: boolean) =>
      threadRows ? k('rows_thread', label, bindings, rowsGrid(runsN * rows), { backward }) : k('rows', label, bindings, blocksGrid(runsN, rows), { backward });
    /** The transpose of a row-major (rows x cols) matrix, padded with zero rows to (padCols x rows). */
    const transposePad = (x: Float32Array, rows: number, cols: number, padCols: number) => {
      const out = new Float32Array(padCols * rows);
      for (let i = 0; i < rows; i++) for (let q = 0; q < cols; q++) out[q * rows + i] = x[i * cols + q];
      return out;
    };

    // ---- shared, frozen ----
    const wIn = upload('W_in', t.W_in, false);
    const w0 = upload('W0', t.W0, false);
    const wOut = upload('W_out', t.W_out);
    const xTrain = upload('X.train', t.X_train, false);
    const xTest = upload('X.test', t.X_test, false);
    const h1 = get('H1.train', N * n);
    const h1t = get('H1.test', Nt * n);
    const p0 = get('P0.train', N * n);
    const p0t = get('P0.test', Nt * n);
    const yTrain = get('Y.train', N);
    const yTest = get('Y.test', Nt);
    const xw = get('XW', Math.max(N, Nt) * n);
    temp.push(xw);
    const one = upload('teacher.alive', new Uint32Array([1]), false);
    const setup: Dispatch[] = [];
    const features = (x: GPUBuffer, rows: number, h: GPUBuffer, p: GPUBuffer) => {
      setup.push(
        ...matmul(device, { M: rows, N: n, K: d, a: x, b: wIn, c: xw, transB: true, label: 'batch.XW_in' }),
        activationForward(device, c.activation, rows * n, xw, h),
        ...matmul(device, { M: rows, N: n, K: n, a: h, b: w0, c: p, transB: true, label: 'batch.P0' }),
      );
    };
    features(xTrain, N, h1, p0);
    features(xTest, Nt, h1t, p0t);
    // Teacher: y* = phi(P0 + U* V*^T h1) W_out^T. Its pre-activation is P0 plus a rank-r* matmul; then the
    // rows kernel with a zero adapter gives y*, and as the "residual" against the target -noise, y* + noise:
    // the noisy training targets, kept on the GPU (nothing is read back).
    const tr = t.teacher!;
    const vt = upload('teacher.Vt', tr.A, false); // r* x n
    const utT = upload('teacher.Ut', transposePad(tr.B, n, tr.rank, tr.rank), false); // U*^T, r* x n
    const zeros = get('zeros', RP * Math.max(N, Nt, n));
    const dummy = get('dummy', 4); // stands in for P where a forward does not store it
    temp.push(zeros);
    const teacherCopies: Array<[GPUBuffer, GPUBuffer, number]> = [];
    const teacher2: Dispatch[] = [];
    const teacher = (h: GPUBuffer, p: GPUBuffer, rows: number, negNoise: Float32Array, y: GPUBuffer) => {
      const zt = get('teacher.ZT', tr.rank * rows);
      const pt = get('teacher.P', rows * n);
      const target = upload('teacher.target', negNoise, false);
      temp.push(zt, pt);
      setup.push(...matmul(device, { M: tr.rank, N: rows, K: n, a: vt, b: h, c: zt, transB: true, label: 'batch.teacher.ZT' }));
      teacherCopies.push([p, pt, rows * n]);
      teacher2.push(
        ...matmul(device, { M: rows, N: n, K: tr.rank, a: zt, b: utT, c: pt, transA: true, accumulate: true, label: 'batch.teacher.P' }),
        forwardRows('teacher.forward', { 0: params('teacher.params', 1, rows, 1, 0), 1: pt, 2: wOut, 3: target, 4: zeros, 5: zeros, 6: dummy, 7: y, 8: one }, 1, rows, false),
      );
    };
    teacher(h1, p0, N, c.noise === 0 ? new Float32Array(N) : gaussian(new Stream(c.seed, 'noise'), N, c.noise).map((v) => -v), yTrain);
    teacher(h1t, p0t, Nt, new Float32Array(Nt), yTest);

    // ---- per run ----
    const Aall = new Float32Array(R * r * n);
    const Ball = new Float32Array(R * n * r);
    runs.forEach((run, b) => {
      const ab = initLora({ nIn: n, nOut: n, rank }, run.init, run.initDist, c.seed);
      Aall.set(ab.A, b * r * n);
      Ball.set(transposePad(ab.B, n, rank, r), b * r * n);
    });
    const A = upload('runs.A', Aall); // R x RP x n
    const B = upload('runs.Bt', Ball); // R x RP x n (B transposed)
    this.buffersOut = { A, B };
    const dA = get('runs.dA', R * r * n);
    const dB = get('runs.dBt', R * r * n);
    const zeroed = [get('runs.A.m', R * r * n), get('runs.A.v', R * r * n), get('runs.B.m', R * n * r), get('runs.B.v', R * n * r)];
    const [mA, vA, mB, vB] = zeroed;
    const alive = upload('runs.alive', new Uint32Array(R).fill(1));
    const first = get('runs.firstLoss', R);
    zeroed.push(first);
    const hyperA = upload('runs.hyperA', new Float32Array(runs.flatMap((x) => [x.eta, x.wd])));
    const hyperB = upload('runs.hyperB', new Float32Array(runs.flatMap((x) => [x.lambda * x.eta, x.wd])));
    const zt = get('runs.ZT', R * r * m);
    const ut = get('runs.UT+residual', R * r * m + R * m); // U^T, then the residuals at offset R r m
    const resOff = R * r * m;
    const pre = get('runs.P', R * m * n);
    const ztt = get('runs.ZT.test', R * r * Nt);
    const rest = get('runs.residual.test', R * Nt);
    const gram = get('runs.gram', R * 3 * r * r);

    const stride = 1 + R * F;
    const state = createTrainState(device, RING, stride);
    this.owned.push(state);
    this.ring = new RunRing(device, get('metrics.ring', RING * stride), RING, R, (rows) => opts.onMetrics?.(rows));

    // Setup: one command buffer, submitted now; temporaries are destroyed after the submit (WebGPU keeps
    // them alive until the work completes) or go back to the pool (queue order makes that safe).
    const enc = device.createCommandEncoder({ label: 'batch setup' });
    for (const b of [...zeroed, zeros]) enc.clearBuffer(b);
    encodePass(enc, setup, undefined, 'batch setup');
    for (const [src, dst, floats] of teacherCopies) enc.copyBufferToBuffer(src, 0, dst, 0, floats * 4);
    encodePass(enc, teacher2, undefined, 'batch teacher');
    device.queue.submit([enc.finish()]);

    // ---- the step ----
    const pre0: Dispatch[] = [advanceStep(device, state, this.ring.buffer, c.beta1, c.beta2)];
    let h1b = h1;
    let p0b = p0;
    let yb = yTrain;
    if (m < N) {
      const epochSteps = stepsPerEpoch(N, m);
      const indices = get('batch.indices', epochSteps * m);
      h1b = get('H1.batch', m * n);
      p0b = get('P0.batch', m * n);
      yb = get('Y.batch', m);
      pre0.push(
        gatherRows(device, { state, src: h1, indices, out: h1b, rows: m, cols: n, stepsStored: epochSteps }),
        gatherRows(device, { state, src: p0, indices, out: p0b, rows: m, cols: n, stepsStored: epochSteps }),
        gatherRows(device, { state, src: yTrain, indices, out: yb, rows: m, cols: 1, stepsStored: epochSteps }),
      );
      this.epoch = new EpochOrder(indices, N, m, c.seed);
    }
    const splits = ctx.isSoftware ? 1 : ('auto' as const);
    const pTrain = params('runs.params', R, m, rank, s, resOff);
    const pTest = params('runs.params.test', R, Nt, rank, s);
    this.pre = [
      ...pre0,
      ...matmul(device, { M: R * r, N: m, K: n, a: A, b: h1b, c: zt, transB: true, splits, label: 'batch.ZT' }),
      forwardRows('runs.forward+U', { 0: pTrain, 1: p0b, 2: wOut, 3: yb, 4: zt, 5: B, 6: pre, 7: ut, 8: alive }, R, m, true),
      k('gram_all', 'runs.gram', { 0: pTrain, 1: zt, 2: B, 3: A, 4: gram }, rowsGrid(R * 3 * r * r)),
      k('metrics_runs', 'runs.metrics', { 0: pTrain, 1: ut, 2: gram, 3: state, 4: this.ring.buffer, 5: alive, 6: first }, [Math.ceil(R / 64), 1, 1]),
    ];
    this.test = [
      ...matmul(device, { M: R * r, N: Nt, K: n, a: A, b: h1t, c: ztt, transB: true, splits, label: 'batch.ZT.test' }),
      forwardRows('runs.forward.test', { 0: pTest, 1: p0t, 2: wOut, 3: yTest, 4: ztt, 5: B, 6: dummy, 7: rest, 8: alive }, R, Nt, false),
      k('test_metric', 'runs.test', { 0: pTest, 1: rest, 3: state, 4: this.ring.buffer }, [Math.ceil(R / 64), 1, 1]),
    ];
    const adam = (label: string, theta: GPUBuffer, grad: GPUBuffer, mm: GPUBuffer, vv: GPUBuffer, hyper: GPUBuffer, count: number): Dispatch => {
      const pipe = pipeline(device, adamwShader, 'step_runs');
      const u = uniform(`${label}.adam`, [['u32', count], ['u32', R], ['u32', 0], ['u32', 0], ['f32', c.beta1], ['f32', c.beta2], ['f32', c.eps], ['f32', 0]]);
      const entries = [u, theta, grad, mm, vv, state, hyper, alive].map((buffer, binding) => ({ binding, resource: { buffer } }));
      return { label: 'adamw.runs', pipeline: pipe, bindGroup: device.createBindGroup({ label, layout: pipe.getBindGroupLayout(0), entries }), workgroups: grid1d(Math.ceil((R * count) / 256)) };
    };
    this.post = [
      k('grad_b', 'runs.dB', { 0: pTrain, 1: zt, 2: wOut, 3: pre, 4: ut, 5: dB, 6: alive }, rowsGrid(R * n)),
      ...matmul(device, { M: R * r, N: n, K: m, a: ut, b: h1b, c: dA, splits, label: 'batch.dA' }),
      adam('runs.A', A, dA, mA, vA, hyperA, r * n),
      adam('runs.B', B, dB, mB, vB, hyperB, n * r),
    ];
    // Temporaries go back to the pool now: later writes to them are queued after the setup's reads.
    this.pool.release(temp);
    const keep = new Set(temp);
    this.pooled = this.pooled.filter((b) => !keep.has(b));
  }

  /** Is step `step` (1-based) one with a test evaluation? (the same rule as ToyTrainer) */
  isEvalStep(step: number): boolean {
    return step === 1 || step % this.config.testEvery === 0 || step === this.config.steps;
  }

  /** Encode and submit one step for every run. Waits only when every metrics staging buffer is in flight. */
  async step(opts: { flushMetrics?: boolean } = {}): Promise<void> {
    if (this.released) throw new Error('batch already released');
    const device = this.ctx.device;
    const step = this.stepsSubmitted + 1;
    this.epoch?.beforeStep(device.queue, step);
    const copyNow = opts.flushMetrics || this.ring.due(step, this.readEvery);
    const staging = copyNow ? await this.ring.acquire() : undefined;
    const encoder = device.createCommandEncoder({ label: `batch step ${step}` });
    const profiler = this.opts.profiler;
    encodePass(encoder, this.pre, profiler, 'batch forward');
    if (this.isEvalStep(step)) encodePass(encoder, this.test, profiler, 'batch test');
    encodePass(encoder, this.post, profiler, 'batch backward+update');
    const after = staging ? this.ring.copy(encoder, staging, step) : undefined;
    device.queue.submit([encoder.finish()]);
    this.stepsSubmitted = step;
    after?.();
  }

  /**
   * Copy out the metrics not yet read, hand the buffers back to the pool (safe right after the last
   * submit) and return a promise for the last deliveries. Does not wait: the next batch can start now.
   */
  finish(): Promise<void> {
    if (this.released) return this.ring.drain();
    const device = this.ctx.device;
    const done = this.ring.flush(device, this.stepsSubmitted).finally(() => this.ring.destroy());
    // The flush's copy is encoded a little later (after a microtask, or once a staging buffer is free):
    // the ring stays out of the pool until it is done; nothing else it needs is released.
    this.released = true;
    const ringBuf = this.ring.buffer;
    void done.then(() => this.pool.release([ringBuf]), () => this.pool.release([ringBuf]));
    this.pool.release(this.pooled.filter((b) => b !== ringBuf));
    for (const b of this.owned) b.destroy();
    if (this.ownsPool) void done.finally(() => this.pool.destroy());
    return done;
  }

  /** Current A (r x n) and B (n x r) of every run: a readback, for tests and exports; call before finish(). */
  async readAdapters(): Promise<Array<{ A: Float32Array; B: Float32Array }>> {
    const { n, rank } = this.config;
    const rp = RP;
    const R = this.runs.length;
    const read = async (src: GPUBuffer, floats: number) => {
      const st = this.ctx.device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = this.ctx.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, st, 0, floats * 4);
      this.ctx.device.queue.submit([enc.finish()]);
      await st.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(st.getMappedRange().slice(0));
      st.unmap();
      st.destroy();
      return out;
    };
    const A = await read(this.buffersOut.A, R * rp * n);
    const Bt = await read(this.buffersOut.B, R * rp * n);
    return Array.from({ length: R }, (_, b) => {
      const a = A.slice(b * rp * n, b * rp * n + rank * n);
      const bm = new Float32Array(n * rank);
      for (let q = 0; q < rank; q++) for (let j = 0; j < n; j++) bm[j * rank + q] = Bt[(b * rp + q) * n + j];
      return { A: a, B: bm };
    });
  }
}

/** The metrics ring of a batch: slots of [step, R x RUN_FIELDS]; the ring buffer comes from the pool. */
class RunRing extends ReadbackRing<RunStepMetrics[][]> {
  constructor(device: GPUDevice, buffer: GPUBuffer, ring: number, runs: number, deliver: (rows: RunStepMetrics[][]) => void) {
    super(device, buffer, ring, 1 + runs * F, (data, from, to) => parseRunRows(data, ring, runs, from, to), deliver, 3);
  }
}

/** Per-run rows for steps from..to from a copy of a batch's ring (exported for tests). */
export function parseRunRows(data: Float32Array, ring: number, runs: number, from: number, to: number): RunStepMetrics[][] {
  const stride = 1 + runs * F;
  const out: RunStepMetrics[][] = Array.from({ length: runs }, () => []);
  for (let step = from; step <= to; step++) {
    const o = ((step - 1) % ring) * stride;
    if (data[o] !== step) continue;
    for (let b = 0; b < runs; b++) {
      const f = o + 1 + b * F;
      const row: RunStepMetrics = {
        step,
        loss: data[f],
        zA: data[f + 1],
        zB: data[f + 2],
        normA: data[f + 3],
        normB: data[f + 4],
        normSBA: data[f + 5],
        alive: data[f + 7] !== 0,
      };
      const test = data[f + 6];
      if (!Number.isNaN(test)) row.testLoss = test;
      out[b].push(row);
    }
  }
  return out;
}
