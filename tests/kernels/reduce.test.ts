// shaders/reduce.wgsl (reduceToMetric: sum of squares / dot, scaled, optionally square-rooted, written
// to the current step's metrics slot) through src/gpu/kernels/reduce.ts on the Node device.
//
// Tolerance. The sum runs in fixed order: a strided per-thread sum, a 128-wide tree (7 levels), and for
// large inputs the same again over the per-workgroup partials (src/gpu/kernels/reduce.ts: one workgroup
// sums up to 32768 elements directly, 256 per thread; above that, chunks of 4096, 32 per thread). Each
// term passes through at most `additions(count)` roundings, so the fp32 sum is within additions * u of
// sum |x_i y_i|; the scale multiply adds one rounding, sqrt halves the relative error and adds one.
// (Random rounding errors mostly cancel; this worst-case bound is still far tighter than any bug.)
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from './harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { reduceToMetric } from '../../src/gpu/kernels/reduce.ts';
import { advanceStep, createTrainState } from '../../src/gpu/kernels/trainState.ts';


let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});


function rand32(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * r());
}

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

const RING = 3;
const STRIDE = 6;

/** A training state advanced to `step`, with its metrics ring (RING slots of STRIDE fields). */
async function stateAt(step: number): Promise<{ state: GPUBuffer; metrics: GPUBuffer; advance: Dispatch }> {
  const state = createTrainState(arena, RING, STRIDE);
  const metrics = arena.storage('metrics', RING * STRIDE);
  const advance = advanceStep(arena, state, metrics, 0.9, 0.999);
  for (let t = 0; t < step; t++) await run([advance], 'advance');
  return { state, metrics, advance };
}

