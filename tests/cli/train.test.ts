// The CLI's happy paths: a seeded run whose loss falls, CSV output, and export-tensors -> train --tensors
// reproducing the seeded run exactly (the exchange file pins every tensor).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`cli ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const flags = ['--n', '40', '--rank', '4', '--n-train', '60', '--n-test', '10', '--steps', '25', '--eta', '1e-2', '--lambda', '16', '--seed', '3'];

describe('cli train', () => {
  it('prints a trace whose loss falls, and the final adapter', () => {
    const out = JSON.parse(cli('train', ...flags, '--json'));
    expect(out.steps).toHaveLength(25);
    expect(out.steps[0]).toMatchObject({ step: 1, zB: 0 });
    expect(out.steps[24].loss).toBeLessThan(0.5 * out.steps[0].loss);
    expect(out.final.A.shape).toEqual([4, 40]);
    expect(out.final.B.shape).toEqual([40, 4]);
    expect(out.final.A.data).toHaveLength(160);
    expect(out.diverged).toBeNull();
  });

  it('export-tensors then train --tensors reproduces the seeded run bit for bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lora-x-'));
    const file = join(dir, 'x.json');
    cli('export-tensors', ...flags, '--out', file);
    const x = JSON.parse(readFileSync(file, 'utf8'));
    expect(x.format).toBe('lora-playground-tensors');
    expect(x.tensors.W0.shape).toEqual([40, 40]);
    expect(x.tensors.Y_train.shape).toEqual([60, 1]);
    const fromFile = JSON.parse(cli('train', '--tensors', file, '--test-every', '10', '--json'));
    const seeded = JSON.parse(cli('train', ...flags, '--json'));
    expect(fromFile.steps.map((s: { loss: number }) => s.loss)).toEqual(seeded.steps.map((s: { loss: number }) => s.loss));
    expect(fromFile.final).toEqual(seeded.final);
  });

  it('reports divergence at the step it happens and stops', () => {
    const out = JSON.parse(cli('train', '--n', '32', '--n-train', '40', '--steps', '60', '--init', 'B', '--eta', '5', '--lambda', '64', '--json'));
    expect(out.diverged).toBeGreaterThan(1);
    expect(out.steps[out.steps.length - 1].step).toBe(out.diverged);
  });

  it('--csv prints a table', () => {
    const lines = cli('train', ...flags.filter((_, i) => flags[i] !== '--steps' && flags[i - 1] !== '--steps'), '--steps', '3', '--csv').trim().split('\n');
    expect(lines[0]).toBe('step,loss,zA,zB,normA,normB,normSBA,testLoss');
    expect(lines).toHaveLength(4);
  });
});
