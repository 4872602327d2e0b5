// GPT-2 LoRA fine-tuning: the API a front end drives (no React, no DOM; the UI makes no WebGPU call).
//
//   // 1. Weights and data (src/models/): hub download with progress + cache, the bundled tokenizer.
//   const weights = await downloadGpt2('distilgpt2', { onProgress });
//   const tok = await loadTokenizerFromUrl(BUNDLED_TOKENIZER_PATH);
//   const ids = await encodeCorpus(tok, text);                       // Uint32Array
//   const data = splitTokens(ids, 0.1);                              // { train, eval }
//
//   // 2. Say what a configuration needs before it starts (no allocation), refuse what will not fit.
//   const config = { ...defaultGpt2RunConfig(), targets: ['attn.c_attn'], rank: 8, seq: 128, batch: 4 };
//   // Hugging Face Trainer + PEFT defaults: schedule 'linear', warmup 0, maxGradNorm 1, dropout null (the
//   // model's 0.1s in training), loraDropout 0, gradAccum 1, order 'random' (PLAIN_TRAINING: none of them).
//   const { plan, problems } = checkGpt2Run(ctx, weights.config, config, { memoryBudget });
//   plan.total, plan.byGroup (weights / activations / logits / lora / optimizer / scratch / generation),
//   plan.chunks (vocabulary chunks, > 1 when the adapter binds < 154 MB); problems: [] or reasons
//
//   // 3. Train. create() throws Gpt2FitError (with .problems and .plan) for the same reasons.
//   const session = await Gpt2Session.create(host, weights, config, data, { memoryBudget });   // host: src/gpu/host.ts
//   //   { adapters: loadAdapter(...).weights } starts from a PEFT adapter (adapterFiles.ts); onBatch(step, starts)
//   const off = session.subscribe({
//     onMetrics(rows) { ... },   // Gpt2StepMetrics[] in step order: loss, perplexity, evalLoss?, lrScale, gradNorm?,
//                                //   zA[k], zB[k], normA[k], normB[k], normSBA[k] per adapter k
//     onStatus(e) { ... },       // StatusEvent: ready | running | paused | done | diverged | error
//   });
//   session.adapters             // [{ layer, target, label }], the k of the metric arrays
//   session.start(); await session.pause(); await session.stepOnce(); await session.runToEnd();
//   session.stats                // { tokensPerSecond, secondsPerStep, memoryBytes, plannedBytes, ... }
//   const { ids, tokensPerSecond } = await session.generate(promptIds, { maxNewTokens: 40, temperature: 0.8, topK: 40, onToken });
//   const { loss, perplexity } = await session.evaluate(heldOutIds, 32);   // evenly spaced windows, no dropout
//   const adapters = await session.readAdapters();   // -> adapterFolder(...) (adapterFiles.ts): PEFT files + model card
//   session.dispose();
//
// Loss and perplexity are the batch's mean next-token cross-entropy and its exp, measured in the step's
// forward (before its update); evalLoss is the same on a fixed held-out batch every evalEvery steps.
// Norms are coordinate RMS (lora-math.md section 1). A run diverges when the loss is non-finite or above
// 1e6 times its first value; it stops at that step.
import type { GpuContext } from '../../gpu/device.ts';
import type { Gpt2Config, Gpt2Weights } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import { lossDiverges } from '../run/divergence.ts';
import type { GpuHost } from '../../gpu/host.ts';
import { RunSession } from '../run/session.ts';
import type { Gpt2RunConfig } from './config.ts';
import { evaluateText, type TextEvaluation } from './evaluate.ts';
import type { GenerateOptions, GenerateResult } from './generate.ts';
import type { Gpt2StepMetrics } from './metrics.ts';
import { DEFAULT_MEMORY_BUDGET, planGpt2, planProblems, type Gpt2Plan } from './plan.ts';
import { Gpt2Trainer, type AdapterInfo, type Gpt2Data, type Gpt2TrainerOptions } from './trainer.ts';

