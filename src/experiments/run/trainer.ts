// The Trainer contract, and the one implementation of a training step that the toy, the batched sweep
// and GPT-2 trainers share. A trainer is a list of launches built once; StepTrainer encodes them into
// one command buffer per step:
//
//   advance   step counter, Adam's beta^t, the lr schedule's factor, this step's metrics slot (train_state.wgsl)
//   phases    the trainer's launch lists in order, one compute pass each (after the phase's copies, if
//             any); an `evalOnly` phase runs on evaluation steps only (step 1, every evalEvery-th, the last)
//   [copy]    the metrics ring into a staging buffer, every readEvery steps, mapped asynchronously
//
// Everything a trainer allocates goes through its GpuArena: destroy() frees exactly that.
import { GpuArena } from '../../gpu/arena.ts';
import { checked } from '../../gpu/device.ts';
import { advanceStep, createTrainState, type ScheduleSpec } from '../../gpu/kernels/trainState.ts';
import { encodePass, type Dispatch, type DispatchProfiler } from '../../gpu/pipelines.ts';
import { ReadbackRing } from '../../gpu/readbackRing.ts';
import type { MetricsLayout, Slot } from './metricsLayout.ts';

/** What a session drives: one step at a time, metrics delivered asynchronously in step order. */
export interface Trainer<Row> {
  readonly arena: GpuArena;
  /** The configured number of steps. */
  readonly totalSteps: number;
  /** Steps encoded and submitted so far. */
  readonly stepsSubmitted: number;
  /** Receives metrics rows in step order, in batches. */
  onRows?: (rows: Row[]) => void;
  /** Wait for each step on the GPU before encoding the next (long steps: a pause takes effect after one). */
  readonly syncEachStep: boolean;
  /** Encode and submit the next step (one command buffer). */
  step(opts?: { flushMetrics?: boolean }): Promise<void>;
  /** Copy out the metrics not yet read and wait for every delivery. */
  flush(): Promise<void>;
  /** Free every GPU resource the trainer made. */
  destroy(): void;
}

/** Step 1, every `every`-th step and the last one (none when every <= 0). */
export function isEvalStep(step: number, every: number, total: number): boolean {
  return every > 0 && (step === 1 || step % every === 0 || step === total);
}

export interface Phase {
  label: string;
  dispatches: Dispatch[];
  /** Only on evaluation steps. */
  evalOnly?: boolean;
  /** Copies encoded before the pass, in the same command buffer (e.g. a micro-batch's tokens into place). */
  before?: (encoder: GPUCommandEncoder) => void;
}

export interface StepTrainerOptions {
  /** Copy metrics out every this many steps (bounded by the ring). */
  readEvery?: number;
  /** Times every dispatch (timestamp queries; benchmarks, not training). */
  profiler?: DispatchProfiler;
}

export const METRICS_RING = 256;

export abstract class StepTrainer<Row extends { step: number }, S extends string = string, G extends string = string> implements Trainer<Row> {
  stepsSubmitted = 0;
  onRows?: (rows: Row[]) => void;
  readonly syncEachStep: boolean = false;
  readonly totalSteps: number;
  readonly evalEvery: number;
  /** The GPU training state (train_state.wgsl) and the metrics ring its kernels write. */
  protected readonly state: GPUBuffer;
  protected readonly metrics: ReadbackRing<Row>;
  /** The launches of one step after `advance`, set by the subclass's constructor. */
  protected phases: Phase[] = [];
  private readonly advance: Dispatch;

  protected constructor(
    readonly arena: GpuArena,
    protected readonly layout: MetricsLayout<S, G>,
    spec: { totalSteps: number; evalEvery: number; beta1: number; beta2: number; ring?: number; stagingCount?: number; schedule?: ScheduleSpec },
    protected readonly opts: StepTrainerOptions,
    readonly defaultReadEvery: number,
  ) {
    this.totalSteps = spec.totalSteps;
    this.evalEvery = spec.evalEvery;
    const ring = spec.ring ?? METRICS_RING;
    this.metrics = new ReadbackRing(arena, `${arena.label}.metrics`, ring, layout.stride, (data, from, to) => layout.parse(data, ring, from, to).map((s) => this.toRow(s)), spec.stagingCount);
    this.metrics.deliver = (rows) => this.onRows?.(rows);
    this.state = createTrainState(arena, ring, layout.stride);
    this.advance = advanceStep(arena, this.state, this.metrics.buffer, spec.beta1, spec.beta2, spec.schedule);
  }

  /** Where metric kernels write: the ring and the state that says which slot is this step's. */
  protected get metricsTarget(): { metrics: GPUBuffer; state: GPUBuffer } {
    return { metrics: this.metrics.buffer, state: this.state };
  }

  /** A parsed slot as the trainer's row type. */
  protected abstract toRow(slot: Slot<S, G>): Row;

  /** Queue writes that must land before step `step`'s command buffer (mini-batch order, token ids). */
  protected beforeStep(_step: number): void {}

  isEvalStep(step: number): boolean {
    return isEvalStep(step, this.evalEvery, this.totalSteps);
  }

  async step(opts: { flushMetrics?: boolean } = {}): Promise<void> {
    const device = this.arena.device;
    const step = this.stepsSubmitted + 1;
    this.beforeStep(step);
    const copyNow = opts.flushMetrics || this.metrics.due(step, this.opts.readEvery ?? this.defaultReadEvery);
    const staging = copyNow ? await this.metrics.acquire() : undefined;
    const encoder = device.createCommandEncoder({ label: `${this.arena.label} step ${step}` });
    const profiler = this.opts.profiler;
    encodePass(encoder, [this.advance], profiler, 'advance');
    const evalStep = this.isEvalStep(step);
    for (const p of this.phases) {
      if (p.evalOnly && !evalStep) continue;
      p.before?.(encoder);
      encodePass(encoder, p.dispatches, profiler, p.label);
    }
    const afterSubmit = staging ? this.metrics.copy(encoder, staging, step) : undefined;
    device.queue.submit([encoder.finish()]);
    this.stepsSubmitted = step;
    afterSubmit?.();
  }

  async flush(): Promise<void> {
    await this.metrics.flush(this.arena.device, this.stepsSubmitted);
  }

  destroy(): void {
    this.arena.destroy();
  }
}

/**
 * Builds something GPU-backed in a fresh arena (a child of `parent` when given) inside validation and
 * out-of-memory error scopes: the one place construction is checked. When building fails, everything it
 * allocated is freed and the error says what was being built.
 */
export async function buildInArena<T>(device: GPUDevice | GpuArena, label: string, what: string, build: (arena: GpuArena) => T): Promise<T> {
  const arena = device instanceof GpuArena ? device.child(label) : new GpuArena(device, label);
  try {
    return await checked(arena.device, what, () => build(arena));
  } catch (e) {
    arena.destroy();
    throw e;
  }
}
