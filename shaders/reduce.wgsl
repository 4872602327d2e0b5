// Deterministic reductions for the metrics (loss, coordinate-RMS norms), no float atomics.
//   metric = scale * sum x[i]^2        (sumsq)
//   metric = scale * sum x[i] * y[i]   (dot: the r x r trace identity ||B A||_F^2 = <B^T B, A A^T>)
// square-rooted if SQRT, written to metrics[slot * stride + field], slot = (step - 1) % ring from the
// training state (or, with TO_RING false, to out[field] of a plain buffer: the per-tensor sums of squares
// that gradient clipping adds up). Small inputs take one dispatch (direct_*); large ones two: partial_* leaves one sum per
// workgroup's contiguous chunk, finalize adds them. Every pass sums in a fixed order (strided per-thread
// sums, then a tree), so runs are bit-identical.
//   x, y: count      partials: number of workgroups of the first pass

override SQRT: bool = false;
override TO_RING: bool = true;

struct Params { count: u32, chunk: u32, field: u32, _p0: u32, scale: f32, _p1: u32, _p2: u32, _p3: u32 }
// struct State: shaders/state.wgsl, appended by the kernel wrapper.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // input, or the partials for finalize
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // partials, or the metrics ring
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> state: State;

const WG = 128u;
var<workgroup> scratch: array<f32, WG>;

/** Tree-sum scratch[0..WG) into scratch[0]. */
fn tree(lid: u32) {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) { scratch[lid] += scratch[lid + s]; }
  }
}

fn write_metric(sum: f32) {
  var v = p.scale * sum;
  if (SQRT) { v = sqrt(v); }
  if (TO_RING) {
    out[((state.step - 1u) % state.ring) * state.stride + p.field] = v;
  } else {
    out[p.field] = v;
  }
}

@compute @workgroup_size(WG)
fn partial_sumsq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let end = min(p.count, (wg.x + 1u) * p.chunk);
  var s = 0.0;
  for (var i = wg.x * p.chunk + lid; i < end; i += WG) { let v = x[i]; s = fma(v, v, s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { out[wg.x] = scratch[0]; }
}

@compute @workgroup_size(WG)
fn partial_dot(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let end = min(p.count, (wg.x + 1u) * p.chunk);
  var s = 0.0;
  for (var i = wg.x * p.chunk + lid; i < end; i += WG) { s = fma(x[i], y[i], s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { out[wg.x] = scratch[0]; }
}

@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.count; i += WG) { s += x[i]; }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { write_metric(scratch[0]); }
}

@compute @workgroup_size(WG)
fn direct_sumsq(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.count; i += WG) { let v = x[i]; s = fma(v, v, s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { write_metric(scratch[0]); }
}

@compute @workgroup_size(WG)
fn direct_dot(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.count; i += WG) { s = fma(x[i], y[i], s); }
  scratch[lid] = s;
  tree(lid);
  if (lid == 0u) { write_metric(scratch[0]); }
}
