// Loss and perplexity of the model with its adapters over a text, without training: windows of seq + 1
// tokens at fixed, evenly spaced offsets (data.ts evenlySpacedStarts), `batch` windows per forward, in
// evaluation mode (no dropout). The mean is over every predicted token; perplexity is its exp.
import { evenlySpacedStarts, windowsAt } from './data.ts';
import type { Gpt2Trainer } from './trainer.ts';

export interface TextEvaluation {
  loss: number;
  perplexity: number;
  /** Window starts (token offsets into the text) and each window's mean loss. */
  starts: number[];
  perWindow: number[];
  seq: number;
}

/** At most `windows` windows (fewer when the text holds fewer non-overlapping ones). */
export async function evaluateText(trainer: Gpt2Trainer, ids: Uint32Array, windows: number): Promise<TextEvaluation> {
  const { seq: T, batch: B } = trainer.config;
  if (ids.length < T + 1) throw new Error(`the text has ${ids.length} tokens; a window of ${T} needs ${T + 1}`);
  const count = Math.max(1, Math.min(Math.floor(windows), Math.floor((ids.length - 1) / T)));
  const starts = evenlySpacedStarts(ids.length, count, T);
  const perWindow: number[] = [];
  for (let b = 0; b < count; b += B) {
    const chunk = starts.slice(b, b + B);
    // The last forward is filled up with the first window of its chunk; only real windows are counted.
    const padded = [...chunk, ...Array<number>(B - chunk.length).fill(chunk[0])];
    const { losses } = await trainer.evaluate(windowsAt(ids, padded, T), { logits: false });
    chunk.forEach((_, i) => perWindow.push(losses.subarray(i * T, (i + 1) * T).reduce((a, x) => a + x, 0) / T));
  }
  const loss = perWindow.reduce((a, x) => a + x, 0) / perWindow.length;
  return { loss, perplexity: Math.exp(loss), starts, perWindow, seq: T };
}
