// A failure never passes as a result (issue 17), in Node on devices of their own (openFresh), destroyed or
// broken mid-run:
//   - a sweep whose device is lost marks the runs it cut short 'lost' at their last step (never 'done'),
//     keeps their metrics, and trains the batches not yet started on a fresh device;
//   - a GPT-2 session whose device is lost ends 'lost' at its last delivered step with its metrics kept,
//     and the next session runs on a fresh device;
//   - a WebGPU error raised while steps run (outside any error scope) stops the run with status 'error'
//     and the message, through the host's uncapturederror listener.
import { describe, expect, it } from 'vitest';
import { randomGpt2Weights } from '../../src/experiments/gpt2/random.ts';
import { defaultGpt2RunConfig, Gpt2Session, type Gpt2StepMetrics } from '../../src/experiments/gpt2/session.ts';
import { runSweep } from '../../src/experiments/sweep/runner.ts';
import { validateSweepSpec } from '../../src/experiments/sweep/spec.ts';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { ToySession } from '../../src/experiments/toy/session.ts';
import { GpuHost } from '../../src/gpu/host.ts';
import { openFresh } from '../../src/gpu/node.ts';
import { GPT2_DROPOUT, type Gpt2Config } from '../../src/models/gpt2.ts';

const TINY: Gpt2Config = { model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, vocab_size: 320, layer_norm_epsilon: 1e-5, n_inner: 128, activation_function: 'gelu_new', ...GPT2_DROPOUT };
const tokens = (n: number) => Uint32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % 320);

describe('device loss', () => {
  it('a sweep: runs cut short are lost at their last step with their metrics; later batches run on a fresh device', async () => {
    const host = new GpuHost(() => openFresh());
    const steps = 800;
    const spec = validateSweepSpec({ version: 1, kind: 'width-scaling', base: { steps, nTrain: 20, nTest: 5, testEvery: 50, eta: 1e-3 }, axes: { init: ['A', 'B'], n: [16, 128, 160] } });
    if (!spec.ok) throw new Error(spec.error);
    let destroyed = false;
    const result = await runSweep(host, spec.value, {
      engine: 'batched',
      // The first batch (n = 16) has finished: the second (n = 128, slower) is training. Lose the device now.
      onProgress: (p) => {
        if (!destroyed && p.runsDone >= 2) {
          destroyed = true;
          host.current!.device.destroy();
        }
      },
    });
    const byN = (n: number) => result.runs.filter((r) => r.point.n === n);
    expect(byN(16).map((r) => r.status)).toEqual(['done', 'done']);
    const lost = result.runs.filter((r) => r.status === 'lost');
    expect(lost.length).toBeGreaterThanOrEqual(2);
    for (const r of result.runs) {
      expect(['done', 'lost']).toContain(r.status);
      if (r.status === 'done') expect(r.steps).toBe(steps);
      else {
        expect(r.steps).toBeLessThan(steps);
        expect(r.error).toMatch(/device was lost at step \d+/);
        if (r.steps > 0) expect(r.firstLoss).not.toBeNull(); // the metrics before the loss are kept
      }
    }
    // The last batch started after the loss: a fresh device trained it to the end.
    expect(byN(160).map((r) => r.status)).toEqual(['done', 'done']);
    expect(host.devicesOpened).toBe(2);
  });

  it('GPT-2: the session ends lost at its last step with its metrics; the next one runs on a fresh device', async () => {
    const host = new GpuHost(() => openFresh());
    const weights = randomGpt2Weights(TINY, 1);
    const config = { ...defaultGpt2RunConfig(), seq: 16, batch: 2, steps: 300, evalEvery: 0, eta: 1e-2 };
    const data = { train: tokens(4000) };
    const session = await Gpt2Session.create(host, weights, config, data, { readEvery: 1 });
    const rows: Gpt2StepMetrics[] = [];
    let destroyed = false;
    session.subscribe({
      onMetrics: (r) => {
        rows.push(...r);
        if (rows.length >= 3 && !destroyed) {
          destroyed = true;
          session.trainer.arena.device.destroy();
        }
      },
    });
    const end = await session.runToEnd();
    expect(end.status).toBe('lost');
    expect(end.step).toBeGreaterThanOrEqual(3);
    expect(end.step).toBeLessThan(config.steps);
    expect(end.message).toMatch(new RegExp(`lost at step ${end.step}\\b`));
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: end.step }, (_, i) => i + 1));
    expect(rows.every((r) => Number.isFinite(r.loss))).toBe(true);
    await session.dispose();

    const next = await Gpt2Session.create(host, weights, { ...config, steps: 3 }, data);
    expect(next.trainer.arena.device).not.toBe(session.trainer.arena.device);
    expect((await next.runToEnd()).status).toBe('done');
    await next.dispose();
    expect(host.devicesOpened).toBe(2);
  });
});

describe('GPU errors while steps run', () => {
  it('stop the run with status error and the message; the metrics before are kept; never done', async () => {
    const host = new GpuHost(() => openFresh());
    const session = await ToySession.create(host, { ...defaultToyConfig(), n: 32, nTrain: 20, nTest: 5, steps: 3000 }, { readEvery: 4 });
    let steps = 0;
    session.subscribe({
      onMetrics: (rows) => {
        steps = rows[rows.length - 1].step;
        // A buffer over the device's limit, outside any error scope: what a kernel bug looks like to the host.
        if (steps >= 8 && !host.errors.length) session.trainer.arena.device.createBuffer({ size: 2 ** 52, usage: GPUBufferUsage.STORAGE });
      },
    });
    const end = await session.runToEnd();
    expect(end.status).toBe('error');
    expect(end.message).toMatch(/^WebGPU validation error while running: Buffer size \(\d+\) exceeds the max buffer size limit.* \(the run stopped at step \d+\)$/);
    expect(end.step).toBeGreaterThanOrEqual(8);
    expect(end.step).toBeLessThan(3000);
    expect(host.errors).toHaveLength(1);
    await session.dispose();
    host.current?.device.destroy();
  });
});
