// Start from a PEFT LoRA adapter: drop its two files (adapter_config.json + adapter_model.safetensors),
// its folder or a .zip of it, or choose them. A file that cannot be used leaves everything as it was and
// says why beside the field. A loaded adapter fixes r, alpha, rsLoRA and the targets; it can be evaluated
// on the held-out text or generated with before training, and Train continues training it.
import { useState, type DragEvent } from 'react';
import { findAdapterFiles, type GivenFile } from '../../experiments/gpt2/adapterFiles.ts';
import { readZip } from '../../models/zip.ts';
import { openAdapter } from '../../state/gpt2Runner.ts';
import { useGpt2Store } from '../../state/gpt2Store.ts';

/** Every file under a dropped entry (a folder is walked), with its path. */
async function entryFiles(entry: FileSystemEntry, prefix = ''): Promise<GivenFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    return [{ path: prefix + entry.name, bytes: new Uint8Array(await file.arrayBuffer()) }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map((c) => entryFiles(c, `${prefix}${entry.name}/`)))).flat();
}

const MAX_BYTES = 2 * 2 ** 30;

export function Gpt2AdapterInput({ disabled }: { disabled: boolean }) {
  const adapter = useGpt2Store((s) => s.adapter);
  const error = useGpt2Store((s) => s.errors.adapter);
  const canOpen = useGpt2Store((s) => s.config !== null && s.phase === 'idle');
  const setAdapter = useGpt2Store((s) => s.setAdapter);
  const [over, setOver] = useState(false);
  const [dropError, setDropError] = useState<string | null>(null);
  const [reading, setReading] = useState(false);

  const take = async (read: () => Promise<GivenFile[]>, name: string) => {
    setDropError(null);
    setReading(true);
    try {
      const files = await read();
      const total = files.reduce((a, f) => a + f.bytes.length, 0);
      if (total > MAX_BYTES) throw new Error(`${(total / 2 ** 30).toFixed(1)} GiB is more than an adapter holds`);
      const found = await findAdapterFiles(files, readZip);
      const problem = setAdapter({ name: found.folder || name, configJson: found.configJson, safetensors: found.safetensors });
      if (problem) setDropError(problem);
    } catch (e) {
      setDropError(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setReading(false);
    }
  };
  const fromFiles = (list: FileList, folder = false) => {
    const files = [...list];
    if (!files.length) return;
    const name = folder ? files[0].webkitRelativePath.split('/')[0] : files.length === 1 ? files[0].name : 'the chosen adapter files';
    void take(async () => Promise.all(files.map(async (f) => ({ path: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))), name);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (entries.length) void take(async () => (await Promise.all(entries.map((en) => entryFiles(en)))).flat(), entries.length === 1 ? entries[0].name : 'the dropped adapter files');
    else fromFiles(e.dataTransfer.files);
  };
  const message = dropError ?? error;
  const s = adapter?.loaded?.settings;
  return (
    <div className={`g2-drop g2-adapter${over ? ' over' : ''}${message ? ' invalid' : ''}`} data-testid="gpt2-adapter" onDragOver={(e) => (e.preventDefault(), setOver(true))} onDragLeave={() => setOver(false)} onDrop={onDrop}>
      {adapter ? (
        <div className="small">
          <b data-testid="gpt2-adapter-name">{adapter.name}</b>
          {s && <span className="muted"> · r = {s.r}, α = {s.alpha}{s.rslora ? ', rsLoRA' : ''} on {s.targets.join(', ')}{adapter.loaded!.zeroFilled ? ` (${adapter.loaded!.zeroFilled} modules left out start at 0)` : ''}</span>}
        </div>
      ) : (
        <div className="small muted">{reading ? 'Reading…' : 'Drop a PEFT adapter here: adapter_config.json + adapter_model.safetensors, their folder, or a .zip.'}</div>
      )}
      <div className="g2-drop-foot small muted">
        <label className="link-btn">
          files…
          <input type="file" name="gpt2-adapter-files" multiple accept=".json,.safetensors,.zip" hidden disabled={disabled} onChange={(e) => e.target.files && fromFiles(e.target.files)} />
        </label>
        <label className="link-btn">
          folder…
          <input type="file" name="gpt2-adapter-folder" hidden disabled={disabled} {...{ webkitdirectory: '' }} onChange={(e) => e.target.files && fromFiles(e.target.files, true)} />
        </label>
        {adapter && <button className="link-btn" disabled={disabled} onClick={() => (setDropError(null), setAdapter(null))}>remove</button>}
      </div>
      {message && <span className="field-error" data-field="adapter" role="alert">{message}</span>}
      {adapter?.loaded && (
        <div className="buttons g2-adapter-actions">
          <button className="btn btn-small" disabled={disabled || !canOpen} onClick={() => void openAdapter('evaluate')} title="Loss and perplexity of the model with this adapter on the held-out part of the text">Evaluate</button>
          <button className="btn btn-small" disabled={disabled || !canOpen} onClick={() => void openAdapter('generate')} title="Greedy and sampled continuations of the prompt with this adapter">Generate</button>
        </div>
      )}
      <p className="muted small g2-note">{adapter?.loaded ? 'Its r, α, rsLoRA and modules are the run’s; Train continues training it. ' : 'Optional. '}A loaded adapter is not put in share links.</p>
    </div>
  );
}
