// The GPT-2 run's settings: model, text (bundled, pasted or dropped), an adapter to start from, LoRA
// targets, then every field of GPT2_FIELDS (validated as typed, the message beside the field); the
// training options a Hugging Face Trainer + PEFT user knows are grouped under More settings.
import { useState, type DragEvent } from 'react';
import { SettingField } from '../controls/SettingField.tsx';
import { GPT2_FIELDS, type Gpt2Key } from '../../experiments/gpt2/config.ts';
import { LORA_TARGETS, targetDims, type LoraTarget } from '../../models/gpt2.ts';
import { MODEL_CHOICES, modelConfig, readTextFile, useGpt2Store, type Gpt2ModelChoice } from '../../state/gpt2Store.ts';
import { Gpt2AdapterInput } from './Gpt2AdapterInput.tsx';

const MAIN: Gpt2Key[] = ['rank', 'alpha', 'rslora', 'init', 'eta', 'lambda', 'seq', 'batch', 'steps'];
const MORE: Gpt2Key[] = ['initDist', 'wd', 'beta1', 'beta2', 'eps', 'evalEvery', 'seed'];
/** Hugging Face Trainer + PEFT options (their defaults are what a PEFT user gets in train mode). */
const TRAINER: Gpt2Key[] = ['schedule', 'warmup', 'maxGradNorm', 'gradAccum', 'dropout', 'loraDropout', 'order'];
/** Settings a loaded adapter fixes. */
const FROM_ADAPTER: readonly Gpt2Key[] = ['rank', 'alpha', 'rslora'];
const TARGET_LABEL: Record<LoraTarget, string> = {
  'attn.c_attn': 'attention c_attn (Q, K, V)',
  'attn.c_proj': 'attention c_proj',
  'mlp.c_fc': 'MLP c_fc',
  'mlp.c_proj': 'MLP c_proj',
};

/** A GPT-2 setting, bound to the GPT-2 tab's form (gpt2Store). */
function Field({ k, disabled }: { k: Gpt2Key; disabled: boolean }) {
  const raw = useGpt2Store((s) => s.raw[k]);
  const error = useGpt2Store((s) => s.errors[k]);
  const lastValid = useGpt2Store((s) => s.config?.[k]);
  const setField = useGpt2Store((s) => s.setField);
  const locked = useGpt2Store((s) => !!s.adapter?.loaded && FROM_ADAPTER.includes(k));
  return <SettingField k={k} spec={GPT2_FIELDS[k]} raw={raw} error={error} lastValid={lastValid ?? GPT2_FIELDS[k].default} setField={(v) => setField(k, v)} disabled={disabled || locked} />;
}

function TextChooser({ disabled }: { disabled: boolean }) {
  const source = useGpt2Store((s) => s.textSource);
  const text = useGpt2Store((s) => s.customText);
  const name = useGpt2Store((s) => s.customName);
  const error = useGpt2Store((s) => s.errors.text);
  const setText = useGpt2Store((s) => s.setText);
  const [over, setOver] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  // A file that is not a usable text is refused with one message beside the field; the text stays as it was.
  const readFile = async (f: File) => {
    setFileError(null);
    const r = await readTextFile(f);
    if (r.ok) setText('custom', r.value, f.name);
    else setFileError(r.error);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f) void readFile(f);
    else {
      const t = e.dataTransfer.getData('text/plain');
      if (t) setText('custom', t, '');
    }
  };
  return (
    <div className="g2-text">
      <div className="segmented" role="radiogroup" aria-label="Training text">
        <button role="radio" aria-checked={source === 'shakespeare'} className={source === 'shakespeare' ? 'seg on' : 'seg'} disabled={disabled} onClick={() => setText('shakespeare')}>Tiny Shakespeare</button>
        <button role="radio" aria-checked={source === 'custom'} className={source === 'custom' ? 'seg on' : 'seg'} disabled={disabled} onClick={() => setText('custom')}>My text</button>
      </div>
      {source === 'shakespeare' ? (
        <p className="muted small g2-note">The bundled 1.1 MB of Shakespeare (Karpathy’s tiny Shakespeare); share links refer to it by name.</p>
      ) : (
        <div className={`g2-drop${over ? ' over' : ''}${error ? ' invalid' : ''}`} onDragOver={(e) => (e.preventDefault(), setOver(true))} onDragLeave={() => setOver(false)} onDrop={onDrop}>
          <textarea name="gpt2-text" aria-label="Training text" placeholder="Paste text here, or drop a .txt file" value={text} disabled={disabled} onChange={(e) => (setFileError(null), setText('custom', e.target.value, ''))} rows={5} aria-invalid={error ? true : undefined} />
          <div className="g2-drop-foot small muted">
            <span>{name ? `${name} · ` : ''}{text.length.toLocaleString()} characters</span>
            <label className="link-btn">
              choose file…
              <input type="file" accept=".txt,text/plain" hidden disabled={disabled} onChange={(e) => e.target.files?.[0] && void readFile(e.target.files[0])} />
            </label>
          </div>
          {(fileError ?? error) && <span className="field-error" data-field="text" role="alert">{fileError ?? error}</span>}
          <p className="muted small g2-note">Pasted text is not put in share links.</p>
        </div>
      )}
    </div>
  );
}

