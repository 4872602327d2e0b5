// Shared helpers for the toy-experiment tests: the self-check's toy runs (src/selfcheck/toyRuns.ts) on
// the test host.
import type { ToyConfig } from '../../src/experiments/toy/config.ts';
import type { ToyTensors } from '../../src/experiments/toy/data.ts';
import type { BatchRun, ToyBatchOptions } from '../../src/experiments/sweep/batchTrainer.ts';
import { trainBatch as trainBatchOn, trainSingle } from '../../src/selfcheck/toyRuns.ts';
import { testHost } from '../gpu.ts';

export { close, refConfig, refTensors, smallConfig } from '../../src/selfcheck/toyRuns.ts';

export const runGpu = (config: ToyConfig, tensors?: ToyTensors) => trainSingle(testHost(), config, tensors);

export const trainBatch = (config: ToyConfig, runs: BatchRun[], opts: ToyBatchOptions = {}) => trainBatchOn(testHost(), config, runs, opts);
