// Live charts of the GPT-2 runs: loss (and held-out loss) per run, ||Z_A|| / ||Z_B|| per adapter as
// curves and as a heatmap over time (rows: layer x module, columns: steps). Rows grow in place; `rev`
// (moved once per animation frame by the runner) decides when the charts recompute.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartRows, formatNumber, type SeriesInput } from '../../state/series.ts';
import { useGpt2Store, type Gpt2Run } from '../../state/gpt2Store.ts';
import { downloadBlob } from '../download.ts';

const MAX_BUCKETS = 300;

/** The learning-rate schedule in a legend: "linear, warmup 10", "constant". */
const scheduleText = (c: Gpt2Run['config']) => `${c.schedule}${c.warmup > 0 ? `, warmup ${c.warmup}` : ''} lr`;
const MODULE_COLORS: Record<string, string> = { 'attn.c_attn': '#0f5fa8', 'attn.c_proj': '#2a9d8f', 'mlp.c_fc': '#e76f51', 'mlp.c_proj': '#8e5ac8' };
const moduleOf = (label: string) => label.replace(/^h\d+\./, '');
const layerOf = (label: string) => Number(/(\d+)/.exec(label)?.[1] ?? 0);

function series(run: Gpt2Run, key: string, pick: (r: Gpt2Run['rows'][number]) => number | undefined): SeriesInput {
  const steps: number[] = [];
  const values: number[] = [];
  for (const r of run.rows) {
    const v = pick(r);
    if (v !== undefined && Number.isFinite(v)) {
      steps.push(r.step);
      values.push(v);
    }
  }
  return { key, steps, values };
}

interface LineSpec { key: string; name: string; color: string; dash?: string; width?: number; opacity?: number; nulls?: boolean }

