// `cli selfcheck [--json] [--only SUBSTRING,...]`: the self-check (src/selfcheck/suite.ts) on this machine's
// adapter. Prints the adapter (name, vendor, architecture, limits, features) and one line per check (pass or
// FAIL, max relative error, tolerance); exit code 1 when any check fails.
// --json prints {adapter, checks: [{name, family, pass, maxRelError, tolerance, seconds, detail}], pass, seconds}
// (maxRelError is null where the error was not finite: NaN, or a write out of bounds).
import { FAILED_KERNEL_ADVICE } from '../selfcheck/families.ts';
import { runSelfcheck, selfcheckPlan, type SelfcheckOptions, type SelfcheckReport } from '../selfcheck/suite.ts';
import { nodeGpuHost } from '../gpu/node.ts';
import { UsageError } from './args.ts';
import type { CommandResult } from './main.ts';

function parse(argv: string[]): { json: boolean; only?: string[] } {
  let json = false;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    if (name === '--json' && inline === undefined) json = true;
    else if (name === '--only') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError('--only needs a comma-separated list of check name parts, e.g. --only matmul,adamw');
      only = value.split(',').filter(Boolean);
    } else if (name.startsWith('--')) throw new UsageError(`unknown flag ${name} (selfcheck takes --json and --only)`);
    else throw new UsageError(`unexpected argument "${argv[i]}"`);
  }
  return { json, only };
}

const num = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x));

export function formatReport(r: SelfcheckReport): string {
  const a = r.adapter;
  const lines = [
    `adapter: ${a.name}${a.software ? ' (software)' : ''}`,
    `  vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}, description ${a.description || '?'}`,
    `  limits: ${Object.entries(a.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  features: ${a.features.join(', ') || 'none'}`,
    '',
  ];
  const width = Math.max(5, ...r.checks.map((c) => c.name.length));
  lines.push(`${'check'.padEnd(width)}  result  max rel err  tolerance  seconds`);
  for (const c of r.checks) {
    lines.push(`${c.name.padEnd(width)}  ${c.pass ? 'pass  ' : 'FAIL  '}  ${num(c.maxRelError).padStart(11)}  ${num(c.tolerance).padStart(9)}  ${c.seconds.toFixed(2).padStart(7)}`);
  }
  const failed = r.checks.filter((c) => !c.pass);
  lines.push('', `${r.checks.length} check${r.checks.length === 1 ? '' : 's'}: ${r.checks.length - failed.length} passed, ${failed.length} failed, in ${r.seconds.toFixed(1)} s`);
  if (failed.length) {
    lines.push('', 'failed:');
    for (const c of failed) lines.push(`  ${c.family}: ${c.name}: ${c.detail}`);
    lines.push('', FAILED_KERNEL_ADVICE);
  }
  return lines.join('\n');
}

/** `opts.read` replaces how results are read back (the self-check's test plants a wrong value there). */
export async function selfcheckCommand(argv: string[], opts: Pick<SelfcheckOptions, 'read'> = {}): Promise<CommandResult> {
  const args = parse(argv);
  if (args.only && !selfcheckPlan().some((c) => args.only!.some((part) => c.name.includes(part)))) throw new UsageError(`--only ${args.only.join(',')} matches no check`);
  const host = nodeGpuHost();
  const report = await runSelfcheck(host, {
    ...opts,
    only: args.only,
    onProgress: (done, total, row) => process.stderr.write(`[${done}/${total}] ${row.pass ? 'pass' : 'FAIL'} ${row.name}\n`),
  });
  return { output: args.json ? JSON.stringify(report) : formatReport(report), exitCode: report.pass ? 0 : 1 };
}
