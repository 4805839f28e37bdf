/**
 * Plain-TypeScript ALS kernels: the always-available fallback and the oracle every WebAssembly
 * kernel (src/core/kernels/assembly/als.ts) is tested against. Same data layout as the wasm path.
 *
 * Implicit-feedback ALS (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback
 * Datasets", ICDM 2008). With preference p_ui ∈ {0, 1} and confidence c_ui ≥ 1 (c_ui = 1 for
 * unobserved pairs), minimise
 *
 *     L = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + Σ_u λ_u ‖x_u‖² + Σ_i λ_i ‖y_i‖²
 *
 * by alternating exact least squares: with the item factors Y fixed, each user solves
 *
 *     (YᵀY + λ_u I + Σ_{i∈u} (c_ui − 1) y_i y_iᵀ) x_u = Σ_{i∈u} c_ui p_ui y_i          (*)
 *
 * where YᵀY is shared by all users (computed once per half-sweep), so a user costs O(k² + n_u·k)
 * instead of O(n_items·k²). Two solvers of (*):
 *  - `cgRows`: `steps` conjugate-gradient iterations warm-started from the current x_u, never
 *    forming the matrix (Takács et al. 2011; implicit's `least_squares_cg`). Rows without entries
 *    are set to zero, as implicit does.
 *  - `choleskyRows`: forms the k×k matrix and solves it exactly in float64 (the reference).
 *
 * Layout: factor rows have stride `kp` (factors rounded up to a multiple of 4, padding zero); a
 * CSR row holds item indexes and encoded weights w: w ≥ 0 is p = 1 with c = 1 + w, w < 0 is
 * p = 0 with c = 1 − w (implicit's convention for negative feedback). λ_u comes per row in `regs`
 * (plain λ, or λ·n_u for Spark's ALS-WR scaling).
 */
import { TopK } from '../../topk.js';

export interface WeightedCsr {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  /** Encoded confidence: w ≥ 0 → (p=1, c=1+w); w < 0 → (p=0, c=1−w). */
  readonly weights: Float32Array;
}

/** k rounded up to a multiple of 4 (the SIMD lane count). */
export function paddedRank(k: number): number {
  return (k + 3) & ~3;
}

/** G = Σ_r y_r y_rᵀ over `nRows` rows of Y (stride kp), accumulated in float64, stored as float32. */
export function gram(Y: Float32Array, nRows: number, kp: number): Float32Array {
  const acc = new Float64Array(kp * kp);
  for (let r = 0; r < nRows; r++) {
    const o = r * kp;
    for (let a = 0; a < kp; a++) {
      const ya = Y[o + a];
      if (ya === 0) continue;
      const row = a * kp;
      for (let b = 0; b < kp; b++) acc[row + b] += ya * Y[o + b];
    }
  }
  return Float32Array.from(acc);
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += a[ao + d] * b[bo + d];
  return s;
}

/** out = (G + λI)·v */
function symv(G: Float32Array, v: Float32Array, vo: number, lambda: number, out: Float64Array, kp: number): void {
  for (let a = 0; a < kp; a++) {
    let s = lambda * v[vo + a];
    const row = a * kp;
    for (let b = 0; b < kp; b++) s += G[row + b] * v[vo + b];
    out[a] = s;
  }
}

