import { useState } from 'react';
import { PRESETS, resolvePreset } from '../../state/presets.ts';
import { loadPreset } from '../../state/runner.ts';
import { useGpuStore } from '../../state/gpuStore.ts';

/** The papers' settings: pick one, see what it runs, run it. */
export function PresetPicker() {
  const [id, setId] = useState(PRESETS[0].id);
  const ready = useGpuStore((s) => s.status === 'ready');
  const software = useGpuStore((s) => s.isSoftware);
  const preset = PRESETS.find((p) => p.id === id) ?? PRESETS[0];
  return (
    <div className="presets">
      <label className="field-label" htmlFor="preset">
        Preset
      </label>
      <select id="preset" value={id} onChange={(e) => setId(e.target.value)}>
        {PRESETS.map((p) => (
          <option key={p.id} value={p.id}>
            {p.title}
          </option>
        ))}
      </select>
      <div className="preset-row">
        <p className="muted small preset-blurb">
          {preset.blurb}
          {software && preset.software && <span className="preset-scaled"> Scaled here to {resolvePreset(preset, true).scaled} (software adapter).</span>}
        </p>
        <button className="btn btn-small" disabled={!ready} onClick={() => void loadPreset(preset)} title="Set the form to this preset and run its runs">
          Run preset
        </button>
      </div>
    </div>
  );
}
