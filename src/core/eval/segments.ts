/**
 * Metrics by segment, so that the effect of each rule and of the cold-start router is visible where
 * it acts (a popularity boost helps users with short histories and hurts the long tail; a router
 * only changes the 0 and 1–4 buckets):
 *
 *  - by user history: users bucketed by their training interactions (fold-in interactions under
 *    strong generalization) into 0, 1–4, 5–19 and 20+; per bucket the main-k ranking metrics with
 *    bootstrap 95% CIs (from the evaluator's per-user values), intra-list diversity, novelty and
 *    catalogue coverage of the bucket's lists;
 *  - by item popularity: items ordered by training popularity (distinct users, ties by index) and cut
 *    where the cumulative share of training interactions passes 1/3 (head) and 2/3 (mid); the rest
 *    with ≥ 1 interaction is the tail, items with none are cold. Per bucket: relevant test pairs, how
 *    many were in the user's top k (recall = hits / pairs) and the bucket's share of all top-k slots
 *    (exposure);
 *  - by strategy: the same user metrics grouped by the strategy that answered, for models that route
 *    users (`RoutedRecommender`, e.g. the ensemble).
 *
 * `RankingRecorder` wraps any model for `evaluate()` and keeps each evaluated user's top k (and
 * strategy), so the segments come from the very lists the metrics were computed on.
 */
import type { CsrRows, IdMap, InteractionMatrix } from '../data/matrix.js';
import type { Split } from '../data/split-types.js';
import type { FitOptions, FitReport, Rankings, Recommender, RecommendOptions } from '../models/recommender.js';
import { intraListDiversity, itemSelfInformation, listMean, indexOfSorted } from './metrics.js';
import { bootstrapMeanCI } from './stats.js';
import type { EvaluationResult, ItemSegmentRow, MetricSummary, SegmentMetrics, UserSegmentRow } from './types.js';

export const USER_HISTORY_BUCKETS: ReadonlyArray<{ label: string; lo: number; hi: number }> = [
  { label: '0', lo: 0, hi: 0 },
  { label: '1–4', lo: 1, hi: 4 },
  { label: '5–19', lo: 5, hi: 19 },
  { label: '20+', lo: 20, hi: Infinity },
];

/** Main-k metrics reported per segment. */
export const SEGMENT_METRICS = ['ndcg', 'recall', 'map', 'hit_rate'] as const;

/** A model that says which strategy answered each row (index into `names`). */
export interface RoutedRecommender {
  recommendRouted(users: Int32Array, k: number, opts?: RecommendOptions): Promise<{ rankings: Rankings; strategy: Uint8Array; names: readonly string[] }>;
}

function isRouted(model: Recommender): model is Recommender & RoutedRecommender {
  return typeof (model as Partial<RoutedRecommender>).recommendRouted === 'function';
}

/** Wraps a model for `evaluate()`, recording each user's top `k` (and strategy) as it is asked. */
export class RankingRecorder implements Recommender {
  readonly inner: Recommender;
  readonly k: number;
  /** [nUsers × k] item indexes, −1 where not recorded or empty. */
  readonly lists: Int32Array;
  /** Strategy code per user (255 = unknown). */
  readonly strategy: Uint8Array;
  strategyNames: readonly string[] = [];
  foldIn?: (data: InteractionMatrix, users: Int32Array) => Promise<void>;

  constructor(inner: Recommender, nUsers: number, k: number) {
    this.inner = inner;
    this.k = k;
    this.lists = new Int32Array(nUsers * k).fill(-1);
    this.strategy = new Uint8Array(nUsers).fill(255);
    const fold = inner.foldIn;
    if (typeof fold === 'function') this.foldIn = (data, users) => fold.call(inner, data, users);
  }

  get name(): string {
    return this.inner.name;
  }

  get params(): Readonly<Record<string, unknown>> {
    return this.inner.params;
  }

  get userIds(): IdMap | null {
    return this.inner.userIds;
  }

  get itemIds(): IdMap | null {
    return this.inner.itemIds;
  }

  fit(data: InteractionMatrix, opts?: FitOptions): Promise<FitReport> {
    return this.inner.fit(data, opts);
  }

  score(user: number, items: Int32Array): Float32Array {
    return this.inner.score(user, items);
  }

  save(dir: string): Promise<void> {
    return this.inner.save(dir);
  }

  async recommend(users: Int32Array, k: number, opts?: RecommendOptions): Promise<Rankings> {
    let rankings: Rankings;
    if (isRouted(this.inner)) {
      const res = await this.inner.recommendRouted(users, k, opts);
      rankings = res.rankings;
      this.strategyNames = res.names;
      users.forEach((u, r) => {
        if (u >= 0 && u < this.strategy.length) this.strategy[u] = res.strategy[r];
      });
    } else {
      rankings = await this.inner.recommend(users, k, opts);
    }
    const K = this.k;
    const width = rankings.k;
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      if (u < 0 || u * K >= this.lists.length) continue;
      for (let p = 0; p < K; p++) this.lists[u * K + p] = p < width ? rankings.items[r * width + p] : -1;
    }
    return rankings;
  }
}

