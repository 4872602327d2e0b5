// AdamW with PyTorch semantics, one dispatch per trainable tensor (its own lr and weight decay, so
// LoRA+'s lr_B = lambda * lr_A is data, not a code path). Bias corrections 1 - beta^t come from the training state.
//   theta <- theta * (1 - lr * wd)                              (decoupled decay, first)
//   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   theta, grad, m, v: count
// SCHEDULED: lr is p.lr times this step's schedule factor (state.lr_scale); CLIPPED: the gradient is
// first multiplied by this step's clipping scale (state.clip), as torch's clip_grad_norm_ does in place.

override SCHEDULED: bool = false;
override CLIPPED: bool = false;

struct Params { count: u32, _p0: u32, _p1: u32, _p2: u32, lr: f32, wd: f32, beta1: f32, beta2: f32, eps: f32, _q0: f32, _q1: f32, _q2: f32 }
// struct State: shaders/state.wgsl, appended by the kernel wrapper.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> state: State;

@compute @workgroup_size(256)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) { return; }
  var g = grad[i];
  if (CLIPPED) { g *= state.clip; }
  var lr = p.lr;
  if (SCHEDULED) { lr *= state.lr_scale; }
  var th = theta[i] * (1.0 - lr * p.wd);
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let m_hat = mi / state.bc1;
  let v_hat = vi / state.bc2;
  theta[i] = th - lr * m_hat / (sqrt(v_hat) + p.eps);
}

// step_runs: the same update for R runs stacked in one buffer (run b owns elements [b*count, (b+1)*count)),
// each with its own lr and weight decay, hyper[b] = (lr, wd); runs whose alive[b] is 0 (diverged) are
// left untouched. Used by sweeps (src/experiments/sweep/batchTrainer.ts).
struct RunParams { count: u32, runs: u32, _p0: u32, _p1: u32, beta1: f32, beta2: f32, eps: f32, _q0: f32 }

@group(0) @binding(0) var<uniform> rp: RunParams;
@group(0) @binding(6) var<storage, read> hyper: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read> alive: array<u32>;

@compute @workgroup_size(256)
fn step_runs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= rp.count * rp.runs) { return; }
  let b = i / rp.count;
  if (alive[b] == 0u) { return; }
  let lr = hyper[b].x;
  let wd = hyper[b].y;
  let g = grad[i];
  var th = theta[i] * (1.0 - lr * wd);
  let mi = rp.beta1 * m[i] + (1.0 - rp.beta1) * g;
  let vi = rp.beta2 * v[i] + (1.0 - rp.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let m_hat = mi / state.bc1;
  let v_hat = vi / state.bc2;
  theta[i] = th - lr * m_hat / (sqrt(v_hat) + rp.eps);
}
