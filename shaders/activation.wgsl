// Elementwise activations phi and their derivatives. ACT: 0 = ReLU, 1 = tanh, 2 = GELU (tanh approximation).
//   forward:        y  = phi(x)                          x, y: count
//   backward:       dx = dy * phi'(x)                    x is the pre-activation
//   backward_outer: dx[i,j] = g[i] * w[j] * phi'(x[i,j]) x: rows x cols, g: rows, w: cols
//                   (the gradient through a 1-output linear head, fused with phi': no rows x cols dy is stored)

override ACT: u32 = 0u;

struct Params { count: u32, cols: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const GELU_C = 0.7978845608028654;  // sqrt(2/pi)
const GELU_K = 0.044715;

// tanh with its argument clamped: some implementations (SwiftShader, via sinh/cosh or exp(2x)) return
// NaN once exp overflows (|v| > ~44), which GELU reaches at |x| > ~11. tanh(15) is 1 in f32, so the
// clamp changes no finite result.
fn tanh_c(v: f32) -> f32 { return tanh(clamp(v, -15.0, 15.0)); }

fn phi(v: f32) -> f32 {
  switch ACT {
    case 1u: { return tanh_c(v); }
    case 2u: { return 0.5 * v * (1.0 + tanh_c(GELU_C * (v + GELU_K * v * v * v))); }
    default: { return max(v, 0.0); }
  }
}

fn dphi(v: f32) -> f32 {
  switch ACT {
    case 1u: { let t = tanh_c(v); return 1.0 - t * t; }
    case 2u: {
      let u = GELU_C * (v + GELU_K * v * v * v);
      let t = tanh_c(u);
      return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_K * v * v);
    }
    default: { return select(0.0, 1.0, v > 0.0); }
  }
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { y[i] = phi(x[i]); }
}

@group(0) @binding(3) var<storage, read> dy: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { y[i] = dy[i] * dphi(x[i]); }
}

@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;

@compute @workgroup_size(256)
fn backward_outer(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { y[i] = g[i / p.cols] * w[i % p.cols] * dphi(x[i]); }
}
