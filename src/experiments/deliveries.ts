// What a session does with each batch of metrics rows the GPU ring delivers, the same for the toy and
// GPT-2: spot divergence, and keep a recent step rate.

/** A run diverges when the loss is non-finite or above 1e6 times its first value (lora-math.md section 4). */
export class DivergenceWatch {
  private first: number | undefined;
  /** Returns the index in `rows` of the first diverged row, or -1. */
  check(rows: ReadonlyArray<{ step: number; loss: number }>): number {
    for (let i = 0; i < rows.length; i++) {
      const loss = rows[i].loss;
      if (this.first === undefined && rows[i].step === 1) this.first = loss;
      if (!Number.isFinite(loss) || (this.first !== undefined && Number.isFinite(this.first) && loss > 1e6 * this.first)) return i;
    }
    return -1;
  }
}

/** Steps per second over the deliveries of the last `windowMs` (at least the last two). */
export class StepRate {
  private window: Array<[number, number]> = []; // (time ms, step)

  constructor(private readonly windowMs: number) {}

  push(step: number, t = now()): void {
    this.window.push([t, step]);
    while (this.window.length > 2 && t - this.window[0][0] > this.windowMs) this.window.shift();
  }

  reset(): void {
    this.window = [];
  }

  get stepsPerSecond(): number {
    const w = this.window;
    if (w.length < 2) return 0;
    const [t0, s0] = w[0];
    const [t1, s1] = w[w.length - 1];
    return t1 > t0 ? ((s1 - s0) * 1000) / (t1 - t0) : 0;
  }
}

export function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
