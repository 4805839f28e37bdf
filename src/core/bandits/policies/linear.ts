/**
 * Disjoint linear models per arm, shared by LinUCB and linear Thompson sampling: arm a keeps
 *     A_a = λ·I + Σ x xᵀ,   b_a = Σ r·x,   θ̂_a = A_a⁻¹ b_a
 * over the contexts x where it was played (Li, Chu, Langford & Schapire 2010, "A Contextual-Bandit
 * Approach to Personalized News Article Recommendation", Algorithm 1). A_a⁻¹ is kept directly and
 * updated by Sherman–Morrison, A⁻¹ ← A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ / (1 + xᵀA⁻¹x) (A⁻¹ is symmetric),
 * so an update costs O(d²) instead of the O(d³) of a fresh inverse.
 *
 * For a context x, arm a's predicted reward is m_a = θ̂_aᵀx and its width s_a = √(xᵀA_a⁻¹x).
 */
import { RecsysError } from '../../errors.js';
import { checkAction, checkContext, stateArray, toNumbers, type Context, type PolicyState } from './types.js';

export class LinearArms {
  readonly nArms: number;
  readonly dim: number;
  /** A_a⁻¹ per arm, row-major d×d blocks. */
  readonly ainv: Float64Array;
  readonly b: Float64Array;
  readonly theta: Float64Array;
  private readonly u: Float64Array;

  constructor(nArms: number, dim: number, lambda: number) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RecsysError('RECSYS_ERR_USAGE', `a linear bandit policy needs context features (got dimension ${dim}): give the log's context columns, or use a context-free policy (ts, ucb, egreedy)`, { flag: '--policy' });
    }
    this.nArms = nArms;
    this.dim = dim;
    this.ainv = new Float64Array(nArms * dim * dim);
    this.b = new Float64Array(nArms * dim);
    this.theta = new Float64Array(nArms * dim);
    this.u = new Float64Array(dim);
    const inv = 1 / lambda;
    for (let a = 0; a < nArms; a++) for (let i = 0; i < dim; i++) this.ainv[a * dim * dim + i * dim + i] = inv;
  }

  /** m_a = θ̂_aᵀx and s_a = √(xᵀA_a⁻¹x) for every arm. */
  predict(x: Context, mean: Float64Array, width: Float64Array, what: string): void {
    checkContext(x, this.dim, what);
    const d = this.dim;
    for (let a = 0; a < this.nArms; a++) {
      const th = a * d;
      const base = a * d * d;
      let m = 0;
      let q = 0;
      for (let i = 0; i < d; i++) {
        const xi = x[i];
        m += this.theta[th + i] * xi;
        if (xi === 0) continue;
        let row = 0;
        const r = base + i * d;
        for (let j = 0; j < d; j++) row += this.ainv[r + j] * x[j];
        q += xi * row;
      }
      mean[a] = m;
      width[a] = Math.sqrt(Math.max(0, q));
    }
  }

  update(x: Context, action: number, reward: number, what: string): void {
    checkAction(action, this.nArms, what);
    checkContext(x, this.dim, what);
    const d = this.dim;
    const base = action * d * d;
    const u = this.u;
    let denom = 1;
    for (let i = 0; i < d; i++) {
      let s = 0;
      const r = base + i * d;
      for (let j = 0; j < d; j++) s += this.ainv[r + j] * x[j];
      u[i] = s;
      denom += x[i] * s;
    }
    for (let i = 0; i < d; i++) {
      const ui = u[i] / denom;
      if (ui === 0) continue;
      const r = base + i * d;
      for (let j = 0; j < d; j++) this.ainv[r + j] -= ui * u[j];
    }
    const bb = action * d;
    for (let i = 0; i < d; i++) this.b[bb + i] += reward * x[i];
    for (let i = 0; i < d; i++) {
      let s = 0;
      const r = base + i * d;
      for (let j = 0; j < d; j++) s += this.ainv[r + j] * this.b[bb + j];
      this.theta[bb + i] = s;
    }
  }

  toArrays(): Record<string, number[]> {
    return { ainv: toNumbers(this.ainv), b: toNumbers(this.b) };
  }

  restore(state: PolicyState): void {
    this.ainv.set(stateArray(state, 'ainv', this.ainv.length));
    this.b.set(stateArray(state, 'b', this.b.length));
    const d = this.dim;
    for (let a = 0; a < this.nArms; a++) {
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += this.ainv[a * d * d + i * d + j] * this.b[a * d + j];
        this.theta[a * d + i] = s;
      }
    }
  }
}
