// A batch of toy runs trained together (for sweeps): R configurations that share every frozen tensor
// (same width, seed, data, rank, scale, activation, optimiser betas) and differ only in their LoRA init
// and hyperparameters (init, initDist, eta, lambda, weight decay) train in the same dispatches.
//
// Per step, for all R runs at once (shaders/toy_batch.wgsl, matmul.wgsl, adamw.wgsl `step_runs`):
//   advance    step counter, Adam's beta^t, metrics slot            (run/trainer.ts, shared by the runs)
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
// a step costs O(m n r) per run instead of O(m n^2), and a run's own pre-activation P = P0 + s Z_A B^T
// is never stored (each kernel recomputes its entries), so a run holds O((m + n) r) floats and a batch
// at n = 8192 holds hundreds of runs; and the teacher's targets are computed on the GPU and never read
// back, so building a batch never waits on the GPU. Results agree with ToyTrainer up to float32
// summation order.
import batchCode from '../../../shaders/toy_batch.wgsl?raw';
import type { GpuArena } from '../../gpu/arena.ts';
import { readFloats } from '../../gpu/buffers.ts';
import type { GpuContext } from '../../gpu/device.ts';
import type { GpuHost } from '../../gpu/host.ts';
import { adamwRuns } from '../../gpu/kernels/adamw.ts';
import { ACTIVATION_ID, activationForward, phiCode } from '../../gpu/kernels/elementwise.ts';
import { autoSplits, matmul } from '../../gpu/kernels/matmul.ts';
import { gatherRows, STATE_WGSL } from '../../gpu/kernels/trainState.ts';
import { bindBuffers, encodePass, grid1d, pipeline, type Dispatch } from '../../gpu/pipelines.ts';
import { initLora, type InitDist, type InitScheme } from '../../lora/init.ts';
import { DIVERGENCE_FACTOR } from '../run/divergence.ts';
import { MetricsLayout, type Slot } from '../run/metricsLayout.ts';
import { RunSession } from '../run/session.ts';
import { buildInArena, StepTrainer, type StepTrainerOptions } from '../run/trainer.ts';
import { gaussian, Stream } from '../rng.ts';
import { batchSize, loraScale, type ToyConfig, type ToyKey } from '../toy/config.ts';
import { drawToyTensors } from '../toy/data.ts';
import { EpochOrder, stepsPerEpoch } from '../toy/epochOrder.ts';
import { RUN_METRICS, stepMetrics, type StepMetrics } from '../toy/metrics.ts';

/** One group of the metrics slot per run: the toy's fields and the GPU's divergence flag. */
export const BATCH_RUN_FIELDS = [...RUN_METRICS, 'alive'] as const;
type BatchField = (typeof BATCH_RUN_FIELDS)[number];
export const batchLayout = (runs: number) => new MetricsLayout<never, BatchField>(['step'], BATCH_RUN_FIELDS, runs);

export const batchShader = {
  name: 'toy_batch',
  code: [batchCode, phiCode, STATE_WGSL, batchLayout(1).wgsl(), `const DIVERGENCE_FACTOR = ${DIVERGENCE_FACTOR.toExponential()};`].join('\n'),
};

/** The batched kernels hold the rank in one vec4: ranks up to 4 (the toy default); sweeps run larger ones per run. */
export const MAX_BATCH_RANK = 4;
/** The rank as the kernels store it (padded with zero rows of A and columns of B, which stay zero). */
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

/** One step of every run of the batch (runs[b] is run b's row). */
export interface BatchStepRow {
  step: number;
  runs: RunStepMetrics[];
}

/** Configurations with equal keys can train in one batch. */
export function batchKey(c: ToyConfig): string {
  const shared = Object.keys(c).filter((k) => !(PER_RUN_KEYS as readonly string[]).includes(k)).sort();
  return shared.map((k) => `${k}=${String(c[k as ToyKey])}`).join(';');
}

/** GPU bytes one run adds to a batch (A, B, their gradients and Adam state, Z_A and U for the rows, residuals). */
export function bytesPerRun(c: ToyConfig): number {
  const m = batchSize(c);
  const { n, nTest: nt } = c;
  return 4 * (8 * RP * n + RP * (2 * m + nt) + m + nt + 3 * RP * RP + 5);
}

/** Whether the batch reads P0 transposed (rows_thread on a full batch; see toy_batch.wgsl). */
function transposedP0(c: ToyConfig, kernel: RowsKernel): boolean {
  return kernel === 'thread' && batchSize(c) === c.nTrain;
}

