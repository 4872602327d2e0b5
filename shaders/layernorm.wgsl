// LayerNorm over the last axis, one workgroup per row, and its input gradient (gain and shift are
// frozen, so no dgamma / dbeta).
//   forward:  mu = mean(x),  rstd = 1 / sqrt(mean((x - mu)^2) + eps),  xhat = (x - mu) rstd
//             y = xhat * gamma + beta                 x, y: rows x C;  gamma, beta: C;  stats: rows x 2 (mu, rstd)
//   backward: g = gamma * dy
//             dx = rstd * (g - mean(g) - xhat * mean(g * xhat))     dx = or += (ACCUMULATE: the residual stream's gradient)
// The variance is two-pass (centred), not E[x^2] - E[x]^2, which cancels when |mu| >> sigma.
// Reductions: strided per-thread sums, then a tree in workgroup memory (WG must be a power of two).

override WG: u32 = 64u;
override ACCUMULATE: bool = false;

struct Params { rows: u32, cols: u32, _p0: u32, _p1: u32, eps: f32, _q0: f32, _q1: f32, _q2: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;

var<workgroup> red: array<vec2<f32>, WG>;

// Sum of v over the workgroup, returned to every thread.
fn tree(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red[lid] = v;
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] += red[lid + s]; }
  }
  workgroupBarrier();
  let total = red[0];
  workgroupBarrier();  // red is reused by the next tree
  return total;
}

fn row_of(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wg, nwg);
  if (row >= p.rows) { return; }  // uniform: the whole workgroup leaves
  let C = p.cols;
  let base = row * C;
  var s = 0.0;
  for (var c = lid; c < C; c += WG) { s += x[base + c]; }
  let mu = tree(lid, vec2<f32>(s, 0.0)).x / f32(C);
  var q = 0.0;
  for (var c = lid; c < C; c += WG) { let d = x[base + c] - mu; q = fma(d, d, q); }
  let rstd = inverseSqrt(tree(lid, vec2<f32>(q, 0.0)).x / f32(C) + p.eps);
  for (var c = lid; c < C; c += WG) { y[base + c] = (x[base + c] - mu) * rstd * gamma[c] + beta[c]; }
  if (lid == 0u) {
    stats[2u * row] = mu;
    stats[2u * row + 1u] = rstd;
  }
}

@group(0) @binding(3) var<storage, read> saved: array<f32>;  // the forward's stats
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wg, nwg);
  if (row >= p.rows) { return; }
  let C = p.cols;
  let base = row * C;
  let mu = saved[2u * row];
  let rstd = saved[2u * row + 1u];
  var acc = vec2<f32>(0.0);  // (sum g, sum g * xhat)
  for (var c = lid; c < C; c += WG) {
    let g = gamma[c] * dy[base + c];
    acc += vec2<f32>(g, g * (x[base + c] - mu) * rstd);
  }
  let m = tree(lid, acc) / f32(C);
  for (var c = lid; c < C; c += WG) {
    let xhat = (x[base + c] - mu) * rstd;
    var v = rstd * (gamma[c] * dy[base + c] - m.x - xhat * m.y);
    if (ACCUMULATE) { v += dx[base + c]; }
    dx[base + c] = v;
  }
}
