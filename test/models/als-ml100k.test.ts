/**
 * ALS on real data (../shared/datasets/ml-100k): quality against popularity on the per-user random
 * 80/20 split (seed 42), and serving-time fold-in (recalculateUser) moving a user's list toward a
 * new item's neighbours within the latency budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMatrix } from '../../src/core/data/split.js';
import { mapCappedAtK, ndcgAtK, recallCappedAtK } from '../../src/core/eval/metrics.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { Popularity } from '../../src/core/models/popularity.js';
import type { Recommender } from '../../src/core/models/recommender.js';
import type { InteractionMatrix } from '../../src/core/data/matrix.js';
import { readMovieLens100k } from './als-fixtures.js';

const data = readMovieLens100k();
const split = splitMatrix(data, { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 }, 'ml-100k');
/** Chosen by bench/als.ts on a validation split of the training side (see BENCHMARKS.md). */
const PARAMS = { factors: 64, iterations: 15, alpha: 1, regularization: 0.5, regularizationScaling: 'als-wr', workers: 2 } as const;

async function metrics(model: Recommender, train: InteractionMatrix, test_: InteractionMatrix): Promise<{ ndcg: number; recall: number; map: number }> {
  const users = Int32Array.from({ length: train.nUsers }, (_, u) => u);
  const r = await model.recommend(users, 10, { exclude: train });
  let ndcg = 0;
  let recall = 0;
  let map = 0;
  let n = 0;
  for (let u = 0; u < train.nUsers; u++) {
    const rel = test_.rowItems(u);
    if (rel.length === 0) continue;
    const row = r.items.subarray(u * 10, u * 10 + 10);
    ndcg += ndcgAtK(row, rel, 10);
    recall += recallCappedAtK(row, rel, 10);
    map += mapCappedAtK(row, rel, 10);
    n++;
  }
  return { ndcg: ndcg / n, recall: recall / n, map: map / n };
}

const als = new AlsModel(PARAMS);
const fitted = als.fit(split.train);

test('ml-100k: ALS beats popularity clearly on NDCG@10, recall@10 and MAP@10', async () => {
  await fitted;
  const pop = new Popularity();
  await pop.fit(split.train);
  const p = await metrics(pop, split.train, split.test);
  const a = await metrics(als, split.train, split.test);
  // Golden numbers from bench/als.ts (2026-11-25, wasm backend): popularity NDCG 0.2143, recall 0.2116,
  // MAP 0.1113; ALS 0.4312 / 0.4137 / 0.2933. The js backend and float reordering move them slightly.
  assert.ok(Math.abs(p.ndcg - 0.2143) < 1e-3, `popularity NDCG ${p.ndcg}`);
  assert.ok(Math.abs(a.ndcg - 0.4312) < 0.015, `ALS NDCG ${a.ndcg}`);
  assert.ok(a.ndcg > 1.5 * p.ndcg, `NDCG ${a.ndcg} vs popularity ${p.ndcg}`);
  assert.ok(a.recall > 1.5 * p.recall, `recall ${a.recall} vs popularity ${p.recall}`);
  assert.ok(a.map > 1.5 * p.map, `MAP ${a.map} vs popularity ${p.map}`);
});

test('ml-100k: recalculateUser with one new interaction moves the top-10 toward its neighbours in < 5 ms', async () => {
  await fitted;
  const K = 10;
  const k = als.factors;
  const counts = split.train.itemCounts();
  const norms = Float64Array.from({ length: als.nItems }, (_, i) => Math.hypot(...als.itemFactors.subarray(i * k, i * k + k)));
  const cosine = (a: number, b: number): number => {
    let s = 0;
    for (let d = 0; d < k; d++) s += als.itemFactors[a * k + d] * als.itemFactors[b * k + d];
    return s / (norms[a] * norms[b]);
  };
  const scoreOf = (x: Float32Array, i: number): number => {
    let s = 0;
    for (let d = 0; d < k; d++) s += x[d] * als.itemFactors[i * k + d];
    return s;
  };
  /** For user u: fold in one new 5-star rating of a popular unseen item ranked in the middle for u. */
  const trial = async (u: number) => {
    const history = split.train.rowItems(u);
    const values = split.train.rowValues(u);
    const before = als.recalculateUser(history, values);
    const beforeTop = await als.recommendForVector(before, K, history);
    const excluded = new Set([...history, ...beforeTop.items]);
    const candidates: Array<[number, number]> = [];
    for (let i = 0; i < als.nItems; i++) if (!excluded.has(i) && counts[i] >= 50) candidates.push([scoreOf(before, i), i]);
    candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const item = candidates[candidates.length >> 1][1];
    const newHistory = Int32Array.from([...history, item]);
    const newValues = Float32Array.from([...values, 5]);
    const t0 = performance.now();
    const after = als.recalculateUser(newHistory, newValues);
    const afterTop = await als.recommendForVector(after, K, newHistory);
    const ms = performance.now() - t0;
    // How close the list is to the new item: mean cosine similarity of the top-10 to it.
    const closeness = (list: Int32Array): number => [...list].reduce((s, i) => s + cosine(i, item), 0) / K;
    return { ms, item, before, after, moved: closeness(afterTop.items) - closeness(beforeTop.items), changed: [...afterTop.items].some((i, j) => i !== beforeTop.items[j]) };
  };
  await trial(0); // warm-up: the first call computes and caches YᵀY
  const times: number[] = [];
  let toward = 0;
  let away = 0;
  for (let u = 0; u < 100; u++) {
    const r = await trial(u);
    times.push(r.ms);
    assert.ok(scoreOf(r.after, r.item) > scoreOf(r.before, r.item), `user ${u}: the new item's own score must rise`);
    if (r.moved > 1e-9) toward++;
    else if (r.moved < -1e-9) away++;
  }
  // User 0's list changes and moves toward the new item (its first trial, pinned).
  const first = await trial(0);
  assert.ok(first.changed && first.moved > 0.05, `user 0: moved ${first.moved}`);
  // Across users the lists move toward the new item far more often than away (measured 2026-11-25:
  // 31 of the first 100 users toward, 2 away, the rest unchanged: one rating among a long history rarely
  // reshuffles a list; median 0.7 ms, p90 1.4 ms).
  assert.ok(toward >= 3 * away && toward >= 20, `${toward} lists moved toward the new item, ${away} away`);
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  const p90 = times[Math.floor(times.length * 0.9)];
  // The target is the median (< 5 ms); the p90 bound is loose because CI shares 2 cores with other work
  // (a loaded run measured median 0.66 ms, p90 5.4 ms).
  assert.ok(median < 5 && p90 < 25, `fold-in + top-10: median ${median.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms`);
});
