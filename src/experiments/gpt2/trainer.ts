// The GPT-2 LoRA trainer: frozen GPT-2 weights, LoRA adapters on the chosen modules of every block,
// AdamW on A and B only. Structured like the toy trainer: every dispatch is built once, each step is one
// command buffer, the step counter and Adam's bias corrections live on the GPU, and metrics go through a
// ring that is read back asynchronously. The data path of a step is in graph.ts; one step encodes
//
//   advance   step counter, beta^t, metrics slot                     (train_state.wgsl)
//   [eval]    forward + loss on the held-out batch -> evalLoss       (every evalEvery steps)
//   forward   embeddings .. ln_f, LM head per vocab chunk, per-row cross-entropy
//   metrics   mean loss; per adapter ||Z_A||, ||Z_B||, ||A||, ||B||, ||s B A|| (before the update)
//   backward  softmax-xent .. down to the lowest adapted module; dA, dB of every adapter
//   update    AdamW: A at eta, B at lambda * eta                   (LoRA+; nothing frozen has state)
//
// The batch's token ids are written with queue.writeBuffer before the step's submit (queue-ordered).
import { readFloats, storageBuffer } from '../../gpu/buffers.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { isMatmulPlaceholder } from '../../gpu/kernels/matmul.ts';
import { reduceToMetric } from '../../gpu/kernels/reduce.ts';
import type { LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import { advanceStep, createTrainState } from '../../gpu/kernels/trainState.ts';
import { encodePass, type Dispatch, type DispatchProfiler } from '../../gpu/pipelines.ts';
import { loraNorms } from '../../lora/norms.ts';
import { adamwStep, loraPlusGroups } from '../../lora/optimizer.ts';
import type { Gpt2Weights, LoraTarget } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import { gpt2ConfigError, type Gpt2RunConfig } from './config.ts';
import { BatchSampler, checkTokens, fixedBatch, type TokenBatch } from './data.ts';
import { Generator, type GenerateOptions } from './generate.ts';
import { allocGraph, allocScratch, backward, forward, lossForward, type GraphBuffers, type LossBuffers } from './graph.ts';
import { adapterField, EVAL_FIELD, gpt2Stride, Gpt2MetricsRing, LOSS_FIELD, type Gpt2StepMetrics } from './metrics.ts';
import { createAdapters, uploadGpt2, type Adapter, type FrozenGpt2 } from './model.ts';
import { DEFAULT_MEMORY_BUDGET, formatBytes, METRICS_RING, planGpt2, planProblems, type Gpt2Plan } from './plan.ts';

export interface Gpt2TrainerOptions {
  /** Receives metrics in step order, in batches, asynchronously. */
  onMetrics?: (rows: Gpt2StepMetrics[]) => void;
  /** Copy metrics out every this many steps (default 1: a GPT-2 step is long, the copy is tiny). */
  readEvery?: number;
  profiler?: DispatchProfiler;
  /** Start from these adapter weights (e.g. an imported PEFT adapter) instead of the seeded init. */
  adapters?: readonly LoraWeights[];
  /** Force vocabulary chunks of at most this many rows (default: as large as the binding limit allows). */
  maxVocabChunk?: number;
  /** Refuse configurations whose planned total exceeds this many bytes (default 4 GiB). */
  memoryBudget?: number;
}

export interface Gpt2Data {
  /** Training token ids (e.g. encodeCorpus of a text). */
  train: Uint32Array;
  /** Held-out token ids for evalLoss (optional). */
  eval?: Uint32Array;
}

/** A configuration that will not fit: what it needs and why it was refused, before anything was allocated. */
export class Gpt2FitError extends Error {
  constructor(
    readonly problems: string[],
    readonly plan: Gpt2Plan,
  ) {
    super(`this configuration will not fit: ${problems.join('; ')}`);
    this.name = 'Gpt2FitError';
  }
}

export interface AdapterInfo {
  layer: number;
  target: LoraTarget;
  label: string;
}

const RING = METRICS_RING;

export class Gpt2Trainer {
  readonly config: Gpt2RunConfig;
  readonly plan: Gpt2Plan;
  readonly adapters: AdapterInfo[];
  readonly metrics: Gpt2MetricsRing;
  /** Steps encoded and submitted so far. */
  stepsSubmitted = 0;
  private buffers: GPUBuffer[] = [];
  private readonly model: FrozenGpt2;
  private readonly adapterLayers: Adapter[];
  private readonly graph: GraphBuffers;
  private readonly loss: LossBuffers;
  private readonly tokens: GPUBuffer;
  private readonly pre: Dispatch[];
  private readonly fwd: Dispatch[];
  private readonly stepMetrics: Dispatch[];
  private readonly bwd: Dispatch[];
  private readonly update: Dispatch[];
  private readonly evalPass?: Dispatch[];
  private readonly sampler: BatchSampler;
  private generator?: Generator;

  private constructor(
    readonly ctx: GpuContext,
    weights: Gpt2Weights,
    run: Gpt2RunConfig,
    data: Gpt2Data,
    plan: Gpt2Plan,
    private readonly opts: Gpt2TrainerOptions,
  ) {
    const device = ctx.device;
    const c = weights.config;
    const { batch: B, seq: T } = run;
    const N = B * T;
    this.config = run;
    this.plan = plan;
    this.model = uploadGpt2(device, weights, plan.vocabChunkRows);
    this.adapterLayers = createAdapters(device, this.model, run, opts.adapters);
    this.adapters = this.adapterLayers.map(({ layer, target, label }) => ({ layer, target, label }));

    const stride = gpt2Stride(this.adapterLayers.length);
    this.metrics = new Gpt2MetricsRing(device, RING, stride, this.adapterLayers.length, (rows) => this.opts.onMetrics?.(rows));
    const state = createTrainState(device, RING, stride);
    const target = { metrics: this.metrics.buffer, state };

    this.graph = allocGraph(device, this.model, this.adapterLayers, B, T, false);
    this.tokens = storageBuffer(device, 'tokens', new Uint32Array(N));
    const logits: LogitChunk[] = plan.chunks.map((ch, i) => ({ v0: ch.v0, cols: ch.rows, logits: storageBuffer(device, `logits[${i}]`, N * ch.rows) }));
    this.loss = {
      logits,
      targets: storageBuffer(device, 'targets', new Uint32Array(N)),
      xentStats: storageBuffer(device, 'xent.stats', 4 * N),
      losses: storageBuffer(device, 'losses', N),
      dlnf: storageBuffer(device, 'dlnf', N * c.n_embd),
    };
    const ones = storageBuffer(device, 'ones', new Float32Array(N).fill(1));
    const scratch = allocScratch(device, this.model, B, T);
    const meanLoss = (field: number, label: string) => reduceToMetric(device, { x: this.loss.losses, y: ones, count: N, scale: 1 / N, sqrt: false, label, field, ...target });

    this.pre = [advanceStep(device, state, this.metrics.buffer, run.beta1, run.beta2)];
    this.fwd = [...forward(device, this.model, this.adapterLayers, this.graph, this.tokens), ...lossForward(device, this.model, this.graph, this.loss)];
    this.stepMetrics = [
      ...meanLoss(LOSS_FIELD, 'loss'),
      ...this.adapterLayers.flatMap((a, k) =>
        loraNorms(device, a.lora, this.graph.lora.get(a.label)!, target, {
          zA: adapterField(k, 'zA'), zB: adapterField(k, 'zB'), normA: adapterField(k, 'normA'), normB: adapterField(k, 'normB'), normSBA: adapterField(k, 'normSBA'),
        }),
      ),
    ];
    this.bwd = backward(device, this.model, this.adapterLayers, this.graph, this.loss, scratch);
    const groups = loraPlusGroups(this.adapterLayers.map((a) => ({ label: a.label, ...a.lora })), run.eta, run.lambda, run.wd);
    this.update = adamwStep(device, groups, { beta1: run.beta1, beta2: run.beta2, eps: run.eps }, state);

    if (data.eval && run.evalEvery > 0) {
      const held = fixedBatch(data.eval, B, T);
      const evalTokens = storageBuffer(device, 'eval.tokens', held.tokens);
      const evalLoss = { ...this.loss, targets: storageBuffer(device, 'eval.targets', held.targets) };
      this.evalPass = [...forward(device, this.model, this.adapterLayers, this.graph, evalTokens), ...lossForward(device, this.model, this.graph, evalLoss), ...meanLoss(EVAL_FIELD, 'evalLoss')];
    }
    this.sampler = new BatchSampler(data.train, B, T, run.seed);
  }

  /**
   * Checks the configuration (model limits, token ids, the memory plan against the adapter's binding
   * limits and the budget) before allocating anything, then uploads the model and builds every dispatch.
   * Throws Gpt2FitError for a configuration that will not fit.
   */
  static async create(ctx: GpuContext, weights: Gpt2Weights, run: Gpt2RunConfig, data: Gpt2Data, opts: Gpt2TrainerOptions = {}): Promise<Gpt2Trainer> {
    const bad = gpt2ConfigError(run, weights.config);
    if (bad) throw new Error(bad);
    if (!run.targets.length) throw new Error('choose at least one LoRA target');
    checkTokens('training data', data.train, weights.config.vocab_size, run.seq + 1);
    if (data.eval && run.evalEvery > 0) checkTokens('eval data', data.eval, weights.config.vocab_size, run.seq + 1);
    const plan = planGpt2(weights.config, run, ctx.limits, { maxVocabChunk: opts.maxVocabChunk });
    const problems = planProblems(plan, ctx.limits, opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET);
    if (problems.length) throw new Gpt2FitError(problems, plan);

    const device = ctx.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let trainer: Gpt2Trainer | undefined;
    const buffers: GPUBuffer[] = [];
    let thrown: unknown;
    try {
      trainer = trackBuffers(device, buffers, () => new Gpt2Trainer(ctx, weights, run, data, plan, opts));
      trainer.buffers = buffers;
    } catch (e) {
      thrown = e;
    }
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (thrown || validation || oom) {
      for (const b of buffers) b.destroy();
      if (thrown) throw thrown;
      throw new Error(oom ? `Out of GPU memory while allocating ${formatBytes(plan.total)} for this configuration (the adapter has less free memory than that)` : `WebGPU validation error building the GPT-2 trainer: ${validation!.message}`);
    }
    return trainer!;
  }

  /** Bytes of every GPU buffer this trainer has allocated (the generation buffers once generate() has run). */
  get memoryBytes(): number {
    return this.buffers.reduce((s, b) => s + b.size, 0);
  }

  /** Tokens in one training step (batch x sequence length). */
  get tokensPerStep(): number {
    return this.config.batch * this.config.seq;
  }

  isEvalStep(step: number): boolean {
    const k = this.config.evalEvery;
    return !!this.evalPass && k > 0 && (step === 1 || step % k === 0 || step === this.config.steps);
  }

  private writeBatch(b: TokenBatch): void {
    const N = this.tokensPerStep;
    if (b.tokens.length !== N || b.targets.length !== N) throw new Error(`a batch must hold ${N} tokens and ${N} targets`);
    const V = this.model.config.vocab_size;
    for (const ids of [b.tokens, b.targets]) for (const id of ids) if (id >= V) throw new Error(`token ${id} is outside the vocabulary (${V})`);
    const q = this.ctx.device.queue;
    q.writeBuffer(this.tokens, 0, b.tokens.buffer, b.tokens.byteOffset, b.tokens.byteLength);
    q.writeBuffer(this.loss.targets, 0, b.targets.buffer, b.targets.byteOffset, b.targets.byteLength);
  }

  /** Encode and submit one training step (on `batch`, or the sampler's next batch). */
  async step(opts: { flushMetrics?: boolean; batch?: TokenBatch } = {}): Promise<void> {
    const device = this.ctx.device;
    const step = this.stepsSubmitted + 1;
    this.writeBatch(opts.batch ?? this.sampler.next());
    const copyNow = opts.flushMetrics || this.metrics.due(step, this.opts.readEvery ?? 1);
    const staging = copyNow ? await this.metrics.acquire() : undefined;
    const profiler = this.opts.profiler;
    const encoder = device.createCommandEncoder({ label: `gpt2 step ${step}` });
    encodePass(encoder, this.pre, profiler, 'advance');
    if (this.evalPass && this.isEvalStep(step)) encodePass(encoder, this.evalPass, profiler, 'eval');
    encodePass(encoder, this.fwd, profiler, 'forward');
    encodePass(encoder, this.stepMetrics, profiler, 'metrics');
    encodePass(encoder, this.bwd, profiler, 'backward');
    encodePass(encoder, this.update, profiler, 'update');
    const afterSubmit = staging ? this.metrics.copy(encoder, staging, step) : undefined;
    device.queue.submit([encoder.finish()]);
    this.stepsSubmitted = step;
    afterSubmit?.();
  }

  /** Copy out any metrics not yet read and wait for all deliveries. */
  async flush(): Promise<void> {
    await this.metrics.flush(this.ctx.device, this.stepsSubmitted);
  }

  /** Waits until the GPU has finished everything submitted so far. */
  async idle(): Promise<void> {
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  /** Current adapter weights, in PEFT's layout (A: r x in, B: out x r). A readback: for export, not per step. */
  async readAdapters(): Promise<LoraWeights[]> {
    const device = this.ctx.device;
    const out: LoraWeights[] = [];
    for (const a of this.adapterLayers) {
      const { rank, nIn, nOut } = a.lora;
      out.push({ layer: a.layer, target: a.target, A: await readFloats(device, a.lora.A, rank * nIn), B: await readFloats(device, a.lora.B, nOut * rank) });
    }
    return out;
  }

  /**
   * Continue `prompt` (token ids) with the current adapters. Builds the generation buffers on first use
   * (counted in the plan and in memoryBytes). Safe between steps; it queues behind submitted steps.
   */
  async generate(prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
    if (!this.generator) {
      this.generator = trackBuffers(this.ctx.device, this.buffers, () => new Generator(this.ctx.device, this.model, this.adapterLayers, this.config.seq));
    }
    return this.generator.generate(prompt, opts);
  }

  // ---- inspection (tests, parity checks): these reuse the training buffers, so never call them while steps run ----

  /** Forward only on `batch`: logits (N x V, row-major) and per-row losses. No metrics, no update. */
  async evaluate(batch: TokenBatch): Promise<{ logits: Float32Array; losses: Float32Array }> {
    const device = this.ctx.device;
    this.writeBatch(batch);
    const enc = device.createCommandEncoder({ label: 'gpt2 evaluate' });
    encodePass(enc, this.fwd);
    device.queue.submit([enc.finish()]);
    const N = this.tokensPerStep;
    const V = this.model.config.vocab_size;
    const logits = new Float32Array(N * V);
    for (const ch of this.loss.logits) {
      const part = await readFloats(device, ch.logits, N * ch.cols);
      for (let n = 0; n < N; n++) logits.set(part.subarray(n * ch.cols, (n + 1) * ch.cols), n * V + ch.v0);
    }
    return { logits, losses: await readFloats(device, this.loss.losses, N) };
  }

  /** Forward and backward on `batch` without an update: every adapter's dL/dA and dL/dB. */
  async gradients(batch: TokenBatch): Promise<Array<{ label: string; dA: Float32Array; dB: Float32Array }>> {
    const device = this.ctx.device;
    this.writeBatch(batch);
    const enc = device.createCommandEncoder({ label: 'gpt2 gradients' });
    encodePass(enc, this.fwd);
    encodePass(enc, this.bwd);
    device.queue.submit([enc.finish()]);
    const out: Array<{ label: string; dA: Float32Array; dB: Float32Array }> = [];
    for (const a of this.adapterLayers) {
      const { rank, nIn, nOut } = a.lora;
      out.push({ label: a.label, dA: await readFloats(device, a.lora.dA, rank * nIn), dB: await readFloats(device, a.lora.dB, nOut * rank) });
    }
    return out;
  }

  destroy(): void {
    for (const b of this.buffers) if (!isMatmulPlaceholder(b)) b.destroy(); // NOTE: matmul's placeholder may be created inside trackBuffers
    this.buffers = [];
  }
}

/**
 * Runs `build` (synchronous) and appends to `created` every GPU buffer it made, including those made inside
 * kernel wrappers (uniforms, split-K partials, AdamW moments, staging buffers), so that a trainer knows its
 * exact memory and can free all of it, even when `build` throws half-way. NOTE: works by shadowing
 * device.createBuffer for the duration of the call; `build` must not await.
 */
export function trackBuffers<T>(device: GPUDevice, created: GPUBuffer[], build: () => T): T {
  const original = device.createBuffer;
  const wrapped = (descriptor: GPUBufferDescriptor) => {
    const b = original.call(device, descriptor);
    created.push(b);
    return b;
  };
  Object.defineProperty(device, 'createBuffer', { value: wrapped, configurable: true, writable: true });
  try {
    return build();
  } finally {
    delete (device as { createBuffer?: unknown }).createBuffer;
    if (device.createBuffer !== original) Object.defineProperty(device, 'createBuffer', { value: original, configurable: true, writable: true });
  }
}
