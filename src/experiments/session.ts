// The seam between the engine and any front end (React UI, CLI, sweeps): start, pause, step once,
// a metrics stream and a status stream. Nothing here knows about React or the DOM.
import type { GpuContext } from '../gpu/device.ts';
import type { DispatchProfiler } from '../gpu/pipelines.ts';
import type { ToyConfig } from './config.ts';
import type { StepMetrics } from './metrics.ts';
import { DivergenceWatch, now, StepRate } from './deliveries.ts';
import { checkFits, ToyTrainer } from './toy.ts';
import type { ToyTensors } from './toyData.ts';

export type RunStatus = 'ready' | 'running' | 'paused' | 'done' | 'diverged' | 'error';

export interface StatusEvent {
  status: RunStatus;
  /** Last step whose metrics have been delivered. */
  step: number;
  /** For 'diverged': the step at which the loss became non-finite or exceeded 1e6 x its first value. */
  divergedAt?: number;
  message?: string;
}

export interface SessionListener {
  onMetrics?(rows: StepMetrics[]): void;
  onStatus?(e: StatusEvent): void;
}

export class ToySession {
  private status: RunStatus = 'ready';
  private delivered = 0;
  private divergedAt: number | undefined;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  private watch = new DivergenceWatch();
  private listeners = new Set<SessionListener>();
  private rate = new StepRate(3000);

  private constructor(readonly trainer: ToyTrainer) {}

  static async create(ctx: GpuContext, config: ToyConfig, opts: { tensors?: ToyTensors; profiler?: DispatchProfiler; readEvery?: number } = {}): Promise<ToySession> {
    const tooBig = checkFits(ctx, config);
    if (tooBig) throw new Error(tooBig);
    let session: ToySession | undefined;
    const trainer = await ToyTrainer.create(ctx, config, { onMetrics: (rows) => session?.receive(rows), profiler: opts.profiler, readEvery: opts.readEvery }, opts.tensors);
    session = new ToySession(trainer);
    return session;
  }

  get config(): ToyConfig {
    return this.trainer.config;
  }

  get state(): StatusEvent {
    return { status: this.status, step: this.delivered, divergedAt: this.divergedAt };
  }

  /** Completed steps per second over the last few seconds of deliveries. */
  get stepsPerSecond(): number {
    return this.rate.stepsPerSecond;
  }

  subscribe(l: SessionListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Train until the configured number of steps, a pause, or divergence. Resolves when the loop stops. */
  start(): Promise<void> {
    if (this.isFinished() || this.loop) return this.loop ?? Promise.resolve();
    this.stopRequested = false;
    this.setStatus('running');
    this.loop = this.runLoop().finally(() => (this.loop = undefined));
    return this.loop;
  }

  /** Stop after the step in flight; resolves once every submitted step's metrics are delivered. */
  async pause(): Promise<void> {
    this.stopRequested = true;
    await this.loop;
  }

  /** One step, with its metrics delivered before this resolves. */
  async stepOnce(): Promise<void> {
    if (this.loop || this.isFinished()) return;
    await this.trainer.step({ flushMetrics: true });
    await this.trainer.flush();
    if (!this.isFinished()) this.setStatus(this.trainer.stepsSubmitted >= this.config.steps ? 'done' : 'paused');
  }

  /** Resolves when the run has ended (done, diverged or error). */
  async runToEnd(): Promise<StatusEvent> {
    await this.start();
    return this.state;
  }

  dispose(): void {
    this.stopRequested = true;
    this.trainer.destroy();
    this.listeners.clear();
  }

  private isFinished(): boolean {
    return this.status === 'done' || this.status === 'diverged' || this.status === 'error';
  }

  private async runLoop(): Promise<void> {
    const { steps } = this.config;
    let lastYield = now();
    try {
      while (!this.stopRequested && this.divergedAt === undefined && this.trainer.stepsSubmitted < steps) {
        const last = this.trainer.stepsSubmitted + 1 === steps;
        await this.trainer.step({ flushMetrics: last });
        // Let the page breathe (render, input) without waiting on the GPU.
        if (now() - lastYield > 12) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      await this.trainer.flush();
      if (this.divergedAt !== undefined) this.setStatus('diverged');
      else if (this.trainer.stepsSubmitted >= steps) this.setStatus('done');
      else this.setStatus('paused');
    } catch (err) {
      this.setStatus('error', err instanceof Error ? err.message : String(err));
    }
  }

  private receive(rows: StepMetrics[]): void {
    if (this.divergedAt !== undefined) return; // steps already in flight after divergence are dropped
    const bad = this.watch.check(rows);
    const kept = bad >= 0 ? rows.slice(0, bad + 1) : rows;
    if (kept.length) {
      this.delivered = kept[kept.length - 1].step;
      this.rate.push(this.delivered);
      for (const l of this.listeners) l.onMetrics?.(kept);
    }
    if (bad >= 0) {
      this.divergedAt = rows[bad].step;
      this.stopRequested = true;
    }
  }

  private setStatus(status: RunStatus, message?: string): void {
    this.status = status;
    const e: StatusEvent = { ...this.state, message };
    for (const l of this.listeners) l.onStatus?.(e);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
