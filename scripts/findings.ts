// Helpers of scripts/findings.sh (run with: node --import tsx --import ./scripts/register-wgsl.mjs scripts/findings.ts ...).
//
//   merge OUT NAME DIR...  one result from sweeps that differ only in their widths, seeds and learning rates
//                          (OUT/DIR/result.json, e.g. one per width, run one after the other so a long run can be
//                          resumed): the union of their axes, every (seed, width) from exactly one part; a learning
//                          rate a width's part did not run is a run with status 'error' and the message "not run";
//                          aggregated again and written to OUT/NAME/result.json (render: cli sweep --from ... --png ...)
//   bands OUT DIR          per init, width and seed of an lr-width result, the best eta and the etas whose final
//                          test loss is within 1.5x of it: how sharply one seed pins the optimum
//   e6-table OUT DIR       the E6 rows of a lambda-eta result as markdown tables (train, then test)
//   bench-width OUT N...   the batched engine at each width: the one-off setup of a batch (drawing the problem,
//                          P0 = H1 W0^T once, the teacher) and the cost of a step per run (wall and CPU), with
//                          the load average; written to OUT/timing/width.json
//   bench-sequential OUT   cost of one run of the per-run engine (ToySession) at each width of the 2 x 9 x 5 sweep
//                          of the Speed section (E4 as it was: n 64 .. 1024, 9 etas, one seed)
//   project OUT            projects the per-run engine's time for that sweep (OUT/timing/e4-old/result.json)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { E6Row, RunSummary, SweepResult } from '../src/experiments/sweep/aggregate.ts';

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
/** OUT/DIR/result.json: a result bundle (what `cli sweep --out` writes) or a SweepResult (older results). */
async function readResult(out: string, dir: string): Promise<SweepResult> {
  const { loadSweepResult } = await import('../src/cli/sweep.ts');
  return loadSweepResult(join(out, dir, 'result.json'));
}

async function merge(out: string, name: string, dirs: string[]): Promise<void> {
  const { reaggregate, describeFits } = await import('../src/experiments/sweep/aggregate.ts');
  const { gridPoints, validateSweepSpec } = await import('../src/experiments/sweep/spec.ts');
  const parts = await Promise.all(dirs.map((d) => readResult(out, d)));
  const strip = (r: SweepResult) => JSON.stringify({ ...r.spec, axes: { ...r.spec.axes, n: undefined, seed: undefined, eta: undefined }, base: { ...r.spec.base, n: undefined, seed: undefined } });
  for (const p of parts) if (strip(p) !== strip(parts[0]) || p.metric !== parts[0].metric) throw new Error('merge: the results differ in more than their widths, seeds and learning rates');
  const union = (xs: number[][]) => [...new Set(xs.flat())].sort((a, b) => a - b);
  const spec = { ...parts[0].spec, axes: { ...parts[0].spec.axes, n: union(parts.map((p) => p.axes.n)), seed: union(parts.map((p) => p.axes.seed)), eta: union(parts.map((p) => p.axes.eta)) } };
  const check = validateSweepSpec(spec);
  if (!check.ok) throw new Error(`merge: ${check.error}`);
  const key = (p: { seed: number; init: string; n: number; lambda: number; eta: number }) => `${p.seed}|${p.init}|${p.n}|${p.lambda}|${p.eta}`;
  const byPoint = new Map<string, RunSummary>();
  const problems = new Set<string>(); // (seed, n) pairs some part ran
  for (const part of parts) {
    const own = validateSweepSpec(part.spec);
    if (!own.ok) throw new Error(`merge: ${own.error}`);
    const pts = gridPoints(own.value);
    part.runs.forEach((r, i) => {
      problems.add(`${pts[i].seed}|${pts[i].n}`);
      const k = key(pts[i]);
      if (byPoint.has(k)) throw new Error(`merge: ${k} is in two parts`);
      byPoint.set(k, r);
    });
  }
  const { queuedSummary } = await import('../src/experiments/sweep/aggregate.ts');
  const runs = gridPoints(check.value).map((p): RunSummary => {
    const r = byPoint.get(key(p));
    if (r) return { ...r, index: p.index, point: { seed: p.seed, init: p.init, n: p.n, lambda: p.lambda, eta: p.eta } };
    if (!problems.has(`${p.seed}|${p.n}`)) throw new Error(`merge: no part has seed ${p.seed}, n = ${p.n} (the merged grid must be complete)`);
    return { ...queuedSummary(p), status: 'error', error: 'not run (outside the learning rates run at this width)' };
  });
  const t = parts.map((p) => p.timing).filter((x) => x !== undefined);
  const seconds = t.reduce((a, x) => a + x.seconds, 0);
  const timing = t.length
    ? { ...t[0], seconds, runs: runs.length, runsPerSecond: runs.length / seconds, runStepsPerSecond: runs.reduce((a, r) => a + r.steps, 0) / seconds, batches: t.reduce((a, x) => a + x.batches, 0), cpuSeconds: t.reduce((a, x) => a + (x.cpuSeconds ?? 0), 0) }
    : undefined;
  const merged = reaggregate({ spec: check.value.spec, runs, timing }, { metric: parts[0].metric });
  mkdirSync(join(out, name), { recursive: true });
  writeFileSync(join(out, name, 'result.json'), JSON.stringify(merged));
  console.log(`# merged ${dirs.join(', ')}: ${runs.length} runs, widths ${merged.axes.n.join(', ')}, seeds ${merged.axes.seed.join(', ')}`);
  if (timing) console.log(`# chunks' wall time ${seconds.toFixed(0)} s (${timing.cpuSeconds?.toFixed(0)} CPU-s), ${timing.runsPerSecond.toFixed(4)} runs/s`);
  for (const line of describeFits(merged)) console.log(line);
}

