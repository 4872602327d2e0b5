// Tiled matrix product, batched, with optional transposes, split-K and a low-rank epilogue.
//
//   C[b] (M x N) = alpha * op(A[b]) (M x K) * op(B[b]) (K x N)
//                  [+ C[b]                 if ACCUMULATE]
//                  [+ s * Z[b] (M x R) * L[b]^T (R x N)   if LOWRANK: the LoRA path B.A fused into the frozen pass]
//
//   op(A) = A stored M x K row-major, or (TRANS_A) A stored K x M and read transposed.
//   op(B) = B stored K x N row-major, or (TRANS_B) B stored N x K and read transposed.
//   LoRA uses NT (X W^T), TN (G^T Z) and NN (G B).
//
// Split-K (p.splits > 1): workgroup z = batch * splits + split handles k in [split*k_chunk, (split+1)*k_chunk)
// and writes its raw partial sum to C viewed as [batch*splits][M][N]; `reduce_splits` then adds the partials
// in a fixed order. No float atomics: results are bit-identical run to run.
//
// Tiles. A workgroup of WX x WY threads computes a BM x BN block of C, BM = 4*QM*WY, BN = 4*QN*WX; each thread
// owns QM x QN quads of 4x4 outputs (up to 8x8 in registers), quad (i, j) at rows 4*(ty + i*WY) and columns
// 4*(tx + j*WX), so that neighbouring threads read neighbouring vec4s of the tiles. K advances BK = 16 at a
// time through workgroup memory. The shape class (WX, WY, QM, QN) is picked per product by matmul.ts.
// NOTE: on a CPU adapter (SwiftShader) every load from workgroup or storage memory is a per-lane gather, so
// what pays is FMAs per load: the 8x8 register tile does 64 FMAs for 16 loaded floats per k.
//
// Low-rank epilogue as extra K: after the K loop, acc *= alpha, then R more "k" steps run through the same
// register tile with s*Z as the A tile and L as a transposed B tile, i.e. [op(A) | s Z] [op(B); L^T].
//
// VEC_A / VEC_B: the operand is staged with vec4 loads along its contiguous axis (that axis, and the batch
// stride, are multiples of 4); otherwise scalar loads. Operands are bound as arrays of vec4 either way.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override LOWRANK: bool = false;
override VEC_A: bool = false;
override VEC_B: bool = false;
override WX: u32 = 8u;  // threads along N
override WY: u32 = 8u;  // threads along M
override QM: u32 = 2u;  // 4-row quads per thread (1 or 2)
override QN: u32 = 2u;  // 4-column quads per thread (1 or 2)

