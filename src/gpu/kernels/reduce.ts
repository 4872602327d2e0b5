import code from '../../../shaders/reduce.wgsl?raw';
import { storageBuffer, uniformBuffer } from '../buffers.ts';
import { pipeline, type Dispatch } from '../pipelines.ts';

export const reduceShader = { name: 'reduce', code };

const WG = 128;
/** Up to this many elements one workgroup sums directly (one dispatch instead of two). */
const DIRECT_MAX = 32 * 1024;

/** Elements per workgroup in the first pass; at most 1024 partials keeps the second pass one workgroup. */
function chunking(count: number): { chunk: number; groups: number } {
  const chunk = Math.max(4096, Math.ceil(count / 1024 / WG) * WG);
  return { chunk, groups: Math.max(1, Math.ceil(count / chunk)) };
}

export interface MetricTarget {
  metrics: GPUBuffer;
  state: GPUBuffer;
  /** Field index within a metrics slot. */
  field: number;
}

/** Bind group with explicit binding numbers (the entry points use different subsets of 0..4). */
function bind(device: GPUDevice, pipe: GPUComputePipeline, label: string, entries: Record<number, GPUBuffer | undefined>): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipe.getBindGroupLayout(0),
    entries: Object.entries(entries)
      .filter(([, b]) => b)
      .map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer: buffer! } })),
  });
}

/**
 * metric = scale * sum(x^2)  (or scale * sum(x*y) with `y`), square-rooted when `sqrt`, written to the
 * current step's metrics slot. Coordinate RMS of a tensor with k entries is scale = 1/k, sqrt = true.
 */
export function reduceToMetric(
  device: GPUDevice,
  spec: { x: GPUBuffer; y?: GPUBuffer; count: number; scale: number; sqrt: boolean; label: string } & MetricTarget,
): Dispatch[] {
  const kind = spec.y ? 'dot' : 'sumsq';
  const params = (count: number, chunk: number) =>
    uniformBuffer(device, `${spec.label}.params`, [
      ['u32', count], ['u32', chunk], ['u32', spec.field], ['u32', 0],
      ['f32', spec.scale], ['u32', 0], ['u32', 0], ['u32', 0],
    ]);
  if (spec.count <= DIRECT_MAX) {
    const pipe = pipeline(device, reduceShader, `direct_${kind}`, { SQRT: spec.sqrt });
    const bindGroup = bind(device, pipe, spec.label, { 0: params(spec.count, spec.count), 1: spec.x, 2: spec.metrics, 3: spec.y, 4: spec.state });
    return [{ label: `reduce.${kind}`, pipeline: pipe, bindGroup, workgroups: [1, 1, 1] }];
  }
  const { chunk, groups } = chunking(spec.count);
  const partials = storageBuffer(device, `${spec.label}.partials`, groups);
  const p1 = pipeline(device, reduceShader, `partial_${kind}`);
  const p2 = pipeline(device, reduceShader, 'finalize', { SQRT: spec.sqrt });
  return [
    { label: `reduce.${kind}`, pipeline: p1, bindGroup: bind(device, p1, spec.label, { 0: params(spec.count, chunk), 1: spec.x, 2: partials, 3: spec.y }), workgroups: [groups, 1, 1] },
    { label: 'reduce.finalize', pipeline: p2, bindGroup: bind(device, p2, `${spec.label}.finalize`, { 0: params(groups, 0), 1: partials, 2: spec.metrics, 4: spec.state }), workgroups: [1, 1, 1] },
  ];
}
