// A toy run as the front ends drive it: the generic run loop (run/session.ts) over a ToyTrainer.
import type { DispatchProfiler } from '../../gpu/pipelines.ts';
import { lossDiverges } from '../run/divergence.ts';
import type { GpuHost } from '../../gpu/host.ts';
import { RunSession } from '../run/session.ts';
import type { ToyConfig } from './config.ts';
import type { ToyTensors } from './data.ts';
import type { StepMetrics } from './metrics.ts';
import { checkFits } from './plan.ts';
import { ToyTrainer } from './trainer.ts';

export class ToySession extends RunSession<StepMetrics, ToyTrainer> {
  static async create(host: GpuHost, config: ToyConfig, opts: { tensors?: ToyTensors; profiler?: DispatchProfiler; readEvery?: number } = {}): Promise<ToySession> {
    const ctx = await host.context();
    const tooBig = checkFits(ctx, config);
    if (tooBig) throw new Error(tooBig);
    const trainer = await ToyTrainer.create(ctx, config, { profiler: opts.profiler, readEvery: opts.readEvery }, opts.tensors);
    return new ToySession(trainer, host, { stopsAt: lossDiverges() });
  }

  get config(): ToyConfig {
    return this.trainer.config;
  }
}
