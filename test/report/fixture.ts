/**
 * Hand-built Reports for the report tests. `fixtureReport()` looks like a real two-model run
 * (popularity vs als at k = 1, 5, 10, 20 on 40 users and 50 items); `tinyReport()` is one model at
 * one k, small enough to check report.md line by line. Values are made up but consistent: per-user
 * arrays, histograms and means agree, and the long-tail arrays list items in a shuffled order so
 * that the chart has to sort them by popularity itself.
 */
import type { EvaluationResult, Histogram, MetricSummary, Report } from '../../src/core/eval/types.js';

/** Deterministic values in [0, 1) (an LCG), so the fixture needs no Rng and never changes. */
function sequence(seed: number, n: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 32);
  }
  return out;
}

export function histogram(values: readonly number[], bins = 10): Histogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => i / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const b = Math.min(bins - 1, Math.floor(v * bins));
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return { edges, counts };
}

function summary(mean: number, halfWidth: number, n: number): MetricSummary {
  const r = (x: number): number => Math.round(x * 1e6) / 1e6;
  return { mean: r(mean), ci95: [r(Math.max(0, mean - halfWidth)), r(mean + halfWidth)], std: r(halfWidth * 3), n };
}

export const FIXTURE_USERS = 40;
export const FIXTURE_ITEMS = 50;
export const FIXTURE_KS = [1, 5, 10, 20];
const METRICS = ['precision', 'recall', 'recall_capped', 'ndcg', 'ndcg_graded', 'map', 'map_capped', 'mrr', 'hit_rate'];

/** Item i (in storage order) has training popularity POPULARITY[i]; the order is shuffled on purpose. */
const POP_BY_RANK = Array.from({ length: FIXTURE_ITEMS }, (_, r) => Math.round(900 / Math.pow(r + 1, 0.95)));
const STORAGE_ORDER = Array.from({ length: FIXTURE_ITEMS }, (_, i) => (i * 17) % FIXTURE_ITEMS); // 17 is coprime with 50
export const POPULARITY = STORAGE_ORDER.map((rank) => POP_BY_RANK[rank] ?? 0);

function evaluation(model: string, scale: number, seed: number, recByRank: number[]): EvaluationResult {
  const u = sequence(seed, FIXTURE_USERS);
  const ndcg = u.map((x) => Math.round(Math.min(1, Math.max(0, (x - 0.35) * scale * 1.6)) * 1e4) / 1e4);
  const recall = u.map((x, i) => Math.round(Math.min(1, Math.max(0, (x - 0.3) * scale * 1.4 + (i % 3) * 0.05)) * 1e4) / 1e4);
  const meanOf = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  const metrics: Record<string, MetricSummary> = {};
  for (const k of FIXTURE_KS) {
    const grow = Math.log2(1 + k) / Math.log2(21); // metrics rise with k (precision falls)
    for (const [j, name] of METRICS.entries()) {
      const grow10 = Math.log2(11) / Math.log2(21);
      let mean: number;
      // ndcg and recall at the main k are the means of the per-user arrays; other ks scale from them.
      if (name === 'ndcg') mean = (meanOf(ndcg) * (0.4 + grow)) / (0.4 + grow10);
      else if (name === 'recall') mean = (meanOf(recall) * (0.4 + grow)) / (0.4 + grow10);
      else if (name === 'precision') mean = (scale * 0.35) / Math.sqrt(k);
      else mean = scale * (0.12 + 0.03 * j) * (0.4 + grow);
      metrics[`${name}@${k}`] = summary(Math.min(1, mean), 0.02 + 0.01 / Math.sqrt(k), FIXTURE_USERS);
    }
  }
  const recommendedCount = STORAGE_ORDER.map((rank) => recByRank[rank] ?? 0);
  return {
    model,
    ks: [...FIXTURE_KS],
    mainK: 10,
    metrics,
    beyondAccuracy: {
      'coverage@10': recByRank.filter((c) => c > 0).length / FIXTURE_ITEMS,
      'diversity@10': Math.round(0.4 * scale * 1e4) / 1e4,
      'novelty@10': Math.round((6 + 4 / scale) * 100) / 100,
      'popularity_bias@10': Math.round((420 / scale) * 10) / 10,
    },
    perUser: { 'ndcg@10': ndcg, 'recall@10': recall },
    distributions: { 'ndcg@10': histogram(ndcg), 'recall@10': histogram(recall) },
    users: {
      evaluated: FIXTURE_USERS,
      skippedNoTest: 3,
      emptyLists: model === 'popularity' ? 0 : 1,
      evaluatedIds: Array.from({ length: FIXTURE_USERS }, (_, i) => `u${i + 1}`),
    },
    longTail: { itemPopularity: [...POPULARITY], recommendedCount },
    timings: { recommendSeconds: 0.0123, metricsSeconds: 0.0456 },
  };
}

