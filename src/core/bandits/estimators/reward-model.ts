/**
 * The reward model q̂(x, a) of the direct method and of doubly robust: one L2-regularised
 * regression per action on the context features (one-hot categoricals, numerics, and the position
 * when the log has several), each fitted on the rows where that action was shown.
 *
 * - logistic (rewards in [0, 1], e.g. clicks): q̂ = σ(b₀ + w_aᵀx), b₀ = logit(overall mean reward) a
 *   fixed offset, w_a maximising Σ [y log q̂ + (1−y) log(1−q̂)] − (λ/2)‖w_a‖², by Newton's method
 *   (IRLS: H = Σ q̂(1−q̂) xxᵀ + λI, g = Σ (y − q̂) x − λ w_a) until the step is below 1e-9.
 * - ridge: q̂ = ȳ + w_aᵀx, w_a = (XᵀX + λI)⁻¹ Xᵀ(y − ȳ).
 *
 * The penalty covers the action's intercept (the bias feature) too, so an action shown on few rows
 * (or clicked never) is shrunk towards the overall mean instead of to 0 or 1. An action never shown
 * predicts the overall mean. Rows are visited as sparse vectors: the cost per row grows with its
 * non-zeros, not with the dimension.
 */
import { RecsysError } from '../../errors.js';
import type { ContextEncoder, LoggedBandit } from '../logs/types.js';

export type RewardModelKind = 'logistic' | 'ridge';

export interface RewardModelOptions {
  kind?: RewardModelKind;
  /** L2 penalty λ (default 1). */
  lambda?: number;
  maxIterations?: number;
}

export interface RewardModelFit {
  kind: RewardModelKind;
  lambda: number;
  dim: number;
  /** Rows the model was fitted on. */
  rows: number;
  /** Newton iterations per action (logistic), 1 for ridge. */
  iterations: number[];
  /** Mean log-loss (logistic) or squared error (ridge) on the fitting rows. */
  loss: number;
}

export class RewardModel {
  private readonly idx: Int32Array;
  private readonly val: Float64Array;

  constructor(
    readonly kind: RewardModelKind,
    readonly nArms: number,
    readonly encoder: ContextEncoder,
    /** nArms × dim weights. */
    readonly weights: Float64Array,
    /** b₀ (logistic, on the logit scale) or ȳ (ridge). */
    readonly offset: number,
    readonly fit: RewardModelFit,
  ) {
    this.idx = new Int32Array(encoder.maxNonZeros);
    this.val = new Float64Array(encoder.maxNonZeros);
  }

  /** q̂(x_row, a) for every arm a at `position` (0-based), into out[0..nArms). */
  predictAll(row: number, position: number, out: Float64Array): Float64Array {
    const nz = this.encoder.sparse(row, this.idx, this.val, position);
    const d = this.encoder.dim;
    for (let a = 0; a < this.nArms; a++) {
      let z = 0;
      const base = a * d;
      for (let k = 0; k < nz; k++) z += this.weights[base + this.idx[k]] * this.val[k];
      out[a] = this.kind === 'logistic' ? sigmoid(this.offset + z) : this.offset + z;
    }
    return out;
  }
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Solves A x = b in place for symmetric positive definite A (d×d row-major) by Cholesky. */
export function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  const L = A; // overwritten with the factor (lower triangle)
  for (let j = 0; j < d; j++) {
    let s = L[j * d + j];
    for (let k = 0; k < j; k++) s -= L[j * d + k] * L[j * d + k];
    if (!(s > 0)) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `reward model: the normal equations are not positive definite (pivot ${s} at ${j}); raise the penalty λ`);
    const ljj = Math.sqrt(s);
    L[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = L[i * d + j];
      for (let k = 0; k < j; k++) t -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = t / ljj;
    }
  }
  const x = b;
  for (let i = 0; i < d; i++) {
    let t = x[i];
    for (let k = 0; k < i; k++) t -= L[i * d + k] * x[k];
    x[i] = t / L[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = x[i];
    for (let k = i + 1; k < d; k++) t -= L[k * d + i] * x[k];
    x[i] = t / L[i * d + i];
  }
  return x;
}

