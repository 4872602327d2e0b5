// Whole toy runs against the float64 reference (lora-math.md section 5, E0), for the experiment tests and
// the self-check: the per-run engine (toy/trainer.ts), the batched engine (sweep/batchTrainer.ts) with each
// of its forward/U kernels, and the two engines against each other.
//
// Tolerance: fp32 with reductions of at most a few hundred terms: 1e-3 relative is the spec's bound for
// every step's loss, ||Z_A||, ||Z_B||, ||s B A|| and the final A, B (with floors where a metric starts at 0).
import type { GpuHost } from '../gpu/host.ts';
import { defaultToyConfig, type ToyConfig } from '../experiments/toy/config.ts';
import { drawToyTensors, type ToyTensors } from '../experiments/toy/data.ts';
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import { ToySession } from '../experiments/toy/session.ts';
import { withTeacherTargets } from '../experiments/toy/trainer.ts';
import { batchSession, ToyBatchTrainer, type BatchRun, type RowsKernel, type RunStepMetrics, type ToyBatchOptions } from '../experiments/sweep/batchTrainer.ts';
import { referenceTrain, type RefConfig, type RefTensors } from '../reference/toyReference.ts';
import { Compare, type CheckResult } from './compare.ts';

/** A small configuration with awkward sizes (nothing a multiple of a tile). */
export function smallConfig(over: Partial<ToyConfig> = {}): ToyConfig {
  return { ...defaultToyConfig(), n: 37, d: 5, rank: 3, alpha: 3, nTrain: 23, nTest: 7, teacherRank: 2, steps: 10, testEvery: 5, ...over };
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

/** One run in the per-run engine to its end: every step's metrics and the final A and B. */
export async function trainSingle(host: GpuHost, config: ToyConfig, tensors?: ToyTensors): Promise<{ rows: StepMetrics[]; A: Float32Array; B: Float32Array; divergedAt?: number; tensors: ToyTensors }> {
  const session = await ToySession.create(host, config, { tensors });
  const rows: StepMetrics[] = [];
  session.subscribe({ onMetrics: (r) => rows.push(...r) });
  try {
    const end = await session.runToEnd();
    if (end.status === 'error' || end.status === 'lost') throw new Error(end.message);
    const { A, B } = await session.trainer.readAdapter();
    return { rows, A, B, divergedAt: end.divergedAt, tensors: session.trainer.data };
  } finally {
    await session.dispose();
  }
}

/** One batch of runs to its end: every run's rows, and its final A and B. */
export async function trainBatch(host: GpuHost, config: ToyConfig, runs: BatchRun[], opts: ToyBatchOptions = {}): Promise<{ rows: RunStepMetrics[][]; adapters: Array<{ A: Float32Array; B: Float32Array }> }> {
  const trainer = await ToyBatchTrainer.create(await host.context(), config, runs, opts);
  const session = batchSession(trainer, host);
  const rows: RunStepMetrics[][] = runs.map(() => []);
  session.subscribe({ onMetrics: (batch) => batch.forEach((row) => row.runs.forEach((r, b) => rows[b].push(r))) });
  try {
    const end = await session.runToEnd();
    if (end.status === 'error' || end.status === 'lost') throw new Error(end.message);
    return { rows, adapters: await trainer.readAdapters() };
  } finally {
    await session.dispose();
  }
}

type Trace = ReadonlyArray<Pick<StepMetrics, 'step' | 'loss' | 'zA' | 'zB' | 'normSBA'>>;

/** Every step's loss, ||Z_A||, ||Z_B||, ||s B A|| of `got` against `want` within 1e-3, and the final adapters. */
function compareRun(cmp: Compare, what: string, got: Trace, want: Trace, final: { A: ArrayLike<number>; B: ArrayLike<number> }, wantFinal: { A: ArrayLike<number>; B: ArrayLike<number> }): Compare {
  cmp.require(`${what}: steps ${got.map((r) => r.step).join(',')}, want ${want.map((r) => r.step).join(',')}`, got.length === want.length && got.every((r, i) => r.step === want[i].step));
  want.forEach((w, i) => {
    const g = got[i];
    if (!g) return;
    cmp.close(`${what} loss at step ${w.step}`, g.loss, w.loss, 1e-3, 1e-12);
    cmp.close(`${what} ||Z_A|| at step ${w.step}`, g.zA, w.zA, 1e-3, 1e-6);
    cmp.close(`${what} ||Z_B|| at step ${w.step}`, g.zB, w.zB, 1e-3, 1e-6);
    cmp.close(`${what} ||sBA|| at step ${w.step}`, g.normSBA, w.normSBA, 1e-3, 1e-6);
  });
  return cmp.tensor(`${what} final A`, final.A, wantFinal.A, 1e-3).tensor(`${what} final B`, final.B, wantFinal.B, 1e-3);
}

/** E0: the per-run engine from `tensors` (drawn from the seed when not given) against the float64 reference. */
export async function checkToyParity(host: GpuHost, config: ToyConfig, tensors?: ToyTensors): Promise<CheckResult> {
  const data = tensors ?? (await withTeacherTargets(await host.context(), config, drawToyTensors(config)));
  const gpu = await trainSingle(host, config, data);
  const ref = referenceTrain(refTensors(data), refConfig(config));
  return compareRun(new Compare(), `Init[${config.init}]`, gpu.rows, ref.steps, gpu, ref).result();
}

/** The batched engine with the given forward/U kernel: Init[A] and Init[B] in one batch, each against the reference. */
export async function checkBatchParity(host: GpuHost, config: ToyConfig, rowsKernel: RowsKernel): Promise<CheckResult> {
  const inits = ['A', 'B'] as const;
  const runs = inits.map((init) => ({ init, initDist: config.initDist, eta: config.eta, lambda: config.lambda, wd: config.wd }));
  const { rows, adapters } = await trainBatch(host, config, runs, { rowsKernel, readEvery: 3 });
  const ctx = await host.context();
  const cmp = new Compare();
  for (const [b, init] of inits.entries()) {
    const c = { ...config, init };
    const ref = referenceTrain(refTensors(await withTeacherTargets(ctx, c, drawToyTensors(c))), refConfig(c));
    compareRun(cmp, `Init[${init}]`, rows[b], ref.steps, adapters[b], ref);
  }
  return cmp.result();
}

/**
 * The batched engine against the per-run engine on the same runs (per-run init, lr, lambda, weight decay;
 * test loss every few steps): every step's metrics, the test losses and the final adapters.
 */
export async function checkBatchVsSingle(host: GpuHost, config: ToyConfig, runs: BatchRun[]): Promise<CheckResult> {
  const batch = await trainBatch(host, config, runs, { readEvery: 4, splitsPerRun: true });
  const cmp = new Compare();
  for (const [b, run] of runs.entries()) {
    const single = await trainSingle(host, { ...config, ...run });
    const what = `run ${b} (Init[${run.init}], eta ${run.eta})`;
    compareRun(cmp, what, batch.rows[b], single.rows, batch.adapters[b], single);
    const tests = single.rows.filter((r) => r.testLoss !== undefined);
    cmp.require(`${what}: test loss at steps ${tests.map((r) => r.step).join(',')} in both engines`, tests.length > 0 && tests.every((r) => batch.rows[b][r.step - 1]?.testLoss !== undefined));
    for (const r of tests) cmp.close(`${what} test loss at step ${r.step}`, batch.rows[b][r.step - 1]?.testLoss ?? NaN, r.testLoss!, 1e-3, 1e-12);
  }
  return cmp.result();
}
