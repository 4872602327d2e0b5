// shaders/matmul.wgsl through src/gpu/kernels/matmul.ts on the Node device, against float64: the
// per-element check and its tolerance are src/selfcheck/kernels/matmul.ts (the same the self-check runs).
import { GpuArena } from '../../src/gpu/arena.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu.ts';
import { checkEnv, rand32, runDispatches, type CheckEnv } from '../../src/selfcheck/harness.ts';
import { readFloats } from '../../src/gpu/buffers.ts';
import type { Dispatch } from '../../src/gpu/pipelines.ts';
import { autoSplits, matmul } from '../../src/gpu/kernels/matmul.ts';
import { checkMatmul, describeMatmul, type MatmulCase } from '../../src/selfcheck/kernels/matmul.ts';

const SENTINEL = 12345.5;

let device: GPUDevice;
let arena: GpuArena;
let env: CheckEnv;
beforeAll(async () => {
  device = (await testGpu()).device;
  arena = new GpuArena(device, 'test');
  env = checkEnv(arena);
});

function upload(data: Float32Array, label = 'input'): GPUBuffer {
  return arena.storage(label, data);
}

/** An output buffer of `count` floats plus a guard tail, all preset to SENTINEL. */
function output(count: number): GPUBuffer {
  return upload(new Float32Array(count + 64).fill(SENTINEL), 'output');
}

const run = (dispatches: Dispatch[], what: string) => runDispatches(device, dispatches, what);

async function check(c: MatmulCase, seed: number): Promise<void> {
  const r = await checkMatmul(env, c, seed);
  expect(r.pass, `${describeMatmul(c)}: ${r.detail}`).toBe(true);
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
