// How much GPU memory one workload may use when the user has not said. WebGPU does not report the GPU's
// memory, so every plan (toy, sweep batch, GPT-2, export) is checked against this budget before anything
// is allocated. On a software adapter the "GPU memory" is this machine's RAM, shared with everything else.
import type { GpuContext } from './device.ts';

export const HARDWARE_BUDGET = 4 * 2 ** 30;
export const SOFTWARE_BUDGET = 2 * 2 ** 30;

export function defaultMemoryBudget(ctx: Pick<GpuContext, 'isSoftware'>): number {
  return ctx.isSoftware ? SOFTWARE_BUDGET : HARDWARE_BUDGET;
}
