// One setting, rendered from its schema entry (the toy's and GPT-2's forms alike): segmented buttons for
// a choice, a switch for on/off, a text box (validated as typed, the message beside it) with a log- or
// linear-scale slider for numbers. The form's store is bound by the caller (ToySettingField below;
// Gpt2Settings for GPT-2).
import { useId, useState } from 'react';
import type { FieldSpec } from '../../experiments/schema.ts';
import { TOY_FIELDS, type ToyKey } from '../../experiments/toy/config.ts';
import { useConfigStore } from '../../state/configStore.ts';
import { optionLabel } from '../../state/describe.ts';
import { nearestStop, sliderStops } from '../../state/sliderStops.ts';
import { formatNumber } from '../../state/series.ts';

export interface SettingFieldProps {
  /** The setting's key (the input's name, what e2e tests and labels refer to). */
  k: string;
  spec: FieldSpec;
  /** The text as typed, its validation message, and the last valid value. */
  raw: string;
  error?: string;
  lastValid: unknown;
  setField: (raw: string) => void;
  disabled?: boolean;
}

/** A toy setting, bound to the Playground's form (configStore). */
export function ToySettingField({ k, disabled }: { k: ToyKey; disabled?: boolean }) {
  const raw = useConfigStore((s) => s.raw[k]);
  const error = useConfigStore((s) => s.errors[k]);
  const lastValid = useConfigStore((s) => s.config[k]);
  const setField = useConfigStore((s) => s.setField);
  return <SettingField k={k} spec={TOY_FIELDS[k]} raw={raw} error={error} lastValid={lastValid} setField={(v) => setField(k, v)} disabled={disabled} />;
}

export function SettingField({ k, spec, raw, error, lastValid, setField, disabled }: SettingFieldProps) {
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
            <button key={o} role="radio" name={k} aria-checked={raw === o} className={raw === o ? 'seg on' : 'seg'} disabled={disabled} onClick={() => setField(o)}>
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
        <input type="checkbox" name={k} checked={raw === 'true'} disabled={disabled} onChange={(e) => setField(e.target.checked ? 'true' : 'false')} />
      </label>
    );
  }

  const stops = sliderStops(spec);
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
        onChange={(e) => setField(e.target.value)}
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
          onChange={(e) => setField(String(stops[Number(e.target.value)]))}
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
