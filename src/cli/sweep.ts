// `cli sweep`: run a sweep (E3-E6) and print its SweepResult as JSON (or its runs as CSV); optionally
// write the figures of the playground's views as PNG files.
//
//   npm run --silent cli -- sweep --kind lr-width --init A,B --n 64,128,256 --eta 1e-4:1e-1:9 --steps 200 --json
//   npm run --silent cli -- sweep --preset e3 --n 128,256 --csv
//   npm run --silent cli -- sweep --spec sweep.json --out result.json --png docs/figures
//   npm run --silent cli -- sweep --link 'sweep=1&kind=width-scaling&x.n=128,256&...'
//   npm run --silent cli -- sweep --from result.json --png docs/figures     (re-plot, no training)
//
// Axis flags take a comma list (a,b,c) or a log range (from:to:count); seeds (--seed or --seeds) a list
// or a range 1..5. Flags named after an axis the kind does not sweep (e.g. --eta for width-scaling) are
// ordinary settings, like every other experiment flag (--steps, --n-train, ...). --metric chooses what
// the heatmaps and optima rank by (final-train, final-test, best-train, best-test).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFits, reaggregate, sweepToCsv, type SweepMetric, type SweepResult } from '../experiments/sweep/aggregate.ts';
import { sweepFigures } from '../experiments/sweep/figures.ts';
import { runSweep, type SweepEngine } from '../experiments/sweep/runner.ts';
import { AXIS_NAMES, decodeSweepLink, encodeSweepLink, gridSize, KIND_AXES, parseAxisText, SWEEP_KINDS, SWEEP_PRESETS, validateSweepSpec, type AxisName, type SweepKind, type SweepSpec } from '../experiments/sweep/spec.ts';
import { nodeGpuHost } from '../gpu/node.ts';
import { parseArgs, UsageError } from './args.ts';

const SWEEP_FLAGS: Record<string, boolean> = {
  kind: false, preset: false, spec: false, link: false, from: false, json: true, csv: true, out: false, png: false,
  engine: false, 'max-batch': false, threshold: false, curves: true, 'no-curves': true, quiet: true, 'print-link': true, metric: false,
};

/** --metric's words for the summary fields heatmaps and optima rank by. */
const METRIC_FLAG: Record<string, SweepMetric> = { 'final-train': 'finalLoss', 'final-test': 'finalTestLoss', 'best-train': 'bestLoss', 'best-test': 'bestTestLoss' };

function metricOption(options: Map<string, string | true>): SweepMetric | undefined {
  const m = options.get('metric');
  if (m === undefined) return undefined;
  if (typeof m !== 'string' || !(m in METRIC_FLAG)) throw new UsageError(`--metric must be one of ${Object.keys(METRIC_FLAG).join(', ')}`);
  return METRIC_FLAG[m];
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

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
    if (!(preset in SWEEP_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(SWEEP_PRESETS).join(', ')}`);
    spec = structuredClone(SWEEP_PRESETS[preset as keyof typeof SWEEP_PRESETS]) as unknown as Record<string, unknown>;
  } else if (file !== undefined) {
    const raw = readJson(file);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${file}: a sweep spec must be a JSON object`);
    spec = raw as Record<string, unknown>;
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
    if (!(SWEEP_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${SWEEP_KINDS.join(', ')}`);
    if (spec.kind !== undefined && spec.kind !== kind) throw new UsageError(`--kind ${kind} contradicts the ${String(spec.kind)} sweep given by --${starts[0]}`);
    spec.kind = kind;
  }
  if (spec.kind === undefined) throw new UsageError(`sweep needs --kind (${SWEEP_KINDS.join('|')}), --preset, --spec FILE or --link`);
  const k = spec.kind as SweepKind;
  if (!(SWEEP_KINDS as readonly string[]).includes(k)) throw new UsageError(`kind must be one of ${SWEEP_KINDS.join(', ')}`);
  const axisFlags = [...KIND_AXES[k].required, ...KIND_AXES[k].optional] as AxisName[];

  // Second pass: pull out the axis flags; the rest are sweep options or experiment settings.
  const rest: string[] = [];
  const axes = { ...((spec.axes as Record<string, unknown>) ?? {}) };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]);
    const name = m?.[1] === 'seeds' ? 'seed' : m?.[1];
    if (m && name && (axisFlags as string[]).includes(name)) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${m[1]} needs a value`);
      const r = parseAxisText(name as AxisName, v);
      if (!r.ok) throw new UsageError(`--${m[1]}: ${r.error}`);
      axes[name] = r.value;
    } else {
      rest.push(argv[i]);
    }
  }
  spec.axes = axes;
  const args = parseArgs(rest, SWEEP_FLAGS);
  if (args.given.size) {
    const base = { ...((spec.base as Record<string, unknown>) ?? {}) };
    for (const key of args.given) base[key] = args.config[key];
    spec.base = base;
  }
  const thr = args.options.get('threshold');
  if (typeof thr === 'string') spec.threshold = Number(thr);
  if (args.options.has('curves')) spec.curves = true;
  if (args.options.has('no-curves')) spec.curves = false;
  return { spec, options: args.options };
}

