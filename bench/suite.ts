// The benchmark suite, identical in Node (Dawn) and in the browser: reference figures of the adapter (copy
// bandwidth, arithmetic peak), the matmul at the LoRA shapes, each LoRA kernel, AdamW, and one full toy
// training step, each against TF.js-WebGPU on the same device where TF.js has an equivalent. How a number
// is taken (calibrated repetitions, alternating samples), the reference figures and the matmul and toy
// timings are src/bench/ (the page's "Check this GPU" benchmark uses them too).
import { GpuArena } from '../src/gpu/arena.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { matmul } from '../src/gpu/kernels/matmul.ts';
import { createTrainState } from '../src/gpu/kernels/trainState.ts';
import type { Dispatch } from '../src/gpu/pipelines.ts';
import { createProfiler, type ProfileSummary } from '../src/gpu/timing.ts';
import type { ToyConfig } from '../src/experiments/toy/config.ts';
import { TOY_LAYOUT } from '../src/experiments/toy/metrics.ts';
import { ToyTrainer } from '../src/experiments/toy/trainer.ts';
import { createLoraBatch, createLoraLayer, loraBackward, loraForward } from '../src/lora/layer.ts';
import { loraNorms } from '../src/lora/norms.ts';
import { adamwStep, loraPlusGroups } from '../src/lora/optimizer.ts';
import { benchRand as rand, dispatchRunner as oursRunner, measure, type Runner, type Stat } from '../src/bench/measure.ts';
import { timeMatmul, type MatmulRow, type MatmulShape } from '../src/bench/matmul.ts';
import { measureRoofline, type RooflineResult } from '../src/bench/roofline.ts';
import { toyConfig, toyStepRunner } from '../src/bench/toy.ts';
import type { TfjsPeer } from './tfjs-peer.ts';

export interface Plan {
  /** Batch rows m of every LoRA product (the toy's batch). */
  m: number;
  matmulN: number[];
  ranks: number[];
  /** Square n^3 products (a GPU's fp32 matmul against cuBLAS: bench/torch_peer.py runs the same). */
  squareN: number[];
  loraN: number[];
  loraRank: number;
  toyN: number[];
  reps: number;
  targetMs: number;
}

/** Sizes by adapter: SwiftShader runs a 512^3 product in ~0.1-1 s, a real GPU in well under a millisecond. */
export function planFor(ctx: GpuContext, opts: { quick?: boolean } = {}): Plan {
  const maxN = Math.floor(Math.sqrt(ctx.limits.maxStorageBufferBindingSize / 4));
  const fit = (ns: number[]) => ns.filter((n) => n <= maxN);
  if (ctx.isSoftware) {
    return opts.quick
      ? { m: 100, matmulN: [256], ranks: [4], squareN: [], loraN: [256], loraRank: 4, toyN: [256], reps: 3, targetMs: 60 }
      : { m: 100, matmulN: [256, 512, 1024], ranks: [4, 32], squareN: [], loraN: [256, 1024], loraRank: 4, toyN: [256, 1024], reps: 5, targetMs: 120 };
  }
  return opts.quick
    ? { m: 100, matmulN: fit([1024]), ranks: [4], squareN: [], loraN: fit([1024]), loraRank: 4, toyN: fit([1024]), reps: 5, targetMs: 20 }
    : { m: 100, matmulN: fit([256, 512, 1024, 2048, 4096]), ranks: [4, 32], squareN: fit([1024, 2048, 4096]), loraN: fit([256, 1024, 4096]), loraRank: 4, toyN: fit([256, 1024, 4096]), reps: 10, targetMs: 40 };
}

export type ReferenceResult = RooflineResult;
export type { MatmulRow };


export interface KernelRow {
  name: string;
  n: number;
  rank: number;
  flops: number;
  bytes: number;
  bound: 'compute' | 'memory';
  ours: Stat;
  gflops: number;
  gbs: number;
  /** % of the measured peak (compute-bound) or of the measured copy bandwidth (memory-bound). */
  pctOfReference: number;
}

export interface ToyRow {
  n: number;
  rank: number;
  batch: number;
  ours: Stat;
  oursStepsPerSec: number;
  /** JS time per step spent encoding and submitting (ours) / issuing ops (theirs). */
  oursCpuMs: Stat;
  theirs?: Stat;
  theirsStepsPerSec?: number;
  theirsCpuMs?: Stat;
  ratio?: number;
  /** GPU time per step by kernel label, from timestamp queries (each dispatch in its own pass). */
  profile?: ProfileSummary & { steps: number };
  profileUnavailable?: string;
  oursLoss: number;
  theirsLoss?: number;
}

