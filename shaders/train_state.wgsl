// The training state lives on the GPU so a step needs no CPU write: the step counter, Adam's bias
// corrections 1 - beta^t, the learning-rate factor of the schedule, and the metrics ring slot. `advance`
// runs first in every step's command buffer.
//   schedule (Hugging Face's, with t = step - 1 steps taken before this one, total steps S, warmup w):
//     t < w:      t / max(1, w)
//     constant:   1
//     linear:     max(0, (S - t) / max(1, S - w))
//     cosine:     max(0, (1 + cos(pi (t - w) / max(1, S - w))) / 2)
//   metrics: ring x stride floats; field 0 of each slot is the step number.
//   gather:  rows of a dataset selected by this step's batch indices (mini-batch training).

// struct State: shaders/state.wgsl, appended by the kernel wrapper.
struct Params { beta1: f32, beta2: f32, _p0: u32, lr_field: u32, schedule: u32, warmup: u32, total: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> state: State;
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;

const SCHEDULE_CONSTANT = 0u;
const SCHEDULE_LINEAR = 1u;
const SCHEDULE_COSINE = 2u;

// cos(pi x) for x in [0, 1] to float32 rounding (WGSL's cos may be off by 2^-11): the half nearer 0 by
// its Taylor series to y^12 (error < 1e-8 for y <= pi/2), the other half by cos(pi x) = -cos(pi (1 - x)).
fn cos_pi(x: f32) -> f32 {
  let near = x <= 0.5;
  let y = 3.14159265358979 * select(1.0 - x, x, near);
  let y2 = y * y;
  let c = 1.0 + y2 * (-1.0 / 2.0 + y2 * (1.0 / 24.0 + y2 * (-1.0 / 720.0 + y2 * (1.0 / 40320.0 + y2 * (-1.0 / 3628800.0 + y2 / 479001600.0)))));
  return select(-c, c, near);
}

fn lr_factor(t: i32) -> f32 {
  let w = i32(p.warmup);
  if (t < w) { return f32(t) / f32(max(1, w)); }
  let rest = f32(max(1, i32(p.total) - w));
  if (p.schedule == SCHEDULE_LINEAR) { return max(0.0, f32(i32(p.total) - t) / rest); }
  if (p.schedule == SCHEDULE_COSINE) { return max(0.0, 0.5 * (1.0 + cos_pi(min(1.0, f32(t - w) / rest)))); }
  return 1.0;
}

@compute @workgroup_size(1)
fn advance() {
  state.step += 1u;
  // Adam's bias corrections c_t = 1 - beta^t by the recurrence c_t = (1 - beta) + beta c_{t-1}:
  // forming 1 - beta^t from an f32 beta^t near 1 would lose ~3 digits to cancellation.
  state.bc1 = (1.0 - p.beta1) + p.beta1 * state.bc1;
  state.bc2 = (1.0 - p.beta2) + p.beta2 * state.bc2;
  let slot = ((state.step - 1u) % state.ring) * state.stride;
  metrics[slot] = f32(state.step);
  // Fields not computed this step (e.g. test loss between evaluations) read as NaN.
  let nan = bitcast<f32>(0x7fc00000u + p._p0);  // p._p0 is 0: keeps the NaN out of constant evaluation
  for (var f = 1u; f < state.stride; f++) { metrics[slot + f] = nan; }
  state.lr_scale = lr_factor(i32(state.step) - 1);
  if (p.lr_field > 0u) { metrics[slot + p.lr_field] = state.lr_scale; }
}

// out[i, :] = src[indices[(step - 1) * rows + i], :]     src: N x cols, out: rows x cols
struct GatherParams { rows: u32, cols: u32, steps_stored: u32, _p: u32 }
@group(0) @binding(0) var<uniform> gp: GatherParams;
@group(0) @binding(1) var<storage, read> gstate: State;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> indices: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= gp.rows * gp.cols) { return; }
  let r = i / gp.cols;
  let c = i % gp.cols;
  let batch = (gstate.step - 1u) % gp.steps_stored;
  let src_row = indices[batch * gp.rows + r];
  out[i] = src[src_row * gp.cols + c];
}
