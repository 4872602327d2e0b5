// "Check this GPU" (opened from the adapter badge): the adapter's name, limits and features; the self-check
// with a progress bar and a results table; a short benchmark; Copy report. A failing check says which kernel
// is wrong and what to do; the tabs then refuse to train on it (state/gpuCheckStore.ts).
import { useEffect, useState } from 'react';
import type { GpuBenchReport } from '../bench/gpuBench.ts';
import { failedCheckMessage } from '../selfcheck/families.ts';
import type { CheckRow } from '../selfcheck/suite.ts';
import { closeGpuCheck, reportJson, runBenchmarkInPage, runSelfcheckInPage } from '../state/gpuCheck.ts';
import { useGpuCheckStore } from '../state/gpuCheckStore.ts';

const sci = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : '∞');
const fixed = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function ResultsTable({ rows }: { rows: CheckRow[] }) {
  return (
    <table className="check-table" data-testid="check-table">
      <thead>
        <tr>
          <th>check</th>
          <th>kernel</th>
          <th>result</th>
          <th className="num" title="Worst error of the check, relative to the size of the values it compares">max rel. error</th>
          <th className="num" title="The bound a correct kernel stays within (derived per kernel from fp32's rounding)">tolerance</th>
          <th className="num">s</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} data-status={r.pass ? 'pass' : 'fail'} className={r.pass ? '' : 'check-failed'} title={r.detail}>
            <td>{r.name}</td>
            <td>{r.family}</td>
            <td className={r.pass ? 'check-pass' : 'check-fail'}>{r.pass ? 'pass' : 'FAIL'}</td>
            <td className="num">{sci(r.maxRelError)}</td>
            <td className="num">{sci(r.tolerance)}</td>
            <td className="num">{fixed(r.seconds, 2)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BenchView({ bench }: { bench: GpuBenchReport }) {
  const g = bench.gpt2;
  return (
    <div className="bench-view" data-testid="bench-view">
      {bench.scaled && <p className="muted small">Sizes {bench.scaled}.</p>}
      <table className="check-table">
        <tbody>
          <tr>
            <td>FMA peak (measured)</td>
            <td className="num">{fixed(bench.roofline.peakGFLOPs)} GFLOP/s</td>
          </tr>
          <tr>
            <td>copy bandwidth (shader / copyBufferToBuffer, {fixed(bench.roofline.copyMiB, 0)} MiB)</td>
            <td className="num">
              {fixed(bench.roofline.copyGBs)} / {fixed(bench.roofline.copyBufferGBs)} GB/s
            </td>
          </tr>
          {bench.matmul.map((m) => (
            <tr key={`mm${m.n}`}>
              <td>
                matmul {m.n} × {m.n} × {m.n}
              </td>
              <td className="num">
                {fixed(m.gflops)} GFLOP/s ({fixed(m.pctOfPeak, 0)}% of peak, {fixed(m.ms, 2)} ms)
              </td>
            </tr>
          ))}
          {bench.toy.map((t) => (
            <tr key={`toy${t.n}`}>
              <td>
                toy training step, n = {t.n} (batch {t.batch}, rank {t.rank})
              </td>
              <td className="num">
                {fixed(t.stepsPerSecond)} steps/s ({fixed(t.msPerStep, 2)} ms)
              </td>
            </tr>
          ))}
          <tr>
            <td>
              GPT-2 LoRA step, {g.model} shape, random weights{'seq' in g ? `, ${g.batch} × ${g.seq} tokens, rank ${g.rank} on ${g.targets.join(', ')}` : ''}
            </td>
            <td className="num">{'msPerStep' in g ? `${fixed(g.msPerStep, 0)} ms (${fixed(g.tokensPerSecond, 0)} tokens/s)` : `failed: ${g.error}`}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function GpuCheck() {
  const { open, phase, adapter, rows, total, report, bench, benchStage, error } = useGpuCheckStore();
  const [copied, setCopied] = useState<'no' | 'yes' | 'manual'>('no');
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && closeGpuCheck();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);
  if (!open) return null;
  const failed = (report?.checks ?? rows).filter((r) => !r.pass);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(reportJson());
      setCopied('yes');
      setTimeout(() => setCopied('no'), 1800);
    } catch {
      setCopied('manual'); // clipboard refused: the report is shown below to copy by hand
    }
  };
  return (
    <div className="modal-backdrop" onClick={(e) => e.target === e.currentTarget && closeGpuCheck()}>
      <section className="modal gpu-check" role="dialog" aria-modal="true" aria-labelledby="gpu-check-title" data-testid="gpu-check">
        <div className="modal-head">
          <h2 id="gpu-check-title">Check this GPU</h2>
          <button className="icon-btn" aria-label="Close" onClick={closeGpuCheck}>
            ×
          </button>
        </div>
        <p className="muted small">
          Runs every kernel of the engine, in every variant it can choose, on this adapter against a float64 reference at awkward sizes, then whole training steps (the toy, a
          batch of runs, a tiny GPT-2). A kernel that fails here gives wrong numbers, and the tabs refuse to train with it. The benchmark measures what this adapter does
          at the engine&apos;s sizes.
        </p>
        {adapter && (
          <div className="adapter-info" data-testid="adapter-info">
            <strong>{adapter.name}</strong>
            {adapter.software && <span className="muted"> · software adapter</span>}
            <div className="muted small">
              {[['vendor', adapter.vendor], ['architecture', adapter.architecture], ['device', adapter.device], ['', adapter.description]]
                .filter(([, v]) => v)
                .map(([k, v]) => (k ? `${k} ${v}` : v))
                .join(' · ') || 'the browser does not say more about this adapter'}
            </div>
            <details className="small">
              <summary>Limits and features</summary>
              <div className="limits">
                {Object.entries(adapter.limits).map(([k, v]) => (
                  <span key={k}>
                    {k} <b>{v}</b>
                  </span>
                ))}
              </div>
              <div className="muted">features: {adapter.features.join(', ') || 'none'}</div>
            </details>
          </div>
        )}
        <div className="check-actions">
          <button className="btn btn-primary" onClick={() => void runSelfcheckInPage()} disabled={phase !== 'idle'}>
            {report ? 'Run the self-check again' : 'Run the self-check'}
          </button>
          <button className="btn" onClick={() => void runBenchmarkInPage()} disabled={phase !== 'idle'} title="Meaningful while nothing else trains on this GPU">
            Run the benchmark
          </button>
          <button className="btn" onClick={() => void copy()} disabled={phase !== 'idle' || (!report && !bench)}>
            {copied === 'yes' ? 'Report copied ✓' : 'Copy report'}
          </button>
          {adapter?.software && <span className="muted small">On a software adapter the self-check takes about a minute; the benchmark a few.</span>}
        </div>
        {phase === 'checking' && (
          <div className="check-progress" data-testid="check-progress">
            <div className="small">
              Checking… {rows.length} of {total || '…'}
              {rows.length > 0 && <span className="muted"> · last: {rows[rows.length - 1].name}</span>}
            </div>
            <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={total || 1} aria-valuenow={rows.length}>
              <div style={{ width: `${total ? (100 * rows.length) / total : 0}%`, background: 'var(--accent)' }} />
            </div>
          </div>
        )}
        {phase === 'benchmarking' && benchStage && (
          <div className="check-progress" data-testid="bench-progress">
            <div className="small">Benchmark: {benchStage.label}…</div>
            <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(100 * benchStage.fraction)}>
              <div style={{ width: `${100 * benchStage.fraction}%`, background: 'var(--accent)' }} />
            </div>
          </div>
        )}
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        {report && (
          <div className={report.pass ? 'check-summary ok' : 'check-summary bad'} data-testid="check-summary" role={report.pass ? 'status' : 'alert'}>
            {report.pass
              ? `All ${report.checks.length} checks passed in ${fixed(report.seconds)} s: every kernel computes what the float64 reference does on this GPU.`
              : `${failed.length} of ${report.checks.length} checks failed. Training with the kernels named below is refused on this GPU.`}
          </div>
        )}
        {failed.length > 0 && (
          <ul className="check-failures" data-testid="check-failures">
            {failed.map((r) => (
              <li key={r.name}>{failedCheckMessage(r)}</li>
            ))}
          </ul>
        )}
        {rows.length > 0 && <ResultsTable rows={report?.checks ?? rows} />}
        {bench && (
          <>
            <h3>Benchmark</h3>
            <BenchView bench={bench} />
          </>
        )}
        {copied === 'manual' && (
          <>
            <p className="small">The browser refused the clipboard: copy the report from here.</p>
            <textarea className="report-text" readOnly value={reportJson()} rows={8} onFocus={(e) => e.currentTarget.select()} />
          </>
        )}
      </section>
    </div>
  );
}
