// What a report says about the adapter it ran on: its name, what it says about itself, its limits and
// features (the head of the self-check's output, in the CLI and the page).
import type { GpuContext } from '../gpu/device.ts';

export interface AdapterReport {
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  features: string[];
  limits: Record<string, number>;
}

export function adapterReport(ctx: GpuContext): AdapterReport {
  const limits: Record<string, number> = {};
  // Limits are attributes on the prototype: for-in sees them where JSON.stringify does not.
  for (const key in ctx.limits) {
    const v = (ctx.limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  return { name: ctx.adapterName, ...ctx.info, software: ctx.isSoftware, features: ctx.features, limits };
}
