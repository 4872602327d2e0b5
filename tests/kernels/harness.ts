// What every kernel test shares: fp32's unit roundoff, a seeded generator for inputs, and a submit
// that turns WebGPU validation errors into test failures naming the step.
import { checked } from '../../src/gpu/device.ts';
import { encode, type Dispatch } from '../../src/gpu/pipelines.ts';

/** Unit roundoff of fp32. */
export const U = 2 ** -24;

/** mulberry32: small, seeded, good enough for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Encode `dispatches` in one compute pass and submit; throws on a validation error. */
export async function runDispatches(device: GPUDevice, dispatches: Dispatch | Dispatch[], what: string): Promise<void> {
  await checked(device, what, () => {
    const enc = device.createCommandEncoder({ label: what });
    const pass = enc.beginComputePass({ label: what });
    encode(pass, Array.isArray(dispatches) ? dispatches : [dispatches]);
    pass.end();
    device.queue.submit([enc.finish()]);
  });
}