/**
 * Peak bytes shared by a batch whatever its size: W0 and the product X W_in^T while the batch is set up
 * (freed after), features H1 and frozen pre-activations P0 (twice when also stored transposed), the
 * gathered mini-batch, targets.
 */
export function sharedBytes(c: ToyConfig, kernel: RowsKernel = 'thread'): number {
  const m = batchSize(c);
  const { n, nTrain: N, nTest: nt } = c;
  const p0Copies = transposedP0(c, kernel) ? 3 : 2; // H1, P0 (and P0^T), per example
  const setup = n * n + (Math.max(N, nt) + c.teacherRank) * n + 4 * n * c.teacherRank;
  return 4 * (p0Copies * (N + nt) * n + (m < N ? 2 * m * n : 0) + setup + N + nt);
}

/** How many runs of configuration `c` fit in one batch under `budgetBytes` and the binding limit. */
export function maxRunsPerBatch(ctx: Pick<GpuContext, 'limits'>, c: ToyConfig, budgetBytes: number): number {
  const biggest = RP * Math.max(batchSize(c), c.nTest, c.n) * 4; // per run in the largest stacked buffers (A, Z_A^T, ...)
  const byBinding = Math.floor(ctx.limits.maxStorageBufferBindingSize / biggest);
  const byBudget = Math.floor(Math.max(0, budgetBytes - sharedBytes(c)) / bytesPerRun(c));
  return Math.max(1, Math.min(byBinding, byBudget));
}

/** Null when one run of `c` fits a batch within `budgetBytes`, else what does not fit (for the user). */
export function batchFitError(c: ToyConfig, budgetBytes: number): string | null {
  const need = sharedBytes(c) + bytesPerRun(c);
  if (need <= budgetBytes) return null;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `n = ${c.n} with ${c.nTrain} training examples needs ${mib(need)} of GPU memory for one batch (W0, features and frozen pre-activations), more than the ${mib(budgetBytes)} budget`;
}

export interface ToyBatchOptions extends StepTrainerOptions {
  /** The forward/U kernel: a workgroup per 8 rows ('workgroup') or a thread per row ('thread'). Default: rowsKernelFor. */
  rowsKernel?: RowsKernel;
  /**
   * Split the stacked products' K loops as for one run, so that a run's trace does not depend on how many
   * runs train beside it (the Playground's guarantee: same link, same trace). Sweeps leave it off and let
   * the split follow the whole batch's shape (fewer partial sums for large batches).
   */
  splitsPerRun?: boolean;
}

export type RowsKernel = 'workgroup' | 'thread';

/** The faster forward/U kernel for width n (measured on SwiftShader; see rows_thread in toy_batch.wgsl). */
export function rowsKernelFor(n: number, software: boolean): RowsKernel {
  return software || n <= 256 ? 'thread' : 'workgroup';
}

/** The transpose of a row-major (rows x cols) matrix, padded with zero rows to (padCols x rows). */
function transposePad(x: Float32Array, rows: number, cols: number, padCols: number): Float32Array {
  const out = new Float32Array(padCols * rows);
  for (let i = 0; i < rows; i++) for (let q = 0; q < cols; q++) out[q * rows + i] = x[i * cols + q];
  return out;
}

/** The launches of toy_batch.wgsl for one batch: its uniforms, pipelines and grids. */
class BatchKernels {
  constructor(
    private readonly arena: GpuArena,
    private readonly c: ToyConfig,
    private readonly runs: number,
    readonly rowsKernel: RowsKernel,
  ) {}

  /** Whether the forward/U kernel runs a thread per row (rows_thread), which reads P0 transposed. */
  get threadPerRow(): boolean {
    return this.rowsKernel === 'thread';
  }

  /** The Params uniform of a launch over `rows` rows of `runsN` runs; P0 (rows x n) is read row-major unless `p0Transposed` (then n x rows). */
  params(label: string, runsN: number, rows: number, trueRank: number, scale: number, residualOffset = 0, p0Transposed = false): GPUBuffer {
    const n = this.c.n;
    return this.arena.uniform(label, [
      ['u32', runsN], ['u32', rows], ['u32', n], ['u32', trueRank], ['f32', scale], ['f32', 1 / rows], ['u32', residualOffset], ['u32', 0],
      ['u32', p0Transposed ? 1 : n], ['u32', p0Transposed ? rows : 1], ['u32', 0], ['u32', 0],
    ]);
  }

