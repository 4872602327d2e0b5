// The toy teacher-student experiment on the GPU (lora-math.md section 4). The whole data path of one
// training step is in `buildStep` below; each step is one command buffer with no CPU-GPU round trip:
//
//   advance  step counter, Adam's beta^t, metrics slot              (train_state.wgsl)
//   gather   the step's mini-batch rows of H1 and Y (if batched)     (train_state.wgsl)
//   forward  Z_A = H1 A^T;  P2 = H1 W0^T + s Z_A B^T;  H2 = phi(P2);  y = H2 W_out^T
//   loss     r = y - y*, dL/dy = r/m;  loss = sum(r^2)/(2m) -> metrics
//   norms    ||Z_A||, ||Z_B||, ||A||, ||B||, ||s B A|| -> metrics (before the update, as the spec says)
//   [test]   the same forward on the test set -> metrics.testLoss   (every testEvery steps)
//   backward dP2 = (dL/dy W_out) * phi'(P2);  dB, U, dA             (lora/layer.ts)
//   update   AdamW on A (lr eta) and B (lr lambda*eta)
//
// H1 = phi(X W_in^T) is frozen, so it is computed once at setup for the whole data set.
import { readFloats, storageBuffer } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/device.ts';
import { activationBackwardOuter, activationForward, mse } from '../gpu/kernels/elementwise.ts';
import { matmul } from '../gpu/kernels/matmul.ts';
import { reduceToMetric } from '../gpu/kernels/reduce.ts';
import { advanceStep, createTrainState, gatherRows } from '../gpu/kernels/trainState.ts';
import { encodePass, type Dispatch, type DispatchProfiler } from '../gpu/pipelines.ts';
import { createLoraBatch, createLoraLayer, loraBackward, loraForward, type LoraLayer } from '../lora/layer.ts';
import { loraNorms } from '../lora/norms.ts';
import { adamwStep, loraPlusGroups } from '../lora/optimizer.ts';
import { batchSize, loraScale, type ToyConfig } from './config.ts';
import { FIELD, MetricsRing, STRIDE, type StepMetrics } from './metrics.ts';
import { EpochOrder, stepsPerEpoch } from './epochOrder.ts';
import { addNoise, drawToyTensors, type ToyTensors } from './toyData.ts';

export interface ToyTrainerOptions {
  /** Receives metrics in step order, in batches, asynchronously. */
  onMetrics?: (rows: StepMetrics[]) => void;
  /** Copy metrics out every this many steps (bounded by the ring). */
  readEvery?: number;
  profiler?: DispatchProfiler;
}

const RING = 256;

/** Bytes of GPU memory a toy configuration needs (the big items: W0, the n x m activations). */
export function toyMemoryBytes(c: ToyConfig): number {
  const m = batchSize(c);
  const floats = c.n * c.n + (c.nTrain + c.nTest) * (c.n + c.d) + 4 * m * c.n + 2 * c.nTest * c.n + 8 * c.n * c.rank;
  return floats * 4;
}

/** Checks a configuration against the adapter's limits before anything is allocated. */
export function checkFits(ctx: GpuContext, c: ToyConfig): string | null {
  const biggest = Math.max(c.n * c.n, c.nTrain * c.n, batchSize(c) * c.n) * 4;
  if (biggest > ctx.limits.maxStorageBufferBindingSize) {
    return `width ${c.n} needs a ${(biggest / 2 ** 20).toFixed(0)} MiB buffer but this GPU binds at most ${(ctx.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`;
  }
  return null;
}

export class ToyTrainer {
  readonly config: ToyConfig;
  readonly layer: LoraLayer;
  readonly metrics: MetricsRing;
  /** Steps encoded and submitted so far. */
  stepsSubmitted = 0;
  private readonly readEvery: number;
  private readonly pre: Dispatch[];
  private readonly test: Dispatch[];
  private readonly post: Dispatch[];
  private readonly buffers: GPUBuffer[] = [];
  private readonly epoch?: EpochOrder;

