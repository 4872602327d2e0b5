// The result-bundle codec (src/results/bundle.ts) and the record validator it shares with run history:
// round trips of every kind (plain and gzipped, the page's CompressionStream and the CLI's zlib crossing),
// versions, and hostile files: truncated, huge, wrong types, prototype keys.
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultGpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import type { Gpt2StepMetrics } from '../../src/experiments/gpt2/metrics.ts';
import { aggregateSweep, RunAccumulator } from '../../src/experiments/sweep/aggregate.ts';
import { gridPoints, resolveSweep } from '../../src/experiments/sweep/spec.ts';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import type { StepMetrics } from '../../src/experiments/toy/metrics.ts';
import { GPT2_DROPOUT, targetDims, type Gpt2Config } from '../../src/models/gpt2.ts';
import { BUNDLE_VERSION, bundleSummary, bundleToJson, MAX_BUNDLE_BYTES, packBundle, parseBundleJson, readBundle, webGzip, type Bundle, type Gzip } from '../../src/results/bundle.ts';
import { compactColumn } from '../../src/results/columns.ts';
import { compareToyTraces, verdictText } from '../../src/results/compare.ts';
import { gpt2Columns, gpt2Rows, toyColumns, toyRows, type Gpt2RunRecord, type SweepRecord, type ToyRunRecord } from '../../src/results/records.ts';

const zlibGzip: Gzip = {
  gzip: async (b) => new Uint8Array(gzipSync(b)),
  gunzip: async (b, max) => new Uint8Array(gunzipSync(b, { maxOutputLength: max })),
};

const f32 = (v: number) => Math.fround(v);

function toyRun(steps = 40, diverge = false): ToyRunRecord {
  const config = { ...defaultToyConfig(), n: 16, rank: 2, steps, testEvery: 10 };
  const rows: StepMetrics[] = [];
  for (let s = 1; s <= steps; s++) {
    const loss = diverge && s === steps ? Infinity : f32(1 / s + 0.01 * Math.sin(s));
    rows.push({ step: s, loss, zA: f32(0.3 * s), zB: diverge && s === steps ? NaN : f32(0.01 * s), normA: f32(1.1), normB: f32(s / 7), normSBA: f32(s / 9), ...(s % 10 === 0 ? { testLoss: f32(1.5 / s) } : {}) });
  }
  const A = Float32Array.from({ length: 2 * 16 }, (_, i) => f32(Math.cos(i)));
  const B = Float32Array.from({ length: 16 * 2 }, (_, i) => f32(Math.sin(i)));
  return { v: 1, kind: 'toy', id: 'toy-1', createdAt: 1_700_000_000_000, engineVersion: 1, adapter: 'google swiftshader', status: diverge ? 'diverged' : 'done', config, divergedAt: diverge ? steps : null, trainMs: 1234.5, trace: toyColumns(rows), final: { A, B } };
}

const TINY: Gpt2Config = { model_type: 'gpt2', n_embd: 8, n_layer: 2, n_head: 2, n_positions: 16, vocab_size: 50, layer_norm_epsilon: 1e-5, n_inner: 32, activation_function: 'gelu_new', ...GPT2_DROPOUT };

