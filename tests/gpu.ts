// The shared test device: Dawn in Node, SwiftShader when there is no GPU (see src/gpu/node.ts), and the
// process-wide GpuHost the sessions run on.
import { GpuArena } from '../src/gpu/arena.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { nodeGpuContext, nodeGpuHost } from '../src/gpu/node.ts';
import type { GpuHost } from '../src/gpu/host.ts';

export function testGpu(): Promise<GpuContext> {
  return nodeGpuContext();
}

export function testHost(): GpuHost {
  return nodeGpuHost();
}

/** An arena on the shared test device (kernel tests allocate through it and never free: one process). */
export async function testArena(label = 'test'): Promise<GpuArena> {
  return new GpuArena((await nodeGpuContext()).device, label);
}
