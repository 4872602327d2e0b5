// The History drawer: every stored run and sweep (date, settings, final loss, status), shown or hidden in
// its tab, deleted, or all cleared; storage used against the browser's quota; what could not be read or
// saved; and the drop zone for result bundles. Reads the stores; the actions live in state/history/.
import { useMemo, useRef, useState, type DragEvent } from 'react';
import { statusText, gpt2Summary, sweepSummary, toySummary } from '../../results/summary.ts';
import { openBundleFile } from '../../state/bundles.ts';
import { formatBytes } from '../../experiments/gpt2/plan.ts';
import { clearAll, deleteEntries, deleteOldest, deleteSkipped, isShown, setShown } from '../../state/history/actions.ts';
import { useHistoryStore, type ListedEntry } from '../../state/history/historyStore.ts';
import { useGpt2Store } from '../../state/gpt2Store.ts';
import { useRunsStore } from '../../state/runsStore.ts';
import { formatNumber } from '../../state/series.ts';
import { useSweepStore } from '../../state/sweepStore.ts';

const when = (t: number) => new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function summaryOf(l: ListedEntry): string {
  const e = l.entry;
  return e.kind === 'toy' ? toySummary(e) : e.kind === 'gpt2' ? gpt2Summary(e) : sweepSummary(e);
}

function statusOf(l: ListedEntry): string {
  const e = l.entry;
  const divergedAt = e.kind === 'sweep' ? null : e.divergedAt;
  if (l.status === 'running') return l.here ? `training here · ${e.rows} ${e.kind === 'sweep' ? 'runs' : 'steps'} saved` : `in progress in another tab · ${e.rows} saved`;
  const text = statusText(l.status, divergedAt);
  return e.kind === 'sweep' ? `${text} · ${e.rows} runs` : `${text} · ${e.rows}/${e.config.steps} steps`;
}

function Row({ l, shown }: { l: ListedEntry; shown: boolean }) {
  const e = l.entry;
  const label = summaryOf(l);
  return (
    <li className="history-item" data-status={l.status} data-kind={e.kind} data-id={e.id}>
      <label className="history-main" title={`${e.adapter}, engine v${e.engineVersion}${e.message ? `\n${e.message}` : ''}`}>
        <input type="checkbox" checked={shown} disabled={l.status === 'running'} onChange={(ev) => void setShown(l, ev.target.checked)} aria-label={`Show ${label}`} />
        <span className="history-text">
          <span className="history-summary">{label}</span>
          <span className="small muted">
            {when(e.createdAt)} · <span className={`status status-${l.status === 'running' ? 'running' : l.status}`}>{statusOf(l)}</span>
            {e.finalLoss !== null && <> · loss {formatNumber(e.finalLoss, 4)}</>}
            {e.kind === 'toy' && e.reproduction && <> · reproduced {e.reproduction.verdict.kind}</>}
          </span>
        </span>
      </label>
      <button className="icon-btn" disabled={l.here} onClick={() => void deleteEntries([e.id])} title={l.here ? 'Training in this tab: reset or finish it first' : 'Delete from the history'} aria-label={`Delete ${label}`}>
        ×
      </button>
    </li>
  );
}

function BundleDrop() {
  const message = useHistoryStore((s) => s.dropMessage);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const open = (files: FileList | null) => {
    const f = files?.[0];
    if (f) void openBundleFile(f);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    open(e.dataTransfer.files);
  };
  return (
    <div className="history-drop-row">
      <div className={`history-drop${over ? ' over' : ''}`} data-testid="bundle-drop" onDragOver={(e) => (e.preventDefault(), setOver(true))} onDragLeave={() => setOver(false)} onDrop={onDrop}>
        Drop a result bundle here, or{' '}
        <button className="link-btn" onClick={() => input.current?.click()}>
          choose a file
        </button>
        <input ref={input} type="file" name="bundle-file" accept=".json,.gz,application/json,application/gzip" hidden onChange={(e) => (open(e.target.files), (e.target.value = ''))} />
      </div>
      {message && (
        <div className={`small ${message.kind === 'error' ? 'form-error' : 'muted'}`} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="bundle-message">
          {message.text}
        </div>
      )}
    </div>
  );
}

