// Every GPU buffer a trainer makes (its own, and those made inside kernel wrappers: uniforms, split-K
// partials, Adam moments, Gram scratch, ring staging, generation buffers) is freed by its destroy():
// build, train and destroy 200 toy runs, 20 sweep batches and 20 tiny GPT-2 runs on one device, and the
// live buffers and bytes return to where they started. The count comes from a wrapper of the device made
// here, not from the arenas under test.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig, type ToyConfig } from '../../src/experiments/toy/config.ts';
import { ToySession } from '../../src/experiments/toy/session.ts';
import { batchSession, ToyBatchTrainer } from '../../src/experiments/sweep/batchTrainer.ts';
import { Gpt2Session, splitTokens } from '../../src/experiments/gpt2/session.ts';
import { GpuHost } from '../../src/gpu/host.ts';
import { testGpu } from '../gpu.ts';
import { patternStream, tinyRun, tinyWeights } from '../gpt2/fixture.ts';

/** The device behind a proxy that counts live buffers (created and not yet destroyed) and their bytes. */
function countingDevice(device: GPUDevice): { device: GPUDevice; live: () => { buffers: number; bytes: number } } {
  const live = new Map<GPUBuffer, number>();
  const proxy = new Proxy(device, {
    get(target, prop) {
      if (prop === 'createBuffer') {
        return (desc: GPUBufferDescriptor) => {
          const b = target.createBuffer(desc);
          live.set(b, b.size);
          const destroy = b.destroy.bind(b);
          Object.defineProperty(b, 'destroy', { value: () => (live.delete(b), destroy()) });
          return b;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { device: proxy, live: () => ({ buffers: live.size, bytes: [...live.values()].reduce((a, b) => a + b, 0) }) };
}

describe('GPU memory is returned when trainers end', () => {
  it('200 toy runs, 20 sweep batches and 20 tiny GPT-2 runs leave no buffer behind', async () => {
    const ctx = await testGpu();
    const counted = countingDevice(ctx.device);
    const host = new GpuHost(async () => ({ ...ctx, device: counted.device }));
    const c = await host.context();
    const toy: ToyConfig = { ...defaultToyConfig(), n: 20, d: 3, rank: 2, nTrain: 12, nTest: 5, steps: 2, testEvery: 2 };
    const w = tinyWeights();
    const data = splitTokens(patternStream(w.config.vocab_size, 300), 0.25);

    const toyRun = async (i: number) => {
      const s = await ToySession.create(host, { ...toy, seed: i, batch: i % 2 ? 4 : 0 });
      await s.runToEnd();
      await s.dispose();
    };
    const batchRun = async (i: number) => {
      const t = await ToyBatchTrainer.create(c, { ...toy, seed: i }, [
        { init: 'A', initDist: 'gaussian', eta: 1e-2, lambda: 4, wd: 0 },
        { init: 'B', initDist: 'uniform', eta: 1e-3, lambda: 1, wd: 0.1 },
      ]);
      const s = batchSession(t, host);
      await s.runToEnd();
      await s.dispose();
    };
    const gpt2Run = async (i: number) => {
      // Every other run with HF's training options on: dropout, clipping, a schedule, gradient accumulation.
      const options = i % 2 ? { dropout: 0.1, loraDropout: 0.05, maxGradNorm: 1, gradAccum: 2, schedule: 'cosine' as const, warmup: 1 } : {};
      const s = await Gpt2Session.create(host, w, tinyRun({ steps: 2, evalEvery: 1, seed: i, ...options }), data);
      await s.runToEnd();
      if (i % 4 === 0) await s.generate([1, 2, 3], { maxNewTokens: 2 }); // the generation buffers are freed too
      await s.dispose();
    };

    // Warm-up: pipelines and the device-lifetime placeholder (matmul's unused binding) are made once.
    await toyRun(0);
    await batchRun(0);
    await gpt2Run(0);
    await gpt2Run(1);
    const baseline = counted.live();

    for (let i = 1; i <= 200; i++) await toyRun(i);
    expect(counted.live(), 'after 200 toy runs').toEqual(baseline);
    for (let i = 1; i <= 20; i++) await batchRun(i);
    expect(counted.live(), 'after 20 sweep batches').toEqual(baseline);
    for (let i = 1; i <= 20; i++) await gpt2Run(i);
    expect(counted.live(), 'after 20 GPT-2 runs').toEqual(baseline);
    expect(baseline.buffers).toBeLessThanOrEqual(2);
  });
});
