import { useGpuStore } from '../state/gpuStore.ts';
import { useUiStore } from '../state/uiStore.ts';
import { GpuCheck } from './GpuCheck.tsx';
import { Header } from './Header.tsx';
import { HistoryPanel } from './history/HistoryPanel.tsx';
import { NoticeBar } from './NoticeBar.tsx';
import { NoWebGpuPage } from './NoWebGpuPage.tsx';
import { TABS } from './tabs.tsx';

export function App() {
  const tab = useUiStore((s) => s.tab);
  const gpu = useGpuStore((s) => s.status);
  const current = TABS.find((t) => t.id === tab) ?? TABS[0];
  return (
    <div className="app">
      <Header />
      <NoticeBar />
      {gpu === 'unavailable' ? <NoWebGpuPage /> : <main className="tab-body">{current.render()}</main>}
      <HistoryPanel />
      <GpuCheck />
    </div>
  );
}
