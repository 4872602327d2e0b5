// `cli sweep`: run a sweep (E3-E6) and print its SweepResult as JSON (or its runs as CSV); optionally
// write the figures of the playground's views as PNG files.
//
//   npm run --silent cli -- sweep --kind lr-width --init A,B --n 64,128,256 --eta 1e-4:1e-1:9 --steps 200 --json
//   npm run --silent cli -- sweep --preset e3 --n 128,256 --csv
//   npm run --silent cli -- sweep --spec sweep.json --out result.json --png docs/figures   (--out: a result bundle)
//   npm run --silent cli -- sweep --link 'sweep=1&kind=width-scaling&x.n=128,256&...'
//   npm run --silent cli -- sweep --from result.json --png docs/figures     (re-plot, no training; a bundle or a SweepResult)
//
// Axis flags take a comma list (a,b,c) or a log range (from:to:count); seeds (--seed or --seeds) a list
// or a range 1..5. Flags named after an axis the kind does not sweep (e.g. --eta for width-scaling) are
// ordinary settings, like every other experiment flag (--steps, --n-train, ...). --metric chooses what
// the heatmaps and optima rank by (final-train, final-test, best-train, best-test).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateSweep, describeFits, parseSweepResult, sweepToCsv, type SweepMetric, type SweepResult } from '../experiments/sweep/aggregate.ts';
import { sweepFigures } from '../experiments/sweep/figures.ts';
import { runSweep } from '../experiments/sweep/runner.ts';
import { AXIS_NAMES, decodeSweepLink, encodeSweepLink, gridPoints, KIND_AXES, MAX_SWEEP_RUNS, parseAxisText, pointConfig, SWEEP_KINDS, SWEEP_PRESETS, validateSweepSpec, type AxisName, type ResolvedSweep, type SweepKind } from '../experiments/sweep/spec.ts';
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import { checkFits } from '../experiments/toy/plan.ts';
import type { Bundle } from '../results/bundle.ts';
import { newRecordId, RECORD_VERSION, type SweepRecord } from '../results/records.ts';
import { checkSweep } from '../results/validate.ts';
import { quote } from '../experiments/untrusted.ts';
import { numberOption, parseArgs, textOption, UsageError, type OptionSpecs } from './args.ts';
import { looksLikeBundle, readBundleBytes, readFileBytes, writeBundleFile } from './bundleFile.ts';
import { assertNoGpuErrors, openGpu, refuse } from './gpu.ts';
import { tolerateUncaught } from './errors.ts';
import { keepElsewhere, makeOutputDir, readJsonFile, writeOutput } from './paths.ts';

/** --metric's words for the summary fields heatmaps and optima rank by. */
const METRIC_FLAG: Record<string, SweepMetric> = { 'final-train': 'finalLoss', 'final-test': 'finalTestLoss', 'best-train': 'bestLoss', 'best-test': 'bestTestLoss' };

const SWEEP_FLAGS: OptionSpecs = {
  kind: { kind: 'enum', options: SWEEP_KINDS },
  preset: { kind: 'enum', options: Object.keys(SWEEP_PRESETS) },
  spec: { kind: 'file' },
  link: false,
  from: { kind: 'file' },
  json: true,
  csv: true,
  out: { kind: 'out-file' },
  png: { kind: 'out-dir' },
  engine: { kind: 'enum', options: ['batched', 'sequential'] },
  'max-batch': { kind: 'int', min: 1, max: MAX_SWEEP_RUNS },
  threshold: { kind: 'number', min: Number.MIN_VALUE, max: 1 },
  curves: true,
  'no-curves': true,
  quiet: true,
  'print-link': true,
  'memory-budget-mib': false,
  metric: { kind: 'enum', options: Object.keys(METRIC_FLAG) },
};
/** What --from (re-plot or re-print a saved result) accepts: output flags and the metric. */
const FROM_FLAGS = ['from', 'json', 'csv', 'png', 'out', 'quiet', 'metric'];

