// `cli train`: one toy run, from a seed or from a tensor exchange file; prints JSON (or CSV); --out FILE
// also writes it as a result bundle (the page opens it by a drop; `cli show FILE` summarises it).
import type { ToyConfig } from '../experiments/toy/config.ts';
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import { checkFits } from '../experiments/toy/plan.ts';
import { ToySession } from '../experiments/toy/session.ts';
import { fromExchange, type ToyTensors } from '../experiments/toy/data.ts';
import { quote } from '../experiments/untrusted.ts';
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import type { Bundle } from '../results/bundle.ts';
import { newRecordId, RECORD_VERSION, toyColumns, type ToyRunRecord } from '../results/records.ts';
import { toySummary } from '../results/summary.ts';
import type { GpuHost } from '../gpu/host.ts';
import { parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { writeBundleFile } from './bundleFile.ts';
import { assertNoGpuErrors, openGpu, refuse } from './gpu.ts';
import { readJsonFile } from './paths.ts';

const TRAIN_OPTIONS: OptionSpecs = { json: true, csv: true, tensors: { kind: 'file' }, 'memory-budget-mib': false, out: false };

/** Reads and validates a tensor exchange file (toy/data.ts fromExchange): any problem is the user's (exit 2). */
export function loadTensorFile(path: string, base: ToyConfig, flag = '--tensors'): { config: ToyConfig; tensors: ToyTensors } {
  const json = readJsonFile(flag, path);
  try {
    return fromExchange(json, base);
  } catch (e) {
    throw new UsageError(`${flag} ${quote(path, 80)}: ${(e as Error).message}`);
  }
}

export interface TrainResult {
  steps: Array<StepMetrics>;
  final: { A: { shape: [number, number]; data: number[] }; B: { shape: [number, number]; data: number[] } };
  diverged: number | null;
  stepsPerSecond: number;
  adapter: string;
}

export async function trainOnce(host: GpuHost, config: ToyConfig, tensors?: ToyTensors): Promise<TrainResult> {
  const session = await ToySession.create(host, config, { tensors, readEvery: 64 });
  const steps: StepMetrics[] = [];
  session.subscribe({ onMetrics: (rows) => steps.push(...rows) });
  const t0 = performance.now();
  const end = await session.runToEnd();
  const seconds = (performance.now() - t0) / 1000;
  if (end.status === 'error' || end.status === 'lost') {
    await session.dispose();
    throw new Error(end.message ?? 'training failed');
  }
  const { A, B } = await session.trainer.readAdapter();
  const { rank, nIn, nOut } = session.trainer.layer;
  await session.dispose();
  assertNoGpuErrors(host);
  return {
    steps,
    final: { A: { shape: [rank, nIn], data: Array.from(A) }, B: { shape: [nOut, rank], data: Array.from(B) } },
    diverged: end.divergedAt ?? null,
    stepsPerSecond: steps.length / seconds,
    adapter: (await host.context()).adapterName,
  };
}

export async function trainCommand(argv: string[]): Promise<string> {
  const args = parseArgs(argv, TRAIN_OPTIONS);
  if (args.options.has('json') && args.options.has('csv')) throw new UsageError('give --json or --csv, not both');
  let config = args.config;
  let tensors: ToyTensors | undefined;
  const file = args.options.get('tensors');
  const out = args.options.get('out');
  if (typeof out === 'string' && typeof file === 'string') throw new UsageError('--out writes a result bundle of a seeded run (reproducible from its settings); with --tensors the tensors come from a file the bundle would not carry');
  if (typeof file === 'string') {
    const loaded = loadTensorFile(file, config);
    // Flags given explicitly override the file's config (e.g. --steps), the tensors stay as given.
    const shape = ['n', 'd', 'rank', 'nTrain', 'nTest'];
    const clash = [...args.given].filter((k) => shape.includes(k));
    if (clash.length) throw new UsageError(`--${clash[0].replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} cannot change the shape of the tensors in --tensors`);
    config = { ...loaded.config, ...Object.fromEntries([...args.given].map((k) => [k, args.config[k]])) };
    if (config.batch > config.nTrain) throw new UsageError(`--batch (${config.batch}) must not exceed the file's ${config.nTrain} training examples`);
    tensors = loaded.tensors;
  }
  const gpu = await openGpu(args.options);
  refuse(checkFits(gpu.ctx, config, gpu.budget), 'this run', 'lower --n, --n-train, --n-test or --batch');
  const result = await trainOnce(gpu.host, config, tensors);
  process.stderr.write(`${result.steps.length} steps on ${result.adapter}: ${result.stepsPerSecond.toFixed(1)} steps/s\n`);
  if (typeof out === 'string') process.stderr.write((await writeBundleFile(out, trainBundle(config, result))) + '\n');
  if (args.options.has('csv')) return toCsv(result.steps);
  const { stepsPerSecond: _s, adapter: _a, ...json } = result;
  return JSON.stringify(json);
}

/** A trained run as a result bundle of one toy run. */
export function trainBundle(config: ToyConfig, r: TrainResult): Bundle {
  const exact = (t: { data: number[] }) => Float32Array.from(t.data); // the readback's float32 values, unchanged
  const run: ToyRunRecord = {
    v: RECORD_VERSION, kind: 'toy', id: newRecordId(), createdAt: Date.now(), engineVersion: ENGINE_VERSION, adapter: r.adapter,
    status: r.diverged === null ? 'done' : 'diverged', config, divergedAt: r.diverged, trainMs: r.stepsPerSecond > 0 ? (1000 * r.steps.length) / r.stepsPerSecond : 0,
    trace: toyColumns(r.steps), final: { A: exact(r.final.A), B: exact(r.final.B) },
  };
  return { kind: 'toy-runs', runs: [run], createdAt: new Date().toISOString(), title: toySummary(run) };
}

export function toCsv(rows: StepMetrics[]): string {
  const cols = ['step', 'loss', 'zA', 'zB', 'normA', 'normB', 'normSBA', 'testLoss'] as const;
  return [cols.join(','), ...rows.map((r) => cols.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','))].join('\n');
}
