// Mini-batch order (lora-math.md section 4): drop_last epochs, a fresh permutation of the N training
// examples per epoch from the seed's "batch" stream. The indices live in a GPU buffer that
// train_state.wgsl's gather reads at slot (step - 1) % stepsPerEpoch, so steps need no CPU work
// except one write per epoch.
import { Stream } from '../rng.ts';

export const stepsPerEpoch = (N: number, batch: number): number => Math.floor(N / batch);

export class EpochOrder {
  readonly stepsPerEpoch: number;
  private readonly stream: Stream;

  /** `indices` holds stepsPerEpoch(N, batch) * batch u32. */
  constructor(readonly indices: GPUBuffer, readonly N: number, readonly batch: number, seed: number) {
    this.stepsPerEpoch = stepsPerEpoch(N, batch);
    this.stream = new Stream(seed, 'batch');
  }

  /** Call before encoding step `step` (1-based): the first step of an epoch writes that epoch's order.
   *  The write goes on the queue, so it is ordered with the submits around it. */
  beforeStep(queue: GPUQueue, step: number): void {
    if ((step - 1) % this.stepsPerEpoch !== 0) return;
    const perm = this.stream.permutation(this.N).subarray(0, this.stepsPerEpoch * this.batch);
    queue.writeBuffer(this.indices, 0, perm.buffer, perm.byteOffset, perm.byteLength);
  }
}
