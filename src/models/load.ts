// One call for the UI: download (or read from cache) a GPT-2 model from the hub and return validated weights.

import { GPT2_MODELS, GPT2_MODEL_FILES, loadGpt2, type Gpt2ModelId, type Gpt2Weights } from './gpt2.ts';
import { downloadRepoFiles, type RepoDownloadOptions } from './hub.ts';

/**
 * Fetches config.json and model.safetensors of a known model (or any GPT-2 repo id) with progress and
 * caching, then parses and checks them. Throws HubError for download problems, SafetensorsError /
 * Gpt2Error for a file that is not a GPT-2 checkpoint.
 */
export async function downloadGpt2(model: Gpt2ModelId | { repo: string }, opts: RepoDownloadOptions = {}): Promise<Gpt2Weights> {
  const repo = typeof model === 'string' ? GPT2_MODELS[model].repo : model.repo;
  const files = await downloadRepoFiles(repo, GPT2_MODEL_FILES, opts);
  const configText = new TextDecoder().decode(files.get('config.json')!);
  let configJson: unknown;
  try {
    configJson = JSON.parse(configText);
  } catch {
    throw new Error(`${repo}/config.json is not valid JSON`);
  }
  return loadGpt2(configJson, files.get('model.safetensors')!);
}