/** `steps` CG iterations of (*) for rows [start, end), updating X in place (float64 arithmetic). */
export function cgRows(
  start: number, end: number, csr: WeightedCsr,
  X: Float32Array, Y: Float32Array, G: Float32Array, regs: Float32Array,
  kp: number, steps: number,
): void {
  const r = new Float64Array(kp);
  const p = new Float32Array(kp);
  const Ap = new Float64Array(kp);
  const x = new Float64Array(kp);
  const { indptr, indices, weights } = csr;
  for (let u = start; u < end; u++) {
    const xo = u * kp;
    const begin = indptr[u];
    const stop = indptr[u + 1];
    if (begin === stop) {
      X.fill(0, xo, xo + kp);
      continue;
    }
    const lambda = regs[u];
    for (let d = 0; d < kp; d++) x[d] = X[xo + d];
    symv(G, X, xo, lambda, r, kp);
    for (let d = 0; d < kp; d++) r[d] = -r[d];
    for (let e = begin; e < stop; e++) {
      const yo = indices[e] * kp;
      const w = weights[e];
      const t = (w >= 0 ? 1 + w : 0) - Math.abs(w) * dot(Y, yo, X, xo, kp);
      for (let d = 0; d < kp; d++) r[d] += t * Y[yo + d];
    }
    let rsold = 0;
    for (let d = 0; d < kp; d++) {
      p[d] = r[d];
      rsold += r[d] * r[d];
    }
    if (rsold < 1e-20) continue;
    for (let it = 0; it < steps; it++) {
      symv(G, p, 0, lambda, Ap, kp);
      for (let e = begin; e < stop; e++) {
        const w = Math.abs(weights[e]);
        if (w === 0) continue;
        const yo = indices[e] * kp;
        const t = w * dot(Y, yo, p, 0, kp);
        for (let d = 0; d < kp; d++) Ap[d] += t * Y[yo + d];
      }
      let pAp = 0;
      for (let d = 0; d < kp; d++) pAp += p[d] * Ap[d];
      const alpha = rsold / pAp;
      let rsnew = 0;
      for (let d = 0; d < kp; d++) {
        x[d] += alpha * p[d];
        r[d] -= alpha * Ap[d];
        rsnew += r[d] * r[d];
      }
      if (rsnew < 1e-20) break;
      const beta = rsnew / rsold;
      for (let d = 0; d < kp; d++) p[d] = r[d] + beta * p[d];
      rsold = rsnew;
    }
    for (let d = 0; d < kp; d++) X[xo + d] = x[d];
  }
}

/**
 * In-place Cholesky factorisation A = L·Lᵀ (lower triangle of A overwritten by L) followed by
 * the two triangular solves for b (overwritten by the solution). Returns false when A is not
 * positive definite.
 */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const jr = j * n;
    let s = A[jr + j];
    for (let k = 0; k < j; k++) s -= A[jr + k] * A[jr + k];
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    A[jr + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ir = i * n;
      let t = A[ir + j];
      for (let k = 0; k < j; k++) t -= A[ir + k] * A[jr + k];
      A[ir + j] = t / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    const ir = i * n;
    let t = b[i];
    for (let k = 0; k < i; k++) t -= A[ir + k] * b[k];
    b[i] = t / A[ir + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let t = b[i];
    for (let k = i + 1; k < n; k++) t -= A[k * n + i] * b[k];
    b[i] = t / A[i * n + i];
  }
  return true;
}

/**
 * Form A = G + λI + Σ_j |w_j| y_j y_jᵀ and b = Σ_j c_j p_j y_j for one row given as item indexes
 * and encoded weights (into the caller's float64 buffers).
 */
export function normalEquations(
  items: ArrayLike<number>, weights: ArrayLike<number>, begin: number, end: number,
  Y: Float32Array, G: Float32Array, lambda: number, kp: number, A: Float64Array, b: Float64Array,
): void {
  for (let i = 0; i < kp * kp; i++) A[i] = G[i];
  for (let d = 0; d < kp; d++) {
    A[d * kp + d] += lambda;
    b[d] = 0;
  }
  for (let e = begin; e < end; e++) {
    const yo = items[e] * kp;
    const w = weights[e];
    const aw = Math.abs(w);
    const bw = w >= 0 ? 1 + w : 0;
    for (let a = 0; a < kp; a++) {
      const ya = Y[yo + a];
      b[a] += bw * ya;
      if (aw === 0 || ya === 0) continue;
      const t = aw * ya;
      const row = a * kp;
      for (let c = 0; c < kp; c++) A[row + c] += t * Y[yo + c];
    }
  }
}

