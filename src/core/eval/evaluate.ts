/**
 * Offline evaluation: rankings → metrics. `evaluateRankings` scores precomputed top-k lists;
 * `evaluate` asks a Recommender for the lists (training items excluded before the cut at k) in
 * batches and scores them as they come, so memory stays at one batch of lists plus the per-user
 * metric values (users × metrics Float64).
 *
 * Who is evaluated: every user of the split (for strong generalization, every held-out user) with
 * at least one relevant test pair (value ≥ relevanceThreshold); the others are skipped and counted.
 * A user whose list comes back empty counts as zero on every ranking metric. The evaluator never
 * reorders a list: ties are broken by the model. Definitions: metrics.ts and docs/metrics.md.
 */
import { performance } from 'node:perf_hooks';
import { RecsysError } from '../errors.js';
import type { CsrRows, InteractionMatrix } from '../data/matrix.js';
import type { Split } from '../data/split-types.js';
import { silentProgress, type Progress, type Rankings, type Recommender } from '../models/recommender.js';
import {
  intraListDiversity,
  itemSelfInformation,
  listMean,
  metricKey,
  MetricScratch,
  popularityPercentiles,
  RANKING_METRICS,
  indexOfSorted,
  rankingMetricsInto,
} from './metrics.js';
import { bootstrapMeanCIs, comparePaired, histogram, type CompareOptions } from './stats.js';
import type { EvalOptions, EvaluationResult, MetricSummary, PairedComparison } from './types.js';

export const DEFAULT_EVAL_OPTIONS: Readonly<EvalOptions> = Object.freeze({
  ks: [1, 5, 10, 20],
  mainK: 10,
  relevanceThreshold: 0,
  bootstrapSamples: 1000,
  seed: 42,
  batchSize: 4096,
});

/** Most points kept in `longTail`; larger catalogues are summed into equal popularity-rank buckets. */
export const LONG_TAIL_MAX_POINTS = 2000;

/** Histogram bins of the per-user distributions (every ranking metric lies in [0, 1]). */
const DISTRIBUTION_BINS = 20;

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Defaults filled in and validated. `ks` is sorted and de-duplicated; `mainK` is added to `ks` when
 * missing (its per-user values are what paired tests and distributions use).
 */
