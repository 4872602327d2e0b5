// Train / compare / stop, the progress of the run (step, tokens/s, GPU memory), what the configuration
// needs before it starts (checkGpt2Run's plan, refused when it will not fit), the hub download's
// progress, and any failure.
import { useEffect, useState } from 'react';
import { formatBytes } from '../../experiments/gpt2/plan.ts';
import { bundleFile, gpt2Bundle } from '../../state/bundles.ts';
import { encodeGpt2Link } from '../../state/gpt2Link.ts';
import { memoryBudget, refreshPlan, resume, stop, train } from '../../state/gpt2Runner.ts';
import { useGpt2Store, type Gpt2Run } from '../../state/gpt2Store.ts';
import { formatNumber } from '../../state/series.ts';
import { downloadBlob } from '../download.ts';

async function exportBundle(): Promise<void> {
  try {
    const b = await gpt2Bundle();
    if (!b) return;
    const { blob, name } = await bundleFile(b);
    downloadBlob(blob, name);
  } catch (e) {
    useGpt2Store.getState().set({ failure: `Could not export the bundle: ${e instanceof Error ? e.message : String(e)}` });
  }
}

const GROUP_ORDER = ['weights', 'activations', 'logits', 'lora', 'optimizer', 'scratch', 'generation'] as const;

function PlanBox() {
  const config = useGpt2Store((s) => s.config);
  const model = useGpt2Store((s) => s.model);
  const plan = useGpt2Store((s) => s.plan);
  useEffect(() => {
    const t = setTimeout(() => void refreshPlan(), 120);
    return () => clearTimeout(t);
  }, [config, model]);
  if (!config) return <div className="g2-plan muted small" data-testid="gpt2-plan">Fix the highlighted settings to see what this run needs.</div>;
  if (!plan) return <div className="g2-plan muted small" data-testid="gpt2-plan">Planning…</div>;
  const budget = memoryBudget();
  const total = plan.plan.total;
  const fits = plan.problems.length === 0;
  return (
    <div className={`g2-plan${fits ? '' : ' refuse'}`} data-testid="gpt2-plan" data-fits={fits}>
      <div className="g2-plan-head">
        <b>Needs {formatBytes(total)}</b> of GPU memory{budget ? <span className="muted"> (budget {formatBytes(budget)})</span> : null}
        {plan.plan.chunks.length > 1 && <span className="muted"> · vocabulary in {plan.plan.chunks.length} chunks</span>}
      </div>
      <div className="g2-plan-bar" aria-hidden="true">
        {GROUP_ORDER.map((g) => (plan.plan.byGroup[g] > 0 ? <span key={g} className={`g2-seg g2-${g}`} style={{ width: `${(100 * plan.plan.byGroup[g]) / Math.max(total, budget ?? 0)}%` }} title={`${g} ${formatBytes(plan.plan.byGroup[g])}`} /> : null))}
      </div>
      <div className="g2-plan-groups small muted">
        {GROUP_ORDER.filter((g) => plan.plan.byGroup[g] > 0).map((g) => (
          <span key={g}><i className={`g2-dot g2-${g}`} />{g} {formatBytes(plan.plan.byGroup[g])}</span>
        ))}
      </div>
      {!fits && <div className="g2-refuse" role="alert">Will not start: {plan.problems.join('; ')}.</div>}
    </div>
  );
}

function Download() {
  const files = useGpt2Store((s) => s.download);
  const phase = useGpt2Store((s) => s.phase);
  if (!files.length || phase !== 'downloading') return null;
  return (
    <div className="g2-download" data-testid="gpt2-download">
      {files.map((f) => {
        const pct = f.total ? (100 * f.loaded) / f.total : f.status === 'done' ? 100 : 0;
        return (
          <div key={f.file} className="g2-file">
            <span className="g2-file-name">{f.file}</span>
            <div className="bar"><div style={{ width: `${pct}%`, background: 'var(--accent)' }} /></div>
            <span className="small muted g2-file-meta">
              {f.fromCache ? 'from cache' : f.status === 'pending' ? 'waiting' : `${formatBytes(f.loaded)}${f.total ? ` of ${formatBytes(f.total)}` : ''}${f.bytesPerSecond > 0 ? ` · ${formatBytes(f.bytesPerSecond)}/s` : ''}`}
              {f.status === 'error' ? ' · failed' : ''}
            </span>
          </div>
        );
      })}
    </div>
  );
}

