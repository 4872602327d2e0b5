// A run's full metric history, kept in growable typed arrays (append-only, one column per metric):
// 10^5 steps cost a few MB and appending is O(1). Charts read downsampled views of it (series.ts);
// exports read all of it.
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import { compactColumn } from '../results/columns.ts';
import { TOY_DENSE, type ToyTraceColumns } from '../results/records.ts';

/** Per-step metrics, in the order of StepMetrics (the test loss lives in its own sparse columns). */
export const DENSE_FIELDS = TOY_DENSE;
export type DenseField = (typeof DENSE_FIELDS)[number];
export type TraceField = DenseField | 'testLoss';

class Column {
  data = new Float64Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export class Trace {
  private readonly steps = new Column();
  private readonly dense = Object.fromEntries(DENSE_FIELDS.map((f) => [f, new Column()])) as Record<DenseField, Column>;
  private readonly testSteps = new Column();
  private readonly testLoss = new Column();

  /** Rows must arrive in step order (the engine guarantees it); repeats and gaps are ignored/kept as is. */
  append(rows: readonly StepMetrics[]): void {
    for (const r of rows) {
      if (this.steps.length && r.step <= this.steps.data[this.steps.length - 1]) continue;
      this.steps.push(r.step);
      for (const f of DENSE_FIELDS) this.dense[f].push(r[f]);
      if (r.testLoss !== undefined) {
        this.testSteps.push(r.step);
        this.testLoss.push(r.testLoss);
      }
    }
  }

  get length(): number {
    return this.steps.length;
  }

  get lastStep(): number {
    return this.steps.length ? this.steps.data[this.steps.length - 1] : 0;
  }

  /** Steps and values of one metric (views into the live arrays: copy before keeping). */
  series(field: TraceField): { steps: Float64Array; values: Float64Array } {
    if (field === 'testLoss') return { steps: this.testSteps.view(), values: this.testLoss.view() };
    return { steps: this.steps.view(), values: this.dense[field].view() };
  }

  /** Rows from index `from` on as stored columns (run history, bundles): exact copies. */
  columns(from = 0): ToyTraceColumns {
    const out = { step: compactColumn(this.steps.view().subarray(from)) } as ToyTraceColumns;
    for (const f of DENSE_FIELDS) out[f] = compactColumn(this.dense[f].view().subarray(from));
    const first = from < this.steps.length ? this.steps.data[from] : Infinity;
    let t = this.testSteps.length;
    while (t > 0 && this.testSteps.data[t - 1] >= first) t--;
    out.testStep = compactColumn(this.testSteps.view().subarray(t));
    out.testLoss = compactColumn(this.testLoss.view().subarray(t));
    return out;
  }

  /** A trace holding stored columns (a run restored from history or a bundle). */
  static fromColumns(c: ToyTraceColumns): Trace {
    const t = new Trace();
    for (let i = 0; i < c.step.length; i++) {
      t.steps.push(c.step[i]);
      for (const f of DENSE_FIELDS) t.dense[f].push(c[f][i]);
    }
    for (let i = 0; i < c.testStep.length; i++) {
      t.testSteps.push(c.testStep[i]);
      t.testLoss.push(c.testLoss[i]);
    }
    return t;
  }

  /** Every row, as the engine delivered it (exports). */
  rows(): StepMetrics[] {
    const out: StepMetrics[] = [];
    let t = 0;
    for (let i = 0; i < this.steps.length; i++) {
      const step = this.steps.data[i];
      const row: StepMetrics = { step, loss: 0, zA: 0, zB: 0, normA: 0, normB: 0, normSBA: 0 };
      for (const f of DENSE_FIELDS) row[f] = this.dense[f].data[i];
      if (t < this.testSteps.length && this.testSteps.data[t] === step) row.testLoss = this.testLoss.data[t++];
      out.push(row);
    }
    return out;
  }
}
