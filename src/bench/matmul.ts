// One matmul timed on this adapter (and, where a peer is given, the same product in TF.js-WebGPU on the same
// device, sampled alternately): GFLOP/s, the share of the measured FMA peak, and a sampled float64 error.
import { GpuArena } from '../gpu/arena.ts';
import { readFloats } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/device.ts';
import { matmul, type MatmulSpec } from '../gpu/kernels/matmul.ts';
import { benchRand, dispatchRunner, measure, type MeasurePlan, type Runner, type Stat } from './measure.ts';

export interface MatmulShape {
  name: string;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  splits?: 'auto';
}

/** The same product in another library, for a side-by-side (bench/tfjs-peer.ts). */
export interface MatmulPeer extends Runner {
  read(): Promise<Float32Array>;
  dispose(): void;
}

export interface MatmulRow {
  name: string;
  M: number;
  N: number;
  K: number;
  op: string;
  flops: number;
  ours: Stat;
  oursGFLOPs: number;
  /** Of the measured arithmetic peak. */
  oursPctPeak: number;
  theirs?: Stat;
  theirsGFLOPs?: number;
  /** Throughput ratio ours/theirs (= their median time / ours). */
  ratio?: number;
  /** Max relative error of sampled outputs against float64. */
  errOurs: number;
  errTheirs?: number;
}

/** Max |got - want| / max|want| over sampled entries of C = op(A) op(B), in float64. */
function sampledError(s: MatmulShape, a: Float32Array, b: Float32Array, got: Float32Array): number {
  let worst = 0;
  let scale = 0;
  const picks = 64;
  for (let p = 0; p < picks; p++) {
    const i = Math.floor((((p * 7919) % 9973) / 9973) * s.M);
    const j = Math.floor((((p * 104729) % 7907) / 7907) * s.N);
    let want = 0;
    for (let k = 0; k < s.K; k++) {
      const av = s.transA ? a[k * s.M + i] : a[i * s.K + k];
      const bv = s.transB ? b[j * s.K + k] : b[k * s.N + j];
      want += av * bv;
    }
    worst = Math.max(worst, Math.abs(got[i * s.N + j] - want));
    scale = Math.max(scale, Math.abs(want));
  }
  return worst / (scale || 1);
}

export async function timeMatmul(
  ctx: GpuContext,
  s: MatmulShape,
  plan: MeasurePlan,
  peakGFLOPs: number,
  opts: { seed?: number; peer?: (a: Float32Array, b: Float32Array) => MatmulPeer | undefined } = {},
): Promise<MatmulRow> {
  const seed = opts.seed ?? 1;
  const a = benchRand(s.M * s.K, seed);
  const b = benchRand(s.K * s.N, seed + 1);
  const arena = new GpuArena(ctx.device, 'bench.matmul');
  const theirs = opts.peer?.(a, b);
  try {
    const bufC = arena.storage('bench.c', s.M * s.N);
    const spec: MatmulSpec = { M: s.M, N: s.N, K: s.K, transA: s.transA, transB: s.transB, splits: s.splits, a: arena.storage('bench.a', a), b: arena.storage('bench.b', b), c: bufC, label: 'bench.matmul' };
    const runners: Runner[] = [dispatchRunner(ctx.device, matmul(arena, spec))];
    if (theirs) runners.push(theirs);
    const { ms } = await measure(runners, plan);
    const flops = 2 * s.M * s.N * s.K;
    const errOurs = sampledError(s, a, b, await readFloats(ctx.device, bufC, s.M * s.N));
    const errTheirs = theirs ? sampledError(s, a, b, await theirs.read()) : undefined;
    const oursGFLOPs = flops / ms[0].median / 1e6;
    return {
      name: s.name, M: s.M, N: s.N, K: s.K, op: `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`, flops, ours: ms[0],
      oursGFLOPs, oursPctPeak: (100 * oursGFLOPs) / peakGFLOPs, errOurs,
      ...(theirs ? { theirs: ms[1], theirsGFLOPs: flops / ms[1].median / 1e6, ratio: ms[1].median / ms[0].median, errTheirs } : {}),
    };
  } finally {
    theirs?.dispose();
    arena.destroy();
  }
}
