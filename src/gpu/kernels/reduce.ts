import code from '../../../shaders/reduce.wgsl?raw';
import { storageBuffer, uniformBuffer } from '../buffers.ts';
import { bindBuffers, pipeline, type Dispatch } from '../pipelines.ts';

export const reduceShader = { name: 'reduce', code };

/** Elements per workgroup in the first pass; at most 1024 partials keeps the second pass one workgroup. */
function chunking(count: number): { chunk: number; groups: number } {
  const chunk = Math.max(1024, Math.ceil(count / 1024 / 256) * 256);
  return { chunk, groups: Math.max(1, Math.ceil(count / chunk)) };
}

export interface MetricTarget {
  metrics: GPUBuffer;
  state: GPUBuffer;
  /** Field index within a metrics slot. */
  field: number;
}

/**
 * metric = scale * sum(x^2)  (or scale * sum(x*y) with `y`), square-rooted when `sqrt`, written to the
 * current step's metrics slot. Coordinate RMS of a tensor with k entries is scale = 1/k, sqrt = true.
 */
export function reduceToMetric(
  device: GPUDevice,
  spec: { x: GPUBuffer; y?: GPUBuffer; count: number; scale: number; sqrt: boolean; label: string } & MetricTarget,
): Dispatch[] {
  const { chunk, groups } = chunking(spec.count);
  const partials = storageBuffer(device, `${spec.label}.partials`, groups);
  const params = uniformBuffer(device, `${spec.label}.params`, [
    ['u32', spec.count], ['u32', chunk], ['u32', spec.field], ['u32', 0],
    ['f32', spec.scale], ['u32', 0], ['u32', 0], ['u32', 0],
  ]);
  const entry = spec.y ? 'partial_dot' : 'partial_sumsq';
  const p1 = pipeline(device, reduceShader, entry);
  const first: Dispatch = {
    label: `reduce.${spec.y ? 'dot' : 'sumsq'}`,
    pipeline: p1,
    bindGroup: bindBuffers(device, p1, spec.label, spec.y ? [params, spec.x, partials, spec.y] : [params, spec.x, partials]),
    workgroups: [groups, 1, 1],
  };
  const finalParams = uniformBuffer(device, `${spec.label}.final`, [
    ['u32', groups], ['u32', 0], ['u32', spec.field], ['u32', 0],
    ['f32', spec.scale], ['u32', 0], ['u32', 0], ['u32', 0],
  ]);
  const p2 = pipeline(device, reduceShader, 'finalize', { SQRT: spec.sqrt });
  const second: Dispatch = {
    label: 'reduce.finalize',
    pipeline: p2,
    bindGroup: bindBuffers(device, p2, `${spec.label}.finalize`, [finalParams, partials, spec.metrics, spec.state]),
    workgroups: [1, 1, 1],
  };
  return [first, second];
}