struct Params {
  M: u32, N: u32, K: u32, k_chunk: u32,
  splits: u32, stride_a: u32, stride_b: u32, stride_c: u32,
  alpha: f32, rank: u32, scale: f32, stride_z: u32,
  stride_l: u32, batch: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> z: array<f32>;   // LOWRANK: Z (M x R)
@group(0) @binding(5) var<storage, read> l: array<f32>;   // LOWRANK: L (N x R)

const BK = 16u;

// [k][m / 4] and [k][n / 4]: one vec4 holds 4 consecutive rows of op(A) (columns of op(B)) at one k.
var<workgroup> tileA: array<vec4<f32>, BK * QM * WY>;
var<workgroup> tileB: array<vec4<f32>, BK * QN * WX>;

// Per-invocation state shared by the helpers below. Quad (i, j) accumulates in acc_ij: column r of the
// matrix is row 4 (ty + i WY) + r of C at columns 4 (tx + j WX) + 0..3.
// NOTE: every access to these uses a constant index; a dynamic index into a per-thread array sends it to
// scratch memory on GPUs and to per-lane gathers on SwiftShader.
var<private> acc00: mat4x4<f32>;
var<private> acc01: mat4x4<f32>;
var<private> acc10: mat4x4<f32>;
var<private> acc11: mat4x4<f32>;
var<private> tx: u32;
var<private> ty: u32;

fn bm() -> u32 { return 4u * QM * WY; }
fn bn() -> u32 { return 4u * QN * WX; }

fn scalar_a(i: u32) -> f32 { return a[i >> 2u][i & 3u]; }
fn scalar_b(i: u32) -> f32 { return b[i >> 2u][i & 3u]; }

// Element (row, k) of op(A) or 0 outside [0, M) x [k_lo, k_hi). Indices are clamped rather than branched on:
// a divergent branch costs more than a wasted load.
fn elem_a(base: u32, row: u32, k: u32, k_hi: u32) -> f32 {
  let r = min(row, p.M - 1u);
  let kk = min(k, p.K - 1u);
  var v: f32;
  if (TRANS_A) { v = scalar_a(base + kk * p.M + r); } else { v = scalar_a(base + r * p.K + kk); }
  return select(0.0, v, row < p.M && k < k_hi);
}

fn elem_b(base: u32, k: u32, col: u32, k_hi: u32) -> f32 {
  let cc = min(col, p.N - 1u);
  let kk = min(k, p.K - 1u);
  var v: f32;
  if (TRANS_B) { v = scalar_b(base + cc * p.K + kk); } else { v = scalar_b(base + kk * p.N + cc); }
  return select(0.0, v, col < p.N && k < k_hi);
}

// Stage op(A)[row0 .. row0 + BM) x [k0, k0 + BK) into tileA (zero outside [0, M) x [k0, k_hi)).
fn stage_a(tid: u32, base: u32, row0: u32, k0: u32, k_hi: u32) {
  let threads = WX * WY;
  let m4 = QM * WY;  // vec4s per tile row
  if (VEC_A) {
    for (var e = tid; e < BK * m4; e += threads) {
      if (TRANS_A) {
        // A stored K x M: 4 consecutive m at one k are one vec4 of A.
        let k = e / m4;
        let q = e % m4;
        let row = row0 + 4u * q;
        let kk = min(k0 + k, p.K - 1u);
        let v = a[(base + kk * p.M + min(row, p.M - 4u)) >> 2u];
        tileA[k * m4 + q] = select(vec4<f32>(), v, row < p.M && k0 + k < k_hi);
      } else {
        // A stored M x K: 4 consecutive k at one m; scatter them into 4 tile rows.
        let m = e / (BK / 4u);
        let kq = 4u * (e % (BK / 4u));
        let row = row0 + m;
        let v = a[(base + min(row, p.M - 1u) * p.K + min(k0 + kq, p.K - 4u)) >> 2u];
        let ok = row < p.M && k0 + kq < k_hi;
        let t = kq * m4 + m / 4u;
        let r = m % 4u;
        tileA[t][r] = select(0.0, v.x, ok);
        tileA[t + m4][r] = select(0.0, v.y, ok);
        tileA[t + 2u * m4][r] = select(0.0, v.z, ok);
        tileA[t + 3u * m4][r] = select(0.0, v.w, ok);
      }
    }
  } else {
    for (var e = tid; e < BK * 4u * m4; e += threads) {
      var m: u32; var k: u32;
      // Walk along the stored contiguous axis so neighbouring threads read neighbouring addresses.
      if (TRANS_A) { k = e / (4u * m4); m = e % (4u * m4); } else { m = e / BK; k = e % BK; }
      tileA[k * m4 + m / 4u][m % 4u] = elem_a(base, row0 + m, k0 + k, k_hi);
    }
  }
}

fn stage_b(tid: u32, base: u32, col0: u32, k0: u32, k_hi: u32) {
  let threads = WX * WY;
  let n4 = QN * WX;
  if (VEC_B) {
    for (var e = tid; e < BK * n4; e += threads) {
      if (TRANS_B) {
        // B stored N x K: 4 consecutive k at one n.
        let n = e / (BK / 4u);
        let kq = 4u * (e % (BK / 4u));
        let col = col0 + n;
        let v = b[(base + min(col, p.N - 1u) * p.K + min(k0 + kq, p.K - 4u)) >> 2u];
        let ok = col < p.N && k0 + kq < k_hi;
        let t = kq * n4 + n / 4u;
        let r = n % 4u;
        tileB[t][r] = select(0.0, v.x, ok);
        tileB[t + n4][r] = select(0.0, v.y, ok);
        tileB[t + 2u * n4][r] = select(0.0, v.z, ok);
        tileB[t + 3u * n4][r] = select(0.0, v.w, ok);
      } else {
        // B stored K x N: 4 consecutive n at one k are one vec4 of B.
        let k = e / n4;
        let q = e % n4;
        let col = col0 + 4u * q;
        let kk = min(k0 + k, p.K - 1u);
        let v = b[(base + kk * p.N + min(col, p.N - 4u)) >> 2u];
        tileB[k * n4 + q] = select(vec4<f32>(), v, col < p.N && k0 + k < k_hi);
      }
    }
  } else {
    for (var e = tid; e < BK * 4u * n4; e += threads) {
      var n: u32; var k: u32;
      if (TRANS_B) { n = e / BK; k = e % BK; } else { k = e / (4u * n4); n = e % (4u * n4); }
      tileB[k * n4 + n / 4u][n % 4u] = elem_b(base, k0 + k, col0 + n, k_hi);
    }
  }
}

// The low-rank tail: tileA <- s * Z[row][q0 + k], tileB <- L[col][q0 + k] (zero past the rank).
fn stage_lowrank(tid: u32, batch: u32, row0: u32, col0: u32, q0: u32) {
  let threads = WX * WY;
  let m4 = QM * WY;
  let n4 = QN * WX;
  for (var e = tid; e < BK * 4u * m4; e += threads) {
    let m = e / BK;
    let k = e % BK;
    let row = min(row0 + m, p.M - 1u);
    let q = min(q0 + k, p.rank - 1u);
    let v = p.scale * z[batch * p.stride_z + row * p.rank + q];
    tileA[k * m4 + m / 4u][m % 4u] = select(0.0, v, row0 + m < p.M && q0 + k < p.rank);
  }
  for (var e = tid; e < BK * 4u * n4; e += threads) {
    let n = e / BK;
    let k = e % BK;
    let col = min(col0 + n, p.N - 1u);
    let q = min(q0 + k, p.rank - 1u);
    let v = l[batch * p.stride_l + col * p.rank + q];
    tileB[k * n4 + n / 4u][n % 4u] = select(0.0, v, col0 + n < p.N && q0 + k < p.rank);
  }
}

// 4 rows x 4 columns: c[r] += a[r] * b, r = 0..3.
fn quad(c: mat4x4<f32>, av: vec4<f32>, bv: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(vec4<f32>(av.x), bv, c[0]), fma(vec4<f32>(av.y), bv, c[1]), fma(vec4<f32>(av.z), bv, c[2]), fma(vec4<f32>(av.w), bv, c[3]));
}

