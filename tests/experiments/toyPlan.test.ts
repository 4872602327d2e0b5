// The toy's memory plan (src/experiments/toy/plan.ts) counts the test set, the teacher's targets and the
// setup temporaries, so a configuration that cannot fit is refused with the numbers before any work; and
// the exchange file is written in pieces with exactly the text JSON.stringify would give.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { drawToyTensors, exchangeNumbers, toExchange, writeExchange } from '../../src/experiments/toy/data.ts';
import { checkFits, planToy } from '../../src/experiments/toy/plan.ts';

const limits = (mib: number) => ({ limits: { maxStorageBufferBindingSize: mib * 2 ** 20, maxBufferSize: mib * 2 ** 20 } as GPUSupportedLimits });

describe('toy plan', () => {
  it('the test set counts: its features are the largest buffer when it is the largest set', () => {
    const c = { ...defaultToyConfig(), n: 2720, d: 1, nTrain: 1, nTest: 100000, rank: 1 };
    const plan = planToy(c);
    expect(plan.largest).toEqual({ name: 'H1.test', rows: 100000, cols: 2720, bytes: 100000 * 2720 * 4 });
    expect(checkFits(limits(1024), c)).toBe('the buffer H1.test (100000 x 2720) needs 1038 MiB but this GPU allows at most 1024 MiB per buffer');
    // The teacher's targets are computed set by set on the larger one: at least H1, P2 and H2 of the test set at once.
    expect(plan.total).toBeGreaterThan(3 * 100000 * 2720 * 4);
  });

  it('a run over the budget is refused with what it needs', () => {
    const c = { ...defaultToyConfig(), n: 8192, nTrain: 30000, d: 1024, steps: 1 };
    const msg = checkFits(limits(2048), c, 2 * 2 ** 30)!;
    expect(msg).toMatch(/^it needs about (\d+) MiB of GPU memory \(weights \d+ MiB, features \d+ MiB, activations \d+ MiB, setup \d+ MiB\) but the budget is 2048 MiB$/);
    expect(Number(/about (\d+) MiB/.exec(msg)![1])).toBeGreaterThan(4 * 1024); // H1, P2, H2, dP2 of 30000 x 8192 alone
    expect(checkFits(limits(2048), { ...defaultToyConfig(), n: 64 }, 2 * 2 ** 30)).toBeNull();
  });
});

describe('exchange file written in pieces', () => {
  it('is the same text as JSON.stringify, and its size estimate counts every number', () => {
    const c = { ...defaultToyConfig(), n: 24, d: 5, rank: 3, nTrain: 7, nTest: 4, batch: 3 };
    const t = drawToyTensors(c);
    const withY = { ...t, Y_train: new Float32Array(7).fill(-0.25), Y_test: new Float32Array(4).fill(1e-7) };
    const pieces: string[] = [];
    writeExchange(c, withY, (p) => pieces.push(p));
    expect(pieces.join('')).toBe(JSON.stringify(toExchange(c, withY)));
    const numbers = Object.values(toExchange(c, withY).tensors).reduce((a, x) => a + x.data.length, 0);
    expect(exchangeNumbers(c)).toBe(numbers);
    expect(() => writeExchange(c, { ...withY, Y_test: Float32Array.of(1, NaN, 1, 1) }, () => undefined)).toThrow(/Y_test\[1\] is not a finite number/);
  });
});
