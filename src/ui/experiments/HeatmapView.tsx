// A heatmap of a loss (the chosen metric) over two log axes, drawn as SVG (recharts has none): a log
// colour scale with its legend, diverged cells hatched and marked ×, cells still to run left blank, the
// best cell of each row outlined, and a read-out of the cell under the pointer (with several seeds: the
// geometric mean, the seeds' range and how many diverged).
import { useState } from 'react';
import type { Heatmap, HeatCell, RunSummary } from '../../experiments/sweep/aggregate.ts';
import { VIRIDIS, viridis } from '../../experiments/sweep/viridis.ts';
import { fmt } from './format.ts';

interface Props {
  heatmap: Heatmap;
  /** Runs finished so far, by grid index (cells of runs not in it are still to run). */
  finished: Record<number, RunSummary>;
  /** Shared colour range across the figure's heatmaps (log10 of the loss). */
  range: [number, number] | null;
  testId: string;
}

const CELL_H = 26;
const LEFT = 62;
const TOP = 8;
const BOTTOM = 58;
const LEGEND_W = 70;

/** The read-out of one cell: its value (the seeds' geometric mean and range), or why it has none. */
function cellText(h: Heatmap, c: HeatCell, run: RunSummary | undefined): string {
  const seeds = c.runs.length;
  if (c.status === 'queued' || run === undefined) return 'not run yet';
  if (c.status === 'diverged') return seeds > 1 ? `diverged with ${c.seedsDiverged} of ${seeds} seeds (the first at step ${c.divergedAt})` : `diverged at step ${c.divergedAt}`;
  if (c.status !== 'done' || c.value === null) return run.error ?? `failed (${c.status})`;
  const best = c.rowBest ? ' (best of the row)' : '';
  if (seeds > 1) return `${h.value.label} ${fmt(c.value, 4)}, geometric mean of ${c.seeds} of ${seeds} seeds (${fmt(c.range![0], 3)} – ${fmt(c.range![1], 3)})${best}`;
  return `${h.value.label} ${fmt(c.value, 4)}; final train ${fmt(run.finalLoss, 4)}, test ${fmt(run.finalTestLoss, 4)}; max ‖Z_A‖ ${fmt(run.maxZA, 3)}, ‖Z_B‖ ${fmt(run.maxZB, 3)}${best}`;
}

export function HeatmapView({ heatmap: h, finished, range, testId }: Props) {
  const [hover, setHover] = useState<HeatCell | null>(null);
  const nx = h.x.values.length;
  const ny = h.y.values.length;
  const cellW = Math.max(30, Math.min(56, Math.floor(420 / nx)));
  const width = LEFT + nx * cellW + 16 + LEGEND_W;
  const height = TOP + ny * CELL_H + BOTTOM;
  const [lo, hi] = range ?? [0, 1];
  const t = (v: number) => (hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0.5);
  const run = hover ? finished[hover.run] : undefined;
  const legendTicks = range ? [lo, (lo + hi) / 2, hi] : [];
  return (
    <div className="heatmap" data-testid={testId}>
      <svg className="heatmap-svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} onMouseLeave={() => setHover(null)} role="img" aria-label={`${h.value.label} over ${h.x.label} and ${h.y.label}`}>
        <defs>
          <pattern id={`hatch-${testId}`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#fdeceb" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#d9534f" strokeWidth="2" />
          </pattern>
          <linearGradient id={`grad-${testId}`} x1="0" y1="1" x2="0" y2="0">
            {VIRIDIS.map((c, i) => (
              <stop key={i} offset={`${(100 * i) / (VIRIDIS.length - 1)}%`} stopColor={c} />
            ))}
          </linearGradient>
        </defs>
        {h.cells.map((c) => {
          const x = LEFT + c.xi * cellW;
          const y = TOP + (ny - 1 - c.yi) * CELL_H; // smallest y at the bottom
          const done = c.status !== 'queued' && c.runs.some((i) => finished[i] !== undefined);
          const status = !done ? 'pending' : c.status === 'done' && c.value !== null ? 'done' : c.status === 'diverged' ? 'diverged' : 'error';
          const fill = status === 'done' ? viridis(t(c.value!)) : status === 'diverged' ? `url(#hatch-${testId})` : status === 'error' ? '#e4e7ec' : '#f4f6f9';
          return (
            <g key={`${c.xi}.${c.yi}`} className="heat-cell" data-status={status} onMouseEnter={() => setHover(c)}>
              <rect x={x + 0.5} y={y + 0.5} width={cellW - 1} height={CELL_H - 1} fill={fill} stroke={hover === c ? '#1b2330' : '#fff'} strokeWidth={hover === c ? 1.5 : 1} />
              {status === 'diverged' && (
                <text x={x + cellW / 2} y={y + CELL_H / 2 + 5} textAnchor="middle" fontSize="14" fontWeight="700" fill="#b42318" className="diverged-mark">
                  ×
                </text>
              )}
              {status === 'done' && c.rowBest && <rect x={x + 2.5} y={y + 2.5} width={cellW - 5} height={CELL_H - 5} fill="none" stroke="#fff" strokeWidth="2" strokeDasharray="3 2" />}
            </g>
          );
        })}
        {h.x.values.map((v, i) => (
          <text key={`x${i}`} x={LEFT + (i + 0.5) * cellW} y={TOP + ny * CELL_H + 14} textAnchor="middle" fontSize="10.5" fill="#5f6b7a">
            {fmt(v, 2)}
          </text>
        ))}
        <text x={LEFT + (nx * cellW) / 2} y={TOP + ny * CELL_H + 34} textAnchor="middle" fontSize="12" fill="#1b2330">
          {h.x.label} (log)
        </text>
        {h.y.values.map((v, i) => (
          <text key={`y${i}`} x={LEFT - 6} y={TOP + (ny - 1 - i) * CELL_H + CELL_H / 2 + 4} textAnchor="end" fontSize="10.5" fill="#5f6b7a">
            {fmt(v, 3)}
          </text>
        ))}
        <text transform={`translate(12 ${TOP + (ny * CELL_H) / 2}) rotate(-90)`} textAnchor="middle" fontSize="12" fill="#1b2330">
          {h.y.label}
        </text>
        {/* legend: the log colour scale */}
        <g transform={`translate(${LEFT + nx * cellW + 16} ${TOP})`}>
          <rect width="12" height={ny * CELL_H} fill={`url(#grad-${testId})`} />
          {legendTicks.map((lt, i) => (
            <text key={i} x="16" y={ny * CELL_H - (i / 2) * ny * CELL_H + (i === 0 ? 0 : i === 2 ? 9 : 4)} fontSize="10" fill="#5f6b7a">
              {fmt(10 ** lt, 2)}
            </text>
          ))}
          <rect y={ny * CELL_H + 8} width="12" height="10" fill={`url(#hatch-${testId})`} />
          <text x="16" y={ny * CELL_H + 17} fontSize="10" fill="#5f6b7a">
            diverged
          </text>
        </g>
      </svg>
      <div className="readout heat-readout" aria-live="polite">
        {hover ? (
          <>
            <b>
              {h.y.name} = {fmt(h.y.values[hover.yi], 4)}, {h.x.name} = {fmt(h.x.values[hover.xi], 3)}
            </b>
            {' — '}
            {cellText(h, hover, run)}
          </>
        ) : (
          <span className="muted">Hover a cell for its values. Dashed outline: the best η of the row; hatched ×: diverged.</span>
        )}
      </div>
    </div>
  );
}
