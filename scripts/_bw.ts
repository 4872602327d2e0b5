import { nodeGpuContext } from '../src/gpu/node.ts';
import { ToyBatchTrainer } from '../src/experiments/sweep/batchTrainer.ts';
import { defaultToyConfig } from '../src/experiments/toy/config.ts';
import { drawToyTensors } from '../src/experiments/toy/data.ts';
const ctx = await nodeGpuContext();
const n = Number(process.argv[2]); const R = Number(process.argv[3]); const steps = Number(process.argv[4] ?? 5);
const c = { ...defaultToyConfig(), n, steps: 1000, testEvery: 20 };
let t = performance.now();
drawToyTensors(c);
console.log('draw', ((performance.now() - t) / 1000).toFixed(2));
t = performance.now();
const tr = await ToyBatchTrainer.create(ctx, c, Array.from({ length: R }, (_, i) => ({ init: 'A' as const, initDist: 'gaussian' as const, eta: 1e-3 * (i + 1), lambda: 1, wd: 0 })));
await ctx.device.queue.onSubmittedWorkDone();
console.log('create+setup', ((performance.now() - t) / 1000).toFixed(2));
await tr.step(); await ctx.device.queue.onSubmittedWorkDone();
t = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < steps; i++) await tr.step();
await ctx.device.queue.onSubmittedWorkDone();
const dt = (performance.now() - t) / 1000 / steps;
const cu = process.cpuUsage(cpu0); const cpu = (cu.user + cu.system) / 1e6 / steps;
console.log(`n=${n} R=${R}: ${dt.toFixed(3)} s/step, ${(dt / R * 1000).toFixed(1)} ms per run-step wall, ${(cpu / R * 1000).toFixed(1)} CPU-ms per run-step`);
if (process.env.NOPROF) process.exit(0);

const { encodePass } = await import('../src/gpu/pipelines.ts');
for (const ph of (tr as any).phases) for (const d of ph.dispatches) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  for (let k = 0; k < 3; k++) { const e = ctx.device.createCommandEncoder(); encodePass(e, [d]); ctx.device.queue.submit([e.finish()]); }
  await ctx.device.queue.onSubmittedWorkDone();
  const cc = process.cpuUsage(c0);
  console.log(ph.label, d.label, ((performance.now() - t0) / 3 / R).toFixed(2), 'ms per run wall', ((cc.user + cc.system) / 1000 / 3 / R).toFixed(2), 'CPU-ms');
}
process.exit(0);