  launch(entry: string, label: string, bindings: Record<number, GPUBuffer>, workgroups: [number, number, number], constants: Record<string, number | boolean> = {}): Dispatch {
    const pipe = pipeline(this.arena.device, batchShader, entry, constants);
    return { label: `batch.${entry}`, pipeline: pipe, bindGroup: bindBuffers(this.arena.device, pipe, label, bindings), workgroups };
  }

  /** One thread per item, 64 to a workgroup. */
  perThread(count: number): [number, number, number] {
    return grid1d(Math.ceil(count / 64));
  }

  /** rows_thread and grad_b: a workgroup per QUAD = 256 rows (columns) of one run. */
  perQuad(runsN: number, count: number): [number, number, number] {
    return grid1d(runsN * Math.ceil(count / 256));
  }

  /** One thread per run. */
  perRun(): [number, number, number] {
    return [Math.ceil(this.runs / 64), 1, 1];
  }

  /** The activation as an override constant. */
  get act(): { ACT: number } {
    return { ACT: ACTIVATION_ID[this.c.activation] };
  }

  /** Forward (P, y, residual) and, with backward, U^T for `rows` rows of `runsN` runs. */
  forwardRows(label: string, bindings: Record<number, GPUBuffer>, runsN: number, rows: number, backward: boolean): Dispatch {
    const constants = { ...this.act, BACKWARD: backward };
    return this.threadPerRow
      ? this.launch('rows_thread', label, bindings, this.perQuad(runsN, rows), constants)
      : this.launch('rows', label, bindings, grid1d(runsN * Math.ceil(rows / 8)), constants); // 8 = ROWS in toy_batch.wgsl
  }
}

/** What every run of a batch shares, on the GPU, frozen: the head, features, pre-activations and targets. */
interface SharedProblem {
  wOut: GPUBuffer;
  /** H1 = phi(X W_in^T) and P0 = H1 W0^T for the training and test sets (rows x n). */
  h1: GPUBuffer;
  h1Test: GPUBuffer;
  p0: GPUBuffer;
  p0Test: GPUBuffer;
  /** P0 transposed (n x rows) where rows_thread reads it (its lanes run along the rows): the train set on a full batch, the test set always; else P0 itself. */
  p0T: GPUBuffer;
  p0TestT: GPUBuffer;
  /** The teacher's targets, noisy for training. */
  yTrain: GPUBuffer;
  yTest: GPUBuffer;
}

/**
 * Draws the batch's frozen tensors from the seed and computes, on the GPU in one submitted command
 * buffer, everything the runs share: H1 and P0 once for the whole data set (they depend on no trainable
 * tensor), and the teacher's targets, which are never read back. Temporaries are freed after the submit.
 */
