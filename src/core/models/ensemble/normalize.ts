/**
 * Score normalisation for the ensemble blend. Members score on unrelated scales (an ALS dot product
 * is unbounded, a content cosine lies in [−1, 1], popularity is a count in the hundreds), so a raw
 * weighted sum lets the member with the widest scale decide alone. Each member's scores are mapped
 * to a common scale per user before blending.
 *
 * The statistics of a (member, user) pair come from the member's OWN top-N list for that user (the
 * candidates it proposed, exclusions applied), not from the union of all members' candidates: a
 * member's top-N is what it is confident about, and it is also what `score(user, items)` can
 * recompute without knowing what the other members proposed, so `score` agrees with `recommend`.
 * Every candidate in the union (also those other members proposed) is then mapped with those
 * statistics:
 *
 *   minmax : n(s) = (s − min_N) / (max_N − min_N)          1 on the member's best item, 0 on its N-th;
 *                                                          items it ranks below its N-th go below 0.
 *                                                          max_N = min_N (flat list): n = 1 for s ≥ max, else 0.
 *   zscore : n(s) = (s − mean_N) / std_N                    population std; std_N = 0 → n = 0.
 *   rank   : n(s) = 1 / (c + r(s)),  r(s) = 1 + #{top-N scores > s}
 *            reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009, c = 60): ties share the
 *            best rank; an item below the whole top-N list gets r = N + 1.
 *   none   : n(s) = s                                        the design's raw weighted sum.
 *
 * A score that is not finite (NaN, ±Infinity: the member cannot score the item, e.g. ALS for an item
 * it has no factors for) is "missing" and filled by `fillMissing`:
 *   min  : the lowest normalised value any candidate got from that member for this user (0 if none);
 *   zero : 0;
 *   skip : left out: the blend averages over the members that could score the item
 *          (Σ_m∈A w_m n_m / Σ_m∈A w_m · Σ_m w_m, A = members with a value).
 */
import { RecsysError } from '../../errors.js';

export const NORMALIZATIONS = ['minmax', 'zscore', 'rank', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const MISSING_MODES = ['min', 'zero', 'skip'] as const;
export type MissingMode = (typeof MISSING_MODES)[number];

/** Reciprocal-rank constant of Cormack et al. (2009). */
export const DEFAULT_RRF_K = 60;

/** Per (member, user) statistics of the member's own top-N scores. */
export interface NormStats {
  method: Normalization;
  /** Finite scores of the top-N, sorted descending (rank normalisation reads it). */
  sortedDesc: Float64Array;
  min: number;
  max: number;
  mean: number;
  std: number;
  rrfK: number;
}

/** Statistics over the finite values of `topScores` (a member's top-N scores for one user). */
export function normStats(method: Normalization, topScores: ArrayLike<number>, rrfK = DEFAULT_RRF_K): NormStats {
  let n = 0;
  for (let j = 0; j < topScores.length; j++) if (Number.isFinite(topScores[j])) n++;
  const sorted = new Float64Array(n);
  let w = 0;
  let sum = 0;
  for (let j = 0; j < topScores.length; j++) {
    const v = topScores[j];
    if (!Number.isFinite(v)) continue;
    sorted[w++] = v;
    sum += v;
  }
  sorted.sort();
  sorted.reverse();
  const mean = n > 0 ? sum / n : 0;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (sorted[j] - mean) * (sorted[j] - mean);
  return {
    method,
    sortedDesc: sorted,
    min: n > 0 ? sorted[n - 1] : 0,
    max: n > 0 ? sorted[0] : 0,
    mean,
    std: n > 0 ? Math.sqrt(ss / n) : 0,
    rrfK,
  };
}

/** 1 + number of values in the descending array strictly greater than v (binary search). */
function rankOf(sortedDesc: Float64Array, v: number): number {
  let lo = 0;
  let hi = sortedDesc.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedDesc[mid] > v) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** The normalised value of one raw score (NaN when the raw score is not finite: missing). */
export function normalizeValue(stats: NormStats, v: number): number {
  if (!Number.isFinite(v)) return NaN;
  switch (stats.method) {
    case 'none':
      return v;
    case 'minmax': {
      const range = stats.max - stats.min;
      if (!(range > 0)) return stats.sortedDesc.length === 0 ? 0 : v >= stats.max ? 1 : 0;
      return (v - stats.min) / range;
    }
    case 'zscore':
      return stats.std > 0 ? (v - stats.mean) / stats.std : 0;
    case 'rank':
      return 1 / (stats.rrfK + rankOf(stats.sortedDesc, v));
  }
}

/** Normalise raw scores into `out` (NaN marks missing values). */
export function normalizeInto(stats: NormStats, raw: ArrayLike<number>, out: Float64Array, offset = 0, stride = 1): void {
  for (let j = 0; j < raw.length; j++) out[offset + j * stride] = normalizeValue(stats, raw[j]);
}

/**
 * Replace the NaNs of one member's column (`n` values at offset, stride) by the missing value:
 * 'min' → the column's lowest finite value (0 when the column has none), 'zero' → 0, 'skip' → stays
 * NaN (the blend leaves it out).
 */
export function fillMissing(mode: MissingMode, values: Float64Array, n: number, offset = 0, stride = 1): void {
  if (mode === 'skip') return;
  let fill = 0;
  if (mode === 'min') {
    let lo = Infinity;
    for (let j = 0; j < n; j++) {
      const v = values[offset + j * stride];
      if (v < lo) lo = v;
    }
    fill = Number.isFinite(lo) ? lo : 0;
  }
  for (let j = 0; j < n; j++) {
    const p = offset + j * stride;
    if (Number.isNaN(values[p])) values[p] = fill;
  }
}

/**
 * Weighted blend of normalised member scores. `norm` is row-major [nCandidates × nMembers]; NaN
 * entries (missing under 'skip') are left out and the remaining weights rescaled to the full weight
 * sum; a candidate no member could score gets −Infinity.
 */
export function blendInto(norm: Float64Array, nCandidates: number, weights: ArrayLike<number>, out: Float64Array): void {
  const m = weights.length;
  let total = 0;
  for (let j = 0; j < m; j++) total += weights[j];
  for (let c = 0; c < nCandidates; c++) {
    let s = 0;
    let wsum = 0;
    let missing = false;
    const o = c * m;
    for (let j = 0; j < m; j++) {
      const v = norm[o + j];
      if (Number.isNaN(v)) {
        missing = true;
        continue;
      }
      s += weights[j] * v;
      wsum += weights[j];
    }
    if (!missing) out[c] = s;
    else out[c] = wsum > 0 ? (s / wsum) * total : -Infinity;
  }
}

export function checkNormalization(value: string, flag = '--param'): Normalization {
  if ((NORMALIZATIONS as readonly string[]).includes(value)) return value as Normalization;
  throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `unknown normalization '${value}'; use one of ${NORMALIZATIONS.join(', ')}`, { flag });
}
