// The short benchmark of "Check this GPU": what this adapter can do at best (FMA peak, copy bandwidth), a
// square matmul at 1024/2048/4096 beside that peak, the toy's training step at n = 1024 and 4096, and one
// distilgpt2-shaped GPT-2 LoRA step (seq 128, batch 4, rank 8 on c_attn: the performance issue's shape)
// with random weights. On a software adapter every size is scaled down (and the report says how): the
// full sizes would take minutes there. The timing and the reference kernels are the `npm run bench` suite's
// (src/bench/measure.ts, roofline.ts, matmul.ts, toy.ts).
import type { GpuContext } from '../gpu/device.ts';
import { defaultGpt2RunConfig, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import { ToyTrainer } from '../experiments/toy/trainer.ts';
import { GPT2_MODELS, type Gpt2Config } from '../models/gpt2.ts';
import { timeMatmul } from './matmul.ts';
import { measure, type MeasurePlan } from './measure.ts';
import { measureRoofline } from './roofline.ts';
import { toyConfig, toyStepRunner } from './toy.ts';

export interface GpuBenchPlan {
  matmulN: number[];
  toyN: number[];
  /** Rows per toy step. */
  toyBatch: number;
  gpt2: { model: string; config: Gpt2Config; seq: number; batch: number; rank: number; steps: number };
  measure: MeasurePlan;
  /** How the plan differs from the full one (a software adapter), or null. */
  scaled: string | null;
}

/** The full sizes on a GPU (each matmul within the binding limit); smaller ones on a software adapter. */
export function gpuBenchPlan(ctx: Pick<GpuContext, 'isSoftware' | 'limits'>): GpuBenchPlan {
  const distil = GPT2_MODELS.distilgpt2.config;
  if (ctx.isSoftware) {
    return {
      matmulN: [256, 512, 1024],
      toyN: [256, 1024],
      toyBatch: 100,
      gpt2: { model: 'distilgpt2', config: distil, seq: 16, batch: 1, rank: 8, steps: 2 },
      measure: { reps: 3, targetMs: 60 },
      scaled: 'scaled down for this software adapter: matmul at n = 256, 512, 1024 (not 1024, 2048, 4096), the toy at n = 256 and 1024 (not 1024 and 4096), the GPT-2 step at 1 x 16 tokens (not 4 x 128)',
    };
  }
  const maxN = Math.floor(Math.sqrt(ctx.limits.maxStorageBufferBindingSize / 4));
  return {
    matmulN: [1024, 2048, 4096].filter((n) => n <= maxN),
    toyN: [1024, 4096].filter((n) => n <= maxN),
    toyBatch: 100,
    gpt2: { model: 'distilgpt2', config: distil, seq: 128, batch: 4, rank: 8, steps: 5 },
    measure: { reps: 5, targetMs: 40 },
    scaled: null,
  };
}

export interface GpuBenchReport {
  adapter: string;
  software: boolean;
  scaled: string | null;
  /** Medians. */
  roofline: { copyGBs: number; copyBufferGBs: number; peakGFLOPs: number; copyMiB: number };
  matmul: Array<{ n: number; ms: number; gflops: number; pctOfPeak: number; maxRelError: number }>;
  toy: Array<{ n: number; batch: number; rank: number; msPerStep: number; stepsPerSecond: number }>;
  gpt2: { model: string; seq: number; batch: number; rank: number; targets: string[]; steps: number; msPerStep: number; tokensPerSecond: number } | { model: string; error: string };
  seconds: number;
}

export interface GpuBenchOptions {
  plan?: GpuBenchPlan;
  /** Before each stage, with the fraction of the benchmark done. */
  onProgress?(stage: string, fraction: number): void;
}

export async function runGpuBenchmark(ctx: GpuContext, opts: GpuBenchOptions = {}): Promise<GpuBenchReport> {
  const t0 = performance.now();
  const plan = opts.plan ?? gpuBenchPlan(ctx);
  const stages = 1 + plan.matmulN.length + plan.toyN.length + 1;
  let done = 0;
  const progress = (stage: string) => opts.onProgress?.(stage, done++ / stages);

  progress('FMA peak and copy bandwidth');
  const roof = await measureRoofline(ctx, plan.measure);
  const matmul: GpuBenchReport['matmul'] = [];
  for (const n of plan.matmulN) {
    progress(`matmul ${n} x ${n} x ${n}`);
    const row = await timeMatmul(ctx, { name: `square ${n}`, M: n, N: n, K: n }, plan.measure, roof.peakGFLOPs.median);
    matmul.push({ n, ms: row.ours.median, gflops: row.oursGFLOPs, pctOfPeak: row.oursPctPeak, maxRelError: row.errOurs });
  }
  const toy: GpuBenchReport['toy'] = [];
  for (const n of plan.toyN) {
    progress(`toy training step at n = ${n}`);
    const config = toyConfig(n, plan.toyBatch);
    const trainer = await ToyTrainer.create(ctx, config, { readEvery: 256 });
    try {
      const { ms } = await measure([toyStepRunner(ctx, trainer)], { ...plan.measure, targetMs: plan.measure.targetMs * 4 });
      await trainer.flush();
      toy.push({ n, batch: plan.toyBatch, rank: config.rank, msPerStep: ms[0].median, stepsPerSecond: 1000 / ms[0].median });
    } finally {
      trainer.destroy();
    }
  }
  const g = plan.gpt2;
  progress(`GPT-2 step (${g.model} shape, random weights, ${g.batch} x ${g.seq} tokens)`);
  let gpt2: GpuBenchReport['gpt2'];
  try {
    gpt2 = await timeGpt2Step(ctx, g);
  } catch (e) {
    gpt2 = { model: g.model, error: e instanceof Error ? e.message : String(e) };
  }
  opts.onProgress?.('done', 1);
  return {
    adapter: ctx.adapterName,
    software: ctx.isSoftware,
    scaled: plan.scaled,
    roofline: { copyGBs: roof.copyGBs.median, copyBufferGBs: roof.copyBufferGBs.median, peakGFLOPs: roof.peakGFLOPs.median, copyMiB: roof.copyBytes / 2 ** 20 },
    matmul,
    toy,
    gpt2,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** One warm-up step, then `steps` steps each waited for: the median time of a step. */
async function timeGpt2Step(ctx: GpuContext, g: GpuBenchPlan['gpt2']): Promise<Extract<GpuBenchReport['gpt2'], { msPerStep: number }>> {
  // Yield first so that the page can show the stage: building the random weights holds the thread a while.
  await new Promise((r) => setTimeout(r, 0));
  const weights = randomGpt2Weights(g.config);
  const run: Gpt2RunConfig = { ...defaultGpt2RunConfig(), seq: g.seq, batch: g.batch, rank: g.rank, evalEvery: 0, steps: 1_000_000 };
  let s = 12345;
  const tokens = Uint32Array.from({ length: 4 * g.batch * (g.seq + 1) }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % g.config.vocab_size);
  const trainer = await Gpt2Trainer.create(ctx, weights, run, { train: tokens });
  try {
    const times: number[] = [];
    for (let i = 0; i <= g.steps; i++) {
      const t = performance.now();
      await trainer.step();
      await ctx.device.queue.onSubmittedWorkDone();
      if (i > 0) times.push(performance.now() - t);
    }
    await trainer.flush();
    times.sort((a, b) => a - b);
    const msPerStep = times[times.length >> 1];
    return { model: g.model, seq: g.seq, batch: g.batch, rank: g.rank, targets: run.targets, steps: g.steps, msPerStep, tokensPerSecond: (1000 * g.batch * g.seq) / msPerStep };
  } finally {
    trainer.destroy();
  }
}
