// The self-check (src/selfcheck/suite.ts) on this machine's adapter (SwiftShader here): every check passes;
// a wrong result (a planted corruption of what the GPU returns) is reported as a failure naming the kernel,
// with an error above the tolerance; the engines that use that kernel are refused, the others are not; the
// CLI command maps a failure to exit code 1. The page's short benchmark runs at tiny sizes after it (sharing
// its compiled pipelines) and yields every figure.
import { beforeAll, describe, expect, it } from 'vitest';
import { runGpuBenchmark } from '../../src/bench/gpuBench.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { selfcheckCommand } from '../../src/cli/selfcheck.ts';
import { refusalFor } from '../../src/selfcheck/families.ts';
import { tinyWeights } from '../../src/selfcheck/gpt2Fixture.ts';
import { runSelfcheck, selfcheckPlan, type SelfcheckReport } from '../../src/selfcheck/suite.ts';
import { GpuHost } from '../../src/gpu/host.ts';
import { openFresh } from '../../src/gpu/node.ts';
import { testGpu, testHost } from '../gpu.ts';

/** A GPU that is wrong by 0.1% in the first value of every readback. */
async function corruptRead(buffer: GPUBuffer, floats: number): Promise<Float32Array> {
  const x = await readFloats((await testGpu()).device, buffer, floats);
  x[0] = x[0] * 1.001 + 1e-3;
  return x;
}

describe('selfcheck on this adapter', () => {
  let report: SelfcheckReport;
  const seen: number[] = [];
  beforeAll(async () => {
    report = await runSelfcheck(testHost(), { onProgress: (done, total) => seen.push(done / total) });
  }, 300_000);

  it('runs every check of the plan and every one passes', () => {
    expect(report.checks.map((c) => c.name)).toEqual(selfcheckPlan().map((c) => c.name));
    for (const c of report.checks) {
      expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
      expect(c.maxRelError).toBeLessThanOrEqual(c.tolerance);
    }
    expect(report.pass).toBe(true);
    expect(seen[seen.length - 1]).toBe(1);
    expect(report.adapter.name).toMatch(/swiftshader/i);
    expect(report.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(report.adapter.features).toContain('timestamp-query');
  });

  it('covers every kernel family, both toy_batch forward kernels and both AdamW entry points', () => {
    const families = new Set(report.checks.map((c) => c.family));
    for (const f of ['matmul', 'activation', 'loss', 'reduce', 'train_state', 'adamw', 'embedding', 'bias', 'layernorm', 'attention', 'softmax_xent', 'toy_batch', 'toy', 'gpt2']) expect(families.has(f as never), f).toBe(true);
    const names = report.checks.map((c) => c.name).join('\n');
    for (const part of ['rows_thread', 'toy_batch rows:', 'step_runs', 'adamw step (', 'splits=', 'lowrank', 'batch=', 'two passes', 'chunks of 100', '256 and 64 threads', 'E0 parity', 'batched vs single', 'gpt2 tiny step']) expect(names).toContain(part);
  });

  it('reports a wrong result as a failure naming the kernel, and refuses the engines that use it', async () => {
    const planted = await runSelfcheck(testHost(), { only: ['matmul NN 17x65x33 tile', 'adamw step_runs'], read: corruptRead });
    expect(planted.checks.length).toBeGreaterThanOrEqual(2);
    expect(planted.pass).toBe(false);
    for (const c of planted.checks) {
      expect(c.pass, c.name).toBe(false);
      expect(c.maxRelError).toBeGreaterThan(c.tolerance);
    }
    const failed = planted.checks.filter((c) => !c.pass);
    expect(failed.map((c) => c.family)).toContain('matmul');
    const refusal = refusalFor('gpt2', failed);
    expect(refusal).toMatch(/matmul.*wrong results on this GPU .*matmul NN 17x65x33/);
    expect(refusal).toMatch(/Update the GPU driver/);
    expect(refusalFor('playground', failed.filter((c) => c.family === 'adamw'))).toMatch(/adamw/);
    expect(refusalFor('gpt2', report.checks.filter((c) => !c.pass))).toBeNull();
  });

  it('a device lost mid-run stops the self-check with an error instead of failing kernels', async () => {
    const ctx = await openFresh();
    const host = new GpuHost(async () => ctx);
    const run = runSelfcheck(host, { only: ['activation'], onProgress: (done) => done === 1 && ctx.device.destroy() });
    await expect(run).rejects.toThrow(/device was lost during the self-check/);
  });

  it('the CLI command exits 1 on a failed check, 0 when all pass, and prints the JSON report', async () => {
    const bad = await selfcheckCommand(['--json', '--only', 'loss mse'], { read: corruptRead });
    expect(bad.exitCode).toBe(1);
    const json = JSON.parse(bad.output);
    expect(json.pass).toBe(false);
    expect(json.checks[0]).toMatchObject({ name: 'loss mse m=257', family: 'loss', pass: false });
    const good = await selfcheckCommand(['--only', 'loss mse']);
    expect(good.exitCode).toBe(0);
    expect(good.output).toMatch(/loss mse m=257 +pass/);
    expect(good.output).toMatch(/1 check: 1 passed, 0 failed/);
  });

  it('the short benchmark (tiny sizes here) measures the roofline, a matmul, toy steps and a GPT-2 step', async () => {
    const stages: string[] = [];
    const r = await runGpuBenchmark(await testGpu(), {
      plan: { matmulN: [64], toyN: [37], toyBatch: 23, gpt2: { model: 'tiny', config: tinyWeights().config, seq: 13, batch: 2, rank: 3, steps: 1 }, measure: { reps: 1, targetMs: 5 }, scaled: 'tiny' },
      onProgress: (stage) => stages.push(stage),
    });
    expect(stages).toEqual(['FMA peak and copy bandwidth', 'matmul 64 x 64 x 64', 'toy training step at n = 37', 'GPT-2 step (tiny shape, random weights, 2 x 13 tokens)', 'done']);
    expect(r.roofline.peakGFLOPs).toBeGreaterThan(0);
    expect(r.roofline.copyGBs).toBeGreaterThan(0);
    expect(r.matmul[0].gflops).toBeGreaterThan(0);
    expect(r.matmul[0].maxRelError).toBeLessThan(1e-5);
    expect(r.toy[0].stepsPerSecond).toBeGreaterThan(0);
    expect(r.gpt2).toMatchObject({ model: 'tiny', seq: 13, batch: 2 });
    expect('tokensPerSecond' in r.gpt2 && r.gpt2.tokensPerSecond).toBeGreaterThan(0);
  });
});
