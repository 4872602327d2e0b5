// Shared fixture for the GPT-2 tests: the tiny GPT-2, its adapters and batches (src/selfcheck/gpt2Fixture.ts,
// which the self-check trains too), and a relative error.
export { patternStream, randomAdapters, randomBatch, refAdapters, tinyRun, tinyWeights } from '../../src/selfcheck/gpt2Fixture.ts';

/** max |got - want| / max |want|: an error relative to the tensor's scale. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / (m || 1);
}
