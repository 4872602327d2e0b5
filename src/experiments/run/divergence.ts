// The divergence rule of lora-math.md section 4, in one place: a run diverges at the first step whose
// loss is non-finite or above DIVERGENCE_FACTOR times its first loss. The batched sweep kernels apply the
// same rule on the GPU (toy_batch.wgsl's `metrics_runs`, with the factor passed in from here).

export const DIVERGENCE_FACTOR = 1e6;

export function isDivergedLoss(loss: number, firstLoss: number | undefined): boolean {
  return !Number.isFinite(loss) || (firstLoss !== undefined && Number.isFinite(firstLoss) && loss > DIVERGENCE_FACTOR * firstLoss);
}

/** The rule over a stream of rows in step order (any chunking): remembers the first loss. */
export class DivergenceWatch {
  private first: number | undefined;

  /** True when this row's loss diverged. */
  diverged(row: { step: number; loss: number }): boolean {
    if (this.first === undefined && row.step === 1) this.first = row.loss;
    return isDivergedLoss(row.loss, this.first);
  }
}

/** A fresh stop rule for one run's rows (a session's `stopsAt`). */
export function lossDiverges(): (row: { step: number; loss: number }) => boolean {
  const watch = new DivergenceWatch();
  return (row) => watch.diverged(row);
}