/** Popularity recommends the 12 most popular items; als spreads over 35 items. */
export const POPULARITY_REC_BY_RANK = Array.from({ length: FIXTURE_ITEMS }, (_, r) => (r < 12 ? 40 - r * 2 : 0));
export const ALS_REC_BY_RANK = Array.from({ length: FIXTURE_ITEMS }, (_, r) => (r < 35 ? Math.max(1, Math.round(30 / Math.sqrt(r + 1))) : 0));

export function fixtureReport(): Report {
  const pop = evaluation('popularity', 1, 7, POPULARITY_REC_BY_RANK);
  const als = evaluation('als', 1.35, 11, ALS_REC_BY_RANK);
  return {
    format: 'recsys-report',
    version: 1,
    runId: '20261125-104512-popularity-vs-als',
    createdAt: '2026-11-25T10:45:12.000Z',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: true },
    dataset: { store: 'recsys.duckdb', fingerprint: 'sha256:9f86d081884c7d65', nUsers: 43, nItems: FIXTURE_ITEMS, nnz: 1234 },
    split: { config: { kind: 'random', testFraction: 0.2, seed: 42 }, fingerprint: 'sha256:2c26b46b68ffc68f', trainPairs: 987, testPairs: 247 },
    models: [
      { name: 'popularity', artifact: 'models/popularity', params: { variant: 'count' }, evaluation: pop },
      { name: 'als', artifact: 'models/als', params: { factors: 64, regularization: 0.05, iterations: 15, alpha: 40 }, evaluation: als },
    ],
    comparisons: [
      { metric: 'ndcg@10', baseline: 'popularity', candidate: 'als', meanDifference: 0.0843, ci95: [0.0412, 0.1301], tTestP: 0.00042, randomizationP: 0.0006, n: FIXTURE_USERS },
      { metric: 'recall@10', baseline: 'popularity', candidate: 'als', meanDifference: 0.0121, ci95: [-0.0213, 0.0455], tTestP: 0.4731, randomizationP: 0.4812, n: FIXTURE_USERS },
    ],
    timings: { loadSeconds: 0.21, splitSeconds: 0.034, evaluateSeconds: 1.5 },
  };
}

/**
 * One model, one k, three users (one skipped), four items. Hand-computed per-user values:
 * user a: ndcg 1, recall 0.5; user b: ndcg 0, recall 0 (empty list).
 */
export function tinyReport(): Report {
  const evaluationResult: EvaluationResult = {
    model: 'pop|ular',
    ks: [2],
    mainK: 2,
    metrics: {
      'precision@2': { mean: 0.25, ci95: [0, 0.5], std: 0.353553, n: 2 },
      'recall@2': { mean: 0.25, ci95: [0, 0.5], std: 0.353553, n: 2 },
      'ndcg@2': { mean: 0.5, ci95: [0, 1], std: 0.707107, n: 2 },
    },
    beyondAccuracy: { 'coverage@2': 0.5, 'novelty@2': 1.5 },
    perUser: { 'ndcg@2': [1, 0], 'recall@2': [0.5, 0] },
    distributions: { 'ndcg@2': { edges: [0, 0.5, 1], counts: [1, 1] }, 'recall@2': { edges: [0, 0.5, 1], counts: [1, 1] } },
    users: { evaluated: 2, skippedNoTest: 1, emptyLists: 1, evaluatedIds: ['a', 'b'] },
    longTail: { itemPopularity: [3, 2, 1, 0], recommendedCount: [1, 1, 0, 0] },
    timings: { recommendSeconds: 0.002, metricsSeconds: 1.25 },
  };
  return {
    format: 'recsys-report',
    version: 1,
    runId: '20261125-104512-tiny',
    createdAt: '2026-11-25T10:45:12.000Z',
    git: { commit: null, dirty: null },
    dataset: { store: 'tiny.duckdb', fingerprint: 'abc123', nUsers: 3, nItems: 4, nnz: 6 },
    split: { config: { kind: 'leave-last-k', k: 1 }, fingerprint: 'def456', trainPairs: 4, testPairs: 2 },
    models: [{ name: 'pop|ular', artifact: null, params: { variant: 'count' }, evaluation: evaluationResult }],
    comparisons: [],
    timings: { evaluateSeconds: 0.5 },
  };
}
