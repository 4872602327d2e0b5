// Files `cli gpt2` reads and writes besides the text: a model folder's config.json (read before the
// weights, so the memory plan is the loaded model's), a PEFT adapter folder in (--adapter DIR) and out
// (--save-adapter DIR). Every failure is a UsageError naming the flag, the folder and what is wrong.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterConflicts, adapterRunSettings, loadAdapter, type AdapterFolder, type LoadedAdapter } from '../experiments/gpt2/adapterFiles.ts';
import type { Gpt2Key, Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { parseGpt2Config, type Gpt2Config } from '../models/gpt2.ts';
import { kebab, UsageError } from './args.ts';

const reason = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** adapter_config.json + adapter_model.safetensors of a PEFT folder, checked against the model. */
export function readAdapterDir(dir: string, model: Gpt2Config): LoadedAdapter {
  let config: string, weights: Uint8Array;
  try {
    config = readFileSync(join(dir, 'adapter_config.json'), 'utf8');
    weights = readFileSync(join(dir, 'adapter_model.safetensors'));
  } catch (e) {
    throw new UsageError(`--adapter ${dir}: ${reason(e)} (a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors)`);
  }
  try {
    return loadAdapter(model, config, weights);
  } catch (e) {
    throw new UsageError(`--adapter ${dir}: ${(e as Error).message}`);
  }
}

/**
 * The run with the adapter's r, lora_alpha, use_rslora and target_modules (and its lora_dropout unless
 * --lora-dropout was given). A flag given that contradicts the adapter is refused with both values.
 */
export function runWithAdapter(run: Gpt2RunConfig, given: ReadonlySet<Gpt2Key | 'targets'>, adapter: LoadedAdapter, dir: string): Gpt2RunConfig {
  const flags: Partial<Gpt2RunConfig> = {};
  for (const k of ['rank', 'alpha', 'rslora', 'targets'] as const) if (given.has(k)) (flags as Record<string, unknown>)[k] = run[k];
  const bad = adapterConflicts(adapter.settings, flags)[0];
  if (bad) {
    throw new UsageError(`--${kebab(bad.key)} ${bad.given} contradicts the adapter's ${bad.peftKey} = ${bad.adapter} (${join(dir, 'adapter_config.json')}); leave --${kebab(bad.key)} out or give ${bad.adapter}`);
  }
  return { ...run, ...adapterRunSettings(adapter.settings), loraDropout: given.has('loraDropout') ? run.loraDropout : adapter.settings.loraDropout ?? 0 };
}

/** Writes the adapter folder (created if needed). */
export function writeAdapterDir(dir: string, folder: AdapterFolder): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(folder)) writeFileSync(join(dir, name), data);
  } catch (e) {
    throw new UsageError(`--save-adapter ${dir}: ${reason(e)}`);
  }
}
