/**
 * Ranking metrics over one user's ranked list, as pure functions (after ranx / Microsoft
 * Recommenders: every definition and its denominator is written next to the function; see
 * docs/metrics.md for the full write-up with edge cases).
 *
 * Conventions shared by every function here:
 * - `ranked` is the user's list, best first (a slice of Rankings.items). Position p (0-based) has
 *   rank r = p + 1. Only the first k positions count; a list shorter than k, or a position holding
 *   -1 (padding / empty slot), is an empty slot that can never be a hit. Positions are never shifted,
 *   so an empty list scores 0 on every metric.
 * - `relevant` is the user's relevant test items, sorted ascending, without duplicates; `gains`
 *   (graded NDCG only) holds the test value `rel` of each relevant item, aligned with `relevant`.
 * - An item that appears twice in a list counts as a hit only at its first (best) rank.
 * - With no relevant items (|R| = 0) every function returns 0; the evaluator never averages such
 *   users in (they are skipped and counted).
 * - Ties are whatever order the list has: the model breaks ties (TopK: smaller item index first),
 *   metrics never reorder.
 */

/** The ranking metrics, in the order `rankingMetricsInto` writes them. */
export const RANKING_METRICS = [
  'precision',
  'recall',
  'recall_capped',
  'ndcg',
  'ndcg_graded',
  'map',
  'map_capped',
  'mrr',
  'hit_rate',
] as const;
export type RankingMetric = (typeof RANKING_METRICS)[number];

/** Beyond-accuracy metrics (computed over all evaluated users' lists, not per user). */
export const BEYOND_ACCURACY_METRICS = ['coverage', 'diversity', 'novelty', 'popularity_bias'] as const;
export type BeyondAccuracyMetric = (typeof BEYOND_ACCURACY_METRICS)[number];

/** Key used in reports: 'ndcg@10'. */
export function metricKey(metric: string, k: number): string {
  return `${metric}@${k}`;
}

/** Index of `item` in the ascending array `sorted`, or -1. */
export function indexOfSorted(sorted: Int32Array, item: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v < item) lo = mid + 1;
    else if (v > item) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** Rank discount 1/log2(rank + 1): rank 1 → 1, rank 2 → 0.6309, rank 3 → 0.5. */
export function discount(rank: number): number {
  return 1 / Math.log2(rank + 1);
}

/**
 * Ranks (1-based, ascending) of the hits in the top k of `ranked`, paired with the index of the hit
 * in `relevant`. Shared by the single-metric functions below; duplicates count once.
 */
function hitsInTopK(ranked: Int32Array, relevant: Int32Array, k: number): { ranks: number[]; relIndex: number[] } {
  const ranks: number[] = [];
  const relIndex: number[] = [];
  const seen = new Uint8Array(relevant.length);
  const n = Math.min(k, ranked.length);
  for (let p = 0; p < n; p++) {
    const item = ranked[p];
    if (item < 0) continue;
    const j = indexOfSorted(relevant, item);
    if (j < 0 || seen[j]) continue;
    seen[j] = 1;
    ranks.push(p + 1);
    relIndex.push(j);
  }
  return { ranks, relIndex };
}

/** precision@k = hits@k / k. Denominator k, not the list length: a short or empty list is penalised. */
export function precisionAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  return hitsInTopK(ranked, relevant, k).ranks.length / k;
}

/** recall@k = hits@k / |R|. Cannot reach 1 when |R| > k. */
export function recallAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0) return 0;
  return hitsInTopK(ranked, relevant, k).ranks.length / relevant.length;
}

/** recall_capped@k = hits@k / min(k, |R|) (a.k.a. "R-precision style" recall; reaches 1 for a perfect list). */
export function recallCappedAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  return hitsInTopK(ranked, relevant, k).ranks.length / Math.min(k, relevant.length);
}