export function resolveEvalOptions(opts: Partial<EvalOptions> = {}): EvalOptions {
  const o: EvalOptions = { ...DEFAULT_EVAL_OPTIONS, ks: [...DEFAULT_EVAL_OPTIONS.ks] };
  for (const [key, value] of Object.entries(opts)) {
    if (value !== undefined) (o as unknown as Record<string, unknown>)[key] = value;
  }
  if (!Array.isArray(o.ks) || o.ks.length === 0 || !o.ks.every(isPositiveInt)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--ks must be a list of positive integers such as 1,5,10,20 (got ${JSON.stringify(o.ks)})`, { flag: '--ks' });
  }
  if (!isPositiveInt(o.mainK)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--main-k must be a positive integer (got ${String(o.mainK)})`, { flag: '--main-k' });
  }
  if (!isPositiveInt(o.batchSize)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `batch size must be a positive integer (got ${String(o.batchSize)})`, { flag: '--batch-size' });
  }
  if (!(Number.isInteger(o.bootstrapSamples) && o.bootstrapSamples >= 1)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--bootstrap must be a positive integer number of resamples (got ${String(o.bootstrapSamples)})`, { flag: '--bootstrap' });
  }
  if (typeof o.relevanceThreshold !== 'number' || !Number.isFinite(o.relevanceThreshold)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--relevance-threshold must be a number (got ${String(o.relevanceThreshold)})`, { flag: '--relevance-threshold' });
  }
  if (!Number.isInteger(o.seed)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--seed must be an integer (got ${String(o.seed)})`, { flag: '--seed' });
  }
  o.ks = [...new Set([...o.ks, o.mainK])].sort((a, b) => a - b);
  return o;
}

/** What `evaluateRankings` needs from a split. All matrices share the split's id maps. */
export interface EvalData {
  /** Training matrix: catalogue size and item popularity (novelty, popularity bias, long tail). */
  train: InteractionMatrix;
  test: InteractionMatrix;
  /**
   * Rows the lists were supposed to exclude (the training matrix, or the fold-in matrix for strong
   * generalization). A listed item found in its user's row is a model bug and throws.
   */
  exclude?: CsrRows | null;
  /** Category code per item index (-1 = unknown); enables diversity@k. */
  itemCategories?: Int32Array | null;
}

/** Users (in index order) with at least one test pair of value ≥ threshold. */
function usersWithRelevant(test: InteractionMatrix, candidates: Int32Array | null, threshold: number): { users: Int32Array; skipped: number } {
  const n = candidates ? candidates.length : test.nUsers;
  const keep = new Int32Array(n);
  let w = 0;
  for (let c = 0; c < n; c++) {
    const u = candidates ? candidates[c] : c;
    for (let p = test.indptr[u]; p < test.indptr[u + 1]; p++) {
      if (test.values[p] >= threshold) {
        keep[w++] = u;
        break;
      }
    }
  }
  return { users: keep.slice(0, w), skipped: n - w };
}

/**
 * Folds rankings batch by batch into per-user metric values and catalogue-level counts, then
 * summarises. Per-user values live in one users × M Float64Array (M = metrics × ks, metric-major
 * within a row), so bootstrap resampling reads one contiguous row per drawn user.
 */
class EvalAccumulator {
  private readonly ks: Int32Array;
  private readonly nks: number;
  private readonly maxK: number;
  private readonly mainIdx: number;
  private readonly m: number;
  private values: Float64Array;
  private userIndex: Int32Array;
  private count = 0;
  private skipped = 0;
  private emptyLists = 0;
  private readonly scratch: MetricScratch;
  private relScratch = new Int32Array(64);
  private gainScratch = new Float32Array(64);
  /** Best (smallest) 0-based position each item reached in any list; maxK = never listed. */
  private readonly bestPosition: Int32Array;
  private readonly mainKCounts: Int32Array;
  private readonly itemUsers: Int32Array;
  private readonly selfInformation: Float64Array;
  private readonly percentiles: Float64Array;
  private readonly categories: Int32Array | null;
  // Per k: sum and count of per-list values (lists where the value is defined).
  private readonly noveltySum: Float64Array;
  private readonly noveltyCount: Float64Array;
  private readonly popSum: Float64Array;
  private readonly diversitySum: Float64Array;
  private readonly diversityCount: Float64Array;
  private metricsSeconds = 0;

  constructor(
    private readonly data: EvalData,
    private readonly opts: EvalOptions,
    private readonly modelName: string,
    capacity: number,
  ) {
    const { train, test } = data;
    if (train.nItems !== test.nItems || train.nUsers !== test.nUsers) {
      throw new RecsysError(
        'RECSYS_ERR_EVAL',
        `train (${train.nUsers} users × ${train.nItems} items) and test (${test.nUsers} × ${test.nItems}) do not share id maps: evaluate on matrices of one split`,
      );
    }
    if (data.itemCategories && data.itemCategories.length !== train.nItems) {
      throw new RecsysError(
        'RECSYS_ERR_EVAL',
        `item categories cover ${data.itemCategories.length} items but the split has ${train.nItems}: build them from the same store (one code per item index, -1 = unknown)`,
      );
    }
    this.ks = Int32Array.from(opts.ks);
    this.nks = this.ks.length;
    this.maxK = this.ks[this.nks - 1];
    this.mainIdx = opts.ks.indexOf(opts.mainK);
    this.m = RANKING_METRICS.length * this.nks;
    this.values = new Float64Array(Math.max(capacity, 1) * this.m);
    this.userIndex = new Int32Array(Math.max(capacity, 1));
    this.scratch = new MetricScratch(this.maxK);
    this.bestPosition = new Int32Array(train.nItems).fill(this.maxK);
    this.mainKCounts = new Int32Array(train.nItems);
    this.categories = data.itemCategories ?? null;

    const t0 = performance.now();
    // Pairs are unique per (user, item), so a column's entry count is its number of distinct users.
    this.itemUsers = train.itemCounts();
    let nTrainUsers = 0;
    for (let u = 0; u < train.nUsers; u++) if (train.indptr[u + 1] > train.indptr[u]) nTrainUsers++;
    this.selfInformation = itemSelfInformation(this.itemUsers, nTrainUsers);
    this.percentiles = popularityPercentiles(this.itemUsers);
    this.noveltySum = new Float64Array(this.nks);
    this.noveltyCount = new Float64Array(this.nks);
    this.popSum = new Float64Array(this.nks);
    this.diversitySum = new Float64Array(this.nks);
    this.diversityCount = new Float64Array(this.nks);
    this.metricsSeconds += (performance.now() - t0) / 1000;
  }

  /** Skipped users counted before recommending (evaluate() filters them out up front). */
  addSkipped(n: number): void {
    this.skipped += n;
  }

  private grow(): void {
    const cap = this.userIndex.length * 2;
    const v = new Float64Array(cap * this.m);
    v.set(this.values);
    this.values = v;
    const u = new Int32Array(cap);
    u.set(this.userIndex);
    this.userIndex = u;
  }

  add(rankings: Rankings): void {
    const t0 = performance.now();
    const { test, exclude } = this.data;
    const threshold = this.opts.relevanceThreshold;
    const width = rankings.k;
    const nRows = rankings.users.length;
    if (rankings.items.length !== nRows * width) {
      throw new RecsysError('RECSYS_ERR_EVAL', `model "${this.modelName}" returned ${rankings.items.length} items for ${nRows} users × k=${width}: Rankings.items must be users×k, padded with -1`);
    }
    const nItems = this.data.train.nItems;
    const listLen = Math.min(width, this.maxK);
    const ks = this.ks;
    const nks = this.nks;
    for (let r = 0; r < nRows; r++) {
      const u = rankings.users[r];
      if (!(u >= 0 && u < test.nUsers)) {
        throw new RecsysError('RECSYS_ERR_EVAL', `rankings row ${r} has user index ${u}, outside the split's ${test.nUsers} users`);
      }
      // Relevant set: the test row filtered by threshold (no copy when every pair passes).
      const start = test.indptr[u];
      const end = test.indptr[u + 1];
      let nRel = 0;
      for (let p = start; p < end; p++) if (test.values[p] >= threshold) nRel++;
      if (nRel === 0) {
        this.skipped++;
        continue;
      }
      let relevant: Int32Array;
      let gains: Float32Array;
      if (nRel === end - start) {
        relevant = test.indices.subarray(start, end);
        gains = test.values.subarray(start, end);
      } else {
        if (this.relScratch.length < nRel) {
          this.relScratch = new Int32Array(nRel * 2);
          this.gainScratch = new Float32Array(nRel * 2);
        }
        let w = 0;
        for (let p = start; p < end; p++) {
          if (test.values[p] < threshold) continue;
          this.relScratch[w] = test.indices[p];
          this.gainScratch[w++] = test.values[p];
        }
        relevant = this.relScratch.subarray(0, nRel);
        gains = this.gainScratch.subarray(0, nRel);
      }

      const ranked = rankings.items.subarray(r * width, r * width + listLen);
      let listed = 0;
      for (let p = 0; p < listLen; p++) {
        const it = ranked[p];
        if (it < 0) continue;
        if (it >= nItems) {
          throw new RecsysError('RECSYS_ERR_EVAL', `model "${this.modelName}" recommended item index ${it} to user ${test.users.idOf(u)}, outside the catalogue of ${nItems} items: was it trained on another dataset?`);
        }
        if (exclude && indexOfSorted(exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]), it) >= 0) {
          throw new RecsysError(
            'RECSYS_ERR_EVAL',
            `model "${this.modelName}" recommended item ${test.items.idOf(it)} to user ${test.users.idOf(u)} although it is in the user's excluded (training) items: its recommend() must drop opts.exclude rows before cutting at k`,
          );
        }
        listed++;
        if (p < this.bestPosition[it]) this.bestPosition[it] = p;
      }
      if (listed === 0) this.emptyLists++;

      if (this.count === this.userIndex.length) this.grow();
      rankingMetricsInto(ranked, relevant, gains, ks, this.values, this.count * this.m, this.scratch);
      this.userIndex[this.count++] = u;

      if (listed > 0) {
        const mainK = this.opts.mainK;
        for (let p = 0; p < Math.min(mainK, listLen); p++) if (ranked[p] >= 0) this.mainKCounts[ranked[p]]++;
        for (let j = 0; j < nks; j++) {
          const k = ks[j];
          const nov = listMean(ranked, k, this.selfInformation);
          if (!Number.isNaN(nov)) {
            // A list with a valid item at rank ≤ k has both values defined.
            this.noveltySum[j] += nov;
            this.noveltyCount[j]++;
            this.popSum[j] += listMean(ranked, k, this.percentiles);
          }
          if (this.categories && k > 1) {
            const div = intraListDiversity(ranked, k, this.categories);
            if (!Number.isNaN(div)) {
              this.diversitySum[j] += div;
              this.diversityCount[j]++;
            }
          }
        }
      }
    }
    this.metricsSeconds += (performance.now() - t0) / 1000;
  }

  finish(recommendSeconds: number): EvaluationResult {
    const t0 = performance.now();
    const n = this.count;
    if (n === 0) {
      throw new RecsysError(
        'RECSYS_ERR_EVAL',
        `no user has a relevant test item (${this.skipped} skipped): check the split's test fraction, or lower --relevance-threshold (now ${this.opts.relevanceThreshold})`,
        { flag: '--relevance-threshold' },
      );
    }
    const { ks, nks, m } = this;
    const values = this.values.subarray(0, n * m);
    const cis = bootstrapMeanCIs(values, n, m, { samples: this.opts.bootstrapSamples, seed: this.opts.seed });

    const metrics: Record<string, MetricSummary> = {};
    const perUser: Record<string, number[]> = {};
    const distributions: EvaluationResult['distributions'] = {};
    const column = new Float64Array(n);
    for (let mi = 0; mi < RANKING_METRICS.length; mi++) {
      for (let j = 0; j < nks; j++) {
        const c = mi * nks + j;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const v = values[i * m + c];
          column[i] = v;
          sum += v;
        }
        const mu = sum / n;
        let ss = 0;
        for (let i = 0; i < n; i++) ss += (column[i] - mu) * (column[i] - mu);
        const key = metricKey(RANKING_METRICS[mi], ks[j]);
        metrics[key] = { mean: mu, ci95: [cis[2 * c], cis[2 * c + 1]], std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
        if (j === this.mainIdx) {
          perUser[key] = Array.from(column);
          distributions[key] = histogram(column, DISTRIBUTION_BINS, 0, 1);
        }
      }
    }

    const nItems = this.data.train.nItems;
    const beyondAccuracy: Record<string, number> = {};
    for (let j = 0; j < nks; j++) {
      const k = ks[j];
      let distinct = 0;
      for (let i = 0; i < nItems; i++) if (this.bestPosition[i] < k) distinct++;
      beyondAccuracy[metricKey('coverage', k)] = nItems > 0 ? distinct / nItems : 0;
      if (this.categories && this.diversityCount[j] > 0) beyondAccuracy[metricKey('diversity', k)] = this.diversitySum[j] / this.diversityCount[j];
      if (this.noveltyCount[j] > 0) {
        beyondAccuracy[metricKey('novelty', k)] = this.noveltySum[j] / this.noveltyCount[j];
        beyondAccuracy[metricKey('popularity_bias', k)] = this.popSum[j] / this.noveltyCount[j];
      }
    }

    const test = this.data.test;
    const evaluatedIds = new Array<string>(n);
    for (let i = 0; i < n; i++) evaluatedIds[i] = test.users.idOf(this.userIndex[i]);

    const longTail = this.longTail();
    this.metricsSeconds += (performance.now() - t0) / 1000;
    return {
      model: this.modelName,
      ks: Array.from(ks),
      mainK: this.opts.mainK,
      metrics,
      beyondAccuracy,
      perUser,
      distributions,
      users: { evaluated: n, skippedNoTest: this.skipped, emptyLists: this.emptyLists, evaluatedIds },
      longTail,
      timings: { recommendSeconds, metricsSeconds: this.metricsSeconds },
    };
  }

  /**
   * Items ordered by training popularity (distinct users, descending; ties by item index), with how
   * often each was listed in the top mainK. Catalogues above LONG_TAIL_MAX_POINTS items are summed
   * into equal buckets of consecutive popularity ranks (`rankBucketSize` items each).
   */
  private longTail(): EvaluationResult['longTail'] {
    const nItems = this.itemUsers.length;
    const order = new Int32Array(nItems);
    for (let i = 0; i < nItems; i++) order[i] = i;
    const pop = this.itemUsers;
    order.sort((a, b) => pop[b] - pop[a] || a - b);
    const bucket = Math.max(1, Math.ceil(nItems / LONG_TAIL_MAX_POINTS));
    const nBuckets = Math.ceil(nItems / bucket);
    const itemPopularity = new Array<number>(nBuckets).fill(0);
    const recommendedCount = new Array<number>(nBuckets).fill(0);
    for (let r = 0; r < nItems; r++) {
      const b = Math.floor(r / bucket);
      itemPopularity[b] += pop[order[r]];
      recommendedCount[b] += this.mainKCounts[order[r]];
    }
    return { itemPopularity, recommendedCount, rankBucketSize: bucket };
  }
}

