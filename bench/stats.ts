// The results table's formatting (samples -> min / median / max is src/bench/measure.ts). Shared by the Node
// and browser runs.
import type { Stat } from '../src/bench/measure.ts';

/** ms as "min/median/max", with a precision that suits the magnitude. */
export function fmtMs(s: Stat | undefined): string {
  if (!s) return '-';
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  return `${f(s.min)}/${f(s.median)}/${f(s.max)}`;
}

export function fmtNum(x: number | undefined, digits = 2): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

/** A plain-text table: the first row is the header, columns are padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
