// What a toy configuration needs on the GPU, known before anything is allocated.
import type { GpuContext } from '../../gpu/device.ts';
import { batchSize, type ToyConfig } from './config.ts';

/** Bytes of GPU memory a toy configuration needs (the big items: W0, the n x m activations). */
export function toyMemoryBytes(c: ToyConfig): number {
  const m = batchSize(c);
  const floats = c.n * c.n + (c.nTrain + c.nTest) * (c.n + c.d) + 4 * m * c.n + 2 * c.nTest * c.n + 8 * c.n * c.rank;
  return floats * 4;
}

/** Checks a configuration against the adapter's limits before anything is allocated. */
export function checkFits(ctx: Pick<GpuContext, 'limits'>, c: ToyConfig): string | null {
  const biggest = Math.max(c.n * c.n, c.nTrain * c.n, batchSize(c) * c.n) * 4;
  if (biggest > ctx.limits.maxStorageBufferBindingSize) {
    return `width ${c.n} needs a ${(biggest / 2 ** 20).toFixed(0)} MiB buffer but this GPU binds at most ${(ctx.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`;
  }
  return null;
}