/** How sharply each seed of an lr-width result pins the optimal eta. */
async function bands(out: string, dir: string, tol = 1.5): Promise<void> {
  const r = await readResult(out, dir);
  const fmt = (v: number) => v.toExponential(1).replace('.0e', 'e');
  console.log(`| init | n | ${r.axes.seed.map((s) => `seed ${s}: best η [within ${tol}x]`).join(' | ')} |`);
  console.log(`|---|---|${r.axes.seed.map(() => '---').join('|')}|`);
  for (const init of r.axes.init) {
    for (const n of r.axes.n) {
      const cells = r.axes.seed.map((seed) => {
        const row = r.runs.filter((x) => x.point.seed === seed && x.point.init === init && x.point.n === n && x.status === 'done' && x.finalTestLoss !== null);
        if (!row.length) return 'all diverged';
        const best = row.reduce((a, b) => (b.finalTestLoss! < a.finalTestLoss! ? b : a));
        const ok = row.filter((x) => x.finalTestLoss! <= tol * best.finalTestLoss!).map((x) => x.point.eta);
        return `${fmt(best.point.eta)} [${fmt(Math.min(...ok))} – ${fmt(Math.max(...ok))}]`;
      });
      console.log(`| Init[${init}] | ${n} | ${cells.join(' | ')} |`);
    }
  }
}

