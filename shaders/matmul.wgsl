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
// Tiles: a 16x16 workgroup computes a 64x64 block of C, each thread a 4x4 sub-block strided by 16
// (rows ty + 16*i, cols tx + 16*j) so that neighbouring threads touch neighbouring addresses.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override LOWRANK: bool = false;

struct Params {
  M: u32, N: u32, K: u32, k_chunk: u32,
  splits: u32, stride_a: u32, stride_b: u32, stride_c: u32,
  alpha: f32, rank: u32, scale: f32, stride_z: u32,
  stride_l: u32, batch: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> z: array<f32>;   // LOWRANK: Z (M x R)
@group(0) @binding(5) var<storage, read> l: array<f32>;   // LOWRANK: L (N x R)

const BM = 64u;
const BN = 64u;
const BK = 16u;
const T = 16u;  // threads per side

var<workgroup> tileA: array<f32, BK * BM>;  // [k][m]
var<workgroup> tileB: array<f32, BK * BN>;  // [k][n]

fn load_a(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return a[base + k * p.M + row]; }
  return a[base + row * p.K + k];
}

fn load_b(base: u32, k: u32, col: u32) -> f32 {
  if (k >= p.K || col >= p.N) { return 0.0; }
  if (TRANS_B) { return b[base + col * p.K + k]; }
  return b[base + k * p.N + col];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wg.z / p.splits;
  let split = wg.z % p.splits;
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let k_begin = split * p.k_chunk;
  let k_end = min(p.K, k_begin + p.k_chunk);
  let base_a = batch * p.stride_a;
  let base_b = batch * p.stride_b;
  let tid = lid.y * T + lid.x;

  var acc: array<vec4<f32>, 4>;  // acc[i][j]: row lid.y + 16 i, column lid.x + 16 j

  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    // 256 threads load 64x16 of A and 16x64 of B, 4 elements each.
    for (var e = 0u; e < 4u; e++) {
      let idx = tid + e * 256u;
      // A tile: idx -> (m = idx / BK, k = idx % BK) when A is row-major (k fastest in memory),
      //         (k = idx / BM, m = idx % BM) when transposed (m fastest in memory).
      var am: u32; var ak: u32;
      if (TRANS_A) { ak = idx / BM; am = idx % BM; } else { am = idx / BK; ak = idx % BK; }
      let ka = k0 + ak;
      var va = 0.0;
      if (ka < k_end) { va = load_a(base_a, row0 + am, ka); }
      tileA[ak * BM + am] = va;
      var bk: u32; var bn: u32;
      if (TRANS_B) { bn = idx / BK; bk = idx % BK; } else { bk = idx / BN; bn = idx % BN; }
      let kb = k0 + bk;
      var vb = 0.0;
      if (kb < k_end) { vb = load_b(base_b, kb, col0 + bn); }
      tileB[bk * BN + bn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let bb = kk * BN + lid.x;
      let bv = vec4<f32>(tileB[bb], tileB[bb + T], tileB[bb + 2u * T], tileB[bb + 3u * T]);
      let ab = kk * BM + lid.y;
      acc[0] = fma(vec4<f32>(tileA[ab]), bv, acc[0]);
      acc[1] = fma(vec4<f32>(tileA[ab + T]), bv, acc[1]);
      acc[2] = fma(vec4<f32>(tileA[ab + 2u * T]), bv, acc[2]);
      acc[3] = fma(vec4<f32>(tileA[ab + 3u * T]), bv, acc[3]);
    }
    workgroupBarrier();
  }

  let base_c = wg.z * p.stride_c;  // with splits == 1, wg.z == batch
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + i * T;
    if (row >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x + j * T;
      if (col >= p.N) { continue; }
      let at = base_c + row * p.N + col;
      if (p.splits > 1u) { c[at] = acc[i][j]; continue; }
      var v = p.alpha * acc[i][j];
      if (ACCUMULATE) { v += c[at]; }
      if (LOWRANK) {
        var lr = 0.0;
        let zb = batch * p.stride_z + row * p.rank;
        let lb = batch * p.stride_l + col * p.rank;
        for (var q = 0u; q < p.rank; q++) { lr = fma(z[zb + q], l[lb + q], lr); }
        v += p.scale * lr;
      }
      c[at] = v;
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
