/** Segment metrics on a hand-checked split, and the ablation / λ curve on the small shop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap } from '../../src/core/data/matrix.js';
import type { Split } from '../../src/core/data/split-types.js';
import { evaluate } from '../../src/core/eval/evaluate.js';
import { RankingRecorder, segmentMetrics } from '../../src/core/eval/segments.js';
import { diversityCurve, runAblation } from '../../src/core/eval/ablation.js';
import type { Rankings, Recommender } from '../../src/core/models/recommender.js';
import { EnsembleModel } from '../../src/core/models/ensemble/ensemble.js';
import { matrixFromRows } from '../helpers.js';
import { shopCatalog, shopMatrix, shopMembers } from './fixture.js';

/** A model answering fixed lists (per user index). */
function fixed(lists: number[][], nItems: number): Recommender {
  return {
    name: 'fixed',
    params: {},
    userIds: new IdMap(lists.map((_, u) => `u${u}`)),
    itemIds: new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`)),
    fit: async () => ({ model: 'fixed', seconds: 0 }),
    score: (_u, items) => new Float32Array(items.length),
    save: async () => {},
    recommend: async (users: Int32Array, k: number): Promise<Rankings> => {
      const items = new Int32Array(users.length * k).fill(-1);
      users.forEach((u, r) => lists[u].slice(0, k).forEach((i, j) => (items[r * k + j] = i)));
      return { users, k, items, scores: new Float32Array(users.length * k) };
    },
  };
}

test('segments: user-history buckets, item-popularity buckets and exposure by hand', async () => {
  // train: u0 {0,1} (2 → 1–4), u1 {0..4} (5 → 5–19), u2 {} (0), u3 {0} (1–4); test: u0 2, u1 5, u2 0, u3 1.
  const train = matrixFromRows([[0, 1], [0, 1, 2, 3, 4], [], [0]], 6);
  const test = matrixFromRows([[2], [5], [0], [1]], 6);
  const split: Split = { config: { method: 'random', testFraction: 0.2, seed: 1, minInteractions: 1 }, train, test, foldIn: null, fingerprint: 'x', datasetFingerprint: 'y' };
  const model = fixed([[2, 3], [5], [0, 1], [2, 1]], 6);
  const recorder = new RankingRecorder(model, 4, 2);
  const categories = Int32Array.of(0, 0, 0, 1, 1, 1);
  const e = await evaluate(recorder, split, { ks: [1, 2], mainK: 2, bootstrapSamples: 50 }, { itemCategories: categories });
  const seg = segmentMetrics(split, e, recorder, { itemCategories: categories });
  assert.deepEqual(seg.byUserHistory.map((r) => [r.segment, r.users]), [['0', 1], ['1–4', 2], ['5–19', 1], ['20+', 0]]);
  // u0 hits at rank 1 (ndcg 1), u3 at rank 2 (ndcg 1/log2 3).
  const few = seg.byUserHistory[1];
  assert.ok(Math.abs(few.metrics['ndcg@2'].mean - (1 + 1 / Math.log2(3)) / 2) < 1e-12);
  assert.equal(few.diversity, 0.5, 'u0 [2, 3] mixes categories, u3 [2, 1] does not');
  assert.equal(seg.byUserHistory[2].diversity, null, 'a one-item list has no pair');
  assert.equal(seg.byUserHistory[0].metrics['ndcg@2'].mean, 1);
  // Popularity: item 0 → 3 users, item 1 → 2, items 2–4 → 1, item 5 → 0; total 8.
  // head {0} (cum 0 < 1/3), mid {1, 2} (3/8, 5/8 < 2/3), tail {3, 4}, cold {5}.
  assert.deepEqual(seg.byItemPopularity.map((r) => [r.segment, r.items, r.testPairs, r.hits]), [['head', 1, 1, 1], ['mid', 2, 2, 2], ['tail', 2, 0, 0], ['cold', 1, 1, 1]]);
  assert.deepEqual(seg.byItemPopularity.map((r) => r.exposure * 7), [1, 4, 1, 1], 'slots: head 1, mid 4, tail 1, cold 1 of 7');
  assert.equal(seg.byItemPopularity[0].trainShare, 3 / 8);
  assert.equal(seg.byStrategy, undefined, 'a model that does not route');
});

test('ablation: full, each member and each enabled rule removed, compared on the same users; λ curve', async () => {
  const data = shopMatrix();
  const members = await shopMembers(data);
  const e = new EnsembleModel({});
  await e.configure({ models: [{ model: members.als }, { model: members.content }, { model: members.popularity }], weights: { als: 0.5, content: 0.2, popularity: 0.3 } });
  e.setCatalog(shopCatalog());
  await e.fit(data);
  // Hold out one interaction per warm user as test.
  const trainRows: number[][] = [];
  const testRows: number[][] = [];
  for (let u = 0; u < data.nUsers; u++) {
    const row = [...data.rowItems(u)];
    testRows.push(row.length >= 5 ? [row[row.length - 1]] : []);
    trainRows.push(row.length >= 5 ? row.slice(0, -1) : row);
  }
  const train = matrixFromRows(trainRows, data.nItems);
  const test = matrixFromRows(testRows, data.nItems);
  const split: Split = { config: { method: 'leave-last-out', k: 1 }, train, test, foldIn: null, fingerprint: 'x', datasetFingerprint: 'y' };
  const report = await runAblation(e, split, { bootstrapSamples: 50 });
  assert.deepEqual(report.rows.map((r) => r.variant), ['full', '− als', '− content', '− popularity', '− popularityBoost', '− newItemBoost']);
  assert.deepEqual(report.skipped.map((s) => s.name), ['excludeBought', 'excludeLists']);
  assert.deepEqual(report.rows[1].weights, { als: 0, content: 0.2 / 0.5, popularity: 0.3 / 0.5 });
  for (const r of report.rows.slice(1)) {
    assert.deepEqual(r.comparisons.map((c) => c.metric), ['ndcg@10', 'recall@10', 'map@10']);
    assert.equal(r.comparisons[0].n, report.rows[0].metrics['ndcg@10'].n);
    const delta = r.metrics['ndcg@10'].mean - report.rows[0].metrics['ndcg@10'].mean;
    assert.ok(Math.abs(r.comparisons[0].meanDifference - delta) < 1e-12);
  }
  const curve = await diversityCurve(e, split, [1, 0.5, 0], { bootstrapSamples: 20 }, { itemCategories: Int32Array.from({ length: 24 }, (_, i) => Math.floor(i / 6)) });
  assert.equal(curve.points.length, 3);
  assert.ok((curve.points[2].diversity ?? 0) > (curve.points[0].diversity ?? 1), 'λ = 0 lists mix more categories than λ = 1');
});