/** The same loop in both: full-batch losses of the first steps at a small width, from the same tensors. */
export interface ParityResult {
  n: number;
  batch: number;
  ours: number[];
  theirs: number[];
  maxRelDiff: number;
}

export interface SuiteResult {
  adapter: string;
  isSoftware: boolean;
  hasTimestamps: boolean;
  plan: Plan;
  reference: ReferenceResult;
  matmul: MatmulRow[];
  kernels: KernelRow[];
  toy: ToyRow[];
  parity?: ParityResult;
  peer: string | null;
  peerError?: string;
  seconds: number;
}

type Log = (line: string) => void;

async function matmulRows(ctx: GpuContext, plan: Plan, ref: ReferenceResult, peer: TfjsPeer | null, log: Log): Promise<MatmulRow[]> {
  const m = plan.m;
  const rows: MatmulRow[] = [];
  const shapes: MatmulShape[] = [];
  for (const n of plan.matmulN) {
    shapes.push({ name: 'frozen X W0^T', M: m, N: n, K: n, transB: true });
    for (const r of plan.ranks) {
      shapes.push({ name: `Z_A = X A^T (r=${r})`, M: m, N: r, K: n, transB: true, splits: 'auto' });
      shapes.push({ name: `dB = G^T Z_A (r=${r})`, M: n, N: r, K: m, transA: true, splits: 'auto' });
      shapes.push({ name: `U = G B (r=${r})`, M: m, N: r, K: n, splits: 'auto' });
      shapes.push({ name: `dA = U^T X (r=${r})`, M: r, N: n, K: m, transA: true, splits: 'auto' });
    }
  }
  for (const n of plan.squareN) shapes.push({ name: 'square', M: n, N: n, K: n });
  let seed = 1;
  for (const s of shapes) {
    const row = await timeMatmul(ctx, s, plan, ref.peakGFLOPs.median, { seed, peer: peer ? (a, b) => peer.matmul({ ...s, a, b }) : undefined });
    seed += 2;
    rows.push(row);
    log(`matmul ${s.name} ${s.M}x${s.N}x${s.K} ${row.op}: ours ${row.ours.median.toFixed(3)} ms${row.theirs ? `, TF.js ${row.theirs.median.toFixed(3)} ms, ours/TF.js ${row.ratio!.toFixed(2)}x` : ''}`);
  }
  return rows;
}

