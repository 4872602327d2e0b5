// The toy teacher-student experiment on the GPU (lora-math.md section 4). The whole data path of one
// training step is built in the constructor below; each step is one command buffer (run/trainer.ts) with
// no CPU-GPU round trip:
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
import type { GpuArena } from '../../gpu/arena.ts';
import { readFloats } from '../../gpu/buffers.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { activationBackwardOuter, activationForward, mse } from '../../gpu/kernels/elementwise.ts';
import { matmul } from '../../gpu/kernels/matmul.ts';
import { reduceToMetric } from '../../gpu/kernels/reduce.ts';
import { gatherRows } from '../../gpu/kernels/trainState.ts';
import { encodePass, type Dispatch } from '../../gpu/pipelines.ts';
import { createLoraBatch, createLoraLayer, loraBackward, loraForward, type LoraLayer } from '../../lora/layer.ts';
import { loraNorms } from '../../lora/norms.ts';
import { adamwStep, loraPlusGroups } from '../../lora/optimizer.ts';
import type { Slot } from '../run/metricsLayout.ts';
import { buildInArena, StepTrainer, type StepTrainerOptions } from '../run/trainer.ts';
import { loraScale, type ToyConfig } from './config.ts';
import { addNoise, drawToyTensors, type ToyTensors } from './data.ts';
import { EpochOrder, stepsPerEpoch } from './epochOrder.ts';
import { TOY_LAYOUT, toyRow, type StepMetrics, type ToyMetric } from './metrics.ts';

export class ToyTrainer extends StepTrainer<StepMetrics, never, ToyMetric> {
  readonly layer: LoraLayer;
  private readonly epoch?: EpochOrder;

  private constructor(
    arena: GpuArena,
    readonly config: ToyConfig,
    private readonly tensors: ToyTensors,
    opts: StepTrainerOptions,
  ) {
    super(arena, TOY_LAYOUT, { totalSteps: config.steps, evalEvery: config.testEvery, beta1: config.beta1, beta2: config.beta2 }, opts, 16);
    const c = config;
    const { n, d } = tensors;
    const N = tensors.X_train.length / d;
    const Nt = tensors.X_test.length / d;
    const m = c.batch === 0 || c.batch >= N ? N : c.batch;
    const field = (f: ToyMetric) => TOY_LAYOUT.groupFieldOf(0, f);

    this.layer = createLoraLayer(arena, 'toy', { nIn: n, nOut: n, rank: tensors.rank, scale: loraScale(c) }, { W0: tensors.W0, A: tensors.A, B: tensors.B });
    const wOut = arena.storage('W_out', tensors.W_out);
    const h1Train = arena.storage('H1.train', N * n);
    const h1Test = arena.storage('H1.test', Nt * n);
    const yTrain = arena.storage('Y.train', tensors.Y_train!);
    const yTest = arena.storage('Y.test', tensors.Y_test!);
    // H1 for the whole data set, once (frozen first layer).
    frozenFeatures(arena, c.activation, tensors.W_in, tensors.X_train, n, d, h1Train);
    frozenFeatures(arena, c.activation, tensors.W_in, tensors.X_test, n, d, h1Test);

    // Forward + loss for a batch of `rows` examples: its dispatches and the buffers backward needs.
    const forward = (label: string, rows: number, x: GPUBuffer, yStar: GPUBuffer, lossField: number) => {
      const batch = createLoraBatch(arena, this.layer, label, rows, x);
      const h2 = arena.storage(`${label}.H2`, rows * n);
      const y = arena.storage(`${label}.y`, rows);
      const residual = arena.storage(`${label}.residual`, rows);
      const gy = arena.storage(`${label}.dy`, rows);
      const dispatches = [
        ...loraForward(arena, this.layer, batch),
        activationForward(arena, c.activation, rows * n, batch.h, h2),
        ...matmul(arena, { M: rows, N: 1, K: n, a: h2, b: wOut, c: y, transB: true, label: 'head' }),
        mse(arena, rows, y, yStar, residual, gy),
        ...reduceToMetric(arena, { x: residual, count: rows, scale: 1 / (2 * rows), sqrt: false, label: `${label}.loss`, field: lossField, ...this.metricsTarget }),
      ];
      return { batch, gy, dispatches };
    };

    // Mini-batches: this step's rows of H1 and Y, gathered on the GPU from the epoch's order.
    const gather: Dispatch[] = [];
    let xTrain = h1Train;
    let yTrainBatch = yTrain;
    if (m < N) {
      const epochSteps = stepsPerEpoch(N, m);
      const indices = arena.storage('batch.indices', new Uint32Array(epochSteps * m));
      xTrain = arena.storage('H1.batch', m * n);
      yTrainBatch = arena.storage('Y.batch', m);
      gather.push(
        gatherRows(arena, { state: this.state, src: h1Train, indices, out: xTrain, rows: m, cols: n, stepsStored: epochSteps }),
        gatherRows(arena, { state: this.state, src: yTrain, indices, out: yTrainBatch, rows: m, cols: 1, stepsStored: epochSteps }),
      );
      this.epoch = new EpochOrder(indices, N, m, c.seed);
    }
    const train = forward('train', m, xTrain, yTrainBatch, field('loss'));
    const norms = loraNorms(arena, this.layer, train.batch, this.metricsTarget, { zA: field('zA'), zB: field('zB'), normA: field('normA'), normB: field('normB'), normSBA: field('normSBA') });
    const dP2 = arena.storage('dP2', m * n);
    this.phases = [
      { label: 'forward', dispatches: [...gather, ...train.dispatches, ...norms] },
      { label: 'test', dispatches: forward('test', Nt, h1Test, yTest, field('testLoss')).dispatches, evalOnly: true },
      {
        label: 'backward+update',
        dispatches: [
          activationBackwardOuter(arena, c.activation, m, n, train.batch.h, train.gy, wOut, dP2),
          ...loraBackward(arena, this.layer, train.batch, dP2),
          ...adamwStep(arena, loraPlusGroups([{ label: 'toy', ...this.layer }], c.eta, c.lambda, c.wd), c, this.state),
        ],
      },
    ];
  }

