// Asynchronous readback of a GPU ring of per-step records (`ring` slots of `stride` floats, written by
// the kernels). Every few steps the whole ring is copied into a staging buffer inside that step's command
// buffer and mapped asynchronously, so the training loop never waits for the GPU, except when every
// staging buffer is still in flight: that backpressure bounds how far the CPU runs ahead.
import type { GpuArena } from './arena.ts';

export type ParseSlots<Row> = (data: Float32Array, from: number, to: number) => Row[];

export class ReadbackRing<Row> {
  /** The ring the kernels write: ring x stride f32. */
  readonly buffer: GPUBuffer;
  /** Receives the rows of each copy, in step order. */
  deliver: (rows: Row[]) => void = () => {};
  private free: GPUBuffer[] = [];
  private inFlight: Array<Promise<void>> = [];
  private lastCopied = 0;

  constructor(
    arena: GpuArena,
    label: string,
    readonly ring: number,
    readonly stride: number,
    private readonly parse: ParseSlots<Row>,
    stagingCount = 4,
  ) {
    this.buffer = arena.storage(label, ring * stride);
    for (let i = 0; i < stagingCount; i++) {
      this.free.push(arena.buffer({ label: `${label}.staging${i}`, size: ring * stride * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    }
  }

  /** True when step `step` must be copied out now: `everySteps` have passed, or the ring is about to wrap. */
  due(step: number, everySteps: number): boolean {
    return step - this.lastCopied >= Math.min(everySteps, this.ring);
  }

  /** A staging buffer, waiting for one to come back if all are in flight. */
  async acquire(): Promise<GPUBuffer> {
    while (this.free.length === 0) await Promise.race(this.inFlight);
    return this.free.pop()!;
  }

  /** Encodes the copy of the ring (steps lastCopied+1 .. step); call the returned function after submitting. */
  copy(encoder: GPUCommandEncoder, staging: GPUBuffer, step: number): () => void {
    encoder.copyBufferToBuffer(this.buffer, 0, staging, 0, this.ring * this.stride * 4);
    const from = this.lastCopied + 1;
    this.lastCopied = step;
    return () => {
      const p = staging
        .mapAsync(GPUMapMode.READ)
        .then(
          () => {
            const data = new Float32Array(staging.getMappedRange().slice(0));
            staging.unmap();
            this.deliver(this.parse(data, from, step));
          },
          () => { /* device lost or buffer destroyed: the session reports it */ },
        )
        .finally(() => {
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

  /** Copies out the steps not yet read (through `lastStep`, the last submitted) and waits for every delivery. */
  async flush(device: GPUDevice, lastStep: number): Promise<void> {
    if (lastStep > 0 && this.due(lastStep, 1)) {
      const staging = await this.acquire();
      const encoder = device.createCommandEncoder({ label: `${this.buffer.label} flush` });
      const after = this.copy(encoder, staging, lastStep);
      device.queue.submit([encoder.finish()]);
      after();
    }
    await this.drain();
  }
}