export async function sweepCommand(argv: string[]): Promise<string> {
  const { spec: rawSpec, options } = fromArgsOrSaved(argv);
  const metric = metricOption(options);
  let result: SweepResult;
  if (rawSpec === null) {
    result = loadResult(options.get('from') as string, metric);
  } else {
    const checked = validateSweepSpec(rawSpec);
    if (!checked.ok) throw new UsageError(checked.error);
    const resolved = checked.value;
    const engine = (options.get('engine') ?? 'batched') as SweepEngine;
    if (engine !== 'batched' && engine !== 'sequential') throw new UsageError('--engine must be batched or sequential');
    const mb = options.get('max-batch');
    let maxBatch: number | undefined;
    if (mb !== undefined) {
      maxBatch = Number(mb);
      if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new UsageError('--max-batch must be a whole number of at least 1');
    }
    if (options.has('print-link')) process.stderr.write(`link: #${encodeSweepLink(resolved)}\n`);
    const quiet = options.has('quiet');
    const cpu0 = process.cpuUsage();
    result = await runSweep(nodeGpuHost(), resolved, {
      engine,
      maxBatch,
      metric,
      onProgress: quiet ? undefined : (p) => process.stderr.write(`\r${p.runsDone}/${p.runsTotal} runs, ${p.seconds.toFixed(0)} s`),
    });
    if (!quiet) process.stderr.write('\n');
    const t = result.timing!;
    // CPU time of this process (SwiftShader's threads included): steadier than wall time on a shared machine.
    const cpu = process.cpuUsage(cpu0);
    t.cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.stderr.write(`${t.runs} runs in ${t.seconds.toFixed(1)} s (${t.cpuSeconds.toFixed(1)} CPU-s) on ${t.adapter} (${t.engine}, ${t.batches} batches): ${t.runsPerSecond.toFixed(3)} runs/s, ${t.runStepsPerSecond.toFixed(1)} run-steps/s\n`);
  }
  for (const line of describeFits(result)) process.stderr.write(line + '\n');
  const out = options.get('out');
  if (typeof out === 'string') writeFile(out, JSON.stringify(result));
  const png = options.get('png');
  if (typeof png === 'string') {
    // The result is kept (and printed) even if the figures fail: re-plot later with --from.
    try {
      const files = await writeFigures(result, png);
      process.stderr.write(`wrote ${files.join(', ')}\n`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      process.stderr.write(`warning: no figures written (${(e as Error).message.split('\n')[0]}); re-plot with --from\n`);
    }
  }
  if (options.has('csv')) return sweepToCsv(result);
  return JSON.stringify(result);
}

function fromArgsOrSaved(argv: string[]): { spec: Record<string, unknown> | null; options: Map<string, string | true> } {
  const fromIdx = argv.findIndex((a) => a === '--from' || a.startsWith('--from='));
  if (fromIdx < 0) return specFromArgs(argv);
  // Re-plot / re-print a saved result: only output flags make sense.
  const args = parseArgs(argv, SWEEP_FLAGS);
  const bad = [...args.given].map((k) => `--${k}`).concat([...args.options.keys()].filter((k) => !['from', 'json', 'csv', 'png', 'out', 'quiet', 'metric'].includes(k)).map((k) => `--${k}`));
  if (bad.length) throw new UsageError(`--from re-uses a saved result; ${bad.join(', ')} would need a new run`);
  return { spec: null, options: args.options };
}

/** A saved result, aggregated again from its runs (this version's views; `metric` if given). */
function loadResult(path: string, metric?: SweepMetric): SweepResult {
  const raw = readJson(path) as Partial<SweepResult> | null;
  if (!raw || raw.format !== 'lora-playground-sweep' || raw.version !== 1) throw new UsageError(`${path} is not a sweep result (format "lora-playground-sweep", version 1)`);
  const check = validateSweepSpec(raw.spec);
  if (!check.ok) throw new UsageError(`${path}: its spec is invalid: ${check.error}`);
  if (!Array.isArray(raw.runs) || raw.runs.length !== gridSize(check.value)) throw new UsageError(`${path}: its runs do not match its grid of ${gridSize(check.value)}`);
  return reaggregate(raw as SweepResult, { metric: metric ?? (raw.metric as SweepMetric | undefined) });
}

function writeFile(path: string, text: string | Buffer): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Render the result's figures (SVG) to PNG with headless Chromium (playwright-core); returns the paths. */
export async function writeFigures(result: SweepResult, dir: string, prefix = ''): Promise<string[]> {
  const figures = sweepFigures(result);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
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
  const stray = (e: Error) => {
    if (!/debugger@|^Cannot find object to "/.test(e?.message ?? '')) throw e;
  };
  process.on('uncaughtException', stray);
  try {
    const context = await browser.newContext({ deviceScaleFactor: 2 });
    const page = await context.newPage();
    for (const f of figures) {
      await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${f.svg}</body></html>`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
      const path = join(dir, `${prefix}${f.name}.png`);
      writeFile(path, await page.locator('svg').first().screenshot({ omitBackground: false, timeout: 120_000 }));
      paths.push(path);
    }
    await context.close();
  } finally {
    await browser.close();
    await new Promise((r) => setTimeout(r, 200));
    process.off('uncaughtException', stray);
  }
  return paths;
}

export const SWEEP_SUMMARY = `run a sweep (--kind ${SWEEP_KINDS.join('|')} or --preset ${Object.keys(SWEEP_PRESETS).join('|')}; axes ${AXIS_NAMES.map((a) => `--${a}`).join(' ')} as a,b,c or from:to:count, --seeds 1,2,3 or 1..5); prints the SweepResult JSON (--csv: one row per run; --metric ${Object.keys(METRIC_FLAG).join('|')}; --out FILE, --png DIR, --from RESULT.json, --engine batched|sequential)`;