function uploadSharedProblem(arena: GpuArena, k: BatchKernels, c: ToyConfig): SharedProblem {
  const { n, d } = c;
  const N = c.nTrain;
  const Nt = c.nTest;
  const tensors = drawToyTensors(c);
  const setup = arena.child('setup');
  const wIn = setup.storage('W_in', tensors.W_in);
  const w0 = setup.storage('W0', tensors.W0);
  const xw = setup.storage('XW', Math.max(N, Nt) * n);
  const shared: SharedProblem = {
    wOut: arena.storage('W_out', tensors.W_out),
    h1: arena.storage('H1.train', N * n),
    h1Test: arena.storage('H1.test', Nt * n),
    p0: arena.storage('P0.train', N * n),
    p0Test: arena.storage('P0.test', Nt * n),
    yTrain: arena.storage('Y.train', N),
    yTest: arena.storage('Y.test', Nt),
  } as SharedProblem;
  shared.p0T = transposedP0(c, k.rowsKernel) ? arena.storage('P0T.train', N * n) : shared.p0;
  shared.p0TestT = k.threadPerRow ? arena.storage('P0T.test', Nt * n) : shared.p0Test;
  const launches: Dispatch[] = [];
  const features = (x: Float32Array, rows: number, h: GPUBuffer, p: GPUBuffer) => {
    launches.push(
      ...matmul(setup, { M: rows, N: n, K: d, a: setup.storage('X', x), b: wIn, c: xw, transB: true, label: 'batch.XW_in' }),
      activationForward(setup, c.activation, rows * n, xw, h),
      ...matmul(setup, { M: rows, N: n, K: n, a: h, b: w0, c: p, transB: true, label: 'batch.P0' }),
    );
  };
  features(tensors.X_train, N, shared.h1, shared.p0);
  features(tensors.X_test, Nt, shared.h1Test, shared.p0Test);

  // The teacher: y* = phi(P0 + U* V*^T h1) W_out^T. Its pre-activation is P0 plus a rank-r* product; the
  // rows kernel with a zero adapter then gives y*, and, as the "residual" against the target -noise,
  // y* + noise: the noisy training targets.
  const teacher = tensors.teacher!;
  const teacherVt = setup.storage('teacher.Vt', teacher.A); // r* x n
  const teacherUt = setup.storage('teacher.Ut', transposePad(teacher.B, n, teacher.rank, teacher.rank)); // U*^T, r* x n
  const zeros = setup.storage('zeros', RP * Math.max(N, Nt, n));
  const teacherAlive = setup.storage('teacher.alive', new Uint32Array([1]));
  const copies: Array<[GPUBuffer, GPUBuffer, number]> = [];
  const teacherForward: Dispatch[] = [];
  const targets = (h: GPUBuffer, p: GPUBuffer, rows: number, negNoise: Float32Array, y: GPUBuffer) => {
    const zt = setup.storage('teacher.ZT', teacher.rank * rows);
    const pt = setup.storage('teacher.P', rows * n);
    const target = setup.storage('teacher.target', negNoise);
    launches.push(...matmul(setup, { M: teacher.rank, N: rows, K: n, a: teacherVt, b: h, c: zt, transB: true, label: 'batch.teacher.ZT' }));
    copies.push([p, pt, rows * n]);
    teacherForward.push(
      ...matmul(setup, { M: rows, N: n, K: teacher.rank, a: zt, b: teacherUt, c: pt, transA: true, accumulate: true, label: 'batch.teacher.P' }),
      k.forwardRows('teacher.forward', { 0: k.params('teacher.params', 1, rows, 1, 0), 1: pt, 2: shared.wOut, 3: target, 4: zeros, 5: zeros, 7: y, 8: teacherAlive }, 1, rows, false),
    );
  };
  targets(shared.h1, shared.p0, N, c.noise === 0 ? new Float32Array(N) : gaussian(new Stream(c.seed, 'noise'), N, c.noise).map((v) => -v), shared.yTrain);
  targets(shared.h1Test, shared.p0Test, Nt, new Float32Array(Nt), shared.yTest);

  const enc = arena.device.createCommandEncoder({ label: 'batch setup' });
  encodePass(enc, launches, undefined, 'batch setup');
  for (const [src, dst, floats] of copies) enc.copyBufferToBuffer(src, 0, dst, 0, floats * 4);
  encodePass(enc, teacherForward, undefined, 'batch teacher');
  const transposes: Dispatch[] = [];
  const transpose = (src: GPUBuffer, dst: GPUBuffer, rows: number) =>
    transposes.push(k.launch('transpose', 'P0.transpose', { 0: k.params('transpose.params', 1, rows, 1, 0), 1: src, 2: dst }, k.perThread(rows * n)));
  if (shared.p0T !== shared.p0) transpose(shared.p0, shared.p0T, N);
  if (shared.p0TestT !== shared.p0Test) transpose(shared.p0Test, shared.p0TestT, Nt);
  if (transposes.length) encodePass(enc, transposes, undefined, 'batch P0 transposed');
  arena.device.queue.submit([enc.finish()]);
  setup.destroy(); // safe right after the submit: WebGPU frees them once the queued work is done
  return shared;
}

export class ToyBatchTrainer extends StepTrainer<BatchStepRow, never, BatchField> {
  private readonly epoch?: EpochOrder;
  /** All runs' A (R x RP x n) and B^T (R x RP x n), for readAdapters. */
  private readonly adapters: { A: GPUBuffer; Bt: GPUBuffer };

