// The page's tabs. Each is mounted here and nowhere else: the sweeps view (src/ui/experiments/) is
// the Experiments tab, the GPT-2 view replaces the GPT-2 one.
import type { ReactNode } from 'react';
import type { TabId } from '../state/uiStore.ts';
import { ExperimentsTab } from './experiments/ExperimentsTab.tsx';
import { Gpt2Tab } from './gpt2/Gpt2Tab.tsx';
import { Playground } from './Playground.tsx';

export interface Tab {
  id: TabId;
  label: string;
  render: () => ReactNode;
}

export const TABS: readonly Tab[] = [
  { id: 'playground', label: 'Playground', render: () => <Playground /> },
  { id: 'experiments', label: 'Experiments', render: () => <ExperimentsTab /> },
  { id: 'gpt2', label: 'GPT-2', render: () => <Gpt2Tab /> },
];