/** Build the (unvalidated) spec from the flags: a starting point (preset, file, link or kind), then overrides. */
export function specFromArgs(argv: string[]): { spec: Record<string, unknown>; options: Map<string, string | true> } {
  // First pass: the flags that decide the starting point, so we know which flags are axes.
  const value = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === `--${name}`) return argv[i + 1];
      if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
    }
    return undefined;
  };
  const starts = ['preset', 'spec', 'link'].filter((k) => value(k) !== undefined);
  if (starts.length > 1) throw new UsageError(`give at most one of --${starts.join(', --')}`);
  let spec: Record<string, unknown>;
  const preset = value('preset');
  const file = value('spec');
  const link = value('link');
  if (preset !== undefined) {
    if (!Object.hasOwn(SWEEP_PRESETS, preset)) throw new UsageError(`--preset must be one of ${Object.keys(SWEEP_PRESETS).join(', ')} (got ${quote(preset, 16)})`);
    spec = structuredClone(SWEEP_PRESETS[preset as keyof typeof SWEEP_PRESETS]) as unknown as Record<string, unknown>;
  } else if (file !== undefined) {
    const raw = readJsonFile('--spec', file);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`--spec ${quote(file, 80)}: a sweep spec must be a JSON object`);
    // Only the spec's own fields, checked by validateSweepSpec below (the file's own "base" object is copied, never shared).
    spec = { ...(raw as Record<string, unknown>) };
  } else if (link !== undefined) {
    const r = decodeSweepLink(link);
    if (!r.ok) throw new UsageError(`--link: ${r.error}`);
    spec = structuredClone(r.value.spec) as unknown as Record<string, unknown>;
    spec.base = { ...r.value.base };
    const axes = spec.axes as Record<string, unknown>;
    for (const a of [...KIND_AXES[r.value.kind].required, ...KIND_AXES[r.value.kind].optional]) {
      delete (spec.base as Record<string, unknown>)[a];
      axes[a] ??= r.value.axes[a]; // an axis the link gave as a setting (an older link's seed)
    }
  } else {
    spec = { version: 1, axes: {} };
  }
  const kind = value('kind');
  if (kind !== undefined) {
    if (!(SWEEP_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${SWEEP_KINDS.join(', ')} (got ${quote(kind, 16)})`);
    if (spec.kind !== undefined && spec.kind !== kind) throw new UsageError(`--kind ${kind} contradicts the ${quote(String(spec.kind), 16)} sweep given by --${starts[0]}`);
    spec.kind = kind;
  }
  if (spec.kind === undefined) throw new UsageError(`sweep needs --kind (${SWEEP_KINDS.join('|')}), --preset, --spec FILE or --link`);
  const k = spec.kind as SweepKind;
  if (!(SWEEP_KINDS as readonly string[]).includes(k)) throw new UsageError(`kind must be one of ${SWEEP_KINDS.join(', ')} (got ${quote(String(k), 16)})`);
  const axisFlags = [...KIND_AXES[k].required, ...KIND_AXES[k].optional] as AxisName[];

  // Second pass: pull out the axis flags; the rest are sweep options or experiment settings.
  const rest: string[] = [];
  const axes = typeof spec.axes === 'object' && spec.axes !== null && !Array.isArray(spec.axes) ? { ...(spec.axes as Record<string, unknown>) } : spec.axes;
  const givenAxes = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]);
    const name = m?.[1] === 'seeds' ? 'seed' : m?.[1];
    if (m && name && (axisFlags as string[]).includes(name)) {
      if (givenAxes.has(name)) throw new UsageError(`--${m[1]} is given twice${m[1] !== name ? ` (or with --${name})` : ''}`);
      givenAxes.add(name);
      const v = m[2] ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`--${m[1]} needs a value`);
      const r = parseAxisText(name as AxisName, v);
      if (!r.ok) throw new UsageError(`--${m[1]}: ${r.error}`);
      if (typeof axes !== 'object' || axes === null || Array.isArray(axes)) throw new UsageError('the spec\'s axes must be an object');
      (axes as Record<string, unknown>)[name] = r.value;
    } else {
      rest.push(argv[i]);
    }
  }
  spec.axes = axes;
  const args = parseArgs(rest, SWEEP_FLAGS);
  if (args.given.size) {
    const base = typeof spec.base === 'object' && spec.base !== null && !Array.isArray(spec.base) ? { ...(spec.base as Record<string, unknown>) } : spec.base === undefined ? {} : spec.base;
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UsageError('the spec\'s base must be an object of settings');
    for (const key of args.given) (base as Record<string, unknown>)[key] = args.config[key];
    spec.base = base;
  }
  const thr = numberOption(args.options, 'threshold');
  if (thr !== undefined) spec.threshold = thr;
  if (args.options.has('curves') && args.options.has('no-curves')) throw new UsageError('give --curves or --no-curves, not both');
  if (args.options.has('curves')) spec.curves = true;
  if (args.options.has('no-curves')) spec.curves = false;
  return { spec, options: args.options };
}

/** Chromium for --png: checked before the sweep, not after it. */
function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new UsageError(`--png needs Chromium to draw the figures: ${quote(path, 80)} does not exist (install chromium or set CHROMIUM_PATH)`);
  return path;
}

/** Every grid point checked against the adapter's limits and the budget: refused with the first that does not fit. */
function checkSweepFits(s: ResolvedSweep, ctx: Parameters<typeof checkFits>[0], budget: number): void {
  for (const p of gridPoints(s)) {
    const problem = checkFits(ctx, pointConfig(s, p), budget);
    const at = s.axes.n.length > 1 ? ` (at n = ${p.n})` : '';
    refuse(problem && problem + at, 'this sweep', 'lower the widths, --n-train, --n-test or --batch');
  }
}

export async function sweepCommand(argv: string[]): Promise<string> {
  const { spec: rawSpec, options } = fromArgsOrSaved(argv);
  if (options.has('json') && options.has('csv')) throw new UsageError('give --json or --csv, not both');
  const png = textOption(options, 'png');
  const chromium = png !== undefined ? chromiumPath() : undefined;
  const metricWord = textOption(options, 'metric');
  const metric = metricWord === undefined ? undefined : METRIC_FLAG[metricWord];
  let result: SweepResult;
  if (rawSpec === null) {
    result = await loadSweepResult(options.get('from') as string, metric);
  } else {
    const checked = validateSweepSpec(rawSpec);
    if (!checked.ok) throw new UsageError(checked.error);
    const resolved = checked.value;
    const engine = (textOption(options, 'engine') ?? 'batched') as 'batched' | 'sequential';
    const maxBatch = numberOption(options, 'max-batch');
    const gpu = await openGpu(options);
    checkSweepFits(resolved, gpu.ctx, gpu.budget);
    if (options.has('print-link')) process.stderr.write(`link: #${encodeSweepLink(resolved)}\n`);
    const quiet = options.has('quiet');
    const cpu0 = process.cpuUsage();
    result = await runSweep(gpu.host, resolved, {
      engine,
      maxBatch,
      memoryBudget: Math.min(gpu.budget, gpu.ctx.isSoftware ? 512 * 2 ** 20 : 2 * 2 ** 30),
      metric,
      onProgress: quiet ? undefined : (p) => process.stderr.write(`\r${p.runsDone}/${p.runsTotal} runs, ${p.seconds.toFixed(0)} s`),
    });
    if (!quiet) process.stderr.write('\n');
    const t = result.timing!;
    // CPU time of this process (SwiftShader's threads included): steadier than wall time on a shared machine.
    const cpu = process.cpuUsage(cpu0);
    t.cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // A run the GPU failed or lost is not a result: the partial result is kept aside, never written as if it succeeded.
    const failed = result.runs.filter((r) => r.status === 'error' || r.status === 'lost');
    const gpuError = gpu.host.errors[0];
    if (failed.length || gpuError) {
      const kept = keepElsewhere('sweep-partial.json', JSON.stringify(result));
      const why = gpuError ? gpuError.message : `${failed.length} of ${result.runs.length} runs ${failed[0].status === 'lost' ? 'were cut short by a lost GPU device' : 'failed'} (first: ${failed[0].error ?? failed[0].status})`;
      throw new Error(`${why.split('\n')[0]}; the partial result is in ${kept ?? '(nowhere: it could not be written)'}`);
    }
    assertNoGpuErrors(gpu.host);
    process.stderr.write(`${t.runs} runs in ${t.seconds.toFixed(1)} s (${t.cpuSeconds.toFixed(1)} CPU-s) on ${t.adapter} (${t.engine}, ${t.batches} batches): ${t.runsPerSecond.toFixed(3)} runs/s, ${t.runStepsPerSecond.toFixed(1)} run-steps/s\n`);
  }
  for (const line of describeFits(result)) process.stderr.write(line + '\n');
  const out = textOption(options, 'out');
  if (out !== undefined) process.stderr.write((await writeBundleFile(out, sweepBundle(result))) + '\n');
  const printed = options.has('csv') ? sweepToCsv(result) : JSON.stringify(result);
  if (png !== undefined) {
    let files: string[];
    try {
      files = await writeFigures(result, png, '', chromium);
    } catch (e) {
      // The result is printed (and in --out) even when the figures fail: re-plot later with --from.
      process.stdout.write(printed + '\n');
      const kept = out ?? keepElsewhere('sweep-result.json', JSON.stringify(result));
      throw new Error(`no figures written (${(e as Error).message.split('\n')[0]}); the result is in ${kept ?? 'the output above'}: re-plot with --from`);
    }
    process.stderr.write(`wrote ${files.join(', ')}\n`);
  }
  return printed;
}

function fromArgsOrSaved(argv: string[]): { spec: Record<string, unknown> | null; options: Map<string, string | true> } {
  const fromIdx = argv.findIndex((a) => a === '--from' || a.startsWith('--from='));
  if (fromIdx < 0) return specFromArgs(argv);
  // Re-plot / re-print a saved result: only output flags make sense.
  const args = parseArgs(argv, SWEEP_FLAGS);
  const bad = [...args.given].map((k) => `--${k}`).concat([...args.options.keys()].filter((k) => !FROM_FLAGS.includes(k)).map((k) => `--${k}`));
  if (bad.length) throw new UsageError(`--from re-uses a saved result; ${bad.join(', ')} would need a new run`);
  return { spec: null, options: args.options };
}

/** A sweep's result as a result bundle (its runs' summaries; the views are recomputed from them when read). */
export function sweepBundle(result: SweepResult): Bundle {
  const sweep: SweepRecord = {
    v: RECORD_VERSION, kind: 'sweep', id: newRecordId(), createdAt: Date.now(), engineVersion: ENGINE_VERSION, adapter: result.timing?.adapter ?? 'unknown adapter',
    status: 'done', spec: result.spec, runs: result.runs.filter((r) => r.status !== 'queued'), timing: result.timing ?? null,
  };
  return { kind: 'sweep', sweep, createdAt: new Date().toISOString(), title: `sweep ${result.kind}` };
}

/** A sweep result from a file: a result bundle (`--out`) or a SweepResult JSON (older --out files, findings). */
export async function loadSweepResult(path: string, metric?: SweepMetric): Promise<SweepResult> {
  const bytes = readFileBytes(path);
  if (!looksLikeBundle(bytes)) return loadResult(path, metric);
  const b = await readBundleBytes(path, bytes);
  if (b.kind !== 'sweep') throw new UsageError(`--from ${quote(path, 80)} holds ${b.kind}, not a sweep`);
  const { resolved, runs, timing } = checkSweep(b.sweep, 'sweep');
  const byIndex = new Map(runs.map((r) => [r.index, r]));
  return aggregateSweep(resolved, gridPoints(resolved).map((p) => byIndex.get(p.index)), timing ?? undefined, { metric });
}

/** A saved SweepResult, aggregated again from its runs (this version's views; `metric` if given, else its own). */
function loadResult(path: string, metric?: SweepMetric): SweepResult {
  const r = parseSweepResult(readJsonFile('--from', path), { metric });
  if (!r.ok) throw new UsageError(`--from ${quote(path, 80)}: ${r.error}`);
  return r.value;
}

/** Render the result's figures (SVG) to PNG with headless Chromium (playwright-core); returns the paths. */
export async function writeFigures(result: SweepResult, dir: string, prefix = '', executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'): Promise<string[]> {
  const figures = sweepFigures(result);
  makeOutputDir('--png', dir);
  const { chromium } = await import('playwright-core');
  let browser;
  try {
    // Static SVG: software rasterisation (no GPU process), which is also what keeps it light on SwiftShader machines.
    browser = await chromium.launch({ executablePath, headless: true, timeout: 120_000, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'] });
  } catch (e) {
    throw new Error(`PNG output needs Chromium (set CHROMIUM_PATH; tried ${executablePath}): ${(e as Error).message.split('\n')[0]}`);
  }
  const paths: string[] = [];
  // NOTE: playwright-core 1.65 with Debian's Chromium sometimes dispatches a protocol event about a
  // "debugger@..." object it never bound ("Cannot find object to ...", "Object with guid debugger@... was
  // not bound"), from a timer, while a page is open or after the browser has closed. It would kill the
  // process, figures half written. We never use the debugger: ignore exactly those, only while rendering.
  const untolerate = tolerateUncaught((e) => /debugger@|^Cannot find object to "/.test(e?.message ?? ''));
  try {
    const context = await browser.newContext({ deviceScaleFactor: 2 });
    const page = await context.newPage();
    for (const f of figures) {
      await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${f.svg}</body></html>`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
      const path = join(dir, `${prefix}${f.name}.png`);
      writeOutput('--png', path, await page.locator('svg').first().screenshot({ omitBackground: false, timeout: 120_000 }));
      paths.push(path);
    }
    await context.close();
  } finally {
    await browser.close();
    await new Promise((r) => setTimeout(r, 200));
    untolerate();
  }
  return paths;
}

export const SWEEP_SUMMARY = `run a sweep (--kind ${SWEEP_KINDS.join('|')} or --preset ${Object.keys(SWEEP_PRESETS).join('|')}; axes ${AXIS_NAMES.map((a) => `--${a}`).join(' ')} as a,b,c or from:to:count, --seeds 1,2,3 or 1..5); prints the SweepResult JSON (--csv: one row per run; --metric ${Object.keys(METRIC_FLAG).join('|')}; --out FILE: a result bundle, .gz to gzip; --png DIR, --from BUNDLE|RESULT.json, --engine batched|sequential)`;