  /**
   * Builds the batch and submits its setup (features, frozen pre-activations, teacher targets, initial A
   * and B): nothing here waits on the GPU. `config` gives the shared settings; its per-run keys are ignored.
   */
  private constructor(arena: GpuArena, software: boolean, readonly config: ToyConfig, readonly runs: BatchRun[], opts: ToyBatchOptions) {
    super(arena, batchLayout(runs.length), { totalSteps: config.steps, evalEvery: config.testEvery, beta1: config.beta1, beta2: config.beta2, stagingCount: 3 }, opts, 32);
    const c = config;
    const R = runs.length;
    const { n, rank } = c;
    const N = c.nTrain;
    const Nt = c.nTest;
    const m = batchSize(c);
    const k = new BatchKernels(arena, c, R, opts.rowsKernel ?? rowsKernelFor(n, software));
    const { wOut, h1, h1Test, p0, p0Test, p0T, p0TestT, yTrain, yTest } = uploadSharedProblem(arena, k, c);
    const transposed = p0T !== p0;

    // ---- per run: A and B^T stacked, gradients, divergence state, activations (no stored P: O((m + n) r) floats a run) ----
    const aAll = new Float32Array(R * RP * n);
    const btAll = new Float32Array(R * n * RP);
    runs.forEach((run, b) => {
      const ab = initLora({ nIn: n, nOut: n, rank }, run.init, run.initDist, c.seed);
      aAll.set(ab.A, b * RP * n);
      btAll.set(transposePad(ab.B, n, rank, RP), b * RP * n);
    });
    const A = arena.storage('runs.A', aAll); // R x RP x n
    const Bt = arena.storage('runs.Bt', btAll); // R x RP x n (B transposed)
    this.adapters = { A, Bt };
    const dA = arena.storage('runs.dA', R * RP * n);
    const dBt = arena.storage('runs.dBt', R * RP * n);
    const alive = arena.storage('runs.alive', new Uint32Array(R).fill(1));
    const firstLoss = arena.storage('runs.firstLoss', R);
    const zt = arena.storage('runs.ZT', R * RP * m);
    const residualOffset = R * RP * m;
    const utAndResiduals = arena.storage('runs.UT+residual', R * RP * m + R * m); // U^T, then the residuals at residualOffset
    const ztTest = arena.storage('runs.ZT.test', R * RP * Nt);
    const testResiduals = arena.storage('runs.residual.test', R * Nt);
    const gram = arena.storage('runs.gram', R * 3 * RP * RP);

    // ---- one step ----
    // Mini-batches: this step's rows of H1, P0 and Y, gathered on the GPU from the epoch's order.
    const gather: Dispatch[] = [];
    let h1Batch = h1;
    let p0Batch = p0;
    let yBatch = yTrain;
    if (m < N) {
      const epochSteps = stepsPerEpoch(N, m);
      const indices = arena.storage('batch.indices', epochSteps * m);
      h1Batch = arena.storage('H1.batch', m * n);
      p0Batch = arena.storage('P0.batch', m * n);
      yBatch = arena.storage('Y.batch', m);
      const rowsOf = (src: GPUBuffer, out: GPUBuffer, cols: number) => gatherRows(arena, { state: this.state, src, indices, out, rows: m, cols, stepsStored: epochSteps });
      gather.push(rowsOf(h1, h1Batch, n), rowsOf(p0, p0Batch, n), rowsOf(yTrain, yBatch, 1));
      this.epoch = new EpochOrder(indices, N, m, c.seed);
    }
    // Split-K changes the summation order; on a software adapter it never pays.
    const splits = (M: number, N: number, K: number) => (software ? 1 : opts.splitsPerRun ? autoSplits(M / R, N, K) : ('auto' as const));
    const s = loraScale(c);
    const trainParams = k.params('runs.params', R, m, rank, s, residualOffset);
    const trainRowsParams = transposed ? k.params('runs.params.rows', R, m, rank, s, residualOffset, true) : trainParams;
    const testParams = k.params('runs.params.test', R, Nt, rank, s, 0, k.threadPerRow);
    const { metrics, state } = this.metricsTarget;
    const adam = (label: string, theta: GPUBuffer, grad: GPUBuffer, hyper: Float32Array) =>
      adamwRuns(arena, {
        theta, grad, m: arena.storage(`${label}.m`, R * RP * n), v: arena.storage(`${label}.v`, R * RP * n), hyper: arena.storage(`${label}.hyper`, hyper),
        alive, state, count: RP * n, runs: R, beta1: c.beta1, beta2: c.beta2, eps: c.eps, label,
      });
    this.phases = [
      {
        label: 'batch forward',
        dispatches: [
          ...gather,
          ...matmul(arena, { M: R * RP, N: m, K: n, a: A, b: h1Batch, c: zt, transB: true, splits: splits(R * RP, m, n), label: 'batch.ZT' }),
          k.forwardRows('runs.forward+U', { 0: trainRowsParams, 1: transposed ? p0T : p0Batch, 2: wOut, 3: yBatch, 4: zt, 5: Bt, 7: utAndResiduals, 8: alive }, R, m, true),
          k.launch('gram_all', 'runs.gram', { 0: trainParams, 1: zt, 2: Bt, 3: A, 4: gram }, k.perThread(R * 3 * RP * RP)),
          k.launch('metrics_runs', 'runs.metrics', { 0: trainParams, 1: utAndResiduals, 2: gram, 3: state, 4: metrics, 5: alive, 6: firstLoss }, k.perRun()),
        ],
      },
      {
        label: 'batch test',
        evalOnly: true,
        dispatches: [
          ...matmul(arena, { M: R * RP, N: Nt, K: n, a: A, b: h1Test, c: ztTest, transB: true, splits: splits(R * RP, Nt, n), label: 'batch.ZT.test' }),
          k.forwardRows('runs.forward.test', { 0: testParams, 1: p0TestT, 2: wOut, 3: yTest, 4: ztTest, 5: Bt, 7: testResiduals, 8: alive }, R, Nt, false),
          k.launch('test_metric', 'runs.test', { 0: testParams, 1: testResiduals, 3: state, 4: metrics }, k.perRun()),
        ],
      },
      {
        label: 'batch backward+update',
        dispatches: [
          k.launch('grad_b', 'runs.dB', { 0: trainParams, 1: zt, 2: wOut, 3: p0Batch, 4: utAndResiduals, 5: dBt, 6: alive, 7: Bt }, k.perQuad(R, n), k.act),
          ...matmul(arena, { M: R * RP, N: n, K: m, a: utAndResiduals, b: h1Batch, c: dA, splits: splits(R * RP, n, m), label: 'batch.dA' }),
          adam('runs.A', A, dA, new Float32Array(runs.flatMap((x) => [x.eta, x.wd]))),
          adam('runs.B', Bt, dBt, new Float32Array(runs.flatMap((x) => [x.lambda * x.eta, x.wd]))),
        ],
      },
    ];
  }

