// Softmax cross-entropy over the vocabulary, fused with its gradient, one vocabulary chunk at a time.
//
//   logits: N x V (N = B*T rows), split into chunks [v0, v0 + cols) of the vocabulary, one buffer each
//   loss[n] = logsumexp(logits[n, :]) - logits[n, target[n]]            (mean over n is the LM loss)
//   dlogits[n, v] = (softmax(logits[n, :])[v] - [v == target[n]]) * inv_count   (over the logits chunk;
//                   inv_count = 1/N, or 1/(k N) for one of k accumulated micro-batches)
// loss rows land at loss[loss_offset + n] (micro-batch i of k writes its slice of the step's k N rows).
//
// Online, numerically safe logsumexp: each chunk folds its (max m, sum of exp(x - m)) into a running
// (m, s) per row, rescaling the smaller side: (m1, s1) + (m2, s2) = (M, s1 e^(m1 - M) + s2 e^(m2 - M)),
// M = max(m1, m2). No exp ever sees a positive argument.
//   stats: N x 4 = (running max, running sum, target logit, logsumexp)
// Passes per step: chunk_stats for every chunk, finalize, then (after the head's backward needs it)
// chunk_backward for every chunk.

override WG: u32 = 256u;
override FIRST: bool = true;

struct Params { rows: u32, cols: u32, v0: u32, loss_offset: u32, inv_count: f32, _q0: f32, _q1: f32, _q2: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

const NEG = -3.0e38;

var<workgroup> red: array<vec2<f32>, WG>;

fn combine(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

@group(0) @binding(3) var<storage, read> logits: array<f32>;

// One workgroup per row: fold this chunk's (max, sum exp) into the row's running pair.
@compute @workgroup_size(WG)
fn chunk_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= p.rows) { return; }  // uniform per workgroup
  let base = row * p.cols;
  var acc = vec2<f32>(NEG, 0.0);
  for (var c = lid; c < p.cols; c += WG) {
    let x = logits[base + c];
    if (x > acc.x) {
      acc = vec2<f32>(x, acc.y * exp(acc.x - x) + 1.0);
    } else {
      acc.y += exp(x - acc.x);
    }
  }
  red[lid] = acc;
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { red[lid] = combine(red[lid], red[lid + s]); }
  }
  if (lid == 0u) {
    let o = 4u * row;
    if (FIRST) {
      stats[o] = red[0].x;
      stats[o + 1u] = red[0].y;
      stats[o + 2u] = 0.0;
    } else {
      let r = combine(vec2<f32>(stats[o], stats[o + 1u]), red[0]);
      stats[o] = r.x;
      stats[o + 1u] = r.y;
    }
    let t = targets[row];
    if (t >= p.v0 && t < p.v0 + p.cols) { stats[o + 2u] = logits[base + t - p.v0]; }
  }
}

@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

// One thread per row: loss and logsumexp, after every chunk's chunk_stats.
@compute @workgroup_size(64)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x;
  if (row >= p.rows) { return; }
  let o = 4u * row;
  let lse = stats[o] + log(stats[o + 1u]);
  stats[o + 3u] = lse;
  loss[p.loss_offset + row] = lse - stats[o + 2u];
}

@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;

// One thread per element of the chunk: the logits become their gradient, in place.
@compute @workgroup_size(256)
fn chunk_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.rows * p.cols) { return; }
  let row = i / p.cols;
  let v = p.v0 + i % p.cols;
  let prob = exp(dlogits[i] - stats[4u * row + 3u]);
  dlogits[i] = (prob - select(0.0, 1.0, v == targets[row])) * p.inv_count;
}