/** Each LoRA kernel of the toy step, on its own, at the trainer's shapes. */
async function kernelRows(ctx: GpuContext, plan: Plan, ref: ReferenceResult, log: Log): Promise<KernelRow[]> {
  const device = ctx.device;
  const m = plan.m;
  const rows: KernelRow[] = [];
  const balance = ref.peakGFLOPs.median / ref.copyGBs.median; // FLOP per byte where the roofline bends
  for (const n of plan.loraN) {
    const r = plan.loraRank;
    const arena = new GpuArena(device, 'bench.kernels');
    const x = arena.storage('bench.X', rand(m * n, 11));
    const g = arena.storage('bench.G', rand(m * n, 12));
    const layer = createLoraLayer(arena, 'bench', { nIn: n, nOut: n, rank: r, scale: 0.5 }, { W0: rand(n * n, 13), A: rand(r * n, 14), B: rand(n * r, 15) });
    const batch = createLoraBatch(arena, layer, 'bench', m, x);
    const state = createTrainState(arena, 256, TOY_LAYOUT.stride);
    const metrics = arena.storage('bench.metrics', 256 * TOY_LAYOUT.stride);
    const fwd = loraForward(arena, layer, batch);
    const bwd = loraBackward(arena, layer, batch, g);
    const byLabel = (ds: Dispatch[], prefix: string) => ds.filter((d) => d.label.startsWith(prefix));
    const frozenOnly = matmul(arena, { M: m, N: n, K: n, a: x, b: layer.W0, c: batch.h, transB: true, label: 'bench.frozen' });
    const f = 4; // bytes per float
    const groups: Array<{ name: string; ds: Dispatch[]; flops: number; bytes: number }> = [
      { name: 'Z_A = X A^T', ds: byLabel(fwd, 'lora.zA'), flops: 2 * m * r * n, bytes: f * (m * n + r * n + m * r) },
      { name: 'H = X W0^T + s Z_A B^T (Z_B fused)', ds: byLabel(fwd, 'lora.frozen+BA'), flops: 2 * m * n * n + 2 * m * n * r, bytes: f * (m * n + n * n + m * n + m * r + n * r) },
      { name: '  same without Z_B (frozen only)', ds: frozenOnly, flops: 2 * m * n * n, bytes: f * (m * n + n * n + m * n) },
      { name: 'dB = s G^T Z_A', ds: byLabel(bwd, 'lora.dB'), flops: 2 * n * r * m, bytes: f * (m * n + m * r + n * r) },
      { name: 'U = s G B', ds: byLabel(bwd, 'lora.U'), flops: 2 * m * r * n, bytes: f * (m * n + n * r + m * r) },
      { name: 'dA = U^T X', ds: byLabel(bwd, 'lora.dA'), flops: 2 * r * n * m, bytes: f * (m * r + m * n + r * n) },
      {
        name: 'norms (5 coordinate RMS)',
        ds: loraNorms(arena, layer, batch, { metrics, state }, { zA: 1, zB: 2, normA: 3, normB: 4, normSBA: 5 }),
        // ||Z_A||, three r x r Gram products (B^T B, Z_A^T Z_A, A A^T), ||A||, ||B||, two r x r dots.
        flops: 2 * (m * r + n * r * r + m * r * r + n * r * r + r * n + n * r + 2 * r * r),
        bytes: f * (m * r + 2 * n * r + 2 * m * r + 2 * r * n + r * n + n * r + 4 * r * r),
      },
      {
        name: 'AdamW (A and B)',
        ds: adamwStep(arena, loraPlusGroups([{ label: 'bench', ...layer }], 1e-3, 1, 0), { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, state),
        flops: 2 * r * n * 12,
        bytes: 28 * 2 * r * n, // read theta, grad, m, v; write theta, m, v
      },
    ];
    for (const grp of groups) {
      const { ms } = await measure([oursRunner(device, grp.ds)], plan);
      const t = ms[0].median;
      const intensity = grp.flops / grp.bytes;
      const bound = intensity >= balance ? 'compute' : 'memory';
      const gflops = grp.flops / t / 1e6;
      const gbs = grp.bytes / t / 1e6;
      const pct = bound === 'compute' ? (100 * gflops) / ref.peakGFLOPs.median : (100 * gbs) / ref.copyGBs.median;
      rows.push({ name: grp.name, n, rank: r, flops: grp.flops, bytes: grp.bytes, bound, ours: ms[0], gflops, gbs, pctOfReference: pct });
      log(`kernel ${grp.name} n=${n} r=${r}: ${t.toFixed(3)} ms, ${gflops.toFixed(2)} GFLOP/s, ${gbs.toFixed(2)} GB/s (${bound}-bound, ${pct.toFixed(0)}% of ${bound === 'compute' ? 'peak' : 'copy'})`);
    }
    arena.destroy();
  }
  return rows;
}

async function toyRows(ctx: GpuContext, plan: Plan, peer: TfjsPeer | null, log: Log): Promise<ToyRow[]> {
  const rows: ToyRow[] = [];
  for (const n of plan.toyN) {
    const config = toyConfig(n, plan.m);
    let lastLoss = NaN;
    const trainer = await ToyTrainer.create(ctx, config, { readEvery: 256 });
    trainer.onRows = (r) => (lastLoss = r[r.length - 1]?.loss ?? lastLoss);
    const ours = toyStepRunner(ctx, trainer);
    const theirToy = peer?.toy(config, trainer.data);
    const runners: Runner[] = [ours];
    if (theirToy) runners.push({ run: (steps) => theirToy.run(steps) });
    const { ms, extra } = await measure(runners, { ...plan, targetMs: plan.targetMs * 4 });
    await trainer.flush();
    const theirsLoss = theirToy ? await theirToy.loss() : undefined;
    theirToy?.dispose();

    // The split by kernel: a second trainer whose dispatches each get their own timed pass.
    const prof = createProfiler(ctx);
    let profile: ToyRow['profile'];
    let profileUnavailable: string | undefined;
    if ('reason' in prof) {
      profileUnavailable = prof.reason;
    } else {
      const profiled = await ToyTrainer.create(ctx, config, { readEvery: 256, profiler: prof }, trainer.data);
      await profiled.step(); // step 1 includes the test evaluation; not part of the profile
      await ctx.device.queue.onSubmittedWorkDone();
      await prof.collect();
      prof.reset();
      const steps = ctx.isSoftware ? 3 : 20;
      for (let i = 0; i < steps; i++) {
        await profiled.step();
        await prof.collect();
      }
      profile = { ...prof.summary(steps), steps };
      await profiled.flush();
      profiled.destroy();
      prof.destroy();
    }
    trainer.destroy();
    const row: ToyRow = {
      n, rank: config.rank, batch: plan.m, ours: ms[0], oursStepsPerSec: 1000 / ms[0].median, oursCpuMs: extra[0], oursLoss: lastLoss,
      ...(theirToy ? { theirs: ms[1], theirsStepsPerSec: 1000 / ms[1].median, theirsCpuMs: extra[1], ratio: ms[1].median / ms[0].median, theirsLoss } : {}),
      profile, profileUnavailable,
    };
    rows.push(row);
    log(`toy step n=${n}: ours ${row.ours.median.toFixed(2)} ms/step (CPU ${row.oursCpuMs.median.toFixed(3)} ms)${row.theirs ? `, TF.js ${row.theirs.median.toFixed(2)} ms/step, ours/TF.js ${row.ratio!.toFixed(2)}x` : ''}`);
  }
  return rows;
}

async function toyParity(ctx: GpuContext, peer: TfjsPeer, log: Log): Promise<ParityResult> {
  const steps = 5;
  const config: ToyConfig = { ...toyConfig(64, 0), steps };
  const ours: number[] = [];
  const trainer = await ToyTrainer.create(ctx, config, { readEvery: 1 });
  trainer.onRows = (rows) => ours.push(...rows.map((r) => r.loss));
  for (let i = 0; i < steps; i++) await trainer.step();
  await trainer.flush();
  const theirToy = peer.toy(config, trainer.data);
  const theirs: number[] = [];
  for (let i = 0; i < steps; i++) {
    await theirToy.run(1);
    theirs.push(await theirToy.loss());
  }
  theirToy.dispose();
  trainer.destroy();
  const maxRelDiff = Math.max(...ours.map((l, i) => Math.abs(l - theirs[i]) / Math.abs(l)));
  log(`toy parity (n=64, full batch, ${steps} steps): ours ${ours.map((l) => l.toPrecision(6)).join(' ')} | TF.js ${theirs.map((l) => l.toPrecision(6)).join(' ')} | max rel diff ${maxRelDiff.toExponential(1)}`);
  return { n: 64, batch: config.nTrain, ours, theirs, maxRelDiff };
}

export async function runSuite(ctx: GpuContext, opts: { quick?: boolean; peer: TfjsPeer | null; peerError?: string; log: Log; only?: string[]; n?: number[] }): Promise<SuiteResult> {
  const t0 = performance.now();
  const plan = planFor(ctx, opts);
  if (opts.n) Object.assign(plan, { matmulN: opts.n, squareN: plan.squareN.length ? opts.n : [], loraN: opts.n, toyN: opts.n });
  const want = (part: string) => !opts.only || opts.only.includes(part);
  opts.log(`adapter: ${ctx.adapterName}${ctx.isSoftware ? ' (software)' : ''}; timestamps ${ctx.hasTimestamps ? 'yes' : 'no'}; peer: ${opts.peer?.name ?? `none (${opts.peerError ?? 'disabled'})`}`);
  opts.log(`plan: matmul n = ${plan.matmulN.join(', ')}${plan.squareN.length ? ` (square ${plan.squareN.join(', ')})` : ''}; LoRA kernels n = ${plan.loraN.join(', ')}; toy n = ${plan.toyN.join(', ')}; ${plan.reps} samples after warm-up`);
  const ref = await measureRoofline(ctx, plan, opts.log);
  const matmulResult = want('matmul') ? await matmulRows(ctx, plan, ref, opts.peer, opts.log) : [];
  const kernels = want('kernels') ? await kernelRows(ctx, plan, ref, opts.log) : [];
  const toy = want('toy') ? await toyRows(ctx, plan, opts.peer, opts.log) : [];
  const parity = want('toy') && opts.peer ? await toyParity(ctx, opts.peer, opts.log) : undefined;
  return {
    adapter: ctx.adapterName, isSoftware: ctx.isSoftware, hasTimestamps: ctx.hasTimestamps, plan, reference: ref,
    matmul: matmulResult, kernels, toy, parity, peer: opts.peer?.name ?? null, peerError: opts.peerError, seconds: (performance.now() - t0) / 1000,
  };
}
