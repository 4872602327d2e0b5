// Batched toy-model kernels for sweeps (src/experiments/sweep/batchTrainer.ts): R runs that share every frozen
// tensor (W_in, W0, W_out, the data) and differ only in A, B and their hyperparameters train together.
//
// The frozen part of the adapted layer's pre-activation, P0 = H1 W0^T, is the same for every run and
// every step, so it is computed once per group and each step only adds the rank-r path:
//
//   P[b]  = P0 + s Z_A[b] B[b]^T              (rows x n)      rows or rows_thread
//   y[b]  = phi(P[b]) W_out^T;  res = y - y*  (rows)          the same pass (fused, no H2 stored)
//   U[b]  = s G[b] B[b],  G = dL/dP           (rows x r)      rows (a second pass) or rows_thread (the same one); stored transposed: UT
//   dB[b] = s G[b]^T Z_A[b]                   (n x r)         grad_b (one thread per column j; stored as dB^T)
//   with G[b][i, j] = (res[b, i] / rows) * W_out[j] * phi'(P[b][i, j]), never materialised.
//
// P[b] is never stored either: every kernel that needs an entry recomputes it from P0, Z_A and B with
// the same expression, `p0 + scale * dot(z, b)` (so the same bits), which costs a 4-term dot product and
// saves a runs x rows x n buffer and its traffic (at n = 8192, 32 MiB per run).
// P0 is read at p0[i * p.p_row + j * p.p_col]: row-major (p_row = n, p_col = 1) for the kernels whose
// lanes run along the width (rows, grad_b), or transposed (p_row = 1, p_col = rows) for rows_thread,
// whose lanes run along the rows, so that neighbouring lanes read neighbouring words.
//
// Z_A^T (ZT, runs x r x rows) and dA = U^T H1 are ordinary matmuls over all runs at once (matmul.wgsl).
// `gram` and `metrics` give each run's loss and coordinate-RMS norms from r x r Gram matrices and write
// them to the metrics ring; `metrics` also keeps each run's `alive` flag (lora-math.md section 4: a run
// diverges when its loss is non-finite or above DIVERGENCE_FACTOR x its first loss), and every kernel that writes a
// run's state skips dead runs: a run that diverges freezes at its divergence step and cannot touch the
// others (no kernel mixes runs).
//
// Layouts (row-major, RP = the rank padded to a multiple of 4): p0 rows x n (or n x rows, see above);
// zt runs x RP x rows; A and B^T runs x RP x n; residuals runs x rows (after UT, at p.res_off, in the same
// buffer); gram runs x 3 x RP x RP (Z_A^T Z_A, B^T B, A A^T).
// Metrics slot (ring of `state.ring` slots, `state.stride` floats each): [step, run 0 fields, run 1 fields, ...]
// with GROUP_FIELDS floats per run (src/experiments/run/metricsLayout.ts).

override ACT: u32 = 0u;
// The rank is padded to RP = 4 and held in one vec4 per row (batched training supports r <= 4, the toy
// default; the sweep runner sends larger ranks to the per-run engine). The padding rows of A and columns of B
// are zero and stay zero under AdamW (their gradients are zero), so it changes no result.
const RP = 4u;

// The metrics slot's offsets (SLOT_HEADER, GROUP_FIELDS, F_LOSS .. F_ALIVE: one group per run) and
// DIVERGENCE_FACTOR are appended by src/experiments/sweep/batchTrainer.ts from their TypeScript definitions.

struct Params {
  runs: u32, rows: u32, n: u32, rank: u32,
  scale: f32, inv_rows: f32, res_off: u32, _p1: u32,
  p_row: u32, p_col: u32, _p2: u32, _p3: u32,  // strides of P0 (see above)
}
// struct State: shaders/state.wgsl, appended by the kernel wrapper.

@group(0) @binding(0) var<uniform> p: Params;

// phi and dphi: shaders/phi.wgsl, appended to this module by src/experiments/sweep/batchTrainer.ts.

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

// Inf or NaN, by bits (comparisons with NaN may be folded away by optimising compilers).
fn non_finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u; }

// ---- rows: forward (+ backward to U) for 8 rows of one run per workgroup, lanes along the width ----
// Every large access is sequential across lanes (j), which a SIMD-on-CPU implementation (SwiftShader)
// turns into vector loads, and all per-thread state is in named vec4s (a dynamically indexed private
// array would live in memory). Reductions across the workgroup cost two barriers: every thread writes
// its partial sums, then a few threads add them serially.
// Pass 1: P = P0 + s Z_A B^T for the 8 rows; y = phi(P) W_out^T; residual y - y*.
// Pass 2 (BACKWARD): U = s (res / rows) sum_j W_out[j] phi'(P[., j]) B[j, .] (P recomputed), stored transposed (UT).
override BACKWARD: bool = true;
const WG = 64u;
const ROWS = 8u;  // rows per workgroup

