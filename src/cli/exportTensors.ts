// `cli export-tensors --out FILE.json [experiment flags]`: the exchange file of a seeded configuration.
import { writeFileSync } from 'node:fs';
import { drawToyTensors, toExchange } from '../experiments/toy/data.ts';
import { withTeacherTargets } from '../experiments/toy/trainer.ts';
import { nodeGpuContext } from '../gpu/node.ts';
import { parseArgs, UsageError } from './args.ts';

export async function exportTensorsCommand(argv: string[]): Promise<string> {
  const args = parseArgs(argv, { out: false });
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new UsageError('export-tensors needs --out FILE.json');
  const ctx = await nodeGpuContext();
  const tensors = await withTeacherTargets(ctx, args.config, drawToyTensors(args.config));
  try {
    writeFileSync(out, JSON.stringify(toExchange(args.config, tensors)));
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return `wrote ${out}`;
}
