// Causal multi-head self-attention, forward and backward, with the probabilities materialised.
//
//   qkv: N x 3C (N = B*T rows, q | k | v along the row; head h owns columns h*D .. h*D + D of each)
//   S[b,h,t,j] = scale * q[b,t,h,:] . k[b,j,h,:]            scale = 1/sqrt(D), j <= t (causal)
//   P[b,h,t,:] = softmax_j(S[b,h,t,:]), 0 for j > t        P: B x H x T x T
//   out[b,t,h,d] = sum_j P[b,h,t,j] v[b,j,h,d]             out: N x C
// Backward from dout (N x C):
//   dP[t,j] = dout[t,:] . v[j,:]        dS[t,j] = P[t,j] (dP[t,j] - sum_j' P[t,j'] dP[t,j'])   dS: B x H x T x T
//   dq[t] = scale sum_j dS[t,j] k[j]    dk[j] = scale sum_t dS[t,j] q[t]    dv[j] = sum_t P[t,j] dout[t]
//   written into dqkv (N x 3C) in the same q | k | v layout.
//
// Softmax in the safe form: the row maximum is subtracted before exp, so no exp overflows and the
// diagonal term is exactly exp(0) = 1 (the sum is never below 1).
// One thread per query row (probs, backward_scores) or per output element (values, backward_qkv): no
// workgroup memory and no barriers. Attention is O(B H T^2 D), a few percent of a GPT-2 step's FLOPs
// at T = 128 (the C x 3C, C x 4C matmuls dominate), so plain loops are fine here.

struct Params { B: u32, T: u32, H: u32, D: u32, C: u32, _p0: u32, _p1: u32, _p2: u32, scale: f32, _q0: f32, _q1: f32, _q2: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

// Offsets of q, k, v of (row n = b*T + t, head h) in qkv.
fn q_at(n: u32, h: u32) -> u32 { return n * 3u * p.C + h * p.D; }
fn k_at(n: u32, h: u32) -> u32 { return n * 3u * p.C + p.C + h * p.D; }
fn v_at(n: u32, h: u32) -> u32 { return n * 3u * p.C + 2u * p.C + h * p.D; }

@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

// One thread per (b, h, t): the causal row of P.
@compute @workgroup_size(64)
fn forward_probs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.B * p.H * p.T) { return; }
  let t = i % p.T;
  let h = (i / p.T) % p.H;
  let b = i / (p.T * p.H);
  let row = i * p.T;
  let q = q_at(b * p.T + t, h);
  var mx = -3.0e38;
  for (var j = 0u; j <= t; j++) {
    let k = k_at(b * p.T + j, h);
    var s = 0.0;
    for (var d = 0u; d < p.D; d++) { s = fma(qkv[q + d], qkv[k + d], s); }
    s *= p.scale;
    probs[row + j] = s;
    mx = max(mx, s);
  }
  var sum = 0.0;
  for (var j = 0u; j <= t; j++) {
    let e = exp(probs[row + j] - mx);
    probs[row + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j <= t; j++) { probs[row + j] *= inv; }
  for (var j = t + 1u; j < p.T; j++) { probs[row + j] = 0.0; }
}

@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// One thread per (b, t, h, d) of out.
@compute @workgroup_size(64)
fn forward_values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.B * p.T * p.C) { return; }
  let n = i / p.C;
  let c = i % p.C;
  let h = c / p.D;
  let d = c % p.D;
  let t = n % p.T;
  let b = n / p.T;
  let row = ((b * p.H + h) * p.T + t) * p.T;
  var acc = 0.0;
  for (var j = 0u; j <= t; j++) { acc = fma(P[row + j], qkv[v_at(b * p.T + j, h) + d], acc); }
  out[i] = acc;
}

@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dS: array<f32>;

// One thread per (b, h, t): dS[t, :] (the softmax Jacobian applied to dP[t, :]).
@compute @workgroup_size(64)
fn backward_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.B * p.H * p.T) { return; }
  let t = i % p.T;
  let h = (i / p.T) % p.H;
  let b = i / (p.T * p.H);
  let row = i * p.T;
  let go = (b * p.T + t) * p.C + h * p.D;
  var dot = 0.0;
  for (var j = 0u; j <= t; j++) {
    let v = v_at(b * p.T + j, h);
    var s = 0.0;
    for (var d = 0u; d < p.D; d++) { s = fma(dout[go + d], qkv[v + d], s); }
    dS[row + j] = s;
    dot = fma(P[row + j], s, dot);
  }
  for (var j = 0u; j <= t; j++) { dS[row + j] = P[row + j] * (dS[row + j] - dot); }
  for (var j = t + 1u; j < p.T; j++) { dS[row + j] = 0.0; }
}

@group(0) @binding(4) var<storage, read> dSin: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

// One thread per (b, i, h, d): dq at row i, and dk, dv of key/value row i.
@compute @workgroup_size(64)
fn backward_qkv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = flat(gid, nwg);
  if (e >= p.B * p.T * p.C) { return; }
  let n = e / p.C;
  let c = e % p.C;
  let h = c / p.D;
  let d = c % p.D;
  let i = n % p.T;
  let b = n / p.T;
  let head = (b * p.H + h) * p.T;
  var dq = 0.0;
  for (var j = 0u; j <= i; j++) { dq = fma(dSin[(head + i) * p.T + j], qkv[k_at(b * p.T + j, h) + d], dq); }
  var dk = 0.0;
  var dv = 0.0;
  for (var t = i; t < p.T; t++) {
    let at = (head + t) * p.T + i;
    dk = fma(dSin[at], qkv[q_at(b * p.T + t, h) + d], dk);
    dv = fma(P[at], dout[(b * p.T + t) * p.C + c], dv);
  }
  dqkv[q_at(n, h) + d] = p.scale * dq;
  dqkv[k_at(n, h) + d] = p.scale * dk;
  dqkv[v_at(n, h) + d] = dv;
}