function gpt2Run(): Gpt2RunRecord {
  const config = { ...defaultGpt2RunConfig(), rank: 2, seq: 8, batch: 2, steps: 5, evalEvery: 2, targets: ['attn.c_attn', 'mlp.c_fc'] as Gpt2RunRecord['config']['targets'] };
  const k = TINY.n_layer * config.targets.length;
  const rows: Gpt2StepMetrics[] = [1, 2, 3, 4, 5].map((s) => ({
    step: s, loss: f32(4 - s / 10), perplexity: Math.exp(f32(4 - s / 10)), lrScale: f32(1 - s / 8), ...(s !== 3 ? { gradNorm: f32(2 / s) } : {}), ...(s % 2 === 0 ? { evalLoss: f32(4.2 - s / 10), evalPerplexity: Math.exp(f32(4.2 - s / 10)) } : {}),
    zA: Array.from({ length: k }, (_, i) => f32(s + i)), zB: Array.from({ length: k }, (_, i) => f32(s * i)), normA: Array(k).fill(1), normB: Array(k).fill(f32(0.5)), normSBA: Array(k).fill(f32(0.25)),
  }));
  const tensors = [];
  for (let layer = 0; layer < TINY.n_layer; layer++) {
    for (const target of config.targets) {
      const d = targetDims(TINY, target);
      tensors.push({ layer, target, A: Float32Array.from({ length: 2 * d.in }, (_, i) => f32(i / 100)), B: Float32Array.from({ length: d.out * 2 }, (_, i) => f32(-i / 50)) });
    }
  }
  const adapters = tensors.map((t) => `h${t.layer} ${t.target}`);
  return {
    v: 1, kind: 'gpt2', id: 'g-a', createdAt: 1_700_000_000_000, engineVersion: 1, adapter: 'google swiftshader', status: 'done', model: 'tiny', modelConfig: TINY, baseModel: 'random-tiny-gpt2 (seed 1)',
    text: 'shakespeare', config, group: 'grp', divergedAt: null, adapters, trace: gpt2Columns(rows), weights: { step: 5, tensors }, generations: [{ step: 5, mode: 'greedy', prompt: 'ROMEO:', text: 'ROMEO: hi' }],
  };
}

function sweepRecord(): SweepRecord {
  const s = resolveSweep({ version: 1, kind: 'width-scaling', axes: { init: ['A', 'B'], n: [16, 32] }, base: { steps: 3, testEvery: 1 } });
  const runs = gridPoints(s).map((p) => {
    const acc = new RunAccumulator(p, 3, s.threshold, s.curves);
    acc.push([1, 2, 3].map((step) => ({ step, loss: 1 / step, zA: p.n / 10 + step, zB: step / p.n, normA: 1, normB: 1, normSBA: 1, testLoss: 1.1 / step })));
    return acc.summary();
  });
  return { v: 1, kind: 'sweep', id: 'sw-1', createdAt: 1_700_000_000_000, engineVersion: 1, adapter: 'google swiftshader', status: 'done', spec: s.spec, preset: 'e3', runs, timing: { engine: 'batched', adapter: 'google swiftshader', seconds: 1.5, runs: 4, runsPerSecond: 2.6, runStepsPerSecond: 8, batches: 2 } };
}

const bundleOf = (content: Pick<Bundle, 'kind'> & Record<string, unknown>): Bundle => ({ createdAt: '2026-11-28T10:00:00.000Z', title: 'test', ...content }) as Bundle;

function expectOk(r: ReturnType<typeof parseBundleJson>): Bundle {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function expectError(r: ReturnType<typeof parseBundleJson>, pattern: RegExp): void {
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error).toMatch(pattern);
    expect(r.error.length).toBeLessThan(300);
  }
}

/** The JSON of a bundle as a plain object, to be damaged. */
const jsonOf = (b: Bundle) => JSON.parse(bundleToJson(b));

