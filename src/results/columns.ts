// Metric columns of stored results: one typed array per metric. Values that float32 holds exactly (every
// metric the GPU computes) are kept as Float32Array, anything else as Float64Array, so storage is half of
// float64 and nothing is rounded. In JSON (result bundles) a column is {"f32": base64} or {"f64": base64}
// of its little-endian bytes: exact, NaN and ±Infinity included, about 5.3 characters per float32.

export type Column = Float32Array | Float64Array;

/** The narrowest exact copy of `values`: Float32Array when every value round-trips through float32. */
export function compactColumn(values: ArrayLike<number>): Column {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Object.is(Math.fround(v), v)) return Float64Array.from(values);
  }
  return Float32Array.from(values);
}

/** One column from several chunks, in order (a Float64Array when any chunk is one). */
export function concatColumns(parts: readonly Column[]): Column {
  const length = parts.reduce((a, p) => a + p.length, 0);
  const out = parts.some((p) => p instanceof Float64Array) ? new Float64Array(length) : new Float32Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Same values, bit for bit (every NaN equal to every NaN), whatever the array types. */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

// ---- base64 (btoa/atob exist in browsers and in Node) ----

const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded bytes, or null when `text` is not canonical base64 (length a multiple of 4, known alphabet). */
export function base64ToBytes(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// NOTE: typed arrays use the platform's byte order; every platform WebGPU runs on is little-endian, the
// order the JSON form promises.
export function columnToJson(c: Column): { f32: string } | { f64: string } {
  const bytes = new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
  return c instanceof Float32Array ? { f32: bytesToBase64(bytes) } : { f64: bytesToBase64(bytes) };
}