/**
 * Scores precomputed rankings. Rows whose user has no relevant test pair are skipped and counted.
 * Only the first max(ks) positions of each row count; a row narrower than a k is padded with empty
 * slots (so precision@20 of a top-10 list is at most 0.5).
 */
export function evaluateRankings(rankings: Rankings, data: EvalData, opts: Partial<EvalOptions> & { model?: string } = {}): EvaluationResult {
  const { model, ...rest } = opts;
  const o = resolveEvalOptions(rest);
  const acc = new EvalAccumulator(data, o, model ?? 'rankings', rankings.users.length);
  acc.add(rankings);
  return acc.finish(0);
}

/**
 * Optional capability of a personal model for strong generalization: learn the held-out users'
 * representations from their fold-in rows (e.g. one ALS half-step) without retraining items.
 */
export interface FoldInCapable {
  foldIn(data: InteractionMatrix, users: Int32Array): Promise<void>;
}

function canFoldIn(model: Recommender): model is Recommender & FoldInCapable {
  return typeof (model as Partial<FoldInCapable>).foldIn === 'function';
}

export interface EvaluateExtras {
  /** Category code per item index (-1 = unknown): enables diversity@k. */
  itemCategories?: Int32Array;
  progress?: Progress;
}

/**
 * Evaluates a fitted model on a split. The model is asked for max(ks) items per user with
 * `exclude` = the training matrix (strong generalization: the fold-in matrix, after calling the
 * model's optional `foldIn` on the held-out users), in batches of `batchSize` users.
 */
