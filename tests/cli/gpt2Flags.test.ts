// `cli gpt2`'s model-dependent checks (issues 16, 17), in this process: the built-in tiny model's defaults
// fit it; --plan plans for the model the weights folder holds (its config.json, its positions) and says
// what does not fit; a weights folder whose vocabulary is not GPT-2's is refused before any work.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyGpt2 } from '../../src/reference/tinyGpt2.ts';
import { expectRefusal, messageLines, runInProcess } from './harness.ts';

const tiny = makeTinyGpt2();
const dir = mkdtempSync(join(tmpdir(), 'lora-gpt2-'));
const weights = join(dir, 'w');
mkdirSync(weights);
writeFileSync(join(weights, 'config.json'), JSON.stringify({ ...tiny.configJson, n_positions: 48, n_ctx: 48 }));
writeFileSync(join(weights, 'model.safetensors'), makeTinyGpt2(1, { d: 32, layers: 2, heads: 4, vocab: 320, positions: 48 }).safetensorsBytes);

describe('cli gpt2: the model decides', () => {
  it('the tiny model with its defaults: the sequence fits its 64 positions, and it trains', async () => {
    const plan = await runInProcess(['gpt2', '--model', 'tiny', '--plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout);
    expect(p).toMatchObject({ model: 'tiny', fits: true, problems: [], config: { seq: 64 } });
    const run = await runInProcess(['gpt2', '--model', 'tiny', '--steps', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).steps.map((s: { step: number }) => s.step)).toEqual([1, 2]);
  });

  it('--plan with --weights plans for the folder\'s model: its config and its positions', async () => {
    const fits = await runInProcess(['gpt2', '--weights', weights, '--plan', '--json']);
    expect(fits.code, fits.stderr).toBe(0);
    expect(JSON.parse(fits.stdout)).toMatchObject({ model: weights, fits: true, modelConfig: { n_embd: 32, n_layer: 2, n_positions: 48, vocab_size: 320 }, config: { seq: 48 } });
    const long = await runInProcess(['gpt2', '--weights', weights, '--seq', '100', '--plan', '--json']);
    expect(long.code, long.stderr).toBe(0);
    const out = JSON.parse(long.stdout);
    expect(out.fits).toBe(false);
    expect(out.problems[0]).toBe("Sequence length 100 exceeds the model's 48 positions");
    expect(messageLines(long.stderr)).toEqual([]);
  });

  it('a run asked for more than the model has is refused before any work', async () => {
    expectRefusal(await runInProcess(['gpt2', '--weights', weights, '--seq', '100']), /^error: Sequence length 100 exceeds the model's 48 positions$/);
    // The folder's vocabulary (320) cannot hold GPT-2's tokens: the text is refused, not silently clipped.
    expectRefusal(await runInProcess(['gpt2', '--weights', weights, '--steps', '1']), /the text's token \d+ is outside the model's vocabulary \(320\)/);
  });
});