  /** Draws (or takes) the tensors, computes the teacher's targets on the GPU, and builds every dispatch. */
  static async create(ctx: GpuContext, config: ToyConfig, opts: StepTrainerOptions = {}, given?: ToyTensors): Promise<ToyTrainer> {
    const tensors = given ?? (await withTeacherTargets(ctx, config, drawToyTensors(config)));
    return buildInArena(ctx.device, 'toy', `building the toy model (n = ${config.n})`, (arena) => new ToyTrainer(arena, config, tensors, opts));
  }

  protected toRow(slot: Slot<never, ToyMetric>): StepMetrics {
    return toyRow(slot);
  }

  protected override beforeStep(step: number): void {
    this.epoch?.beforeStep(this.arena.device.queue, step);
  }

  /** Current adapter weights (a readback: for exports and tests, not the training loop). */
  async readAdapter(): Promise<{ A: Float32Array; B: Float32Array }> {
    const { rank, nIn, nOut } = this.layer;
    const device = this.arena.device;
    return { A: await readFloats(device, this.layer.A, rank * nIn), B: await readFloats(device, this.layer.B, nOut * rank) };
  }

  get data(): ToyTensors {
    return this.tensors;
  }
}

/** h1 = phi(X W_in^T), computed once (X: rows x d, W_in: n x d, out: rows x n); its inputs are temporaries. */
function frozenFeatures(arena: GpuArena, act: ToyConfig['activation'], wIn: Float32Array, x: Float32Array, n: number, d: number, out: GPUBuffer): void {
  const rows = x.length / d;
  const temp = arena.child('frozen features');
  const wBuf = temp.storage('W_in', wIn);
  const xBuf = temp.storage('X', x);
  const pre = temp.storage('XW', rows * n);
  const enc = arena.device.createCommandEncoder({ label: 'frozen features' });
  encodePass(enc, [...matmul(temp, { M: rows, N: n, K: d, a: xBuf, b: wBuf, c: pre, transB: true }), activationForward(temp, act, rows * n, pre, out)]);
  arena.device.queue.submit([enc.finish()]);
  temp.destroy(); // safe right after the submit: WebGPU frees them once the queued work is done
}

/** The teacher is the same network with W0 + U* V*^T: a LoRA layer with A = V*^T, B = U*, s = 1. */
export async function withTeacherTargets(ctx: GpuContext, c: ToyConfig, t: ToyTensors): Promise<ToyTensors> {
  if (!t.teacher) throw new Error('teacher factors missing');
  const teacher = t.teacher;
  const { n, d } = t;
  const run = (x: Float32Array) =>
    buildInArena(ctx.device, 'teacher', `computing the teacher's targets (n = ${c.n})`, (arena) => {
      const rows = x.length / d;
      const h1 = arena.storage('teacher.H1', rows * n);
      frozenFeatures(arena, c.activation, t.W_in, x, n, d, h1);
      const layer = createLoraLayer(arena, 'teacher', { nIn: n, nOut: n, rank: teacher.rank, scale: 1 }, { W0: t.W0, A: teacher.A, B: teacher.B });
      const batch = createLoraBatch(arena, layer, 'teacher', rows, h1);
      const h2 = arena.storage('teacher.H2', rows * n);
      const wOut = arena.storage('teacher.W_out', t.W_out);
      const y = arena.storage('teacher.y', rows);
      const enc = arena.device.createCommandEncoder({ label: 'teacher' });
      encodePass(enc, [
        ...loraForward(arena, layer, batch),
        activationForward(arena, c.activation, rows * n, batch.h, h2),
        ...matmul(arena, { M: rows, N: 1, K: n, a: h2, b: wOut, c: y, transB: true }),
      ]);
      arena.device.queue.submit([enc.finish()]);
      return { arena, y, rows };
    }).then(async ({ arena, y, rows }) => {
      try {
        return await readFloats(arena.device, y, rows);
      } finally {
        arena.destroy();
      }
    });
  return { ...t, Y_train: addNoise(await run(t.X_train), c.noise, c.seed), Y_test: await run(t.X_test) };
}