export async function evaluate(model: Recommender, split: Split, opts: Partial<EvalOptions> = {}, extras: EvaluateExtras = {}): Promise<EvaluationResult> {
  const o = resolveEvalOptions(opts);
  const progress = extras.progress ?? silentProgress;
  const { train, test } = split;
  if (model.itemIds && model.itemIds.size !== train.nItems) {
    throw new RecsysError(
      'RECSYS_ERR_EVAL',
      `model "${model.name}" knows ${model.itemIds.size} items but the split has ${train.nItems}: train it on this split (recsys train) before evaluating`,
    );
  }

  const strong = split.config.method === 'strong' && split.foldIn !== null;
  let candidates: Int32Array | null = null;
  if (strong) {
    const foldIn = split.foldIn as InteractionMatrix;
    const held: number[] = [];
    for (let u = 0; u < test.nUsers; u++) if (foldIn.rowLength(u) > 0 || test.rowLength(u) > 0) held.push(u);
    candidates = Int32Array.from(held);
  }
  const { users, skipped } = usersWithRelevant(test, candidates, o.relevanceThreshold);
  const exclude: CsrRows = strong ? (split.foldIn as InteractionMatrix) : train;
  const acc = new EvalAccumulator({ train, test, exclude, itemCategories: extras.itemCategories ?? null }, o, model.name, users.length);
  acc.addSkipped(skipped);

  let recommendSeconds = 0;
  if (strong && canFoldIn(model)) {
    const t0 = performance.now();
    await model.foldIn(split.foldIn as InteractionMatrix, candidates as Int32Array);
    recommendSeconds += (performance.now() - t0) / 1000;
  }

  const maxK = o.ks[o.ks.length - 1];
  progress.start('evaluate', users.length);
  try {
    for (let start = 0; start < users.length; start += o.batchSize) {
      const batch = users.slice(start, Math.min(start + o.batchSize, users.length));
      const t0 = performance.now();
      const rankings = await model.recommend(batch, maxK, { exclude });
      recommendSeconds += (performance.now() - t0) / 1000;
      if (rankings.users.length !== batch.length || rankings.users.some((u, r) => u !== batch[r])) {
        throw new RecsysError('RECSYS_ERR_EVAL', `model "${model.name}" returned rankings for other users than asked (row order must follow the users argument)`);
      }
      acc.add(rankings);
      progress.tick(batch.length);
    }
  } finally {
    progress.stop();
  }
  return acc.finish(recommendSeconds);
}