/** IDCG with binary gains: Σ_{r=1}^{min(k,|R|)} 1/log2(r+1). */
export function idealDcgBinary(k: number, nRelevant: number): number {
  const n = Math.min(k, nRelevant);
  let s = 0;
  for (let r = 1; r <= n; r++) s += discount(r);
  return s;
}

/**
 * ndcg@k (binary gain) = DCG@k / IDCG@k, DCG@k = Σ_{hit ranks r ≤ k} 1/log2(r+1),
 * IDCG@k = Σ_{r=1}^{min(k,|R|)} 1/log2(r+1) (all of the first min(k,|R|) ranks hit).
 */
export function ndcgAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  let dcg = 0;
  for (const r of hitsInTopK(ranked, relevant, k).ranks) dcg += discount(r);
  return dcg / idealDcgBinary(k, relevant.length);
}

/** Graded gain of a test value: 2^rel − 1 (rating 5 → 31, rating 1 → 1, value 0 → 0). */
export function gradedGain(rel: number): number {
  return Math.pow(2, rel) - 1;
}

/**
 * ndcg_graded@k = DCG@k / IDCG@k with gain 2^rel − 1 (rel = the test value of the hit item):
 * DCG@k = Σ_{hit ranks r ≤ k} (2^rel − 1)/log2(r+1); IDCG@k places the min(k,|R|) largest gains of
 * R at ranks 1.. in descending order. IDCG = 0 (every relevant gain is 0) gives 0.
 */
export function ndcgGradedAtK(ranked: Int32Array, relevant: Int32Array, gains: Float32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  const { ranks, relIndex } = hitsInTopK(ranked, relevant, k);
  let dcg = 0;
  for (let h = 0; h < ranks.length; h++) dcg += gradedGain(gains[relIndex[h]]) * discount(ranks[h]);
  const sorted = Float64Array.from(gains).sort();
  let idcg = 0;
  const n = Math.min(k, relevant.length);
  for (let r = 1; r <= n; r++) idcg += gradedGain(sorted[sorted.length - r]) * discount(r);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Σ over hit ranks r ≤ k of precision@r = (hits within the top r) / r: the numerator of AP. */
function averagePrecisionSum(ranked: Int32Array, relevant: Int32Array, k: number): number {
  const { ranks } = hitsInTopK(ranked, relevant, k);
  let s = 0;
  for (let h = 0; h < ranks.length; h++) s += (h + 1) / ranks[h];
  return s;
}

/** map@k (per user: AP@k) = (Σ_{hit ranks r ≤ k} precision@r) / |R|. */
export function mapAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  return averagePrecisionSum(ranked, relevant, k) / relevant.length;
}

/** map_capped@k = (Σ_{hit ranks r ≤ k} precision@r) / min(k, |R|). Reaches 1 for a perfect list. */
export function mapCappedAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  return averagePrecisionSum(ranked, relevant, k) / Math.min(k, relevant.length);
}

/** mrr@k = 1 / (rank of the first hit within the top k), 0 when there is none. */
export function mrrAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  const { ranks } = hitsInTopK(ranked, relevant, k);
  return ranks.length > 0 ? 1 / ranks[0] : 0;
}

/** hit_rate@k = 1 when the top k hold at least one relevant item, else 0. */
export function hitRateAtK(ranked: Int32Array, relevant: Int32Array, k: number): number {
  if (relevant.length === 0 || k <= 0) return 0;
  return hitsInTopK(ranked, relevant, k).ranks.length > 0 ? 1 : 0;
}

/** Reusable buffers for `rankingMetricsInto` (one per evaluation, so the hot loop allocates nothing). */
export class MetricScratch {
  seen = new Uint8Array(64);
  sortedGains = new Float64Array(64);
  discounts: Float64Array;

  constructor(maxK: number) {
    this.discounts = new Float64Array(maxK);
    for (let p = 0; p < maxK; p++) this.discounts[p] = discount(p + 1);
  }

  ensure(nRelevant: number): void {
    if (this.seen.length < nRelevant) {
      this.seen = new Uint8Array(nRelevant * 2);
      this.sortedGains = new Float64Array(nRelevant * 2);
    }
  }
}

