// Shared helpers for the toy-experiment tests: run the GPU trainer and collect its metrics.
import { defaultToyConfig, type ToyConfig } from '../../src/experiments/toy/config.ts';
import type { StepMetrics } from '../../src/experiments/toy/metrics.ts';
import { ToySession } from '../../src/experiments/toy/session.ts';
import { batchSession, ToyBatchTrainer, type BatchRun, type RunStepMetrics, type ToyBatchOptions } from '../../src/experiments/sweep/batchTrainer.ts';
import type { ToyTensors } from '../../src/experiments/toy/data.ts';
import { testHost } from '../gpu.ts';
import type { RefConfig, RefTensors } from '../reference/toyReference.ts';

/** A small configuration with awkward sizes (nothing a multiple of a tile). */
export function smallConfig(over: Partial<ToyConfig> = {}): ToyConfig {
  return { ...defaultToyConfig(), n: 37, d: 5, rank: 3, alpha: 3, nTrain: 23, nTest: 7, teacherRank: 2, steps: 10, testEvery: 5, ...over };
}

export async function runGpu(config: ToyConfig, tensors?: ToyTensors): Promise<{ rows: StepMetrics[]; A: Float32Array; B: Float32Array; divergedAt?: number; tensors: ToyTensors }> {
  const session = await ToySession.create(testHost(), config, { tensors });
  const rows: StepMetrics[] = [];
  session.subscribe({ onMetrics: (r) => rows.push(...r) });
  const end = await session.runToEnd();
  if (end.status === 'error') throw new Error(end.message);
  const { A, B } = await session.trainer.readAdapter();
  const data = session.trainer.data;
  await session.dispose();
  return { rows, A, B, divergedAt: end.divergedAt, tensors: data };
}

export function refTensors(t: ToyTensors): RefTensors {
  return { W_in: t.W_in, W0: t.W0, W_out: t.W_out, A: t.A, B: t.B, X_train: t.X_train, Y_train: t.Y_train!, n: t.n, d: t.d, N: t.X_train.length / t.d };
}

export function refConfig(c: ToyConfig): RefConfig {
  return { activation: c.activation, rank: c.rank, alpha: c.alpha, rslora: c.rslora, eta: c.eta, lambda: c.lambda, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weight_decay: c.wd, steps: c.steps };
}

/** |got - want| <= tol * max(|want|, floor) */
export function close(got: number, want: number, tol: number, floor: number): boolean {
  return Math.abs(got - want) <= tol * Math.max(Math.abs(want), floor);
}

/** Trains one batch of runs to the end; every run's rows, and its final A and B. */
export async function trainBatch(config: ToyConfig, runs: BatchRun[], opts: ToyBatchOptions = {}): Promise<{ rows: RunStepMetrics[][]; adapters: Array<{ A: Float32Array; B: Float32Array }> }> {
  const host = testHost();
  const trainer = await ToyBatchTrainer.create(await host.context(), config, runs, opts);
  const session = batchSession(trainer, host);
  const rows: RunStepMetrics[][] = runs.map(() => []);
  session.subscribe({ onMetrics: (batch) => batch.forEach((row) => row.runs.forEach((r, b) => rows[b].push(r))) });
  const end = await session.runToEnd();
  if (end.status === 'error' || end.status === 'lost') throw new Error(end.message);
  const adapters = await trainer.readAdapters();
  await session.dispose();
  return { rows, adapters };
}
