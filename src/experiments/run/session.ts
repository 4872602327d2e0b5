// The one run loop, for the toy, the batched sweep and GPT-2: start, pause, step once, run to the end,
// stop at divergence, report status and a step rate, survive device loss. Nothing here knows about
// React, the DOM or which model is trained: a session drives a Trainer (run/trainer.ts) on a GpuHost.
import type { GpuHost } from '../../gpu/host.ts';
import { isFinished, type RunStatus, type StatusEvent } from './status.ts';
import { StepRate } from './stepRate.ts';
import type { Trainer } from './trainer.ts';

export interface SessionListener<Row> {
  onMetrics?(rows: Row[]): void;
  onStatus?(e: StatusEvent): void;
}

export interface SessionOptions<Row> {
  /** The row at which the run stops (divergence); it is delivered, later rows are dropped. */
  stopsAt: (row: Row) => boolean;
  /** Window of the step rate (a GPT-2 step can take seconds on a software adapter). */
  rateWindowMs?: number;
  /** Status to report once the run has stopped at a `stopsAt` row. */
  stoppedStatus?: RunStatus;
}

export class RunSession<Row extends { step: number }, T extends Trainer<Row> = Trainer<Row>> {
  private status: RunStatus = 'ready';
  private message: string | undefined;
  private delivered = 0;
  private stoppedAt: number | undefined;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  private lost = false;
  /** A GPU error raised while the run's steps ran (the host's uncapturederror): the run stopped. */
  private gpuFailed = false;
  private disposed: Promise<void> | undefined;
  private readonly listeners = new Set<SessionListener<Row>>();
  private readonly rate: StepRate;
  private readonly unhookLoss: () => void;
  private readonly unhookError: () => void;

  constructor(
    readonly trainer: T,
    readonly host: GpuHost,
    private readonly opts: SessionOptions<Row>,
  ) {
    this.rate = new StepRate(opts.rateWindowMs ?? 3000);
    trainer.onRows = (rows) => this.receive(rows);
    this.unhookLoss = host.onLost((info, ctx) => {
      if (ctx.device === trainer.arena.device) this.markLost(info.message);
    });
    this.unhookError = host.onError((error, ctx) => {
      if (ctx.device === trainer.arena.device) this.markGpuError(error.message);
    });
    // Built on a device that was lost meanwhile: it will never run (and its readbacks would never resolve).
    if (host.isLost(trainer.arena.device)) this.markLost('it was lost while the run was being built');
  }

  get state(): StatusEvent {
    return { status: this.status, step: this.delivered, divergedAt: this.status === 'diverged' ? this.stoppedAt : undefined, message: this.message };
  }

  /** Completed steps per second over the last few seconds of deliveries. */
  get stepsPerSecond(): number {
    return this.rate.stepsPerSecond;
  }

  subscribe(l: SessionListener<Row>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Train until the configured number of steps, a pause, divergence or device loss. Resolves when the loop stops. */
  start(): Promise<void> {
    if (isFinished(this.status) || this.disposed) return this.loop ?? Promise.resolve();
    if (this.loop) return this.loop;
    this.stopRequested = false;
    this.rate.reset();
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
    if (this.loop || isFinished(this.status) || this.disposed) return;
    try {
      await this.host.turn(() => this.trainer.step({ flushMetrics: true }));
      await this.trainer.flush();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!isFinished(this.status)) this.setStatus(this.trainer.stepsSubmitted >= this.trainer.totalSteps ? 'done' : 'paused');
  }

  /** Resolves when the run has stopped (or paused), with its final state. */
  async runToEnd(): Promise<StatusEvent> {
    await this.start();
    return this.state;
  }

  /** The device was lost: the run ends here, its metrics so far kept. */
  markLost(reason: string): void {
    if (isFinished(this.status)) return;
    this.lost = true;
    this.stopRequested = true;
    this.setStatus('lost', `The GPU device was lost at step ${this.delivered} (${reason}). The run stopped; its metrics so far are kept.`);
  }

  /**
   * WebGPU reported an error while the steps ran (validation, out of memory): whatever the GPU computes
   * from here is not a result. The run stops with the message; the metrics delivered before are kept.
   */
  markGpuError(message: string): void {
    if (isFinished(this.status)) return;
    this.gpuFailed = true;
    this.stopRequested = true;
    this.setStatus('error', `${message} (the run stopped at step ${this.trainer.stepsSubmitted})`);
  }

  /**
   * Stop, then free the trainer's GPU memory once the step in flight (and `after`, e.g. a generation
   * queued on the trainer) is done. Listeners hear nothing more.
   */
  dispose(after?: () => Promise<unknown>): Promise<void> {
    if (this.disposed) return this.disposed;
    this.stopRequested = true;
    this.listeners.clear();
    this.unhookLoss();
    this.unhookError();
    this.disposed = (this.loop ?? Promise.resolve())
      .then(() => after?.())
      .catch(() => undefined)
      .then(() => this.trainer.destroy());
    return this.disposed;
  }

  private async runLoop(): Promise<void> {
    const t = this.trainer;
    try {
      while (!this.stopRequested && this.stoppedAt === undefined && t.stepsSubmitted < t.totalSteps) {
        const last = t.stepsSubmitted + 1 === t.totalSteps;
        await this.host.turn(() => t.step({ flushMetrics: last }));
        if (t.syncEachStep) await t.arena.device.queue.onSubmittedWorkDone();
      }
      if (!this.lost && !this.gpuFailed) await t.flush();
      if (this.lost || this.gpuFailed) return;
      if (this.stoppedAt !== undefined) this.setStatus(this.opts.stoppedStatus ?? 'diverged');
      else if (t.stepsSubmitted >= t.totalSteps) this.setStatus('done');
      else this.setStatus('paused');
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.lost || this.gpuFailed) return;
    this.setStatus('error', err instanceof Error ? err.message : String(err));
  }

  private receive(rows: Row[]): void {
    if (this.stoppedAt !== undefined || this.lost || this.gpuFailed) return; // steps in flight after the stop are dropped
    const stop = rows.findIndex((r) => this.opts.stopsAt(r));
    const kept = stop >= 0 ? rows.slice(0, stop + 1) : rows;
    if (kept.length) {
      this.delivered = kept[kept.length - 1].step;
      this.rate.push(this.delivered);
      for (const l of this.listeners) l.onMetrics?.(kept);
    }
    if (stop >= 0) {
      this.stoppedAt = rows[stop].step;
      this.stopRequested = true;
    }
  }

  private setStatus(status: RunStatus, message?: string): void {
    this.status = status;
    this.message = message;
    const e = this.state;
    for (const l of this.listeners) l.onStatus?.(e);
  }
}
