// The tiny GPT-2 the GPT-2 tests and the self-check train: d = 32, 2 layers, 4 heads, vocab 320, read back
// from a real safetensors file (src/reference/tinyGpt2.ts), adapters with both A and B nonzero (so every
// gradient is nontrivial), and batches at awkward sizes (T = 13: not a multiple of any tile, vector width
// or workgroup).
import { defaultGpt2RunConfig, PLAIN_TRAINING, gpt2LoraScale, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import type { TokenBatch } from '../experiments/gpt2/data.ts';
import { LORA_TARGETS, loadGpt2, targetDims, type Gpt2Weights, type LoraTarget } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import type { RefAdapter } from '../reference/gpt2Reference.ts';
import { FixtureRng, makeTinyGpt2 } from '../reference/tinyGpt2.ts';

export function tinyWeights(seed = 3): Gpt2Weights {
  const tiny = makeTinyGpt2(seed);
  return loadGpt2(tiny.configJson, tiny.safetensorsBytes);
}

/** The tiny run of the tests and the self-check: plain training (no dropout, clipping or schedule) unless `over` asks for them. */
export function tinyRun(over: Partial<Gpt2RunConfig> = {}): Gpt2RunConfig {
  return { ...defaultGpt2RunConfig(), ...PLAIN_TRAINING, rank: 3, alpha: 5, seq: 13, batch: 2, steps: 10, evalEvery: 0, eta: 1e-2, targets: [...LORA_TARGETS], ...over };
}

/** A and B both random, O(1/sqrt(fan_in)), so Z_B, dA and dB are all nonzero. */
export function randomAdapters(w: Gpt2Weights, run: Gpt2RunConfig, seed = 11): LoraWeights[] {
  const rng = new FixtureRng(seed);
  const out: LoraWeights[] = [];
  for (let layer = 0; layer < w.config.n_layer; layer++) {
    for (const target of run.targets) {
      const d = targetDims(w.config, target);
      out.push({ layer, target, A: rng.gaussian(run.rank * d.in, 1 / Math.sqrt(d.in)), B: rng.gaussian(d.out * run.rank, 1 / Math.sqrt(run.rank)) });
    }
  }
  return out;
}

export function refAdapters(adapters: readonly LoraWeights[], run: Gpt2RunConfig): RefAdapter[] {
  return adapters.map((a) => ({ layer: a.layer, target: a.target as LoraTarget, A: a.A, B: a.B, rank: run.rank, scale: gpt2LoraScale(run) }));
}

/** Seeded token ids below `vocab`, shaped B x T, with next-token targets. */
export function randomBatch(vocab: number, B: number, T: number, seed = 5): TokenBatch {
  const rng = new FixtureRng(seed);
  const ids = Uint32Array.from({ length: B * (T + 1) }, () => rng.u32() % vocab);
  const tokens = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T);
  for (let b = 0; b < B; b++) {
    tokens.set(ids.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(ids.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { tokens, targets };
}

/** A token stream with structure to learn: a repeating pseudo-random phrase (so the loss can fall fast). */
export function patternStream(vocab: number, length: number, period = 17, seed = 9): Uint32Array {
  const rng = new FixtureRng(seed);
  const phrase = Uint32Array.from({ length: period }, () => rng.u32() % vocab);
  return Uint32Array.from({ length }, (_, i) => phrase[i % period]);
}