@group(0) @binding(1) var<storage, read> p0: array<f32>;        // rows x n, at i * p_row + j * p_col
@group(0) @binding(2) var<storage, read> w_out: array<f32>;     // n
@group(0) @binding(3) var<storage, read> y_star: array<f32>;    // rows
@group(0) @binding(4) var<storage, read> zt: array<f32>;        // runs x RP x rows
@group(0) @binding(5) var<storage, read> bt: array<f32>;        // runs x RP x n  (B transposed)
@group(0) @binding(7) var<storage, read_write> out: array<f32>; // [UT: runs x RP x rows (BACKWARD)] then residuals at p.res_off
@group(0) @binding(8) var<storage, read> alive: array<u32>;     // runs

var<workgroup> red: array<vec4<f32>, 512>;  // [k][thread], k < 8
var<workgroup> ysum: array<f32, ROWS>;  // residuals of the block's rows
var<workgroup> flag: u32;


// Z_A (RP values) of row i of run b, from ZT.
fn zrow(b: u32, i: u32, m: u32) -> vec4<f32> {
  let o = b * RP * m + i;
  return vec4<f32>(zt[o], zt[o + m], zt[o + 2u * m], zt[o + 3u * m]);
}

@compute @workgroup_size(64)
fn rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = p.rows;
  let n = p.n;
  let blocks = (m + ROWS - 1u) / ROWS;
  let w = wg.x + wg.y * nwg.x;
  let b = w / blocks;
  if (lid == 0u) { flag = select(0u, alive[min(b, p.runs - 1u)], b < p.runs); }
  if (workgroupUniformLoad(&flag) == 0u) { return; }
  let i0 = (w % blocks) * ROWS;
  let bb = b * RP * n;
  // Pass 1, two rows at a time (few live registers: SIMD-on-CPU keeps one register per vec4 component).
  for (var t = 0u; t < ROWS; t += 2u) {
    let ia = min(i0 + t, m - 1u);
    let ib = min(i0 + t + 1u, m - 1u);
    let za = zrow(b, ia, m);
    let zb = zrow(b, ib, m);
    let pa = ia * p.p_row;
    let pb = ib * p.p_row;
    var acc_a = 0.0;
    var acc_b = 0.0;
    for (var j = lid; j < n; j += WG) {
      let o = bb + j;
      let bq = vec4<f32>(bt[o], bt[o + n], bt[o + 2u * n], bt[o + 3u * n]);
      // Same order as matmul.wgsl's low-rank epilogue: P0 + s * (z . b).
      let va = p0[pa + j * p.p_col] + p.scale * dot(za, bq);
      let vb = p0[pb + j * p.p_col] + p.scale * dot(zb, bq);
      let wj = w_out[j];
      acc_a = fma(phi(va), wj, acc_a);
      acc_b = fma(phi(vb), wj, acc_b);
    }
    red[t * WG + lid] = vec4<f32>(acc_a, acc_b, 0.0, 0.0);
  }
  workgroupBarrier();
  if (lid < ROWS) {
    // Thread lid sums row lid's partials and writes its residual.
    var s = 0.0;
    let k = (lid / 2u) * 2u * WG;
    let c = lid % 2u;
    for (var l = 0u; l < WG; l++) { s += red[k + l][c]; }
    let i = min(i0 + lid, m - 1u);
    let r = s - y_star[i];
    ysum[lid] = r;
    if (i0 + lid < m) { out[p.res_off + b * m + i0 + lid] = r; }
  }
  if (!BACKWARD) { return; }
  workgroupBarrier();
  // Pass 2: U for two rows at a time.
  for (var t = 0u; t < ROWS; t += 2u) {
    let ia = min(i0 + t, m - 1u);
    let ib = min(i0 + t + 1u, m - 1u);
    let ga = p.scale * p.inv_rows * ysum[t];
    let gb = p.scale * p.inv_rows * ysum[t + 1u];
    let za = zrow(b, ia, m);
    let zb = zrow(b, ib, m);
    let pa = ia * p.p_row;
    let pb = ib * p.p_row;
    var ua = vec4<f32>(0.0);
    var ub = vec4<f32>(0.0);
    for (var j = lid; j < n; j += WG) {
      let o = bb + j;
      let bq = vec4<f32>(bt[o], bt[o + n], bt[o + 2u * n], bt[o + 3u * n]);
      let va = p0[pa + j * p.p_col] + p.scale * dot(za, bq);
      let vb = p0[pb + j * p.p_col] + p.scale * dot(zb, bq);
      let wj = w_out[j];
      ua = fma(vec4<f32>(ga * wj * dphi(va)), bq, ua);
      ub = fma(vec4<f32>(gb * wj * dphi(vb)), bq, ub);
    }
    red[t * WG + lid] = ua;
    red[(t + 1u) * WG + lid] = ub;
  }
  workgroupBarrier();
  if (lid < ROWS && i0 + lid < m) {
    var s = vec4<f32>(0.0);
    for (var l = 0u; l < WG; l++) { s += red[lid * WG + l]; }
    let o = b * RP * m + i0 + lid;
    out[o] = s.x;
    out[o + m] = s.y;
    out[o + 2u * m] = s.z;
    out[o + 3u * m] = s.w;
  }
}