  private constructor(
    readonly ctx: GpuContext,
    config: ToyConfig,
    private readonly tensors: ToyTensors,
    private readonly opts: ToyTrainerOptions,
  ) {
    this.config = config;
    const device = ctx.device;
    const c = config;
    const { n, d } = tensors;
    const N = tensors.X_train.length / d;
    const Nt = tensors.X_test.length / d;
    const m = c.batch === 0 || c.batch >= N ? N : c.batch;
    const buf = (label: string, x: number | Float32Array | Uint32Array) => {
      const b = storageBuffer(device, label, x);
      this.buffers.push(b);
      return b;
    };
    this.readEvery = opts.readEvery ?? 16;
    this.metrics = new MetricsRing(device, RING, (rows) => this.opts.onMetrics?.(rows));
    const stateBuf = createTrainState(device, RING, STRIDE);
    this.buffers.push(stateBuf);
    const target = { metrics: this.metrics.buffer, state: stateBuf };

    this.layer = createLoraLayer(device, 'toy', { nIn: n, nOut: n, rank: tensors.rank, scale: loraScale(c) }, { W0: tensors.W0, A: tensors.A, B: tensors.B });
    this.buffers.push(this.layer.W0, this.layer.A, this.layer.B, this.layer.dA, this.layer.dB);
    const wOut = buf('W_out', tensors.W_out);
    const h1Train = buf('H1.train', N * n);
    const h1Test = buf('H1.test', Nt * n);
    const yTrain = buf('Y.train', tensors.Y_train!);
    const yTest = buf('Y.test', tensors.Y_test!);
    // H1 for the whole data set, once (frozen first layer).
    frozenFeatures(device, c.activation, tensors.W_in, tensors.X_train, n, d, h1Train);
    frozenFeatures(device, c.activation, tensors.W_in, tensors.X_test, n, d, h1Test);

    // Forward + loss for a batch of `rows` examples: returns its dispatches and the buffers backward needs.
    const forward = (label: string, rows: number, x: GPUBuffer, yStar: GPUBuffer, lossField: number) => {
      const batch = createLoraBatch(device, this.layer, label, rows, x);
      const h2 = buf(`${label}.H2`, rows * n);
      const y = buf(`${label}.y`, rows);
      const residual = buf(`${label}.residual`, rows);
      const gy = buf(`${label}.dy`, rows);
      this.buffers.push(batch.zA, batch.h, batch.u);
      const dispatches = [
        ...loraForward(device, this.layer, batch),
        activationForward(device, c.activation, rows * n, batch.h, h2),
        ...matmul(device, { M: rows, N: 1, K: n, a: h2, b: wOut, c: y, transB: true, label: 'head' }),
        mse(device, rows, y, yStar, residual, gy),
        ...reduceToMetric(device, { x: residual, count: rows, scale: 1 / (2 * rows), sqrt: false, label: `${label}.loss`, field: lossField, ...target }),
      ];
      return { batch, gy, dispatches };
    };

    const pre: Dispatch[] = [advanceStep(device, stateBuf, this.metrics.buffer, c.beta1, c.beta2)];
    let xTrain = h1Train;
    let yTrainBatch = yTrain;
    if (m < N) {
      const epochSteps = stepsPerEpoch(N, m);
      const indices = buf('batch.indices', new Uint32Array(epochSteps * m));
      xTrain = buf('H1.batch', m * n);
      yTrainBatch = buf('Y.batch', m);
      pre.push(
        gatherRows(device, { state: stateBuf, src: h1Train, indices, out: xTrain, rows: m, cols: n, stepsStored: epochSteps }),
        gatherRows(device, { state: stateBuf, src: yTrain, indices, out: yTrainBatch, rows: m, cols: 1, stepsStored: epochSteps }),
      );
      this.epoch = new EpochOrder(indices, N, m, c.seed);
    }
    const train = forward('train', m, xTrain, yTrainBatch, FIELD.loss);
    pre.push(...train.dispatches);
    pre.push(...loraNorms(device, this.layer, train.batch, target, { zA: FIELD.zA, zB: FIELD.zB, normA: FIELD.normA, normB: FIELD.normB, normSBA: FIELD.normSBA }));
    this.pre = pre;
    this.test = forward('test', Nt, h1Test, yTest, FIELD.testLoss).dispatches;

    const dP2 = buf('dP2', m * n);
    this.post = [
      activationBackwardOuter(device, c.activation, m, n, train.batch.h, train.gy, wOut, dP2),
      ...loraBackward(device, this.layer, train.batch, dP2),
      ...adamwStep(device, loraPlusGroups([{ label: 'toy', ...this.layer }], c.eta, c.lambda, c.wd), c, stateBuf),
    ];
  }

  /** Draws (or takes) the tensors, computes the teacher's targets on the GPU, and builds every dispatch. */
  static async create(ctx: GpuContext, config: ToyConfig, opts: ToyTrainerOptions = {}, given?: ToyTensors): Promise<ToyTrainer> {
    const tensors = given ?? (await withTeacherTargets(ctx, config, drawToyTensors(config)));
    ctx.device.pushErrorScope('out-of-memory');
    ctx.device.pushErrorScope('validation');
    const trainer = new ToyTrainer(ctx, config, tensors, opts);
    const validation = await ctx.device.popErrorScope();
    const oom = await ctx.device.popErrorScope();
    if (validation || oom) {
      trainer.destroy();
      throw new Error(oom ? `Out of GPU memory building the toy model at n = ${config.n}` : `WebGPU validation error: ${validation!.message}`);
    }
    return trainer;
  }

