import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  parseSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  SafetensorsError,
} from '../../src/models/safetensors.ts';

/** Builds a file by hand: 8-byte LE length, the header text exactly as given, then the data bytes. */
function rawFile(header: string | object, data: Uint8Array | number[] = [], declaredLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const d = data instanceof Uint8Array ? data : new Uint8Array(data);
  const out = new Uint8Array(8 + h.byteLength + d.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(d, 8 + h.byteLength);
  return out;
}

const f32Bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const u16Bytes = (xs: number[]) => new Uint8Array(new Uint16Array(xs).buffer);

function expectError(bytes: Uint8Array, pattern: RegExp) {
  let err: unknown;
  try {
    parseSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(pattern);
}

describe('safetensors reader: good files', () => {
  it('reads a hand-built F32 file (the format README example shape) with metadata', () => {
    const bytes = rawFile(
      { __metadata__: { format: 'pt' }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] }, a: { dtype: 'F32', shape: [1, 3], data_offsets: [0, 12] } },
      f32Bytes([1, 2, 3, -4.5, 1e-8]),
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['b', 'a']); // header order
    expect(tensors.get('a')).toMatchObject({ dtype: 'F32', shape: [1, 3] });
    expect([...tensors.get('a')!.data]).toEqual([1, 2, 3]);
    expect([...tensors.get('b')!.data]).toEqual([-4.5, Math.fround(1e-8)]);
  });

  it('accepts a header padded with trailing spaces, and scalars and empty tensors', () => {
    const header = JSON.stringify({ s: { dtype: 'F32', shape: [], data_offsets: [0, 4] }, e: { dtype: 'F32', shape: [0, 5], data_offsets: [4, 4] } }) + '      ';
    const { tensors } = parseSafetensors(rawFile(header, f32Bytes([7])));
    expect([...tensors.get('s')!.data]).toEqual([7]);
    expect(tensors.get('e')!.data.length).toBe(0);
  });

  it('converts F16 bit patterns exactly (normals, subnormals, zero signs, inf, nan)', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const { tensors } = parseSafetensors(rawFile({ h: { dtype: 'F16', shape: [bits.length], data_offsets: [0, bits.length * 2] } }, u16Bytes(bits)));
    const t = tensors.get('h')!;
    expect(t.dtype).toBe('F16');
    const v = [...t.data];
    expect(v.slice(0, 6)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14]);
    expect(Object.is(v[6], -0)).toBe(true);
    expect(v[7]).toBe(Infinity);
    expect(v[8]).toBe(-Infinity);
    expect(v[9]).toBeNaN();
    expect(v[10]).toBe(0.333251953125);
  });

  it('converts BF16 (the top half of an f32)', () => {
    const xs = [1, -2.5, 3.140625, 1e30, -0];
    const f = new Float32Array(xs);
    const top = Array.from(new Uint32Array(f.buffer), (b) => b >>> 16);
    const { tensors } = parseSafetensors(rawFile({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, u16Bytes(top)));
    const out = tensors.get('b')!.data;
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-2.5);
    expect(out[2]).toBe(3.140625);
    expect(Math.abs(out[3] - 1e30) / 1e30).toBeLessThan(2 ** -7);
    expect(Object.is(out[4], -0)).toBe(true);
  });

  it('reads F32 data at an offset that is not 4-aligned (copies instead of viewing)', () => {
    // header of 3 bytes' odd length: data starts at byte 8 + N, not a multiple of 4
    const header = JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }) + ' ';
    const file = rawFile(header, f32Bytes([0.5, -0.25]));
    expect((8 + new TextEncoder().encode(header).length) % 4).not.toBe(0);
    expect([...parseSafetensors(file).tensors.get('x')!.data]).toEqual([0.5, -0.25]);
    // and inside a bigger buffer at an odd byteOffset
    const outer = new Uint8Array(file.length + 3);
    outer.set(file, 3);
    expect([...parseSafetensors(outer.subarray(3)).tensors.get('x')!.data]).toEqual([0.5, -0.25]);
  });

  it('validates but skips non-float tensors when asked (GPT-2 mask buffers), and refuses them otherwise', () => {
    const file = rawFile(
      { mask: { dtype: 'BOOL', shape: [2, 2], data_offsets: [0, 4] }, w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
      [1, 0, 1, 1, ...f32Bytes([3])],
    );
    const { tensors } = parseSafetensors(file, { skip: (name) => name === 'mask' });
    expect([...tensors.keys()]).toEqual(['w']);
    expectError(file, /tensor "mask": dtype BOOL is not supported/);
  });

  it('reads only the header without touching data', () => {
    const h = readSafetensorsHeader(rawFile({ a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16)));
    expect(h.tensors.get('a')).toEqual({ dtype: 'I64', shape: [2], dataOffsets: [0, 16] });
    expect(h.dataStart).toBe(8 + JSON.stringify({ a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }).length);
  });
});

