// A counter-based random stream for dropout masks: element i of dropout site `site` at training step
// `step` is kept iff the first word of pcg4d(i, step, site | micro << 24, seed) is >= threshold =
// round(p * 2^32), micro being the micro-batch within the step (gradient accumulation; sites < 2^24).
// Nothing is stored: backward regenerates the forward's mask from the same four numbers, and every
// element is independent of the order the GPU visits them in (bit-identical runs).
// pcg4d: Jarzynski & Olano, "Hash Functions for GPU Rendering" (JCGT 2020), a 4-word LCG step with
// cross-word mixing twice. Appended to every module that draws masks (src/gpu/kernels/dropout.ts);
// tests/reference/dropoutMask.ts is the same function in TypeScript.

fn pcg4d(a: vec4<u32>) -> vec4<u32> {
  var v = a * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4<u32>(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
}

fn dropout_keep(i: u32, step: u32, micro: u32, site: u32, seed: u32, threshold: u32) -> bool {
  return pcg4d(vec4<u32>(i, step, site | (micro << 24u), seed)).x >= threshold;
}
