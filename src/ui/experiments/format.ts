/** Short number for axes and read-outs: 3 significant digits, exponent form for very small/large. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(Math.max(0, digits - 1));
  return String(Number(v.toPrecision(digits)));
}