describe('safetensors reader: bad files', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('truncated: shorter than the length prefix', () => {
    expectError(new Uint8Array(5), /too short to hold the 8-byte header length/);
  });
  it('truncated: header cut off', () => {
    const f = rawFile(good, f32Bytes([1, 2]));
    expectError(f.subarray(0, 20), /truncated/);
  });
  it('truncated: data cut off', () => {
    const f = rawFile(good, f32Bytes([1, 2]));
    expectError(f.subarray(0, f.length - 3), /run past the end of the data section/);
  });
  it('header too large', () => {
    expectError(rawFile(good, f32Bytes([1, 2]), BigInt(MAX_HEADER_BYTES) + 1n), /exceeds the 100000000-byte limit/);
    expectError(rawFile(good, f32Bytes([1, 2]), 0xffffffffffffffffn), /exceeds/);
  });
  it('header not JSON, not an object, not UTF-8, not starting with {', () => {
    expectError(rawFile('{"a": ', []), /not valid JSON/);
    expectError(rawFile('[1,2]', []), /must start with '\{'/);
    expectError(rawFile(' {}', []), /must start with '\{'/);
    const bad = rawFile('{"a":1}', []);
    bad[9] = 0xff;
    expectError(bad, /not valid UTF-8/);
  });
  it('lying header: byte length disagrees with dtype x shape', () => {
    expectError(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /F32\[3\] needs 12 bytes but data_offsets \[0, 8\] give 8/);
    expectError(rawFile({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /needs 4 bytes/);
  });
  it('wrong dtype', () => {
    expectError(rawFile({ a: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /unknown dtype "F33"/);
    expectError(rawFile({ a: { dtype: 'f32', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /unknown dtype "f32"/);
    expectError(rawFile({ a: { shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /unknown dtype undefined/);
    expectError(rawFile({ a: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /dtype I32 is not supported/);
  });
  it('offsets overlapping', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectError(rawFile(h, f32Bytes([1, 2, 3])), /overlap "a"/);
    const same = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expectError(rawFile(same, f32Bytes([1, 2])), /overlap/);
  });
  it('offsets out of range, reversed, negative or fractional', () => {
    expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32Bytes([1, 2])), /run past the end/);
    expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, f32Bytes([1, 2])), /end before they begin/);
    expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, f32Bytes([1, 2])), /two non-negative integers/);
    expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 7.5] } }, f32Bytes([1, 2])), /two non-negative integers/);
    expectError(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, f32Bytes([1, 2])), /two non-negative integers/);
  });
  it('holes and trailing bytes', () => {
    expectError(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2])), /hole in the data section: bytes \[0, 4\)/);
    expectError(rawFile(good, f32Bytes([1, 2, 3])), /covers? only 8/);
  });
  it('bad shapes and metadata', () => {
    expectError(rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /shape must be an array of non-negative integers/);
    expectError(rawFile({ a: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, f32Bytes([1, 2])), /shape must be/);
    expectError(rawFile({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 20], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /too large/);
    expectError(rawFile({ __metadata__: { n: 1 } }, []), /__metadata__.n must be a string/);
    expectError(rawFile({ a: [1] }, []), /entry must be an object/);
  });
});

describe('safetensors writer', () => {
  it('round-trips F32 bit-exactly, pads the header to 8 bytes with spaces, keeps insertion order', () => {
    const a = new Float32Array([1, -0, NaN, Infinity, 1e-40, 3.5]);
    const b = new Float32Array(7).map((_, i) => i / 3);
    const bytes = writeSafetensors(new Map([['z.first', { shape: [2, 3], data: a }], ['a.second', { shape: [7], data: b }]]), { format: 'pt', note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(headerText.trimEnd().length).toBeLessThanOrEqual(n);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'x' });
    expect([...tensors.keys()]).toEqual(['z.first', 'a.second']);
    expect(new Uint32Array(tensors.get('z.first')!.data.slice().buffer)).toEqual(new Uint32Array(a.buffer));
    expect(tensors.get('a.second')!.data).toEqual(b);
    expect(tensors.get('z.first')!.data.buffer).toBe(bytes.buffer); // aligned F32: a view, no copy
  });

  it('writes F16 and BF16 with round-to-nearest-even', () => {
    const x = new Float32Array([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 3 * 2 ** -26, -1e-3]);
    const bytes = writeSafetensors({ h: { shape: [7], data: x, dtype: 'F16' }, b: { shape: [7], data: x, dtype: 'BF16' } });
    const { tensors } = parseSafetensors(bytes);
    const h = [...tensors.get('h')!.data];
    expect(h.slice(0, 6)).toEqual([1, 1, 1 + 2 ** -9, Infinity, 0, 2 ** -24]);
    expect(Math.abs(h[6] + 1e-3)).toBeLessThan(1e-6);
    const b = tensors.get('b')!.data;
    expect(b[0]).toBe(1);
    expect(Math.abs(b[6] + 1e-3) / 1e-3).toBeLessThan(2 ** -8);
  });

  it('F16 conversion round-trips every finite half exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = f16ToF32(all);
    const back = f32ToF16(f);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) expect(Number.isNaN(f[i])).toBe(true);
      else if (back[i] !== i) throw new Error(`half 0x${i.toString(16)} -> ${f[i]} -> 0x${back[i].toString(16)}`);
    }
    const bf = new Uint16Array([0x3f80, 0xc020, 0x0001, 0x7f80]);
    expect(f32ToBf16(bf16ToF32(bf))).toEqual(bf);
  });

  it('refuses inconsistent input', () => {
    expect(() => writeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/holds 4 values but data has 3/);
    expect(() => writeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/reserved/);
  });
});