/** The E6 rows as markdown: per lambda, per width, the ratio to lambda = 1 (geometric mean [seed range]) and the best loss. */
async function e6Table(out: string, dir: string): Promise<void> {
  const r = await readResult(out, dir);
  if (r.kind !== 'lambda-eta') throw new Error(`${dir} is not a lambda-eta result`);
  const f = (v: number | null, d = 3) => (v === null ? '–' : Number(v.toPrecision(d)).toString());
  const widths = [...new Set(r.e6.map((x) => `${x.init}:${x.n}`))];
  for (const which of ['train', 'test'] as const) {
    console.log(`\n${which === 'train' ? 'Training' : 'Test'} loss: best over η, ratio to λ = 1 (geometric mean over seeds ${r.axes.seed.join(', ')} [smallest – largest seed]); best loss (geometric mean)\n`);
    console.log(`| λ | ${widths.map((k) => `n = ${k.split(':')[1]}${k.startsWith('B') ? ' (Init[B])' : ''}`).join(' | ')} |`);
    console.log(`|---|${widths.map(() => '---').join('|')}|`);
    for (const l of r.axes.lambda) {
      const cells = widths.map((k) => {
        const x = r.e6.find((y) => `${y.init}:${y.n}` === k && y.lambda === l) as E6Row;
        const ratio = which === 'train' ? x.trainRatio : x.testRatio;
        const range = which === 'train' ? x.trainRatioRange : x.testRatioRange;
        const best = which === 'train' ? x.bestTrainLoss : x.bestTestLoss;
        const edges = x.seeds.filter((s) => (which === 'train' ? s.trainAtEdge : s.testAtEdge)).length;
        return `${f(ratio)}${range && x.seeds.length > 1 ? ` [${f(range[0], 2)} – ${f(range[1], 2)}]` : ''}; ${f(best)}${edges ? ` (${edges} at the η edge)` : ''}`;
      });
      console.log(`| ${l} | ${cells.join(' | ')} |`);
    }
  }
}