  /** Is step `step` (1-based) one with a test evaluation? */
  isEvalStep(step: number): boolean {
    return step === 1 || step % this.config.testEvery === 0 || step === this.config.steps;
  }

  /**
   * Encode and submit one training step (one command buffer). Waits only when every metrics staging
   * buffer is still in flight.
   */
  async step(opts: { flushMetrics?: boolean } = {}): Promise<void> {
    const device = this.ctx.device;
    const step = this.stepsSubmitted + 1;
    this.epoch?.beforeStep(device.queue, step);
    const copyNow = opts.flushMetrics || this.metrics.due(step, this.readEvery);
    const staging = copyNow ? await this.metrics.acquire() : undefined;
    const encoder = device.createCommandEncoder({ label: `step ${step}` });
    encodePass(encoder, this.pre, this.opts.profiler, 'forward');
    if (this.isEvalStep(step)) encodePass(encoder, this.test, this.opts.profiler, 'test');
    encodePass(encoder, this.post, this.opts.profiler, 'backward+update');
    const afterSubmit = staging ? this.metrics.copy(encoder, staging, step) : undefined;
    device.queue.submit([encoder.finish()]);
    this.stepsSubmitted = step;
    afterSubmit?.();
  }

  /** Copy out any metrics not yet read and wait for all deliveries. */
  async flush(): Promise<void> {
    await this.metrics.flush(this.ctx.device, this.stepsSubmitted);
  }

  /** Current adapter weights (a readback: for exports and tests, not the training loop). */
  async readAdapter(): Promise<{ A: Float32Array; B: Float32Array }> {
    const { rank, nIn, nOut } = this.layer;
    return { A: await readFloats(this.ctx.device, this.layer.A, rank * nIn), B: await readFloats(this.ctx.device, this.layer.B, nOut * rank) };
  }

  get data(): ToyTensors {
    return this.tensors;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.metrics.destroy();
  }
}

/** h1 = phi(X W_in^T), computed once (X: rows x d, W_in: n x d, out: rows x n). */
function frozenFeatures(device: GPUDevice, act: ToyConfig['activation'], wIn: Float32Array, x: Float32Array, n: number, d: number, out: GPUBuffer): void {
  const rows = x.length / d;
  const wBuf = storageBuffer(device, 'W_in', wIn);
  const xBuf = storageBuffer(device, 'X', x);
  const pre = storageBuffer(device, 'XW', rows * n);
  const enc = device.createCommandEncoder({ label: 'frozen features' });
  encodePass(enc, [...matmul(device, { M: rows, N: n, K: d, a: xBuf, b: wBuf, c: pre, transB: true }), activationForward(device, act, rows * n, pre, out)]);
  device.queue.submit([enc.finish()]);
  // Destroying after submit is safe: WebGPU keeps them alive until the submitted work completes.
  wBuf.destroy();
  xBuf.destroy();
  pre.destroy();
}

/** The teacher is the same network with W0 + U* V*^T: a LoRA layer with A = V*^T, B = U*, s = 1. */
export async function withTeacherTargets(ctx: GpuContext, c: ToyConfig, t: ToyTensors): Promise<ToyTensors> {
  if (!t.teacher) throw new Error('teacher factors missing');
  const device = ctx.device;
  const { n, d } = t;
  const run = async (x: Float32Array): Promise<Float32Array> => {
    const rows = x.length / d;
    const h1 = storageBuffer(device, 'teacher.H1', rows * n);
    frozenFeatures(device, c.activation, t.W_in, x, n, d, h1);
    const layer = createLoraLayer(device, 'teacher', { nIn: n, nOut: n, rank: t.teacher!.rank, scale: 1 }, { W0: t.W0, A: t.teacher!.A, B: t.teacher!.B });
    const batch = createLoraBatch(device, layer, 'teacher', rows, h1);
    const h2 = storageBuffer(device, 'teacher.H2', rows * n);
    const wOut = storageBuffer(device, 'teacher.W_out', t.W_out);
    const y = storageBuffer(device, 'teacher.y', rows);
    const enc = device.createCommandEncoder({ label: 'teacher' });
    encodePass(enc, [
      ...loraForward(device, layer, batch),
      activationForward(device, c.activation, rows * n, batch.h, h2),
      ...matmul(device, { M: rows, N: 1, K: n, a: h2, b: wOut, c: y, transB: true }),
    ]);
    device.queue.submit([enc.finish()]);
    const out = await readFloats(device, y, rows);
    for (const b of [h1, layer.W0, layer.A, layer.B, layer.dA, layer.dB, batch.zA, batch.h, batch.u, h2, wOut, y]) b.destroy();
    return out;
  };
  return { ...t, Y_train: addNoise(await run(t.X_train), c.noise, c.seed), Y_test: await run(t.X_test) };
}

