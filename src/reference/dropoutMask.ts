// The dropout masks of shaders/counter_rng.wgsl, written again in TypeScript for the float64 references:
// element i of site `site` at step `step`, micro-batch `micro`, is kept iff
//   pcg4d(i, step, site | micro << 24, seed).x >= round(p * 2^32)
// (pcg4d: Jarzynski & Olano 2020). Kept elements are scaled by 1 / (1 - p).

/** u32 multiply-add without precision loss (Math.imul wraps like WGSL's u32). */
const mad = (a: number, b: number, c: number) => (Math.imul(a, b) + c) >>> 0;

export function pcg4d(x: number, y: number, z: number, w: number): [number, number, number, number] {
  let a = mad(x, 1664525, 1013904223);
  let b = mad(y, 1664525, 1013904223);
  let c = mad(z, 1664525, 1013904223);
  let d = mad(w, 1664525, 1013904223);
  const mix = () => {
    a = mad(b, d, a);
    b = mad(c, a, b);
    c = mad(a, b, c);
    d = mad(b, c, d);
  };
  mix();
  a = (a ^ (a >>> 16)) >>> 0;
  b = (b ^ (b >>> 16)) >>> 0;
  c = (c ^ (c >>> 16)) >>> 0;
  d = (d ^ (d >>> 16)) >>> 0;
  mix();
  return [a, b, c, d];
}

export interface MaskKey {
  p: number;
  site: number;
  seed: number;
  step: number;
  micro?: number;
}

/** keep(i) / (1 - p) for i < count (0 where dropped), or null when p = 0 (nothing dropped). */
export function dropoutMask(key: MaskKey, count: number): Float64Array | null {
  if (!(key.p > 0)) return null;
  const threshold = Math.min(2 ** 32 - 1, Math.round(key.p * 2 ** 32));
  const site = (key.site | ((key.micro ?? 0) << 24)) >>> 0;
  const scale = 1 / (1 - key.p);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = pcg4d(i, key.step, site, key.seed)[0] >= threshold ? scale : 0;
  return out;
}
