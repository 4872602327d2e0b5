// The Experiments tab: sweeps E3-E6 (lora-math.md section 5). A form on the left (preset, axes, seeds,
// shared settings, validated as typed by sweepSpec's validator), the run bar (Run/Cancel, progress,
// runs/s, exports, link), the metric the heatmaps and optima rank by, and the views, which fill in as the
// sweep's batches finish. With several seeds every view shows the seeds' mean and their spread.
import { useEffect, useMemo } from 'react';
import { aggregateSweep, defaultMetric, METRIC_LABELS, reaggregate, SWEEP_METRICS, sweepToCsv, type E6Row, type Heatmap, type RunSummary, type SweepMetric, type SweepResult } from '../../experiments/sweep/aggregate.ts';
import { gridPoints, type AxisName, type ResolvedSweep, type SweepKind } from '../../experiments/sweep/spec.ts';
import { bundleFile, sweepBundle } from '../../state/bundles.ts';
import { useGpuStore } from '../../state/gpuStore.ts';
import { cancelSweep, startSweep } from '../../state/sweepRunner.ts';
import { BASE_FIELDS, choosePreset, sizeDefaultForAdapter, editAxis, editBase, formFields, formRuns, PRESET_TITLES, SWEEP_PRESET_IDS, useSweepStore, type BaseField, type SweepPresetId } from '../../state/sweepStore.ts';
import { useUiStore } from '../../state/uiStore.ts';
import { downloadBlob } from '../download.ts';
import { SweepFigure } from './SweepFigure.tsx';
import { fmt } from './format.ts';
import { HeatmapView } from './HeatmapView.tsx';
import { fitText, linePoints, LogLogChart, type Series } from './LogLogChart.tsx';

const AXIS_LABEL: Record<AxisName, string> = { seed: 'Seeds', init: 'Inits', n: 'Widths n', lambda: 'LoRA+ ratios λ', eta: 'Learning rates η' };
const AXIS_HINT: Record<AxisName, string> = { seed: '1,2,3 or 1..5', init: 'A,B', n: '64,128,256', lambda: '1,2,4,8', eta: '1e-4:1:9 (log range) or 1e-3,1e-2' };
const BASE_LABEL: Record<BaseField, string> = { n: 'Width n', eta: 'Learning rate η', lambda: 'LoRA+ ratio λ', steps: 'Steps', testEvery: 'Test every' };
const INIT_COLOR = { A: '#0072B2', B: '#D55E00' } as const;

