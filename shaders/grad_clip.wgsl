// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_, as Hugging Face's Trainer calls it
// with max_grad_norm), over every trainable tensor at once:
//   norm = sqrt(sum_k sums[k])              sums[k] = ||grad_k||^2, one per tensor (reduce.wgsl, TO_RING false)
//   state.clip = min(1, max_norm / (norm + 1e-6))     AdamW (CLIPPED) multiplies each gradient by it
// and the norm goes to this step's metrics slot. One workgroup, strided per-thread sums then a tree:
// a fixed order, so runs are bit-identical.
//   sums: count

struct Params { count: u32, field: u32, _p0: u32, _p1: u32, max_norm: f32, _q0: f32, _q1: f32, _q2: f32 }
// struct State: shaders/state.wgsl, appended by the kernel wrapper.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> sums: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: State;
@group(0) @binding(3) var<storage, read_write> metrics: array<f32>;

const WG = 128u;
var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn global_norm(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.count; i += WG) { s += sums[i]; }
  scratch[lid] = s;
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    workgroupBarrier();
    if (lid < k) { scratch[lid] += scratch[lid + k]; }
  }
  if (lid == 0u) {
    let norm = sqrt(scratch[0]);
    state.clip = min(1.0, p.max_norm / (norm + 1e-6));
    metrics[((state.step - 1u) % state.ring) * state.stride + p.field] = norm;
  }
}
