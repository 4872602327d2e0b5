// `cli export-tensors --out FILE.json [experiment flags]`: the exchange file of a seeded configuration.
// Refused before any work when the teacher's targets would not fit the GPU or the file would not fit
// the disk; written in pieces (a large width is more text than one string holds), renamed into place.
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { drawToyTensors, exchangeNumbers, writeExchange } from '../experiments/toy/data.ts';
import { checkFits } from '../experiments/toy/plan.ts';
import { withTeacherTargets } from '../experiments/toy/trainer.ts';
import { parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { assertNoGpuErrors, openGpu, refuse } from './gpu.ts';
import { writeOutput } from './paths.ts';

const EXPORT_OPTIONS: OptionSpecs = { out: { kind: 'out-file' }, 'memory-budget-mib': false };
/** Bytes of text per number in the file (a float32 printed as the shortest double: "-0.12345678901234567"). */
const BYTES_PER_NUMBER = 21;

export async function exportTensorsCommand(argv: string[]): Promise<string> {
  const args = parseArgs(argv, EXPORT_OPTIONS);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new UsageError('export-tensors needs --out FILE.json');
  const config = args.config;
  const fileBytes = exchangeNumbers(config) * BYTES_PER_NUMBER;
  const disk = statfsSync(dirname(resolve(out)));
  const free = disk.bavail * disk.bsize;
  if (fileBytes > free) throw new UsageError(`--out: the file would be about ${(fileBytes / 2 ** 20).toFixed(0)} MiB but its disk has ${(free / 2 ** 20).toFixed(0)} MiB free`);
  const gpu = await openGpu(args.options);
  refuse(checkFits(gpu.ctx, config, gpu.budget), 'computing the teacher\'s targets', 'lower --n, --n-train or --n-test');
  const tensors = await withTeacherTargets(gpu.ctx, config, drawToyTensors(config));
  assertNoGpuErrors(gpu.host);
  for (const [name, y] of [['Y_train', tensors.Y_train!], ['Y_test', tensors.Y_test!]] as const) {
    const bad = y.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`the teacher's ${name}[${bad}] is ${y[bad]}: not written`);
  }
  writeOutput('--out', out, (write) => writeExchange(config, tensors, write));
  return `wrote ${out}`;
}
