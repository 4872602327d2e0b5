// Dropout (inverted, as torch.nn.Dropout in train mode): kept elements are scaled by 1/(1 - p), dropped
// ones are 0. The mask comes from the counter-based stream (counter_rng.wgsl) at this step's counter.
//   drop:     out[i] = m_i x[i] s                m_i = keep(i), s = 1/(1 - p)     x, out: count
//   drop_add: out[i] = res[i] + m_i x[i] s       (a residual branch: GPT-2's resid_pdrop)
//   drop_acc: out[i] = out[i] + m_i x[i] s       (the input gradient of a dropped input, accumulated)
// The same call with the same site, seed and step gives the same mask: backward calls `drop` on the
// output gradient (d in = m s d out) and recomputes a dropped input instead of storing it.

struct Params { count: u32, threshold: u32, site: u32, seed: u32, scale: f32, _q0: f32, _q1: f32, _q2: f32 }
// struct State: shaders/state.wgsl; pcg4d, dropout_keep: shaders/counter_rng.wgsl (appended).

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read> state: State;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }

fn dropped(i: u32) -> f32 {
  return select(0.0, x[i] * p.scale, dropout_keep(i, state.step, state.micro, p.site, p.seed, p.threshold));
}

@compute @workgroup_size(256)
fn drop(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { out[i] = dropped(i); }
}

@compute @workgroup_size(256)
fn drop_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { out[i] = res[i] + dropped(i); }
}

@compute @workgroup_size(256)
fn drop_acc(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i < p.count) { out[i] = out[i] + dropped(i); }
}
