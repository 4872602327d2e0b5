// A log-log line chart (recharts, log axes): measured series with dots, reference slopes dashed and
// grey, fitted lines dotted; the fitted slopes are printed under the title (and go into the PNG).
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LogLogFit, RefLine } from '../../experiments/sweep/aggregate.ts';
import { SweepFigure } from './SweepFigure.tsx';
import { fmt } from './format.ts';

export interface Series {
  name: string;
  color: string;
  points: Array<{ x: number; y: number | null }>;
  dash?: string;
  /** Reference or fit: no dots, no read-out. */
  guide?: boolean;
  /** Dots without a line (e.g. each seed's value beside the seeds' mean). */
  dotsOnly?: boolean;
}

/** Points of y = 10^intercept x^slope at the given xs. */
export function linePoints(l: Pick<RefLine, 'slope' | 'intercept'>, xs: number[]): Array<{ x: number; y: number }> {
  return xs.map((x) => ({ x, y: 10 ** (l.intercept + l.slope * Math.log10(x)) }));
}

export function fitText(f: LogLogFit | null): string {
  if (!f) return 'n/a (fewer than 2 points)';
  return `${f.slope.toFixed(2)}${f.slopeStderr !== null ? ` ± ${f.slopeStderr.toFixed(2)}` : ''}${f.r2 !== null ? ` (R² ${f.r2.toFixed(2)})` : ''}`;
}

interface Props {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  fits: string[];
  caption: React.ReactNode;
  height?: number;
  /** 'ratio': a tight y range with 1-2-5 ticks (values within a decade or two, e.g. ratios near 1). */
  yScale?: 'decades' | 'ratio';
}

function domain(vals: number[]): [number, number] {
  const ok = vals.filter((v) => v > 0 && Number.isFinite(v));
  if (!ok.length) return [0.1, 10];
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  return [10 ** Math.floor(Math.log10(lo) - 0.05), 10 ** Math.ceil(Math.log10(hi) + 0.05)];
}

/** A tight range around the values, for ratios that stay within a decade or two. */
function tightDomain(vals: number[]): [number, number] {
  const ok = vals.filter((v) => v > 0 && Number.isFinite(v));
  if (!ok.length) return [0.5, 2];
  return [Math.min(...ok) / 1.25, Math.max(...ok) * 1.25];
}

/** 1, 2, 5 (and 1.5, 3, 7 when they are few) times powers of ten inside [lo, hi]. */
function fineTicks([lo, hi]: [number, number]): number[] {
  const pick = (mults: number[]) => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of mults) if (m * 10 ** e >= lo && m * 10 ** e <= hi) out.push(Number((m * 10 ** e).toPrecision(3)));
    return out;
  };
  const coarse = pick([1, 2, 5]);
  return coarse.length >= 3 ? coarse : pick([1, 1.5, 2, 3, 5, 7]);
}

function decades([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

export function LogLogChart({ id, title, xLabel, yLabel, series, fits, caption, height = 260, yScale = 'decades' }: Props) {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y ?? NaN));
  const xd: [number, number] = [Math.min(...xs) / 1.25, Math.max(...xs) * 1.25];
  const yd = yScale === 'ratio' ? tightDomain(ys) : domain(ys);
  const empty = !series.some((s) => !s.guide && s.points.some((p) => p.y !== null && p.y > 0));
  const xTicks = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return (
    <SweepFigure id={id} title={title}>
      <div className="fits">
        {fits.map((f, i) => (
          <div key={i} className="fit-line small">
            {f}
          </div>
        ))}
      </div>
      <div className="chart-body" style={{ height }}>
        {empty ? (
          <div className="chart-empty muted">No points yet: the runs of this view have not finished (or all diverged).</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart margin={{ top: 6, right: 14, bottom: 22, left: 8 }}>
              <CartesianGrid stroke="#eef1f5" />
              <XAxis type="number" dataKey="x" scale="log" domain={xd} ticks={xTicks} tickFormatter={(v: number) => fmt(v, 3)} allowDataOverflow fontSize={11} label={{ value: xLabel, position: 'insideBottom', offset: -12, fontSize: 12 }} />
              <YAxis type="number" dataKey="y" scale="log" domain={yd} ticks={yScale === 'ratio' ? fineTicks(yd) : decades(yd)} tickFormatter={(v: number) => fmt(v, 2)} allowDataOverflow fontSize={11} width={58} label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 4, fontSize: 12, style: { textAnchor: 'middle' } }} />
              <Tooltip
                isAnimationActive={false}
                content={({ active, payload }) =>
                  active && payload?.length ? (
                    <div className="readout">
                      <div className="readout-step">n / x = {fmt((payload[0].payload as { x: number }).x, 4)}</div>
                      {payload
                        .filter((p) => !String(p.name).startsWith('ref') && !String(p.name).startsWith('fit'))
                        .map((p, i) => (
                          <div key={i} className="readout-row" style={{ color: p.color }}>
                            {p.name}: {fmt(p.value as number, 4)}
                          </div>
                        ))}
                    </div>
                  ) : null
                }
              />
              <Legend verticalAlign="top" height={22} iconSize={10} wrapperStyle={{ fontSize: 11.5 }} />
              {series.map((s) => (
                <Line
                  key={s.name}
                  name={s.name}
                  data={s.points.filter((p) => p.y !== null && p.y > 0)}
                  dataKey="y"
                  stroke={s.dotsOnly ? 'none' : s.color}
                  strokeDasharray={s.dash}
                  strokeWidth={s.guide ? 1.2 : 2}
                  dot={s.guide ? false : s.dotsOnly ? { r: 2.2, fill: '#fff', stroke: s.color, strokeWidth: 1.2 } : { r: 3 }}
                  activeDot={s.guide || s.dotsOnly ? false : { r: 4 }}
                  legendType={s.dotsOnly ? 'circle' : 'line'}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      <p className="caption small muted">{caption}</p>
    </SweepFigure>
  );
}