// ---- rows_thread: the same as rows, one thread per (run, row) x 4 rows, no workgroup memory or barriers ----
// Each thread walks its rows along the width, so U's sum (which does not depend on the residual: it is
// sum_j W_out[j] phi'(P[., j]) B[j, .], scaled by the residual at the end) is taken in the same pass as y.
// A workgroup covers QUAD = 256 rows of one run, lane l the rows base + l + 64 k (k < 4): every B and
// W_out load is the same word in all lanes and serves four rows, and with P0 transposed the lanes read
// neighbouring words (on SwiftShader both are single vector loads; a scatter of per-lane words is not).
// Chosen when the width is small (or on a software adapter, where a workgroup's barriers cost more than
// its arithmetic at these sizes): rows' 64 lanes then sit mostly idle while it pays three barriers and
// serial reductions for every 8 rows. Launch: runs x ceil(rows / QUAD) workgroups (flattened by grid1d).
const QUAD = 256u;

struct RowAcc { y: f32, u: vec4<f32> }

// One row's forward sum and U sum (before the residual), at P0 offset q (stride p.p_col along j).
fn row_step(a: RowAcc, z: vec4<f32>, bq: vec4<f32>, p0v: f32, wj: f32) -> RowAcc {
  let v = p0v + p.scale * dot(z, bq);
  var out = a;
  out.y = fma(phi(v), wj, a.y);
  if (BACKWARD) { out.u = fma(vec4<f32>(wj * dphi(v)), bq, a.u); }
  return out;
}

fn row_finish(a: RowAcc, b: u32, i: u32, m: u32) {
  if (i >= m) { return; }
  let r = a.y - y_star[i];
  out[p.res_off + b * m + i] = r;
  if (BACKWARD) {
    let o = b * RP * m + i;
    let g = p.scale * p.inv_rows * r;
    out[o] = g * a.u.x;
    out[o + m] = g * a.u.y;
    out[o + 2u * m] = g * a.u.z;
    out[o + 3u * m] = g * a.u.w;
  }
}

@compute @workgroup_size(64)
fn rows_thread(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = p.rows;
  let n = p.n;
  let blocks = (m + QUAD - 1u) / QUAD;
  let w = wg.x + wg.y * nwg.x;
  let b = w / blocks;
  if (b >= p.runs || alive[b] == 0u) { return; }
  let base = (w % blocks) * QUAD + lid;
  // Rows past the end compute row m - 1 again and write nothing.
  let i0 = min(base, m - 1u);
  let i1 = min(base + 64u, m - 1u);
  let i2 = min(base + 128u, m - 1u);
  let i3 = min(base + 192u, m - 1u);
  let z0 = zrow(b, i0, m);
  let z1 = zrow(b, i1, m);
  let z2 = zrow(b, i2, m);
  let z3 = zrow(b, i3, m);
  let bb = b * RP * n;
  var q0 = i0 * p.p_row;
  var q1 = i1 * p.p_row;
  var q2 = i2 * p.p_row;
  var q3 = i3 * p.p_row;
  let zero = RowAcc(0.0, vec4<f32>(0.0));
  var a0 = zero;
  var a1 = zero;
  var a2 = zero;
  var a3 = zero;
  for (var j = 0u; j < n; j++) {
    let o = bb + j;
    let bq = vec4<f32>(bt[o], bt[o + n], bt[o + 2u * n], bt[o + 3u * n]);
    let wj = w_out[j];
    a0 = row_step(a0, z0, bq, p0[q0], wj);
    a1 = row_step(a1, z1, bq, p0[q1], wj);
    a2 = row_step(a2, z2, bq, p0[q2], wj);
    a3 = row_step(a3, z3, bq, p0[q3], wj);
    q0 += p.p_col;
    q1 += p.p_col;
    q2 += p.p_col;
    q3 += p.p_col;
  }
  row_finish(a0, b, base, m);
  row_finish(a1, b, base + 64u, m);
  row_finish(a2, b, base + 128u, m);
  row_finish(a3, b, base + 192u, m);
}

