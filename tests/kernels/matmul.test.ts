// shaders/matmul.wgsl through src/gpu/kernels/matmul.ts on the Node device, against float64.
//
// Tolerance. Every output is a length-K dot product accumulated in fp32 (fma), optionally split in
// chunks and re-summed, then scaled by alpha and added to C / the low-rank term. Whatever the summation
// order, the classic bound is |c - c_exact| <= gamma_K * sum_k |a_ik||b_kj| with gamma_K ~ K * 2^-24.
// We check each element against that worst-case bound, (K + 3) * 2^-24 * (|alpha| |A||B| + |C0|
// + |scale| |Z||L|) (one extra rounding each for alpha, the accumulate add and the epilogue add), with
// the low-rank dot of length `rank` adding its own gamma_rank. This is per element and scaled by the
// element's own |A||B|, so an indexing or transpose bug (an O(1) relative error) cannot hide in it,
// while a correct kernel can never fail it.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from './harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { autoSplits, matmul, type MatmulSpec } from '../../src/gpu/kernels/matmul.ts';

const SENTINEL = 12345.5;

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});


/** Uniform(-1, 1) values, already rounded to f32 so the reference sees exactly what the GPU sees. */
function rand32(count: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => 2 * r() - 1);
}

function upload(data: Float32Array, label = 'input'): GPUBuffer {
  return arena.storage(label, data);
}

/** An output buffer of `count` floats plus a guard tail, all preset to `fill` (SENTINEL by default). */
function output(count: number, fill?: Float32Array): GPUBuffer {
  const data = new Float32Array(count + 64).fill(SENTINEL);
  if (fill) data.set(fill);
  return upload(data, 'output');
}

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

interface Case {
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
function reference(c: Case, a: Float32Array, b: Float32Array, c0: Float32Array, z?: Float32Array, l?: Float32Array): { want: Float64Array; bound: Float64Array; used: Uint8Array } {
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
          v += (c.scale ?? 0) * lr;
          err += (rank + 3) * U * Math.abs(c.scale ?? 0) * lrAbs;
        }
        want[at] = v;
        bound[at] = err + 1e-30;
        used[at] = 1;
      }
    }
  }
  return { want, bound, used };
}