function expectClose(got: number, want: number, tol: number, what: string): void {
  expect(Number.isFinite(got), `${what}: got ${got}`).toBe(true);
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want} +- ${tol}`).toBeLessThanOrEqual(tol);
}

const COUNTS = [1, 3, 255, 1000, 1025, 5000, 300_000, 1_100_000];

/** Worst-case roundings any one term sees, following the kernel's fixed summation order. */
function additions(count: number): number {
  if (count <= 32768) return Math.ceil(count / 128) + 7;
  const groups = Math.ceil(count / Math.max(4096, Math.ceil(count / 1024 / 128) * 128));
  return Math.ceil(4096 / 128) + 7 + Math.ceil(groups / 128) + 7;
}

describe('reduceToMetric: sum of squares', () => {
  it(`coordinate RMS (scale 1/k, sqrt) for k in ${COUNTS.join(', ')}`, async () => {
    const { state, metrics } = await stateAt(1);
    for (const count of COUNTS) {
      const x = rand32(count, count, -3, 3);
      const xBuf = arena.storage('x', x);
      await run(reduceToMetric(arena, { x: xBuf, count, scale: 1 / count, sqrt: true, label: `rms${count}`, metrics, state, field: 3 }), `rms ${count}`);
      const got = (await readFloats(device, metrics, STRIDE))[3];
      let sum = 0;
      for (let i = 0; i < count; i++) sum += x[i] * x[i];
      const want = Math.sqrt((Math.fround(1 / count) * sum));
      expectClose(got, want, ((additions(count) + 1) / 2 + 1) * U * want, `rms of ${count}`);
      xBuf.destroy();
    }
  });

  it('without sqrt: the loss 1/(2m) sum r^2, and a zero vector gives exactly 0 (sqrt of 0 is 0, not NaN)', async () => {
    const { state, metrics } = await stateAt(1);
    for (const m of [1, 17, 1000]) {
      const r = rand32(m, 7 * m, -10, 10);
      await run(reduceToMetric(arena, { x: arena.storage('r', r), count: m, scale: 1 / (2 * m), sqrt: false, label: 'loss', metrics, state, field: 1 }), `loss ${m}`);
      const got = (await readFloats(device, metrics, STRIDE))[1];
      let sum = 0;
      for (let i = 0; i < m; i++) sum += r[i] * r[i];
      const want = Math.fround(1 / (2 * m)) * sum;
      expectClose(got, want, (additions(m) + 1) * U * want, `loss of ${m}`);
    }
    const zeros = arena.storage('zeros', new Float32Array(300));
    await run(reduceToMetric(arena, { x: zeros, count: 300, scale: 1 / 300, sqrt: true, label: 'zero', metrics, state, field: 2 }), 'zero');
    expect((await readFloats(device, metrics, STRIDE))[2]).toBe(0);
  });

  it('is bit-identical from run to run', async () => {
    const { state, metrics } = await stateAt(1);
    const count = 300_000;
    const x = arena.storage('x', rand32(count, 5));
    const d = reduceToMetric(arena, { x, count, scale: 1 / count, sqrt: true, label: 'det', metrics, state, field: 4 });
    const bits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await run(d, 'determinism');
      bits.push(new Uint32Array((await readFloats(device, metrics, STRIDE)).buffer)[4]);
    }
    expect(bits[1]).toBe(bits[0]);
    expect(bits[2]).toBe(bits[0]);
  });
});

describe('reduceToMetric: dot product', () => {
  for (const sqrt of [false, true]) {
    it(`scale * sum x*y${sqrt ? ', square-rooted' : ''} for k in 1 ... 1.1M`, async () => {
      const { state, metrics } = await stateAt(1);
      for (const count of COUNTS) {
        const x = rand32(count, 3 * count + 1);
        // With sqrt the dot must be positive (it is ||B A||^2 = <B^T B, A A^T> in use): bias y toward x.
        const y = sqrt ? Float32Array.from(rand32(count, 3 * count + 2), (v, i) => x[i] + 0.5 * v) : rand32(count, 3 * count + 2);
        const scale = 0.37;
        await run(
          reduceToMetric(arena, { x: arena.storage('x', x), y: arena.storage('y', y), count, scale, sqrt, label: 'dot', metrics, state, field: 5 }),
          `dot ${count}`,
        );
        const got = (await readFloats(device, metrics, STRIDE))[5];
        let dot = 0;
        let abs = 0;
        for (let i = 0; i < count; i++) {
          dot += x[i] * y[i];
          abs += Math.abs(x[i] * y[i]);
        }
        const s = Math.fround(scale);
        if (sqrt) {
          expect(dot).toBeGreaterThan(0);
          const want = Math.sqrt(s * dot);
          // d sqrt(v) = dv / (2 sqrt(v)): the absolute error of v over 2 sqrt(v), plus one rounding.
          expectClose(got, want, ((additions(count) + 1) * U * s * abs) / (2 * want) + U * want, `sqrt dot of ${count}`);
        } else {
          expectClose(got, s * dot, (additions(count) + 1) * U * s * abs, `dot of ${count}`);
        }
      }
    });
  }

  it('a negative dot without sqrt keeps its sign', async () => {
    const { state, metrics } = await stateAt(1);
    const x = Float32Array.from({ length: 777 }, (_, i) => (i % 5) - 2.5);
    const y = Float32Array.from(x, (v) => -2 * v);
    await run(reduceToMetric(arena, { x: arena.storage('x', x), y: arena.storage('y', y), count: 777, scale: 1, sqrt: false, label: 'neg', metrics, state, field: 1 }), 'neg');
    let want = 0;
    for (let i = 0; i < 777; i++) want += x[i] * y[i];
    expect((await readFloats(device, metrics, STRIDE))[1]).toBe(want); // small integers and halves: exact
  });
});

describe('reduceToMetric: metrics slot', () => {
  it('writes field f of slot (step - 1) % ring, and nothing else', async () => {
    const { state, metrics, advance } = await stateAt(0);
    const x = Float32Array.from([3, 4]); // sum of squares 25
    const xBuf = arena.storage('x', x);
    const snapshots: Float32Array[] = [];
    for (let t = 1; t <= 5; t++) {
      const field = 1 + (t % (STRIDE - 1));
      await run([advance, ...reduceToMetric(arena, { x: xBuf, count: 2, scale: t, sqrt: t % 2 === 0, label: `slot${t}`, metrics, state, field })], `step ${t}`);
      const got = await readFloats(device, metrics, RING * STRIDE);
      const slot = (t - 1) % RING;
      const want = t % 2 === 0 ? Math.sqrt(25 * t) : 25 * t;
      for (let f = 0; f < STRIDE; f++) {
        const v = got[slot * STRIDE + f];
        if (f === 0) expect(v).toBe(t);
        else if (f === field) expect(Math.abs(v - want)).toBeLessThanOrEqual(2 * U * want);
        else expect(v, `slot ${slot} field ${f} after step ${t}`).toBeNaN();
      }
      // Other slots keep what the previous steps left there.
      if (snapshots.length) {
        const prev = snapshots[snapshots.length - 1];
        for (let i = 0; i < RING * STRIDE; i++) {
          if (Math.floor(i / STRIDE) === slot) continue;
          expect(Object.is(got[i], prev[i]) || (Number.isNaN(got[i]) && Number.isNaN(prev[i])), `metrics[${i}] after step ${t}`).toBe(true);
        }
      }
      snapshots.push(got);
    }
  });
});