/** Exact solve of (*) for rows [start, end). Rows without entries get zero. */
export function choleskyRows(
  start: number, end: number, csr: WeightedCsr,
  X: Float32Array, Y: Float32Array, G: Float32Array, regs: Float32Array, kp: number,
): boolean {
  const A = new Float64Array(kp * kp);
  const b = new Float64Array(kp);
  const { indptr, indices, weights } = csr;
  let ok = true;
  for (let u = start; u < end; u++) {
    const xo = u * kp;
    if (indptr[u] === indptr[u + 1]) {
      X.fill(0, xo, xo + kp);
      continue;
    }
    normalEquations(indices, weights, indptr[u], indptr[u + 1], Y, G, regs[u], kp, A, b);
    if (!choleskySolve(A, b, kp)) {
      ok = false;
      continue;
    }
    for (let d = 0; d < kp; d++) X[xo + d] = b[d];
  }
  return ok;
}

/**
 * Per-row objective terms (see lossRange in the wasm kernels): x_uᵀ G x_u + λ_u‖x_u‖² +
 * Σ_i [c_ui (p_ui − s)² − s²], s = x_u·y_i. Summed over rows, plus the other side's λ_i‖y_i‖², it
 * is the full objective L.
 */
export function lossRows(
  start: number, end: number, csr: WeightedCsr,
  X: Float32Array, Y: Float32Array, G: Float32Array, regs: Float32Array, kp: number, out: Float64Array,
): void {
  const Gx = new Float64Array(kp);
  const { indptr, indices, weights } = csr;
  for (let u = start; u < end; u++) {
    const xo = u * kp;
    symv(G, X, xo, 0, Gx, kp);
    let loss = 0;
    let xx = 0;
    for (let d = 0; d < kp; d++) {
      loss += Gx[d] * X[xo + d];
      xx += X[xo + d] * X[xo + d];
    }
    loss += regs[u] * xx;
    for (let e = indptr[u]; e < indptr[u + 1]; e++) {
      const s = dot(Y, indices[e] * kp, X, xo, kp);
      const w = weights[e];
      const pref = w >= 0 ? 1 : 0;
      loss += (1 + Math.abs(w)) * (pref - s) * (pref - s) - s * s;
    }
    out[u] = loss;
  }
}

/** Σ_r λ_r ‖y_r‖² over rows of Y. */
export function regularizationTerm(Y: Float32Array, regs: Float32Array, kp: number): number {
  let total = 0;
  for (let r = 0; r < regs.length; r++) {
    let s = 0;
    for (let d = 0; d < kp; d++) s += Y[r * kp + d] * Y[r * kp + d];
    total += regs[r] * s;
  }
  return total;
}

/**
 * Top-K of Q·Yᵀ for queries [start, end) with sorted exclusion rows (a CSR over queries); rows of
 * the output are best first, ties broken by the smaller item, padded with −1/−∞.
 */
export function topkRows(
  start: number, end: number, Q: Float32Array, Y: Float32Array, nItems: number, kp: number, K: number,
  exclIndptr: Int32Array, exclIndices: Int32Array, outItems: Int32Array, outScores: Float32Array,
): void {
  const heap = new TopK(K);
  for (let q = start; q < end; q++) {
    heap.reset();
    let cursor = exclIndptr[q];
    const stop = exclIndptr[q + 1];
    const qo = q * kp;
    for (let i = 0; i < nItems; i++) {
      while (cursor < stop && exclIndices[cursor] < i) cursor++;
      if (cursor < stop && exclIndices[cursor] === i) continue;
      let s = 0;
      const yo = i * kp;
      for (let d = 0; d < kp; d++) s += Q[qo + d] * Y[yo + d];
      heap.push(i, Math.fround(s));
    }
    heap.drainInto(outItems, outScores, q * K);
  }
}
