// Kernel families (one WGSL file each, plus the engines that compose them) and which of them each engine
// trains with: what the page refuses to train when the self-check found a family wrong on this adapter.
// Some kernels (or variants) only serve an option of a GPT-2 run (dropout, clipping, ...): their checks
// name it, and a failure refuses only the runs that use it.
import { dropoutRates, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { isConstantSchedule } from '../gpu/kernels/trainState.ts';
import type { Gpt2Config } from '../models/gpt2.ts';

export type KernelFamily =
  | 'matmul'
  | 'activation'
  | 'loss'
  | 'reduce'
  | 'train_state'
  | 'adamw'
  | 'embedding'
  | 'bias'
  | 'layernorm'
  | 'attention'
  | 'softmax_xent'
  /** dropout.wgsl with its masks from counter_rng.wgsl. */
  | 'dropout'
  | 'grad_clip'
  /** toy_batch.wgsl, and the batched engine (sweep/batchTrainer.ts) as a whole. */
  | 'toy_batch'
  /** The per-run toy engine (toy/trainer.ts) as a whole. */
  | 'toy'
  /** The GPT-2 engine (gpt2/) as a whole. */
  | 'gpt2';

export type Engine = 'playground' | 'sweep' | 'gpt2';

const TOY: KernelFamily[] = ['matmul', 'activation', 'loss', 'reduce', 'train_state', 'adamw', 'toy'];
const BATCH: KernelFamily[] = ['matmul', 'activation', 'train_state', 'adamw', 'toy_batch'];

/** The families each front end's training depends on (the Playground trains in both toy engines). */
export const ENGINE_FAMILIES: Record<Engine, readonly KernelFamily[]> = {
  playground: [...new Set([...TOY, ...BATCH])],
  sweep: BATCH,
  gpt2: ['matmul', 'activation', 'reduce', 'train_state', 'adamw', 'embedding', 'bias', 'layernorm', 'attention', 'softmax_xent', 'dropout', 'grad_clip', 'gpt2'],
};

/** What only some GPT-2 runs use: Hugging Face's training options, and generation (the KV-cache kernels). */
export type Gpt2Feature = 'dropout' | 'clipping' | 'schedule' | 'gradAccum' | 'generation';

const FEATURE_NAMES: Record<Gpt2Feature, string> = { dropout: 'dropout', clipping: 'gradient clipping', schedule: 'a learning-rate schedule', gradAccum: 'gradient accumulation', generation: 'generation' };

/** "dropout, gradient clipping or gradient accumulation": the features in words. */
export function describeFeatures(features: readonly Gpt2Feature[]): string {
  const names = features.map((f) => FEATURE_NAMES[f]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');
}

/** The features a GPT-2 training run of `run` on `model` uses. */
export function gpt2Features(run: Pick<Gpt2RunConfig, 'dropout' | 'loraDropout' | 'maxGradNorm' | 'schedule' | 'warmup' | 'steps' | 'gradAccum'>, model: Pick<Gpt2Config, 'embd_pdrop' | 'attn_pdrop' | 'resid_pdrop'>): Gpt2Feature[] {
  const rates = dropoutRates(run, model);
  const uses: Array<[Gpt2Feature, boolean]> = [
    ['dropout', rates.embd > 0 || rates.attn > 0 || rates.resid > 0 || rates.lora > 0],
    ['clipping', run.maxGradNorm > 0],
    ['schedule', !isConstantSchedule({ kind: run.schedule, warmup: run.warmup, total: run.steps })],
    ['gradAccum', run.gradAccum > 1],
  ];
  return uses.filter(([, on]) => on).map(([f]) => f);
}

/** A failed check as the refusal needs it: `features`, when given, are the only runs its kernel serves. */
export interface FailedCheck {
  name: string;
  family: KernelFamily;
  detail: string;
  features?: readonly Gpt2Feature[];
}

/** What a user can do about a kernel that computes wrong results on their adapter. */
export const FAILED_KERNEL_ADVICE =
  'Update the GPU driver and the browser, or try another browser or GPU (a laptop with two GPUs: the other one); if it persists, use Copy report in "Check this GPU" and file an issue with it.';

/** The message for a check that failed: which kernel, how far off, and what to do. */
export function failedCheckMessage(c: FailedCheck): string {
  const only = c.features?.length ? ` It serves only ${describeFeatures(c.features)}, which ${c.features.length > 1 ? 'are' : 'is'} refused; the rest is not.` : '';
  return `The ${c.family} kernel gives wrong results on this GPU (${c.name}: ${c.detail}).${only} ${FAILED_KERNEL_ADVICE}`;
}

/**
 * Why `engine` must not run, given the checks that failed on this adapter; null when it may. A check that
 * names features refuses only a run that `uses` at least one of them (a failed whole-run check cannot tell
 * which was to blame); `action` is what is refused ("Training", "Generation").
 */
export function refusalFor(engine: Engine, failed: ReadonlyArray<FailedCheck>, opts: { uses?: readonly Gpt2Feature[]; action?: string } = {}): string | null {
  const uses = opts.uses ?? [];
  const hit = failed.filter((c) => ENGINE_FAMILIES[engine].includes(c.family) && (!c.features?.length || c.features.some((f) => uses.includes(f))));
  if (!hit.length) return null;
  const families = [...new Set(hit.map((c) => c.family))].join(', ');
  // Every culprit serves options only: the same run without them does not use it.
  const optional = hit.every((c) => c.features?.length) ? [...new Set(hit.flatMap((c) => c.features!.filter((f) => uses.includes(f))))] : [];
  const without = optional.length && !optional.includes('generation') ? ` It is used only for ${describeFeatures(optional)}: a run without ${optional.length > 1 ? 'them' : 'it'} is not refused.` : '';
  return `${opts.action ?? 'Training'} is refused: the self-check found the ${families} kernel${families.includes(',') ? 's' : ''} giving wrong results on this GPU (${hit[0].name}: ${hit[0].detail}), so the numbers would be wrong.${without} ${FAILED_KERNEL_ADVICE}`;
}
