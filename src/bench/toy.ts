// The toy's training step timed on this adapter: a ToyTrainer stepping as fast as it can, with the
// mini-batch gather on the GPU and metrics read back every 256 steps (the benchmark's configuration).
import type { GpuContext } from '../gpu/device.ts';
import { defaultToyConfig, type ToyConfig } from '../experiments/toy/config.ts';
import type { ToyTrainer } from '../experiments/toy/trainer.ts';
import type { Runner } from './measure.ts';

/** Width n, batch m of N_train = 1000 (mini-batches gathered on the GPU), test loss only at step 1. */
export function toyConfig(n: number, m: number): ToyConfig {
  return { ...defaultToyConfig(), n, rank: 4, batch: m, steps: 1_000_000, testEvery: 1_000_000 };
}

/** `steps` training steps, then wait for the GPU; returns the JS time spent encoding and submitting. */
export function toyStepRunner(ctx: GpuContext, trainer: ToyTrainer): Runner {
  return {
    run: async (steps) => {
      let cpu = 0;
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        const p = trainer.step();
        cpu += performance.now() - t0;
        await p;
      }
      await ctx.device.queue.onSubmittedWorkDone();
      return cpu;
    },
  };
}
