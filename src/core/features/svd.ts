/**
 * Randomized truncated SVD of a sparse matrix X (n items × d features), to turn sparse item vectors
 * into dense k-dimensional embeddings (Halko, Martinsson & Tropp, "Finding structure with
 * randomness", SIAM Review 53(2), 2011: Algorithm 4.4, re-orthonormalising once per power iteration,
 * then Algorithm 5.1):
 *
 *   Ω ~ N(0, 1),  l = k + oversample random directions
 *   Y = X Xᵀ Ω;  q times: Q = orth(Y), Y = X Xᵀ Q     (on whichever side of X is shorter, below)
 *   Q = orth(Y);  the small r × r Gram of the projected matrix = W Λ Wᵀ (Jacobi),  σ = √λ
 *   V_k = the top k approximate right singular vectors (d × k).
 *
 * The embedding of any row x (a training item or a product added later) is x V_k, which for a
 * training item equals (U Σ)_i, so inner products of embeddings approximate those of the sparse
 * vectors (X Xᵀ ≈ U_k Σ_k² U_kᵀ). `orth` is modified Gram–Schmidt twice; directions of
 * (numerically) zero variance are dropped rather than failing, so low-rank inputs give r < l and
 * k < dimensions. Plain TypeScript in Float64; the ALS wasm kernels (Gram of a factor panel, CG
 * solves) do not fit a sparse-times-dense product, so nothing is shared with them.
 */
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { Rng } from '../rng.js';
import type { SparseMatrix } from './sparse.js';

export interface SvdOptions {
  /** Embedding size k (capped at min(n, d)). */
  dimensions: number;
  /** Extra random directions (l = k + oversample). */
  oversample: number;
  /** Power iterations q (more = more accurate for slowly decaying spectra). */
  powerIterations: number;
  seed: number;
}

export const DEFAULT_SVD_OPTIONS: Readonly<SvdOptions> = Object.freeze({ dimensions: 128, oversample: 10, powerIterations: 2, seed: 42 });

export interface SvdResult {
  /** Kept rank (≤ dimensions; smaller when X has lower numerical rank). */
  k: number;
  /** Columns of X (d). */
  nCols: number;
  /** σ_1 ≥ … ≥ σ_k. */
  singularValues: Float64Array;
  /** V_k, d × k row-major (row f = feature f's loadings). */
  components: Float32Array;
}

/** Y = X · B with B dense d × l (row-major); Y is n × l. */
function sparseTimesDense(x: SparseMatrix, b: Float64Array, l: number): Float64Array {
  const y = new Float64Array(x.nRows * l);
  for (let r = 0; r < x.nRows; r++) {
    const yo = r * l;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const v = x.values[p];
      const bo = x.indices[p] * l;
      for (let j = 0; j < l; j++) y[yo + j] += v * b[bo + j];
    }
  }
  return y;
}

/** Z = Xᵀ · A with A dense n × l; Z is d × l. */
function sparseTransposeTimesDense(x: SparseMatrix, a: Float64Array, l: number): Float64Array {
  const z = new Float64Array(x.nCols * l);
  for (let r = 0; r < x.nRows; r++) {
    const ao = r * l;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const v = x.values[p];
      const zo = x.indices[p] * l;
      for (let j = 0; j < l; j++) z[zo + j] += v * a[ao + j];
    }
  }
  return z;
}

/** Aᵀ B for A, B both rows × l (row-major), symmetrised (the callers' products are symmetric in exact arithmetic). */
function crossProduct(a: Float64Array, b: Float64Array, rows: number, l: number): Float64Array {
  const g = new Float64Array(l * l);
  for (let r = 0; r < rows; r++) {
    const o = r * l;
    for (let i = 0; i < l; i++) {
      const ai = a[o + i];
      if (ai === 0) continue;
      const gi = i * l;
      for (let j = 0; j < l; j++) g[gi + j] += ai * b[o + j];
    }
  }
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < i; j++) {
      const m = 0.5 * (g[i * l + j] + g[j * l + i]);
      g[i * l + j] = m;
      g[j * l + i] = m;
    }
  }
  return g;
}

