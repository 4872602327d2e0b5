// shaders/train_state.wgsl (advance, gather) through src/gpu/kernels/trainState.ts.
//
// Tolerance. Everything here is exact (counters, copies, NaN fills) except Adam's bias corrections
// c_t = 1 - beta^t, kept by the fp32 recurrence c_t = (1 - beta) + beta c_{t-1}: a few ulps per step,
// within 3 (t + 1) 2^-24 relative of 1 - (fp32 beta)^t.
import { advanceStep, createTrainState, gatherRows } from '../../gpu/kernels/trainState.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, runDispatches, sentinelOutput, U, type CheckEnv } from '../harness.ts';

const SENTINEL = -31.5;

/**
 * `steps` advances of a state with a ring of `ring` slots of `stride` fields: after each, the step number,
 * the bias corrections, and the metrics ring (slot (t - 1) % ring reset to [t, NaN, ...], every other slot
 * and the tail as before; a field written between steps must be cleared on the next wrap-around).
 */
export async function checkAdvance(env: CheckEnv, ring: number, stride: number, steps: number, beta1 = 0.9, beta2 = 0.999): Promise<CheckResult> {
  const { arena } = env;
  const device = arena.device;
  const state = createTrainState(arena, ring, stride);
  const metrics = sentinelOutput(arena, ring * stride, SENTINEL, undefined, 'metrics');
  const advance = advanceStep(arena, state, metrics, beta1, beta2);
  const cmp = new Compare();
  let expected = new Float32Array(ring * stride + GUARD).fill(SENTINEL);
  for (let t = 1; t <= steps; t++) {
    await runDispatches(device, [advance], `advance ${t}`);
    const f = await env.read(state, 8);
    const u = new Uint32Array(f.buffer);
    cmp.exact(`state after step ${t} (step, ring, stride)`, [u[0], u[1], u[2]], [t, ring, stride]);
    const c1 = 1 - Math.fround(beta1) ** t;
    const c2 = 1 - Math.fround(beta2) ** t;
    cmp.scalar(`1 - beta1^${t}`, f[4], c1, 3 * (t + 1) * U * c1).scalar(`1 - beta2^${t}`, f[5], c2, 3 * (t + 1) * U * c2);
    const slot = ((t - 1) % ring) * stride;
    expected = expected.slice();
    expected[slot] = t;
    for (let k = 1; k < stride; k++) expected[slot + k] = NaN;
    cmp.exact(`metrics ring after step ${t}`, await env.read(metrics, ring * stride + GUARD), expected);
    // This step's kernels filling a field: the next wrap-around must clear it again.
    if (stride > 2) {
      device.queue.writeBuffer(metrics, (slot + 2) * 4, Float32Array.of(100 + t));
      expected[slot + 2] = 100 + t;
    }
  }
  return cmp.result();
}

/**
 * gatherRows: out (rows x cols) = the src rows this step's slice of `indices` names (stepsStored batches,
 * cycled), bit for bit, for stepsStored + 1 steps; the last source row and a repeated row included.
 */
export async function checkGather(env: CheckEnv, N: number, rows: number, cols: number, stepsStored: number): Promise<CheckResult> {
  const { arena } = env;
  const src = Float32Array.from({ length: N * cols }, (_, i) => i + 0.25);
  const indices = new Uint32Array(stepsStored * rows);
  for (let i = 0; i < indices.length; i++) indices[i] = (i * 7919 + 3) % N;
  indices[0] = N - 1; // the last row
  if (rows > 1) indices[1] = indices[0]; // a repeated row
  const state = createTrainState(arena, 2, 1);
  const out = sentinelOutput(arena, rows * cols, SENTINEL);
  const advance = advanceStep(arena, state, arena.storage('metrics', 2), 0.9, 0.999);
  const gather = gatherRows(arena, { state, src: arena.storage('src', src), indices: arena.storage('indices', indices), out, rows, cols, stepsStored });
  const cmp = new Compare();
  for (let t = 1; t <= stepsStored + 1; t++) {
    await runDispatches(arena.device, [advance, gather], `gather step ${t}`);
    const got = await env.read(out, rows * cols + GUARD);
    const batch = (t - 1) % stepsStored;
    const want = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) want.set(src.subarray(indices[batch * rows + r] * cols, (indices[batch * rows + r] + 1) * cols), r * cols);
    cmp.exact(`gathered rows at step ${t}`, got.subarray(0, rows * cols), want).untouched(`gather step ${t}`, got, SENTINEL, rows * cols);
  }
  return cmp.result();
}
