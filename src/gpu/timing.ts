// Per-kernel GPU time from timestamp queries. The profiler records every dispatch in its own compute pass
// with timestampWrites (begin, end) into one query set that is reused across steps; `collect` resolves the
// used queries into a buffer, reads them back asynchronously and adds each duration to its Dispatch.label.
//
//   const prof = createProfiler(ctx);                 // or { available: false, reason } without 'timestamp-query'
//   trainer = await ToyTrainer.create(ctx, config, { profiler: prof });
//   await trainer.step(); await prof.collect();       // as often as the query set needs (capacity dispatches)
//   prof.summary(steps)                               // per label: calls, total, mean per call, per step
//
// NOTE: one pass per dispatch serialises the kernels and adds a little per-pass cost, so the sum of the
// kernel times is a profile of where time goes, not the throughput of the normal (one-pass) step.
// NOTE: Dawn quantizes timestamps unless its `timestamp_quantization` toggle is disabled (src/gpu/node.ts does;
// Chromium needs --disable-dawn-features=timestamp_quantization). `quantized` in the summary flags results whose
// durations are all multiples of a coarse tick.
import { GpuArena } from './arena.ts';
import type { GpuContext } from './device.ts';
import { encode, type Dispatch, type DispatchProfiler } from './pipelines.ts';

export interface KernelTime {
  label: string;
  calls: number;
  totalMs: number;
  /** Mean GPU time of one dispatch. */
  meanMs: number;
  /** totalMs / steps, when `summary` is given a step count. */
  perStepMs?: number;
}

export interface ProfileSummary {
  kernels: KernelTime[];
  totalMs: number;
  /** Dispatches recorded beyond the query set's capacity (encoded, but not timed). */
  untimed: number;
  /** Every duration was a multiple of a coarse tick: the adapter quantizes timestamps. */
  quantized: boolean;
}

export interface ProfilerUnavailable {
  available: false;
  reason: string;
}

/** A profiler for `ctx`, or why there cannot be one (the adapter lacks 'timestamp-query'). */
export function createProfiler(ctx: GpuContext, capacity = 512): Profiler | ProfilerUnavailable {
  if (!ctx.hasTimestamps || !ctx.device.features.has('timestamp-query')) {
    return { available: false, reason: `GPU timing not available: the adapter (${ctx.adapterName}) does not offer 'timestamp-query'` };
  }
  return new Profiler(new GpuArena(ctx.device, 'profiler'), capacity);
}

// Ticks that quantizing implementations round to (Dawn: 2^16 ns; Chromium's web exposure: 100 us).
const COARSE_TICKS_NS = [65536n, 100000n];

export class Profiler implements DispatchProfiler {
  readonly available = true;
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  /** Readback buffers not currently mapped (one per collect in flight). */
  private readonly stagingFree: GPUBuffer[] = [];
  /** Labels of the dispatches whose queries are 2i and 2i + 1, since the last collect. */
  private labels: string[] = [];
  private untimed = 0;
  private readonly totals = new Map<string, { calls: number; ns: bigint }>();
  private durations = 0;
  private coarse = 0;

  private readonly device: GPUDevice;

  constructor(
    /** Owns the query set and the resolve and readback buffers; destroy() frees them. */
    private readonly arena: GpuArena,
    /** Dispatches that can be timed between two collects. */
    readonly capacity: number,
  ) {
    this.device = arena.device;
    this.querySet = arena.querySet({ label: 'profiler.queries', type: 'timestamp', count: 2 * capacity });
    const bytes = 2 * capacity * 8;
    this.resolve = arena.buffer({ label: 'profiler.resolve', size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  /** DispatchProfiler: each dispatch in its own timed pass (untimed past capacity until the next collect). */
  encode(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[]): void {
    for (const d of dispatches) {
      const i = this.labels.length;
      if (i >= this.capacity) {
        this.untimed++;
        const pass = encoder.beginComputePass({ label: d.label });
        encode(pass, [d]);
        pass.end();
        continue;
      }
      this.labels.push(d.label);
      const pass = encoder.beginComputePass({
        label: d.label,
        timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      encode(pass, [d]);
      pass.end();
    }
  }

  /**
   * Resolve and read back the queries written since the last collect (after the work that wrote them, by
   * queue order) and add them to the totals. The query set is free for reuse as soon as this is called.
   */
  collect(): Promise<void> {
    const labels = this.labels;
    this.labels = [];
    if (labels.length === 0) return Promise.resolve();
    const bytes = 2 * labels.length * 8;
    // Resolve and copy now, in queue order before anything encoded later reuses the queries.
    const staging = this.stagingFree.pop() ?? this.arena.buffer({ label: 'profiler.staging', size: 2 * this.capacity * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder({ label: 'profiler.collect' });
    enc.resolveQuerySet(this.querySet, 0, 2 * labels.length, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    return staging.mapAsync(GPUMapMode.READ, 0, bytes).then(() => {
      const t = new BigInt64Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      this.stagingFree.push(staging);
      labels.forEach((label, i) => this.add(label, t[2 * i + 1] - t[2 * i]));
    });
  }

  private add(label: string, ns: bigint): void {
    if (ns < 0n) ns = 0n; // some implementations reorder begin/end of an empty pass
    const row = this.totals.get(label) ?? { calls: 0, ns: 0n };
    row.calls++;
    row.ns += ns;
    this.totals.set(label, row);
    if (ns > 0n) {
      this.durations++;
      if (COARSE_TICKS_NS.some((tick) => ns % tick === 0n)) this.coarse++;
    }
  }

  /** Per label, sorted by total time; `steps` adds the time per step. */
  summary(steps?: number): ProfileSummary {
    const kernels: KernelTime[] = [];
    let total = 0;
    for (const [label, { calls, ns }] of this.totals) {
      const totalMs = Number(ns) / 1e6;
      total += totalMs;
      kernels.push({ label, calls, totalMs, meanMs: totalMs / calls, ...(steps ? { perStepMs: totalMs / steps } : {}) });
    }
    kernels.sort((a, b) => b.totalMs - a.totalMs);
    return { kernels, totalMs: total, untimed: this.untimed, quantized: this.durations > 0 && this.coarse === this.durations };
  }

  reset(): void {
    this.totals.clear();
    this.untimed = 0;
    this.durations = 0;
    this.coarse = 0;
  }

  destroy(): void {
    this.arena.destroy();
  }
}
