// A saved sweep result read back (`cli sweep --from`, re-plots of the findings): every committed result,
// including the ones combined over seeds, reads back to exactly what was saved (the views are computed
// again from the runs, nothing of them is trusted), and edited ones are refused with the field named.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSweepResult } from '../../src/cli/sweep.ts';
import { parseSweepResult } from '../../src/experiments/sweep/aggregate.ts';

const FIGURES = 'docs/figures';
const saved = readdirSync(FIGURES).filter((d) => readdirSync(join(FIGURES, d)).includes('result.json'));

describe('saved sweep results', () => {
  it.each(saved)('%s reads back as saved', async (dir) => {
    const path = join(FIGURES, dir, 'result.json');
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    if (raw.format === 'lora-playground-bundle') {
      // A result bundle (`cli sweep --out`): its runs come back as stored, the views recomputed from them.
      const r = await loadSweepResult(path);
      expect(r.runs.filter((x) => x.status !== 'queued')).toEqual(raw.sweep.runs);
      return;
    }
    const r = parseSweepResult(raw);
    if (!r.ok) throw new Error(r.error);
    expect({ ...r.value, timing: undefined }).toEqual({ ...raw, timing: undefined });
  });

  it('edits are refused, naming the field', () => {
    const plain = saved.find((d) => !readFileSync(join(FIGURES, d, 'result.json'), 'utf8').includes('"lora-playground-bundle"'))!;
    const raw = JSON.parse(readFileSync(join(FIGURES, plain, 'result.json'), 'utf8'));
    const edit = (f: (x: typeof raw) => void) => {
      const x = structuredClone(raw);
      f(x);
      const r = parseSweepResult(x);
      return r.ok ? 'accepted' : r.error;
    };
    expect(edit((x) => (x.runs[1].point.n = 7))).toMatch(/^runs\[1\]\.point does not match the grid/);
    expect(edit((x) => (x.runs[0].status = 'queued'))).toMatch(/^runs\[0\]\.status must be one of done, diverged, error, lost/);
    expect(edit((x) => (x.runs[0].curve = { step: [1], loss: [] }))).toMatch(/runs\[0\]\.curve\.loss must be a list of 1 values|runs\[0\]\.curve/);
    expect(edit((x) => (x.base.toString = 1))).toMatch(/^base: unknown setting "toString"/);
    expect(edit((x) => (x.runs.length = 1))).toMatch(/^runs must be a list of the grid's \d+ runs/);
    expect(edit((x) => (x.spec.axes.n = [16, 16]))).toMatch(/^its spec is invalid: axes\.n repeats 16/);
  });
});
