// Kept runs: overlay, hide, remove, load a run's settings back into the form, or reproduce a finished run
// (trained again beside it, then compared: the reproducibility badge). Stored runs (from the history, a
// link or a bundle) say so.
import { verdictText } from '../results/compare.ts';
import { describeRuns } from '../state/describe.ts';
import { deleteRun, loadSettings, reproduceRun, STATUS_TEXT } from '../state/runner.ts';
import { averageStepsPerSecond, FINISHED, useRunsStore } from '../state/runsStore.ts';
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
        <p className="muted small">No runs yet. Runs stay here to compare until you remove them; the link and the History keep them too.</p>
      ) : (
        <ul className="run-list" data-testid="run-list">
          {runs.map((r, i) => {
            const avg = averageStepsPerSecond(r);
            const of = r.reproduces ? runs.find((x) => x.id === r.reproduces!.runId) : undefined;
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
                    {r.restored && r.record ? <span className="stored-tag" title={`Computed ${new Date(r.record.createdAt).toLocaleString()} on ${r.record.adapter} (engine v${r.record.engineVersion}); shown from the history, not recomputed`}> · stored</span> : null}
                  </span>
                </span>
                <span className="run-actions">
                  {FINISHED.has(r.status) && r.trace.length > 0 && (
                    <button className="icon-btn" onClick={() => void reproduceRun(r.id)} title="Reproduce: train these settings again beside this run and compare the traces" aria-label={`Reproduce run ${r.id}`}>
                      ↻
                    </button>
                  )}
                  <button className="icon-btn" onClick={() => loadSettings(r.id)} title="Load this run’s settings into the form" aria-label={`Load settings of run ${r.id}`}>
                    ⟲
                  </button>
                  <button className="icon-btn" onClick={() => void deleteRun(r.id)} title={FINISHED.has(r.status) ? 'Remove this run from the list (it stays in History)' : 'Discard this run'} aria-label={`Delete run ${r.id}`}>
                    ×
                  </button>
                </span>
                {(r.status === 'error' || r.status === 'lost' || r.status === 'interrupted') && r.message && <span className="run-message small">{r.message}</span>}
                {r.reproduces && (r.verdict || FINISHED.has(r.status)) && (
                  <span className={`badge badge-${r.verdict?.kind ?? 'none'} small`} data-testid="repro-badge" data-verdict={r.verdict?.kind ?? 'none'}>
                    {r.verdict ? `${verdictText(r.verdict)} vs #${r.reproduces.runId}${of ? '' : ' (removed)'}` : r.status === 'done' || r.status === 'diverged' ? `comparing with #${r.reproduces.runId}…` : 'not compared: the reproduction did not finish'}
                  </span>
                )}
                {!r.reproduces && r.verdict && (
                  <span className={`badge badge-${r.verdict.kind} small`} data-verdict={r.verdict.kind}>
                    reproduced a stored run: {verdictText(r.verdict)}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
