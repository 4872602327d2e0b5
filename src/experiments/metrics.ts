// Per-step metrics live in a GPU ring (RING slots x STRIDE floats, written by the kernels). Every few
// steps the whole ring is copied into a staging buffer in that step's command buffer and mapped
// asynchronously: the training loop never waits for the GPU except when every staging buffer is
// still in flight (backpressure that bounds how far the CPU runs ahead).
import { storageBuffer } from '../gpu/buffers.ts';

export const METRIC_FIELDS = ['step', 'loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss'] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];
export const FIELD: Record<MetricField, number> = Object.fromEntries(METRIC_FIELDS.map((f, i) => [f, i])) as Record<MetricField, number>;
export const STRIDE = METRIC_FIELDS.length;

export interface StepMetrics {
  step: number;
  loss: number;
  zA: number;
  zB: number;
  normA: number;
  normB: number;
  normSBA: number;
  /** Present on evaluation steps only. */
  testLoss?: number;
}

export class MetricsRing {
  readonly buffer: GPUBuffer;
  private free: GPUBuffer[] = [];
  private inFlight: Array<Promise<void>> = [];
  private lastCopied = 0;
  private pending = 0;

  constructor(
    private device: GPUDevice,
    readonly ring: number,
    private deliver: (rows: StepMetrics[]) => void,
    stagingCount = 4,
  ) {
    this.buffer = storageBuffer(device, 'metrics.ring', ring * STRIDE);
    for (let i = 0; i < stagingCount; i++) {
      this.free.push(device.createBuffer({ label: `metrics.staging${i}`, size: ring * STRIDE * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    }
  }

  /** True when step `step` must be copied out now (the ring is about to wrap, or the caller forces it). */
  due(step: number, everySteps: number): boolean {
    return step - this.lastCopied >= Math.min(everySteps, this.ring);
  }

  /** A staging buffer, waiting for one to come back if all are in flight. */
  async acquire(): Promise<GPUBuffer> {
    while (this.free.length === 0) await Promise.race(this.inFlight);
    return this.free.pop()!;
  }

  /** Encode the copy of the ring (covering steps lastCopied+1 .. step) into `encoder`. */
  copy(encoder: GPUCommandEncoder, staging: GPUBuffer, step: number): () => void {
    encoder.copyBufferToBuffer(this.buffer, 0, staging, 0, this.ring * STRIDE * 4);
    const from = this.lastCopied + 1;
    this.lastCopied = step;
    // Called after the command buffer is submitted.
    return () => {
      this.pending++;
      const p = staging.mapAsync(GPUMapMode.READ).then(
        () => {
          const data = new Float32Array(staging.getMappedRange().slice(0));
          staging.unmap();
          this.deliver(parseRows(data, this.ring, from, step));
        },
        () => { /* device lost or destroyed: the session reports it */ },
      ).finally(() => {
        this.pending--;
        this.free.push(staging);
        this.inFlight = this.inFlight.filter((q) => q !== p);
      });
      this.inFlight.push(p);
    };
  }

  /** Resolves when every copy submitted so far has been delivered. */
  async drain(): Promise<void> {
    while (this.inFlight.length) await Promise.all(this.inFlight);
  }

  destroy(): void {
    this.buffer.destroy();
    for (const b of this.free) b.destroy();
  }
}

/** Rows for steps from..to (inclusive), in step order, from a copy of the ring. */
export function parseRows(data: Float32Array, ring: number, from: number, to: number): StepMetrics[] {
  const rows: StepMetrics[] = [];
  for (let step = from; step <= to; step++) {
    const o = ((step - 1) % ring) * STRIDE;
    if (data[o + FIELD.step] !== step) continue; // overwritten (cannot happen when copies keep up) or not yet written
    const row: StepMetrics = {
      step,
      loss: data[o + FIELD.loss],
      zA: data[o + FIELD.zA],
      zB: data[o + FIELD.zB],
      normA: data[o + FIELD.normA],
      normB: data[o + FIELD.normB],
      normSBA: data[o + FIELD.normSBA],
    };
    const t = data[o + FIELD.testLoss];
    if (!Number.isNaN(t)) row.testLoss = t;
    rows.push(row);
  }
  return rows;
}
