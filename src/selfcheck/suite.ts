// The self-check: every kernel family and every variant the engine can choose, on the adapter at hand,
// against the float64 reference at awkward small sizes, then whole runs (E0 parity of the toy, the batched
// engine with each of its forward kernels and against the per-run engine, one tiny GPT-2 step). The checks
// are the kernel tests' own (src/selfcheck/kernels/*, toyRuns.ts, gpt2Step.ts); this file only picks the
// cases. It runs in the CLI (`selfcheck`) and in the page ("Check this GPU"); it allocates through its own
// arenas and frees them, so it can run beside training on the same device.
//
// Variants, from the wrappers in src/gpu/kernels/: matmul specialises on transposes, accumulate, the
// low-rank epilogue, vec4 staging of each operand (contiguous axis % 4 == 0), the tile shape (tileShape:
// skinny rank-r blocks QM/QN = 1, 8x8 blocks, padding-minimising 5..16-thread sides, tall 32-thread blocks)
// and split-K (its reduce pass with and without accumulate); activation on relu/tanh/gelu x forward/backward
// /backward_outer; reduce on sumsq/dot x sqrt x one pass (<= 32768) / two passes; layernorm on 16/32/64
// threads per row and accumulate; softmax_xent on 64/256 threads and first/later chunks; embedding on
// first/later chunks; toy_batch on `rows` / `rows_thread` (batch parity); AdamW on `step` / `step_runs`.
import { GpuArena } from '../gpu/arena.ts';
import { readFloats } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/device.ts';
import type { GpuHost } from '../gpu/host.ts';
import type { Activation } from '../gpu/kernels/elementwise.ts';
import type { CheckResult } from './compare.ts';
import { tinyRun, tinyWeights } from './gpt2Fixture.ts';
import { checkGpt2Step } from './gpt2Step.ts';
import type { CheckEnv } from './harness.ts';
import { checkAdamw, checkAdamwRuns } from './kernels/adamw.ts';
import { checkActivation, checkMse, type ActivationEntry } from './kernels/elementwise.ts';
import { checkMatmul, describeMatmul, type MatmulCase } from './kernels/matmul.ts';
import { checkReduce } from './kernels/reduce.ts';
import { checkAdvance, checkGather } from './kernels/trainState.ts';
import { checkAttention, checkBias, checkEmbedding, checkLayerNorm, checkSoftmaxXent } from './kernels/transformer.ts';
import { checkBatchParity, checkBatchVsSingle, checkToyParity, smallConfig } from './toyRuns.ts';
import { adapterReport, type AdapterReport } from './adapter.ts';
import type { KernelFamily } from './families.ts';

/** What a check needs: a kernel check gets an arena of its own (freed after it); a run gets the host. */
interface SuiteScope {
  host: GpuHost;
  ctx: GpuContext;
  env: CheckEnv;
}

export interface Check {
  name: string;
  family: KernelFamily;
  run(scope: SuiteScope): Promise<CheckResult>;
}

// Each distinct set of override constants is a pipeline compile (seconds on a CPU adapter), while batch,
// strides, alpha and split counts are uniforms: the batched, strided and split-K cases reuse the shapes
// (so the pipelines) of the plain ones, and every constant value and tile class appears at least once.
const MATMUL: MatmulCase[] = [
  // The scalar path (no axis a multiple of 4) with each transpose: 8x4 threads of 8x8, skinny QN = 1 and QM = 1.
  { M: 17, N: 65, K: 33 },
  { M: 65, N: 3, K: 130, transB: true, alpha: -0.37 },
  { M: 130, N: 17, K: 65, transA: true, accumulate: true, alpha: 0.5 },
  { M: 1, N: 130, K: 33, transA: true, transB: true },
  // Batched and strided (a shared operand, gaps in C) and split-K (with and without accumulate) on those shapes.
  { M: 17, N: 65, K: 33, batch: 3, strideA: 0 },
  { M: 65, N: 3, K: 130, transB: true, batch: 2, strideB: 0 },
  { M: 17, N: 65, K: 33, batch: 2, strideC: 17 * 65 + 7 },
  { M: 17, N: 65, K: 330, splits: 3 },
  { M: 17, N: 65, K: 330, batch: 2, strideA: 0, splits: 3, accumulate: true, alpha: -0.5 },
  // vec4 staging of both operands with each transpose; padding-minimising 5..13-thread sides; 8x8 blocks.
  { M: 100, N: 68, K: 36 },
  { M: 100, N: 68, K: 1024, splits: 'auto' },
  { M: 44, N: 36, K: 20, transA: true },
  { M: 12, N: 20, K: 28, transA: true, transB: true },
  { M: 128, N: 64, K: 20 },
  // The fused low-rank epilogue (the LoRA forward) with rank past one K tile, alone and batched; a 1x1 block.
  { M: 100, N: 64, K: 64, transB: true, rank: 20, scale: 0.75, alpha: -1.5, accumulate: true },
  { M: 100, N: 64, K: 64, transB: true, rank: 20, scale: 0.75, alpha: -1.5, accumulate: true, batch: 2, strideA: 0, strideL: 0 },
  { M: 3, N: 1, K: 1, rank: 1, scale: 1 },
  // One operand vec4, the other scalar.
  { M: 30, N: 44, K: 26 },
  // The LoRA gradients' shapes: dB = G^T Z_A (skinny 1x8), dA = U^T X (8x1), and a tall 32-thread block.
  { M: 256, N: 4, K: 100, transA: true },
  { M: 4, N: 256, K: 100, transA: true },
  { M: 1024, N: 4, K: 20, transA: true },
];