/** Fits q̂ on `rows` of the log (all rows when omitted). */
export function fitRewardModel(log: LoggedBandit, encoder: ContextEncoder, rows?: Int32Array, opts: RewardModelOptions = {}): RewardModel {
  const lambda = opts.lambda ?? 1;
  if (!(lambda > 0)) throw new RecsysError('RECSYS_ERR_USAGE', `reward model penalty λ must be > 0, got ${lambda}`, { flag: '--dm-lambda' });
  const use = rows ?? Int32Array.from({ length: log.n }, (_, i) => i);
  let kind: RewardModelKind = opts.kind ?? 'logistic';
  let sumY = 0;
  for (const i of use) {
    const y = log.rewards[i];
    sumY += y;
    if (kind === 'logistic' && (y < 0 || y > 1)) kind = 'ridge'; // rewards outside [0, 1]: no logistic link
  }
  const nArms = log.nArms;
  const d = encoder.dim;
  const meanY = use.length > 0 ? sumY / use.length : 0;
  const offset = kind === 'logistic' ? Math.log(Math.min(Math.max(meanY, 1e-6), 1 - 1e-6) / (1 - Math.min(Math.max(meanY, 1e-6), 1 - 1e-6))) : meanY;

  // Rows per action (counting sort).
  const start = new Int32Array(nArms + 1);
  for (const i of use) start[log.actions[i] + 1]++;
  for (let a = 0; a < nArms; a++) start[a + 1] += start[a];
  const byAction = new Int32Array(use.length);
  const fill = start.slice(0, nArms);
  for (const i of use) byAction[fill[log.actions[i]]++] = i;

  // Sparse rows, encoded once.
  const maxNz = encoder.maxNonZeros;
  const ptr = new Int32Array(use.length + 1);
  const idxAll = new Int32Array(use.length * maxNz);
  const valAll = new Float64Array(use.length * maxNz);
  const idx = new Int32Array(maxNz);
  const val = new Float64Array(maxNz);
  for (let j = 0; j < byAction.length; j++) {
    const i = byAction[j];
    const nz = encoder.sparse(i, idx, val, log.positions[i]);
    ptr[j + 1] = ptr[j] + nz;
    idxAll.set(idx.subarray(0, nz), ptr[j]);
    valAll.set(val.subarray(0, nz), ptr[j]);
  }

  const weights = new Float64Array(nArms * d);
  const iterations: number[] = [];
  const H = new Float64Array(d * d);
  const g = new Float64Array(d);
  const maxIterations = opts.maxIterations ?? 50;
  let lossSum = 0;
  for (let a = 0; a < nArms; a++) {
    const w = weights.subarray(a * d, (a + 1) * d);
    const from = start[a];
    const to = start[a + 1];
    if (from === to) {
      iterations.push(0);
      continue;
    }
    let it = 0;
    for (; it < (kind === 'ridge' ? 1 : maxIterations); it++) {
      H.fill(0);
      for (let q = 0; q < d; q++) {
        H[q * d + q] = lambda;
        g[q] = kind === 'ridge' ? 0 : -lambda * w[q];
      }
      for (let j = from; j < to; j++) {
        const y = log.rewards[byAction[j]];
        let z = 0;
        for (let k = ptr[j]; k < ptr[j + 1]; k++) z += w[idxAll[k]] * valAll[k];
        let h: number;
        let resid: number;
        if (kind === 'logistic') {
          const p = sigmoid(offset + z);
          h = p * (1 - p);
          resid = y - p;
        } else {
          h = 1;
          resid = y - meanY;
        }
        for (let k = ptr[j]; k < ptr[j + 1]; k++) {
          const ik = idxAll[k];
          const vk = valAll[k];
          g[ik] += resid * vk;
          const hv = h * vk;
          for (let l = ptr[j]; l < ptr[j + 1]; l++) H[ik * d + idxAll[l]] += hv * valAll[l];
        }
      }
      const step = choleskySolve(H, g, d);
      let maxStep = 0;
      for (let q = 0; q < d; q++) {
        w[q] += step[q];
        maxStep = Math.max(maxStep, Math.abs(step[q]));
      }
      if (maxStep < 1e-9) {
        it++;
        break;
      }
    }
    iterations.push(it);
    for (let j = from; j < to; j++) {
      const y = log.rewards[byAction[j]];
      let z = 0;
      for (let k = ptr[j]; k < ptr[j + 1]; k++) z += w[idxAll[k]] * valAll[k];
      if (kind === 'logistic') {
        const p = Math.min(Math.max(sigmoid(offset + z), 1e-15), 1 - 1e-15);
        lossSum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
      } else {
        const e = y - meanY - z;
        lossSum += e * e;
      }
    }
  }
  return new RewardModel(kind, nArms, encoder, weights, offset, { kind, lambda, dim: d, rows: use.length, iterations, loss: use.length > 0 ? lossSum / use.length : NaN });
}
