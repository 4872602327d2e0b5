// Golden traces: the toy, the batched sweep engine and the tiny GPT-2 give, bit for bit, the traces
// recorded before the run-driver redesign (tests/golden/traces.json). A change that alters summation
// order must say so and re-record (GOLDEN_RECORD=1 npx vitest run tests/golden) in its own commit.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testHost } from '../gpu.ts';
import { collectAll, type Golden } from './collect.ts';

const FILE = new URL('./traces.json', import.meta.url);

describe('golden traces', () => {
  it('toy, sweep batch and tiny GPT-2 runs match the recorded traces bit for bit', async () => {
    const got = await collectAll(testHost());
    if (process.env.GOLDEN_RECORD) writeFileSync(FILE, JSON.stringify(got) + '\n');
    const want = JSON.parse(readFileSync(FILE, 'utf8')) as Golden;
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const name of Object.keys(want)) {
      expect(got[name].rows.length, `${name}: rows`).toBe(want[name].rows.length);
      want[name].rows.forEach((row, i) => expect(got[name].rows[i], `${name}: row ${i}`).toEqual(row));
      want[name].tensors.forEach((t, i) => expect(got[name].tensors[i], `${name}: tensor ${i}`).toEqual(t));
    }
  });
});
