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
