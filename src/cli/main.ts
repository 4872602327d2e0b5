// The headless runner: the same engine as the page, on Dawn (a real GPU, or SwiftShader without one).
//   npm run --silent cli -- train [--json|--csv] [--tensors FILE.json] [experiment flags]
//   npm run --silent cli -- export-tensors --out FILE.json [experiment flags]
//   npm run --silent cli -- show BUNDLE [--json]
//
// How a command ends: its result on stdout and exit 0; or one line "error: ..." on stderr and exit 2 for
// what the user asked for (UsageError: a bad flag or file, a configuration that will not fit), 1 for a
// fault (the GPU, the file system, a bug). No stack trace unless --verbose. The user's process only
// supervises a worker that runs the command, so that Dawn's own output stays out (supervisor.ts).
import { flagHelp, UsageError } from './args.ts';
import { quote } from '../experiments/untrusted.ts';
import { isTolerated } from './errors.ts';
import { exportTensorsCommand } from './exportTensors.ts';
import { SHOW_SUMMARY, showCommand } from './show.ts';
import { exitWorker, isWorker, routeWorkerOutput, supervise } from './supervisor.ts';
import { SWEEP_SUMMARY, sweepCommand } from './sweep.ts';
import { trainCommand } from './train.ts';

/** What a command prints on stdout, and its exit code when that is not 0 (selfcheck: 1 on a failed check). */
export interface CommandResult {
  output: string;
  exitCode: number;
}

type Command = (argv: string[]) => Promise<string | CommandResult>;

export const COMMANDS: Record<string, { run: Command; summary: string }> = {
  train: { run: trainCommand, summary: 'train one toy run; prints {"steps":[...],"final":{A,B},"diverged":null|step} (--csv for a table, --tensors FILE to train from an exchange file, --out FILE a result bundle)' },
  sweep: { run: sweepCommand, summary: SWEEP_SUMMARY },
  'export-tensors': { run: exportTensorsCommand, summary: 'write the tensor exchange file of a seeded configuration (--out FILE.json)' },
  gpt2: { run: (argv) => import('./gpt2.ts').then((m) => m.gpt2Command(argv)), summary: 'LoRA-fine-tune GPT-2 (--model distilgpt2|gpt2|tiny, --random weights, --plan for memory only, --out FILE a result bundle with the PEFT adapter; flags in src/cli/gpt2.ts)' },
  show: { run: showCommand, summary: SHOW_SUMMARY },
  selfcheck: { run: (argv) => import('./selfcheck.ts').then((m) => m.selfcheckCommand(argv)), summary: 'check every kernel and variant on this adapter against the float64 reference (--json; exit 1 when a check fails)' },
};

function usage(): string {
  return [
    'usage: npm run --silent cli -- <command> [flags]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`),
    '',
    'every command: --verbose shows Dawn\'s own messages (adapter probing, device logs) and stack traces',
    '',
    'experiment flags:',
    flagHelp(),
  ].join('\n');
}

/** The one line an error is reported as: its first line, without Dawn's " - While calling ..." context. */
export function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].trim() || (e instanceof Error ? e.name : 'unknown error');
}

/** Exit code of an error: 2 for what the user asked for, 1 for a fault. */
export const exitCodeOf = (e: unknown): 1 | 2 => (e instanceof UsageError ? 2 : 1);

function fail(e: unknown, verbose: boolean): number {
  const internal = !(e instanceof Error) || e.name === 'TypeError' || e.name === 'RangeError' || e.name === 'ReferenceError';
  process.stderr.write(`error: ${internal ? 'internal error: ' : ''}${errorLine(e)}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return exitCodeOf(e);
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const [name, ...rest] = argv.filter((a) => a !== '--verbose');
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    if (name) return 0;
    process.stderr.write('error: give a command (the list is above)\n');
    return 2;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`error: unknown command ${quote(name, 40)} (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    const result = await COMMANDS[name].run(rest);
    const { output, exitCode } = typeof result === 'string' ? { output: result, exitCode: 0 } : result;
    process.stdout.write(output + '\n');
    return exitCode;
  } catch (e) {
    return fail(e, verbose);
  }
}

/** The worker: runs the command; its output goes to the supervisor's pipes. */
function run(argv: string[]): void {
  routeWorkerOutput();
  const verbose = argv.includes('--verbose');
  const die = (e: unknown) => {
    if (isTolerated(e)) return;
    exitWorker(fail(e, verbose));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // Dawn keeps the event loop alive: exit explicitly (outputs are written synchronously).
  main(argv).then(exitWorker, die);
}

/** The CLI's entry: the supervisor, or (in the process it starts, from the same entry) the worker. */
export function startCli(argv: string[]): void {
  if (isWorker()) run(argv);
  else supervise(argv);
}

if (process.argv[1] && /main\.ts$/.test(process.argv[1])) startCli(process.argv.slice(2));
