/**
 * Content-model acceptance numbers (issue 4), in one script:
 *
 *  1. featurize: 100,000 synthetic products (generateSynth, seed 42: titles, descriptions,
 *     categories, brands, prices) → sparse item vectors; budget < 10 s. Also times the optional
 *     randomized SVD to 128 dimensions on them.
 *  2. warm: ml-100k, per-user random 80/20 split seed 42 (splitMatrix(parseSplitSpec('random:0.2'))),
 *     NDCG@10 / recall@10 of popularity, content (sparse and svd) and ALS on the same split; the same
 *     on the quickstart synthetic shop (2,000 users × 500 products, seed 42, event weights
 *     view 1 / click 2 / cart 3 / purchase 5), whose product text carries part of the hidden taste.
 *  3. cold: item cold start on ml-100k: 10% of the movies (seeded) are held out entirely — all their
 *     ratings go to test, and the content model is fitted WITHOUT their catalogue rows, which are
 *     then given to `addItems` (the no-retrain path). recall@10 of those movies for the users who
 *     rated them, ranking (a) the whole catalogue and (b) only the held-out movies.
 *
 * Run: node --import tsx bench/content.ts [--skip-synth] [--skip-als] [--json out.json]
 * (not part of `npm test`; ml-100k is read from ../shared/datasets/ml-100k).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynth } from '../src/core/data/synth.js';
import { openStore, type Store } from '../src/core/data/store.js';
import { ingestSynth } from '../src/core/data/ingest/synth.js';
import { ingestMovieLens } from '../src/core/data/ingest/movielens.js';
import { loadInteractionMatrix, loadProducts, type ProductRow } from '../src/core/data/load-matrix.js';
import { parseSplitSpec, splitMatrix } from '../src/core/data/split.js';
import type { InteractionMatrix } from '../src/core/data/matrix.js';
import { evaluate, evaluateRankings } from '../src/core/eval/evaluate.js';
import { Featurizer } from '../src/core/features/featurizer.js';
import { randomizedSvd } from '../src/core/features/svd.js';
import { ContentModel } from '../src/core/models/content.js';
import { Popularity } from '../src/core/models/popularity.js';
import type { Recommender } from '../src/core/models/recommender.js';
import { Rng } from '../src/core/rng.js';

const args = process.argv.slice(2);
const ML100K = new URL('../../shared/datasets/ml-100k', import.meta.url).pathname;
const results: Record<string, unknown> = {};
const fmt = (x: number): string => x.toFixed(4);

async function featurizeSynth(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-content-bench-'));
  try {
    const g0 = performance.now();
    await generateSynth({ users: 1000, products: 100_000, interactions: 20_000, seed: 42, outDir: dir });
    const store = await openStore(':memory:');
    let products: ProductRow[];
    try {
      await ingestSynth(store, dir);
      products = await loadProducts(store);
    } finally {
      await store.close();
    }
    const genSeconds = (performance.now() - g0) / 1000;
    const runs: number[] = [];
    let report = null;
    let vectors = null;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const fitted = Featurizer.fit(products);
      runs.push((performance.now() - t0) / 1000);
      report = fitted.report;
      vectors = fitted.vectors;
    }
    const s0 = performance.now();
    const svd = randomizedSvd(vectors!, { dimensions: 128, powerIterations: 2 });
    const svdSeconds = (performance.now() - s0) / 1000;
    const median = [...runs].sort((a, b) => a - b)[1];
    results.featurize = { products: products.length, seconds: runs, medianSeconds: median, dimensions: report!.dimensions, nnz: report!.nnz, emptyItems: report!.emptyItems, blocks: report!.blocks, svd128Seconds: svdSeconds, svdK: svd.k, generateAndLoadSeconds: genSeconds };
    console.log(`featurize ${products.length} synthetic products: median ${median.toFixed(2)} s (${runs.map((r) => r.toFixed(2)).join(', ')}); ${report!.dimensions} columns, ${(report!.nnz / products.length).toFixed(1)} nnz/item; svd→128: ${svdSeconds.toFixed(2)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ml100k(): Promise<{ store: Store; matrix: InteractionMatrix; products: ProductRow[]; fingerprint: string }> {
  const store = await openStore(':memory:');
  await ingestMovieLens(store, ML100K, '100k');
  const matrix = await loadInteractionMatrix(store);
  const products = await loadProducts(store, { ids: matrix.items.ids });
  return { store, matrix, products, fingerprint: await store.fingerprint() };
}

async function tryAls(): Promise<Recommender | null> {
  if (args.includes('--skip-als')) return null;
  try {
    const mod = await import('../src/core/models/als/als.js');
    return new mod.AlsModel({ factors: 64, iterations: 15, regularization: 0.05, alpha: 1 });
  } catch (e) {
    console.log(`ALS unavailable: ${(e as Error).message}`);
    return null;
  }
}

async function warm(data: Awaited<ReturnType<typeof ml100k>>, label = 'ml-100k', key = 'warm'): Promise<void> {
  const split = splitMatrix(data.matrix, parseSplitSpec('random:0.2'), data.fingerprint);
  const rows: Array<Record<string, number | string>> = [];
  const models: Array<[string, Recommender]> = [['popularity', new Popularity()]];
  const content = new ContentModel();
  content.setCatalog(data.products);
  models.push(['content', content]);
  const contentSvd = new ContentModel({ embedding: 'svd' });
  contentSvd.setCatalog(data.products);
  models.push(['content (svd 128)', contentSvd]);
  const als = await tryAls();
  if (als) models.push(['als (64 factors, λ 0.05, α 1)', als]);
  for (const [name, model] of models) {
    const t0 = performance.now();
    await model.fit(split.train);
    const fitSeconds = (performance.now() - t0) / 1000;
    const r = await evaluate(model, split, { bootstrapSamples: 200 });
    const row = {
      model: name,
      'ndcg@10': r.metrics['ndcg@10'].mean,
      'recall@10': r.metrics['recall@10'].mean,
      'recall_capped@10': r.metrics['recall_capped@10'].mean,
      'precision@10': r.metrics['precision@10'].mean,
      'hit_rate@10': r.metrics['hit_rate@10'].mean,
      'coverage@10': r.beyondAccuracy['coverage@10'] ?? NaN,
      users: r.users.evaluated,
      fitSeconds,
      recommendSeconds: r.timings.recommendSeconds,
    };
    rows.push(row);
    console.log(
      `warm ${label} ${name.padEnd(30)} ndcg@10 ${fmt(row['ndcg@10'])}  recall@10 ${fmt(row['recall@10'])}  P@10 ${fmt(row['precision@10'])}  hit ${fmt(row['hit_rate@10'])}  coverage ${fmt(row['coverage@10'])}  fit ${fitSeconds.toFixed(2)} s  recommend ${row.recommendSeconds.toFixed(2)} s`,
    );
  }
  results[key] = { dataset: label, split: split.config, trainPairs: split.train.nnz, testPairs: split.test.nnz, rows };
}

/** Item cold start: see the module comment. */
async function cold(data: Awaited<ReturnType<typeof ml100k>>): Promise<void> {
  const m = data.matrix;
  const rng = new Rng(42);
  const order = rng.shuffle(Int32Array.from({ length: m.nItems }, (_, i) => i));
  const nHeld = Math.round(0.1 * m.nItems);
  const held = new Uint8Array(m.nItems);
  for (let j = 0; j < nHeld; j++) held[order[j]] = 1;
  const toTrain = new Uint8Array(m.nnz);
  const toTest = new Uint8Array(m.nnz);
  for (let p = 0; p < m.nnz; p++) (held[m.indices[p]] ? toTest : toTrain)[p] = 1;
  const train = m.select(toTrain);
  const test = m.select(toTest);
  const heldIds = new Set<string>();
  for (let i = 0; i < m.nItems; i++) if (held[i]) heldIds.add(m.items.idOf(i));
  const users: number[] = [];
  for (let u = 0; u < m.nUsers; u++) if (test.rowLength(u) > 0) users.push(u);
  const userIdx = Int32Array.from(users);
  const warmItems = new Set<number>();
  for (let i = 0; i < m.nItems; i++) if (!held[i]) warmItems.add(i);
  const onlyCold = userIdx.map(() => 0);
  const coldSets = Array.from(onlyCold, () => warmItems);

  const pop = new Popularity();
  await pop.fit(train);
  const content = new ContentModel();
  // The held-out movies are unknown at fit time: no interactions and no catalogue row.
  content.setCatalog(data.products.filter((p) => !heldIds.has(p.productId)));
  await content.fit(train);
  const emptyBefore = Array.from(held).reduce((s, h, i) => s + (h && !content.hasFeatures(i) ? 1 : 0), 0);
  const t0 = performance.now();
  const added = await content.addItems(data.products.filter((p) => heldIds.has(p.productId)));
  const addSeconds = (performance.now() - t0) / 1000;

  const out: Array<Record<string, number | string>> = [];
  const random = randomRankings(userIdx, 10, m.nItems, train, new Rng(7));
  for (const [label, model] of [['popularity', pop], ['content', content]] as const) {
    for (const scope of ['all items', 'held-out items only'] as const) {
      const rankings = await model.recommend(userIdx, 10, { exclude: train, excludeSets: scope === 'all items' ? undefined : coldSets });
      const r = evaluateRankings(rankings, { train, test, exclude: train }, { ks: [10], mainK: 10, bootstrapSamples: 200, model: label });
      const row = { model: label, scope, 'recall@10': r.metrics['recall@10'].mean, 'ndcg@10': r.metrics['ndcg@10'].mean, 'hit_rate@10': r.metrics['hit_rate@10'].mean, users: r.users.evaluated };
      out.push(row);
      console.log(`cold ml-100k ${label.padEnd(11)} ${scope.padEnd(20)} recall@10 ${fmt(row['recall@10'])}  ndcg@10 ${fmt(row['ndcg@10'])}  hit ${fmt(row['hit_rate@10'])}  (${row.users} users)`);
    }
  }
  const heldList = Int32Array.from({ length: m.nItems }, (_, i) => i).filter((i) => held[i] === 1);
  const randomCold = randomRankings(userIdx, 10, heldList.length, train, new Rng(7), heldList);
  for (const [scope, rk] of [['all items', random], ['held-out items only', randomCold]] as const) {
    const rr = evaluateRankings(rk, { train, test, exclude: train }, { ks: [10], mainK: 10, bootstrapSamples: 200, model: 'random' });
    console.log(`cold ml-100k random      ${scope.padEnd(20)} recall@10 ${fmt(rr.metrics['recall@10'].mean)}  ndcg@10 ${fmt(rr.metrics['ndcg@10'].mean)}  hit ${fmt(rr.metrics['hit_rate@10'].mean)}`);
    out.push({ model: 'random', scope, 'recall@10': rr.metrics['recall@10'].mean, 'ndcg@10': rr.metrics['ndcg@10'].mean, 'hit_rate@10': rr.metrics['hit_rate@10'].mean, users: rr.users.evaluated });
  }
  results.cold = { heldOutItems: nHeld, testPairs: test.nnz, users: users.length, featurelessBeforeAddItems: emptyBefore, addItems: { ...added, itemIndexes: undefined, seconds: addSeconds }, rows: out };
}