export function Gpt2Settings({ busy }: { busy: boolean }) {
  const model = useGpt2Store((s) => s.model);
  const setModel = useGpt2Store((s) => s.setModel);
  const targets = useGpt2Store((s) => s.targets);
  const setTargets = useGpt2Store((s) => s.setTargets);
  const targetError = useGpt2Store((s) => s.errors.targets);
  const fromAdapter = useGpt2Store((s) => !!s.adapter?.loaded);
  const [more, setMore] = useState(false);
  const cfg = modelConfig(model);
  return (
    <aside className="panel settings g2-settings" aria-label="GPT-2 settings">
      <div className="g2-group">
        <label className="g2-label" htmlFor="g2-model">Model</label>
        <select id="g2-model" name="gpt2-model" value={model} disabled={busy} onChange={(e) => setModel(e.target.value as Gpt2ModelChoice)}>
          {MODEL_CHOICES.map((m) => <option key={m.id} value={m.id} title={m.label}>{m.short}</option>)}
        </select>
        <p className="muted small g2-note">
          {model === 'tiny' ? `Random weights, for trying the UI without a download: ${cfg.n_layer} layers, width ${cfg.n_embd}, GPT-2’s vocabulary and tokenizer, random weights built here from the seed.` : `${MODEL_CHOICES.find((m) => m.id === model)!.label}: downloaded once from the Hugging Face hub (with progress), then cached in this browser.`}
        </p>
      </div>
      <div className="g2-group">
        <span className="g2-label">Text</span>
        <TextChooser disabled={busy} />
      </div>
      <div className="g2-group">
        <span className="g2-label">Start from an adapter</span>
        <Gpt2AdapterInput disabled={busy} />
      </div>
      <div className="g2-group">
        <span className="g2-label">LoRA on{fromAdapter ? <span className="muted small"> (from the adapter)</span> : null}</span>
        <div className="g2-targets" role="group" aria-label="LoRA targets">
          {LORA_TARGETS.map((t) => {
            const d = targetDims(cfg, t);
            return (
              <label key={t} className="g2-target">
                <input type="checkbox" name={`target-${t}`} checked={targets.includes(t)} disabled={busy || fromAdapter} onChange={(e) => setTargets(e.target.checked ? [...targets, t] : targets.filter((x) => x !== t))} />
                <span>{TARGET_LABEL[t]}</span>
                <span className="muted small">{d.in}→{d.out}</span>
              </label>
            );
          })}
        </div>
        {targetError && <span className="field-error" data-field="targets" role="alert">{targetError}</span>}
      </div>
      <div className="fields">
        {MAIN.map((k) => <Field key={k} k={k} disabled={busy} />)}
      </div>
      <button className="fold" onClick={() => setMore(!more)} aria-expanded={more}>
        {more ? '▾' : '▸'} More settings
      </button>
      {more && (
        <>
          <div className="fields">{MORE.map((k) => <Field key={k} k={k} disabled={busy} />)}</div>
          <div className="g2-subhead small"><b>Trainer options</b> <span className="muted">as Hugging Face’s Trainer and PEFT apply them; the defaults are theirs: linear decay, clipping at 1, GPT-2’s dropout (0.1) in training, no LoRA dropout</span></div>
          <div className="fields">{TRAINER.map((k) => <Field key={k} k={k} disabled={busy} />)}</div>
        </>
      )}
    </aside>
  );
}
