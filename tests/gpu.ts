// The shared test device: Dawn in Node, SwiftShader when there is no GPU (see src/gpu/node.ts).
import { nodeGpuContext } from '../src/gpu/node.ts';
import type { GpuContext } from '../src/gpu/device.ts';

export function testGpu(): Promise<GpuContext> {
  return nodeGpuContext();
}