/** k distinct random unseen items per user (from `pool` when given, else all nItems items). */
function randomRankings(users: Int32Array, k: number, nItems: number, train: InteractionMatrix, rng: Rng, pool?: Int32Array) {
  const items = new Int32Array(users.length * k).fill(-1);
  const scores = new Float32Array(users.length * k);
  users.forEach((u, r) => {
    const seen = new Set(train.rowItems(u));
    const picked = new Set<number>();
    while (picked.size < k) {
      const i = pool ? pool[rng.int(pool.length)] : rng.int(nItems);
      if (!seen.has(i)) picked.add(i);
    }
    [...picked].forEach((i, j) => (items[r * k + j] = i));
  });
  return { users, k, items, scores };
}

/** The quickstart synthetic shop (2,000 users × 500 products, seed 42): content carries part of the taste there. */
async function synthShop(): Promise<Awaited<ReturnType<typeof ml100k>>> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-content-shop-'));
  try {
    await generateSynth({ users: 2000, products: 500, interactions: 60_000, seed: 42, outDir: dir });
    const store = await openStore(':memory:');
    await ingestSynth(store, dir);
    const matrix = await loadInteractionMatrix(store, { weights: { view: 1, click: 2, cart: 3, purchase: 5 } });
    const products = await loadProducts(store, { ids: matrix.items.ids });
    return { store, matrix, products, fingerprint: await store.fingerprint() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!args.includes('--skip-synth')) {
  await featurizeSynth();
  const shop = await synthShop();
  try {
    await warm(shop, 'synth-shop', 'warmSynth');
  } finally {
    await shop.store.close();
  }
}
const data = await ml100k();
try {
  await warm(data);
  await cold(data);
} finally {
  await data.store.close();
}
const jsonAt = args.indexOf('--json');
if (jsonAt >= 0 && args[jsonAt + 1]) writeFileSync(args[jsonAt + 1], JSON.stringify(results, null, 2));
// ALS keeps a worker pool alive; end explicitly.
process.exit(0);
