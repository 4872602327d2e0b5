// The headless runner: the same engine as the page, on Dawn (a real GPU, or SwiftShader without one).
//   npm run --silent cli -- train [--json|--csv] [--tensors FILE.json] [experiment flags]
//   npm run --silent cli -- export-tensors --out FILE.json [experiment flags]
//   npm run --silent cli -- show BUNDLE [--json]
import { flagHelp, UsageError } from './args.ts';
import { exportTensorsCommand } from './exportTensors.ts';
import { SHOW_SUMMARY, showCommand } from './show.ts';
import { SWEEP_SUMMARY, sweepCommand } from './sweep.ts';
import { trainCommand } from './train.ts';

type Command = (argv: string[]) => Promise<string>;

export const COMMANDS: Record<string, { run: Command; summary: string }> = {
  train: { run: trainCommand, summary: 'train one toy run; prints {"steps":[...],"final":{A,B},"diverged":null|step} (--csv for a table, --tensors FILE to train from an exchange file, --out FILE a result bundle)' },
  sweep: { run: sweepCommand, summary: SWEEP_SUMMARY },
  'export-tensors': { run: exportTensorsCommand, summary: 'write the tensor exchange file of a seeded configuration (--out FILE.json)' },
  gpt2: { run: (argv) => import('./gpt2.ts').then((m) => m.gpt2Command(argv)), summary: 'LoRA-fine-tune GPT-2 (--model distilgpt2|gpt2|tiny, --random weights, --plan for memory only, --out FILE a result bundle with the PEFT adapter; flags in src/cli/gpt2.ts)' },
  show: { run: showCommand, summary: SHOW_SUMMARY },
};

function usage(): string {
  return [
    'usage: npm run --silent cli -- <command> [flags]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`),
    '',
    'experiment flags:',
    flagHelp(),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`error: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    process.stdout.write((await command.run(rest)) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

// Dawn keeps the event loop alive; exit explicitly once stdout is flushed.
main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
