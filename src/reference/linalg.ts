// Float64 reference linear algebra for the kernel tests (row-major, plain loops, obviously correct).

export type Mat = { rows: number; cols: number; data: Float64Array };

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

export function transpose(a: Mat): Mat {
  const t = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/** C = A B */
export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}x${a.cols} * ${b.rows}x${b.cols}`);
  const c = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      for (let j = 0; j < b.cols; j++) c.data[i * b.cols + j] += aik * b.data[k * b.cols + j];
    }
  }
  return c;
}

export function map(a: Mat, f: (v: number, i: number) => number): Mat {
  return { rows: a.rows, cols: a.cols, data: a.data.map(f) };
}

export function add(a: Mat, b: Mat, scale = 1): Mat {
  return map(a, (v, i) => v + scale * b.data[i]);
}

export function scale(a: Mat, s: number): Mat {
  return map(a, (v) => v * s);
}

export function sumSq(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/** Coordinate RMS: sqrt(mean of squares), the size the theory calls Theta(1). */
export function rms(a: ArrayLike<number>): number {
  return a.length ? Math.sqrt(sumSq(a) / a.length) : 0;
}

/** Max |got - want| / (|want|_max + floor): an error relative to the tensor's scale. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-12): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  if (!Number.isFinite(maxDiff)) return Infinity;
  return maxDiff / (maxRef + floor);
}
