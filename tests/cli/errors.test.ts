// The CLI's user errors: one line naming the problem, exit code 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lora-cli-'));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const T = (rows: number, cols: number, v = 0.1) => ({ shape: [rows, cols], data: Array.from({ length: rows * cols }, () => v) });
function exchange(over: Record<string, unknown> = {}) {
  return {
    format: 'lora-playground-tensors', version: 1,
    config: { activation: 'relu', rank: 2, alpha: 2, rslora: false, eta: 1e-3, lambda: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, batch_size: 4, steps: 2 },
    tensors: { W_in: T(6, 3), W0: T(6, 6), W_out: T(1, 6), A: T(2, 6), B: T(6, 2, 0), X_train: T(4, 3), Y_train: T(4, 1) },
    ...over,
  };
}

function expectUserError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('cli errors', () => {
  it('missing file', () => expectUserError(cli('train', '--tensors', join(dir, 'nope.json')), /cannot read .*nope\.json: ENOENT/));
  it('malformed JSON', () => expectUserError(cli('train', '--tensors', file('bad.json', '{"format": ')), /not valid JSON/));
  it('wrong format tag', () => expectUserError(cli('train', '--tensors', file('fmt.json', exchange({ format: 'x' }))), /"format" must be/));
  it('wrong shapes', () => {
    const e = exchange();
    (e.tensors as Record<string, unknown>).W0 = T(5, 6);
    expectUserError(cli('train', '--tensors', file('shape.json', e)), /W0 has shape \[5,6\]/);
  });
  it('data length not matching the shape', () => {
    const e = exchange();
    (e.tensors as Record<string, unknown>).A = { shape: [2, 6], data: [1, 2, 3] };
    expectUserError(cli('train', '--tensors', file('len.json', e)), /A has 3 numbers but shape 2x6 needs 12/);
  });
  it('non-finite numbers in a file', () => {
    const text = JSON.stringify(exchange()).replace('"W_out":{"shape":[1,6],"data":[0.1', '"W_out":{"shape":[1,6],"data":[1e999');
    expectUserError(cli('train', '--tensors', file('inf.json', text)), /W_out\.data\[0\] is not a finite number/);
  });
  it('negative rank', () => expectUserError(cli('train', '--rank', '-1'), /--rank: Rank r must be between 1 and 64/));
  it('rank larger than the width', () => expectUserError(cli('train', '--n', '16', '--rank', '32'), /--rank: Rank r \(32\) must not exceed width n \(16\)/));
  it('non-finite flag values', () => {
    expectUserError(cli('train', '--eta', 'NaN'), /--eta: .* must be a number/);
    expectUserError(cli('train', '--eta', 'Infinity'), /--eta: .* must be a number/);
  });
  it('unknown flag, missing value, bad enum', () => {
    expectUserError(cli('train', '--widht', '64'), /unknown flag --widht/);
    expectUserError(cli('train', '--eta'), /--eta needs a value/);
    expectUserError(cli('train', '--init', 'C'), /--init: Init scheme must be one of A, B/);
  });
  it('unknown command', () => expectUserError(cli('trian'), /unknown command "trian"/));
});
