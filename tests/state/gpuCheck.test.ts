// A kernel that failed the page's self-check stops the tabs that train with it, with the message naming the
// kernel and what to do; the tabs that do not use it still train.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultGpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { train } from '../../src/state/gpt2Runner.ts';
import { useGpt2Store } from '../../src/state/gpt2Store.ts';
import { trainingRefusal, useGpuCheckStore } from '../../src/state/gpuCheckStore.ts';
import { resourceError } from '../../src/state/runner.ts';
import { startSweep } from '../../src/state/sweepRunner.ts';
import { useSweepStore } from '../../src/state/sweepStore.ts';

const failedMatmul = { name: 'matmul NN 17x65x33 tile 8x4/22', family: 'matmul' as const, detail: 'C[3]: got 0.5, want 0.25 ± 1e-7' };
const failedXent = { name: 'softmax_xent (7 rows, 333 classes in chunks of 100)', family: 'softmax_xent' as const, detail: 'dlogits: relative error 3e-1 > 0.00001' };

afterEach(() => useGpuCheckStore.getState().set({ failed: [] }));

describe('training refused on a kernel that failed the self-check', () => {
  it('nothing failed: every tab may train', () => {
    for (const engine of ['playground', 'sweep', 'gpt2'] as const) expect(trainingRefusal(engine)).toBeNull();
    expect(resourceError(defaultToyConfig())).toBeNull(); // no device in Node: nothing else to refuse
  });

  it('a failed matmul stops the Playground, the sweeps and GPT-2, naming the kernel and the remedy', async () => {
    useGpuCheckStore.getState().set({ failed: [failedMatmul] });
    const playground = resourceError(defaultToyConfig());
    expect(playground).toMatch(/^Training is refused: the self-check found the matmul kernel giving wrong results on this GPU \(matmul NN 17x65x33 tile 8x4\/22: C\[3\]: got 0.5/);
    expect(playground).toMatch(/Update the GPU driver and the browser, or try another browser or GPU/);

    expect(useSweepStore.getState().checked.ok).toBe(true);
    await startSweep();
    expect(useSweepStore.getState().phase).toBe('error');
    expect(useSweepStore.getState().message).toBe(playground);

    useGpt2Store.getState().set({ config: defaultGpt2RunConfig(), phase: 'idle', failure: null });
    await train(false);
    expect(useGpt2Store.getState().failure).toBe(playground);
    expect(useGpt2Store.getState().runs).toEqual([]);
  });

  it('a failed softmax_xent stops GPT-2 only', () => {
    useGpuCheckStore.getState().set({ failed: [failedXent] });
    expect(trainingRefusal('gpt2')).toMatch(/softmax_xent kernel/);
    expect(trainingRefusal('playground')).toBeNull();
    expect(trainingRefusal('sweep')).toBeNull();
  });
});
