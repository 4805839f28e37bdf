/**
 * Optimisers of the two-tower model, and the sparse row gradients of its embedding tables.
 *
 * Embedding tables (id rows, feature rows, history rows: the first Linear layer of each tower over
 * its one-hot/multi-hot input) are too large for dense updates: the design's dense Adam over a
 * 100k×256 user table is what makes the PyTorch version 8× slower per step (784 vs 96 ms,
 * ../shared/research/baselines.md). Only the rows a batch touched get a gradient and an update:
 *
 *  - `SparseGrad`: row gradients accumulated per touched row (duplicates in a batch are summed
 *    first, so a row gets one update per step with its total gradient, as a dense update would);
 *  - `SparseAdagrad` (Duchi et al. 2011): G_r += g_r², w_r −= lr · g_r / (√G_r + ε). Identical to
 *    dense Adagrad, because an untouched row has g = 0 and a dense step would not move it either;
 *  - `SparseAdam`: PyTorch's `SparseAdam` ("lazy Adam"): the moments of touched rows only,
 *      m_r ← β₁m_r + (1−β₁)g_r,  v_r ← β₂v_r + (1−β₂)g_r²,
 *      w_r −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m_r / (√v_r + ε)       (t = number of steps taken)
 *    Equal to dense Adam for rows touched at every step; untouched rows keep their value where
 *    dense Adam would keep drifting them on stale momentum;
 *  - `DenseAdam` (Kingma & Ba 2015, PyTorch's Adam form): the dense layers, biases and LayerNorm.
 * Optional L2 `weightDecay` adds λ·w_r to the gradient of touched rows only (lazy decay).
 */
import { RecsysError } from '../../errors.js';

/** Per-row gradients of one table for one step. */
export class SparseGrad {
  readonly width: number;
  /** row → slot in `values`, −1 when the row has no gradient this step. */
  private slotOf: Int32Array;
  /** Touched rows, in first-touch order. */
  rows: Int32Array;
  values: Float32Array;
  count = 0;

  constructor(nRows: number, width: number, capacity = 1024) {
    this.width = width;
    this.slotOf = new Int32Array(nRows).fill(-1);
    this.rows = new Int32Array(capacity);
    this.values = new Float32Array(capacity * width);
  }

  get nRows(): number {
    return this.slotOf.length;
  }

  /** Make room for a table that grew to `nRows` rows. */
  ensureRows(nRows: number): void {
    if (nRows <= this.slotOf.length) return;
    const next = new Int32Array(nRows).fill(-1);
    next.set(this.slotOf);
    this.slotOf = next;
  }

  /** Slot of `row`, created (zeroed) on first touch. */
  slot(row: number): number {
    const s = this.slotOf[row];
    if (s >= 0) return s;
    const fresh = this.newSlot(row);
    this.values.fill(0, fresh * this.width, (fresh + 1) * this.width);
    return fresh;
  }

