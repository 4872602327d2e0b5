// The live charts of the visible runs, the legend naming what differs between them, smoothing, exports.
import { useEffect, useMemo, useRef, useState } from 'react';
import { bundleFile, toyBundle } from '../../state/bundles.ts';
import { describeRuns } from '../../state/describe.ts';
import { runsToCsv, runsToJson } from '../../state/exportData.ts';
import { useGpuStore } from '../../state/gpuStore.ts';
import { useRunsStore, type Run } from '../../state/runsStore.ts';
import { useUiStore } from '../../state/uiStore.ts';
import { currentLink } from '../../state/urlSync.ts';
import { downloadBlob } from '../download.ts';
import { TraceChart, type MetricSpec } from './TraceChart.tsx';

const LOSS: MetricSpec[] = [
  { field: 'loss', name: 'train' },
  { field: 'testLoss', name: 'test', dash: '5 3' },
];
const FEATURES: MetricSpec[] = [
  { field: 'zA', name: '‖Z_A‖' },
  { field: 'zB', name: '‖Z_B‖', dash: '5 3' },
];
const WEIGHTS: MetricSpec[] = [
  { field: 'normA', name: '‖A‖' },
  { field: 'normB', name: '‖B‖', dash: '5 3' },
  { field: 'normSBA', name: '‖sBA‖', dash: '1.5 2.5' },
];

/**
 * Redraws of the (SVG) charts while traces grow: at least `min` ms apart, and further apart when a
 * redraw is expensive (many runs, slow machine), so that drawing takes about 1/share of the time and
 * the training loop keeps the rest. The progress line still updates with every readback.
 * NOTE: on a software adapter (SwiftShader) the page is also rasterised on the CPU that does the
 * "GPU" work, so every repaint costs training steps: redraw at most once a second there.
 */
const PACE = { hardware: { min: 250, share: 10 }, software: { min: 1000, share: 20 } };
const CHART_MAX_MS = 2000;

/** The visible runs, re-read at a pace the redraw cost allows while their traces grow. */
function useThrottledVisibleRuns(): Run[] {
  const runs = useRunsStore((s) => s.runs);
  const [shown, setShown] = useState(runs);
  const last = useRef(0);
  const cost = useRef(0); // ms from a redraw's start to the next frame (smoothed)
  useEffect(() => {
    const update = () => {
      const t0 = performance.now();
      last.current = t0;
      setShown(useRunsStore.getState().runs);
      requestAnimationFrame(() => (cost.current = 0.7 * cost.current + 0.3 * (performance.now() - t0)));
    };
    // Membership, visibility and status changes show at once, and so do the last rows of a run that
    // has stopped (paused, done, diverged); growth while running is paced.
    const structural = runs.length !== shown.length || runs.some((r, i) => r.id !== shown[i].id || r.visible !== shown[i].visible || r.status !== shown[i].status || (r.rev !== shown[i].rev && r.status !== 'running'));
    const pace = useGpuStore.getState().isSoftware ? PACE.software : PACE.hardware;
    const interval = Math.min(CHART_MAX_MS, Math.max(pace.min, pace.share * cost.current));
    const wait = last.current + interval - performance.now();
    if (structural || wait <= 0) return update();
    const t = setTimeout(update, wait);
    return () => clearTimeout(t);
  }, [runs, shown]);
  return useMemo(() => shown.filter((r) => r.visible), [shown]);
}

export function ChartsPanel() {
  const runs = useThrottledVisibleRuns();
  const smoothing = useUiStore((s) => s.smoothing);
  const setSmoothing = useUiStore((s) => s.setSmoothing);
  const configs = runs.map((r) => r.config);
  const { title, labels } = useMemo(() => describeRuns(configs), [configs.map((c) => JSON.stringify(c)).join('|')]); // eslint-disable-line react-hooks/exhaustive-deps

  // Exports read the store at the moment of the click (the charts' copy may be up to one redraw old).
  const visibleNow = () => useRunsStore.getState().runs.filter((r) => r.visible);
  const exportCsv = () => downloadBlob(new Blob([runsToCsv(visibleNow())], { type: 'text/csv' }), 'lora-playground-runs.csv');
  const exportJson = () => downloadBlob(new Blob([runsToJson(visibleNow(), `${location.origin}${location.pathname}#${currentLink()}`)], { type: 'application/json' }), 'lora-playground-runs.json');
  const exportBundle = async () => {
    const { blob, name } = await bundleFile(toyBundle(visibleNow().filter((r) => r.trace.length > 0)));
    downloadBlob(blob, name);
  };

  return (
    <section className="charts" aria-label="Charts">
      <div className="charts-head">
        <div className="legend" data-testid="legend">
          <div className="legend-title">{runs.length ? title : 'No runs shown'}</div>
          <div className="legend-items">
            {runs.map((r, i) => (
              <span key={r.id} className="legend-item">
                <span className="swatch" style={{ background: r.color }} />#{r.id} {labels[i]}
                {r.divergedAt !== undefined && <span className="diverged-tag"> ✕ diverged @ {r.divergedAt}</span>}
              </span>
            ))}
          </div>
        </div>
        <div className="charts-tools">
          <label className="smoothing small" title="Exponential moving average with the start-up bias removed (as in TensorBoard); the raw values are drawn faintly behind.">
            Smoothing
            <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label="EMA smoothing" />
            <span className="mono">{smoothing.toFixed(2)}</span>
          </label>
          <button className="btn btn-small" onClick={exportCsv} disabled={!runs.length} title="Every step of the shown runs, as CSV">
            CSV
          </button>
          <button className="btn btn-small" onClick={exportJson} disabled={!runs.length} title="Every step of the shown runs with their settings and link, as JSON">
            JSON
          </button>
          <button className="btn btn-small" onClick={() => void exportBundle()} disabled={!runs.some((r) => r.trace.length > 0)} title="The shown runs as a result bundle: anyone can drop it onto the page (History) to see these charts without recomputing, and reproduce them">
            Bundle
          </button>
        </div>
      </div>
      <TraceChart id="loss" title="Loss (train, and test every k steps)" yLabel="loss" metrics={LOSS} runs={runs} labels={labels} height={250} labelDivergence />
      <div className="chart-row">
        <TraceChart id="features" title="Features" yLabel="coordinate RMS" metrics={FEATURES} runs={runs} labels={labels} height={210} />
        <TraceChart id="weights" title="Weights" yLabel="coordinate RMS" metrics={WEIGHTS} runs={runs} labels={labels} height={210} />
      </div>
    </section>
  );
}
