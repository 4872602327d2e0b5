// `cli show BUNDLE [--json]`: what a result bundle holds, without recomputing anything: one line per run
// (settings, status, steps, final loss, adapter, engine version), or the same as JSON.
import { bundleSummary, type Bundle } from '../results/bundle.ts';
import { lastFinite } from '../results/records.ts';
import { UsageError } from './args.ts';
import { readBundleFile } from './bundleFile.ts';

export const SHOW_SUMMARY = 'print what a result bundle holds (written by --out or the page\'s Bundle buttons): show FILE [--json]';

function jsonSummary(b: Bundle): unknown {
  const head = { kind: b.kind, createdAt: b.createdAt, title: b.title };
  if (b.kind === 'sweep') {
    const s = b.sweep;
    return { ...head, sweep: { id: s.id, status: s.status, adapter: s.adapter, engineVersion: s.engineVersion, spec: s.spec, runs: s.runs.length, timing: s.timing } };
  }
  return {
    ...head,
    runs: b.runs.map((r) => ({
      id: r.id, kind: r.kind, status: r.status, divergedAt: r.divergedAt, steps: r.trace.step.length, finalLoss: lastFinite(r.trace.loss), adapter: r.adapter, engineVersion: r.engineVersion, config: r.config,
      ...(r.kind === 'toy' ? { finalTensors: r.final !== null } : { model: r.model, peftAdapterStep: r.weights?.step ?? null }),
    })),
  };
}

export async function showCommand(argv: string[]): Promise<string> {
  const files = argv.filter((a) => !a.startsWith('--'));
  const flags = argv.filter((a) => a.startsWith('--'));
  for (const f of flags) if (f !== '--json') throw new UsageError(`unknown flag ${f} (show takes a bundle file and --json)`);
  if (files.length !== 1) throw new UsageError(files.length ? 'show takes one bundle file' : 'show needs a bundle file: show FILE [--json]');
  const bundle = await readBundleFile(files[0]);
  return flags.length ? JSON.stringify(jsonSummary(bundle)) : bundleSummary(bundle).join('\n');
}
