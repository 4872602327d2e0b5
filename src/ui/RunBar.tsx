// Run, pause, step once, reset, compare; and the progress of the runs training now (a compare's two runs
// train together, so they share one progress line).
import { useConfigStore } from '../state/configStore.ts';
import { describeRuns } from '../state/describe.ts';
import { useGpuStore } from '../state/gpuStore.ts';
import { compareInits, currentRuns, pause, reconnectGpu, reset, run, STATUS_TEXT, stepOnce } from '../state/runner.ts';
import { averageStepsPerSecond, useRunsStore } from '../state/runsStore.ts';
import { formatNumber } from '../state/series.ts';

export function RunBar() {
  const runs = useRunsStore((s) => s.runs);
  const valid = useConfigStore((s) => s.valid);
  const gpu = useGpuStore((s) => s.status);
  const active = currentRuns(runs);
  const cur = active[0];
  const queued = runs.filter((r) => r.status === 'queued').length;
  const last = runs.length ? runs[runs.length - 1] : undefined;
  const ready = gpu === 'ready';
  const running = active.some((r) => r.status === 'running' || r.status === 'preparing');
  const canStartNew = ready && valid;
  const runLabel = cur?.status === 'paused' && cur.step > 0 ? 'Resume' : 'Run';
  const invalidTip = valid ? undefined : 'Fix the highlighted settings first';

  let progress: React.ReactNode;
  if (gpu === 'lost') {
    progress = (
      <span className="progress-text">
        The GPU device was lost. <button className="link-btn" onClick={() => void reconnectGpu()}>Reconnect</button>
      </span>
    );
  } else if (cur) {
    const T = cur.config.steps;
    const labels = describeRuns(active.map((r) => r.config)).labels;
    progress = (
      <div className="progress" data-testid="progress">
        <div className="progress-text">
          {active.map((r, i) => (
            <span key={r.id} className="progress-run">
              <span className="swatch" style={{ background: r.color }} />
              <b>#{r.id}</b> {labels[i]}
              {i < active.length - 1 ? ' + ' : ''}
            </span>
          ))}{' '}
          ·{' '}
          {cur.status === 'preparing' ? (
            'preparing…'
          ) : (
            <>
              step <b data-testid="step">{cur.step}</b> of {T} · <span data-testid="sps">{formatNumber(cur.stepsPerSecond)}</span> steps/s{cur.status === 'paused' ? ' · paused' : ''}
            </>
          )}
          {queued > 0 && <span className="muted"> · {queued} queued</span>}
        </div>
        <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={T} aria-valuenow={cur.step}>
          <div style={{ width: `${(100 * cur.step) / T}%`, background: cur.color }} />
        </div>
      </div>
    );
  } else if (last && ready) {
    const avg = averageStepsPerSecond(last);
    progress = (
      <span className="progress-text" data-testid="progress">
        <span className="swatch" style={{ background: last.color }} />
        <b>#{last.id}</b> {STATUS_TEXT[last.status]}{last.status === 'diverged' ? ` at step ${last.divergedAt}` : ''} · {last.step} of {last.config.steps} steps
        {avg > 0 ? ` · ${formatNumber(avg)} steps/s on average` : ''}
      </span>
    );
  } else {
    progress = <span className="progress-text muted">{ready ? 'Ready. Run trains the settings on the left; Compare runs Init[A] and Init[B] side by side.' : gpu === 'probing' ? 'Connecting to the GPU…' : ''}</span>;
  }

  return (
    <div className="runbar">
      <div className="buttons">
        {running ? (
          <button className="btn btn-primary" onClick={() => void pause()} disabled={cur?.status !== 'running'}>
            ❚❚ Pause
          </button>
        ) : (
          <button className="btn btn-primary" onClick={() => void run()} disabled={!ready || (!cur && !queued && !valid)} title={invalidTip}>
            ▶ {runLabel}
          </button>
        )}
        <button className="btn" onClick={() => void stepOnce()} disabled={!ready || running || (!cur && !queued && !valid)} title="Train one step (of every run training together) and show it">
          Step
        </button>
        <button className="btn" onClick={() => void reset()} disabled={!cur && !queued} title="Discard the runs in progress (and any queued); kept runs stay">
          ↺ Reset
        </button>
        <button className="btn btn-compare" onClick={() => void compareInits()} disabled={!canStartNew} title={invalidTip ?? 'Train Init[A] and Init[B] together from the same seed: same frozen weights, data and teacher'}>
          Compare Init[A] vs Init[B]
        </button>
      </div>
      {progress}
    </div>
  );
}