describe('result bundles: round trips', () => {
  it('a toy comparison comes back bit for bit, NaN and Infinity included', () => {
    const runs = [toyRun(), toyRun(30, true)];
    const b = bundleOf({ kind: 'toy-runs', runs });
    const back = expectOk(parseBundleJson(bundleToJson(b)));
    expect(back).toEqual(b);
    if (back.kind !== 'toy-runs') throw new Error('kind');
    expect(toyRows(back.runs[1].trace)).toEqual(toyRows(runs[1].trace));
    expect(back.runs[1].trace.loss[29]).toBe(Infinity);
    expect(Number.isNaN(back.runs[1].trace.zB[29])).toBe(true);
    expect(back.runs[0].trace.loss).toBeInstanceOf(Float32Array);
    expect(compareToyTraces(runs[0].trace, back.runs[0].trace)).toEqual({ kind: 'bit-identical', steps: 40 });
  });

  it('columns stay exact: float32 values as f32, anything else as f64', () => {
    expect(compactColumn([0.5, f32(0.1)])).toBeInstanceOf(Float32Array);
    const wide = compactColumn([0.1, 1]);
    expect(wide).toBeInstanceOf(Float64Array);
    expect(wide[0]).toBe(0.1);
    const rows = toyRows(toyColumns([{ step: 1, loss: 0.1, zA: 0, zB: 0, normA: 0, normB: 0, normSBA: 0, testLoss: 0.2 }]));
    expect(rows).toEqual([{ step: 1, loss: 0.1, zA: 0, zB: 0, normA: 0, normB: 0, normSBA: 0, testLoss: 0.2 }]);
  });

  it('a GPT-2 pair carries its trace and a PEFT adapter that reads back to the same tensors', () => {
    const a = gpt2Run();
    const b = { ...gpt2Run(), id: 'g-b', config: { ...gpt2Run().config, init: 'B' as const } };
    const bundle = bundleOf({ kind: 'gpt2-runs', runs: [a, b] });
    const json = jsonOf(bundle);
    expect(json.runs[0].peft['adapter_config.json'].peft_type).toBe('LORA');
    expect(typeof json.runs[0].peft['adapter_model.safetensors']).toBe('string');
    const back = expectOk(parseBundleJson(JSON.stringify(json)));
    expect(back).toEqual(bundle);
    if (back.kind !== 'gpt2-runs') throw new Error('kind');
    expect(gpt2Rows(back.runs[0].trace, a.adapters.length)).toEqual(gpt2Rows(a.trace, a.adapters.length));
  });

  it('a sweep comes back with the same views (recomputed from its runs)', () => {
    const rec = sweepRecord();
    const back = expectOk(parseBundleJson(bundleToJson(bundleOf({ kind: 'sweep', sweep: rec }))));
    if (back.kind !== 'sweep') throw new Error('kind');
    expect(back.sweep).toEqual(rec);
    const s = resolveSweep(rec.spec);
    expect(aggregateSweep(s, back.sweep.runs, back.sweep.timing!)).toEqual(aggregateSweep(s, rec.runs, rec.timing!));
  });

  it('gzip where large, read back by either implementation; plain JSON below the threshold', async () => {
    const b = bundleOf({ kind: 'toy-runs', runs: [toyRun(2000)] });
    const plain = await packBundle(b, webGzip);
    expect(plain.gzipped).toBe(false);
    for (const [write, read] of [[webGzip, zlibGzip], [zlibGzip, webGzip], [webGzip, webGzip]] as const) {
      const packed = await packBundle(b, write, 1000);
      expect(packed.gzipped).toBe(true);
      expect([...packed.bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      expect(packed.bytes.length).toBeLessThan(plain.bytes.length);
      const r = await readBundle(packed.bytes, read);
      expect(r.ok && r.value).toEqual(b);
    }
    expect((await readBundle(plain.bytes, webGzip)).ok).toBe(true);
  });

  it('summarises what a bundle holds, one line per run', () => {
    const lines = bundleSummary(bundleOf({ kind: 'toy-runs', runs: [toyRun(), toyRun(30, true)] }));
    expect(lines[0]).toMatch(/lora-playground-bundle v1: 2 toy runs/);
    expect(lines[1]).toMatch(/Init\[A\], n = 16, r = 2, .*: done, 40\/40 steps, final loss [\d.]+ \(google swiftshader, engine v1\); final A and B/);
    expect(lines[2]).toMatch(/diverged at step 30, 30\/30 steps/);
    expect(bundleSummary(bundleOf({ kind: 'gpt2-runs', runs: [gpt2Run()] }))[1]).toMatch(/GPT-2 tiny, Init\[A\].*PEFT adapter \(step 5\)/);
  });
});

describe('result bundles: versions', () => {
  it('refuses a newer bundle version and a record version it does not read', () => {
    const json = jsonOf(bundleOf({ kind: 'toy-runs', runs: [toyRun()] }));
    expectError(parseBundleJson(JSON.stringify({ ...json, version: BUNDLE_VERSION + 1 })), /newer version of the playground \(bundle v2/);
    expectError(parseBundleJson(JSON.stringify({ ...json, format: 'lora-playground-sweep' })), /not a result bundle/);
    json.runs[0].v = 2;
    expectError(parseBundleJson(JSON.stringify(json)), /runs\[0\]\.v is 2: this page reads record version 1/);
  });
});

describe('result bundles: hostile files', () => {
  const good = () => jsonOf(bundleOf({ kind: 'toy-runs', runs: [toyRun()] }));

  it('truncated JSON, truncated gzip, empty and binary files say so', async () => {
    const text = bundleToJson(bundleOf({ kind: 'toy-runs', runs: [toyRun()] }));
    expectError(parseBundleJson(text.slice(0, text.length - 100)), /not valid JSON.*truncated/);
    const gz = gzipSync(Buffer.from(text));
    expectError(await readBundle(new Uint8Array(gz.subarray(0, gz.length - 50)), webGzip), /does not decompress \(truncated or damaged\)/);
    expectError(await readBundle(new Uint8Array(0), webGzip), /empty/);
    expectError(await readBundle(Uint8Array.from([0xff, 0xfe, 0x00, 0x80, 0x81]), webGzip), /not text/);
  });

  it('a huge file, a gzip bomb and oversized lists are refused before anything large is built', async () => {
    const bomb = new Uint8Array(gzipSync(Buffer.alloc(MAX_BUNDLE_BYTES + 2 ** 20), { level: 1 }));
    expect(bomb.length).toBeLessThan(2 * 2 ** 20);
    expectError(await readBundle(bomb, webGzip), /decompressed bundle is larger than 256 MiB/);
    const json = good();
    json.runs = Array.from({ length: 65 }, () => json.runs[0]);
    expectError(parseBundleJson(JSON.stringify(json)), /65 runs \(at most 64\)/);
    // A column that claims far more values than the run has steps: refused from its length alone.
    const tall = good();
    tall.runs[0].trace.loss = { f32: 'AAAA'.repeat(1_000_000) };
    expectError(parseBundleJson(JSON.stringify(tall)), /runs\[0\]\.trace\.loss does not hold 40 values/);
    const longer = good();
    longer.runs[0].config.steps = 10;
    expectError(parseBundleJson(JSON.stringify(longer)), /trace\.step has 40 steps, more than the run's 10/);
  });

  it('wrong types are refused with the path of the field', () => {
    const cases: Array<[(j: ReturnType<typeof good>) => void, RegExp]> = [
      [(j) => (j.runs[0].config.n = 'abc'), /runs\[0\]\.config is not valid: Width n must be a number/],
      [(j) => (j.runs[0].config.rank = 64), /runs\[0\]\.config is not valid: Rank r \(64\) must not exceed width n/],
      [(j) => (j.runs[0].trace.loss = [1, 2, 3]), /runs\[0\]\.trace\.loss must be \{"f32": base64\}/],
      [(j) => (j.runs[0].trace.zA = { f32: '!!!!'.repeat(54) }), /trace\.zA is not valid base64/],
      [(j) => (j.runs[0].final.A = { f32: 'AAAA' }), /runs\[0\]\.final\.A does not hold 32 values/],
      [(j) => (j.runs[0].status = 'great'), /runs\[0\]\.status must be one of/],
      [(j) => (j.runs[0].id = '../../etc'), /runs\[0\]\.id must be an id/],
      [(j) => (j.runs[0].createdAt = 'yesterday'), /createdAt must be a finite number/],
      [(j) => (j.runs[0].extra = 1), /runs\[0\] has an unknown field "extra"/],
      [(j) => (j.runs = 'all of them'), /"runs" must be a non-empty list/],
      [(j) => (j.kind = 'movies'), /"kind" must be toy-runs, gpt2-runs or sweep/],
    ];
    for (const [damage, pattern] of cases) {
      const j = good();
      damage(j);
      expectError(parseBundleJson(JSON.stringify(j)), pattern);
    }
    // Steps out of order (a column decoded fine, but not a trace).
    const j = good();
    const steps = Float32Array.from({ length: 40 }, (_, i) => 40 - i);
    j.runs[0].trace.step = { f32: Buffer.from(steps.buffer).toString('base64') };
    expectError(parseBundleJson(JSON.stringify(j)), /trace\.step must be increasing whole steps/);
  });

  it('a sweep whose runs do not match its grid, a GPT-2 adapter that does not match its run', () => {
    const sw = jsonOf(bundleOf({ kind: 'sweep', sweep: sweepRecord() }));
    sw.sweep.runs[0].point.n = 999;
    expectError(parseBundleJson(JSON.stringify(sw)), /sweep\.runs\[0\]\.point does not match grid point 0/);
    const g = jsonOf(bundleOf({ kind: 'gpt2-runs', runs: [gpt2Run()] }));
    g.runs[0].config.rank = 4;
    expectError(parseBundleJson(JSON.stringify(g)), /runs\[0\]\.peft: r \/ lora_alpha \(2 \/ 16\) differ/);
    const g2 = jsonOf(bundleOf({ kind: 'gpt2-runs', runs: [gpt2Run()] }));
    g2.runs[0].peft['adapter_model.safetensors'] = g2.runs[0].peft['adapter_model.safetensors'].slice(0, 400);
    expectError(parseBundleJson(JSON.stringify(g2)), /runs\[0\]\.peft is not a valid PEFT adapter/);
  });

  it('prototype keys are refused wherever they appear, and nothing is polluted', () => {
    const text = bundleToJson(bundleOf({ kind: 'toy-runs', runs: [toyRun()] }));
    const cases = [
      text.replace('{"format"', '{"__proto__":{"polluted":1},"format"'),
      text.replace('"config":{', '"config":{"__proto__":{"polluted":1},'),
      text.replace('"config":{', '"config":{"constructor":{"prototype":{"polluted":1}},'),
      text.replace('"trace":{', '"trace":{"prototype":1,'),
    ];
    for (const t of cases) expectError(parseBundleJson(t), /forbidden key "(__proto__|constructor|prototype)"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('reproducibility badge', () => {
  it('bit-identical, within float32 tolerance (worst relative difference), differs (at which step)', () => {
    const stored = toyRun().trace;
    expect(compareToyTraces(stored, toyRun().trace)).toEqual({ kind: 'bit-identical', steps: 40 });
    const near = toyRun().trace;
    near.loss = Float32Array.from(near.loss, (v, i) => (i === 7 ? f32(v * (1 + 2e-5)) : v));
    const v = compareToyTraces(stored, near);
    expect(v.kind).toBe('within-tolerance');
    if (v.kind === 'within-tolerance') {
      expect(v.worstStep).toBe(8);
      expect(v.worstRelative).toBeGreaterThan(1e-5);
      expect(v.worstRelative).toBeLessThan(3e-5);
    }
    expect(verdictText(v)).toMatch(/within float32 tolerance \(worst relative difference 2\.\de-5, loss at step 8\)/);
    const far = toyRun().trace;
    far.zB = Float32Array.from(far.zB, (x, i) => (i >= 12 ? x * 1.5 : x));
    expect(compareToyTraces(stored, far)).toMatchObject({ kind: 'differs', step: 13, metric: 'zB' });
    const shorter = toyRun(30, true).trace;
    expect(verdictText(compareToyTraces(stored, shorter))).toMatch(/differs at step 30 \(loss: stored .*, reproduced Infinity\)/);
  });
});