/** A (rows × l) · M (l × m) → rows × m. */
function denseTimesSmall(a: Float64Array, rows: number, l: number, m: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const ao = r * l;
    const oo = r * cols;
    for (let i = 0; i < l; i++) {
      const v = a[ao + i];
      if (v === 0) continue;
      const mo = i * cols;
      for (let j = 0; j < cols; j++) out[oo + j] += v * m[mo + j];
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric m × m matrix by cyclic Jacobi rotations.
 * Returns eigenvalues in descending order and the matching eigenvectors as columns of `vectors` (m × m row-major).
 */
export function symmetricEigen(matrix: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale += a[i] * a[i];
  const tol = 1e-22 * scale;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] * a[p * m + q];
    if (off <= tol || off === 0) break;
    for (let p = 0; p < m - 1; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (apq === 0) continue;
        const app = a[p * m + p];
        const aqq = a[q * m + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkq = v[k * m + q];
          v[k * m + p] = c * vkp - s * vkq;
          v[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => a[y * m + y] - a[x * m + x] || x - y);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    values[dst] = a[src * m + src];
    for (let k = 0; k < m; k++) vectors[k * m + dst] = v[k * m + src];
  });
  return { values, vectors };
}

/** Relative eigenvalue floor below which a direction counts as numerically zero. */
const RANK_TOL = 1e-10;
/** A column whose norm falls below this share of its norm before projection is dependent: dropped. */
const MGS_DROP = 1e-8;

/**
 * Orthonormal basis (rows × r, r ≤ l) of the column space of A (rows × l, row-major) by modified
 * Gram–Schmidt applied twice ("twice is enough", Giraud et al. 2005); dependent columns are dropped.
 */
function orth(a: Float64Array, rows: number, l: number): { q: Float64Array; r: number } {
  // Column-major working copy: column j is cols[j*rows .. (j+1)*rows).
  const cols = new Float64Array(rows * l);
  for (let i = 0; i < rows; i++) for (let j = 0; j < l; j++) cols[j * rows + i] = a[i * l + j];
  let r = 0;
  for (let j = 0; j < l; j++) {
    const cj = j * rows;
    let before = 0;
    for (let i = 0; i < rows; i++) before += cols[cj + i] * cols[cj + i];
    if (before === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (let t = 0; t < r; t++) {
        const ct = t * rows;
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += cols[ct + i] * cols[cj + i];
        for (let i = 0; i < rows; i++) cols[cj + i] -= dot * cols[ct + i];
      }
    }
    let after = 0;
    for (let i = 0; i < rows; i++) after += cols[cj + i] * cols[cj + i];
    if (after <= MGS_DROP * MGS_DROP * before) continue;
    const inv = 1 / Math.sqrt(after);
    const cr = r * rows;
    for (let i = 0; i < rows; i++) cols[cr + i] = cols[cj + i] * inv;
    r++;
  }
  const q = new Float64Array(rows * r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) q[i * r + j] = cols[j * rows + i];
  return { q, r };
}

/** Keeps the eigenpairs of a Gram matrix above the rank tolerance, at most k: σ = √λ and the eigenvectors (m × kept). */
function topEigen(g: Float64Array, m: number, k: number): { sigma: Float64Array; w: Float64Array; kept: number } {
  const { values, vectors } = symmetricEigen(g, m);
  let kept = 0;
  while (kept < Math.min(k, m) && values[kept] > RANK_TOL * Math.max(values[0], 0) && values[kept] > 0) kept++;
  const sigma = new Float64Array(kept);
  const w = new Float64Array(m * kept);
  for (let j = 0; j < kept; j++) {
    sigma[j] = Math.sqrt(values[j]);
    for (let i = 0; i < m; i++) w[i * kept + j] = vectors[i * m + j];
  }
  return { sigma, w, kept };
}

/**
 * The range finder orthonormalises on the shorter side of X (features when d ≤ n, else items), so
 * the Gram–Schmidt cost is min(n, d)·l² and the long side is only touched by sparse products and
 * one Gram matrix:
 *   d ≤ n: Q (d × r) spans the top right singular vectors (power iterations on XᵀX);
 *          C = X Q = U Σ Wᵀ via eig(CᵀC), so V = Q W.
 *   n < d: Q (n × r) spans the top left singular vectors; Bᵀ = Xᵀ Q, eig(B Bᵀ) = W Λ Wᵀ,
 *          V = Bᵀ W Σ⁻¹.
 */
export function randomizedSvd(x: SparseMatrix, opts: Partial<SvdOptions> = {}, progress?: Progress): SvdResult {
  const o: SvdOptions = { ...DEFAULT_SVD_OPTIONS, ...opts };
  if (!Number.isInteger(o.dimensions) || o.dimensions < 1) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `svd: dimensions must be an integer ≥ 1 (got ${o.dimensions})`, { param: 'dimensions' });
  }
  const n = x.nRows;
  const d = x.nCols;
  const maxRank = Math.min(n, d);
  const empty: SvdResult = { k: 0, nCols: d, singularValues: new Float64Array(0), components: new Float32Array(0) };
  if (maxRank === 0) return empty;
  const k = Math.min(o.dimensions, maxRank);
  const l = Math.min(k + Math.max(0, o.oversample), maxRank);
  const rng = new Rng(o.seed);
  progress?.start('features: svd', o.powerIterations + 2);
  const featureSide = d <= n;
  const short = featureSide ? d : n;
  const toShort = (m: Float64Array, width: number): Float64Array => (featureSide ? sparseTransposeTimesDense(x, m, width) : sparseTimesDense(x, m, width));
  const toLong = (m: Float64Array, width: number): Float64Array => (featureSide ? sparseTimesDense(x, m, width) : sparseTransposeTimesDense(x, m, width));
  // Ω on the short side (short × l), so drawing it costs min(n, d)·l normals, not max(n, d)·l;
  // the first sample Y = (XᵀX or XXᵀ) Ω is then one half power step further than Halko's X Ω.
  const omega = new Float64Array(short * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let y = toShort(toLong(omega, l), l);
  let q = orth(y, short, l);
  progress?.tick(1);
  for (let it = 0; it < o.powerIterations && q.r > 0; it++) {
    y = toShort(toLong(q.q, q.r), q.r);
    q = orth(y, short, q.r);
    progress?.tick(1);
  }
  if (q.r === 0) {
    progress?.stop();
    return empty;
  }
  const r = q.r;
  const c = toLong(q.q, r); // X Q (n × r) or Xᵀ Q (d × r)
  // Gram of c as Qᵀ (Xᵀ X Q) (or Qᵀ (X Xᵀ Q)): one more sparse product instead of a long-side r² pass.
  const { sigma, w, kept } = topEigen(crossProduct(q.q, toShort(c, r), short, r), r, k);
  let v: Float64Array;
  if (featureSide) {
    v = denseTimesSmall(q.q, d, r, w, kept);
  } else {
    const m = new Float64Array(r * kept);
    for (let i = 0; i < r; i++) for (let j = 0; j < kept; j++) m[i * kept + j] = w[i * kept + j] / sigma[j];
    v = denseTimesSmall(c, d, r, m, kept);
  }
  progress?.tick(1);
  progress?.stop();
  return { k: kept, nCols: d, singularValues: sigma, components: Float32Array.from(v) };
}

/** Embeddings X V_k (n × k row-major) of sparse rows in the SVD's feature space. */
export function projectSparse(x: SparseMatrix, svd: SvdResult): Float32Array {
  if (x.nCols !== svd.nCols) {
    throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: rows have ${x.nCols} columns but the SVD was fitted on ${svd.nCols}`);
  }
  const k = svd.k;
  const out = new Float32Array(x.nRows * k);
  const acc = new Float64Array(k);
  const comp = svd.components;
  for (let r = 0; r < x.nRows; r++) {
    acc.fill(0);
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const v = x.values[p];
      const co = x.indices[p] * k;
      for (let j = 0; j < k; j++) acc[j] += v * comp[co + j];
    }
    out.set(acc, r * k);
  }
  return out;
}

/** Scales each row of a dense n × k matrix to unit L2 norm in place (zero rows stay zero). */
export function normalizeDenseRows(e: Float32Array, k: number): void {
  if (k === 0) return;
  const n = e.length / k;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += e[r * k + j] * e[r * k + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < k; j++) e[r * k + j] *= inv;
    }
  }
}
