// `cli selfcheck`: the JSON report's shape (the interface dist-gpu/run.sh records), exit code 0 when the
// checks pass, and flag errors as one line with exit code 2. (Exit code 1 on a failed check is tested in
// process, with a planted wrong result: tests/selfcheck/selfcheck.test.ts.)
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli selfcheck', () => {
  it('--json prints {adapter, checks: [{name, pass, maxRelError, tolerance}], pass} and exits 0', () => {
    const r = cli('selfcheck', '--json', '--only', 'loss mse,reduce dot sqrt k=1000,bias');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.adapter).toMatchObject({ name: expect.any(String), vendor: expect.any(String), architecture: expect.any(String), software: expect.any(Boolean) });
    expect(out.adapter.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(Array.isArray(out.adapter.features)).toBe(true);
    expect(out.checks.map((c: { name: string }) => c.name)).toEqual(['loss mse m=257', 'reduce dot sqrt k=1000 (one pass)', 'bias rows, rows_residual (7x37)']);
    for (const c of out.checks) {
      expect(c).toMatchObject({ name: expect.any(String), family: expect.any(String), pass: true, maxRelError: expect.any(Number), tolerance: expect.any(Number) });
      expect(c.maxRelError).toBeLessThanOrEqual(c.tolerance);
    }
    expect(out.pass).toBe(true);
  });

  it('rejects unknown flags and an --only that matches nothing with one line, exit 2', () => {
    for (const [args, pattern] of [
      [['--n', '64'], /unknown flag --n/],
      [['--only'], /--only needs/],
      [['--only', 'no-such-kernel'], /matches no check/],
      [['extra'], /unexpected argument "extra"/],
    ] as const) {
      const r = cli('selfcheck', ...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