// ---- grad_b: dB^T[b, q, j] = s W_out[j] sum_i (res[b, i] / rows) phi'(P[b, i, j]) Z_A[b, i, q]; lanes along j ----
// P[b, i, j] = P0[i, j] + s Z_A[b, i] . B[b, j] recomputed exactly as the forward kernels do; P0 row-major.
@group(0) @binding(1) var<storage, read> zt_g: array<f32>;
@group(0) @binding(2) var<storage, read> w_out_g: array<f32>;
@group(0) @binding(3) var<storage, read> p0_g: array<f32>;      // rows x n
@group(0) @binding(4) var<storage, read> res_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbt: array<f32>;
@group(0) @binding(6) var<storage, read> alive_g: array<u32>;
@group(0) @binding(7) var<storage, read> bt_g: array<f32>;      // runs x RP x n

// A workgroup covers QUAD = 256 columns of one run, lane l the columns base + l + 64 k (k < 4): the
// Z_A and residual loads are the same word in all lanes and serve four columns.
struct ColAcc { j: u32, bq: vec4<f32>, acc: vec4<f32> }

fn col_start(b: u32, j: u32) -> ColAcc {
  let o = b * RP * p.n + j;
  return ColAcc(j, vec4<f32>(bt_g[o], bt_g[o + p.n], bt_g[o + 2u * p.n], bt_g[o + 3u * p.n]), vec4<f32>(0.0));
}

fn col_step(a: ColAcc, z: vec4<f32>, res: f32, p0row: u32) -> ColAcc {
  let v = p0_g[p0row + a.j] + p.scale * dot(z, a.bq);
  var out = a;
  out.acc = fma(vec4<f32>(res * dphi(v)), z, a.acc);
  return out;
}

fn col_finish(a: ColAcc, b: u32, j: u32) {
  if (j >= p.n) { return; }
  let v = p.scale * p.inv_rows * w_out_g[j] * a.acc;
  let o = b * RP * p.n + j;
  dbt[o] = v.x;
  dbt[o + p.n] = v.y;
  dbt[o + 2u * p.n] = v.z;
  dbt[o + 3u * p.n] = v.w;
}

@compute @workgroup_size(64)
fn grad_b(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = p.n;
  let blocks = (n + QUAD - 1u) / QUAD;
  let w = wg.x + wg.y * nwg.x;
  let b = w / blocks;
  if (b >= p.runs || alive_g[b] == 0u) { return; }
  let base = (w % blocks) * QUAD + lid;
  // Columns past the end compute column n - 1 again and write nothing.
  var c0 = col_start(b, min(base, n - 1u));
  var c1 = col_start(b, min(base + 64u, n - 1u));
  var c2 = col_start(b, min(base + 128u, n - 1u));
  var c3 = col_start(b, min(base + 192u, n - 1u));
  let m = p.rows;
  for (var i = 0u; i < m; i++) {
    let zb = b * RP * m + i;
    let z = vec4<f32>(zt_g[zb], zt_g[zb + m], zt_g[zb + 2u * m], zt_g[zb + 3u * m]);
    let res = res_g[p.res_off + b * m + i];
    let row = i * n;
    c0 = col_step(c0, z, res, row);
    c1 = col_step(c1, z, res, row);
    c2 = col_step(c2, z, res, row);
    c3 = col_step(c3, z, res, row);
  }
  col_finish(c0, b, base);
  col_finish(c1, b, base + 64u);
  col_finish(c2, b, base + 128u);
  col_finish(c3, b, base + 192u);
}

// ---- gram: per run, Z_A^T Z_A (over rows), B^T B and A A^T (over n); one thread per entry (RP x RP) ----
@group(0) @binding(1) var<storage, read> zt_m: array<f32>;
@group(0) @binding(2) var<storage, read> bt_m: array<f32>;
@group(0) @binding(3) var<storage, read> am_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> gram: array<f32>;

