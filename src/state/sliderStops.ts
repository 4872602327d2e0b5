// Slider positions for a numeric setting, derived from its schema entry: powers of two where the range
// is bounded by powers of two (width n, λ), a 1-2-5 sequence for other log-scale settings (η, α,
// steps), every integer for short integer ranges (rank). Typed entry accepts anything in range; the
// slider then sits at the nearest stop. Settings with none of these get no slider.
import type { FieldSpec } from '../experiments/schema.ts';

const isPow2 = (x: number) => x > 0 && Number.isInteger(Math.log2(x));

export function sliderStops(f: FieldSpec): number[] | null {
  if (f.kind !== 'int' && f.kind !== 'number') return null;
  const log = 'log' in f && f.log === true && f.min > 0;
  if (log && isPow2(f.min) && isPow2(f.max)) {
    const out: number[] = [];
    for (let e = Math.log2(f.min); e <= Math.log2(f.max); e++) out.push(2 ** e);
    return out;
  }
  if (log) {
    const out: number[] = [];
    for (let d = Math.floor(Math.log10(f.min)); d <= Math.ceil(Math.log10(f.max)); d++) {
      for (const m of [1, 2, 5]) {
        const v = Number((m * 10 ** d).toPrecision(1));
        if (v >= f.min && v <= f.max && (f.kind !== 'int' || Number.isInteger(v))) out.push(v);
      }
    }
    return out;
  }
  if (f.kind === 'int' && f.max - f.min <= 128) return Array.from({ length: f.max - f.min + 1 }, (_, i) => f.min + i);
  return null;
}

/** Index of the stop nearest to `value` (in log distance when the stops are all positive). */
export function nearestStop(stops: readonly number[], value: number): number {
  const log = stops[0] > 0 && value > 0;
  let best = 0;
  let bestD = Infinity;
  stops.forEach((s, i) => {
    const d = log ? Math.abs(Math.log(s) - Math.log(value)) : Math.abs(s - value);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}
