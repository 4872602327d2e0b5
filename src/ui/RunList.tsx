// Kept runs: overlay, hide, delete, or load a run's settings back into the form.
import { describeRuns } from '../state/describe.ts';
import { deleteRun, loadSettings, STATUS_TEXT } from '../state/runner.ts';
import { averageStepsPerSecond, useRunsStore } from '../state/runsStore.ts';
import { formatNumber } from '../state/series.ts';

export function RunList() {
  const runs = useRunsStore((s) => s.runs);
  const setVisible = useRunsStore((s) => s.setVisible);
  const { labels } = describeRuns(runs.map((r) => r.config));
  return (
    <section className="panel runs" aria-label="Runs">
      <div className="panel-head">
        <h2>Runs</h2>
        <span className="muted small">{runs.length ? `${runs.filter((r) => r.visible).length} of ${runs.length} shown` : ''}</span>
      </div>
      {runs.length === 0 ? (
        <p className="muted small">No runs yet. Runs stay here to compare until you delete them; the link keeps them too.</p>
      ) : (
        <ul className="run-list" data-testid="run-list">
          {runs.map((r, i) => {
            const avg = averageStepsPerSecond(r);
            return (
              <li key={r.id} className={r.visible ? 'run' : 'run hidden'} data-status={r.status} title={r.message}>
                <label className="run-main">
                  <input type="checkbox" checked={r.visible} onChange={(e) => setVisible(r.id, e.target.checked)} aria-label={`Show run ${r.id}`} />
                  <span className="swatch" style={{ background: r.color }} />
                  <span className="run-label">
                    <b>#{r.id}</b> {labels[i]}
                  </span>
                </label>
                <span className="run-info">
                  <span className={`status status-${r.status}`}>
                    {STATUS_TEXT[r.status]}
                    {r.status === 'diverged' ? ` @ ${r.divergedAt}` : ''}
                  </span>
                  <span className="run-meta muted small">
                    {r.step}/{r.config.steps} steps
                    {avg > 0 && (r.status === 'done' || r.status === 'diverged') ? ` · ${formatNumber(avg)}/s` : ''}
                  </span>
                </span>
                <span className="run-actions">
                  <button className="icon-btn" onClick={() => loadSettings(r.id)} title="Load this run’s settings into the form" aria-label={`Load settings of run ${r.id}`}>
                    ⟲
                  </button>
                  <button className="icon-btn" onClick={() => void deleteRun(r.id)} title="Delete this run" aria-label={`Delete run ${r.id}`}>
                    ×
                  </button>
                </span>
                {(r.status === 'error' || r.status === 'lost') && r.message && <span className="run-message small">{r.message}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
