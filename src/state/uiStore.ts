// What the page shows, as opposed to what is computed: the tab, chart options, messages.
import { create } from 'zustand';

export type TabId = 'playground' | 'experiments' | 'gpt2';
export type ChartId = 'loss' | 'features' | 'weights';

export interface Notice {
  kind: 'info' | 'warning' | 'error';
  text: string;
}

export interface UiState {
  tab: TabId;
  /** EMA coefficient in [0, 0.99] (0 = raw). */
  smoothing: number;
  logY: Record<ChartId, boolean>;
  /** A message about the share link, the GPU or a refused action, shown under the header until dismissed. */
  notice: Notice | null;
  setTab(tab: TabId): void;
  setSmoothing(s: number): void;
  setLogY(chart: ChartId, on: boolean): void;
  setNotice(n: Notice | null): void;
}

export const useUiStore = create<UiState>()((set, get) => ({
  tab: 'playground',
  smoothing: 0.6,
  logY: { loss: true, features: false, weights: false },
  notice: null,
  setTab: (tab) => set({ tab }),
  setSmoothing: (s) => set({ smoothing: Number.isFinite(s) ? Math.min(0.99, Math.max(0, s)) : 0 }),
  setLogY: (chart, on) => set({ logY: { ...get().logY, [chart]: on } }),
  setNotice: (notice) => set({ notice }),
}));