// acc += tileA^T tileB over the BK staged k (QM and QN are constants: the dead quads compile away).
fn mac_tile() {
  let m4 = QM * WY;
  let n4 = QN * WX;
  for (var k = 0u; k < BK; k++) {
    let a0 = tileA[k * m4 + ty];
    let b0 = tileB[k * n4 + tx];
    acc00 = quad(acc00, a0, b0);
    if (QN == 2u) {
      let b1 = tileB[k * n4 + tx + WX];
      acc01 = quad(acc01, a0, b1);
      if (QM == 2u) {
        let a1 = tileA[k * m4 + ty + WY];
        acc10 = quad(acc10, a1, b0);
        acc11 = quad(acc11, a1, b1);
      }
    } else if (QM == 2u) {
      let a1 = tileA[k * m4 + ty + WY];
      acc10 = quad(acc10, a1, b0);
    }
  }
}

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  tx = lid.x;
  ty = lid.y;
  let tid = lid.y * WX + lid.x;
  let batch = wg.z / p.splits;
  let split = wg.z % p.splits;
  let row0 = wg.y * bm();
  let col0 = wg.x * bn();
  let k_begin = split * p.k_chunk;
  let k_end = min(p.K, k_begin + p.k_chunk);
  let base_a = batch * p.stride_a;
  let base_b = batch * p.stride_b;

  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    stage_a(tid, base_a, row0, k0, k_end);
    stage_b(tid, base_b, col0, k0, k_end);
    workgroupBarrier();
    mac_tile();
    workgroupBarrier();
  }

  if (p.splits > 1u) {
    // Raw partial sums; reduce_splits applies alpha and ACCUMULATE.
    write_tile(wg.z * p.stride_c, row0, col0, 1.0, false);
    return;
  }
  if (LOWRANK) {
    acc00 *= p.alpha;
    acc01 *= p.alpha;
    acc10 *= p.alpha;
    acc11 *= p.alpha;
    for (var q0 = 0u; q0 < p.rank; q0 += BK) {
      stage_lowrank(tid, batch, row0, col0, q0);
      workgroupBarrier();
      mac_tile();
      workgroupBarrier();
    }
    write_tile(batch * p.stride_c, row0, col0, 1.0, ACCUMULATE);
  } else {
    write_tile(batch * p.stride_c, row0, col0, p.alpha, ACCUMULATE);
  }
}

