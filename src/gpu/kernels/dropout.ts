import code from '../../../shaders/dropout.wgsl?raw';
import rngCode from '../../../shaders/counter_rng.wgsl?raw';
import type { GpuArena } from '../arena.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../pipelines.ts';
import { STATE_WGSL } from './trainState.ts';

/** counter_rng.wgsl: appended to every module that draws dropout masks (WGSL has no include). */
export const COUNTER_RNG_WGSL = rngCode;
export const dropoutShader = { name: 'dropout', code: `${code}\n${STATE_WGSL}\n${COUNTER_RNG_WGSL}` };

/** One dropout site's mask: which stream (site, seed) and how much it drops; the step comes from the GPU state. */
export interface DropoutMask {
  p: number;
  /** Distinct for every place a mask is drawn within a step (layer, kind, micro-batch). */
  site: number;
  seed: number;
}

/** Elements whose hash is below this are dropped: round(p * 2^32), so P(drop) = p to 2^-32. */
export const dropThreshold = (p: number): number => Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32));
/** What a kept element is multiplied by, as an f32: 1 / (1 - p). */
export const keepScale = (p: number): number => Math.fround(1 / (1 - p));

export type DropoutKind = 'drop' | 'drop_add' | 'drop_acc';

/**
 * out = mask ⊙ x / (1 - p) over `count` elements ('drop'), plus res ('drop_add'), or added to out
 * ('drop_acc'), with this step's mask for `mask.site` (the step counter is read from `state`).
 */
export function dropout(arena: GpuArena, kind: DropoutKind, spec: { count: number; mask: DropoutMask; x: GPUBuffer; out: GPUBuffer; res?: GPUBuffer; state: GPUBuffer }): Dispatch {
  if (!(spec.mask.p >= 0 && spec.mask.p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${spec.mask.p}`);
  if ((kind === 'drop_add') !== !!spec.res) throw new Error('dropout: drop_add needs res, and only it');
  const pipe = pipeline(arena.device, dropoutShader, kind);
  const params = arena.uniform('dropout.params', [
    ['u32', spec.count], ['u32', dropThreshold(spec.mask.p)], ['u32', spec.mask.site], ['u32', spec.mask.seed >>> 0],
    ['f32', keepScale(spec.mask.p)], ['f32', 0], ['f32', 0], ['f32', 0],
  ]);
  return {
    label: `dropout.${kind}`,
    pipeline: pipe,
    bindGroup: bindBuffers(arena.device, pipe, `dropout.${kind}`, { 0: params, 1: spec.x, 2: spec.out, 3: spec.res, 4: spec.state }),
    workgroups: grid1d(Math.ceil(spec.count / 256)),
  };
}
