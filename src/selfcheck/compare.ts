// How a self-check judges a GPU result against the float64 reference, in one place for the kernel tests,
// the CLI's `selfcheck` and the page's "Check this GPU".
//
// A check is made of comparisons (a tensor, a scalar, a guard tail); each has a tolerance derived for its
// kernel (see the check's comment) and reports its error on the same scale as that tolerance, so a check
// passes exactly when every comparison has error <= tolerance. The check's line shows its worst
// comparison: the one with the largest error / tolerance.

/** What one check reports: the worst comparison's error and tolerance, and whether all passed. */
export interface CheckResult {
  pass: boolean;
  /** Error of the worst comparison, on its tolerance's scale (relative to the values' size); Infinity for NaN or a write out of bounds. */
  maxRelError: number;
  tolerance: number;
  /** The worst comparison, and the first failing element when one failed. */
  detail: string;
}

interface Worst {
  what: string;
  err: number;
  tol: number;
}

/** Error / tolerance, with exact comparisons (tolerance 0) ranking 0 when equal and worst of all when not. */
function ratio(err: number, tol: number): number {
  if (!(err <= tol)) return Infinity;
  return tol === 0 ? 0 : err / tol;
}

export class Compare {
  private worst: Worst | null = null;
  private failure: string | null = null;

  /**
   * Per element: |got_i - want_i| <= bound_i. The element's error is reported relative to its own scale
   * bound_i / tol (what the kernel's error analysis says its rounding is proportional to), so an O(1)
   * relative error in a small element cannot hide behind a large one.
   */
  bounded(what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, tol: number): this {
    this.sameLength(what, got, want);
    let err = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      const ok = d <= bound[i];
      if (!ok && this.failure === null) this.failure = `${what}[${i}]: got ${got[i]}, want ${want[i]} ± ${bound[i]}`;
      const e = bound[i] > 0 && Number.isFinite(d) ? (d * tol) / bound[i] : ok ? 0 : Infinity;
      err = Math.max(err, ok ? e : Math.max(e, tol * (1 + 1e-9)));
    }
    return this.note(what, err, tol);
  }

  /** Whole tensor: max |got - want| / (max |want| + floor) <= tol. */
  tensor(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, floor = 1e-12): this {
    this.sameLength(what, got, want);
    let maxDiff = 0;
    let maxRef = 0;
    let at = -1;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (!(d <= maxDiff)) {
        maxDiff = Number.isNaN(d) ? Infinity : d;
        at = i;
      }
      maxRef = Math.max(maxRef, Math.abs(want[i]));
    }
    const err = maxDiff / (maxRef + floor);
    if (!(err <= tol) && this.failure === null) this.failure = `${what}: relative error ${err.toExponential(2)} > ${tol} (worst at [${at}]: got ${got[at]}, want ${want[at]})`;
    return this.note(what, err, tol);
  }

  /** One number: |got - want| <= tol * max(|want|, floor). */
  close(what: string, got: number, want: number, tol: number, floor = 1e-12): this {
    const err = Math.abs(got - want) / Math.max(Math.abs(want), floor);
    const e = Number.isNaN(err) ? Infinity : err;
    if (!(e <= tol) && this.failure === null) this.failure = `${what}: got ${got}, want ${want} (relative error ${e.toExponential(2)} > ${tol})`;
    return this.note(what, e, tol);
  }

  /** One number within an absolute bound: reported relative to |want| (or the bound when want is 0). */
  scalar(what: string, got: number, want: number, bound: number): this {
    const scale = Math.abs(want) > 0 ? Math.abs(want) : bound || 1;
    const d = Math.abs(got - want);
    const ok = d <= bound;
    if (!ok && this.failure === null) this.failure = `${what}: got ${got}, want ${want} ± ${bound}`;
    const tol = bound / scale;
    const err = Number.isFinite(d) ? d / scale : Infinity;
    return this.note(what, ok ? err : Math.max(err, tol * (1 + 1e-9)), tol);
  }

  /** Bit for bit (Object.is, so NaN equals NaN and -0 differs from 0 only when `signedZero`). */
  exact(what: string, got: ArrayLike<number>, want: ArrayLike<number>, opts: { signedZero?: boolean } = {}): this {
    this.sameLength(what, got, want);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]) || 0);
    for (let i = 0; i < want.length; i++) {
      const same = opts.signedZero ? Object.is(got[i], want[i]) : got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
      if (same) continue;
      const d = Math.abs(got[i] - want[i]) / (scale || 1);
      err = Math.max(err, Number.isNaN(d) || d === 0 ? Infinity : d);
      if (this.failure === null) this.failure = `${what}[${i}]: got ${got[i]}, want exactly ${want[i]}`;
    }
    return this.note(what, err, 0);
  }

  /** Elements [from, to) of `got` must still hold `sentinel`: nothing written outside the output. */
  untouched(what: string, got: ArrayLike<number>, sentinel: number, from: number, to = got.length): this {
    for (let i = from; i < to; i++) {
      if (got[i] !== sentinel) {
        if (this.failure === null) this.failure = `${what}: wrote ${got[i]} at ${i}, outside the output`;
        return this.note(what, Infinity, 0);
      }
    }
    return this;
  }

  /** A condition that has no numeric error (a count, a sign, a structure). */
  require(what: string, ok: boolean): this {
    if (!ok && this.failure === null) this.failure = what;
    return ok ? this : this.note(what, Infinity, 0);
  }

  /** Another check's result folded into this one. */
  include(what: string, r: CheckResult): this {
    if (!r.pass && this.failure === null) this.failure = `${what}: ${r.detail}`;
    return this.note(`${what}: ${r.detail}`, r.pass ? r.maxRelError : Infinity, r.tolerance, r.maxRelError);
  }

  result(): CheckResult {
    const w = this.worst ?? { what: 'nothing compared', err: 0, tol: 0 };
    const pass = this.failure === null && this.worst !== null;
    return { pass, maxRelError: w.err, tolerance: w.tol, detail: pass ? `worst: ${w.what}` : (this.failure ?? 'nothing was compared') };
  }

  private note(what: string, err: number, tol: number, shown = err): this {
    if (!this.worst || ratio(err, tol) > ratio(this.worst.err, this.worst.tol) || (this.worst.err === 0 && this.worst.tol === 0 && tol > 0 && ratio(err, tol) >= 0)) {
      this.worst = { what, err: shown, tol };
    }
    return this;
  }

  private sameLength(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
    if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, reference has ${want.length}`);
  }
}
