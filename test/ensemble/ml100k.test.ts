/**
 * The ensemble on MovieLens-100k (per-user random 80/20 split, seed 42), end to end through the
 * library. Golden numbers with their source: `npx tsx bench/ensemble.ts --only ml100k` on this
 * commit's code, ALS factors=64 iterations=15 regularization=0.5 alpha=1 als-wr (the README tour),
 * content and popularity with defaults; tolerance 0.01 (ALS threading may reorder float sums).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/core/data/store.js';
import { ingestMovieLens } from '../../src/core/data/ingest/movielens.js';
import { loadInteractionMatrix, loadItemMetadata, loadProducts } from '../../src/core/data/load-matrix.js';
import { parseSplitSpec, splitMatrix } from '../../src/core/data/split.js';
import { evaluate } from '../../src/core/eval/evaluate.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { ContentModel } from '../../src/core/models/content.js';
import { Popularity } from '../../src/core/models/popularity.js';
import { EnsembleModel } from '../../src/core/models/ensemble/ensemble.js';
import { SHARED_DATASETS } from '../helpers.js';

test('ml-100k: raw sum ≈ popularity, normalised blend far above it, learned blend ≈ ALS (and not above it)', async () => {
  const store = await openStore(':memory:');
  await ingestMovieLens(store, `${SHARED_DATASETS}ml-100k`, '100k');
  const matrix = await loadInteractionMatrix(store);
  const products = await loadProducts(store);
  const split = splitMatrix(matrix, parseSplitSpec('random:0.2:seed=42'), await store.fingerprint());
  const categories = (await loadItemMetadata(store, split.train.items)).categoryOf;
  await store.close();

  const als = new AlsModel({ factors: 64, iterations: 15, regularization: 0.5, alpha: 1, regularizationScaling: 'als-wr' });
  await als.fit(split.train);
  const content = new ContentModel();
  content.setCatalog(products);
  await content.fit(split.train);
  const popularity = new Popularity();
  await popularity.fit(split.train);
  const opts = { bootstrapSamples: 100 };
  const ndcg = async (m: Parameters<typeof evaluate>[0]): Promise<number> => (await evaluate(m, split, opts, { itemCategories: categories })).metrics['ndcg@10'].mean;
  const alsNdcg = await ndcg(als);
  const popNdcg = await ndcg(popularity);
  assert.ok(Math.abs(alsNdcg - 0.431) < 0.01, `ALS ndcg@10 ${alsNdcg}`);

  const build = async (params: Record<string, unknown>, weights?: Record<string, number>): Promise<EnsembleModel> => {
    const e = new EnsembleModel(params);
    await e.configure({ models: [{ model: als }, { model: content }, { model: popularity }], ...(weights ? { weights } : {}) });
    e.setCatalog(products);
    await e.fit(split.train);
    return e;
  };
  const design = { als: 0.4, content: 0.2, popularity: 0.4 };
  const raw = await ndcg(await build({ normalization: 'none' }, design));
  const norm = await ndcg(await build({}, design));
  const learnedModel = await build({ learnWeights: true });
  const learned = await ndcg(learnedModel);
  assert.ok(Math.abs(raw - popNdcg) < 0.005, `raw ${raw} vs popularity ${popNdcg}: popularity counts swamp the other scores`);
  assert.ok(norm > raw + 0.1, `normalised ${norm} vs raw ${raw}`);
  assert.ok(Math.abs(learned - 0.4298) < 0.01, `learned ${learned}`);
  assert.ok(learned < alsNdcg + 0.005, 'on ml-100k the blend does not beat ALS (content and popularity add nothing ALS lacks)');
  const w = learnedModel.weightsByName();
  assert.ok(w.als > 0.6, `learned weights ${JSON.stringify(w)}`);
});