export type { Gpt2RunConfig } from './config.ts';
export { defaultGpt2RunConfig, GPT2_FIELDS, validateGpt2RunConfig } from './config.ts';
export type { Gpt2StepMetrics } from './metrics.ts';
export type { Gpt2Plan } from './plan.ts';
export { Gpt2FitError, type AdapterInfo, type Gpt2Data } from './trainer.ts';
export type { GenerateOptions, GenerateResult } from './generate.ts';
export type { TextEvaluation } from './evaluate.ts';
export type { RunStatus, StatusEvent } from '../run/status.ts';

export interface Gpt2Stats {
  /** Training tokens (batch x seq) per second, over the recent steps (excludes the first step's pipeline builds). */
  tokensPerSecond: number;
  secondsPerStep: number;
  /** Bytes of every GPU buffer the run holds now. */
  memoryBytes: number;
  /** What the plan said before the start (includes the generation buffers, allocated on first use). */
  plannedBytes: number;
  vocabChunks: number;
}

/** The plan and the reasons a configuration would be refused on this adapter, without allocating anything. */
export function checkGpt2Run(ctx: Pick<GpuContext, 'limits'>, model: Gpt2Config, config: Gpt2RunConfig, opts: { memoryBudget?: number; maxVocabChunk?: number } = {}): { plan: Gpt2Plan; problems: string[] } {
  const plan = planGpt2(model, config, ctx.limits, { maxVocabChunk: opts.maxVocabChunk });
  return { plan, problems: planProblems(plan, ctx.limits, opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET) };
}

/** Split a token stream into training and held-out parts (the last `evalFraction` is held out). */
export function splitTokens(ids: Uint32Array, evalFraction: number): Gpt2Data {
  const cut = Math.floor(ids.length * (1 - evalFraction));
  return { train: ids.subarray(0, cut), eval: evalFraction > 0 ? ids.subarray(cut) : undefined };
}

export class Gpt2Session extends RunSession<Gpt2StepMetrics, Gpt2Trainer> {
  private generating: Promise<unknown> = Promise.resolve();

  static async create(host: GpuHost, weights: Gpt2Weights, config: Gpt2RunConfig, data: Gpt2Data, opts: Gpt2TrainerOptions = {}): Promise<Gpt2Session> {
    const trainer = await Gpt2Trainer.create(await host.context(), weights, config, data, opts);
    // A GPT-2 step takes seconds on slow adapters: a longer rate window than the toy's.
    return new Gpt2Session(trainer, host, { stopsAt: lossDiverges(), rateWindowMs: 20_000 });
  }

  get config(): Gpt2RunConfig {
    return this.trainer.config;
  }

  get adapters(): AdapterInfo[] {
    return this.trainer.adapters;
  }

  get plan(): Gpt2Plan {
    return this.trainer.plan;
  }

  get stats(): Gpt2Stats {
    const perSecond = this.stepsPerSecond;
    const secondsPerStep = perSecond > 0 ? 1 / perSecond : 0;
    return {
      tokensPerSecond: secondsPerStep > 0 ? this.trainer.tokensPerStep / secondsPerStep : 0,
      secondsPerStep,
      memoryBytes: this.trainer.memoryBytes,
      plannedBytes: this.trainer.plan.total,
      vocabChunks: this.trainer.plan.chunks.length,
    };
  }

  /**
   * Continue `prompt` (token ids) with the adapters as they are now: greedy at temperature 0, sampled
   * otherwise. Calls are serialised; during training each forward queues between steps.
   */
  generate(prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    const next = this.generating.then(() => this.trainer.generate(prompt, opts));
    this.generating = next.catch(() => undefined);
    return next;
  }

  /** Loss and perplexity over `windows` evenly spaced windows of `ids` (evaluation mode), queued like generations. */
  evaluate(ids: Uint32Array, windows: number): Promise<TextEvaluation> {
    const next = this.generating.then(() => evaluateText(this.trainer, ids, windows));
    this.generating = next.catch(() => undefined);
    return next;
  }

  readAdapters(): Promise<LoraWeights[]> {
    return this.trainer.readAdapters();
  }

  /** Stops, and frees the GPU memory once the step and any generation in flight are done. */
  override dispose(): Promise<void> {
    return super.dispose(() => this.generating);
  }
}
