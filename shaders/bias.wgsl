// Broadcast a frozen bias over rows, optionally on top of a residual stream. A GPT-2 Conv1D layer is
// y = x W + b (+ residual): this kernel writes b (+ residual) into y, and the matmul then accumulates
// x W (+ s Z_A B^T) onto it, so no layer needs a separate add pass or an in-place read-modify-write.
//   rows:          out[i, j] = bias[j]              out: rows x cols, bias: cols
//   rows_residual: out[i, j] = bias[j] + res[i, j]  res: rows x cols

struct Params { rows: u32, cols: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }

@compute @workgroup_size(256)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.rows * p.cols) { out[i] = bias[i % p.cols]; }
}

@compute @workgroup_size(256)
fn rows_residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.rows * p.cols) { out[i] = bias[i % p.cols] + res[i]; }
}
