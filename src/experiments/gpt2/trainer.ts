// The GPT-2 LoRA trainer: frozen GPT-2 weights, LoRA adapters on the chosen modules of every block,
// AdamW on A and B only, with the training options of Hugging Face's Trainer + PEFT (dropout, gradient
// clipping, a learning-rate schedule, gradient accumulation). Structured like the toy trainer: every
// dispatch is built once, each step is one command buffer, everything a step computes (the step counter,
// Adam's bias corrections, the schedule's factor, the clipping scale) lives on the GPU, and metrics go
// through a ring that is read back asynchronously. The data path of a step is in graph.ts; one step encodes
//
//   advance   step counter, beta^t, lr factor, metrics slot              (train_state.wgsl)
//   [eval]    forward (no dropout) + loss on the held-out batch -> evalLoss   (every evalEvery steps)
//   per micro-batch i of k (gradient accumulation; k = 1: one, no copies):
//     [copy]    its tokens and targets into place, its index into the state (its dropout masks)
//     forward   embeddings .. ln_f, LM head per vocab chunk, per-row cross-entropy (with dropout)
//     metrics   (i = 0) per adapter ||Z_A||, ||Z_B||, ||A||, ||B||, ||s B A|| (before the update)
//     backward  softmax-xent (1/(k N)) .. down to the lowest adapted module; dA, dB (added for i > 0)
//   loss      the mean of the k N per-row losses
//   [clip]    global gradient norm -> state.clip = min(1, max / (norm + 1e-6))  (grad_clip.wgsl)
//   update    AdamW: A at eta, B at lambda * eta, times the lr factor  (LoRA+; nothing frozen has state)
//
// The step's token ids are written with queue.writeBuffer before the step's submit (queue-ordered).
import type { GpuArena } from '../../gpu/arena.ts';
import { readFloats } from '../../gpu/buffers.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { clipByGlobalNorm } from '../../gpu/kernels/gradClip.ts';
import { reduceToMetric } from '../../gpu/kernels/reduce.ts';
import { isConstantSchedule, type ScheduleSpec } from '../../gpu/kernels/trainState.ts';
import type { LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import { encodePass, type Dispatch } from '../../gpu/pipelines.ts';
import { loraNorms } from '../../lora/norms.ts';
import { adamwStep, loraPlusGroups } from '../../lora/optimizer.ts';
import type { Gpt2Weights, LoraTarget } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import type { Slot } from '../run/metricsLayout.ts';
import { buildInArena, StepTrainer, type StepTrainerOptions } from '../run/trainer.ts';
import { dropoutRates, gpt2ConfigError, type Gpt2RunConfig } from './config.ts';
import { BatchSampler, checkTokens, fixedBatch, type TokenBatch } from './data.ts';
import { Generator, type GenerateOptions, type GenerateResult } from './generate.ts';
import { allocGraph, allocScratch, backward, forward, lossForward, type GraphBuffers, type GraphDropout, type LossBuffers } from './graph.ts';
import { gpt2Layout, gpt2Row, type AdapterField, type Gpt2SharedField, type Gpt2StepMetrics } from './metrics.ts';
import { createAdapters, uploadGpt2, type Adapter, type FrozenGpt2 } from './model.ts';
import { DEFAULT_MEMORY_BUDGET, formatBytes, METRICS_RING, planGpt2, planProblems, type Gpt2Plan } from './plan.ts';

export interface Gpt2TrainerOptions extends StepTrainerOptions {
  /** Start from these adapter weights (e.g. an imported PEFT adapter) instead of the seeded init. */
  adapters?: readonly LoraWeights[];
  /** Force vocabulary chunks of at most this many rows (default: as large as the binding limit allows). */
  maxVocabChunk?: number;
  /** Refuse configurations whose planned total exceeds this many bytes (default 4 GiB). */
  memoryBudget?: number;
  /** Called before each step with the window starts of its batch (offsets into the training tokens). */
  onBatch?: (step: number, starts: readonly number[]) => void;
}

export interface Gpt2Data {
  /** Training token ids (e.g. encodeCorpus of a text). */
  train: Uint32Array;
  /** Held-out token ids for evalLoss (optional). */
  eval?: Uint32Array;
}

/** A configuration that will not fit: what it needs and why it was refused, before anything was allocated. */
/** Byte offset of State.micro (shaders/state.wgsl): the trainer copies each micro-batch's index there. */
const STATE_MICRO_OFFSET = 12;

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

export class Gpt2Trainer extends StepTrainer<Gpt2StepMetrics, Gpt2SharedField, AdapterField> {
  /** A GPT-2 step is long: wait for it before encoding the next (a pause takes effect after one step). */
  override readonly syncEachStep = true;
  readonly config: Gpt2RunConfig;
  readonly plan: Gpt2Plan;
  readonly adapters: AdapterInfo[];
  private readonly model: FrozenGpt2;
  private readonly adapterLayers: Adapter[];
  private readonly graph: GraphBuffers;
  private readonly loss: LossBuffers;
  private readonly tokens: GPUBuffer;
  /** k micro-batches (gradient accumulation): the step's tokens and targets, copied into place one micro-batch at a time. */
  private readonly micro?: { tokens: GPUBuffer; targets: GPUBuffer };
  /** The training forward (with dropout, if any) and the backward of the first micro-batch. */
  private readonly fwd: Dispatch[];
  private readonly bwd: Dispatch[];
  /** The forward without dropout (evaluation), built on first use when training has dropout. */
  private plainFwd?: Dispatch[];
  private readonly sampler: BatchSampler;
  private readonly onBatch?: Gpt2TrainerOptions['onBatch'];
  /** Whether training applies dropout (then evaluation needs its own forward). */
  private readonly dropping: boolean;
  private nextBatch?: TokenBatch;
  private generator?: Generator;

  private constructor(arena: GpuArena, weights: Gpt2Weights, run: Gpt2RunConfig, data: Gpt2Data, plan: Gpt2Plan, opts: Gpt2TrainerOptions) {
    const adapterCount = weights.config.n_layer * run.targets.length;
    const layout = gpt2Layout(adapterCount);
    const evalEvery = data.eval && run.evalEvery > 0 ? run.evalEvery : 0;
    const schedule: ScheduleSpec = { kind: run.schedule, warmup: run.warmup, total: run.steps, lrField: layout.fieldOf('lrScale') };
    // The metrics ring is tiny next to a step: copy it out after every step by default.
    super(arena, layout, { totalSteps: run.steps, evalEvery, beta1: run.beta1, beta2: run.beta2, ring: METRICS_RING, schedule }, opts, 1);
    const c = weights.config;
    const { batch: B, seq: T, gradAccum: k } = run;
    const N = B * T;
    this.config = run;
    this.plan = plan;
    this.model = uploadGpt2(arena, weights, plan.vocabChunkRows);
    this.adapterLayers = createAdapters(arena, this.model, run, opts.adapters);
    this.adapters = this.adapterLayers.map(({ layer, target, label }) => ({ layer, target, label }));

    const rates = dropoutRates(run, c);
    const dropping = rates.embd > 0 || rates.attn > 0 || rates.resid > 0 || rates.lora > 0;
    this.dropping = dropping;
    this.onBatch = opts.onBatch;
    const drop: GraphDropout | undefined = dropping ? { rates, seed: run.seed, state: this.state } : undefined;
    this.graph = allocGraph(arena, this.model, this.adapterLayers, B, T, false, drop?.rates);
    this.tokens = arena.storage('tokens', new Uint32Array(N));
    const logits: LogitChunk[] = plan.chunks.map((ch, i) => ({ v0: ch.v0, cols: ch.rows, logits: arena.storage(`logits[${i}]`, N * ch.rows) }));
    this.loss = {
      logits,
      targets: arena.storage('targets', new Uint32Array(N)),
      xentStats: arena.storage('xent.stats', 4 * N),
      losses: arena.storage('losses', N),
      dlnf: arena.storage('dlnf', N * c.n_embd),
    };
    const ones = arena.storage('ones', new Float32Array(k * N).fill(1));
    const scratch = allocScratch(arena, this.model, B, T);
    const meanLoss = (x: GPUBuffer, rows: number, field: number, label: string) => reduceToMetric(arena, { x, y: ones, count: rows, scale: 1 / rows, sqrt: false, label, field, ...this.metricsTarget });

    this.fwd = [...forward(arena, this.model, this.adapterLayers, this.graph, this.tokens, { dropout: drop }), ...lossForward(arena, this.model, this.graph, this.loss)];
    const norms = this.adapterLayers.flatMap((a, i) => {
      const f = (name: AdapterField) => layout.groupFieldOf(i, name);
      return loraNorms(arena, a.lora, this.graph.lora.get(a.label)!, this.metricsTarget, { zA: f('zA'), zB: f('zB'), normA: f('normA'), normB: f('normB'), normSBA: f('normSBA') });
    });
    const invCount = k > 1 ? 1 / (k * N) : undefined;
    this.bwd = backward(arena, this.model, this.adapterLayers, this.graph, this.loss, scratch, { dropout: drop, invCount });
    const groups = loraPlusGroups(this.adapterLayers.map((a) => ({ label: a.label, ...a.lora })), run.eta, run.lambda, run.wd);
    const clipping = run.maxGradNorm > 0;
    const update = adamwStep(arena, groups, { beta1: run.beta1, beta2: run.beta2, eps: run.eps }, this.state, { scheduled: !isConstantSchedule(schedule), clipped: clipping });

    if (evalEvery > 0) {
      const held = fixedBatch(data.eval!, B, T);
      const evalTokens = arena.storage('eval.tokens', held.tokens);
      const evalLoss = { ...this.loss, targets: arena.storage('eval.targets', held.targets) };
      const evalPass = [...forward(arena, this.model, this.adapterLayers, this.graph, evalTokens), ...lossForward(arena, this.model, this.graph, evalLoss), ...meanLoss(this.loss.losses, N, layout.fieldOf('evalLoss'), 'evalLoss')];
      this.phases.push({ label: 'eval', dispatches: evalPass, evalOnly: true });
    }
    if (k === 1) {
      this.phases.push(
        { label: 'forward', dispatches: this.fwd },
        { label: 'metrics', dispatches: [...meanLoss(this.loss.losses, N, layout.fieldOf('loss'), 'loss'), ...norms] },
        { label: 'backward', dispatches: this.bwd },
      );
    } else {
      // k micro-batches through the same buffers: each one's tokens, targets and index are copied into
      // place before its forward, its losses out after it; later ones add to dA and dB.
      const all = (label: string) => arena.storage(label, new Uint32Array(k * N));
      this.micro = { tokens: all('step.tokens'), targets: all('step.targets') };
      const losses = arena.storage('step.losses', k * N);
      const microIds = arena.storage('step.micro', Uint32Array.from({ length: k }, (_, i) => i));
      const bwdAcc = backward(arena, this.model, this.adapterLayers, this.graph, this.loss, scratch, { dropout: drop, invCount, accumulate: true });
      const micro = this.micro;
      for (let i = 0; i < k; i++) {
        this.phases.push({
          label: 'forward',
          dispatches: this.fwd,
          before: (enc) => {
            enc.copyBufferToBuffer(micro.tokens, i * N * 4, this.tokens, 0, N * 4);
            enc.copyBufferToBuffer(micro.targets, i * N * 4, this.loss.targets, 0, N * 4);
            enc.copyBufferToBuffer(microIds, i * 4, this.state, STATE_MICRO_OFFSET, 4);
          },
        });
        if (i === 0) this.phases.push({ label: 'metrics', dispatches: norms });
        this.phases.push({ label: 'backward', dispatches: i === 0 ? this.bwd : bwdAcc, before: (enc) => enc.copyBufferToBuffer(this.loss.losses, 0, losses, i * N * 4, N * 4) });
      }
      this.phases.push({ label: 'metrics', dispatches: meanLoss(losses, k * N, layout.fieldOf('loss'), 'loss') });
    }
    if (clipping) {
      const grads = this.adapterLayers.flatMap((a) => [{ grad: a.lora.dA, count: a.lora.rank * a.lora.nIn }, { grad: a.lora.dB, count: a.lora.nOut * a.lora.rank }]);
      this.phases.push({ label: 'clip', dispatches: clipByGlobalNorm(arena, { grads, maxNorm: run.maxGradNorm, state: this.state, metrics: this.metrics.buffer, field: layout.fieldOf('gradNorm') }) });
    }
    this.phases.push({ label: 'update', dispatches: update });
    this.sampler = new BatchSampler(data.train, k * B, T, run.seed, run.order);
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
    return buildInArena(ctx.device, 'gpt2', `allocating ${formatBytes(plan.total)} for this GPT-2 configuration`, (arena) => new Gpt2Trainer(arena, weights, run, data, plan, opts));
  }

  protected toRow(slot: Slot<Gpt2SharedField, AdapterField>): Gpt2StepMetrics {
    return gpt2Row(slot);
  }

  /** Bytes of every GPU buffer this trainer has allocated (the generation buffers once generate() has run). */
  get memoryBytes(): number {
    return this.arena.bytes;
  }

  /** Tokens in one training step (batch x sequence length x micro-batches). */
  get tokensPerStep(): number {
    return this.config.batch * this.config.seq * this.config.gradAccum;
  }

  /** Writes `b` (N tokens and targets per micro-batch) into `tokens` and `targets` (queue-ordered before the next submit). */
  private writeTokens(b: TokenBatch, tokens: GPUBuffer, targets: GPUBuffer, N: number): void {
    if (b.tokens.length !== N || b.targets.length !== N) throw new Error(`a batch must hold ${N} tokens and ${N} targets`);
    const V = this.model.config.vocab_size;
    for (const ids of [b.tokens, b.targets]) for (const id of ids) if (id >= V) throw new Error(`token ${id} is outside the vocabulary (${V})`);
    const q = this.arena.device.queue;
    q.writeBuffer(tokens, 0, b.tokens.buffer, b.tokens.byteOffset, b.tokens.byteLength);
    q.writeBuffer(targets, 0, b.targets.buffer, b.targets.byteOffset, b.targets.byteLength);
  }

  /** A step's batch: batch x micro-batches windows. */
  private writeBatch(b: TokenBatch): void {
    if (this.micro) this.writeTokens(b, this.micro.tokens, this.micro.targets, this.tokensPerStep);
    else this.writeTokens(b, this.tokens, this.loss.targets, this.tokensPerStep);
  }

  /** One training step on `batch` (batch x micro-batches windows), or on the sampler's next batch. */
  override step(opts: { flushMetrics?: boolean; batch?: TokenBatch } = {}): Promise<void> {
    this.nextBatch = opts.batch;
    return super.step(opts);
  }

  protected override beforeStep(step: number): void {
    const batch = this.nextBatch ?? this.sampler.next();
    this.nextBatch = undefined;
    this.writeBatch(batch);
    if (batch.starts) this.onBatch?.(step, batch.starts);
  }

  /** Current adapter weights, in PEFT's layout (A: r x in, B: out x r). A readback: for export, not per step. */
  async readAdapters(): Promise<LoraWeights[]> {
    const device = this.arena.device;
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
  async generate(prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    this.generator ??= new Generator(this.arena.child('generation'), this.model, this.adapterLayers);
    return this.generator.generate(prompt, opts);
  }

  // ---- inspection (tests, parity checks): these reuse the training buffers, so never call them while steps run ----

  /**
   * Forward only (evaluation: no dropout) on `batch` of batch x seq tokens: per-row losses, and the logits
   * (N x V, row-major) unless `logits` is false. No metrics, no update.
   */
  async evaluate(batch: TokenBatch, opts: { logits?: boolean } = {}): Promise<{ logits: Float32Array; losses: Float32Array }> {
    const device = this.arena.device;
    const N = this.config.batch * this.config.seq;
    this.writeTokens(batch, this.tokens, this.loss.targets, N);
    this.plainFwd ??= this.dropping ? [...forward(this.arena, this.model, this.adapterLayers, this.graph, this.tokens), ...lossForward(this.arena, this.model, this.graph, this.loss)] : this.fwd;
    const enc = device.createCommandEncoder({ label: 'gpt2 evaluate' });
    encodePass(enc, this.plainFwd);
    device.queue.submit([enc.finish()]);
    const losses = await readFloats(device, this.loss.losses, N);
    if (opts.logits === false) return { logits: new Float32Array(0), losses };
    const V = this.model.config.vocab_size;
    const logits = new Float32Array(N * V);
    for (const ch of this.loss.logits) {
      const part = await readFloats(device, ch.logits, N * ch.cols);
      for (let n = 0; n < N; n++) logits.set(part.subarray(n * ch.cols, (n + 1) * ch.cols), n * V + ch.v0);
    }
    return { logits, losses };
  }

  /**
   * Forward and backward on `batch` (batch x seq tokens) without an update: every adapter's dL/dA and
   * dL/dB, as the first micro-batch of a step computes them (with the masks of the state's current step).
   */
  async gradients(batch: TokenBatch): Promise<Array<{ label: string; dA: Float32Array; dB: Float32Array }>> {
    const device = this.arena.device;
    this.writeTokens(batch, this.tokens, this.loss.targets, this.config.batch * this.config.seq);
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
}