/** Categorical colours for widths (Okabe-Ito, readable on white). */
const WIDTH_COLORS = ['#0072B2', '#009E73', '#D55E00', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** The result so far: runs not finished yet are 'queued' cells (aggregateSweep fills them in). */
function liveResult(s: ResolvedSweep, finished: Record<number, RunSummary>, metric?: SweepMetric): SweepResult {
  return aggregateSweep(s, gridPoints(s).map((p) => finished[p.index]), undefined, { metric });
}

function seedsNote(r: SweepResult): string {
  const seeds = r.axes.seed;
  return seeds.length > 1
    ? `Each cell and point is the geometric mean over ${seeds.length} seeds (${seeds.join(', ')}), each its own random problem; a cell that diverged with any seed is marked diverged.`
    : `One seed (${seeds[0]}): a single random problem, so optima and slopes carry its noise; add seeds to see the spread.`;
}

/** What the heatmaps and optimum plots rank by. */
function MetricSelect({ kind }: { kind: SweepKind }) {
  const chosen = useSweepStore((s) => s.metric);
  const metric = chosen ?? defaultMetric(kind);
  return (
    <label className="metric-select small">
      Heatmaps and optima by{' '}
      <select name="sweep-metric" value={metric} onChange={(e) => useSweepStore.getState().set({ metric: e.target.value as SweepMetric })}>
        {SWEEP_METRICS.map((m) => (
          <option key={m} value={m}>
            {METRIC_LABELS[m]}
          </option>
        ))}
      </select>
    </label>
  );
}

function colourRange(maps: Heatmap[]): [number, number] | null {
  const vals = maps.flatMap((h) => [h.value.min, h.value.max]).filter((v): v is number => v !== null && v > 0);
  if (!vals.length) return null;
  const lo = Math.log10(Math.min(...vals));
  const hi = Math.log10(Math.max(...vals));
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

function SweepForm() {
  const form = useSweepStore((s) => s.form);
  const checked = useSweepStore((s) => s.checked);
  const errorField = useSweepStore((s) => s.errorField);
  const phase = useSweepStore((s) => s.phase);
  const software = useGpuStore((s) => s.isSoftware);
  const busy = phase === 'running' || phase === 'cancelling';
  const fields = formFields(form.kind);
  const runs = formRuns(checked);
  return (
    <aside className="panel settings sweep-form" data-testid="sweep-form">
      <div className="presets">
        <label className="small muted" htmlFor="sweep-preset">
          Experiment
        </label>
        <select id="sweep-preset" name="sweep-preset" value={form.preset} disabled={busy} onChange={(e) => choosePreset(e.target.value as SweepPresetId, software)}>
          {SWEEP_PRESET_IDS.map((id) => (
            <option key={id} value={id}>
              {PRESET_TITLES[id]}
            </option>
          ))}
          {form.preset === 'custom' && <option value="custom">{PRESET_TITLES.custom}</option>}
        </select>
        <p className="small muted preset-blurb">
          Kind <code>{form.kind}</code>
          {software ? '; sized for the software adapter (widths ≤ 512, at most 60 steps, every other η, 2 seeds).' : '.'}
        </p>
      </div>
      <h2>Axes</h2>
      <div className="fields">
        {fields.axes.map((a) => (
          <label key={a} className={`field field-num sweep-field${errorField === a ? ' invalid' : ''}`}>
            <span className="field-label">{AXIS_LABEL[a]}</span>
            <input className="num axis-input" name={`axis-${a}`} value={form.axes[a] ?? ''} placeholder={AXIS_HINT[a]} disabled={busy} spellCheck={false} onChange={(e) => editAxis(a, e.target.value)} />
            {errorField === a && !checked.ok && <span className="field-error">{checked.error}</span>}
          </label>
        ))}
      </div>
      <h2 style={{ marginTop: 10 }}>Shared settings</h2>
      <div className="fields">
        {BASE_FIELDS.filter((b) => fields.base.includes(b)).map((b) => (
          <label key={b} className={`field field-num${errorField === `base.${b}` ? ' invalid' : ''}`}>
            <span className="field-label">{BASE_LABEL[b]}</span>
            <input className="num" name={`base-${b}`} value={form.base[b] ?? ''} placeholder="default" disabled={busy} spellCheck={false} onChange={(e) => editBase(b, e.target.value)} />
            {errorField === `base.${b}` && !checked.ok && <span className="field-error">{checked.error}</span>}
          </label>
        ))}
      </div>
      {!checked.ok && errorField === null && <p className="form-error">{checked.error}</p>}
      <p className="small muted">
        {checked.ok ? `${runs} runs (${checked.value.axes.seed.length} seed${checked.value.axes.seed.length > 1 ? 's' : ''} × ${checked.value.axes.init.length} init × ${checked.value.axes.n.length} n × ${checked.value.axes.lambda.length} λ × ${checked.value.axes.eta.length} η), ${checked.value.base.steps} steps each.` : 'Fix the marked field to run.'} Other settings: the toy defaults.
      </p>
    </aside>
  );
}

function SweepBar({ result }: { result: SweepResult | null }) {
  const { phase, runsDone, runsTotal, seconds, message, checked } = useSweepStore();
  const gpu = useGpuStore((s) => s.status);
  const busy = phase === 'running' || phase === 'cancelling';
  const pct = runsTotal ? (100 * runsDone) / runsTotal : 0;
  const final = useSweepStore((s) => s.result);
  const exportCsv = () => final && downloadBlob(new Blob([sweepToCsv(final) + '\n'], { type: 'text/csv' }), `lora-playground-sweep-${final.kind}.csv`);
  const exportJson = () => final && downloadBlob(new Blob([JSON.stringify(final)], { type: 'application/json' }), `lora-playground-sweep-${final.kind}.json`);
  const exportBundle = async () => {
    const b = await sweepBundle();
    if (!b) return;
    const { blob, name } = await bundleFile(b);
    downloadBlob(blob, name);
  };
  return (
    <div className="runbar sweep-bar" data-testid="sweep-bar" data-phase={phase}>
      <div className="buttons">
        <button className="btn btn-primary" disabled={busy || !checked.ok || gpu !== 'ready'} onClick={() => void startSweep()}>
          Run sweep
        </button>
        <button className="btn" disabled={phase !== 'running'} onClick={cancelSweep}>
          Cancel
        </button>
      </div>
      <div className="progress">
        <div className="progress-text" data-testid="sweep-progress" data-done={runsDone} data-total={runsTotal}>
          {runsTotal ? `${runsDone} / ${runsTotal} runs` : 'No sweep run yet'}
          {runsTotal > 0 && seconds > 0 ? ` · ${(runsDone / seconds).toFixed(2)} runs/s · ${seconds.toFixed(1)} s` : ''}
          {phase === 'cancelling' ? ' · cancelling…' : phase === 'done' ? ' · done' : phase === 'cancelled' ? ' · cancelled' : ''}
        </div>
        <div className="bar">
          <div style={{ width: `${pct}%`, background: 'var(--accent)' }} />
        </div>
        {message && <div className={`small ${phase === 'error' ? 'form-error' : 'muted'}`}>{message}</div>}
      </div>
      <div className="buttons">
        <button className="btn btn-small" disabled={!final} onClick={exportCsv} title="One row per run (sweepToCsv)">
          CSV
        </button>
        <button className="btn btn-small" disabled={!final} onClick={exportJson} title="The whole SweepResult">
          JSON
        </button>
        <button className="btn btn-small" disabled={!final} onClick={() => void exportBundle()} title="The sweep as a result bundle: anyone can drop it onto the page (History) to see these views without recomputing">
          Bundle
        </button>
      </div>
      {result === null && <span className="small muted">Views appear as the runs finish.</span>}
    </div>
  );
}

function HeatFigure({ id, title, heatmap, finished, range, caption }: { id: string; title: string; heatmap: Heatmap; finished: Record<number, RunSummary>; range: [number, number] | null; caption?: string }) {
  return (
    <SweepFigure id={id} title={title}>
      <HeatmapView heatmap={heatmap} finished={finished} range={range} testId={`heatmap-${id}`} />
      {caption && <p className="caption small muted">{caption}</p>}
    </SweepFigure>
  );
}

function LrWidthViews({ r, finished }: { r: Extract<SweepResult, { kind: 'lr-width' }>; finished: Record<number, RunSummary> }) {
  const range = colourRange(r.lrWidth.map((v) => v.heatmap));
  const ns = r.axes.n;
  const series: Series[] = [];
  const fits: string[] = [];
  for (const v of r.lrWidth) {
    series.push({ name: `Init[${v.init}] best grid η`, color: INIT_COLOR[v.init], points: v.optimum.map((o) => ({ x: o.x, y: o.eta })), dash: '1 3' });
    series.push({ name: `Init[${v.init}] refined η*`, color: INIT_COLOR[v.init], points: v.optimum.map((o) => ({ x: o.x, y: o.etaRefined ?? o.eta })) });
    if (v.seedFits) series.push({ name: `Init[${v.init}] each seed`, color: INIT_COLOR[v.init], dotsOnly: true, points: v.optimum.flatMap((o) => (o.perSeed ?? []).map((ps) => ({ x: o.x, y: ps.etaRefined ?? ps.eta }))) });
    if (v.fitRefined) series.push({ name: `fit Init[${v.init}]`, color: INIT_COLOR[v.init], points: linePoints(v.fitRefined, ns), dash: '2 3', guide: true });
    const edges = v.optimum.filter((o) => o.atEdge).length;
    const sf = v.seedFits;
    const perSeed = sf ? `; seed by seed ${sf.mean.toFixed(2)}${sf.stderr !== null ? ` ± ${sf.stderr.toFixed(2)}` : ''} (mean ± standard error of ${sf.count} seeds)` : '';
    const jack = v.fitJackknife ? `; ± ${v.fitJackknife.stderr.toFixed(2)} over seeds (jackknife)` : '';
    fits.push(`Init[${v.init}]: fitted slope of η* against n ${fitText(v.fitRefined)} refined${jack}, ${fitText(v.fit)} on the grid${perSeed}${edges ? ` — ${edges} of ${v.optimum.length} optima at the edge of the η grid` : ''}`);
  }
  const ref = [...r.lrWidth].reverse().find((v) => v.references.length)?.references ?? [];
  ref.forEach((l, i) => series.push({ name: `ref ${l.label}`, color: i ? '#9aa5b4' : '#5f6b7a', points: linePoints(l, ns), dash: '6 4', guide: true }));
  return (
    <>
      <div className="sweep-grid">
        {r.lrWidth.map((v) => (
          <HeatFigure key={v.init} id={`e4-heatmap-${v.init}`} title={`Init[${v.init}]: ${v.heatmap.value.label} over η × n`} heatmap={v.heatmap} finished={finished} range={range} />
        ))}
      </div>
      <p className="caption small muted">
        Darker is lower loss (one colour scale for both inits); hatched × cells diverged. {seedsNote(r)} The papers (Hayou et al. 2024) predict that Init[A] stays trainable at larger η than Init[B] as n grows — the diverged region of Init[B] should move to smaller η faster — and that at large n Init[A]’s best loss is lower.
      </p>
      <LogLogChart
        id="e4-optimal-eta"
        title="Optimal η per width (log-log)"
        xLabel="width n"
        yLabel="best η"
        series={series}
        fits={fits}
        caption={`Per width, the grid η with the lowest ${METRIC_LABELS[r.metric]} (dotted) and the refined optimum η* (a parabola in log η through it and its two neighbours), against the reference slopes n^-1 (Init[B]'s predicted scaling: its first step grows with n) and n^-1/2 (Init[A]'s). Open dots: each seed's own optimum; the slope is also fitted seed by seed, and the spread of those slopes is its error bar. The loss is often flat near its minimum, so one seed's slopes are rough; an optimum at the edge of the grid means the true optimum may lie outside it.`}
      />
    </>
  );
}

function WidthScalingViews({ r, preset }: { r: Extract<SweepResult, { kind: 'width-scaling' }>; preset: string }) {
  const ns = r.axes.n;
  const e3: Series[] = [];
  const e3fits: string[] = [];
  const e5: Series[] = [];
  const e5fits: string[] = [];
  for (const v of r.widthScaling) {
    e3.push({ name: `Init[${v.init}] Δ‖Z_B‖`, color: INIT_COLOR[v.init], points: v.points.map((p) => ({ x: p.n, y: p.oneStepDeltaZB === null ? null : Math.abs(p.oneStepDeltaZB) })) });
    e3fits.push(`Init[${v.init}]: fitted slope ${fitText(v.oneStepFit)} (papers: about ${v.init === 'B' ? '1' : '0'})`);
    e5.push({ name: `Init[${v.init}] max ‖Z_A‖`, color: INIT_COLOR[v.init], points: v.points.map((p) => ({ x: p.n, y: p.maxZA })) });
    e5.push({ name: `Init[${v.init}] max ‖Z_B‖`, color: INIT_COLOR[v.init], dash: '5 3', points: v.points.map((p) => ({ x: p.n, y: p.maxZB })) });
    const div = v.points.filter((p) => p.status === 'diverged').map((p) => p.n);
    e5fits.push(`Init[${v.init}] at η = ${fmt(v.eta)}: slope of max ‖Z_A‖ ${fitText(v.maxZAFit)}, of max ‖Z_B‖ ${fitText(v.maxZBFit)}${div.length ? `; diverged at n = ${div.join(', ')}` : ''}`);
  }
  const ref = [...r.widthScaling].reverse().find((v) => v.references.length)?.references ?? [];
  ref.forEach((l, i) => e3.push({ name: `ref ${l.label}`, color: i ? '#9aa5b4' : '#5f6b7a', points: linePoints(l, ns), dash: '6 4', guide: true }));
  const e3View = (
    <LogLogChart
      key="e3"
      id="e3-one-step"
      title={`One-step change of ‖Z_B‖ against width (η = ${fmt(r.widthScaling[0]?.eta)})`}
      xLabel="width n"
      yLabel="|Δ‖Z_B‖| after step 1"
      series={e3}
      fits={e3fits}
      caption="‖Z_B‖ at step 2 minus step 1: what the first update did to the adapter's output. The papers' mechanism: under Init[B] it grows like n (slope ≈ 1), so η must shrink like 1/n; under Init[A] it stays flat (slope ≈ 0), so larger η are tolerated."
    />
  );
  const e5View = (
    <LogLogChart
      key="e5"
      id="e5-norms"
      title={`Largest ‖Z_A‖, ‖Z_B‖ against width (η = ${fmt(r.widthScaling[0]?.eta)})`}
      xLabel="width n"
      yLabel="max coordinate RMS"
      series={e5}
      fits={e5fits}
      caption="Internal instability of Init[A] at large η: the papers expect ‖Z_A‖ (solid) to grow with n and time while ‖Z_B‖ (dashed) stays order one; Init[B] at the same η diverges or stalls. Diverged runs keep the norms measured before they diverged."
    />
  );
  return <div className="sweep-grid">{preset === 'e5' ? [e5View, e3View] : [e3View, e5View]}</div>;
}

/** E6 ratios as a table: per lambda and width, the seeds' geometric mean and their range. */
function E6Table({ rows, which }: { rows: E6Row[]; which: 'train' | 'test' }) {
  const widths = [...new Set(rows.map((x) => `${x.init}:${x.n}`))];
  const lambdas = [...new Set(rows.map((x) => x.lambda))];
  const ratio = (x: E6Row) => (which === 'train' ? x.trainRatio : x.testRatio);
  const cell = (x: E6Row | undefined) => {
    const v = x ? ratio(x) : null;
    const range = x && (which === 'train' ? x.trainRatioRange : x.testRatioRange);
    if (v === null) return '–';
    return `${fmt(v, 3)}${range && x.seeds.length > 1 ? ` [${fmt(range[0], 2)}–${fmt(range[1], 2)}]` : ''}`;
  };
  return (
    <table className="e6-table small" data-testid={`e6-table-${which}`}>
      <thead>
        <tr>
          <th>λ</th>
          {widths.map((k) => (
            <th key={k}>{widthName(k)}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {lambdas.map((l) => (
          <tr key={l}>
            <td>{fmt(l)}</td>
            {widths.map((k) => {
              const col = rows.filter((r) => `${r.init}:${r.n}` === k);
              const x = col.find((r) => r.lambda === l);
              const lowest = Math.min(...col.map((r) => ratio(r) ?? Infinity));
              return (
                <td key={k} className={x && ratio(x) === lowest ? 'best' : undefined}>
                  {cell(x)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "A:1024" -> "n = 1024" ("Init[B], n = 1024" for Init[B]). */
function widthName(key: string): string {
  const [init, n] = key.split(':');
  return init === 'B' ? `Init[B], n = ${n}` : `n = ${n}`;
}

/** E6: per width, the best loss over η at each λ as a ratio to λ = 1 on the same seed; each seed a dot. */
function E6RatioChart({ r, which }: { r: Extract<SweepResult, { kind: 'lambda-eta' }>; which: 'train' | 'test' }) {
  const widths = [...new Set(r.e6.map((x) => `${x.init}:${x.n}`))];
  const ratio = (x: { trainRatio: number | null; testRatio: number | null }) => (which === 'train' ? x.trainRatio : x.testRatio);
  const series: Series[] = [];
  const fits: string[] = [];
  widths.forEach((k, i) => {
    const rows = r.e6.filter((x) => `${x.init}:${x.n}` === k);
    const color = WIDTH_COLORS[i % WIDTH_COLORS.length];
    const name = widthName(k);
    series.push({ name, color, points: rows.map((x) => ({ x: x.lambda, y: ratio(x) })) });
    if (r.axes.seed.length > 1) series.push({ name: `${name}, each seed`, color, dotsOnly: true, points: rows.flatMap((x) => x.seeds.map((sd) => ({ x: x.lambda, y: ratio(sd) }))) });
    let best: E6Row | null = null;
    for (const x of rows) if (ratio(x) !== null && (best === null || (ratio(x) as number) < (ratio(best) as number))) best = x;
    const range = best && (which === 'train' ? best.trainRatioRange : best.testRatioRange);
    const edges = rows.flatMap((x) => x.seeds).filter((sd) => (which === 'train' ? sd.trainAtEdge : sd.testAtEdge)).length;
    if (best) fits.push(`${name}: lowest at λ = ${fmt(best.lambda)}, ${fmt(ratio(best), 3)} × the loss at λ = 1${range && r.axes.seed.length > 1 ? ` (seeds ${fmt(range[0], 2)} – ${fmt(range[1], 2)})` : ''}${edges ? `; ${edges} seed optima at the edge of the η grid` : ''}`);
  });
  series.push({ name: 'ref λ = 1', color: '#9aa5b4', points: r.axes.lambda.map((x) => ({ x, y: 1 })), dash: '6 4', guide: true });
  const caption =
    which === 'train'
      ? 'The headline of E6 (lora-math.md section 5): LoRA+ claims faster feature learning, i.e. a lower training loss for the same budget. For each seed and λ, η is tuned on the grid (the best final training loss over η), then divided by the same at λ = 1 on that seed; the line is the geometric mean over seeds, open dots the seeds. Below 1: λ beats plain LoRA.'
      : 'The same for the test loss. With 1000 training examples the adapter (2·n·r parameters, far more than 1000) is data-limited: λ = 1–4 may tie here even where the training loss improves several-fold.';
  return (
    <LogLogChart
      id={`e6-ratio-${which}`}
      title={which === 'train' ? 'E6: best training loss over η, ratio to λ = 1' : 'E6: best test loss over η, ratio to λ = 1'}
      xLabel="LoRA+ ratio λ (η_B = λ η_A)"
      yLabel={`best ${which} loss ÷ at λ = 1`}
      series={series}
      fits={fits}
      caption={caption}
      yScale="ratio"
    />
  );
}

function LambdaEtaViews({ r, finished }: { r: Extract<SweepResult, { kind: 'lambda-eta' }>; finished: Record<number, RunSummary> }) {
  const range = colourRange(r.lambdaEta.map((v) => v.heatmap));
  const label = METRIC_LABELS[r.metric];
  const series: Series[] = r.lambdaEta.map((v, i) => ({ name: `Init[${v.init}], n = ${v.n}`, color: r.lambdaEta.length === 1 ? INIT_COLOR[v.init] : WIDTH_COLORS[i % WIDTH_COLORS.length], points: v.bestPerLambda.map((o) => ({ x: o.x, y: o.loss })) }));
  const fits = r.lambdaEta.map((v) => `Init[${v.init}], n = ${v.n}: best ${v.best ? `λ = ${fmt(v.best.lambda)}, η = ${fmt(v.best.eta)}, ${label} ${fmt(v.best.loss, 4)}` : 'none yet'}`);
  const hasRatios = r.e6.some((x) => x.trainRatio !== null);
  return (
    <>
      {hasRatios && (
        <>
          <div className="sweep-grid">
            <E6RatioChart r={r} which="train" />
            <E6RatioChart r={r} which="test" />
          </div>
          <div className="sweep-grid e6-tables">
            <div>
              <div className="small table-title">Training loss ÷ at λ = 1: geometric mean over seeds [smallest – largest seed]</div>
              <E6Table rows={r.e6} which="train" />
            </div>
            <div>
              <div className="small table-title">Test loss ÷ at λ = 1: geometric mean over seeds [smallest – largest seed]</div>
              <E6Table rows={r.e6} which="test" />
            </div>
          </div>
        </>
      )}
      <div className="sweep-grid">
        <LogLogChart
          id="e6-best-loss"
          title={`Best ${label} over η against λ`}
          xLabel="LoRA+ ratio λ (η_B = λ η_A)"
          yLabel={`best ${label}`}
          series={series}
          fits={fits}
          caption={`LoRA+ (Hayou et al. 2024) gives B a learning rate λ times A's; it claims λ > 1 (around 16) learns faster at large width. At λ = 1 this is plain LoRA. ${seedsNote(r)}`}
        />
        {r.lambdaEta.map((v) => (
          <HeatFigure key={`${v.init}.${v.n}`} id={`e6-heatmap-${v.init}-${v.n}`} title={`Init[${v.init}]: ${label} over η × λ (n = ${v.n})`} heatmap={v.heatmap} finished={finished} range={range} caption="Dashed outline: the best η of each λ; hatched ×: diverged. A larger λ should shift the stable region to smaller η." />
        ))}
      </div>
    </>
  );
}

export function ExperimentsTab() {
  const running = useSweepStore((s) => s.running);
  const finished = useSweepStore((s) => s.finished);
  const final = useSweepStore((s) => s.result);
  const checked = useSweepStore((s) => s.checked);
  const preset = useSweepStore((s) => s.form.preset);
  const metric = useSweepStore((s) => s.metric);
  const tab = useUiStore((s) => s.tab);
  const gpu = useGpuStore((s) => s.status);
  const software = useGpuStore((s) => s.isSoftware);

  useEffect(() => {
    if (gpu === 'ready') sizeDefaultForAdapter(software);
  }, [gpu, software]);

  const result = useMemo(() => {
    if (final) return metric && metric !== final.metric ? reaggregate(final, { metric }) : final;
    return running && Object.keys(finished).length ? liveResult(running, finished, metric ?? undefined) : null;
  }, [final, running, finished, metric]);

  return (
    <div className="experiments">
      <SweepForm />
      <div className="center">
        <SweepBar result={result} />
        {result !== null && result.kind !== 'width-scaling' && <MetricSelect kind={result.kind} />}
        <section className="charts sweep-views" data-testid="sweep-views">
          {result === null ? (
            <div className="sweep-empty muted small">
              <p>
                Pick an experiment, adjust its axes and press <b>Run sweep</b>. Every grid point is one toy run (lora-math.md section 4); runs that share shapes train together on the GPU, and the views fill in batch by batch.
              </p>
              <p>E3 and E5 sweep width at a fixed η (norms of the adapter’s features), E4 sweeps η × width (heatmaps and the optimal η per width), E6 sweeps LoRA+’s λ × η.</p>
            </div>
          ) : result.kind === 'lr-width' ? (
            <LrWidthViews r={result} finished={finished} />
          ) : result.kind === 'width-scaling' ? (
            <WidthScalingViews r={result} preset={preset} />
          ) : (
            <LambdaEtaViews r={result} finished={finished} />
          )}
        </section>
      </div>
    </div>
  );
}
