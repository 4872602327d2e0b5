// The pure parts of the run history: a trace written in parts reads back whole and exact, an entry whose
// parts or bookkeeping are damaged is refused (never read as complete), the saved workspace only ever
// names records.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import type { StepMetrics } from '../../src/experiments/toy/metrics.ts';
import { toyColumns, toyRows } from '../../src/results/records.ts';
import { RecordError } from '../../src/results/validate.ts';
import { assemble, checkEntry, type ToyEntry } from '../../src/state/history/db.ts';
import { parseWorkspace } from '../../src/state/history/workspace.ts';
import { Trace } from '../../src/state/trace.ts';

const f32 = Math.fround;
const rows = (from: number, to: number): StepMetrics[] =>
  Array.from({ length: to - from + 1 }, (_, i) => {
    const step = from + i;
    return { step, loss: f32(1 / step), zA: f32(step / 3), zB: f32(step / 7), normA: 1, normB: f32(0.5), normSBA: f32(step / 11), ...(step % 10 === 0 ? { testLoss: f32(2 / step) } : {}) };
  });

const entry = (over: Partial<ToyEntry> = {}): ToyEntry => ({
  v: 1, kind: 'toy', id: 'run-1', createdAt: 1, engineVersion: 1, adapter: 'test', status: 'done', config: { ...defaultToyConfig(), n: 16, rank: 2, steps: 45 }, divergedAt: null, trainMs: 10,
  owner: 'tab', updatedAt: 2, rows: 45, parts: 3, bytes: 0, finalLoss: null, ...over,
});

describe('run history: a trace stored in parts', () => {
  it('Trace.columns(from) cuts exact parts (test losses included) that join back to the whole trace', () => {
    const t = new Trace();
    t.append(rows(1, 45));
    const whole = t.columns(0);
    expect(toyRows(whole)).toEqual(rows(1, 45));
    const tail = t.columns(20);
    expect(Array.from(tail.step)).toEqual(Array.from({ length: 25 }, (_, i) => 21 + i));
    expect(Array.from(tail.testStep)).toEqual([30, 40]);
    expect(whole.loss).toBeInstanceOf(Float32Array); // float32 metrics are stored as float32, exactly
    expect(toyRows(Trace.fromColumns(whole).columns())).toEqual(rows(1, 45));
  });

  it('assembles parts written at different times into the exact record', () => {
    const t = new Trace();
    const written: Array<{ seq: number; data: ReturnType<Trace['columns']> }> = [];
    let stored = 0;
    for (const [from, to] of [[1, 12], [13, 30], [31, 45]]) {
      t.append(rows(from, to));
      written.push({ seq: written.length, data: t.columns(stored) });
      stored = t.length;
    }
    const A = new Float32Array(2 * 16).fill(0.5);
    const B = new Float32Array(16 * 2).fill(-0.25);
    const r = assemble(entry(), written, { final: { A, B } });
    if (r.kind !== 'toy') throw new Error('kind');
    expect(toyRows(r.trace)).toEqual(rows(1, 45));
    expect(r.trace).toEqual(toyColumns(rows(1, 45)));
    expect(r.final?.A).toEqual(A);
    expect(r).not.toHaveProperty('owner');
  });

  it('a missing part, a row count that disagrees or a damaged part is refused, never read as complete', () => {
    const t = new Trace();
    t.append(rows(1, 45));
    const parts = [{ seq: 0, data: t.columns(0) }];
    expect(() => assemble(entry({ parts: 2 }), parts, undefined)).toThrow(/has 1 of its 2 stored parts/);
    expect(() => assemble(entry({ parts: 1, rows: 50 }), parts, undefined)).toThrow(/holds 45 of its 50 rows/);
    const broken = { ...t.columns(0), loss: [1, 2, 3] as unknown as Float32Array };
    expect(() => assemble(entry({ parts: 1 }), [{ seq: 0, data: broken }], undefined)).toThrow(/lacks its loss column/);
    const short = { ...t.columns(0), zA: new Float32Array(3) };
    expect(() => assemble(entry({ parts: 1 }), [{ seq: 0, data: short }], undefined)).toThrow(RecordError);
  });

  it('checks an entry read back: its record fields through the validator, its bookkeeping by type', () => {
    expect(checkEntry(entry())).toMatchObject({ id: 'run-1', rows: 45 });
    expect(() => checkEntry({ ...entry(), v: 0 })).toThrow(/record version 1/);
    expect(() => checkEntry({ ...entry(), config: { n: 'wide' } })).toThrow(/config is not valid/);
    expect(() => checkEntry({ ...entry(), rows: -1 })).toThrow(/bookkeeping is damaged/);
    expect(() => checkEntry({ id: 'x', kind: 'toy' })).toThrow(/lacks "owner"/);
    expect(() => checkEntry({ ...entry(), kind: 'movie' })).toThrow(/unknown kind/);
    expect(() => checkEntry('text')).toThrow(RecordError);
  });
});

describe('run history: the saved workspace', () => {
  it('keeps well-formed record ids only and drops anything else', () => {
    expect(parseWorkspace(JSON.stringify({ playground: [{ id: 'a-1', hidden: true }, { id: '../x' }, null, { id: 7 }], sweep: 's_1', gpt2: ['g1', 5, 'bad id'] }))).toEqual({ playground: [{ id: 'a-1', hidden: true }], sweep: 's_1', gpt2: ['g1'] });
    expect(parseWorkspace('{"__proto__": {"sweep": "x"}}')).toEqual({ playground: [], sweep: null, gpt2: [] });
    expect(parseWorkspace('not json')).toBeNull();
    expect(parseWorkspace('x'.repeat(200_000))).toBeNull();
    expect(parseWorkspace(null)).toBeNull();
  });
});
