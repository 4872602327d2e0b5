// The page's tabs. Each is mounted here and nowhere else: the sweeps view (src/ui/sweeps/) replaces
// the Experiments placeholder, the GPT-2 view replaces the GPT-2 one.
import type { ReactNode } from 'react';
import type { TabId } from '../state/uiStore.ts';
import { Gpt2Tab } from './gpt2/Gpt2Tab.tsx';
import { Playground } from './Playground.tsx';
import { PlannedTab } from './PlannedTab.tsx';

export interface Tab {
  id: TabId;
  label: string;
  render: () => ReactNode;
}

export const TABS: readonly Tab[] = [
  { id: 'playground', label: 'Playground', render: () => <Playground /> },
  {
    id: 'experiments',
    label: 'Experiments',
    render: () => (
      <PlannedTab title="Experiments: sweeps over width, learning rate and λ">
        The papers’ experiments as sweeps: final loss over learning rate η × width n for each init (with the best η per width against n<sup>−1</sup> and n<sup>−1/2</sup>), and LoRA+’s λ × η. Until they land here, the Playground runs single points of them, and <code>npm run cli -- train</code> runs them headless.
      </PlannedTab>
    ),
  },
  { id: 'gpt2', label: 'GPT-2', render: () => <Gpt2Tab /> },
];
