// The CLI's GPU: the process-wide host (src/gpu/node.ts), the memory budget a command's plan is checked
// against (--memory-budget-mib, or the adapter's default), and the check that no GPU error was raised
// before a result is written.
import { defaultMemoryBudget } from '../gpu/budget.ts';
import type { GpuContext } from '../gpu/device.ts';
import type { GpuHost } from '../gpu/host.ts';
import { nodeGpuHost } from '../gpu/node.ts';
import { numberOption } from './args.ts';
import { UsageError } from './errors.ts';

export interface CliGpu {
  host: GpuHost;
  ctx: GpuContext;
  /** Bytes the command's workload may use. */
  budget: number;
}

export async function openGpu(options: Map<string, string | true>): Promise<CliGpu> {
  const host = nodeGpuHost();
  const ctx = await host.context();
  const mib = numberOption(options, 'memory-budget-mib');
  return { host, ctx, budget: mib !== undefined ? mib * 2 ** 20 : defaultMemoryBudget(ctx) };
}

/** A plan's refusal as the user's error (exit 2), with what can be changed. */
export function refuse(problem: string | null, what: string, hint: string): void {
  if (!problem) return;
  const overBudget = /the budget is/.test(problem);
  throw new UsageError(`${what} will not fit: ${problem}; ${hint}${overBudget ? ' (or raise --memory-budget-mib)' : ''}`);
}

/** Throws the first GPU error raised outside an error scope: nothing computed after it is a result. */
export function assertNoGpuErrors(host: GpuHost): void {
  if (host.errors.length) throw host.errors[0];
}
