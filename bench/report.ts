// The printed table of a suite result (the same text in Node and, relayed, in --browser mode).
import { fmtMs, fmtNum, table } from './stats.ts';
import type { SuiteResult } from './suite.ts';

export function report(r: SuiteResult, mode: string): string {
  const out: string[] = [];
  const peer = r.peer ?? 'TF.js (not run)';
  out.push(`LoRA Playground benchmark (${mode}) on ${r.adapter}${r.isSoftware ? ' [software adapter]' : ''}`);
  out.push(`times are min/median/max ms over ${r.plan.reps} samples after warm-up; ratio = ours/TF.js throughput (their median time / ours)`);
  out.push('');
  const ref = r.reference;
  out.push(`Reference: copy (shader, ${(ref.copyBytes / 2 ** 20).toFixed(0)} MiB) ${fmtNum(ref.copyGBs.median)} GB/s [${fmtNum(ref.copyGBs.min)}..${fmtNum(ref.copyGBs.max)}], ` +
    `copyBufferToBuffer ${fmtNum(ref.copyBufferGBs.median)} GB/s, FMA peak ${fmtNum(ref.peakGFLOPs.median)} GFLOP/s [${fmtNum(ref.peakGFLOPs.min)}..${fmtNum(ref.peakGFLOPs.max)}]`);
  if (r.matmul.length) {
    out.push('', `Matmul at the LoRA shapes (m = ${r.plan.m})`);
    out.push(table([
      ['product', 'M x N x K', 'op', 'ours ms', 'GFLOP/s', '% peak', `${peer} ms`, 'GFLOP/s', 'ratio', 'err ours/theirs'],
      ...r.matmul.map((m) => [
        m.name, `${m.M}x${m.N}x${m.K}`, m.op, fmtMs(m.ours), fmtNum(m.oursGFLOPs), fmtNum(m.oursPctPeak, 0), fmtMs(m.theirs), fmtNum(m.theirsGFLOPs),
        m.ratio ? `${fmtNum(m.ratio)}x` : '-', `${m.errOurs.toExponential(0)}/${m.errTheirs?.toExponential(0) ?? '-'}`,
      ]),
    ]));
  }
  if (r.kernels.length) {
    out.push('', `LoRA kernels and AdamW (m = ${r.plan.m}); bound by the roofline of the measured peak and copy bandwidth`);
    out.push(table([
      ['kernel', 'n', 'r', 'ours ms', 'GFLOP/s', 'GB/s', 'bound', '% of ref'],
      ...r.kernels.map((k) => [k.name, `${k.n}`, `${k.rank}`, fmtMs(k.ours), fmtNum(k.gflops), fmtNum(k.gbs), k.bound, `${fmtNum(k.pctOfReference, 0)}% ${k.bound === 'compute' ? 'peak' : 'copy'}`]),
    ]));
  }
  if (r.toy.length) {
    out.push('', `Toy training step (Adam, batch ${r.plan.m}, hidden width n, output 1, rank 4)`);
    out.push(table([
      ['n', 'ours ms/step', 'steps/s', 'CPU ms/step', `${peer} ms/step`, 'steps/s', 'CPU ms/step', 'ratio'],
      ...r.toy.map((t) => [
        `${t.n}`, fmtMs(t.ours), fmtNum(t.oursStepsPerSec, 1), fmtNum(t.oursCpuMs.median, 3), fmtMs(t.theirs), fmtNum(t.theirsStepsPerSec, 1),
        fmtNum(t.theirsCpuMs?.median, 3), t.ratio ? `${fmtNum(t.ratio)}x` : '-',
      ]),
    ]));
    for (const t of r.toy) {
      if (t.profileUnavailable) {
        out.push(`  n=${t.n}: ${t.profileUnavailable}`);
        continue;
      }
      const p = t.profile!;
      out.push('', `  n=${t.n}: GPU time by kernel (timestamp queries, one pass per dispatch, ${p.steps} steps${p.quantized ? '; QUANTIZED timestamps' : ''}): ${fmtNum(p.totalMs / p.steps, 3)} ms/step`);
      out.push(table([
        ['  kernel', 'calls/step', 'ms/step', '%'],
        ...p.kernels.map((k) => [`  ${k.label}`, fmtNum(k.calls / p.steps, 0), fmtNum(k.perStepMs, 3), fmtNum((100 * k.totalMs) / p.totalMs, 1)]),
      ]));
    }
  }
  if (r.parity) {
    const p = r.parity;
    out.push('', `Same loop check (n=${p.n}, full batch of ${p.batch}, same tensors): losses agree to ${p.maxRelDiff.toExponential(1)} (max relative difference over ${p.ours.length} steps)`);
  }
  out.push('', `(${r.seconds.toFixed(0)} s)`);
  return out.join('\n');
}
