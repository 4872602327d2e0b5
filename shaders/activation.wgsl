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

// phi and dphi: shaders/phi.wgsl, appended to this module by src/gpu/kernels/elementwise.ts.

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
