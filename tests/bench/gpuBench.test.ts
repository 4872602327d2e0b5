// The page's short benchmark (src/bench/gpuBench.ts): the plan by adapter (full sizes on a GPU within the
// binding limit, scaled down on a software adapter and saying so). A run at tiny sizes is in
// tests/selfcheck/selfcheck.test.ts, after the self-check has compiled most of its pipelines.
import { describe, expect, it } from 'vitest';
import { gpuBenchPlan } from '../../src/bench/gpuBench.ts';

const limits = (binding: number) => ({ maxStorageBufferBindingSize: binding }) as GPUSupportedLimits;

describe('GPU benchmark plan', () => {
  it('full sizes on a GPU, within the binding limit', () => {
    const p = gpuBenchPlan({ isSoftware: false, limits: limits(2 ** 30) });
    expect(p.matmulN).toEqual([1024, 2048, 4096]);
    expect(p.toyN).toEqual([1024, 4096]);
    expect(p.gpt2).toMatchObject({ model: 'distilgpt2', seq: 128, batch: 4, rank: 8 });
    expect(p.scaled).toBeNull();
    expect(gpuBenchPlan({ isSoftware: false, limits: limits(8 * 2 ** 20) }).matmulN).toEqual([1024]);
  });

  it('scaled down on a software adapter, with the note saying how', () => {
    const p = gpuBenchPlan({ isSoftware: true, limits: limits(2 ** 30) });
    expect(Math.max(...p.matmulN)).toBeLessThan(2048);
    expect(p.scaled).toMatch(/software adapter: matmul at n = 256, 512, 1024/);
  });
});
