// Training batches from a token stream. A window is T + 1 consecutive tokens from a start offset; its
// first T are the inputs, its last T the targets (next-token prediction, every position has a target).
//   random:     each window at a seeded random offset (nanoGPT's sampling)
//   sequential: consecutive windows from the start of the training tokens, window j at j*T (each token is
//               a target once per pass), batch after batch; back to 0 when the next window would not fit
// The held-out batch and evaluation use fixed windows evenly spaced through their stream.
import { Stream } from '../rng.ts';

export type BatchOrder = 'random' | 'sequential';

export interface TokenBatch {
  /** B*T input ids, row-major (sequence b at b*T). */
  tokens: Uint32Array;
  /** B*T next-token ids. */
  targets: Uint32Array;
  /** Where each window starts in the token stream it was cut from. */
  starts?: number[];
}

export function checkTokens(name: string, ids: Uint32Array, vocab: number, minLength: number): void {
  if (ids.length < minLength) throw new Error(`${name} has ${ids.length} tokens; a batch window needs at least ${minLength}`);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= vocab) throw new Error(`${name}: token ${ids[i]} at position ${i} is outside the model's vocabulary (${vocab})`);
  }
}

/** The windows of T + 1 tokens at `starts`, as inputs and targets. */
export function windowsAt(ids: Uint32Array, starts: readonly number[], T: number): TokenBatch {
  const B = starts.length;
  const tokens = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T);
  starts.forEach((s, b) => {
    if (!(Number.isInteger(s) && s >= 0 && s + T + 1 <= ids.length)) throw new Error(`window ${b} at ${s} does not fit ${ids.length} tokens`);
    tokens.set(ids.subarray(s, s + T), b * T);
    targets.set(ids.subarray(s + 1, s + T + 1), b * T);
  });
  return { tokens, targets, starts: [...starts] };
}

export class BatchSampler {
  private readonly stream: Stream;
  /** The next sequential window's start. */
  private cursor = 0;
  constructor(
    private readonly ids: Uint32Array,
    /** Windows per call (batch size x micro-batches). */
    private readonly count: number,
    private readonly T: number,
    seed: number,
    private readonly order: BatchOrder = 'random',
  ) {
    this.stream = new Stream(seed, 'batch');
  }

  next(): TokenBatch {
    const span = this.ids.length - this.T; // starts in [0, span): the window's T + 1 tokens fit
    const starts = Array.from({ length: this.count }, () => {
      if (this.order === 'random') return this.stream.below(span);
      if (this.cursor >= span) this.cursor = 0;
      const s = this.cursor;
      this.cursor += this.T;
      return s;
    });
    return windowsAt(this.ids, starts, this.T);
  }
}

/** `count` window starts evenly spaced through a stream of `length` tokens (windows of T + 1 tokens). */
export function evenlySpacedStarts(length: number, count: number, T: number): number[] {
  const span = length - T;
  return Array.from({ length: count }, (_, b) => Math.floor((b * span) / count));
}

export function fixedBatch(ids: Uint32Array, B: number, T: number): TokenBatch {
  return windowsAt(ids, evenlySpacedStarts(ids.length, B, T), T);
}