@compute @workgroup_size(64)
fn gram_all(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat(gid, nwg);
  let rr = RP * RP;
  if (t >= p.runs * 3u * rr) { return; }
  let b = t / (3u * rr);
  let g = (t / rr) % 3u;
  let pq = t % rr;
  let pi = pq / RP;
  let qi = pq % RP;
  var s = 0.0;
  if (g == 0u) {
    let x = (b * RP + pi) * p.rows;
    let y = (b * RP + qi) * p.rows;
    for (var i = 0u; i < p.rows; i++) { s = fma(zt_m[x + i], zt_m[y + i], s); }
  } else if (g == 1u) {
    let x = (b * RP + pi) * p.n;
    let y = (b * RP + qi) * p.n;
    for (var j = 0u; j < p.n; j++) { s = fma(bt_m[x + j], bt_m[y + j], s); }
  } else {
    let x = (b * RP + pi) * p.n;
    let y = (b * RP + qi) * p.n;
    for (var k = 0u; k < p.n; k++) { s = fma(am_m[x + k], am_m[y + k], s); }
  }
  gram[t] = s;
}

// ---- metrics: one thread per run; loss and norms into the ring, divergence flag ----
// Norms use the true rank p.rank (the padding is zero and adds nothing to the sums).
@group(0) @binding(1) var<storage, read> res_m: array<f32>;
@group(0) @binding(2) var<storage, read> gram_m: array<f32>;
@group(0) @binding(3) var<storage, read> state: State;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<storage, read_write> alive_m: array<u32>;
@group(0) @binding(6) var<storage, read_write> first_loss: array<f32>;

fn slot_base(b: u32) -> u32 { return ((state.step - 1u) % state.ring) * state.stride + SLOT_HEADER + b * GROUP_FIELDS; }

@compute @workgroup_size(64)
fn metrics_runs(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= p.runs) { return; }
  var ss = 0.0;
  for (var i = 0u; i < p.rows; i++) { let v = res_m[p.res_off + b * p.rows + i]; ss = fma(v, v, ss); }
  let loss = 0.5 * ss * p.inv_rows;
  let rr = RP * RP;
  let zz = b * 3u * rr;
  let bo = zz + rr;
  let aa = zz + 2u * rr;
  var tz = 0.0; var tb = 0.0; var ta = 0.0; var zb = 0.0; var sba = 0.0;
  for (var q = 0u; q < RP; q++) { tz += gram_m[zz + q * RP + q]; tb += gram_m[bo + q * RP + q]; ta += gram_m[aa + q * RP + q]; }
  for (var k = 0u; k < rr; k++) { zb = fma(gram_m[bo + k], gram_m[zz + k], zb); sba = fma(gram_m[bo + k], gram_m[aa + k], sba); }
  let s2 = p.scale * p.scale;
  let m = f32(p.rows);
  let n = f32(p.n);
  let r = f32(p.rank);
  let o = slot_base(b);
  metrics[o + F_LOSS] = loss;
  metrics[o + F_ZA] = sqrt(tz / (m * r));
  metrics[o + F_ZB] = sqrt(max(0.0, s2 * zb / (m * n)));
  metrics[o + F_NORM_A] = sqrt(ta / (r * n));
  metrics[o + F_NORM_B] = sqrt(tb / (n * r));
  metrics[o + F_NORM_SBA] = sqrt(max(0.0, s2 * sba / (n * n)));
  if (state.step == 1u) { first_loss[b] = loss; }
  var ok = alive_m[b];
  if (ok != 0u && (non_finite(loss) || loss > DIVERGENCE_FACTOR * first_loss[b])) {
    ok = 0u;
    alive_m[b] = 0u;
  }
  metrics[o + F_ALIVE] = f32(ok);
}

// ---- test_metric: one thread per run; test loss from the test residuals ----
@compute @workgroup_size(64)
fn test_metric(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= p.runs) { return; }
  var ss = 0.0;
  for (var i = 0u; i < p.rows; i++) { let v = res_m[p.res_off + b * p.rows + i]; ss = fma(v, v, ss); }
  metrics[slot_base(b) + F_TEST_LOSS] = 0.5 * ss * p.inv_rows;
}

// ---- transpose: out (n x rows) = in (rows x n)^T, one thread per entry; P0's second layout, once per batch ----
@group(0) @binding(1) var<storage, read> t_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> t_out: array<f32>;

@compute @workgroup_size(64)
fn transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat(gid, nwg);
  if (t >= p.rows * p.n) { return; }
  let j = t / p.rows;
  let i = t % p.rows;
  t_out[t] = t_in[i * p.n + j];
}