function operandSizes(c: Case): { a: number; b: number; c: number; z: number; l: number } {
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

function describeCase(c: Case): string {
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  const extras = [
    c.alpha !== undefined && `alpha=${c.alpha}`,
    c.accumulate && 'acc',
    c.batch && `batch=${c.batch}(sA=${c.strideA},sB=${c.strideB},sC=${c.strideC})`,
    c.rank && `lowrank r=${c.rank}`,
    c.splits !== undefined && `splits=${c.splits}`,
  ].filter(Boolean);
  return `${t} M=${c.M} N=${c.N} K=${c.K} ${extras.join(' ')}`;
}

/** Runs one case on the GPU and checks every element (and that nothing outside C was written). */
async function check(c: Case, seed: number): Promise<Float32Array> {
  const sizes = operandSizes(c);
  const a = rand32(sizes.a, seed);
  const b = rand32(sizes.b, seed + 1);
  const c0 = rand32(sizes.c, seed + 2);
  const z = c.rank ? rand32(sizes.z, seed + 3) : undefined;
  const l = c.rank ? rand32(sizes.l, seed + 4) : undefined;
  // Without accumulate the preset is the sentinel everywhere: an element left unwritten shows up.
  const preset = c.accumulate ? c0 : new Float32Array(sizes.c).fill(SENTINEL);
  const cBuf = output(sizes.c, preset);
  const spec: MatmulSpec = {
    M: c.M, N: c.N, K: c.K, a: upload(a), b: upload(b), c: cBuf,
    transA: c.transA, transB: c.transB, alpha: c.alpha, accumulate: c.accumulate,
    batch: c.batch, strideA: c.strideA, strideB: c.strideB, strideC: c.strideC, splits: c.splits,
    lowrank: c.rank ? { z: upload(z!), l: upload(l!), rank: c.rank, scale: c.scale ?? 1, strideZ: c.strideZ, strideL: c.strideL } : undefined,
  };
  const name = describeCase(c);
  await run(matmul(arena, spec), name);
  const got = await readFloats(device, cBuf, sizes.c + 64);
  const { want, bound, used } = reference(c, a, b, preset, z, l);
  let bad = 0;
  let first = '';
  for (let i = 0; i < sizes.c; i++) {
    const ok = used[i] ? Math.abs(got[i] - want[i]) <= bound[i] : got[i] === preset[i];
    if (!ok) {
      if (!bad) first = `element ${i}${used[i] ? '' : ' (gap, must be untouched)'}: got ${got[i]}, want ${want[i]} +- ${bound[i]}`;
      bad++;
    }
  }
  for (let i = sizes.c; i < sizes.c + 64; i++) if (got[i] !== SENTINEL && !bad++) first = `wrote past the end of C at ${i}`;
  expect(bad, `${name}: ${bad} bad elements; first: ${first}`).toBe(0);
  return got.subarray(0, sizes.c);
}

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 17, 3],
  [3, 1, 17],
  [17, 65, 1],
  [65, 3, 130],
  [130, 17, 65],
  [1, 130, 33],
  [66, 70, 17],
];
const TRANSPOSES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('matmul: plain products at awkward sizes', () => {
  for (const [transA, transB] of TRANSPOSES) {
    it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} over M, N, K in {1, 3, 17, 65, 130, ...}`, async () => {
      let seed = 100;
      for (const [M, N, K] of SHAPES) await check({ M, N, K, transA, transB }, (seed += 10));
    });
  }

  it('alpha scales the product (including a negative alpha), every transpose', async () => {
    let seed = 200;
    for (const [transA, transB] of TRANSPOSES) {
      await check({ M: 17, N: 3, K: 65, transA, transB, alpha: -0.37 }, (seed += 10));
      await check({ M: 1, N: 65, K: 17, transA, transB, alpha: 2.5 }, (seed += 10));
    }
  });

  it('accumulate adds alpha * op(A) op(B) to the existing C', async () => {
    let seed = 300;
    for (const [transA, transB] of TRANSPOSES) await check({ M: 65, N: 17, K: 33, transA, transB, accumulate: true, alpha: 0.5 }, (seed += 10));
    await check({ M: 1, N: 1, K: 130, accumulate: true }, 399);
  });
});

describe('matmul: fused low-rank epilogue', () => {
  it('C = X W^T + s Z L^T (the LoRA forward), ranks 1 and 3', async () => {
    await check({ M: 17, N: 65, K: 33, transB: true, rank: 1, scale: 0.75 }, 400);
    await check({ M: 65, N: 17, K: 3, transB: true, rank: 3, scale: -2 }, 410);
    await check({ M: 1, N: 130, K: 17, transB: true, rank: 3, scale: 0.5 }, 420);
    await check({ M: 3, N: 1, K: 1, rank: 1, scale: 1 }, 430);
  });

  it('low-rank epilogue with accumulate, alpha and other transposes', async () => {
    await check({ M: 17, N: 66, K: 20, transA: true, rank: 2, scale: 0.3, alpha: 1.5, accumulate: true }, 440);
    await check({ M: 5, N: 17, K: 65, transA: true, transB: true, rank: 4, scale: 1.25 }, 450);
  });

  it('refuses to combine the low-rank epilogue with split-K', () => {
    const buf = arena.storage('x', 64);
    expect(() => matmul(arena, { M: 2, N: 2, K: 64, a: buf, b: buf, c: buf, splits: 2, lowrank: { z: buf, l: buf, rank: 1, scale: 1 } })).toThrow(/split-K/);
  });
});

describe('matmul: batched products with strides', () => {
  it('batch > 1 with a zero stride shares an operand across the batch', async () => {
    await check({ M: 5, N: 17, K: 33, batch: 3, strideA: 0 }, 500);
    await check({ M: 17, N: 3, K: 20, batch: 4, strideB: 0, transB: true }, 510);
    await check({ M: 3, N: 65, K: 17, batch: 2, strideA: 0, transA: true, alpha: -1 }, 520);
  });

  it('a C stride larger than M*N leaves the gaps untouched; accumulate works per batch', async () => {
    await check({ M: 5, N: 7, K: 17, batch: 3, strideC: 5 * 7 + 3 }, 530);
    await check({ M: 7, N: 5, K: 3, batch: 3, strideB: 0, strideC: 7 * 5 + 9, accumulate: true }, 540);
  });

  it('batched low-rank epilogue: per-batch Z, shared L (stride 0)', async () => {
    await check({ M: 9, N: 17, K: 20, batch: 3, strideA: 0, transB: true, rank: 2, scale: 0.5 }, 550);
    await check({ M: 4, N: 6, K: 5, batch: 2, rank: 3, scale: 1, strideZ: 4 * 3, strideL: 6 * 3 }, 560);
  });
});

describe('matmul: split-K', () => {
  it('several split counts, every transpose, K not a multiple of the chunk', async () => {
    let seed = 600;
    for (const splits of [2, 3, 5]) {
      for (const [transA, transB] of TRANSPOSES) await check({ M: 17, N: 3, K: 130, transA, transB, splits }, (seed += 10));
    }
    // The gradient shape: dB = s * dP2^T Z_A, a TN product with a long K and a tiny output.
    await check({ M: 65, N: 1, K: 1000, transA: true, splits: 7, alpha: 0.25 }, 700);
  });

  it("'auto' splits a tall-skinny product, and clamps to what K allows", async () => {
    expect(autoSplits(3, 5, 2000)).toBeGreaterThan(1);
    const buf = arena.storage('x', 64);
    expect(matmul(arena, { M: 3, N: 5, K: 2000, a: buf, b: buf, c: buf, splits: 'auto' })).toHaveLength(2);
    expect(matmul(arena, { M: 3, N: 5, K: 17, a: buf, b: buf, c: buf, splits: 8 })).toHaveLength(2); // 2 chunks of 16
    expect(matmul(arena, { M: 3, N: 5, K: 5, a: buf, b: buf, c: buf, splits: 4 })).toHaveLength(1);
    expect(autoSplits(640, 640, 4096)).toBe(1); // enough output tiles: no split
    expect(matmul(arena, { M: 640, N: 640, K: 4096, a: buf, b: buf, c: buf, splits: "auto" })).toHaveLength(1);
    await check({ M: 3, N: 5, K: 2000, transA: true, splits: 'auto' }, 710);
    await check({ M: 3, N: 5, K: 17, splits: 8 }, 720);
    await check({ M: 1, N: 1, K: 1025, transB: true, splits: 'auto' }, 730);
  });

  it('split-K with accumulate, alpha and a batch sharing an operand', async () => {
    await check({ M: 5, N: 3, K: 100, batch: 3, strideA: 0, strideC: 5 * 3 + 2, splits: 3, accumulate: true, alpha: -0.5 }, 740);
    await check({ M: 3, N: 17, K: 90, batch: 2, strideB: 0, transA: true, splits: 2 }, 750);
  });

  it('split-K results are bit-identical across runs and across rebuilt dispatches', async () => {
    const M = 7, N = 5, K = 1500;
    const a = upload(rand32(M * K, 800));
    const b = upload(rand32(K * N, 801));
    const c1 = output(M * N);
    const c2 = output(M * N);
    const first = matmul(arena, { M, N, K, a, b, c: c1, splits: 'auto' });
    expect(first).toHaveLength(2);
    await run(first, 'split-K run 1');
    const r1 = new Uint32Array((await readFloats(device, c1, M * N)).buffer);
    await run(first, 'split-K run 2');
    const r2 = new Uint32Array((await readFloats(device, c1, M * N)).buffer);
    await run(matmul(arena, { M, N, K, a, b, c: c2, splits: 'auto' }), 'split-K rebuilt');
    const r3 = new Uint32Array((await readFloats(device, c2, M * N)).buffer);
    expect(Array.from(r2)).toEqual(Array.from(r1));
    expect(Array.from(r3)).toEqual(Array.from(r1));
    // The same data with an explicit split count is also right against float64.
    await check({ M, N, K, splits: 5 }, 800);
  });
});
