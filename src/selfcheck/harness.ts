// What every kernel check shares: fp32's unit roundoff, a seeded generator for inputs, a submit that turns
// WebGPU validation errors into errors naming the step, and outputs preset to a sentinel (with a guard tail)
// so that an element left unwritten, or one written past the end, shows up.
import type { GpuArena } from '../gpu/arena.ts';
import { readFloats } from '../gpu/buffers.ts';
import { checked } from '../gpu/device.ts';
import { encode, type Dispatch } from '../gpu/pipelines.ts';

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

/** Uniform(lo, hi) values, already rounded to f32 so the reference sees exactly what the GPU sees. */
export function rand32(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * r());
}

/**
 * Where a kernel check runs: the arena its buffers come from (the caller frees it), and how results come
 * back to the CPU (`readFloats`; the self-check's own test swaps in a corrupting one to prove a wrong
 * result is caught).
 */
export interface CheckEnv {
  arena: GpuArena;
  read(buffer: GPUBuffer, floats: number): Promise<Float32Array>;
}

export function checkEnv(arena: GpuArena): CheckEnv {
  return { arena, read: (buffer, floats) => readFloats(arena.device, buffer, floats) };
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

/** Floats after every output that must keep the sentinel. */
export const GUARD = 64;

/** An output of `count` floats plus a guard tail, all `sentinel` (the first `fill.length` from `fill`). */
export function sentinelOutput(arena: GpuArena, count: number, sentinel: number, fill?: Float32Array, label = 'output'): GPUBuffer {
  const data = new Float32Array(count + GUARD).fill(sentinel);
  if (fill) data.set(fill);
  return arena.storage(label, data);
}
