// The activations phi and phi' (ACT: 0 = ReLU, 1 = tanh, 2 = GELU, tanh approximation), shared by
// activation.wgsl and toy_batch.wgsl. WGSL has no include: the kernel wrappers append this file to those
// modules' code (module-scope order does not matter in WGSL, and appending keeps their line numbers).
// It uses the including module's `override ACT`.

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