const ACTIVATIONS: Activation[] = ['relu', 'tanh', 'gelu'];
const ENTRIES: Array<[ActivationEntry, { count: number; cols?: number }]> = [
  ['forward', { count: 257 }],
  ['backward', { count: 257 }],
  ['backward_outer', { count: 17 * 65, cols: 65 }],
];

/** Every check, in order: kernels first (quick, precise about what is wrong), then whole runs. */
export function selfcheckPlan(): Check[] {
  const kernel = (name: string, family: KernelFamily, run: (env: CheckEnv) => Promise<CheckResult>): Check => ({ name, family, run: (s) => run(s.env) });
  const checks: Check[] = [];
  MATMUL.forEach((c, i) => checks.push(kernel(`matmul ${describeMatmul(c)}`, 'matmul', (env) => checkMatmul(env, c, 100 + 10 * i))));
  for (const act of ACTIVATIONS) {
    for (const [entry, shape] of ENTRIES) checks.push(kernel(`activation ${act} ${entry} ${shape.cols ? `${shape.count / shape.cols}x${shape.cols}` : shape.count}`, 'activation', (env) => checkActivation(env, act, entry, shape, 7 + shape.count)));
  }
  checks.push(kernel('loss mse m=257', 'loss', (env) => checkMse(env, 257, 257)));
  for (const [count, passes] of [[1000, 'one pass'], [40_000, 'two passes']] as const) {
    checks.push(kernel(`reduce sumsq sqrt k=${count} (${passes})`, 'reduce', (env) => checkReduce(env, { count, dot: false, sqrt: true, scale: 1 / count, range: 3 }, count)));
    checks.push(kernel(`reduce sumsq k=${count} (${passes})`, 'reduce', (env) => checkReduce(env, { count, dot: false, sqrt: false, scale: 1 / (2 * count), range: 10 }, count + 1)));
    checks.push(kernel(`reduce dot k=${count} (${passes})`, 'reduce', (env) => checkReduce(env, { count, dot: true, sqrt: false, scale: 0.37 }, count + 2)));
    checks.push(kernel(`reduce dot sqrt k=${count} (${passes})`, 'reduce', (env) => checkReduce(env, { count, dot: true, sqrt: true, scale: 0.37 }, count + 3)));
  }
  checks.push(kernel('train_state advance (ring 3 x 5 fields, 7 steps)', 'train_state', (env) => checkAdvance(env, 3, 5, 7)));
  checks.push(kernel('train_state gather (17 of 40 rows x 3 cols, 3 batches cycled)', 'train_state', (env) => checkGather(env, 40, 17, 3, 3)));
  checks.push(kernel('adamw step (weight decay 0.1) x257, two steps', 'adamw', (env) => checkAdamw(env, { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 257, 257)));
  checks.push(kernel('adamw step (eps 1e-3, betas 0.8/0.95) x3, two steps', 'adamw', (env) => checkAdamw(env, { lr: 0.5, weightDecay: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-3 }, 3, 3)));
  checks.push(kernel('adamw step_runs (3 runs x 65, one dead), two steps', 'adamw', (env) => checkAdamwRuns(env, [{ lr: 1e-2, weightDecay: 0 }, { lr: 0.3, weightDecay: 0.1 }, { lr: 3e-3, weightDecay: 0.01 }], 65, 1, 41)));
  checks.push(kernel('embedding (vocab 333 in one chunk)', 'embedding', (env) => checkEmbedding(env, 333)));
  checks.push(kernel('embedding (vocab 333 in chunks of 100)', 'embedding', (env) => checkEmbedding(env, 100)));
  checks.push(kernel('bias rows, rows_residual (7x37)', 'bias', (env) => checkBias(env)));
  for (const [cols, threads] of [[37, 16], [100, 32], [300, 64]] as const) {
    checks.push(kernel(`layernorm forward, backward =, += (7x${cols}, ${threads} threads per row)`, 'layernorm', (env) => checkLayerNorm(env, cols)));
  }
  for (const shape of [[2, 13, 3, 5], [1, 1, 2, 4]] as const) {
    checks.push(kernel(`attention forward, backward (B ${shape[0]}, T ${shape[1]}, H ${shape[2]}, D ${shape[3]})`, 'attention', (env) => checkAttention(env, shape)));
  }
  checks.push(kernel('softmax_xent (7 rows, 333 classes in chunks of 100)', 'softmax_xent', (env) => checkSoftmaxXent(env, 7, 333, 100)));
  checks.push(kernel('softmax_xent (3 rows, 2100 classes in 2048 + 52: 256 and 64 threads)', 'softmax_xent', (env) => checkSoftmaxXent(env, 3, 2100, 2048)));

  const batchConfig = smallConfig({ activation: 'gelu', rank: 1, alpha: 2, eta: 2e-3, lambda: 4 });
  checks.push({ name: 'toy E0 parity: 10 steps, Init[B], tanh, rsLoRA, weight decay (n 37, r 3)', family: 'toy', run: (s) => checkToyParity(s.host, smallConfig({ init: 'B', activation: 'tanh', lambda: 4, eta: 1e-3, rslora: true, wd: 0.1 })) });
  checks.push({ name: 'toy_batch rows_thread: Init[A] + Init[B] batch vs float64 (n 37, r 1)', family: 'toy_batch', run: (s) => checkBatchParity(s.host, batchConfig, 'thread') });
  checks.push({ name: 'toy_batch rows: Init[A] + Init[B] batch vs float64 (n 37, r 1)', family: 'toy_batch', run: (s) => checkBatchParity(s.host, batchConfig, 'workgroup') });
  checks.push({
    name: 'toy_batch batched vs single runs: per-run init, lr, lambda, weight decay; test loss (n 37, r 1)',
    family: 'toy_batch',
    // The parity runs' shapes (so their compiled pipelines: seconds each on a CPU adapter); the mini-batch
    // gather is train_state's own check.
    run: (s) => checkBatchVsSingle(s.host, { ...batchConfig, steps: 6, testEvery: 3 }, [
      { init: 'A', initDist: 'gaussian', eta: 3e-3, lambda: 4, wd: 0.01 },
      { init: 'B', initDist: 'uniform', eta: 1e-2, lambda: 2, wd: 0 },
    ]),
  });
  checks.push({
    name: 'gpt2 tiny step: logits, dA/dB, metrics, AdamW (B 2, T 13, 4 targets, vocab chunks of 100)',
    family: 'gpt2',
    run: async (s) => (await checkGpt2Step(s.ctx, tinyWeights(), tinyRun({ lambda: 4, wd: 0.01 }), { maxVocabChunk: 100 })).result,
  });
  return checks;
}

export interface CheckRow extends CheckResult {
  name: string;
  family: KernelFamily;
  seconds: number;
}

export type { AdapterReport };

export interface SelfcheckReport {
  adapter: AdapterReport;
  checks: CheckRow[];
  pass: boolean;
  seconds: number;
}

export interface SelfcheckOptions {
  /** After each check (the page's progress bar). */
  onProgress?(done: number, total: number, row: CheckRow): void;
  /** Only the checks whose name contains one of these (tests). */
  only?: string[];
  /** How kernel checks read results back (default readFloats; the suite's test plants a wrong value here). */
  read?: CheckEnv['read'];
}

/** Runs the checks in order on the host's device; a check that throws fails with its message. Throws if the device is lost. */
export async function runSelfcheck(host: GpuHost, opts: SelfcheckOptions = {}): Promise<SelfcheckReport> {
  const t0 = performance.now();
  const ctx = await host.context();
  const plan = selfcheckPlan().filter((c) => !opts.only || opts.only.some((s) => c.name.includes(s)));
  const checks: CheckRow[] = [];
  // A lost device fails whatever runs on it: that says nothing about the kernels, so the run stops instead.
  let lost: GPUDeviceLostInfo | null = null;
  void ctx.lost.then((info) => (lost = info));
  for (const check of plan) {
    const started = performance.now();
    const arena = new GpuArena(ctx.device, `selfcheck ${check.name}`);
    const env: CheckEnv = { arena, read: opts.read ?? ((buffer, floats) => readFloats(ctx.device, buffer, floats)) };
    let result: CheckResult;
    try {
      result = await check.run({ host, ctx, env });
    } catch (e) {
      result = { pass: false, maxRelError: Infinity, tolerance: 0, detail: `failed to run: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      arena.destroy();
    }
    if (lost) throw new Error(`the GPU device was lost during the self-check (${(lost as GPUDeviceLostInfo).message || (lost as GPUDeviceLostInfo).reason}); run it again`);
    const row: CheckRow = { name: check.name, family: check.family, ...result, seconds: (performance.now() - started) / 1000 };
    checks.push(row);
    opts.onProgress?.(checks.length, plan.length, row);
  }
  return { adapter: adapterReport(ctx), checks, pass: checks.length > 0 && checks.every((c) => c.pass), seconds: (performance.now() - t0) / 1000 };
}
