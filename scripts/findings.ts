// Helpers of scripts/findings.sh (run with: node --import tsx --import ./scripts/register-wgsl.mjs scripts/findings.ts ...).
//
//   bench-sequential OUT   cost of one run of the per-run engine (ToySession) at each E4 width: after a
//                          warm-up (pipeline compilation), runs of 2 and 22 steps give the setup and the
//                          per-step time; written to OUT/timing/sequential.json
//   project OUT            projects the per-run engine's time for the E4 sweep (OUT/e4/result.json: same
//                          runs, each to the step it reached) and prints it beside the measured ones
//   combine OUT NAME DIR... one result from the same sweep run with several seeds (OUT/DIR/result.json):
//                          per run, the geometric mean of the final (and best) test loss over the seeds;
//                          a run counts as diverged if it diverged with any seed (at its earliest step).
//                          Written to OUT/NAME/result.json; render it with: cli sweep --from ... --png ...
//   bands OUT DIR...       per init and width, the best eta of each seed's lr-width result and the etas
//                          whose final test loss is within 1.5x of it: how sharply the optimum is pinned
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

interface SeqCost {
  n: number;
  setupSeconds: number;
  stepSeconds: number;
  load: string;
}

async function benchSequential(out: string): Promise<void> {
  const { nodeGpuHost } = await import('../src/gpu/node.ts');
  const { runSweep } = await import('../src/experiments/sweep/runner.ts');
  const { SWEEP_PRESETS } = await import('../src/experiments/sweep/spec.ts');
  const host = nodeGpuHost();
  const e4 = SWEEP_PRESETS.e4;
  const base = { ...e4.base };
  const time = async (n: number, steps: number) => {
    const t0 = performance.now();
    await runSweep(host, { version: 1, kind: 'width-scaling', base: { ...base, steps, eta: 1e-3 }, axes: { init: ['A'], n: [n] } }, { engine: 'sequential' });
    return (performance.now() - t0) / 1000;
  };
  const costs: SeqCost[] = [];
  for (const n of e4.axes.n as number[]) {
    // NOTE: warm up at each width: matmul shape classes are pipeline constants, so a new width compiles
    // new pipelines on its first run, which a long sweep pays once and the 2-step timing must not include.
    await time(n, 2);
    const t2 = await time(n, 2);
    const t12 = await time(n, 22);
    const stepSeconds = Math.max(0, (t12 - t2) / 20);
    const c = { n, setupSeconds: Math.max(0, t2 - 2 * stepSeconds), stepSeconds, load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
    costs.push(c);
    console.log(JSON.stringify(c));
  }
  mkdirSync(join(out, 'timing'), { recursive: true });
  writeFileSync(join(out, 'timing', 'sequential.json'), JSON.stringify(costs, null, 1));
}

/** A sweep's result.json: the result bundle `cli sweep --out` writes (or an older SweepResult JSON). */
async function loadResult(path: string): Promise<import('../src/experiments/sweep/aggregate.ts').SweepResult> {
  const { loadSweepResult } = await import('../src/cli/sweep.ts');
  return loadSweepResult(path);
}

async function project(out: string): Promise<void> {
  const costs = JSON.parse(readFileSync(join(out, 'timing', 'sequential.json'), 'utf8')) as SeqCost[];
  const e4 = await loadResult(join(out, 'e4', 'result.json'));
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

async function combine(out: string, name: string, dirs: string[]): Promise<void> {
  const { aggregateSweep, describeFits } = await import('../src/experiments/sweep/aggregate.ts');
  const { validateSweepSpec } = await import('../src/experiments/sweep/spec.ts');
  type Summary = import('../src/experiments/sweep/aggregate.ts').RunSummary;
  const results = await Promise.all(dirs.map((d) => loadResult(join(out, d, 'result.json'))));
  const { seed: _s, ...base0 } = results[0].base;
  for (const r of results) {
    const { seed: _t, ...b } = r.base;
    if (JSON.stringify(b) !== JSON.stringify(base0) || JSON.stringify(r.axes) !== JSON.stringify(results[0].axes)) throw new Error('combine: the results differ in more than the seed');
  }
  const gmean = (xs: Array<number | null>) => {
    const ok = xs.filter((x): x is number => x !== null && x > 0);
    return ok.length === xs.length && ok.length ? 10 ** (ok.reduce((a, x) => a + Math.log10(x), 0) / ok.length) : null;
  };
  const runs: Summary[] = results[0].runs.map((r0, i) => {
    const all = results.map((r) => r.runs[i]);
    const div = all.filter((r) => r.status === 'diverged');
    const diverged = div.length > 0;
    return {
      ...r0,
      status: all.some((r) => r.status === 'error') ? 'error' : diverged ? 'diverged' : 'done',
      divergedAt: diverged ? Math.min(...div.map((r) => r.divergedAt as number)) : null,
      finalTestLoss: diverged ? null : gmean(all.map((r) => r.finalTestLoss)),
      bestTestLoss: gmean(all.map((r) => r.bestTestLoss)),
      firstLoss: gmean(all.map((r) => r.firstLoss)),
      finalLoss: diverged ? null : gmean(all.map((r) => r.finalLoss)),
      bestLoss: gmean(all.map((r) => r.bestLoss)),
      maxZA: gmean(all.map((r) => r.maxZA)),
      maxZB: gmean(all.map((r) => r.maxZB)),
      zB2: gmean(all.map((r) => r.zB2)),
      oneStepDeltaZB: gmean(all.map((r) => r.oneStepDeltaZB)),
      curve: undefined,
    };
  });
  const check = validateSweepSpec(results[0].spec);
  if (!check.ok) throw new Error(check.error);
  const combined = aggregateSweep(check.value, runs);
  combined.base = { ...combined.base, seed: `${dirs.length} seeds: ${results.map((r) => r.base.seed).join(',')}` };
  mkdirSync(join(out, name), { recursive: true });
  writeFileSync(join(out, name, 'result.json'), JSON.stringify(combined));
  for (const line of describeFits(combined)) console.log(line);
}

/**
 * How sharply each lr-width result (OUT/DIR/result.json, one per seed) pins the optimal eta: per init and
 * width, the best grid eta and the range of etas whose final test loss is within `tol` x the best.
 */
async function bands(out: string, dirs: string[], tol = 1.5): Promise<void> {
  const results = await Promise.all(dirs.map((d) => loadResult(join(out, d, 'result.json'))));
  const fmt = (v: number) => v.toExponential(1).replace('.0e', 'e');
  console.log(`| init | n | ${results.map((r) => `seed ${r.base.seed}: best η [η within ${tol}x of its loss]`).join(' | ')} |`);
  console.log(`|---|---|${results.map(() => '---').join('|')}|`);
  for (const init of ['A', 'B']) {
    for (const n of results[0].axes.n) {
      const cells = results.map((r) => {
        const row = r.runs.filter((x) => x.point.init === init && x.point.n === n && x.status === 'done' && x.finalTestLoss !== null);
        if (!row.length) return 'all diverged';
        const best = row.reduce((a, b) => (b.finalTestLoss! < a.finalTestLoss! ? b : a));
        const ok = row.filter((x) => x.finalTestLoss! <= tol * best.finalTestLoss!).map((x) => x.point.eta);
        return `${fmt(best.point.eta)} [${fmt(Math.min(...ok))} – ${fmt(Math.max(...ok))}]`;
      });
      console.log(`| Init[${init}] | ${n} | ${cells.join(' | ')} |`);
    }
  }
}

const [cmd, out = 'docs/figures', ...rest] = process.argv.slice(2);
if (cmd === 'bench-sequential') await benchSequential(out);
else if (cmd === 'project') await project(out);
else if (cmd === 'combine') await combine(out, rest[0], rest.slice(1));
else if (cmd === 'bands') await bands(out, rest);
else {
  console.error('usage: findings.ts bench-sequential|project [OUT] | combine OUT NAME DIR... | bands OUT DIR...');
  process.exitCode = 2;
}
process.exit();
