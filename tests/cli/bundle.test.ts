// Result bundles from the CLI: `train --out`, `sweep --out` (and `--from` reading bundles and the older
// SweepResult files), `gpt2 --out` with its PEFT adapter, and `show`; the same codec as the page.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBundleJson } from '../../src/results/bundle.ts';
import { toyRows } from '../../src/results/records.ts';

const dir = mkdtempSync(join(tmpdir(), 'lora-bundle-'));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = cli(...args);
  if (r.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function userError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

const flags = ['--n', '40', '--rank', '4', '--n-train', '60', '--n-test', '10', '--steps', '25', '--eta', '1e-2', '--lambda', '16', '--seed', '3'];

describe('cli result bundles', () => {
  it('train --out writes the run (trace bit for bit, final A and B); show summarises it; .gz gzips', () => {
    const file = join(dir, 'run.json');
    const printed = JSON.parse(ok('train', ...flags, '--json', '--out', file));
    const parsed = parseBundleJson(readFileSync(file, 'utf8'));
    if (!parsed.ok || parsed.value.kind !== 'toy-runs') throw new Error(parsed.ok ? 'kind' : parsed.error);
    const run = parsed.value.runs[0];
    expect(toyRows(run.trace)).toEqual(printed.steps);
    expect(Array.from(run.final!.A)).toEqual(printed.final.A.data);
    expect(Array.from(run.final!.B)).toEqual(printed.final.B.data);
    expect(run.config).toMatchObject({ n: 40, rank: 4, steps: 25, eta: 1e-2, lambda: 16, seed: 3 });
    expect(run.status).toBe('done');
    expect(ok('show', file)).toMatch(/^lora-playground-bundle v1: 1 toy run.*\n  1\. Init\[A\], n = 40, r = 4, η = 0\.01, λ = 16, 25 steps, seed 3: done, 25\/25 steps, final loss [\d.e-]+ \(.+, engine v1\); final A and B\n$/);
    const summary = JSON.parse(ok('show', '--json', file));
    expect(summary.runs[0]).toMatchObject({ kind: 'toy', status: 'done', steps: 25, finalTensors: true });

    const gz = join(dir, 'run.json.gz');
    ok('train', ...flags, '--out', gz);
    expect([...readFileSync(gz).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(ok('show', gz, '--json')).runs[0].finalLoss).toBe(summary.runs[0].finalLoss);
  });

  it('sweep --out writes a bundle that --from reads back to the same result; older result files still read', () => {
    const file = join(dir, 'sweep.json');
    const printed = JSON.parse(ok('sweep', '--kind', 'width-scaling', '--init', 'A,B', '--n', '32,48', '--steps', '3', '--json', '--quiet', '--out', file));
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('lora-playground-bundle');
    const again = JSON.parse(ok('sweep', '--from', file, '--json'));
    expect(again).toEqual(printed);
    expect(ok('show', file)).toMatch(/a sweep.*\n  sweep width-scaling, 4 runs of 3 steps: done, 4 finished/);
    // The result JSON of older --out files (format lora-playground-sweep) is still read by --from.
    const old = join(dir, 'old-result.json');
    writeFileSync(old, JSON.stringify(printed));
    expect(JSON.parse(ok('sweep', '--from', old, '--json'))).toEqual(printed);
  });

  it('gpt2 --out carries the trace, the sample and the PEFT adapter', () => {
    const file = join(dir, 'gpt2.json');
    const printed = JSON.parse(ok('gpt2', '--model', 'tiny', '--steps', '3', '--seq', '13', '--batch', '2', '--eta', '1e-2', '--targets', 'attn.c_attn,mlp.c_proj', '--generate', 'x', '--max-new-tokens', '3', '--json', '--out', file));
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.runs[0].peft['adapter_config.json']).toMatchObject({ peft_type: 'LORA', r: 8, target_modules: ['attn.c_attn', 'mlp.c_proj'] });
    const parsed = parseBundleJson(JSON.stringify(json));
    if (!parsed.ok || parsed.value.kind !== 'gpt2-runs') throw new Error(parsed.ok ? 'kind' : parsed.error);
    const run = parsed.value.runs[0];
    expect(Array.from(run.trace.loss)).toEqual(printed.steps.map((s: { loss: number }) => s.loss));
    expect(run.weights?.tensors).toHaveLength(2 * 2);
    expect(run.generations[0]).toMatchObject({ prompt: 'x', mode: 'greedy' });
    expect(ok('show', file)).toMatch(/1 GPT-2 run.*\n  1\. GPT-2 tiny, Init\[A\], r = 8, .*: done, 3\/3 steps, .*; PEFT adapter \(step 3\)/);
  });

  it('refuses what it cannot read or write, in one line (exit 2)', () => {
    userError(cli('show'), /show needs a bundle file/);
    userError(cli('show', join(dir, 'missing.json')), /cannot read .*missing\.json"?: ENOENT/);
    const notBundle = join(dir, 'not-bundle.json');
    writeFileSync(notBundle, '{"format": "lora-playground-tensors", "version": 1}');
    userError(cli('show', notBundle), /not-bundle\.json"? is not a readable result bundle: it is not a result bundle/);
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, readFileSync(join(dir, 'run.json'), 'utf8').slice(0, 300));
    userError(cli('show', cut), /cut\.json"? is not a readable result bundle: it is not valid JSON/);
    userError(cli('sweep', '--from', join(dir, 'run.json')), /run\.json"? holds toy-runs, not a sweep/);
    userError(cli('train', '--tensors', notBundle, '--out', join(dir, 'x.json')), /--out writes a result bundle of a seeded run/);
    userError(cli('train', '--n', '16', '--steps', '2', '--out', join(dir, 'no-such-dir', 'x.json')), /--out: the folder .*no-such-dir"? does not exist/);
  });
});
