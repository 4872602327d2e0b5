// The GPT-2 tab: settings on the left; the run bar (with the memory plan and the hub download), live
// charts and samples in the middle.
import { Gpt2Charts } from './Gpt2Charts.tsx';
import { Gpt2RunBar } from './Gpt2RunBar.tsx';
import { Gpt2Samples } from './Gpt2Samples.tsx';
import { Gpt2Settings } from './Gpt2Settings.tsx';
import { useGpt2Store } from '../../state/gpt2Store.ts';
import './gpt2.css';

export function Gpt2Tab() {
  const busy = useGpt2Store((s) => s.phase !== 'idle');
  return (
    <div className="g2" data-testid="gpt2-tab">
      <Gpt2Settings busy={busy} />
      <div className="center">
        <Gpt2RunBar />
        <Gpt2Charts />
        <Gpt2Samples />
      </div>
    </div>
  );
}
