// `cli train`: one toy run, from a seed or from a tensor exchange file; prints JSON (or CSV); --out FILE
// also writes it as a result bundle (the page opens it by a drop; `cli show FILE` summarises it).
import { readFileSync } from 'node:fs';
import type { ToyConfig } from '../experiments/toy/config.ts';
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import { ToySession } from '../experiments/toy/session.ts';
import { fromExchange, type ToyTensors } from '../experiments/toy/data.ts';
import { nodeGpuHost } from '../gpu/node.ts';
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import type { Bundle } from '../results/bundle.ts';
import { newRecordId, RECORD_VERSION, toyColumns, type ToyRunRecord } from '../results/records.ts';
import { toySummary } from '../results/summary.ts';
import { parseArgs, UsageError } from './args.ts';
import { writeBundleFile } from './bundleFile.ts';

export function loadTensorFile(path: string, base: ToyConfig): { config: ToyConfig; tensors: ToyTensors } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  try {
    return fromExchange(json, base);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}

export interface TrainResult {
  steps: Array<StepMetrics>;
  final: { A: { shape: [number, number]; data: number[] }; B: { shape: [number, number]; data: number[] } };
  diverged: number | null;
  stepsPerSecond: number;
  adapter: string;
}

export async function trainOnce(config: ToyConfig, tensors?: ToyTensors): Promise<TrainResult> {
  const host = nodeGpuHost();
  const session = await ToySession.create(host, config, { tensors, readEvery: 64 });
  const steps: StepMetrics[] = [];
  session.subscribe({ onMetrics: (rows) => steps.push(...rows) });
  const t0 = performance.now();
  const end = await session.runToEnd();
  const seconds = (performance.now() - t0) / 1000;
  if (end.status === 'error' || end.status === 'lost') throw new Error(end.message ?? 'training failed');
  const { A, B } = await session.trainer.readAdapter();
  const { rank, nIn, nOut } = session.trainer.layer;
  await session.dispose();
  return {
    steps,
    final: { A: { shape: [rank, nIn], data: Array.from(A) }, B: { shape: [nOut, rank], data: Array.from(B) } },
    diverged: end.divergedAt ?? null,
    stepsPerSecond: steps.length / seconds,
    adapter: (await host.context()).adapterName,
  };
}

export async function trainCommand(argv: string[]): Promise<string> {
  const args = parseArgs(argv, { json: true, csv: true, tensors: false, out: false });
  let config = args.config;
  let tensors: ToyTensors | undefined;
  const file = args.options.get('tensors');
  const out = args.options.get('out');
  if (typeof out === 'string' && typeof file === 'string') throw new UsageError('--out writes a result bundle of a seeded run (reproducible from its settings); with --tensors the tensors come from a file the bundle would not carry');
  if (typeof file === 'string') {
    const loaded = loadTensorFile(file, config);
    // Flags given explicitly override the file's config (e.g. --steps), the tensors stay as given.
    config = { ...loaded.config, ...Object.fromEntries([...args.given].filter((k) => !['n', 'd', 'rank', 'nTrain', 'nTest'].includes(k)).map((k) => [k, args.config[k]])) };
    tensors = loaded.tensors;
  }
  const result = await trainOnce(config, tensors);
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
