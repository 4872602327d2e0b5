// E3 (lora-math.md section 5) from the command line, as a user would run it: eta = 1e-3, lambda = 1,
// n in {128, 256, 512, 1024}, two steps; the change of ||Z_B|| caused by the first update is ||Z_B||
// at step 2 (measured in step 2's forward, before its update) minus step 1's (0 for both inits). It grows
// like n for Init[B] (log-log slope about 1) and stays flat for Init[A] (slope about 0).
// The training set is cut to 200 examples and the preset's five seeds to one to keep the test short (the
// slopes do not depend on it: docs/findings.md lists them for 1000 examples and five seeds).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { SweepResult } from '../../src/experiments/sweep/aggregate.ts';

const CLI = ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts'];
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 170_000 });

describe('E3 one-step width scaling from the CLI', () => {
  it('slope about 1 for Init[B], about 0 for Init[A]', () => {
    const p = cli(['sweep', '--preset', 'e3', '--seeds', '1', '--n-train', '200', '--n-test', '50', '--json', '--quiet']);
    expect(p.status, p.stderr).toBe(0);
    const r = JSON.parse(p.stdout) as SweepResult;
    expect(r.kind).toBe('width-scaling');
    if (r.kind !== 'width-scaling') return;
    expect(r.axes.n).toEqual([128, 256, 512, 1024]);
    expect(r.base).toMatchObject({ eta: 1e-3, lambda: 1, steps: 2 });
    const [A, B] = r.widthScaling;
    expect([A.init, B.init]).toEqual(['A', 'B']);
    for (const v of [A, B]) {
      for (const pt of v.points) {
        expect(pt.status).toBe('done');
        expect(pt.zB1).toBe(0); // B = 0 (Init[A]) or Z_A = 0 (Init[B]) before the first update
        expect(pt.oneStepDeltaZB).toBeGreaterThan(0);
      }
    }
    const a = A.oneStepFit!.slope;
    const b = B.oneStepFit!.slope;
    expect(Math.abs(a), `Init[A] slope ${a}`).toBeLessThan(0.3);
    expect(b, `Init[B] slope ${b}`).toBeGreaterThan(0.6);
    expect(b, `Init[B] slope ${b}`).toBeLessThan(1.4);
    expect(b - a).toBeGreaterThan(0.5);
    // The stderr summary prints the same slopes.
    expect(p.stderr).toMatch(new RegExp(`Init\\[B\\] eta=0\\.001: one-step d\\|\\|Z_B\\|\\| slope ${b.toFixed(3)}`));
  }, 180_000);

  it('bad sweeps are user errors: exit code 2 and one line naming the problem', () => {
    const missing = cli(['sweep', '--kind', 'lr-width', '--n', '64,128']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('error: axes.eta is required for a lr-width sweep');
    const bad = cli(['sweep', '--kind', 'width-scaling', '--n', '64,64']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('error: axes.n repeats 64');
  }, 60_000);
});
