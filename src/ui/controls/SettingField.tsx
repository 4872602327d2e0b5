// One setting, rendered from its schema entry: segmented buttons for a choice, a switch for on/off,
// a text box (validated as typed, the message beside it) with a log- or linear-scale slider for numbers.
import { useId, useState } from 'react';
import { TOY_FIELDS, type ToyKey } from '../../experiments/config.ts';
import { useConfigStore } from '../../state/configStore.ts';
import { optionLabel } from '../../state/describe.ts';
import { nearestStop, sliderStops } from '../../state/sliderStops.ts';
import { formatNumber } from '../../state/series.ts';

export function SettingField({ k, disabled }: { k: ToyKey; disabled?: boolean }) {
  const spec = TOY_FIELDS[k];
  const raw = useConfigStore((s) => s.raw[k]);
  const error = useConfigStore((s) => s.errors[k]);
  const lastValid = useConfigStore((s) => s.config[k]);
  const setField = useConfigStore((s) => s.setField);
  const id = useId();
  const errId = `${id}-error`;
  const [focused, setFocused] = useState(false);

  if (spec.kind === 'enum') {
    return (
      <div className="field" title={spec.help}>
        <span className="field-label" id={id}>
          {spec.label}
        </span>
        <div className="segmented" role="radiogroup" aria-labelledby={id}>
          {spec.options.map((o) => (
            <button key={o} role="radio" name={k} aria-checked={raw === o} className={raw === o ? 'seg on' : 'seg'} disabled={disabled} onClick={() => setField(k, o)}>
              {optionLabel(k, o)}
            </button>
          ))}
        </div>
      </div>
    );
  }

  if (spec.kind === 'bool') {
    return (
      <label className="field field-bool" title={spec.help}>
        <span className="field-label">{spec.label}</span>
        <input type="checkbox" name={k} checked={raw === 'true'} disabled={disabled} onChange={(e) => setField(k, e.target.checked ? 'true' : 'false')} />
      </label>
    );
  }

  const stops = sliderStops(k);
  const typed = Number(raw);
  // The slider follows the text while it is a number (even one out of range), else the last valid value.
  const index = stops ? nearestStop(stops, raw.trim() !== '' && Number.isFinite(typed) ? typed : (lastValid as number)) : null;
  return (
    <div className={error ? 'field field-num invalid' : 'field field-num'} title={spec.help}>
      <label className="field-label" htmlFor={id}>
        {spec.label}
      </label>
      <input
        id={id}
        name={k}
        className="num"
        type="text"
        inputMode="decimal"
        spellCheck={false}
        autoComplete="off"
        value={raw}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errId : undefined}
        onChange={(e) => setField(k, e.target.value)}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
      />
      {stops && (
        <input
          className="slider"
          type="range"
          aria-label={`${spec.label} (${'log' in spec && spec.log ? 'log scale' : 'slider'})`}
          min={0}
          max={stops.length - 1}
          step={1}
          value={index ?? 0}
          disabled={disabled}
          onChange={(e) => setField(k, String(stops[Number(e.target.value)]))}
          title={`${formatNumber(stops[0])} … ${formatNumber(stops[stops.length - 1])}${'log' in spec && spec.log ? ' (log scale)' : ''}`}
        />
      )}
      {error ? (
        <div className="field-error" id={errId} role="alert" data-field={k}>
          {error}
        </div>
      ) : (
        focused && <div className="field-help">{spec.help}</div>
      )}
    </div>
  );
}