async function benchWidth(out: string, widths: number[]): Promise<void> {
  const { nodeGpuContext } = await import('../src/gpu/node.ts');
  const { ToyBatchTrainer } = await import('../src/experiments/sweep/batchTrainer.ts');
  const { defaultToyConfig } = await import('../src/experiments/toy/config.ts');
  const { drawToyTensors } = await import('../src/experiments/toy/data.ts');
  const ctx = await nodeGpuContext();
  const runsPerBatch = 16;
  const steps = 4;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const rows: Array<Record<string, number | string>> = [];
  for (const n of widths) {
    const c = { ...defaultToyConfig(), n, steps: 1000, testEvery: 20 };
    const runs = Array.from({ length: runsPerBatch }, (_, i) => ({ init: 'A' as const, initDist: 'gaussian' as const, eta: 2 ** (-13 + (i % 8)), lambda: 2 ** (i % 6), wd: 0 }));
    // Warm-up batch: compiles this width's pipelines (a sweep pays that once), then the timed one.
    const warm = await ToyBatchTrainer.create(ctx, { ...c, n }, runs.slice(0, 1));
    await warm.step();
    await ctx.device.queue.onSubmittedWorkDone();
    warm.destroy();
    const load0 = loadavg();
    let t = performance.now();
    let c0 = cpu();
    drawToyTensors(c);
    const drawSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    c0 = cpu();
    const trainer = await ToyBatchTrainer.create(ctx, c, runs);
    await ctx.device.queue.onSubmittedWorkDone();
    const setupSeconds = (performance.now() - t) / 1000;
    const setupCpu = cpu() - c0;
    await trainer.step(); // the first step (test forward included)
    await ctx.device.queue.onSubmittedWorkDone();
    t = performance.now();
    c0 = cpu();
    for (let i = 0; i < steps; i++) await trainer.step();
    await ctx.device.queue.onSubmittedWorkDone();
    const stepSeconds = (performance.now() - t) / 1000 / steps;
    const stepCpu = (cpu() - c0) / steps;
    trainer.destroy();
    const row = {
      n,
      runsPerBatch,
      drawSeconds: Number(drawSeconds.toFixed(2)),
      setupSeconds: Number(setupSeconds.toFixed(2)),
      setupCpuSeconds: Number(setupCpu.toFixed(2)),
      msPerRunStep: Number(((1000 * stepSeconds) / runsPerBatch).toFixed(1)),
      cpuMsPerRunStep: Number(((1000 * stepCpu) / runsPerBatch).toFixed(1)),
      // 200-step runs per second once the batch is set up, at this wall time and on 2 idle cores (CPU time / 2)
      runsPerSecond200: Number((runsPerBatch / (200 * stepSeconds)).toFixed(4)),
      runsPerSecond200Idle: Number((runsPerBatch / ((200 * stepCpu) / 2)).toFixed(4)),
      load: `${load0} -> ${loadavg()}`,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  mkdirSync(join(out, 'timing'), { recursive: true });
  writeFileSync(join(out, 'timing', 'width.json'), JSON.stringify(rows, null, 1));
}

interface SeqCost {
  n: number;
  setupSeconds: number;
  stepSeconds: number;
  load: string;
}

async function benchSequential(out: string): Promise<void> {
  const { nodeGpuHost } = await import('../src/gpu/node.ts');
  const { runSweep } = await import('../src/experiments/sweep/runner.ts');
  const host = nodeGpuHost();
  const time = async (n: number, steps: number) => {
    const t0 = performance.now();
    await runSweep(host, { version: 1, kind: 'width-scaling', base: { steps, testEvery: 20, eta: 1e-3 }, axes: { init: ['A'], n: [n] } }, { engine: 'sequential' });
    return (performance.now() - t0) / 1000;
  };
  const costs: SeqCost[] = [];
  for (const n of [64, 128, 256, 512, 1024]) {
    // NOTE: warm up at each width: matmul shape classes are pipeline constants, so a new width compiles
    // new pipelines on its first run, which a long sweep pays once and the 2-step timing must not include.
    await time(n, 2);
    const t2 = await time(n, 2);
    const t12 = await time(n, 22);
    const stepSeconds = Math.max(0, (t12 - t2) / 20);
    const c = { n, setupSeconds: Math.max(0, t2 - 2 * stepSeconds), stepSeconds, load: loadavg() };
    costs.push(c);
    console.log(JSON.stringify(c));
  }
  mkdirSync(join(out, 'timing'), { recursive: true });
  writeFileSync(join(out, 'timing', 'sequential.json'), JSON.stringify(costs, null, 1));
}

async function project(out: string): Promise<void> {
  const costs = JSON.parse(readFileSync(join(out, 'timing', 'sequential.json'), 'utf8')) as SeqCost[];
  const e4 = await readResult(out, join('timing', 'e4-old'));
  if (!e4.timing) throw new Error('project: the E4 result has no timing');
  const timing = e4.timing;
  let seconds = 0;
  for (const r of e4.runs) {
    const c = costs.find((x) => x.n === r.point.n);
    if (!c) throw new Error(`no sequential cost for n = ${r.point.n}`);
    seconds += c.setupSeconds + r.steps * c.stepSeconds;
  }
  const runs = e4.runs.length;
  console.log(`per-run engine (ToySession), projected from measured per-width costs: ${runs} runs in ${seconds.toFixed(0)} s = ${(runs / seconds).toFixed(4)} runs/s`);
  for (const c of costs) console.log(`  n=${c.n}: setup ${c.setupSeconds.toFixed(2)} s, ${c.stepSeconds.toFixed(3)} s/step (load ${c.load})`);
  console.log(`batched engine, measured: ${runs} runs in ${timing.seconds.toFixed(0)} s = ${timing.runsPerSecond.toFixed(4)} runs/s (speed-up ${(seconds / timing.seconds).toFixed(1)}x)`);
}

const [cmd, out = 'docs/figures', ...rest] = process.argv.slice(2);
if (cmd === 'merge') await merge(out, rest[0], rest.slice(1));
else if (cmd === 'bands') await bands(out, rest[0]);
else if (cmd === 'e6-table') await e6Table(out, rest[0]);
else if (cmd === 'bench-width') await benchWidth(out, rest.map(Number));
else if (cmd === 'bench-sequential') await benchSequential(out);
else if (cmd === 'project') await project(out);
else {
  console.error('usage: findings.ts merge OUT NAME DIR... | bands OUT DIR | e6-table OUT DIR | bench-width OUT N... | bench-sequential OUT | project OUT');
  process.exitCode = 2;
}
process.exit();
