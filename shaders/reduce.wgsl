// Deterministic reductions for the metrics (loss, coordinate-RMS norms) in two fixed-order passes.
//   partial_sumsq: partials[w] = sum x[i]^2        over workgroup w's contiguous chunk of x (count)
//   partial_dot:   partials[w] = sum x[i] * y[i]   (the r x r trace identity ||B A||_F^2 = <B^T B, A A^T>)
//   finalize:      metrics[slot * stride + field] = v, v = scale * sum(partials), sqrt'ed if SQRT,
//                  where slot = (step - 1) % ring comes from the training state.
// Every pass sums in a fixed order (strided per-thread sums, then a tree), so runs are bit-identical.

override SQRT: bool = false;

struct Params { count: u32, chunk: u32, field: u32, _p0: u32, scale: f32, _p1: u32, _p2: u32, _p3: u32 }
struct State { step: u32, ring: u32, stride: u32, _p: u32, bc1: f32, bc2: f32, _q0: f32, _q1: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, 256>;

fn tree(lid: u32) {
  for (var s = 128u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { scratch[lid] += scratch[lid + s]; }
  }
}

@compute @workgroup_size(256)
fn partial_sumsq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let begin = wg.x * p.chunk;
  let end = min(p.count, begin + p.chunk);
  var s = 0.0;
  for (var i = begin + lid; i < end; i += 256u) { let v = x[i]; s = fma(v, v, s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { partials[wg.x] = scratch[0]; }
}

@group(0) @binding(3) var<storage, read> y: array<f32>;

@compute @workgroup_size(256)
fn partial_dot(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let begin = wg.x * p.chunk;
  let end = min(p.count, begin + p.chunk);
  var s = 0.0;
  for (var i = begin + lid; i < end; i += 256u) { s = fma(x[i], y[i], s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { partials[wg.x] = scratch[0]; }
}

@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(3) var<storage, read> state: State;

@compute @workgroup_size(256)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.count; i += 256u) { s += parts[i]; }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) {
    var v = p.scale * scratch[0];
    if (SQRT) { v = sqrt(v); }
    metrics[((state.step - 1u) % state.ring) * state.stride + p.field] = v;
  }
}
