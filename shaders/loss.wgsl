// Mean-squared error  L = 1/(2m) * sum_b (y_b - t_b)^2  and its gradient dL/dy_b = (y_b - t_b) / m.
// The residual is written too; reduce.wgsl turns sum(residual^2) into L without float atomics.
//   y, t, residual, grad: m

struct Params { m: u32, inv_m: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn mse(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.m) { return; }
  let r = y[i] - t[i];
  residual[i] = r;
  grad[i] = r * p.inv_m;
}
