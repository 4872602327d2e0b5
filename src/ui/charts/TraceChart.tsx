// One chart of traces: each visible run in its colour, each metric in its own line style, smoothed
// (debiased EMA) over a faint raw line, downsampled for display; divergence marked at its step.
import { memo, useMemo, useRef } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Run } from '../../state/runsStore.ts';
import { chartRows, formatNumber, logTicks, RAW, valueRange, type SeriesInput } from '../../state/series.ts';
import type { TraceField } from '../../state/trace.ts';
import { useUiStore, type ChartId } from '../../state/uiStore.ts';
import { downloadChartPng } from './chartPng.ts';

export interface MetricSpec {
  field: TraceField;
  /** Legend and read-out name, e.g. "‖Z_A‖". */
  name: string;
  /** SVG dash pattern; solid when absent. */
  dash?: string;
}

interface Props {
  id: ChartId;
  title: string;
  yLabel: string;
  metrics: MetricSpec[];
  runs: Run[];
  labels: string[];
  height: number;
  /** Write "diverged" beside the marker (one chart says it; the others draw the line only). */
  labelDivergence?: boolean;
}

/** Buckets across the x axis (two rows each): about one point per 2 px at these chart widths. SVG
 *  cost grows with points x lines, and recharts redraws every line on hover. */
const MAX_BUCKETS = 150;

const keyOf = (runId: number, field: TraceField) => `r${runId}.${field}`;

export const TraceChart = memo(function TraceChart({ id, title, yLabel, metrics, runs, labels, height, labelDivergence }: Props) {
  const smoothing = useUiStore((s) => s.smoothing);
  const logY = useUiStore((s) => s.logY[id]);
  const setLogY = useUiStore((s) => s.setLogY);
  const box = useRef<HTMLDivElement>(null);
  const revs = runs.map((r) => `${r.id}:${r.rev}`).join(',');

  const { rows, names, maxT, axis } = useMemo(() => {
    const inputs: SeriesInput[] = [];
    const names = new Map<string, { run: string; metric: string; color: string }>();
    runs.forEach((r, i) => {
      for (const m of metrics) {
        const key = keyOf(r.id, m.field);
        const s = r.trace.series(m.field);
        inputs.push({ key, steps: s.steps, values: s.values });
        names.set(key, { run: `#${r.id} ${labels[i]}`, metric: m.name, color: r.color });
      }
    });
    const rows = chartRows(inputs, { maxBuckets: MAX_BUCKETS, smoothing, logY });
    const keys = inputs.map((s) => s.key);
    const range = valueRange(rows, smoothing > 0 ? [...keys, ...keys.map((k) => k + RAW)] : keys, logY);
    const maxT = Math.max(1, ...runs.map((r) => r.config.steps));
    const axis = logY ? logTicks(range ?? [0.1, 1]) : null;
    return { rows, names, maxT, axis };
    // `revs` stands for the traces' contents (they grow in place, so `runs` alone would not say).
  }, [revs, smoothing, logY, metrics, labels]); // eslint-disable-line react-hooks/exhaustive-deps

  const diverged = runs.filter((r) => r.divergedAt !== undefined);

  return (
    <figure className="chart" ref={box} data-chart={id}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-tools">
          <span className="line-key">
            {metrics.map((m) => (
              <span key={m.field} className="line-key-item">
                <svg width="22" height="8" aria-hidden="true">
                  <line x1="1" y1="4" x2="21" y2="4" stroke="#445" strokeWidth="2" strokeDasharray={m.dash} />
                </svg>
                {m.name}
              </span>
            ))}
          </span>
          <label className="toggle small">
            <input type="checkbox" checked={logY} onChange={(e) => setLogY(id, e.target.checked)} /> log
          </label>
          <button className="link-btn small" onClick={() => box.current && void downloadChartPng(box.current, id)} title="Download this chart as PNG">
            PNG
          </button>
        </span>
      </figcaption>
      <div className="chart-body" style={{ height }}>
        {rows.length === 0 ? (
          <div className="chart-empty muted">No data yet</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={rows} margin={{ top: 8, right: 14, bottom: 18, left: 6 }}>
              <CartesianGrid stroke="#e6e9ef" />
              <XAxis dataKey="step" type="number" domain={[0, maxT]} allowDataOverflow tickFormatter={(v: number) => formatNumber(v)} fontSize={11} stroke="#667" label={{ value: 'step', position: 'insideBottom', offset: -10, fontSize: 11, fill: '#556' }} />
              <YAxis
                type="number"
                scale={logY ? 'log' : 'auto'}
                domain={axis ? axis.domain : ['auto', 'auto']}
                ticks={axis ? axis.ticks : undefined}
                allowDataOverflow={!!axis}
                tickFormatter={(v: number) => formatNumber(v, 2)}
                fontSize={11}
                stroke="#667"
                width={52}
                label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 10, fontSize: 11, fill: '#556', style: { textAnchor: 'middle' } }}
              />
              <Tooltip
                isAnimationActive={false}
                content={({ active, payload, label }) => {
                  if (!active || !payload?.length) return null;
                  const items = payload.filter((p) => typeof p.dataKey === 'string' && !p.dataKey.endsWith(RAW) && typeof p.value === 'number');
                  if (!items.length) return null;
                  return (
                    <div className="readout">
                      <div className="readout-step">step {String(label)}</div>
                      {items.map((p) => {
                        const n = names.get(p.dataKey as string)!;
                        const raw = smoothing > 0 ? (p.payload as Record<string, number | null>)[(p.dataKey as string) + RAW] : undefined;
                        return (
                          <div key={String(p.dataKey)} className="readout-row">
                            <span className="swatch" style={{ background: n.color }} /> {n.run} · {n.metric}: <b>{formatNumber(p.value as number, 4)}</b>
                            {typeof raw === 'number' && <span className="muted"> (raw {formatNumber(raw, 4)})</span>}
                          </div>
                        );
                      })}
                    </div>
                  );
                }}
              />
              {smoothing > 0 &&
                runs.flatMap((r) =>
                  metrics.map((m) => <Line key={keyOf(r.id, m.field) + RAW} dataKey={keyOf(r.id, m.field) + RAW} stroke={r.color} strokeOpacity={0.22} strokeWidth={1} strokeDasharray={m.dash} dot={false} activeDot={false} isAnimationActive={false} connectNulls={m.field === 'testLoss'} legendType="none" />),
                )}
              {runs.flatMap((r) =>
                metrics.map((m) => <Line key={keyOf(r.id, m.field)} dataKey={keyOf(r.id, m.field)} stroke={r.color} strokeWidth={1.8} strokeDasharray={m.dash} dot={false} activeDot={{ r: 3 }} isAnimationActive={false} connectNulls={m.field === 'testLoss'} />),
              )}
              {diverged.map((r, i) => (
                <ReferenceLine key={`div${r.id}`} x={r.divergedAt} stroke={r.color} strokeDasharray="3 3" strokeWidth={1.5} label={labelDivergence ? { value: `✕ diverged @ ${r.divergedAt}`, position: 'insideTopLeft', fill: r.color, fontSize: 11, offset: 6 + 14 * i } : undefined} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
});
