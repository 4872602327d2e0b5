// Every specialisation the performance work added to shaders/matmul.wgsl, against float64: each shape class
// of tileShape (skinny rank-r blocks, 8x8 blocks, the padding-minimising non-power-of-two workgroups), vec4
// staging on each operand and transpose (it needs the contiguous axis % 4 == 0, so tests/kernels' awkward
// sizes mostly take the scalar path), vec4 staging with the boundary tails of the other axes, and the
// low-rank tail run as extra K. The error bound is the same per-element gamma_K bound as tests/kernels.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { rng, runDispatches, U } from '../kernels/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import { matmul, tileShape } from '../../src/gpu/kernels/matmul.ts';

let device: GPUDevice;
let arena: GpuArena;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
});

interface Case {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  rank?: number;
  accumulate?: boolean;
  alpha?: number;
  splits?: number | 'auto';
}

function rand(count: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => 2 * r() - 1);
}

async function check(c: Case, seed: number): Promise<void> {
  const { M, N, K } = c;
  const rank = c.rank ?? 0;
  const alpha = c.alpha ?? 1;
  const scale = 0.75;
  const a = rand(M * K, seed);
  const b = rand(K * N, seed + 1);
  const c0 = rand(M * N, seed + 2);
  const z = rand(M * Math.max(rank, 1), seed + 3);
  const l = rand(N * Math.max(rank, 1), seed + 4);
  const out = arena.storage('c', c.accumulate ? c0 : M * N);
  const dispatches = matmul(arena, {
    M, N, K, a: arena.storage('a', a), b: arena.storage('b', b), c: out,
    transA: c.transA, transB: c.transB, alpha, accumulate: c.accumulate, splits: c.splits,
    lowrank: rank ? { z: arena.storage('z', z), l: arena.storage('l', l), rank, scale } : undefined,
  });
  const name = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} ${M}x${N}x${K}${rank ? ` r=${rank}` : ''} ${JSON.stringify(tileShape(M, N))}`;
  await runDispatches(device, dispatches, name);
  const got = await readFloats(device, out, M * N);
  let bad = 0;
  let first = '';
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let dot = 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        const p = (c.transA ? a[k * M + i] : a[i * K + k]) * (c.transB ? b[j * K + k] : b[k * N + j]);
        dot += p;
        abs += Math.abs(p);
      }
      let want = alpha * dot;
      let bound = (K + 3) * U * Math.abs(alpha) * abs;
      if (c.accumulate) {
        want += c0[i * N + j];
        bound += 2 * U * Math.abs(c0[i * N + j]);
      }
      for (let q = 0; q < rank; q++) {
        const p = scale * z[i * rank + q] * l[j * rank + q];
        want += p;
        bound += (rank + 3) * U * Math.abs(p);
      }
      if (!(Math.abs(got[i * N + j] - want) <= bound + 1e-30) && !bad++) first = `C[${i}][${j}] = ${got[i * N + j]}, want ${want} +- ${bound}`;
    }
  }
  expect(bad, `${name}: ${bad} bad; first ${first}`).toBe(0);
}

const T = [false, true];

describe('matmul variants (shape classes x vec4 staging)', () => {
  it('vec4 staging on A and B, every transpose, with row/column/K tails inside the tiles', async () => {
    let seed = 1000;
    // All contiguous axes % 4 == 0 (both operands vec4); M, N not multiples of the block; K not a multiple of BK.
    for (const [M, N, K] of [[100, 68, 36], [12, 20, 28], [4, 4, 4], [132, 260, 100]] as const) {
      for (const transA of T) for (const transB of T) await check({ M, N, K, transA, transB }, (seed += 10));
    }
    // One operand vec4, the other scalar.
    await check({ M: 30, N: 44, K: 24, transA: true }, (seed += 10)); // A: M % 4 != 0 -> scalar; B: N % 4 == 0 -> vec4
    await check({ M: 30, N: 44, K: 26, transB: false }, (seed += 10)); // A: K % 4 != 0 -> scalar; B vec4
  });

  it('skinny rank-r products and the padding-minimising wide blocks', async () => {
    let seed = 2000;
    for (const [M, N, K, transA, transB] of [
      [100, 4, 256, false, true], // Z_A = X A^T
      [256, 4, 100, true, false], // dB = G^T Z_A
      [100, 4, 256, false, false], // U = G B
      [4, 256, 100, true, false], // dA = U^T X
      [100, 32, 64, false, true],
      [1024, 4, 20, true, false], // 256-row skinny blocks
      [4, 1024, 20, true, false],
      [100, 130, 40, false, true], // 104-row blocks (13 threads), 72-column blocks
      [130, 70, 40, false, false], // 72 x 72 blocks (9 x 9 threads)
      [33, 33, 33, true, true], // 40 x 40 blocks
    ] as const) {
      await check({ M, N, K, transA, transB }, (seed += 10));
    }
  });

  it('low-rank tail as extra K (more than one BK of rank), with alpha and accumulate', async () => {
    await check({ M: 100, N: 64, K: 64, transB: true, rank: 20, alpha: -1.5, accumulate: true }, 3000);
    await check({ M: 100, N: 130, K: 40, transB: true, rank: 4 }, 3010);
    await check({ M: 17, N: 36, K: 40, transA: true, rank: 3, alpha: 0.5, accumulate: true }, 3020);
  });

  it('split-K over vec4-staged operands', async () => {
    for (const transA of T) for (const transB of T) await check({ M: 8, N: 12, K: 1024, transA, transB, splits: 'auto' }, 4000);
    await check({ M: 4, N: 4, K: 1000, transA: true, splits: 3, accumulate: true, alpha: 2 }, 4100);
  });
});