  /** Builds a batch in its own arena (a child of `parent`, e.g. a sweep's, when given), inside checked error scopes. */
  static create(ctx: GpuContext, config: ToyConfig, runs: BatchRun[], opts: ToyBatchOptions & { parent?: GpuArena } = {}): Promise<ToyBatchTrainer> {
    if (runs.length === 0) throw new Error('a batch needs at least one run');
    if (config.rank > MAX_BATCH_RANK) throw new Error(`batched training supports rank up to ${MAX_BATCH_RANK} (got ${config.rank})`);
    return buildInArena(opts.parent ?? ctx.device, 'batch', `building a batch of ${runs.length} toy runs (n = ${config.n})`, (arena) => new ToyBatchTrainer(arena, ctx.isSoftware, config, runs, opts));
  }

  protected toRow(slot: Slot<never, BatchField>): BatchStepRow {
    return { step: slot.step, runs: slot.groups.map((g) => ({ ...stepMetrics(slot.step, g), alive: g.alive !== 0 })) };
  }

  protected override beforeStep(step: number): void {
    this.epoch?.beforeStep(this.arena.device.queue, step);
  }

  /** Current A (r x n) and B (n x r) of every run: a readback, for tests and exports. */
  async readAdapters(): Promise<Array<{ A: Float32Array; B: Float32Array }>> {
    const { n, rank } = this.config;
    const R = this.runs.length;
    const A = await readFloats(this.arena.device, this.adapters.A, R * RP * n);
    const Bt = await readFloats(this.arena.device, this.adapters.Bt, R * RP * n);
    return Array.from({ length: R }, (_, b) => {
      const a = A.slice(b * RP * n, b * RP * n + rank * n);
      const bm = new Float32Array(n * rank);
      for (let q = 0; q < rank; q++) for (let j = 0; j < n; j++) bm[j * rank + q] = Bt[(b * RP + q) * n + j];
      return { A: a, B: bm };
    });
  }
}

/** A batch as one run loop: it stops early only when every run has diverged (each run's own step is in its rows). */
export function batchSession(trainer: ToyBatchTrainer, host: GpuHost): RunSession<BatchStepRow, ToyBatchTrainer> {
  return new RunSession<BatchStepRow, ToyBatchTrainer>(trainer, host, { stopsAt: (row) => row.runs.every((r) => !r.alive) });
}