function RunProgress({ run }: { run: Gpt2Run }) {
  const last = run.rows[run.rows.length - 1];
  return (
    <div className="progress g2-progress" data-testid={`gpt2-progress-${run.init}`}>
      <div className="progress-text">
        <span className="swatch" style={{ background: run.color }} />
        <b>{run.adapterName ? `${run.adapterName}` : `Init[${run.init}]`}</b> · {run.status === 'preparing' ? 'preparing (building the GPU pipelines)…' : run.status === 'queued' ? `waiting for Init[${run.init === 'A' ? 'B' : 'A'}]` : <>step <b data-testid="gpt2-step">{run.step}</b> of {run.config.steps}</>}
        {last && <> · loss {formatNumber(last.loss, 4)} · ppl {formatNumber(last.perplexity, 4)}</>}
        {run.tokensPerSecond > 0 && <> · {formatNumber(run.tokensPerSecond)} tokens/s</>}
        {run.memoryBytes > 0 && <> · GPU {formatBytes(run.memoryBytes)}</>}
        <span className={`status status-${run.status === 'paused' ? 'paused' : run.status}`} data-testid={`gpt2-status-${run.init}`}>{run.status}</span>
      </div>
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={run.config.steps} aria-valuenow={run.step}>
        <div style={{ width: `${(100 * run.step) / run.config.steps}%`, background: run.color }} />
      </div>
      {run.evaluation && (
        <div className="small g2-eval" data-testid="gpt2-evaluation">
          Held-out text at step {run.evaluation.step}: loss <b>{formatNumber(run.evaluation.loss, 4)}</b> · perplexity <b>{formatNumber(run.evaluation.perplexity, 4)}</b> <span className="muted">({run.evaluation.windows} windows of {run.evaluation.seq} tokens)</span>
        </div>
      )}
      {run.message && run.status !== 'done' && <div className="run-message small">{run.message}</div>}
    </div>
  );
}

export function Gpt2RunBar() {
  const phase = useGpt2Store((s) => s.phase);
  const phaseText = useGpt2Store((s) => s.phaseText);
  const failure = useGpt2Store((s) => s.failure);
  const config = useGpt2Store((s) => s.config);
  const fits = useGpt2Store((s) => !s.plan || s.plan.problems.length === 0);
  const runs = useGpt2Store((s) => s.runs);
  const busy = phase !== 'idle';
  const canTrain = !busy && config !== null && fits;
  const tip = !config ? 'Fix the highlighted settings first' : !fits ? 'This configuration will not fit in GPU memory' : undefined;
  const fromAdapter = useGpt2Store((s) => !!s.adapter?.loaded);
  const paused = runs.find((r) => r.status === 'paused' && r.step > 0 && r.step < r.config.steps);
  return (
    <div className="g2-runbar">
      <div className="runbar">
        <div className="buttons">
          {busy ? (
            <button className="btn btn-primary" onClick={() => void stop()}>■ Stop</button>
          ) : (
            <button className="btn btn-primary" onClick={() => void train(false)} disabled={!canTrain} title={tip}>▶ Train</button>
          )}
          {paused && !busy && <button className="btn" onClick={() => void resume()}>Resume</button>}
          <button className="btn btn-compare" onClick={() => void train(true)} disabled={!canTrain || fromAdapter} title={tip ?? (fromAdapter ? 'Both would start from the loaded adapter: remove it to compare the inits' : 'Train Init[A] and Init[B] side by side from the same seed: same weights, data order and adapter draws')}>Compare Init[A] vs Init[B]</button>
          {!busy && runs.some((r) => r.rows.length > 0) && <button className="btn btn-small" onClick={() => void exportBundle()} title="These runs as a result bundle (charts, samples and the PEFT adapter): anyone can drop it onto the page (History) to see them without recomputing">Bundle</button>}
        </div>
        {runs.length === 0 && !busy && <span className="progress-text muted">Train fine-tunes the chosen model with LoRA on the text; the loss, the per-adapter norms and samples update live.</span>}
        {busy && phaseText && <span className="progress-text" data-testid="gpt2-phase">{phaseText}</span>}
      </div>
      <Download />
      {failure && <div className="g2-failure" role="alert" data-testid="gpt2-failure">{failure}</div>}
      {runs.length > 0 && <div className="g2-runs">{runs.map((r) => <RunProgress key={r.id} run={r} />)}</div>}
      <PlanBox />
    </div>
  );
}
