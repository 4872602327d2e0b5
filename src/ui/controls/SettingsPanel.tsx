// The control panel: every setting of the schema, in schema order; the ones a first run rarely
// touches fold under "More settings". Nothing here lists what a setting is — TOY_FIELDS does.
import { useState } from 'react';
import { TOY_KEYS, type ToyKey } from '../../experiments/toy/config.ts';
import { resetSettings } from '../../state/runner.ts';
import { useConfigStore } from '../../state/configStore.ts';
import { PresetPicker } from './PresetPicker.tsx';
import { ToySettingField } from './SettingField.tsx';

/** Settings folded away by default (layout only; any new schema entry shows up in the main list). */
const FOLDED: ReadonlySet<ToyKey> = new Set<ToyKey>(['d', 'nTrain', 'nTest', 'noise', 'beta1', 'beta2', 'eps', 'testEvery']);

export function SettingsPanel() {
  const [more, setMore] = useState(false);
  const errorCount = useConfigStore((s) => Object.keys(s.errors).length);
  const main = TOY_KEYS.filter((k) => !FOLDED.has(k));
  const folded = TOY_KEYS.filter((k) => FOLDED.has(k));
  const foldedErrors = useConfigStore((s) => folded.filter((k) => s.errors[k]).length);
  return (
    <aside className="panel settings" aria-label="Experiment settings">
      <PresetPicker />
      <div className="panel-head">
        <h2>Settings</h2>
        <button className="link-btn" onClick={resetSettings} title="Put every setting back to its default">
          defaults
        </button>
      </div>
      {errorCount > 0 && <p className="form-error" role="status">{errorCount === 1 ? '1 setting needs fixing' : `${errorCount} settings need fixing`} before a run.</p>}
      <div className="fields">
        {main.map((k) => (
          <ToySettingField key={k} k={k} />
        ))}
      </div>
      <button className="fold" aria-expanded={more || foldedErrors > 0} onClick={() => setMore(!more)}>
        {more || foldedErrors > 0 ? '▾' : '▸'} More settings <span className="muted">(data, Adam, evaluation)</span>
      </button>
      {(more || foldedErrors > 0) && (
        <div className="fields">
          {folded.map((k) => (
            <ToySettingField key={k} k={k} />
          ))}
        </div>
      )}
    </aside>
  );
}
