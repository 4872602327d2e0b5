// `cli sweep` with seeds and the E6 view: --n and --seeds (or --seed) override a preset's widths and
// seeds, --metric picks what the views rank by, and `--preset e6 --json` carries the e6 rows.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { specFromArgs } from '../../src/cli/sweep.ts';
import { SWEEP_PRESETS, validateSweepSpec } from '../../src/experiments/sweep/spec.ts';

const resolved = (...argv: string[]) => {
  const r = validateSweepSpec(specFromArgs(argv).spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('cli sweep: preset overrides', () => {
  it('--n and --seeds replace the preset\'s widths and seeds and keep the rest', () => {
    const s = resolved('--preset', 'e6', '--n', '64,128', '--seeds', '4,5');
    expect(s.axes).toMatchObject({ seed: [4, 5], init: ['A'], n: [64, 128], lambda: SWEEP_PRESETS.e6.axes.lambda });
    expect(s.axes.eta).toHaveLength(10);
    expect(s.base.steps).toBe(200);
    expect(resolved('--preset', 'e6', '--seed', '7').axes.seed).toEqual([7]);
    expect(resolved('--preset', 'e4', '--seeds=1..3').axes.seed).toEqual([1, 2, 3]);
    expect(resolved('--preset', 'e5').axes.seed).toEqual([1]);
  });

  it('bad seeds and metrics are user errors', () => {
    expect(() => specFromArgs(['--preset', 'e6', '--seeds', '1:3:3'])).toThrow(/--seeds: seed "1:3:3": write seeds as a list 1,2,3 or a range 1\.\.5/);
    const r = validateSweepSpec(specFromArgs(['--preset', 'e6', '--seeds', '1,1']).spec);
    expect(r).toEqual({ ok: false, error: 'axes.seed repeats 1' });
  });
});

describe('cli sweep --preset e6 --json', () => {
  it('carries e6 rows per width and lambda: best train and test loss over eta, ratios to lambda = 1, per seed', () => {
    const args = ['sweep', '--preset', 'e6', '--n', '48,64', '--seeds', '1,2', '--lambda', '1,4', '--eta', '1e-3,1e-2', '--steps', '3', '--test-every', '3', '--quiet', '--json'];
    const p = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 240_000 });
    expect(p.status, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout);
    expect(out.kind).toBe('lambda-eta');
    expect(out.metric).toBe('finalLoss');
    expect(out.runs).toHaveLength(2 * 2 * 2 * 2);
    expect(out.e6.map((x: { n: number; lambda: number }) => [x.n, x.lambda])).toEqual([[48, 1], [48, 4], [64, 1], [64, 4]]);
    for (const row of out.e6) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['n', 'lambda', 'bestTrainLoss', 'bestTestLoss', 'trainRatio', 'testRatio', 'seeds']));
      expect(row.seeds.map((x: { seed: number }) => x.seed)).toEqual([1, 2]);
      const ratios = row.seeds.map((x: { trainRatio: number }) => x.trainRatio);
      expect(row.trainRatio).toBeCloseTo(Math.sqrt(ratios[0] * ratios[1]), 6);
      if (row.lambda === 1) expect(row.trainRatio).toBe(1);
    }
    expect(p.stderr).toMatch(/Init\[A\] n=64 E6 ratio to lambda=1 \[2 seeds\] train: 1:1\.00 4:/);
  });
});