const SmallChart = memo(function SmallChart({ title, yLabel, lines, inputs, maxT, rev, height, testId, logY }: { title: string; yLabel: string; lines: LineSpec[]; inputs: SeriesInput[]; maxT: number; rev: number; height: number; testId: string; logY?: boolean }) {
  const rows = useMemo(() => chartRows(inputs, { maxBuckets: MAX_BUCKETS, smoothing: 0, logY: !!logY }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rev, inputs.length, logY]);
  const names = new Map(lines.map((l) => [l.key, l]));
  return (
    <figure className="chart" data-chart={testId}>
      <figcaption className="chart-head"><span className="chart-title">{title}</span></figcaption>
      <div className="chart-body" style={{ height }}>
        {rows.length === 0 ? (
          <div className="chart-empty muted">No data yet</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={rows} margin={{ top: 8, right: 14, bottom: 18, left: 6 }}>
              <CartesianGrid stroke="#e6e9ef" />
              <XAxis dataKey="step" type="number" domain={[0, maxT]} allowDataOverflow tickFormatter={(v: number) => formatNumber(v)} fontSize={11} stroke="#667" label={{ value: 'step', position: 'insideBottom', offset: -10, fontSize: 11, fill: '#556' }} />
              <YAxis type="number" scale={logY ? 'log' : 'auto'} domain={['auto', 'auto']} allowDataOverflow={false} tickFormatter={(v: number) => formatNumber(v, 4)} fontSize={11} stroke="#667" width={56} label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 10, fontSize: 11, fill: '#556', style: { textAnchor: 'middle' } }} />
              <Tooltip
                isAnimationActive={false}
                content={({ active, payload, label }) => {
                  if (!active || !payload?.length) return null;
                  const items = payload.filter((p) => typeof p.value === 'number').slice(0, 12);
                  return (
                    <div className="readout">
                      <div className="readout-step">step {String(label)}</div>
                      {items.map((p) => {
                        const l = names.get(String(p.dataKey));
                        return <div key={String(p.dataKey)} className="readout-row"><span className="swatch" style={{ background: l?.color }} /> {l?.name}: <b>{formatNumber(p.value as number, 4)}</b></div>;
                      })}
                      {payload.length > items.length && <div className="muted small">… {payload.length - items.length} more</div>}
                    </div>
                  );
                }}
              />
              {lines.map((l) => <Line key={l.key} dataKey={l.key} stroke={l.color} strokeWidth={l.width ?? 1.8} strokeOpacity={l.opacity ?? 1} strokeDasharray={l.dash} dot={false} activeDot={{ r: 3 }} isAnimationActive={false} connectNulls={l.nulls} />)}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
});

/** Viridis-like ramp, t in [0, 1]. */
function ramp(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, j) => Math.round(v + f * (stops[i + 1][j] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function Heatmap({ runs, field, rev }: { runs: Gpt2Run[]; field: 'zA' | 'zB'; rev: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  // Redraw when the layout changes the canvas width (window resize, side panel wrap).
  const [boxWidth, setBoxWidth] = useState(0);
  useEffect(() => {
    const el = canvas.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setBoxWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const adapters = runs[0]?.adapters ?? [];
  const rowH = adapters.length > 24 ? 5 : adapters.length > 12 ? 9 : 14;
  const labelW = 112;
  const height = runs.length * (adapters.length * rowH + 22) + 30;
  const range = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of runs) for (const row of r.rows) for (const v of row[field]) if (v > 0 && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return Number.isFinite(lo) ? [Math.log10(lo), Math.log10(hi) + 1e-9] : null;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rev, field, runs.length]);
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const width = el.clientWidth || 600;
    const dpr = globalThis.devicePixelRatio || 1;
    el.width = width * dpr;
    el.height = height * dpr;
    const g = el.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    const plotW = width - labelW - 8;
    let y = 0;
    for (const run of runs) {
      g.fillStyle = run.color;
      g.fillRect(0, y + 5, 10, 10);
      g.fillStyle = '#1b2330';
      g.fillText(`Init[${run.init}]`, 14, y + 10);
      y += 20;
      const maxT = run.config.steps;
      const cols = Math.max(1, Math.min(maxT, Math.floor(plotW / 2)));
      const colW = plotW / cols;
      g.fillStyle = '#eef1f5';
      g.fillRect(labelW, y, plotW, adapters.length * rowH);
      for (let k = 0; k < adapters.length; k++) {
        if (rowH >= 9 || layerOf(adapters[k]) % 2 === 0) {
          g.fillStyle = '#3a4656';
          if (rowH >= 9) g.fillText(adapters[k], 0, y + k * rowH + rowH / 2);
        }
      }
      if (rowH < 9) {
        g.fillStyle = '#3a4656';
        const layers = new Set(adapters.map(layerOf));
        for (const l of layers) { const k = adapters.findIndex((a) => layerOf(a) === l); if (l % 2 === 0) g.fillText(`layer ${l}`, 0, y + (k + 0.5) * rowH); }
      }
      if (range) {
        for (const row of run.rows) {
          const c = Math.min(cols - 1, Math.floor(((row.step - 1) / maxT) * cols));
          for (let k = 0; k < adapters.length; k++) {
            const v = row[field][k];
            const t = v > 0 && Number.isFinite(v) ? (Math.log10(v) - range[0]) / (range[1] - range[0]) : 0;
            g.fillStyle = v > 0 ? ramp(t) : '#2b1030';
            g.fillRect(labelW + c * colW, y + k * rowH, Math.ceil(colW), rowH - (rowH >= 9 ? 1 : 0));
          }
        }
      }
      y += adapters.length * rowH + 2;
    }
    g.fillStyle = '#5f6b7a';
    g.fillText('step →', labelW, y + 12);
    // Colour key.
    const kx = width - 200;
    for (let i = 0; i < 100; i++) {
      g.fillStyle = ramp(i / 99);
      g.fillRect(kx + 40 + i, y + 6, 1, 10);
    }
    g.fillStyle = '#5f6b7a';
    g.textAlign = 'right';
    g.fillText(range ? formatNumber(10 ** range[0], 2) : '', kx + 36, y + 11);
    g.textAlign = 'left';
    g.fillText(range ? formatNumber(10 ** range[1], 2) : '', kx + 144, y + 11);
    g.textAlign = 'start';
  }, [rev, runs, field, range, height, adapters, rowH, boxWidth]);
  return <canvas ref={canvas} className="g2-heatmap" data-testid="gpt2-heatmap" data-cells={runs.reduce((a, r) => a + r.rows.length * r.adapters.length, 0)} style={{ height, width: '100%' }} aria-label={`${field === 'zA' ? '‖Z_A‖' : '‖Z_B‖'} per layer and module over steps`} role="img" />;
}

export function Gpt2Charts() {
  const runs = useGpt2Store((s) => s.runs);
  const rev = useGpt2Store((s) => s.rev);
  const field = useGpt2Store((s) => s.heatmapField);
  const set = useGpt2Store((s) => s.set);
  const maxT = Math.max(1, ...runs.map((r) => r.config.steps));
  const withRows = runs.filter((r) => r.adapters.length > 0);

  const loss = useMemo(() => {
    const inputs: SeriesInput[] = [];
    const lines: LineSpec[] = [];
    for (const r of runs) {
      inputs.push(series(r, `r${r.id}.loss`, (x) => x.loss));
      inputs.push(series(r, `r${r.id}.eval`, (x) => x.evalLoss));
      lines.push({ key: `r${r.id}.loss`, name: `Init[${r.init}] train loss`, color: r.color });
      lines.push({ key: `r${r.id}.eval`, name: `Init[${r.init}] held-out loss`, color: r.color, dash: '5 4', nulls: true });
    }
    return { inputs, lines };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rev, runs.length]);

  const norms = useMemo(() => {
    const inputs: SeriesInput[] = [];
    const lines: LineSpec[] = [];
    for (const r of withRows) {
      const L = Math.max(1, ...r.adapters.map(layerOf)) + 1;
      r.adapters.forEach((a, k) => {
        const key = `r${r.id}.${field}.${k}`;
        inputs.push(series(r, key, (x) => x[field][k]));
        lines.push({ key, name: `Init[${r.init}] ${a}`, color: MODULE_COLORS[moduleOf(a)] ?? '#445', dash: r.init === 'B' && withRows.length > 1 ? '5 3' : undefined, width: 1.3, opacity: 0.45 + (0.55 * (layerOf(a) + 1)) / L });
      });
    }
    return { inputs, lines };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rev, withRows.length, field]);

  const exportCsv = () => {
    const lines = ['run,init,step,loss,perplexity,eval_loss,adapter,zA,zB,normA,normB,normSBA'];
    for (const r of runs) for (const row of r.rows) r.adapters.forEach((a, k) => lines.push([r.id, r.init, row.step, row.loss, row.perplexity, row.evalLoss ?? '', a, row.zA[k], row.zB[k], row.normA[k], row.normB[k], row.normSBA[k]].join(',')));
    downloadBlob(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }), 'gpt2-lora-metrics.csv');
  };

  const modules = [...new Set((withRows[0]?.adapters ?? []).map(moduleOf))];
  return (
    <section className="charts g2-charts" aria-label="GPT-2 training charts">
      <div className="charts-head">
        <div className="legend">
          <div className="legend-title">Training</div>
          <div className="legend-items">
            {runs.map((r) => <span key={r.id} className="legend-item" data-testid="gpt2-legend-item"><span className="swatch" style={{ background: r.color }} />Init[{r.init}] · r={r.config.rank} · η={formatNumber(r.config.eta)} · λ={formatNumber(r.config.lambda)} · {scheduleText(r.config)}</span>)}
            {runs.length === 0 && <span className="muted">No run yet.</span>}
          </div>
        </div>
        <div className="charts-tools">
          <button className="link-btn" onClick={exportCsv} disabled={!runs.some((r) => r.rows.length)}>CSV</button>
        </div>
      </div>
      <SmallChart title="Loss (cross-entropy, nats; perplexity = e^loss)" yLabel="loss" lines={loss.lines} inputs={loss.inputs} maxT={maxT} rev={rev} height={220} testId="gpt2-loss" />
      <div className="chart-head g2-norm-head">
        <span className="chart-title">{field === 'zA' ? '‖Z_A‖ = RMS of A·x' : '‖Z_B‖ = RMS of B·A·x'} per layer and module</span>
        <span className="line-key g2-module-key">{modules.map((m) => <span key={m} className="line-key-item"><span className="swatch" style={{ background: MODULE_COLORS[m] }} />{m}</span>)}</span>
        <div className="segmented" role="radiogroup" aria-label="Norm shown">
          {(['zA', 'zB'] as const).map((f) => <button key={f} role="radio" aria-checked={field === f} className={field === f ? 'seg on' : 'seg'} onClick={() => set({ heatmapField: f })}>{f === 'zA' ? '‖Z_A‖' : '‖Z_B‖'}</button>)}
        </div>
      </div>
      <div className="chart-row g2-norm-row">
        <SmallChart title="Over steps (colour: module; darker: deeper layer)" yLabel={field === 'zA' ? '‖Z_A‖' : '‖Z_B‖'} lines={norms.lines} inputs={norms.inputs} maxT={maxT} rev={rev} height={220} testId="gpt2-norms" />
        <figure className="chart">
          <figcaption className="chart-head"><span className="chart-title">Heatmap: rows layer × module, log colour</span></figcaption>
          {withRows.length ? <Heatmap runs={withRows} field={field} rev={rev} /> : <div className="chart-body" style={{ height: 120 }}><div className="chart-empty muted">No data yet</div></div>}
        </figure>
      </div>
    </section>
  );
}
