// Every specialisation the performance work added to shaders/matmul.wgsl, against float64: each shape class
// of tileShape (skinny rank-r blocks, 8x8 blocks, the padding-minimising non-power-of-two workgroups), vec4
// staging on each operand and transpose (it needs the contiguous axis % 4 == 0, so tests/kernels' awkward
// sizes mostly take the scalar path), vec4 staging with the boundary tails of the other axes, and the
// low-rank tail run as extra K. The check and its per-element gamma_K bound are src/selfcheck/kernels/matmul.ts.
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { checkMatmul, describeMatmul, type MatmulCase } from '../../src/selfcheck/kernels/matmul.ts';

let env: CheckEnv;
beforeAll(async () => {
  env = checkEnv(new GpuArena((await testGpu()).device, 'test'));
});

async function check(c: MatmulCase, seed: number): Promise<void> {
  const r = await checkMatmul(env, c, seed);
  expect(r.pass, `${describeMatmul(c)}: ${r.detail}`).toBe(true);
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