  /** A new slot for `row` (its values are not cleared). */
  private newSlot(row: number): number {
    if (!(row >= 0 && row < this.slotOf.length)) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: gradient row ${row} outside a table of ${this.slotOf.length} rows`);
    const s = this.count++;
    if (s >= this.rows.length) {
      const cap = this.rows.length * 2;
      const rows = new Int32Array(cap);
      rows.set(this.rows);
      this.rows = rows;
      const values = new Float32Array(cap * this.width);
      values.set(this.values);
      this.values = values;
    }
    this.rows[s] = row;
    this.slotOf[row] = s;
    return s;
  }

  /** grad[row] += scale · src[offset .. offset+width) (a first touch writes instead of adding to zeros). */
  add(row: number, src: Float32Array, offset: number, scale: number): void {
    const w = this.width;
    const fresh = this.slotOf[row] < 0;
    const o = (fresh ? this.newSlot(row) : this.slotOf[row]) * w;
    const v = this.values;
    if (fresh) {
      if (scale === 1) v.set(src.subarray(offset, offset + w), o);
      else for (let d = 0; d < w; d++) v[o + d] = scale * src[offset + d];
    } else if (scale === 1) for (let d = 0; d < w; d++) v[o + d] += src[offset + d];
    else for (let d = 0; d < w; d++) v[o + d] += scale * src[offset + d];
  }

  /** Forget this step's rows (O(touched)). */
  clear(): void {
    for (let s = 0; s < this.count; s++) this.slotOf[this.rows[s]] = -1;
    this.count = 0;
  }
}

export interface TableOptimizerState {
  /** Per-element state arrays (same layout as the table), by name. */
  slots: Record<string, Float32Array>;
  step: number;
}

/** Updates an embedding table from a SparseGrad. */
export interface TableOptimizer {
  readonly kind: 'adagrad' | 'adam';
  step(table: Float32Array, grad: SparseGrad, lr: number): void;
  state(): TableOptimizerState;
}

export interface SparseOptimizerOptions {
  weightDecay?: number;
  eps?: number;
}

export class SparseAdagrad implements TableOptimizer {
  readonly kind = 'adagrad';
  private readonly width: number;
  private readonly initialAccumulator: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  accumulator: Float32Array;

  constructor(nRows: number, width: number, opts: SparseOptimizerOptions & { initialAccumulator?: number } = {}, state?: TableOptimizerState) {
    this.width = width;
    this.initialAccumulator = opts.initialAccumulator ?? 0;
    this.eps = opts.eps ?? 1e-10;
    this.weightDecay = opts.weightDecay ?? 0;
    this.accumulator = state?.slots.accumulator ?? new Float32Array(nRows * width).fill(this.initialAccumulator);
    if (this.accumulator.length !== nRows * width) throw new RecsysError('RECSYS_ERR_ARTIFACT', `adagrad state holds ${this.accumulator.length} values, the table ${nRows}×${width}`);
  }

  step(table: Float32Array, grad: SparseGrad, lr: number): void {
    const w = this.width;
    const acc = this.accumulator;
    const wd = this.weightDecay;
    const eps = this.eps;
    for (let s = 0; s < grad.count; s++) {
      const o = grad.rows[s] * w;
      const go = s * w;
      for (let d = 0; d < w; d++) {
        const g = grad.values[go + d] + wd * table[o + d];
        const a = acc[o + d] + g * g;
        acc[o + d] = a;
        table[o + d] -= (lr * g) / (Math.sqrt(a) + eps);
      }
    }
  }

  state(): TableOptimizerState {
    return { slots: { accumulator: this.accumulator }, step: 0 };
  }
}

export class SparseAdam implements TableOptimizer {
  readonly kind = 'adam';
  private readonly width: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  m: Float32Array;
  v: Float32Array;
  t: number;

  constructor(nRows: number, width: number, opts: SparseOptimizerOptions & { beta1?: number; beta2?: number } = {}, state?: TableOptimizerState) {
    this.width = width;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    // fill(0) writes every page now: first touches inside a step cost a page fault each (~23 µs per
    // 4 KiB on the dev VM), which made the first epoch's updates several times slower than later ones.
    this.m = state?.slots.m ?? new Float32Array(nRows * width).fill(0);
    this.v = state?.slots.v ?? new Float32Array(nRows * width).fill(0);
    this.t = state?.step ?? 0;
    if (this.m.length !== nRows * width || this.v.length !== nRows * width) throw new RecsysError('RECSYS_ERR_ARTIFACT', `adam state does not match the table ${nRows}×${width}`);
  }

  step(table: Float32Array, grad: SparseGrad, lr: number): void {
    this.t++;
    const w = this.width;
    const { m, v, beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    const stepSize = (lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const values = grad.values;
    const rows = grad.rows;
    for (let s = 0; s < grad.count; s++) {
      const o = rows[s] * w;
      const go = s * w;
      for (let d = 0; d < w; d++) {
        const j = o + d;
        const g = wd === 0 ? values[go + d] : values[go + d] + wd * table[j];
        const mj = m[j];
        const vj = v[j];
        const mi = mj + c1 * (g - mj);
        const vi = vj + c2 * (g * g - vj);
        m[j] = mi;
        v[j] = vi;
        table[j] -= (stepSize * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }

  state(): TableOptimizerState {
    return { slots: { m: this.m, v: this.v }, step: this.t };
  }
}

export function createTableOptimizer(kind: 'adagrad' | 'adam', nRows: number, width: number, opts: SparseOptimizerOptions, state?: TableOptimizerState): TableOptimizer {
  return kind === 'adagrad' ? new SparseAdagrad(nRows, width, { ...opts, initialAccumulator: 0.1 }, state) : new SparseAdam(nRows, width, opts, state);
}

/** Adam over one dense parameter array (PyTorch's Adam: p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)). */
export class DenseAdam {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  m: Float32Array;
  v: Float32Array;
  t: number;

  constructor(size: number, opts: { beta1?: number; beta2?: number; eps?: number } = {}, state?: { m: Float32Array; v: Float32Array; t: number }) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.m = state?.m ?? new Float32Array(size);
    this.v = state?.v ?? new Float32Array(size);
    this.t = state?.t ?? 0;
  }

  step(param: Float32Array, grad: Float32Array, lr: number): void {
    this.t++;
    const { m, v, beta1: b1, beta2: b2, eps } = this;
    const bc1 = 1 - b1 ** this.t;
    const sqrtBc2 = Math.sqrt(1 - b2 ** this.t);
    const stepSize = lr / bc1;
    for (let j = 0; j < param.length; j++) {
      const g = grad[j];
      const mi = b1 * m[j] + (1 - b1) * g;
      const vi = b2 * v[j] + (1 - b2) * g * g;
      m[j] = mi;
      v[j] = vi;
      param[j] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
    }
  }
}
