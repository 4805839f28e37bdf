/**
 * Two-tower on the real ml-100k (../shared/datasets/ml-100k), with user demographics (age, gender,
 * occupation) and movie titles + genres as features: warm quality against popularity on the
 * per-user random 80/20 split (seed 42), and cold items (10% of the movies never seen in
 * training) scored through the item tower's features.
 *
 * A small network (d 32, hidden 64, 4 epochs, one thread) keeps this file to a few seconds; the full
 * comparison (defaults, both losses, ALS, cold users) is `npm run bench:twotower` (BENCHMARKS.md).
 * Golden numbers from that configuration on this machine (wasm backend, seed 42), pinned with a
 * tolerance for float-summation differences between runs of XNNPACK on other CPUs.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMovieLens } from '../../src/core/data/ingest/movielens.js';
import { loadInteractionMatrix, loadProducts } from '../../src/core/data/load-matrix.js';
import { parseSplitSpec, splitMatrix } from '../../src/core/data/split.js';
import { openStore } from '../../src/core/data/store.js';
import { evaluate, evaluateRankings } from '../../src/core/eval/evaluate.js';
import { Popularity } from '../../src/core/models/popularity.js';
import { TwoTowerModel } from '../../src/core/models/twotower/model.js';
import { userRowsFromSql } from '../../src/core/models/twotower/features.js';
import { closeTwoTowerWorkers } from '../../src/core/models/twotower/backend.js';
import { Rng } from '../../src/core/rng.js';
import { SHARED_DATASETS } from '../helpers.js';

const ML100K = join(SHARED_DATASETS, 'ml-100k');
const SMALL = { dimensions: 32, hidden: 64, batchSize: 1024, epochs: 4, learningRate: 0.01, embeddingLearningRate: 0.05, optimizer: 'adam', patience: 0, threads: 1 };

after(async () => {
  await closeTwoTowerWorkers();
});

test('ml-100k: two-tower with features beats popularity; unseen movies are ranked through their features', { skip: !existsSync(join(ML100K, 'u.data')) && 'ml-100k not found' }, async (t) => {
  const store = await openStore(':memory:');
  try {
    await ingestMovieLens(store, ML100K, '100k');
    const matrix = await loadInteractionMatrix(store);
    const products = await loadProducts(store);
    const users = userRowsFromSql(await store.rows('SELECT user_id, CAST(demographics AS VARCHAR) AS demographics FROM users'));
    assert.equal(users.length, 943);
    assert.ok(users.every((u) => u.demographics && typeof u.demographics.age === 'number'));

    await t.test('warm: random 80/20 seed 42, NDCG@10 well above popularity (pinned)', async () => {
      const split = splitMatrix(matrix, parseSplitSpec('random:0.2'), await store.fingerprint());
      const pop = new Popularity();
      await pop.fit(split.train);
      const model = new TwoTowerModel(SMALL);
      model.setCatalog(products);
      model.setUserFeatures(users);
      const report = await model.fit(split.train);
      assert.equal(report.epochs, 4);
      assert.equal(report.coldUsers, 0);
      // Early-stopping hold-out is off here (patience 0); the features were used.
      const cols = model.featureColumns();
      assert.ok(cols.users.includes('gender=F') && cols.users.some((c) => c.startsWith('age:')) && cols.users.includes('occupation=programmer'));
      assert.ok(cols.items.some((c) => c === 'attr:genres=Comedy'));
      const p = await evaluate(pop, split, { bootstrapSamples: 20 });
      const r = await evaluate(model, split, { bootstrapSamples: 20 });
      const ndcg = r.metrics['ndcg@10'].mean;
      assert.ok(Math.abs(p.metrics['ndcg@10'].mean - 0.2142) < 0.002, `popularity ${p.metrics['ndcg@10'].mean}`);
      assert.ok(ndcg > 1.3 * p.metrics['ndcg@10'].mean, `two-tower ${ndcg} vs popularity ${p.metrics['ndcg@10'].mean}`);
      assert.ok(Math.abs(ndcg - GOLDEN_WARM_NDCG) < 0.015, `two-tower ndcg ${ndcg} (golden ${GOLDEN_WARM_NDCG})`);
    });

    await t.test('cold items: 10% of movies unseen in training, ranked by their features far above popularity', async () => {
      const rng = new Rng(42);
      const order = rng.shuffle(Int32Array.from({ length: matrix.nItems }, (_, i) => i));
      const held = new Uint8Array(matrix.nItems);
      for (let j = 0; j < Math.round(0.1 * matrix.nItems); j++) held[order[j]] = 1;
      const toTrain = new Uint8Array(matrix.nnz);
      const toTest = new Uint8Array(matrix.nnz);
      for (let q = 0; q < matrix.nnz; q++) (held[matrix.indices[q]] ? toTest : toTrain)[q] = 1;
      const train = matrix.select(toTrain);
      const test = matrix.select(toTest);
      const heldIds = new Set(matrix.items.ids.filter((_, i) => held[i]));
      const evalUsers = Int32Array.from({ length: matrix.nUsers }, (_, u) => u).filter((u) => test.rowLength(u) > 0);

      const pop = new Popularity();
      await pop.fit(train);
      const model = new TwoTowerModel(SMALL);
      // The held-out movies' catalogue rows arrive after training, like new products would.
      model.setCatalog(products.filter((row) => !heldIds.has(row.productId)));
      model.setUserFeatures(users);
      const report = await model.fit(train);
      assert.equal(report.coldItems, heldIds.size);
      await model.addItems(products.filter((row) => heldIds.has(row.productId)));
      // (1) over the whole catalogue, as the content model's cold test; (2) among the unseen movies
      // only, where popularity has no signal at all (every unseen movie has count 0: index order).
      const warm = new Set(Array.from({ length: matrix.nItems }, (_, i) => i).filter((i) => !held[i]));
      const recall = async (m: TwoTowerModel | Popularity, onlyCold: boolean): Promise<number> => {
        const rankings = await m.recommend(evalUsers, 10, { exclude: train, excludeSets: onlyCold ? Array.from(evalUsers, () => warm) : undefined });
        return evaluateRankings(rankings, { train, test, exclude: train }, { ks: [10], mainK: 10, bootstrapSamples: 10 }).metrics['recall@10'].mean;
      };
      const popFull = await recall(pop, false);
      const ttFull = await recall(model, false);
      const popCold = await recall(pop, true);
      const ttCold = await recall(model, true);
      assert.equal(popFull, 0);
      assert.ok(ttFull > 0.002, `two-tower cold recall over the whole catalogue ${ttFull}`);
      assert.ok(ttCold > 3 * popCold && ttCold > 0.2, `among unseen movies: two-tower ${ttCold} vs popularity (index order) ${popCold}`);
      assert.ok(Math.abs(ttCold - GOLDEN_COLD_RECALL) < 0.03, `two-tower recall among unseen movies ${ttCold} (golden ${GOLDEN_COLD_RECALL})`);
    });
  } finally {
    store.close();
  }
});

/** From SMALL on the splits above (this machine, wasm, seed 42). */
const GOLDEN_WARM_NDCG = 0.3279;
const GOLDEN_COLD_RECALL = 0.3095;
