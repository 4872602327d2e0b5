// How every benchmark number is taken, the same in Node (bench/, the CLI) and in the page ("Check this GPU").
//
// Timing. Each measurement runs R repetitions in one submission and waits for the queue, R calibrated so a
// sample lasts about `targetMs`; after warm-up, `reps` samples are taken, alternating between the runners
// (ours and a peer's) so both see the same machine load; rows report min/median/max of the per-repetition time.
import { encode, type Dispatch } from '../gpu/pipelines.ts';

export interface Stat {
  min: number;
  median: number;
  max: number;
  /** Every repetition, in the order measured. */
  samples: number[];
}

export function stat(samples: number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], samples };
}

export interface MeasurePlan {
  /** Samples after warm-up. */
  reps: number;
  /** About how long one sample runs. */
  targetMs: number;
}

export interface Runner {
  /** Do the work `reps` times and wait for the GPU; may return extra per-call data (CPU ms). */
  run(reps: number): Promise<number | void>;
}

/** Warm up, calibrate R per runner, then alternate samples between the runners. Returns per-rep ms. */
export async function measure(runners: Runner[], plan: MeasurePlan): Promise<{ ms: Stat[]; extra: Stat[] }> {
  const R: number[] = [];
  for (const r of runners) {
    await r.run(1); // compile + first use
    const t0 = performance.now();
    await r.run(1);
    const t1 = performance.now() - t0;
    R.push(Math.max(1, Math.min(256, Math.round(plan.targetMs / Math.max(t1, 1e-3)))));
  }
  const samples: number[][] = runners.map(() => []);
  const extras: number[][] = runners.map(() => []);
  for (let i = 0; i < plan.reps; i++) {
    for (let j = 0; j < runners.length; j++) {
      const t0 = performance.now();
      const extra = await runners[j].run(R[j]);
      const dt = performance.now() - t0;
      samples[j].push(dt / R[j]);
      if (typeof extra === 'number') extras[j].push(extra / R[j]);
    }
  }
  return { ms: samples.map(stat), extra: extras.map((e) => (e.length ? stat(e) : stat([NaN]))) };
}

/** Run `dispatches` `reps` times in one compute pass and wait. */
export function dispatchRunner(device: GPUDevice, dispatches: Dispatch[]): Runner {
  return {
    run: async (reps) => {
      const enc = device.createCommandEncoder({ label: 'bench' });
      const pass = enc.beginComputePass({ label: 'bench' });
      for (let i = 0; i < reps; i++) encode(pass, dispatches);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
  };
}

/** Seeded values in [-1, 1) (an LCG: fast for the large operands of a benchmark). */
export function benchRand(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
