// shaders/reduce.wgsl (reduceToMetric: sum of squares / dot, scaled, optionally square-rooted, written
// to the current step's metrics slot) through src/gpu/kernels/reduce.ts on the Node device. The value
// checks and their fixed-order summation bound are src/selfcheck/kernels/reduce.ts (the self-check's own);
// determinism, signs and the metrics slot are pinned here.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, rand32, runDispatches, U, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { reduceToMetric } from '../../src/gpu/kernels/reduce.ts';
import { advanceStep, createTrainState } from '../../src/gpu/kernels/trainState.ts';
import { checkReduce, type ReduceCase } from '../../src/selfcheck/kernels/reduce.ts';

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

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

const COUNTS = [1, 3, 255, 1000, 1025, 5000, 300_000, 1_100_000];

async function check(c: ReduceCase, seed: number): Promise<void> {
  const r = await checkReduce(env, c, seed);
  expect(r.pass, r.detail).toBe(true);
}

describe('reduceToMetric: sum of squares', () => {
  it(`coordinate RMS (scale 1/k, sqrt) for k in ${COUNTS.join(', ')}`, async () => {
    for (const count of COUNTS) await check({ count, dot: false, sqrt: true, scale: 1 / count, range: 3 }, count);
  });

  it('without sqrt: the loss 1/(2m) sum r^2, and a zero vector gives exactly 0 (sqrt of 0 is 0, not NaN)', async () => {
    for (const m of [1, 17, 1000]) await check({ count: m, dot: false, sqrt: false, scale: 1 / (2 * m), range: 10 }, 7 * m);
    const { state, metrics } = await stateAt(1);
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
      for (const count of COUNTS) await check({ count, dot: true, sqrt, scale: 0.37 }, 3 * count + 1);
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
