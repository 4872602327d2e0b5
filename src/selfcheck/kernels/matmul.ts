// shaders/matmul.wgsl through src/gpu/kernels/matmul.ts, against float64.
//
// Tolerance. Every output is a length-K dot product accumulated in fp32 (fma), optionally split in
// chunks and re-summed, then scaled by alpha and added to C / the low-rank term. Whatever the summation
// order, the classic bound is |c - c_exact| <= gamma_K * sum_k |a_ik||b_kj| with gamma_K ~ K * 2^-24.
// We check each element against that worst-case bound, (K + 3) * 2^-24 * (|alpha| |A||B| + |C0|
// + |scale| |Z||L|) (one extra rounding each for alpha, the accumulate add and the epilogue add), with
// the low-rank dot of length `rank` adding its own gamma_rank. This is per element and scaled by the
// element's own |A||B|, so an indexing or transpose bug (an O(1) relative error) cannot hide in it,
// while a correct kernel can never fail it. Elements outside C (stride gaps, past the end) must keep
// their preset value.
import { matmul, tileShape, type MatmulSpec } from '../../gpu/kernels/matmul.ts';
import { Compare, type CheckResult } from '../compare.ts';
import { GUARD, rand32, runDispatches, sentinelOutput, U, type CheckEnv } from '../harness.ts';

const SENTINEL = 12345.5;

export interface MatmulCase {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  accumulate?: boolean;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  rank?: number;
  scale?: number;
  strideZ?: number;
  strideL?: number;
  splits?: number | 'auto';
}

/** Float64 C and the per-element error bound, in C's (strided) layout; gaps hold the preset value. */
function reference(c: MatmulCase, a: Float32Array, b: Float32Array, c0: Float32Array, z?: Float32Array, l?: Float32Array): { want: Float64Array; bound: Float64Array; used: Uint8Array } {
  const { M, N, K } = c;
  const batch = c.batch ?? 1;
  const strideA = c.strideA ?? M * K;
  const strideB = c.strideB ?? K * N;
  const strideC = c.strideC ?? M * N;
  const alpha = c.alpha ?? 1;
  const rank = c.rank ?? 0;
  const strideZ = c.strideZ ?? M * rank;
  const strideL = c.strideL ?? 0;
  const want = Float64Array.from(c0);
  const bound = new Float64Array(c0.length);
  const used = new Uint8Array(c0.length);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let dot = 0;
        let abs = 0;
        for (let k = 0; k < K; k++) {
          const av = c.transA ? a[bi * strideA + k * M + i] : a[bi * strideA + i * K + k];
          const bv = c.transB ? b[bi * strideB + j * K + k] : b[bi * strideB + k * N + j];
          dot += av * bv;
          abs += Math.abs(av * bv);
        }
        const at = bi * strideC + i * N + j;
        let v = alpha * dot;
        let err = (K + 3) * U * Math.abs(alpha) * abs;
        if (c.accumulate) {
          v += c0[at];
          err += 2 * U * Math.abs(c0[at]);
        }
        if (rank > 0 && z && l) {
          let lr = 0;
          let lrAbs = 0;
          for (let q = 0; q < rank; q++) {
            const p = z[bi * strideZ + i * rank + q] * l[bi * strideL + j * rank + q];
            lr += p;
            lrAbs += Math.abs(p);
          }
          v += (c.scale ?? 1) * lr;
          err += (rank + 3) * U * Math.abs(c.scale ?? 1) * lrAbs;
        }
        want[at] = v;
        bound[at] = err + 1e-30;
        used[at] = 1;
      }
    }
  }
  return { want, bound, used };
}

function operandSizes(c: MatmulCase): { a: number; b: number; c: number; z: number; l: number } {
  const batch = c.batch ?? 1;
  const span = (stride: number | undefined, per: number) => (batch - 1) * (stride ?? per) + per;
  const rank = c.rank ?? 0;
  return {
    a: span(c.strideA, c.M * c.K),
    b: span(c.strideB, c.K * c.N),
    c: span(c.strideC, c.M * c.N),
    z: rank ? span(c.strideZ, c.M * rank) : 0,
    l: rank ? span(c.strideL ?? 0, c.N * rank) : 0,
  };
}

/** "NT 17x65x33 lowrank r=1 ..." with the tile shape the product gets (WX x WY threads, QM x QN quads). */
export function describeMatmul(c: MatmulCase): string {
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  const tile = tileShape(c.M, c.N);
  const extras = [
    c.alpha !== undefined && `alpha=${c.alpha}`,
    c.accumulate && 'acc',
    c.batch && `batch=${c.batch}${c.strideA !== undefined ? ` sA=${c.strideA}` : ''}${c.strideB !== undefined ? ` sB=${c.strideB}` : ''}${c.strideC !== undefined ? ` sC=${c.strideC}` : ''}`,
    c.rank && `lowrank r=${c.rank}`,
    c.splits !== undefined && `splits=${c.splits}`,
    `tile ${tile.WX}x${tile.WY}/${tile.QM}${tile.QN}`,
  ].filter(Boolean);
  return `${t} ${c.M}x${c.N}x${c.K} ${extras.join(' ')}`;
}

/** Runs one product on the GPU and checks every element of C, and that nothing outside C was written. */
export async function checkMatmul(env: CheckEnv, c: MatmulCase, seed: number): Promise<CheckResult> {
  const { arena } = env;
  const sizes = operandSizes(c);
  const a = rand32(sizes.a, seed);
  const b = rand32(sizes.b, seed + 1);
  const c0 = rand32(sizes.c, seed + 2);
  const z = c.rank ? rand32(sizes.z, seed + 3) : undefined;
  const l = c.rank ? rand32(sizes.l, seed + 4) : undefined;
  // Without accumulate the preset is the sentinel everywhere: an element left unwritten shows up.
  const preset = c.accumulate ? c0 : new Float32Array(sizes.c).fill(SENTINEL);
  const cBuf = sentinelOutput(arena, sizes.c, SENTINEL, preset);
  const up = (data: Float32Array) => arena.storage('input', data);
  const spec: MatmulSpec = {
    M: c.M, N: c.N, K: c.K, a: up(a), b: up(b), c: cBuf,
    transA: c.transA, transB: c.transB, alpha: c.alpha, accumulate: c.accumulate,
    batch: c.batch, strideA: c.strideA, strideB: c.strideB, strideC: c.strideC, splits: c.splits,
    lowrank: c.rank ? { z: up(z!), l: up(l!), rank: c.rank, scale: c.scale ?? 1, strideZ: c.strideZ, strideL: c.strideL } : undefined,
  };
  const name = describeMatmul(c);
  await runDispatches(arena.device, matmul(arena, spec), name);
  const got = await env.read(cBuf, sizes.c + GUARD);
  const { want, bound, used } = reference(c, a, b, preset, z, l);
  const inside: number[] = [];
  const gaps: number[] = [];
  used.forEach((u, i) => (u ? inside : gaps).push(i));
  const pick = (x: ArrayLike<number>, at: number[]) => at.map((i) => x[i]);
  const cmp = new Compare().bounded('C', pick(got, inside), pick(want, inside), pick(bound, inside), (c.K + 3) * U);
  if (gaps.length) cmp.exact('stride gap', pick(got, gaps), pick(preset, gaps));
  return cmp.untouched('C', got, SENTINEL, sizes.c).result();
}
