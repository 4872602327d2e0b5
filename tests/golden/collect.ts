// What the golden-trace test records and replays: a toy run (full batch and mini-batch), a batch of
// sweep runs trained in shared dispatches (one of them diverging), and a tiny GPT-2 run, all from fixed
// seeds. Every float is kept as its float32 bit pattern, so "matches" means bit for bit.
import { defaultToyConfig, type ToyConfig } from '../../src/experiments/toy/config.ts';
import type { GpuHost } from '../../src/gpu/host.ts';
import { ToySession } from '../../src/experiments/toy/session.ts';
import { batchSession, ToyBatchTrainer, type RunStepMetrics } from '../../src/experiments/sweep/batchTrainer.ts';
import { Gpt2Session, splitTokens, type Gpt2StepMetrics } from '../../src/experiments/gpt2/session.ts';
import { patternStream, tinyRun, tinyWeights } from '../gpt2/fixture.ts';

export type Golden = Record<string, { rows: number[][]; tensors: number[][] }>;

/** float32 bit patterns of a list of numbers (NaN for absent values). */
export const bits = (xs: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(xs).buffer));

export const TOY_CONFIGS: Record<string, ToyConfig> = {
  'toy.fullBatch.initA': { ...defaultToyConfig(), n: 40, d: 6, rank: 3, alpha: 3, nTrain: 50, nTest: 17, steps: 24, testEvery: 5, eta: 3e-3, lambda: 4, seed: 7 },
  'toy.miniBatch.initB': { ...defaultToyConfig(), n: 37, d: 5, rank: 2, alpha: 8, rslora: true, activation: 'gelu', nTrain: 64, nTest: 9, batch: 16, steps: 21, testEvery: 4, eta: 1e-2, lambda: 2, wd: 0.01, init: 'B', initDist: 'uniform', seed: 3 },
};

const toyRow = (r: { step: number; loss: number; zA: number; zB: number; normA: number; normB: number; normSBA: number; testLoss?: number }) =>
  bits([r.step, r.loss, r.zA, r.zB, r.normA, r.normB, r.normSBA, r.testLoss ?? NaN]);

export async function collectToy(host: GpuHost, config: ToyConfig): Promise<{ rows: number[][]; tensors: number[][] }> {
  const session = await ToySession.create(host, config);
  const rows: number[][] = [];
  session.subscribe({ onMetrics: (r) => rows.push(...r.map(toyRow)) });
  const end = await session.runToEnd();
  if (end.status !== 'done') throw new Error(`toy run ended ${end.status}`);
  const { A, B } = await session.trainer.readAdapter();
  await session.dispose();
  return { rows, tensors: [bits(A), bits(B)] };
}

export const BATCH_CONFIG: ToyConfig = { ...defaultToyConfig(), n: 33, d: 4, rank: 2, alpha: 2, nTrain: 40, nTest: 11, batch: 8, steps: 12, testEvery: 3, activation: 'tanh', seed: 5 };
export const BATCH_RUNS = [
  { init: 'A' as const, initDist: 'gaussian' as const, eta: 1e-2, lambda: 8, wd: 0 },
  { init: 'B' as const, initDist: 'gaussian' as const, eta: 3e-3, lambda: 1, wd: 0.05 },
  { init: 'A' as const, initDist: 'uniform' as const, eta: 40, lambda: 16, wd: 0 }, // diverges
];

export async function collectBatch(host: GpuHost): Promise<Golden> {
  const perRun: RunStepMetrics[][] = BATCH_RUNS.map(() => []);
  const trainer = await ToyBatchTrainer.create(await host.context(), BATCH_CONFIG, BATCH_RUNS, { readEvery: 4 });
  const session = batchSession(trainer, host);
  session.subscribe({ onMetrics: (rows) => rows.forEach((row) => row.runs.forEach((r, i) => perRun[i].push(r))) });
  await session.runToEnd();
  const adapters = await trainer.readAdapters();
  await session.dispose();
  const out: Golden = {};
  BATCH_RUNS.forEach((_, i) => {
    out[`batch.run${i}`] = { rows: perRun[i].map((r) => [...toyRow(r), r.alive ? 1 : 0]), tensors: [bits(adapters[i].A), bits(adapters[i].B)] };
  });
  return out;
}

export async function collectGpt2(host: GpuHost): Promise<{ rows: number[][]; tensors: number[][] }> {
  const w = tinyWeights();
  const run = tinyRun({ steps: 6, evalEvery: 3, eta: 1e-2, lambda: 4, seed: 2 });
  const session = await Gpt2Session.create(host, w, run, splitTokens(patternStream(w.config.vocab_size, 600), 0.25));
  const rows: number[][] = [];
  const row = (r: Gpt2StepMetrics) => bits([r.step, r.loss, r.evalLoss ?? NaN, ...r.zA, ...r.zB, ...r.normA, ...r.normB, ...r.normSBA]);
  session.subscribe({ onMetrics: (r) => rows.push(...r.map(row)) });
  const end = await session.runToEnd();
  if (end.status !== 'done') throw new Error(`gpt2 run ended ${end.status}`);
  const adapters = await session.readAdapters();
  await session.dispose();
  return { rows, tensors: adapters.flatMap((a) => [bits(a.A), bits(a.B)]) };
}

export async function collectAll(host: GpuHost): Promise<Golden> {
  const out: Golden = {};
  for (const [name, c] of Object.entries(TOY_CONFIGS)) out[name] = await collectToy(host, c);
  Object.assign(out, await collectBatch(host));
  out['gpt2.tiny'] = await collectGpt2(host);
  return out;
}