fn write_tile(base_c: u32, row0: u32, col0: u32, alpha: f32, accumulate: bool) {
  write_quad(acc00, base_c, row0 + 4u * ty, col0 + 4u * tx, alpha, accumulate);
  if (QN == 2u) { write_quad(acc01, base_c, row0 + 4u * ty, col0 + 4u * (tx + WX), alpha, accumulate); }
  if (QM == 2u) {
    write_quad(acc10, base_c, row0 + 4u * (ty + WY), col0 + 4u * tx, alpha, accumulate);
    if (QN == 2u) { write_quad(acc11, base_c, row0 + 4u * (ty + WY), col0 + 4u * (tx + WX), alpha, accumulate); }
  }
}

fn write_quad(q: mat4x4<f32>, base_c: u32, row: u32, col: u32, alpha: f32, accumulate: bool) {
  write_row(q[0], base_c, row, col, alpha, accumulate);
  write_row(q[1], base_c, row + 1u, col, alpha, accumulate);
  write_row(q[2], base_c, row + 2u, col, alpha, accumulate);
  write_row(q[3], base_c, row + 3u, col, alpha, accumulate);
}

// C[row][col .. col + 3] = alpha * v (+ C if accumulate), clipped to M x N.
fn write_row(v: vec4<f32>, base_c: u32, row: u32, col: u32, alpha: f32, accumulate: bool) {
  if (row >= p.M) { return; }
  for (var e = 0u; e < 4u; e++) {
    if (col + e < p.N) {
      let at = base_c + row * p.N + col + e;
      var out = alpha * v[e];
      if (accumulate) { out += c[at]; }
      c[at] = out;
    }
  }
}

// out[b] = alpha * sum_s partial[b*splits + s]  (+ out[b] if ACCUMULATE), summed in split order.
@group(0) @binding(0) var<uniform> rp: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn reduce_splits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let per_batch = rp.M * rp.N;
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= per_batch * rp.batch) { return; }
  let bidx = i / per_batch;
  let e = i % per_batch;
  var s = 0.0;
  for (var k = 0u; k < rp.splits; k++) { s += partial[(bidx * rp.splits + k) * per_batch + e]; }
  var v = rp.alpha * s;
  if (ACCUMULATE) { v += out[bidx * rp.stride_c + e]; }
  out[bidx * rp.stride_c + e] = v;
}