/**
 * Paired comparisons of a baseline and a candidate evaluated on the same split: one
 * PairedComparison per per-user metric both hold (or the given ones). Throws when the two were
 * evaluated on different users.
 */
export function compareEvaluations(
  baseline: EvaluationResult,
  candidate: EvaluationResult,
  opts: CompareOptions & { metrics?: string[] } = {},
): PairedComparison[] {
  const a = baseline.users.evaluatedIds;
  const b = candidate.users.evaluatedIds;
  let same = a.length === b.length;
  for (let i = 0; same && i < a.length; i++) same = a[i] === b[i];
  if (!same) {
    throw new RecsysError(
      'RECSYS_ERR_EVAL',
      `"${baseline.model}" and "${candidate.model}" were evaluated on different users (${a.length} vs ${b.length}): evaluate both on the same split and relevance threshold to compare them`,
    );
  }
  const keys = opts.metrics ?? Object.keys(baseline.perUser).filter((k) => k in candidate.perUser);
  return keys.map((key) => {
    const x = baseline.perUser[key];
    const y = candidate.perUser[key];
    if (!x || !y) {
      throw new RecsysError('RECSYS_ERR_EVAL', `no per-user values of ${key} in both evaluations; per-user values exist only at main k (${baseline.mainK}): pick one of ${Object.keys(baseline.perUser).join(', ')}`);
    }
    return comparePaired(key, x, y, { ...opts, baseline: baseline.model, candidate: candidate.model });
  });
}
