/**
 * The shapes evaluation produces and reports consume. `EvaluationResult` is JSON-safe (per-user
 * arrays are plain number arrays) because it is written verbatim into report.json and is the
 * `--json` output of `recsys eval`, which the CI gate and other scripts read: keep it stable.
 */

export interface EvalOptions {
  /** Cut-offs to compute every ranking metric at (default [1, 5, 10, 20]). */
  ks: number[];
  /** The k whose per-user distributions and confidence intervals are reported (default 10). */
  mainK: number;
  /** Test pairs with value below this are not relevant (default 0: every test pair is relevant). */
  relevanceThreshold: number;
  /** Bootstrap resamples for 95% confidence intervals (default 1000) and their seed. */
  bootstrapSamples: number;
  seed: number;
  /** Users per recommend() batch. */
  batchSize: number;
}

export interface MetricSummary {
  mean: number;
  /** Percentile bootstrap 95% confidence interval of the mean over users. */
  ci95: [number, number];
  /** Sample standard deviation over users. */
  std: number;
  /** Number of users the mean is over. */
  n: number;
}

export interface Histogram {
  /** Bin edges (length bins+1). */
  edges: number[];
  counts: number[];
}

export interface EvaluationResult {
  model: string;
  ks: number[];
  mainK: number;
  /**
   * Ranking metrics keyed 'name@k': precision, recall (÷|R|), recall_capped (÷min(k,|R|)),
   * ndcg (binary gain), ndcg_graded (gain 2^rel−1), map (÷|R|), map_capped (÷min(k,|R|)), mrr, hit_rate.
   */
  metrics: Record<string, MetricSummary>;
  /** Beyond-accuracy metrics keyed 'name@k': coverage, diversity (needs item categories), novelty, popularity_bias. */
  beyondAccuracy: Record<string, number>;
  /** Per-user values of the main-k metrics, in user order of `users.evaluatedIds` (for paired tests). */
  perUser: Record<string, number[]>;
  /** Per-user distributions (histograms) of the main-k metrics. */
  distributions: Record<string, Histogram>;
  users: {
    evaluated: number;
    /** Users with no (relevant) test items: skipped and counted, never averaged in. */
    skippedNoTest: number;
    /** Evaluated users whose recommendation list came back empty (they count as zero). */
    emptyLists: number;
    /** External ids of the evaluated users, aligned with perUser arrays. */
    evaluatedIds: string[];
  };
  /** Items recommended at mainK with how often (for the long-tail plot): item popularity rank → count. */
  longTail: {
    itemPopularity: number[];
    recommendedCount: number[];
    /**
     * Popularity ranks per point (1 = one item per point). Large catalogues are summed into buckets of
     * this many consecutive ranks: point b covers ranks [b·size, (b+1)·size), values are bucket sums.
     */
    rankBucketSize?: number;
  };
  timings: { recommendSeconds: number; metricsSeconds: number };
  /** Metrics per user-history bucket, item-popularity bucket and answering strategy (eval/segments.ts). */
  segments?: SegmentMetrics;
}

/** One group of evaluated users (a history bucket or a strategy) at the main k. */
export interface UserSegmentRow {
  segment: string;
  users: number;
  /** Means with bootstrap 95% CIs of the main-k ranking metrics (ndcg, recall, map, hit_rate). */
  metrics: Record<string, MetricSummary>;
  /** Intra-list diversity by category (needs categories), novelty (mean self-information, bits) and catalogue coverage of the group's lists. */
  diversity: number | null;
  novelty: number | null;
  coverage: number;
}

/** Test pairs grouped by the training popularity of their item. */
export interface ItemSegmentRow {
  segment: string;
  /** Items in the bucket and their share of training interactions. */
  items: number;
  trainShare: number;
  /** Relevant test pairs of evaluated users whose item is in the bucket, and how many were in the user's top k. */
  testPairs: number;
  hits: number;
  /** hits / testPairs. */
  recall: number;
  /** Share of all top-k slots given to the bucket's items. */
  exposure: number;
}

export interface SegmentMetrics {
  k: number;
  /** Training interactions of the user (fold-in interactions under strong generalization): 0, 1–4, 5–19, 20+. */
  byUserHistory: UserSegmentRow[];
  /** head / mid / tail = items covering the first, second and last third of training interactions; cold = none. */
  byItemPopularity: ItemSegmentRow[];
  /** Per answering strategy (models that route users, e.g. the ensemble). */
  byStrategy?: UserSegmentRow[];
}

/** `recsys eval --ablation`: the ensemble with one member or one rule removed at a time. */
export interface AblationRow {
  variant: string;
  removed: { kind: 'member' | 'rule'; name: string } | null;
  weights: Record<string, number>;
  /** Main-k means: ndcg, recall, map (with CIs); coverage and diversity. */
  metrics: Record<string, MetricSummary>;
  beyondAccuracy: Record<string, number>;
  /** Paired comparisons against the full ensemble (absent on the full row). */
  comparisons: PairedComparison[];
}

export interface AblationReport {
  model: string;
  mainK: number;
  rows: AblationRow[];
  /** Rules that were not ablated, and why (e.g. exclusions the evaluator enforces anyway). */
  skipped: Array<{ name: string; reason: string }>;
}

/** NDCG@k against intra-list diversity over the MMR λ of the diversity rule. */
export interface DiversityCurve {
  model: string;
  mainK: number;
  points: Array<{ lambda: number; ndcg: number; ndcgCi95: [number, number]; recall: number; diversity: number | null; coverage: number }>;
}

export interface PairedComparison {
  metric: string;
  baseline: string;
  candidate: string;
  meanDifference: number;
  ci95: [number, number];
  /** Paired t-test two-sided p-value. */
  tTestP: number;
  /** Paired randomization (sign-flip) test two-sided p-value. */
  randomizationP: number;
  n: number;
}

export interface Report {
  format: 'recsys-report';
  version: 1;
  runId: string;
  createdAt: string;
  git: { commit: string | null; dirty: boolean | null };
  dataset: { store: string; fingerprint: string; nUsers: number; nItems: number; nnz: number };
  split: { config: unknown; fingerprint: string; trainPairs: number; testPairs: number };
  models: Array<{ name: string; artifact: string | null; params: Record<string, unknown>; evaluation: EvaluationResult }>;
  comparisons: PairedComparison[];
  timings: Record<string, number>;
  /** `--ablation` results, one per ensemble evaluated. */
  ablation?: AblationReport[];
  /** `--diversity-curve` results, one per ensemble evaluated. */
  diversityCurves?: DiversityCurve[];
}

export interface GateRule {
  /** Metric key as in EvaluationResult.metrics or beyondAccuracy, e.g. 'ndcg@10'. */
  metric: string;
  /** Largest allowed absolute drop below the baseline's value. */
  maxDrop: number;
}

export interface GateRow {
  metric: string;
  baseline: number;
  candidate: number;
  delta: number;
  maxDrop: number;
  passed: boolean;
  /** Why the row failed when it is not a plain regression (e.g. the metric is missing in a report). */
  reason?: string;
}

export interface GateResult {
  passed: boolean;
  rows: GateRow[];
  /** Names of the evaluations compared. */
  baselineModel?: string;
  candidateModel?: string;
  /** Things that make the comparison doubtful without failing it (e.g. different split fingerprints). */
  warnings?: string[];
}
