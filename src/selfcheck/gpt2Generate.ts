// Generation with a KV cache (experiments/gpt2/generate.ts: one row per token through the decoding
// kernels, embed_at and the cache's attention) against generation without one: the engine's own full
// forward over each window (the training graph, Gpt2Trainer.evaluate), which must choose the same tokens,
// greedy and sampled, also across a restart of the window; and the logits each cached token is chosen
// from against the float64 forward over the same window (reference/gpt2Reference.ts), to 2e-5 of their
// scale (the plain step's bound for logits, gpt2Step.ts).
//
// Two fp32 paths with different summation orders choose different tokens only at a near tie (top logits
// within ~1e-6, or a sample's uniform draw that close to a boundary), which the fixed fixtures here avoid.
import type { GpuContext } from '../gpu/device.ts';
import type { Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { sampleToken, windowStart } from '../experiments/gpt2/generate.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import { Stream } from '../experiments/rng.ts';
import type { Gpt2Weights } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import { gpt2Reference } from '../reference/gpt2Reference.ts';
import { Compare, type CheckResult } from './compare.ts';
import { patternStream, randomAdapters, refAdapters } from './gpt2Fixture.ts';

export interface GenerationCase {
  prompt: readonly number[];
  newTokens: number;
  /** 0: greedy. */
  temperature: number;
  topK: number;
  seed: number;
}

/**
 * Each case generated with the cache and without it, by a trainer of `run` with `adapters`. The model's
 * window (n_positions) must fit one sequence of the run, which the uncached forward runs it as.
 */
export async function checkCachedGeneration(ctx: GpuContext, w: Gpt2Weights, run: Gpt2RunConfig, cases: readonly GenerationCase[], adapters: readonly LoraWeights[] = randomAdapters(w, run)): Promise<{ result: CheckResult; ids: number[][] }> {
  const V = w.config.vocab_size;
  const P = w.config.n_positions;
  if (P > run.seq) throw new Error(`checkCachedGeneration: windows of up to ${P} tokens do not fit sequences of ${run.seq}`);
  const ref = refAdapters(adapters, run);
  const N = run.batch * run.seq;
  const trainer = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters });
  try {
    const cmp = new Compare();
    const ids: number[][] = [];
    for (const c of cases) {
      const what = c.temperature > 0 ? `sampled (temperature ${c.temperature}, top ${c.topK})` : 'greedy';
      const cachedLogits: Float32Array[] = [];
      const cached = await trainer.generate(c.prompt, { maxNewTokens: c.newTokens, temperature: c.temperature, topK: c.topK, seed: c.seed, onLogits: (l) => cachedLogits.push(l.slice()) });
      // Without a cache: each window as the first sequence of a batch (the rest padding, which causal attention ignores).
      const context = [...c.prompt];
      let start = windowStart(0, context.length, P);
      const stream = new Stream(c.seed, 'sample');
      const uncached: number[] = [];
      for (let i = 0; i < c.newTokens; i++) {
        const win = context.slice(start);
        const tokens = new Uint32Array(N);
        tokens.set(win);
        const { logits } = await trainer.evaluate({ tokens, targets: new Uint32Array(N) });
        const id = sampleToken(logits.subarray((win.length - 1) * V, win.length * V), c.temperature, c.topK, stream);
        if (cachedLogits[i]) {
          const want = gpt2Reference(w, ref, win, new Uint32Array(win.length), 1, win.length).logits;
          cmp.tensor(`${what}: logits of new token ${i + 1} (window of ${win.length} from ${start})`, cachedLogits[i], want.subarray((win.length - 1) * V), 2e-5);
        }
        uncached.push(id);
        context.push(id);
        start = windowStart(start, context.length, P);
      }
      cmp.exact(`${what}: tokens with the cache = without`, cached.ids, uncached);
      ids.push(cached.ids);
    }
    return { result: cmp.result(), ids };
  } finally {
    trainer.destroy();
  }
}