/**
 * Every ranking metric at every cut-off in one pass over the list: the evaluator's hot path. Gives
 * exactly the values of the single-metric functions above (tested). `ks` must be ascending, unique,
 * positive. Writes out[offset + m*ks.length + j] = metric RANKING_METRICS[m] at ks[j]. With `gains`
 * null, ndcg_graded equals ndcg (every relevant item has gain 1).
 */
export function rankingMetricsInto(
  ranked: Int32Array,
  relevant: Int32Array,
  gains: Float32Array | null,
  ks: Int32Array,
  out: Float64Array,
  offset: number,
  scratch: MetricScratch,
): void {
  const nks = ks.length;
  const nRel = relevant.length;
  if (nRel === 0) {
    out.fill(0, offset, offset + RANKING_METRICS.length * nks);
    return;
  }
  const maxK = ks[nks - 1];
  const n = Math.min(maxK, ranked.length);
  scratch.ensure(nRel);
  const seen = scratch.seen;
  seen.fill(0, 0, nRel);
  const disc = scratch.discounts;
  const sg = scratch.sortedGains;
  if (gains) {
    for (let j = 0; j < nRel; j++) sg[j] = gains[j];
    sg.subarray(0, nRel).sort();
  }

  let hits = 0;
  let dcg = 0;
  let dcgGraded = 0;
  let apSum = 0;
  let firstHit = 0;
  let idcg = 0;
  let idcgGraded = 0;
  let kIdx = 0;
  for (let p = 0; p < maxK; p++) {
    if (p < nRel) {
      idcg += disc[p];
      idcgGraded += gains ? (Math.pow(2, sg[nRel - 1 - p]) - 1) * disc[p] : disc[p];
    }
    if (p < n) {
      const item = ranked[p];
      if (item >= 0) {
        const j = indexOfSorted(relevant, item);
        if (j >= 0 && seen[j] === 0) {
          seen[j] = 1;
          hits++;
          dcg += disc[p];
          dcgGraded += gains ? (Math.pow(2, gains[j]) - 1) * disc[p] : disc[p];
          apSum += hits / (p + 1);
          if (firstHit === 0) firstHit = p + 1;
        }
      }
    }
    while (kIdx < nks && ks[kIdx] === p + 1) {
      const k = p + 1;
      const cap = k < nRel ? k : nRel;
      out[offset + 0 * nks + kIdx] = hits / k;
      out[offset + 1 * nks + kIdx] = hits / nRel;
      out[offset + 2 * nks + kIdx] = hits / cap;
      out[offset + 3 * nks + kIdx] = dcg / idcg;
      out[offset + 4 * nks + kIdx] = idcgGraded > 0 ? dcgGraded / idcgGraded : 0;
      out[offset + 5 * nks + kIdx] = apSum / nRel;
      out[offset + 6 * nks + kIdx] = apSum / cap;
      out[offset + 7 * nks + kIdx] = firstHit > 0 ? 1 / firstHit : 0;
      out[offset + 8 * nks + kIdx] = hits > 0 ? 1 : 0;
      kIdx++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Beyond accuracy. Per-list helpers return NaN when the value is undefined for that list (the
// evaluator leaves such lists out of the mean); catalogue-level helpers take item statistics
// computed once from the training matrix.

/**
 * coverage@k = |distinct items in the top k of any list| / nItems (catalogue = every item of the
 * dataset's id map). `items` is the flat users×width Rankings.items array.
 */
export function catalogCoverage(items: Int32Array, width: number, k: number, nItems: number): number {
  if (nItems === 0) return 0;
  const seen = new Uint8Array(nItems);
  let distinct = 0;
  const nRows = width > 0 ? items.length / width : 0;
  const kk = Math.min(k, width);
  for (let r = 0; r < nRows; r++) {
    for (let p = 0; p < kk; p++) {
      const it = items[r * width + p];
      if (it >= 0 && seen[it] === 0) {
        seen[it] = 1;
        distinct++;
      }
    }
  }
  return distinct / nItems;
}

/**
 * Intra-list diversity by category of one list at k: among pairs {i, j} of the top-k items whose
 * categories are both known (code ≥ 0), the fraction with different categories. NaN when fewer than
 * one such pair exists (k = 1, or < 2 items with a known category). Duplicated items are not
 * de-duplicated (a list should not hold them).
 */
export function intraListDiversity(ranked: Int32Array, k: number, categories: Int32Array): number {
  const n = Math.min(k, ranked.length);
  let pairs = 0;
  let different = 0;
  for (let p = 0; p < n; p++) {
    const ip = ranked[p];
    if (ip < 0) continue;
    const cp = categories[ip];
    if (cp < 0) continue;
    for (let q = 0; q < p; q++) {
      const iq = ranked[q];
      if (iq < 0) continue;
      const cq = categories[iq];
      if (cq < 0) continue;
      pairs++;
      if (cq !== cp) different++;
    }
  }
  return pairs > 0 ? different / pairs : NaN;
}

/**
 * Self-information of each item, −log2(pop_i / nTrainUsers), where pop_i = number of training users
 * who interacted with item i and nTrainUsers = users with at least one training pair. An item no
 * training user touched (pop_i = 0) would be infinitely novel; it gets the smoothed probability
 * (0 + 1)/(nTrainUsers + 1) instead, i.e. slightly more novel than an item seen once.
 */
export function itemSelfInformation(itemUserCounts: Int32Array, nTrainUsers: number): Float64Array {
  const out = new Float64Array(itemUserCounts.length);
  for (let i = 0; i < out.length; i++) {
    const c = itemUserCounts[i];
    out[i] = c > 0 ? -Math.log2(c / nTrainUsers) : -Math.log2(1 / (nTrainUsers + 1));
  }
  return out;
}

/** Mean of a per-item statistic over the valid (≥ 0) items in the top k of one list; NaN for an empty list. */
export function listMean(ranked: Int32Array, k: number, perItem: Float64Array): number {
  const n = Math.min(k, ranked.length);
  let s = 0;
  let c = 0;
  for (let p = 0; p < n; p++) {
    const it = ranked[p];
    if (it < 0) continue;
    s += perItem[it];
    c++;
  }
  return c > 0 ? s / c : NaN;
}

/** novelty of one list at k = mean self-information of its items (bits); NaN for an empty list. */
export function listNovelty(ranked: Int32Array, k: number, selfInformation: Float64Array): number {
  return listMean(ranked, k, selfInformation);
}

/**
 * Training-popularity percentile of each item, mid-rank for ties:
 * pct_i = (#{j : pop_j < pop_i} + (#{j : pop_j = pop_i} − 1)/2) / (nItems − 1), in [0, 1].
 * The most popular item (no ties) is 1, the least popular 0; a catalogue where every item is equally
 * popular is 0.5 everywhere (so 0.5 means "no popularity bias", as for a uniformly random list).
 */
export function popularityPercentiles(itemCounts: Int32Array): Float64Array {
  const n = itemCounts.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  if (n === 1) {
    out[0] = 0.5;
    return out;
  }
  const sorted = Int32Array.from(itemCounts).sort();
  // For each distinct count: less = first index of it in `sorted`, equal = run length.
  const pct = new Map<number, number>();
  let start = 0;
  while (start < n) {
    let end = start;
    while (end < n && sorted[end] === sorted[start]) end++;
    pct.set(sorted[start], (start + (end - start - 1) / 2) / (n - 1));
    start = end;
  }
  for (let i = 0; i < n; i++) out[i] = pct.get(itemCounts[i]) as number;
  return out;
}

/** popularity_bias of one list at k = mean popularity percentile of its items; NaN for an empty list. */
export function listPopularityBias(ranked: Int32Array, k: number, percentiles: Float64Array): number {
  return listMean(ranked, k, percentiles);
}
