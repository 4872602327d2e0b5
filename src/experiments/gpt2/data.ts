// Training batches from a token stream: B windows of T + 1 consecutive tokens at seeded random offsets
// (nanoGPT's sampling); inputs are a window's first T tokens, targets its last T (next-token prediction,
// every position has a target). The held-out batch is fixed: B windows evenly spaced through the eval stream.
import { Stream } from '../rng.ts';

export interface TokenBatch {
  /** B*T input ids, row-major (sequence b at b*T). */
  tokens: Uint32Array;
  /** B*T next-token ids. */
  targets: Uint32Array;
}

export function checkTokens(name: string, ids: Uint32Array, vocab: number, minLength: number): void {
  if (ids.length < minLength) throw new Error(`${name} has ${ids.length} tokens; a batch window needs at least ${minLength}`);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= vocab) throw new Error(`${name}: token ${ids[i]} at position ${i} is outside the model's vocabulary (${vocab})`);
  }
}

function windows(ids: Uint32Array, starts: number[], T: number): TokenBatch {
  const B = starts.length;
  const tokens = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T);
  starts.forEach((s, b) => {
    tokens.set(ids.subarray(s, s + T), b * T);
    targets.set(ids.subarray(s + 1, s + T + 1), b * T);
  });
  return { tokens, targets };
}

export class BatchSampler {
  private readonly stream: Stream;
  constructor(
    private readonly ids: Uint32Array,
    private readonly B: number,
    private readonly T: number,
    seed: number,
  ) {
    this.stream = new Stream(seed, 'batch');
  }

  next(): TokenBatch {
    const span = this.ids.length - this.T; // starts in [0, span): the window's T + 1 tokens fit
    return windows(this.ids, Array.from({ length: this.B }, () => this.stream.below(span)), this.T);
  }
}

export function fixedBatch(ids: Uint32Array, B: number, T: number): TokenBatch {
  const span = ids.length - T;
  return windows(ids, Array.from({ length: B }, (_, b) => Math.floor((b * span) / B)), T);
}
