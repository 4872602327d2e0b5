// One GPU device per page (or per CLI process), shared by every run on it, and the one way to survive its
// loss. Runs on one device take turns: each step is submitted through `turn`, first come first served,
// so two runs (a Playground compare, a sweep beside a GPT-2 run) grow side by side instead of one loop
// starving the other's readbacks; a turn yields to the event loop now and then so the page stays live.
//
// When the device is lost, every listener hears it once (sessions mark their runs 'lost' at their last
// delivered step and keep their metrics), and the next `context()` opens a fresh device, on which queued
// work starts again.
//
// Errors WebGPU raises outside an error scope (a validation or out-of-memory error while steps run:
// construction is checked by buildInArena's scopes) reach the host as the device's 'uncapturederror'
// events: every error listener hears them (sessions on that device fail with the message), and the
// event's default (Dawn printing it to stdout, the browser to the console) is prevented.
import { GpuError, type GpuContext } from './device.ts';

const now = () => globalThis.performance?.now() ?? Date.now();

export type LostListener = (info: { reason: string; message: string }, lostCtx: GpuContext) => void;
export type GpuErrorListener = (error: GpuError, ctx: GpuContext) => void;

/** Yield to the event loop (deliveries, rendering, input) after this long holding turns. */
const YIELD_EVERY_MS = 12;

export class GpuHost {
  private ctx: GpuContext | null = null;
  private opening: Promise<GpuContext> | null = null;
  private readonly lostListeners = new Set<LostListener>();
  private readonly errorListeners = new Set<GpuErrorListener>();
  private readonly lostDevices = new WeakSet<GPUDevice>();
  /** Uncaptured GPU errors so far (a CLI checks this before writing a result; tests after each test). */
  readonly errors: GpuError[] = [];
  private tail: Promise<void> = Promise.resolve();
  private lastYield = now();
  /** Devices opened so far (1 in a healthy page; each loss adds one on the next context()). */
  devicesOpened = 0;

  constructor(private readonly open: () => Promise<GpuContext>) {}

  /** The current device, opening one (again, after a loss) when there is none. */
  context(): Promise<GpuContext> {
    if (this.ctx) return Promise.resolve(this.ctx);
    this.opening ??= this.open().then(
      (c) => {
        this.ctx = c;
        this.opening = null;
        this.devicesOpened++;
        void c.lost.then((info) => this.handleLoss(c, info));
        c.device.addEventListener?.('uncapturederror', (ev) => {
          ev.preventDefault();
          this.handleError(c, (ev as GPUUncapturedErrorEvent).error);
        });
        return c;
      },
      (e) => {
        this.opening = null;
        throw e;
      },
    );
    return this.opening;
  }

  /** The device if one is open now (no opening). */
  get current(): GpuContext | null {
    return this.ctx;
  }

  /** Hear about device loss; returns an unsubscribe function. */
  onLost(listener: LostListener): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Hear about GPU errors raised outside an error scope; returns an unsubscribe function. */
  onError(listener: GpuErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** True once `device` (one of this host's) has been lost: work built on it will never run. */
  isLost(device: GPUDevice): boolean {
    return this.lostDevices.has(device);
  }

  /** Runs `submit` (one step's encoding and submit) after the turns requested before it. */
  turn<T>(submit: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (now() - this.lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        this.lastYield = now();
      }
      return submit();
    };
    const result = this.tail.then(run, run);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private handleError(c: GpuContext, error: GPUError): void {
    const kind = typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError ? 'out-of-memory' : 'validation';
    const first = (error.message || 'no message').split('\n')[0];
    const e = new GpuError(kind, kind === 'out-of-memory' ? `Out of GPU memory while running: ${first}` : `WebGPU ${error.constructor?.name === 'GPUInternalError' ? 'internal' : 'validation'} error while running: ${first}`);
    this.errors.push(e);
    for (const l of [...this.errorListeners]) l(e, c);
  }

  private handleLoss(c: GpuContext, info: GPUDeviceLostInfo): void {
    this.lostDevices.add(c.device);
    if (this.ctx !== c) return;
    this.ctx = null;
    // 'destroyed' is an explicit device.destroy() (a test, or a page being closed); anything else is the driver.
    const detail = { reason: info.reason ?? 'unknown', message: info.message || info.reason || 'unknown reason' };
    for (const l of [...this.lostListeners]) l(detail, c);
  }
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
