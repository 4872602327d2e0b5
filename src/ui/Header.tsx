import { openGpuCheck } from '../state/gpuCheck.ts';
import { useGpuCheckStore } from '../state/gpuCheckStore.ts';
import { useGpuStore } from '../state/gpuStore.ts';
import { useHistoryStore } from '../state/history/historyStore.ts';
import { useUiStore } from '../state/uiStore.ts';
import { CopyLinkButton } from './CopyLinkButton.tsx';
import { TABS } from './tabs.tsx';

/** The adapter the page trains on; a click opens "Check this GPU" (the self-check and a benchmark). */
function AdapterBadge() {
  const { status, adapterName, isSoftware } = useGpuStore();
  const failed = useGpuCheckStore((s) => s.failed.length > 0);
  const text = status === 'ready' ? adapterName : status === 'probing' ? 'connecting to the GPU…' : status === 'lost' ? 'GPU device lost' : 'no WebGPU';
  const about = isSoftware ? 'A software (CPU) WebGPU adapter: fine for small widths, slow for large ones.' : 'The WebGPU adapter this page trains on.';
  return (
    <button
      className={`adapter adapter-${status}${failed ? ' adapter-failed' : ''}`}
      data-testid="adapter"
      disabled={status !== 'ready'}
      onClick={() => void openGpuCheck()}
      title={`${about} Click to check this GPU: every kernel against a float64 reference, and a short benchmark.`}
    >
      <span className="dot" aria-hidden="true" />
      {text}
      {status === 'ready' && isSoftware ? ' · software' : ''}
      {failed ? ' · self-check failed' : ''}
    </button>
  );
}

function HistoryButton() {
  const { open, status, entries, quotaFull, skipped, set } = useHistoryStore();
  const alert = !!quotaFull || skipped.length > 0;
  return (
    <button className={`btn btn-small history-btn${open ? ' active' : ''}${alert ? ' alert' : ''}`} aria-expanded={open} onClick={() => set({ open: !open })} title={status === 'off' ? 'History is off in this browser' : 'Stored runs and sweeps, storage, result bundles'}>
      History{status === 'off' ? ' (off)' : entries.length ? ` (${entries.length})` : ''}
      {alert ? ' !' : ''}
    </button>
  );
}

export function Header() {
  const tab = useUiStore((s) => s.tab);
  const setTab = useUiStore((s) => s.setTab);
  return (
    <header className="header">
      <div className="brand">
        <img src="./favicon.svg" alt="" width={22} height={22} />
        <h1>LoRA Playground</h1>
      </div>
      <nav className="tabs" role="tablist" aria-label="Views">
        {TABS.map((t) => (
          <button key={t.id} role="tab" aria-selected={tab === t.id} className={tab === t.id ? 'tab active' : 'tab'} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </nav>
      <div className="header-right">
        <AdapterBadge />
        <HistoryButton />
        <CopyLinkButton />
      </div>
    </header>
  );
}