function summary(values: Float64Array, seed: number, samples: number): MetricSummary {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const ci = n > 1 ? bootstrapMeanCI(values, { samples, seed }) : ([mean, mean] as [number, number]);
  return { mean, ci95: ci, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

export interface SegmentOptions {
  /** Category code per item (−1 unknown) for diversity. */
  itemCategories?: Int32Array | null;
  relevanceThreshold?: number;
  bootstrapSamples?: number;
  seed?: number;
}

/**
 * Segment metrics of one evaluation. `recorded` is the RankingRecorder the evaluation ran through
 * (same model, same users); `evaluation.perUser` supplies the per-user metric values.
 */
export function segmentMetrics(split: Split, evaluation: EvaluationResult, recorded: RankingRecorder, opts: SegmentOptions = {}): SegmentMetrics {
  const { train, test } = split;
  const k = Math.min(evaluation.mainK, recorded.k);
  const K = recorded.k;
  const strong = split.config.method === 'strong' && split.foldIn !== null;
  const historyOf: CsrRows = strong ? (split.foldIn as InteractionMatrix) : train;
  const seed = opts.seed ?? 42;
  const samples = opts.bootstrapSamples ?? 1000;
  const threshold = opts.relevanceThreshold ?? 0;
  const categories = opts.itemCategories ?? null;
  const nItems = train.nItems;
  const evaluated = evaluation.users.evaluatedIds.map((id) => test.users.indexOf(id));
  const itemUsers = train.itemCounts();
  let nTrainUsers = 0;
  for (let u = 0; u < train.nUsers; u++) if (train.indptr[u + 1] > train.indptr[u]) nTrainUsers++;
  const selfInfo = itemSelfInformation(itemUsers, nTrainUsers);
  const perUser = SEGMENT_METRICS.map((m) => evaluation.perUser[`${m}@${evaluation.mainK}`] ?? null);

  const groupRow = (label: string, members: number[]): UserSegmentRow => {
    const metrics: Record<string, MetricSummary> = {};
    SEGMENT_METRICS.forEach((m, mi) => {
      const values = perUser[mi];
      if (!values) return;
      metrics[`${m}@${evaluation.mainK}`] = summary(Float64Array.from(members, (e) => values[e]), seed, samples);
    });
    let divSum = 0;
    let divN = 0;
    let novSum = 0;
    let novN = 0;
    const seen = new Uint8Array(nItems);
    let distinct = 0;
    for (const e of members) {
      const u = evaluated[e];
      const list = recorded.lists.subarray(u * K, u * K + k);
      for (const i of list) {
        if (i >= 0 && i < nItems && !seen[i]) {
          seen[i] = 1;
          distinct++;
        }
      }
      const nov = listMean(list, k, selfInfo);
      if (!Number.isNaN(nov)) {
        novSum += nov;
        novN++;
      }
      if (categories) {
        const d = intraListDiversity(list, k, categories);
        if (!Number.isNaN(d)) {
          divSum += d;
          divN++;
        }
      }
    }
    return { segment: label, users: members.length, metrics, diversity: divN > 0 ? divSum / divN : null, novelty: novN > 0 ? novSum / novN : null, coverage: nItems > 0 ? distinct / nItems : 0 };
  };

  const byUserHistory = USER_HISTORY_BUCKETS.map((b) => {
    const members: number[] = [];
    evaluated.forEach((u, e) => {
      const h = historyOf.indptr[u + 1] - historyOf.indptr[u];
      if (h >= b.lo && h <= b.hi) members.push(e);
    });
    return groupRow(b.label, members);
  });

  let byStrategy: UserSegmentRow[] | undefined;
  if (recorded.strategyNames.length > 0) {
    const groups = new Map<number, number[]>();
    evaluated.forEach((u, e) => {
      const s = recorded.strategy[u];
      if (s === 255) return;
      let g = groups.get(s);
      if (!g) groups.set(s, (g = []));
      g.push(e);
    });
    byStrategy = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([s, members]) => groupRow(recorded.strategyNames[s] ?? String(s), members));
  }

  // Item buckets by cumulative share of training interactions.
  const order = Int32Array.from({ length: nItems }, (_, i) => i).sort((a, b) => itemUsers[b] - itemUsers[a] || a - b);
  let total = 0;
  for (const c of itemUsers) total += c;
  const bucketOf = new Uint8Array(nItems);
  const LABELS = ['head', 'mid', 'tail', 'cold'];
  let cum = 0;
  for (const i of order) {
    if (itemUsers[i] === 0) {
      bucketOf[i] = 3;
      continue;
    }
    const before = cum / Math.max(1, total);
    bucketOf[i] = before < 1 / 3 ? 0 : before < 2 / 3 ? 1 : 2;
    cum += itemUsers[i];
  }
  const items = new Int32Array(4);
  const trainCount = new Float64Array(4);
  for (let i = 0; i < nItems; i++) {
    items[bucketOf[i]]++;
    trainCount[bucketOf[i]] += itemUsers[i];
  }
  const pairs = new Float64Array(4);
  const hits = new Float64Array(4);
  const slots = new Float64Array(4);
  let allSlots = 0;
  for (const u of evaluated) {
    const list = recorded.lists.subarray(u * K, u * K + k);
    const sortedTop = Int32Array.from(list.filter((i) => i >= 0)).sort();
    for (const i of list) {
      if (i < 0 || i >= nItems) continue;
      slots[bucketOf[i]]++;
      allSlots++;
    }
    for (let p = test.indptr[u]; p < test.indptr[u + 1]; p++) {
      if (test.values[p] < threshold) continue;
      const i = test.indices[p];
      pairs[bucketOf[i]]++;
      if (indexOfSorted(sortedTop, i) >= 0) hits[bucketOf[i]]++;
    }
  }
  const byItemPopularity: ItemSegmentRow[] = LABELS.map((label, b) => ({
    segment: label,
    items: items[b],
    trainShare: total > 0 ? trainCount[b] / total : 0,
    testPairs: pairs[b],
    hits: hits[b],
    recall: pairs[b] > 0 ? hits[b] / pairs[b] : 0,
    exposure: allSlots > 0 ? slots[b] / allSlots : 0,
  }));
  return { k, byUserHistory, byItemPopularity, ...(byStrategy ? { byStrategy } : {}) };
}
