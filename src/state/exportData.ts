// Exports of the visible runs' full traces (never the downsampled views): CSV in long form, one row
// per run and step, and JSON with each run's settings, its share link and every step.
import { TOY_KEYS } from '../experiments/toy/config.ts';
import { METRIC_FIELDS } from '../experiments/toy/metrics.ts';
import { describeRuns } from './describe.ts';
import { averageStepsPerSecond, type Run } from './runsStore.ts';

export const EXPORT_FORMAT = 'lora-playground-runs';

function label(runs: readonly Run[]): string[] {
  return describeRuns(runs.map((r) => r.config)).labels;
}

export function runsToCsv(runs: readonly Run[]): string {
  const labels = label(runs);
  const cols = ['run', 'label', ...METRIC_FIELDS, ...TOY_KEYS];
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [cols.join(',')];
  runs.forEach((run, i) => {
    const settings = TOY_KEYS.map((k) => esc(String(run.config[k])));
    for (const row of run.trace.rows()) {
      const metrics = METRIC_FIELDS.map((f) => (row[f] === undefined ? '' : String(row[f])));
      lines.push([String(run.id), esc(labels[i]), ...metrics, ...settings].join(','));
    }
  });
  return lines.join('\n') + '\n';
}

export function runsToJson(runs: readonly Run[], link: string): string {
  const labels = label(runs);
  return JSON.stringify({
    format: EXPORT_FORMAT,
    version: 1,
    link,
    runs: runs.map((run, i) => ({
      id: run.id,
      label: labels[i],
      config: run.config,
      status: run.status,
      divergedAt: run.divergedAt ?? null,
      stepsPerSecond: Number(averageStepsPerSecond(run).toFixed(2)),
      steps: run.trace.rows(),
    })),
  });
}
