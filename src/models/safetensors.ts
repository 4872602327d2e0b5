// The safetensors format (https://github.com/huggingface/safetensors), read and written in plain TypeScript.
//
//   [u64 LE: N][N bytes: JSON header, UTF-8, may end in spaces][data: tensors back to back]
//   header = { "__metadata__"?: {str: str}, NAME: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} }
//
// Offsets are relative to the start of the data section. Validation follows the reference (Rust) reader:
// every tensor's byte length equals numel * dtype size, and the tensors tile the data section exactly
// (no overlap, no hole, no trailing bytes). Floats (F32, F16, BF16) come back as Float32Array.

import { printable, quote, quoteJson } from '../experiments/untrusted.ts';
export const MAX_HEADER_BYTES = 100_000_000; // the reference reader's limit

/** Bytes per element of every dtype the format defines (the reader validates all, converts the float ones). */
export const DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;
export type FloatDtype = 'F32' | 'F16' | 'BF16';

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** Byte range inside the data section. */
  dataOffsets: [number, number];
}

export interface Tensor {
  dtype: FloatDtype; // the dtype in the file; `data` is always f32
  shape: number[];
  /** Row-major. For F32 tensors whose bytes are 4-aligned this is a view on the input buffer (no copy). */
  data: Float32Array;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + N). */
  dataStart: number;
}

export interface ParsedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

const fail = (message: string): never => {
  throw new SafetensorsError(message);
};

function asBytes(input: ArrayBuffer | Uint8Array): Uint8Array {
  return input instanceof Uint8Array ? input : new Uint8Array(input);
}

const isDtype = (s: unknown): s is Dtype => typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);

