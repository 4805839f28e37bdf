import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdMap, InteractionMatrix, type CsrRows } from '../../src/core/data/matrix.js';
import type { Split } from '../../src/core/data/split-types.js';
import { splitMatrix } from '../../src/core/data/split.js';
import { Popularity } from '../../src/core/models/popularity.js';
import type { FitReport, Progress, Rankings, Recommender, RecommendOptions } from '../../src/core/models/recommender.js';
import { compareEvaluations, evaluate, evaluateRankings, resolveEvalOptions } from '../../src/core/eval/evaluate.js';
import { isRecsysError } from '../../src/core/errors.js';
import { matrixFromRows, SHARED_DATASETS } from '../helpers.js';

const close = (actual: number, expected: number, msg = ''): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg} expected ${expected}, got ${actual}`);
const D2 = 0.6309297535714575; // 1/log2(3)

// 3 users × 6 items.
// train: u0 {0, 1}, u1 {2}, u2 {0}
// test:  u0 {2, 3}, u1 {} (skipped), u2 {4 (value 5), 5 (value 1)}
const train = matrixFromRows([[0, 1], [2], [0]], 6);
const test_ = matrixFromRows([[2, 3], [], [[4, 5], [5, 1]]], 6);
const categories = Int32Array.of(0, 0, 1, 1, 2, -1);

function rankings(users: number[], k: number, lists: number[][]): Rankings {
  const items = new Int32Array(users.length * k).fill(-1);
  lists.forEach((l, r) => items.set(l, r * k));
  return { users: Int32Array.from(users), k, items, scores: new Float32Array(users.length * k) };
}

// u0 [2, 4, 3]: hits at ranks 1 and 3; u1 [0, 1, 3] (no test items: skipped); u2 empty list.
const RANKED = rankings([0, 1, 2], 3, [[2, 4, 3], [0, 1, 3], []]);

test('evaluateRankings on a hand-checked split', () => {
  const r = evaluateRankings(RANKED, { train, test: test_, itemCategories: categories }, { ks: [1, 3], mainK: 3, bootstrapSamples: 50 });
  assert.deepEqual(r.ks, [1, 3]);
  assert.equal(r.users.evaluated, 2); // u0 and u2
  assert.equal(r.users.skippedNoTest, 1); // u1
  assert.equal(r.users.emptyLists, 1); // u2 counts as zero
  assert.deepEqual(r.users.evaluatedIds, ['u0', 'u2']);
  // u0: precision@3 = 2/3, u2: 0 → mean 1/3
  close(r.metrics['precision@3'].mean, 1 / 3);
  assert.deepEqual(r.perUser['precision@3'], [2 / 3, 0]);
  // u0: recall@3 = 2/|R|=2 = 1; u2: 0 → 0.5
  close(r.metrics['recall@3'].mean, 0.5);
  // u0: DCG = d(1) + d(3) = 1.5, IDCG over min(3,2)=2 ranks = 1 + d(2) → 0.9197207891481876; u2 0
  close(r.metrics['ndcg@3'].mean, 1.5 / (1 + D2) / 2);
  // u0: AP sum = P@1 + P@3 = 1 + 2/3; ÷ |R| = 2 → 5/6; u2 0 → 5/12
  close(r.metrics['map@3'].mean, 5 / 12);
  close(r.metrics['mrr@3'].mean, 0.5); // u0 1, u2 0
  close(r.metrics['hit_rate@1'].mean, 0.5); // u0 hits at rank 1
  close(r.metrics['precision@1'].mean, 0.5);
  assert.equal(r.metrics['precision@3'].n, 2);
  close(r.metrics['precision@3'].std, Math.sqrt(((2 / 3 - 1 / 3) ** 2 + (0 - 1 / 3) ** 2) / 1));

  // coverage@3: evaluated users listed {2, 4, 3} of 6 items; coverage@1: {2}
  close(r.beyondAccuracy['coverage@3'], 3 / 6);
  close(r.beyondAccuracy['coverage@1'], 1 / 6);
  // train users per item [2, 1, 1, 0, 0, 0], 3 training users: item 2 → −log2(1/3), items 3, 4 → −log2(1/4) = 2
  // novelty@3 = mean over lists with items (u0 only) = (1.5849625 + 2 + 2)/3
  close(r.beyondAccuracy['novelty@3'], (Math.log2(3) + 4) / 3);
  // percentiles: count 0 → (0 + 2/2)/5 = 0.2, count 1 → (3 + 1/2)/5 = 0.7: u0 (0.7 + 0.2 + 0.2)/3
  close(r.beyondAccuracy['popularity_bias@3'], 1.1 / 3);
  // categories of [2, 4, 3] = [1, 2, 1]: pairs (1,2) diff, (1,1) same, (2,1) diff → 2/3; no pair at k=1
  close(r.beyondAccuracy['diversity@3'], 2 / 3);
  assert.equal('diversity@1' in r.beyondAccuracy, false);

  // long tail: items by popularity [0, 1, 2, 3, 4, 5]; listed in the top 3 of evaluated users: 2, 4, 3
  assert.deepEqual(r.longTail.itemPopularity, [2, 1, 1, 0, 0, 0]);
  assert.deepEqual(r.longTail.recommendedCount, [0, 0, 1, 1, 1, 0]);
  assert.equal(r.longTail.rankBucketSize, 1);
  assert.deepEqual(r.distributions['precision@3'].counts.reduce((a, b) => a + b, 0), 2);
  // JSON-safe: survives a round trip unchanged
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('relevance threshold and graded gains come from the test values', () => {
  // u2's test: item 4 value 5, item 5 value 1. Threshold 2 keeps only item 4.
  const ranked = rankings([2], 2, [[5, 4]]);
  const all = evaluateRankings(ranked, { train, test: test_ }, { ks: [2], mainK: 2, bootstrapSamples: 10 });
  // threshold 0: both relevant, hits at ranks 1, 2 → ndcg 1; graded: DCG = (2^1−1)·1 + (2^5−1)·d(2), IDCG = 31 + 1·d(2)
  close(all.metrics['ndcg@2'].mean, 1);
  close(all.metrics['ndcg_graded@2'].mean, (1 + 31 * D2) / (31 + D2));
  const high = evaluateRankings(ranked, { train, test: test_ }, { ks: [2], mainK: 2, relevanceThreshold: 2, bootstrapSamples: 10 });
  // only item 4 relevant, at rank 2: ndcg = d(2)/d(1); precision 1/2; recall 1
  close(high.metrics['ndcg@2'].mean, D2);
  close(high.metrics['recall@2'].mean, 1);
  close(high.metrics['precision@2'].mean, 0.5);
});

test('the evaluator never reorders by score: list order decides ties and even inverted scores', () => {
  const ranked = rankings([0], 2, [[3, 2]]);
  ranked.scores.set([0.1, 0.9]); // scores disagree with the order: ignored
  const r = evaluateRankings(ranked, { train, test: test_ }, { ks: [1], mainK: 1, bootstrapSamples: 10 });
  close(r.metrics['mrr@1'].mean, 1); // item 3 at rank 1 is a hit
  const tie = rankings([2], 2, [[5, 4]]);
  tie.scores.set([1, 1]);
  const t = evaluateRankings(tie, { train, test: test_ }, { ks: [1], mainK: 1, relevanceThreshold: 2, bootstrapSamples: 10 });
  close(t.metrics['hit_rate@1'].mean, 0); // tied item 4 is second in the list, so no hit at k=1
});

test('a listed training item (exclusion not honoured) is an error, as is an out-of-range item', () => {
  const leaky = rankings([0], 2, [[0, 2]]); // item 0 is in u0's training row
  assert.throws(
    () => evaluateRankings(leaky, { train, test: test_, exclude: train }, { ks: [2], mainK: 2 }),
    (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_EVAL' && /excluded \(training\) items/.test(e.message),
  );
  const outOfRange = rankings([0], 1, [[6]]);
  assert.throws(() => evaluateRankings(outOfRange, { train, test: test_ }, { ks: [1], mainK: 1 }), /outside the catalogue/);
});

test('no evaluable user is an actionable error; options are validated', () => {
  assert.throws(
    () => evaluateRankings(rankings([1], 1, [[0]]), { train, test: test_ }, { ks: [1], mainK: 1 }),
    (e) => isRecsysError(e) && /no user has a relevant test item/.test(e.message),
  );
  assert.throws(() => resolveEvalOptions({ ks: [0, 5] }), (e) => isRecsysError(e) && e.data.flag === '--ks');
  assert.deepEqual(resolveEvalOptions({ ks: [20, 5, 5], mainK: 10 }).ks, [5, 10, 20]); // sorted, unique, mainK added
});

test('bootstrap CIs are deterministic by seed and bracket the mean', () => {
  const a = evaluateRankings(RANKED, { train, test: test_ }, { ks: [3], mainK: 3, seed: 1 });
  const b = evaluateRankings(RANKED, { train, test: test_ }, { ks: [3], mainK: 3, seed: 1 });
  assert.deepEqual(a.metrics, b.metrics);
  for (const s of Object.values(a.metrics)) assert.ok(s.ci95[0] <= s.mean && s.mean <= s.ci95[1]);
});

/** A scripted model: fixed lists per user index, records every call. */
class Scripted implements Recommender {
  readonly name = 'scripted';
  readonly params = {};
  readonly userIds = null;
  readonly itemIds = null;
  calls: Array<{ users: number[]; k: number; exclude: CsrRows | null }> = [];
  foldInCalls: Array<{ data: InteractionMatrix; users: number[] }> = [];
  constructor(private readonly lists: Record<number, number[]>) {}
  async fit(): Promise<FitReport> {
    return { model: this.name, seconds: 0 };
  }
  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    this.calls.push({ users: [...users], k, exclude: opts.exclude ?? null });
    return rankings([...users], k, [...users].map((u) => (this.lists[u] ?? []).slice(0, k)));
  }
  score(): Float32Array {
    return new Float32Array(0);
  }
  async save(): Promise<void> {}
  async foldIn(data: InteractionMatrix, users: Int32Array): Promise<void> {
    this.foldInCalls.push({ data, users: [...users] });
  }
}

function splitOf(trainM: InteractionMatrix, testM: InteractionMatrix, foldIn: InteractionMatrix | null = null): Split {
  return {
    config: foldIn ? { method: 'strong', heldOutUsers: 1, foldInFraction: 0.5, seed: 1 } : { method: 'random', testFraction: 0.2, seed: 1, minInteractions: 2 },
    train: trainM,
    test: testM,
    foldIn,
    fingerprint: 'f',
    datasetFingerprint: 'd',
  };
}

test('evaluate() asks for max(ks) items per user, excluding train, in batches, only for users with test items', async () => {
  const model = new Scripted({ 0: [2, 4, 3], 2: [] });
  const ticks: number[] = [];
  const progress: Progress = { start: (_p, total) => ticks.push(-total), tick: (d) => ticks.push(d ?? 1), stop: () => ticks.push(0) };
  const r = await evaluate(model, splitOf(train, test_), { ks: [1, 3], mainK: 3, batchSize: 1, bootstrapSamples: 20 }, { progress });
  assert.deepEqual(model.calls.map((c) => c.users), [[0], [2]]); // u1 never asked: no test items
  assert.ok(model.calls.every((c) => c.k === 3 && c.exclude === train));
  assert.deepEqual(ticks, [-2, 1, 1, 0]);
  assert.equal(r.model, 'scripted');
  assert.equal(r.users.skippedNoTest, 1);
  close(r.metrics['precision@3'].mean, 1 / 3); // as in the hand-checked case above
  assert.ok(r.timings.recommendSeconds >= 0 && r.timings.metricsSeconds >= 0);
});

test('evaluate() on a strong-generalization split folds in, excludes the fold-in rows, counts only held-out users', async () => {
  // users 0, 1 train; user 2 held out with fold-in {0} and test {4}; user 3 held out with fold-in only.
  const trainM = matrixFromRows([[0, 1], [1, 2], [], []], 6);
  const foldIn = matrixFromRows([[], [], [0], [1]], 6);
  const testM = matrixFromRows([[], [], [4], []], 6);
  const model = new Scripted({ 2: [1, 4] });
  const r = await evaluate(model, splitOf(trainM, testM, foldIn), { ks: [2], mainK: 2, bootstrapSamples: 10 });
  assert.deepEqual(model.foldInCalls.map((c) => c.users), [[2, 3]]);
  assert.equal(model.foldInCalls[0].data, foldIn);
  assert.deepEqual(model.calls.map((c) => c.users), [[2]]);
  assert.equal(model.calls[0].exclude, foldIn);
  assert.equal(r.users.evaluated, 1);
  assert.equal(r.users.skippedNoTest, 1); // user 3: held out, no test item; users 0, 1 are training users, not counted
  close(r.metrics['mrr@2'].mean, 0.5);
});

test('compareEvaluations pairs per-user values and refuses different user sets', async () => {
  const a = evaluateRankings(RANKED, { train, test: test_ }, { ks: [3], mainK: 3, model: 'a' });
  const better = rankings([0, 1, 2], 3, [[2, 3, 4], [0], [4, 5]]);
  const b = evaluateRankings(better, { train, test: test_ }, { ks: [3], mainK: 3, model: 'b' });
  const cmp = compareEvaluations(a, b, { metrics: ['precision@3'], permutations: 4 });
  assert.equal(cmp.length, 1);
  // per user precision@3: a [2/3, 0], b [2/3, 2/3] → mean difference 1/3
  close(cmp[0].meanDifference, 1 / 3);
  assert.equal(cmp[0].baseline, 'a');
  assert.equal(cmp[0].candidate, 'b');
  assert.equal(compareEvaluations(a, b).length, 9); // every per-user metric at main k
  const fewer = evaluateRankings(rankings([0], 3, [[2]]), { train, test: test_ }, { ks: [3], mainK: 3 });
  assert.throws(() => compareEvaluations(a, fewer), /different users/);
});

/** MovieLens-100K as a matrix (value = rating), read straight from u.data. */
function loadMl100k(): InteractionMatrix {
  const text = readFileSync(join(SHARED_DATASETS, 'ml-100k', 'u.data'), 'utf8');
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const u: number[] = [];
  const i: number[] = [];
  const v: number[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [user, item, rating] = line.split('\t');
    if (!userIndex.has(user)) userIndex.set(user, userIndex.size);
    if (!itemIndex.has(item)) itemIndex.set(item, itemIndex.size);
    u.push(userIndex.get(user)!);
    i.push(itemIndex.get(item)!);
    v.push(Number(rating));
  }
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(u),
    items: Int32Array.from(i),
    values: Float32Array.from(v),
    userIds: new IdMap([...userIndex.keys()]),
    itemIds: new IdMap([...itemIndex.keys()]),
  });
}

test('ml-100k: popularity top-10 metrics equal a naive reference computed with Sets and plain arrays', async () => {
  const split = splitMatrix(loadMl100k(), { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 }, 'ml-100k');
  const model = new Popularity();
  await model.fit(split.train);
  const r = await evaluate(model, split, { ks: [10], mainK: 10, bootstrapSamples: 200 });

  // Naive reference: popularity = distinct training users per item, ties by smaller index.
  const { train: tr, test: te } = split;
  const pop = new Array<number>(tr.nItems).fill(0);
  for (const item of tr.indices) pop[item]++;
  const order = [...pop.keys()].sort((a, b) => pop[b] - pop[a] || a - b);
  const sums = { p: 0, r: 0, rc: 0, ndcg: 0, map: 0, mapc: 0, n: 0 };
  const listed = new Set<number>();
  for (let u = 0; u < te.nUsers; u++) {
    const rel = new Set(te.rowItems(u));
    if (rel.size === 0) continue;
    const seen = new Set(tr.rowItems(u));
    const list = order.filter((it) => !seen.has(it)).slice(0, 10);
    list.forEach((it) => listed.add(it));
    let hits = 0;
    let dcg = 0;
    let ap = 0;
    list.forEach((it, p) => {
      if (!rel.has(it)) return;
      hits++;
      dcg += 1 / Math.log2(p + 2);
      ap += hits / (p + 1);
    });
    let idcg = 0;
    for (let p = 0; p < Math.min(10, rel.size); p++) idcg += 1 / Math.log2(p + 2);
    sums.p += hits / 10;
    sums.r += hits / rel.size;
    sums.rc += hits / Math.min(10, rel.size);
    sums.ndcg += dcg / idcg;
    sums.map += ap / rel.size;
    sums.mapc += ap / Math.min(10, rel.size);
    sums.n++;
  }
  const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs reference ${b}`);
  assert.equal(r.users.evaluated, sums.n);
  assert.equal(r.users.evaluated + r.users.skippedNoTest, te.nUsers);
  near(r.metrics['precision@10'].mean, sums.p / sums.n, 'precision@10');
  near(r.metrics['recall@10'].mean, sums.r / sums.n, 'recall@10');
  near(r.metrics['recall_capped@10'].mean, sums.rc / sums.n, 'recall_capped@10');
  near(r.metrics['ndcg@10'].mean, sums.ndcg / sums.n, 'ndcg@10');
  near(r.metrics['map@10'].mean, sums.map / sums.n, 'map@10');
  near(r.metrics['map_capped@10'].mean, sums.mapc / sums.n, 'map_capped@10');
  near(r.beyondAccuracy['coverage@10'], listed.size / tr.nItems, 'coverage@10');
  // Invariants: capped denominators are never larger; hit rate bounds precision; popularity is biased.
  assert.ok(r.metrics['recall_capped@10'].mean >= r.metrics['recall@10'].mean);
  assert.ok(r.metrics['map_capped@10'].mean >= r.metrics['map@10'].mean);
  assert.ok(r.metrics['hit_rate@10'].mean >= r.metrics['precision@10'].mean);
  assert.ok(r.beyondAccuracy['popularity_bias@10'] > 0.9, 'popularity lists the head of the catalogue');
  assert.equal(r.users.emptyLists, 0);
});
