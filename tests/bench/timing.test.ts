// src/gpu/timing.ts: per-kernel GPU time from timestamp queries. Checks the bookkeeping (labels, calls,
// capacity, reuse across collects) and that Node timestamps are not quantized; never how fast anything is.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';

import type { GpuContext } from '../../src/gpu/device.ts';
import { matmul } from '../../src/gpu/kernels/matmul.ts';
import { encodePass, type Dispatch } from '../../src/gpu/pipelines.ts';
import { createProfiler, Profiler } from '../../src/gpu/timing.ts';

let ctx: GpuContext;
let work: Dispatch[];
beforeAll(async () => {
  ctx = await testGpu();
  const d = new GpuArena(ctx.device, 'timing.test');
  const buf = (n: number) => d.storage('timing.test', Float32Array.from({ length: n }, (_, i) => (i % 7) - 3));
  const a = buf(96 * 96);
  const b = buf(96 * 96);
  work = [
    ...matmul(d, { M: 96, N: 96, K: 96, a, b, c: d.storage('c1', 96 * 96), label: 'first' }),
    ...matmul(d, { M: 96, N: 96, K: 96, a, b, c: d.storage('c2', 96 * 96), transB: true, label: 'second' }),
  ];
});

function step(p: Profiler): void {
  const enc = ctx.device.createCommandEncoder();
  encodePass(enc, work, p);
  ctx.device.queue.submit([enc.finish()]);
}

describe('Profiler', () => {
  it('says why when the adapter has no timestamp queries', () => {
    const p = createProfiler({ ...ctx, hasTimestamps: false });
    expect(p).toEqual({ available: false, reason: expect.stringMatching(/not available.*timestamp-query/) });
  });

  it('aggregates GPU time by dispatch label over steps and collects, reusing one query set', async () => {
    if (!ctx.hasTimestamps) return;
    const p = createProfiler(ctx, 8) as Profiler;
    expect(p.available).toBe(true);
    step(p);
    step(p);
    await p.collect();
    step(p); // the same queries again, after the collect
    await p.collect();
    const s = p.summary(3);
    expect(s.kernels.map((k) => k.label).sort()).toEqual(['first', 'second']);
    for (const k of s.kernels) {
      expect(k.calls).toBe(3);
      expect(k.totalMs).toBeGreaterThan(0);
      expect(k.meanMs).toBeCloseTo(k.totalMs / 3, 12);
      expect(k.perStepMs).toBeCloseTo(k.totalMs / 3, 12);
    }
    expect(s.totalMs).toBeCloseTo(s.kernels.reduce((t, k) => t + k.totalMs, 0), 12);
    expect(s.untimed).toBe(0);
    // src/gpu/node.ts disables Dawn's timestamp quantization.
    expect(s.quantized).toBe(false);
    p.reset();
    expect(p.summary().kernels).toEqual([]);
    p.destroy();
  });

  it('encodes dispatches past its capacity untimed and counts them', async () => {
    if (!ctx.hasTimestamps) return;
    const p = createProfiler(ctx, 1) as Profiler;
    step(p);
    await p.collect();
    const s = p.summary();
    expect(s.kernels).toHaveLength(1);
    expect(s.kernels[0]).toMatchObject({ label: 'first', calls: 1 });
    expect(s.untimed).toBe(1);
    p.destroy();
  });
});
