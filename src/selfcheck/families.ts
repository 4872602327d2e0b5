// Kernel families (one WGSL file each, plus the engines that compose them) and which of them each engine
// trains with: what the page refuses to train when the self-check found a family wrong on this adapter.

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
  gpt2: ['matmul', 'activation', 'reduce', 'train_state', 'adamw', 'embedding', 'bias', 'layernorm', 'attention', 'softmax_xent', 'gpt2'],
};

/** What a user can do about a kernel that computes wrong results on their adapter. */
export const FAILED_KERNEL_ADVICE =
  'Update the GPU driver and the browser, or try another browser or GPU (a laptop with two GPUs: the other one); if it persists, use Copy report in "Check this GPU" and file an issue with it.';

/** The message for a check that failed: which kernel, how far off, and what to do. */
export function failedCheckMessage(c: { name: string; family: KernelFamily; detail: string }): string {
  return `The ${c.family} kernel gives wrong results on this GPU (${c.name}: ${c.detail}). ${FAILED_KERNEL_ADVICE}`;
}

/** Why `engine` must not train, given the checks that failed on this adapter; null when it may. */
export function refusalFor(engine: Engine, failed: ReadonlyArray<{ name: string; family: KernelFamily; detail: string }>): string | null {
  const hit = failed.filter((c) => ENGINE_FAMILIES[engine].includes(c.family));
  if (!hit.length) return null;
  const families = [...new Set(hit.map((c) => c.family))].join(', ');
  return `Training is refused: the self-check found the ${families} kernel${families.includes(',') ? 's' : ''} giving wrong results on this GPU (${hit[0].name}: ${hit[0].detail}), so the numbers would be wrong. ${FAILED_KERNEL_ADVICE}`;
}
