// AdamW over parameter groups (lora-math.md section 3). LoRA+ is two groups: A with lr = eta and
// B with lr = lambda * eta. Each tensor is one dispatch with its own uniform; nothing frozen has state.
import type { GpuArena } from '../gpu/arena.ts';
import { adamw, type AdamHyper } from '../gpu/kernels/adamw.ts';
import type { Dispatch } from '../gpu/pipelines.ts';

export interface ParamGroup {
  name: string;
  lr: number;
  weightDecay: number;
  tensors: Array<{ label: string; theta: GPUBuffer; grad: GPUBuffer; count: number }>;
}

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps: number;
}

/** LoRA+ groups for one or more layers: A at eta, B at lambda * eta. */
export function loraPlusGroups(
  layers: Array<{ label: string; A: GPUBuffer; dA: GPUBuffer; B: GPUBuffer; dB: GPUBuffer; rank: number; nIn: number; nOut: number }>,
  eta: number,
  lambda: number,
  weightDecay: number,
): ParamGroup[] {
  return [
    { name: 'A', lr: eta, weightDecay, tensors: layers.map((l) => ({ label: `${l.label}.A`, theta: l.A, grad: l.dA, count: l.rank * l.nIn })) },
    { name: 'B', lr: lambda * eta, weightDecay, tensors: layers.map((l) => ({ label: `${l.label}.B`, theta: l.B, grad: l.dB, count: l.nOut * l.rank })) },
  ];
}

/**
 * One AdamW dispatch per tensor. `scheduled`: every lr times the state's schedule factor; `clipped`: every
 * gradient times the state's clipping scale (src/gpu/kernels/gradClip.ts writes it first).
 */
export function adamwStep(arena: GpuArena, groups: ParamGroup[], settings: AdamSettings, state: GPUBuffer, opts: { scheduled?: boolean; clipped?: boolean } = {}): Dispatch[] {
  const out: Dispatch[] = [];
  for (const g of groups) {
    for (const t of g.tensors) {
      const hyper: AdamHyper = { lr: g.lr, weightDecay: g.weightDecay, ...settings };
      out.push(adamw(arena, { theta: t.theta, grad: t.grad, count: t.count, state, hyper, label: t.label, ...opts }).dispatch);
    }
  }
  return out;
}
