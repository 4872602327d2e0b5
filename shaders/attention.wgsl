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
// Attention dropout (HF GPT-2's attn_pdrop, train mode only): the probabilities are used as
//   Pd[b,h,t,j] = P[b,h,t,j] m[b,h,t,j] / (1 - p)    m from counter_rng.wgsl, element index = index into P
// in the values and in the backward (dP flows through the same mask, dv uses Pd); P itself is stored
// undropped and the softmax Jacobian uses it: dS = P (dP - sum_j P dP). The *_drop entry points do this,
// the others are the kernels without dropout; both share the code below (`drop` is a constant in each).
//
// Decoding with a KV cache (generation): one new token at position pos (decode_pos[0]) against the keys
// and values of every earlier position, kept in kcache / vcache (W x C, W = the cache's positions):
//   kv_store:      kcache[pos] = k, vcache[pos] = v      (the new token's qkv row)
//   decode_scores: S[h, j] = scale * q_h . k_{j,h}          j <= pos          scores: H x W
//   decode_values: P[h, :] = softmax_j S[h, :], out[h*D + d] = sum_j P[h, j] v_{j,h,d}
// in the same operation order as forward_probs / forward_values, so a cached row equals the full pass's.
//
// Softmax in the safe form: the row maximum is subtracted before exp, so no exp overflows and the
// diagonal term is exactly exp(0) = 1 (the sum is never below 1).
// One thread per query row (probs, backward_scores) or per output element (values, backward_qkv): no
// workgroup memory and no barriers. Attention is O(B H T^2 D), a few percent of a GPT-2 step's FLOPs
// at T = 128 (the C x 3C, C x 4C matmuls dominate), so plain loops are fine here.

struct Params { B: u32, T: u32, H: u32, D: u32, C: u32, threshold: u32, site: u32, seed: u32, scale: f32, keep_scale: f32, _q1: f32, _q2: f32 }
// struct State: shaders/state.wgsl; dropout_keep: shaders/counter_rng.wgsl (appended).

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(6) var<storage, read> state: State;

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

// Whether element `at` of P is kept at this step and micro-batch. NOTE: the state is read by the *_drop
// entry points only and passed down (`key`), so the entry points without dropout bind no state.
fn kept(at: u32, key: vec2<u32>) -> bool {
  return dropout_keep(at, key.x, key.y, p.site, p.seed, p.threshold);
}

// P[at] as the values see it: dropped and rescaled when `drop`.
fn p_used(at: u32, drop: bool, key: vec2<u32>) -> f32 {
  if (drop) { return select(0.0, P[at] * p.keep_scale, kept(at, key)); }
  return P[at];
}

// One thread per (b, t, h, d) of out.
@compute @workgroup_size(64)
fn forward_values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  values(flat(gid, nwg), false, vec2<u32>());
}

@compute @workgroup_size(64)
fn forward_values_drop(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  values(flat(gid, nwg), true, vec2<u32>(state.step, state.micro));
}

fn values(i: u32, drop: bool, key: vec2<u32>) {
  if (i >= p.B * p.T * p.C) { return; }
  let n = i / p.C;
  let c = i % p.C;
  let h = c / p.D;
  let d = c % p.D;
  let t = n % p.T;
  let b = n / p.T;
  let row = ((b * p.H + h) * p.T + t) * p.T;
  var acc = 0.0;
  for (var j = 0u; j <= t; j++) { acc = fma(p_used(row + j, drop, key), qkv[v_at(b * p.T + j, h) + d], acc); }
  out[i] = acc;
}

@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dS: array<f32>;

// One thread per (b, h, t): dS[t, :] (the softmax Jacobian applied to dP[t, :]).
@compute @workgroup_size(64)
fn backward_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  scores_grad(flat(gid, nwg), false, vec2<u32>());
}

@compute @workgroup_size(64)
fn backward_scores_drop(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  scores_grad(flat(gid, nwg), true, vec2<u32>(state.step, state.micro));
}

fn scores_grad(i: u32, drop: bool, key: vec2<u32>) {
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
    if (drop) { s = select(0.0, s * p.keep_scale, kept(row + j, key)); }
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
  qkv_grad(flat(gid, nwg), false, vec2<u32>());
}

@compute @workgroup_size(64)
fn backward_qkv_drop(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  qkv_grad(flat(gid, nwg), true, vec2<u32>(state.step, state.micro));
}

fn qkv_grad(e: u32, drop: bool, key: vec2<u32>) {
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
    dv = fma(p_used(at, drop, key), dout[(b * p.T + t) * p.C + c], dv);
  }
  dqkv[q_at(n, h) + d] = p.scale * dq;
  dqkv[k_at(n, h) + d] = p.scale * dk;
  dqkv[v_at(n, h) + d] = dv;
}

// ---- decoding with a KV cache (one query row; B = 1, T = W the cache's positions) ----

@group(0) @binding(7) var<storage, read> decode_pos: array<u32>;
@group(0) @binding(8) var<storage, read_write> kcache: array<f32>;
@group(0) @binding(9) var<storage, read_write> vcache: array<f32>;

// One thread per channel c: the new token's k and v into the caches' row pos.
@compute @workgroup_size(64)
fn kv_store(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  let pos = decode_pos[0];
  kcache[pos * p.C + c] = qkv[p.C + c];
  vcache[pos * p.C + c] = qkv[2u * p.C + c];
}

@group(0) @binding(10) var<storage, read_write> scores: array<f32>;
@group(0) @binding(11) var<storage, read> kread: array<f32>;

// One thread per (h, j <= pos): S[h, j], as forward_probs forms it.
@compute @workgroup_size(64)
fn decode_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.H * p.T) { return; }
  let h = i / p.T;
  let j = i % p.T;
  if (j > decode_pos[0]) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { s = fma(qkv[h * p.D + d], kread[j * p.C + h * p.D + d], s); }
  scores[i] = s * p.scale;
}

@group(0) @binding(12) var<storage, read> vread: array<f32>;
@group(0) @binding(13) var<storage, read_write> dout1: array<f32>;

var<workgroup> row_stat: vec2<f32>;

// One workgroup per head: the causal softmax of its scores (max and sum in j order, as forward_probs),
// then one thread per output dimension sums P v in j order (as forward_values).
@compute @workgroup_size(64)
fn decode_values(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  let pos = decode_pos[0];
  let row = h * p.T;
  if (lid == 0u) {
    var mx = -3.0e38;
    for (var j = 0u; j <= pos; j++) { mx = max(mx, scores[row + j]); }
    var sum = 0.0;
    for (var j = 0u; j <= pos; j++) { sum += exp(scores[row + j] - mx); }
    row_stat = vec2<f32>(mx, 1.0 / sum);
  }
  let st = workgroupUniformLoad(&row_stat);
  for (var j = lid; j <= pos; j += 64u) { scores[row + j] = exp(scores[row + j] - st.x) * st.y; }
  storageBarrier();
  workgroupBarrier();
  for (var d = lid; d < p.D; d += 64u) {
    var acc = 0.0;
    for (var j = 0u; j <= pos; j++) { acc = fma(scores[row + j], vread[j * p.C + h * p.D + d], acc); }
    dout1[h * p.D + d] = acc;
  }
}