/** Reads and validates the header only (cheap: touches no tensor data). */
export function readSafetensorsHeader(input: ArrayBuffer | Uint8Array): SafetensorsHeader {
  const bytes = asBytes(input);
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short to hold the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupt)`);
  const n = Number(n64);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  if (8 + n > bytes.byteLength) fail(`header says ${n} bytes but the file has only ${bytes.byteLength - 8} after the length (truncated)`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`header must start with '{', found ${quote(text.slice(0, 8))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('header must be a JSON object');

  const dataStart = 8 + n;
  const dataBytes = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${printable(k, 40)} must be a string, got ${quoteJson(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    tensors.set(name, parseTensorInfo(name, raw));
  }

  // The tensors must tile [0, dataBytes) exactly, in offset order.
  const ordered = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let cursor = 0;
  let prev = '(start of data)';
  for (const [name, info] of ordered) {
    const [begin, end] = info.dataOffsets;
    if (end > dataBytes) fail(`tensor ${quote(name, 80)} data_offsets [${begin}, ${end}] run past the end of the data section (${dataBytes} bytes; truncated file?)`);
    if (begin < cursor) fail(`tensor ${quote(name, 80)} data_offsets [${begin}, ${end}] overlap ${quote(prev, 80)} (which ends at ${cursor})`);
    if (begin > cursor) fail(`hole in the data section: bytes [${cursor}, ${begin}) between ${quote(prev, 80)} and ${quote(name, 80)} belong to no tensor`);
    cursor = end;
    prev = name;
  }
  if (cursor !== dataBytes) fail(`data section has ${dataBytes} bytes but the tensors cover only ${cursor} (trailing bytes or wrong offsets)`);
  return { tensors, metadata, dataStart };
}

function parseTensorInfo(name: string, raw: unknown): TensorInfo {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail(`tensor ${quote(name, 80)}: entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) return fail(`tensor ${quote(name, 80)}: unknown dtype ${quoteJson(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${quote(name, 80)}: shape must be an array of non-negative integers, got ${quoteJson(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor ${quote(name, 80)}: data_offsets must be two non-negative integers, got ${quoteJson(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`tensor ${quote(name, 80)}: data_offsets [${begin}, ${end}] end before they begin`);
  const numel = (shape as number[]).reduce((a, d) => a * d, 1);
  const expected = numel * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected)) fail(`tensor ${quote(name, 80)}: shape ${quoteJson(shape)} is too large`);
  if (end - begin !== expected) {
    fail(`tensor ${quote(name, 80)}: ${dtype}${quoteJson(shape)} needs ${expected} bytes but data_offsets [${begin}, ${end}] give ${end - begin}`);
  }
  return { dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

export interface ParseOptions {
  /** Tensors to leave out (not converted, not returned); their header entries are still validated. */
  skip?: (name: string, info: TensorInfo) => boolean;
}

/**
 * Parses a whole file. Float tensors (F32, F16, BF16) are returned as Float32Array; any other dtype
 * throws unless `skip` leaves it out (GPT-2 files carry bool/u8 attention-mask buffers, for example).
 */
export function parseSafetensors(input: ArrayBuffer | Uint8Array, options: ParseOptions = {}): ParsedSafetensors {
  const bytes = asBytes(input);
  const header = readSafetensorsHeader(bytes);
  const tensors = new Map<string, Tensor>();
  for (const [name, info] of header.tensors) {
    if (options.skip?.(name, info)) continue;
    const [begin, end] = info.dataOffsets;
    const at = bytes.byteOffset + header.dataStart + begin;
    const len = end - begin;
    let data: Float32Array;
    if (info.dtype === 'F32') {
      data = at % 4 === 0 ? new Float32Array(bytes.buffer, at, len / 4) : new Float32Array(bytes.slice(at - bytes.byteOffset, at - bytes.byteOffset + len).buffer);
    } else if (info.dtype === 'F16' || info.dtype === 'BF16') {
      const half = at % 2 === 0 ? new Uint16Array(bytes.buffer, at, len / 2) : new Uint16Array(bytes.slice(at - bytes.byteOffset, at - bytes.byteOffset + len).buffer);
      data = info.dtype === 'F16' ? f16ToF32(half) : bf16ToF32(half);
    } else {
      return fail(`tensor ${quote(name, 80)}: dtype ${info.dtype} is not supported (only F32, F16 and BF16 convert to f32)`);
    }
    tensors.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  /** Stored dtype (default F32). F16 and BF16 round to nearest even. */
  dtype?: FloatDtype;
}

/**
 * Writes tensors in insertion order. The header is padded with spaces so the data section starts on an
 * 8-byte boundary (as the reference writer does), which keeps every F32 tensor 4-aligned for zero-copy reads.
 */
export function writeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const payloads: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${quote(name, 80)}: bad shape ${JSON.stringify(t.shape)}`);
    if (numel !== t.data.length) throw new SafetensorsError(`tensor ${quote(name, 80)}: shape ${JSON.stringify(t.shape)} holds ${numel} values but data has ${t.data.length}`);
    const dtype = t.dtype ?? 'F32';
    const payload =
      dtype === 'F32'
        ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
        : new Uint8Array((dtype === 'F16' ? f32ToF16(t.data) : f32ToBf16(t.data)).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + payload.byteLength] };
    offset += payload.byteLength;
    payloads.push(payload);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + n);
  let at = 8 + n;
  for (const p of payloads) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

// ---- half-precision conversions (bit-exact; little-endian host assumed, as WebGPU is) ----

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

export function f16ToF32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = F16_TABLE[half[i]];
  return out;
}

export function bf16ToF32(half: Uint16Array): Float32Array {
  const out = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = half[i] << 16;
  return new Float32Array(out.buffer);
}

/** Round to nearest even; overflow goes to Inf, NaN stays NaN. */
export function f32ToBf16(x: Float32Array): Uint16Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) out[i] = (b >>> 16) | 0x40; // quiet NaN
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Round to nearest even, with subnormals; overflow goes to Inf, NaN stays NaN. */
export function f32ToF16(x: Float32Array): Uint16Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // underflows to zero even after rounding
        continue;
      }
      mant |= 0x800000; // implicit leading 1
      const shift = 14 - e; // 13 + (1 - e)
      const halfway = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > halfway || (rest === halfway && m & 1)) m++;
      out[i] = sign | m; // a carry into bit 10 correctly becomes the smallest normal
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry may roll into the exponent (to Inf at the top): correct
    out[i] = sign | h;
  }
  return out;
}