export function HistoryPanel() {
  const h = useHistoryStore();
  const runs = useRunsStore((s) => s.runs);
  const sweepId = useSweepStore((s) => s.recordId);
  const gpt2Runs = useGpt2Store((s) => s.runs);
  const shownState = useMemo(() => ({ runIds: new Set(runs.flatMap((r) => (r.record ? [r.record.id] : []))), sweep: sweepId, gpt2: new Set(gpt2Runs.flatMap((r) => (r.recordId ? [r.recordId] : []))) }), [runs, sweepId, gpt2Runs]);
  if (!h.open) return null;
  const groups: Array<[string, ListedEntry[]]> = [
    ['Playground runs', h.entries.filter((l) => l.entry.kind === 'toy')],
    ['Sweeps', h.entries.filter((l) => l.entry.kind === 'sweep')],
    ['GPT-2 runs', h.entries.filter((l) => l.entry.kind === 'gpt2')],
  ];
  const busyHere = h.entries.some((l) => l.here);
  return (
    <aside className="history-drawer panel" aria-label="History" data-testid="history">
      <div className="panel-head">
        <h2>History</h2>
        <button className="icon-btn" onClick={() => h.set({ open: false })} aria-label="Close History">
          ×
        </button>
      </div>
      {h.status === 'off' ? (
        <p className="history-note" data-testid="history-off">
          History is off: {h.offReason}. Everything works as usual, but runs are not kept once the page closes; export a bundle to keep one.
        </p>
      ) : (
        <p className="small muted" data-testid="history-storage">
          {h.status === 'opening' ? 'Opening…' : `${h.entries.length} stored · ${h.usage === null ? 'storage use unknown' : `${formatBytes(h.usage)} used`}${h.quota ? ` of the ${formatBytes(h.quota)} this browser allows the page` : ''}`}
        </p>
      )}
      {h.quotaFull && (
        <div className="history-alert" role="alert" data-testid="history-quota">
          {h.quotaFull}{' '}
          <button className="btn btn-small" onClick={() => void deleteOldest()}>
            Delete the oldest runs
          </button>
        </div>
      )}
      {h.writeError && (
        <div className="history-alert" role="alert">
          {h.writeError}
        </div>
      )}
      {h.skipped.length > 0 && (
        <div className="history-alert" role="alert" data-testid="history-skipped">
          {h.skipped.length === 1 ? 'One stored record could not be read and is skipped' : `${h.skipped.length} stored records could not be read and are skipped`}: {h.skipped[0].reason}
          {h.skipped.length > 1 ? ' (and others)' : ''}.{' '}
          <button className="btn btn-small" onClick={() => void deleteSkipped()}>
            Remove {h.skipped.length === 1 ? 'it' : 'them'}
          </button>
        </div>
      )}
      {h.status === 'on' && h.entries.length === 0 && <p className="small muted">Nothing stored yet. Every run and sweep is kept here as it trains, and comes back when the page reloads.</p>}
      {groups.map(([title, list]) =>
        list.length ? (
          <section key={title} className="history-group">
            <h3>{title}</h3>
            <ul className="history-list">
              {list.map((l) => (
                <Row key={l.entry.id} l={l} shown={isShown(l, shownState)} />
              ))}
            </ul>
          </section>
        ) : null,
      )}
      <div className="history-foot">
        {h.status === 'on' && h.entries.length > 0 && (
          <button className="btn btn-small" disabled={busyHere} title={busyHere ? 'Something is training in this tab' : 'Delete every stored run and sweep'} onClick={() => confirm('Delete every stored run and sweep?') && void clearAll()}>
            Clear all
          </button>
        )}
        <BundleDrop />
      </div>
    </aside>
  );
}
