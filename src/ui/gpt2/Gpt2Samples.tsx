// Sample generations from a prompt (greedy and temperature) before, during and after training, with
// their decoding rate; each run's held-out loss on request; and the trained adapter as a PEFT folder
// (adapter_config.json + adapter_model.safetensors, and a README.md model card).
import { useState } from 'react';
import { evaluateRun, exportAdapter, generateFor } from '../../state/gpt2Runner.ts';
import { useGpt2Store } from '../../state/gpt2Store.ts';
import { downloadBlob } from '../download.ts';
import { formatNumber } from '../../state/series.ts';

export function Gpt2Samples() {
  const prompt = useGpt2Store((s) => s.prompt);
  const temperature = useGpt2Store((s) => s.temperature);
  const gens = useGpt2Store((s) => s.generations);
  const runs = useGpt2Store((s) => s.runs);
  const idle = useGpt2Store((s) => s.phase === 'idle');
  const set = useGpt2Store((s) => s.set);
  const [tempRaw, setTempRaw] = useState(String(temperature));
  const tempOk = /^\s*\d*\.?\d+\s*$/.test(tempRaw) && Number(tempRaw) > 0 && Number(tempRaw) <= 2;
  const ready = runs.filter((r) => r.adapters.length > 0 && r.status !== 'error');
  const promptError = prompt.length > 500 ? 'At most 500 characters.' : null;
  return (
    <section className="panel g2-samples" aria-label="Samples">
      <div className="panel-head"><b>Samples</b><span className="muted small">from the prompt, with the adapters as they are at that step</span></div>
      <div className="g2-prompt-row">
        <label className="field-label" htmlFor="g2-prompt">Prompt</label>
        <input id="g2-prompt" name="gpt2-prompt" className="g2-prompt" value={prompt} onChange={(e) => set({ prompt: e.target.value })} aria-invalid={promptError ? true : undefined} />
        <label className="field-label" htmlFor="g2-temp">Temperature</label>
        <input id="g2-temp" name="gpt2-temperature" className={`num g2-temp${tempOk ? '' : ' bad'}`} value={tempRaw} onChange={(e) => {
          setTempRaw(e.target.value);
          const v = Number(e.target.value);
          if (v > 0 && v <= 2) set({ temperature: v });
        }} aria-invalid={tempOk ? undefined : true} />
      </div>
      {promptError && <span className="field-error" role="alert">{promptError}</span>}
      {!tempOk && <span className="field-error" data-field="temperature" role="alert">Temperature must be a number in (0, 2].</span>}
      <div className="buttons g2-gen-buttons">
        {ready.map((r) => (
          <span key={r.id} className="g2-gen-group">
            <span className="swatch" style={{ background: r.color }} />
            {!r.restored && <button className="btn btn-small" disabled={!!promptError} onClick={() => void generateFor(r.id, 'greedy')}>Greedy · Init[{r.init}]</button>}
            {!r.restored && <button className="btn btn-small" disabled={!!promptError || !tempOk} onClick={() => void generateFor(r.id, 'sample')}>Sample · Init[{r.init}]</button>}
            {!r.restored && <button className="btn btn-small" disabled={!idle} onClick={() => void evaluateRun(r.id)} title="Loss and perplexity with the adapters as they are now, on the held-out part of the text (no dropout)">Evaluate · Init[{r.init}]</button>}
            <button className="btn btn-small" onClick={() => void downloadAdapter(r.id)} title="adapter_config.json + adapter_model.safetensors, loadable with PEFT's PeftModel.from_pretrained, and a README.md model card">Download PEFT adapter{ready.length > 1 ? ` (Init[${r.init}])` : ''}</button>
          </span>
        ))}
        {ready.length === 0 && <span className="muted small">Samples appear once a run starts: one before training, one halfway, two at the end.</span>}
      </div>
      <ol className="g2-gens" data-testid="gpt2-generations">
        {[...gens].reverse().map((g) => {
          const run = runs.find((r) => r.id === g.runId);
          return (
            <li key={g.id} className="g2-gen" data-pending={g.pending}>
              <div className="g2-gen-meta small muted">
                <span className="swatch" style={{ background: run?.color }} />{run?.adapterName ?? `Init[${run?.init}]`} · {g.step === 0 ? (run?.adapterName ? 'as loaded' : 'before training') : `step ${g.step}`} · {g.mode === 'greedy' ? 'greedy' : `T = ${temperature}`}{g.pending ? ' · generating…' : ''}{g.tokensPerSecond ? <span data-testid="gpt2-gen-rate"> · {formatNumber(g.tokensPerSecond, 3)} tokens/s</span> : null}
              </div>
              <pre className="g2-gen-text"><b>{g.prompt}</b>{showBreaks(g.text)}</pre>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

async function downloadAdapter(runId: number): Promise<void> {
  try {
    const files = await exportAdapter(runId);
    if (!files) return;
    downloadBlob(new Blob([files['adapter_config.json']], { type: 'application/json' }), 'adapter_config.json');
    await new Promise((r) => setTimeout(r, 300));
    downloadBlob(new Blob([files['adapter_model.safetensors'] as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), 'adapter_model.safetensors');
    await new Promise((r) => setTimeout(r, 300));
    downloadBlob(new Blob([files['README.md']], { type: 'text/markdown' }), 'README.md');
  } catch (e) {
    useGpt2Store.getState().set({ failure: `Could not export the adapter: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/** Runs of blank lines (common in early samples) shown as a count instead of an empty box. */
function showBreaks(text: string): string {
  return text.replace(/\n{3,}/g, (m) => `⏎×${m.length}\n`);
}
