// Reference kernels that measure what the adapter can do, so each benchmark row can say how close it gets.
//   copy: dst[i] = src[i] over `count` vec4s (bytes moved = 2 * 16 * count)   -> copy bandwidth
//   peak: ITERS rounds of 8 independent vec4 FMA chains per invocation, no memory traffic in the loop
//         (FLOPs = 2 * 4 * 8 * ITERS per invocation)                        -> arithmetic peak

struct Params { count: u32, iters: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.count) { dst[i] = src[i]; }
}

@compute @workgroup_size(64)
fn peak(@builtin(global_invocation_id) gid: vec3<u32>) {
  let x = vec4<f32>(f32(gid.x) * 1e-7);
  let y = vec4<f32>(0.999999);
  var a0 = x; var a1 = x + 1.0; var a2 = x + 2.0; var a3 = x + 3.0;
  var a4 = x + 4.0; var a5 = x + 5.0; var a6 = x + 6.0; var a7 = x + 7.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, y, x); a1 = fma(a1, y, x); a2 = fma(a2, y, x); a3 = fma(a3, y, x);
    a4 = fma(a4, y, x); a5 = fma(a5, y, x); a6 = fma(a6, y, x); a7 = fma(a7, y, x);
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  // Never true for the inputs used; keeps the loop from being optimised away.
  if (s.x == 12345.678) { dst[gid.x] = s + src[gid.x]; }
}
