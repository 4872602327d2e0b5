import { ChartsPanel } from './charts/ChartsPanel.tsx';
import { SettingsPanel } from './controls/SettingsPanel.tsx';
import { ExplainPanel } from './ExplainPanel.tsx';
import { RunBar } from './RunBar.tsx';
import { RunList } from './RunList.tsx';

/** Settings on the left, the run bar and charts in the middle, runs and the explanation on the right. */
export function Playground() {
  return (
    <div className="playground">
      <SettingsPanel />
      <div className="center">
        <RunBar />
        <ChartsPanel />
      </div>
      <div className="side">
        <RunList />
        <ExplainPanel />
      </div>
    </div>
  );
}
