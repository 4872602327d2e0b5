import code from '../../../shaders/reduce.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, pipeline, type Dispatch } from '../pipelines.ts';
import { STATE_WGSL } from './trainState.ts';

export const reduceShader = { name: 'reduce', code: `${code}\n${STATE_WGSL}` };

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

/**
 * metric = scale * sum(x^2)  (or scale * sum(x*y) with `y`), square-rooted when `sqrt`, written to the
 * current step's metrics slot. Coordinate RMS of a tensor with k entries is scale = 1/k, sqrt = true.
 */
export function reduceToMetric(
  arena: GpuArena,
  spec: { x: GPUBuffer; y?: GPUBuffer; count: number; scale: number; sqrt: boolean; label: string } & MetricTarget,
): Dispatch[] {
  return reduce(arena, spec, true);
}

/**
 * out[index] = scale * sum(x^2) (or sum(x*y)) into a plain buffer, in the same fixed order as
 * reduceToMetric (`state` is bound but not read). Gradient clipping sums its tensors' squares with it.
 */
export function reduceToBuffer(arena: GpuArena, spec: { x: GPUBuffer; y?: GPUBuffer; count: number; scale: number; label: string; out: GPUBuffer; index: number; state: GPUBuffer }): Dispatch[] {
  return reduce(arena, { ...spec, sqrt: false, metrics: spec.out, field: spec.index }, false);
}

function reduce(
  arena: GpuArena,
  spec: { x: GPUBuffer; y?: GPUBuffer; count: number; scale: number; sqrt: boolean; label: string } & MetricTarget,
  toRing: boolean,
): Dispatch[] {
  const kind = spec.y ? 'dot' : 'sumsq';
  const params = (count: number, chunk: number) =>
    arena.uniform(`${spec.label}.params`, [
      ['u32', count], ['u32', chunk], ['u32', spec.field], ['u32', 0],
      ['f32', spec.scale], ['u32', 0], ['u32', 0], ['u32', 0],
    ]);
  if (spec.count <= DIRECT_MAX) {
    const pipe = pipeline(arena.device, reduceShader, `direct_${kind}`, toRing ? { SQRT: spec.sqrt } : { SQRT: spec.sqrt, TO_RING: false });
    const bindGroup = bindBuffers(arena.device, pipe, spec.label, { 0: params(spec.count, spec.count), 1: spec.x, 2: spec.metrics, 3: spec.y, 4: spec.state });
    return [{ label: `reduce.${kind}`, pipeline: pipe, bindGroup, workgroups: [1, 1, 1] }];
  }
  const { chunk, groups } = chunking(spec.count);
  const partials = arena.storage(`${spec.label}.partials`, groups);
  const p1 = pipeline(arena.device, reduceShader, `partial_${kind}`);
  const p2 = pipeline(arena.device, reduceShader, 'finalize', toRing ? { SQRT: spec.sqrt } : { SQRT: spec.sqrt, TO_RING: false });
  return [
    { label: `reduce.${kind}`, pipeline: p1, bindGroup: bindBuffers(arena.device, p1, spec.label, { 0: params(spec.count, chunk), 1: spec.x, 2: partials, 3: spec.y }), workgroups: [groups, 1, 1] },
    { label: 'reduce.finalize', pipeline: p2, bindGroup: bindBuffers(arena.device, p2, `${spec.label}.finalize`, { 0: params(groups, 0), 1: partials, 2: spec.metrics, 4: spec.state }), workgroups: [1, 1, 1] },
  ];
}
