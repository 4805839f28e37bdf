/**
 * Content model on hand-built catalogues: profile averaging (binary, value, recency weights),
 * cosine scores, similar items, the cold-start API (addItems, recommendForHistory, fallback flag,
 * foldIn), save → load, and the model contract on a checkerboard whose groups differ by content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { isRecsysError } from '../../src/core/errors.js';
import { ContentModel, contentFactory, type CatalogItem } from '../../src/core/models/content.js';
import { matrixFromRows } from '../helpers.js';

const CATEGORY_ONLY = { textWeight: 0, brandWeight: 0, priceWeight: 0, attributesWeight: 0, categoryWeight: 1 };
const close = (a: number, b: number, tol = 1e-6, what = ''): void => assert.ok(Math.abs(a - b) < tol, `${what} ${a} vs ${b}`);

/** i0 A, i1 B, i2 A, i3 B, i4 C. */
function catalog(): CatalogItem[] {
  return ['A', 'B', 'A', 'B', 'C'].map((category, i) => ({ productId: `i${i}`, category }));
}

/** user 0: i0 (value 3, day 0), i1 (value 1, day 1); user 1: nothing; user 2: i4. */
function matrix(): InteractionMatrix {
  return InteractionMatrix.fromCoo({
    users: Int32Array.of(0, 0, 2),
    items: Int32Array.of(0, 1, 4),
    values: Float32Array.of(3, 1, 1),
    lastSeen: Float64Array.of(0, 86400, 0),
    userIds: new IdMap(['u0', 'u1', 'u2']),
    itemIds: new IdMap(catalog().map((c) => c.productId)),
  });
}

async function fitted(params: Record<string, unknown> = {}, rows: CatalogItem[] = catalog(), data = matrix()): Promise<ContentModel> {
  const m = new ContentModel({ ...CATEGORY_ONLY, ...params });
  m.setCatalog(rows);
  await m.fit(data);
  return m;
}

test('profile = weighted mean of history vectors; score = cosine (binary, value, recency weights)', async () => {
  const items = Int32Array.of(2, 3, 4);
  // Binary: p = (A + B)/2 → unit (0.7071, 0.7071); i2 (A) and i3 (B) score 0.7071, i4 (C) 0.
  const binary = (await fitted()).score(0, items);
  close(binary[0], Math.SQRT1_2);
  close(binary[1], Math.SQRT1_2);
  close(binary[2], 0);
  // Value weights 3 and 1: p = (0.75, 0.25) → unit (0.9487, 0.3162).
  const value = (await fitted({ historyWeighting: 'value' })).score(0, items);
  close(value[0], 0.9486833);
  close(value[1], 0.3162278);
  // log: 1 + ln(1 + 3) = 2.3863 and 1 + ln 2 = 1.6931 → unit (0.8155, 0.5787).
  const log = (await fitted({ historyWeighting: 'log' })).score(0, items);
  const [a, b] = [1 + Math.log(4), 1 + Math.log(2)];
  close(log[0], a / Math.hypot(a, b));
  // Recency, half-life 1 day: i0 is one day older than the newest event → weight 0.5 vs 1 → unit (0.4472, 0.8944).
  const recent = (await fitted({ recencyHalfLifeDays: 1 })).score(0, items);
  close(recent[0], 0.4472136);
  close(recent[1], 0.8944272);
});

test('recommend: exclusions, ties by smaller index, fallback for users without history (flagged)', async () => {
  const m = await fitted();
  const data = matrix();
  const r = await m.recommendDetailed(Int32Array.of(0, 1, 2), 3, { exclude: data });
  // User 0: i2 and i3 tie at 0.7071 (smaller index first), then i4 at 0.
  assert.deepEqual([...r.items.subarray(0, 3)], [2, 3, 4]);
  assert.equal(ContentModel.strategyOf(r, 0), 'content');
  // User 1 has no history: popularity (i0, i1, i4 have one user each; ties by index), flagged.
  assert.deepEqual([...r.items.subarray(3, 6)], [0, 1, 4]);
  assert.equal(ContentModel.strategyOf(r, 1), 'popularity');
  assert.deepEqual([...r.scores.subarray(3, 6)], [1, 1, 1]);
  // User 2 watched i4 (C): nothing else is C, every other item scores 0 → index order.
  assert.deepEqual([...r.items.subarray(6, 9)], [0, 1, 2]);
  assert.equal(ContentModel.strategyOf(r, 2), 'content');
  // The plain Rankings carry no strategy field; an unknown user index falls back too.
  const plain = await m.recommend(Int32Array.of(0), 2, { exclude: data });
  assert.deepEqual(Object.keys(plain).sort(), ['items', 'k', 'scores', 'users']);
  assert.equal((await m.recommendDetailed(Int32Array.of(99), 2)).strategy[0], 1);
  // excludeSets removes extra items per row.
  const ex = await m.recommendDetailed(Int32Array.of(0), 2, { exclude: data, excludeSets: [new Set([2])] });
  assert.deepEqual([...ex.items], [3, 4]);
  // score() of a fallback user is the fallback score.
  assert.deepEqual([...m.score(1, Int32Array.of(0, 2))], [1, 0]);
});

test('similar items: exact cosines, the item itself excluded, and symmetric', async () => {
  const rows: CatalogItem[] = [
    { productId: 'p0', title: 'red leather boots', category: 'shoes', brand: 'acme', price: 100 },
    { productId: 'p1', title: 'brown leather boots', category: 'shoes', brand: 'zeta', price: 90 },
    { productId: 'p2', title: 'red wool hat', category: 'hats', brand: 'acme', price: 20 },
    { productId: 'p3', title: 'leather belt', category: 'belts', brand: 'acme', price: 40 },
    { productId: 'p4', title: 'rain boots', category: 'shoes', brand: 'zeta', price: 60 },
    { productId: 'p5' },
  ];
  const data = matrixFromRows([[0, 1], [2, 3], [4]], 6);
  const ids = new IdMap(rows.map((r) => r.productId));
  const m = new ContentModel({ minDf: 1 });
  m.setCatalog(rows);
  await m.fit(new InteractionMatrix({ ...data, users: data.users, items: ids }));
  const all = Int32Array.from({ length: 6 }, (_, i) => i);
  const sim = await m.similarItems(all, 5);
  for (let a = 0; a < 5; a++) {
    const list = [...sim.items.subarray(a * 5, a * 5 + 5)];
    assert.ok(!list.includes(a), `item ${a} is in its own list`);
    for (let j = 0; j < 5; j++) {
      const b = list[j];
      if (b < 0) continue;
      // Symmetry: the score of b in a's list equals the score of a in b's list and cos(b, a).
      close(sim.scores[a * 5 + j], m.itemSimilarity(b, a), 1e-6, `cos(${a},${b})`);
      const back = [...sim.items.subarray(b * 5, b * 5 + 5)].indexOf(a);
      if (back >= 0) close(sim.scores[b * 5 + back], sim.scores[a * 5 + j], 1e-6);
      if (j > 0) assert.ok(sim.scores[a * 5 + j - 1] >= sim.scores[a * 5 + j]);
    }
  }
  // The two leather boots are each other's nearest neighbour.
  assert.equal(sim.items[0], 1);
  assert.equal(sim.items[5], 0);
  // p5 has no features: empty row.
  assert.deepEqual([...sim.items.subarray(25, 30)], [-1, -1, -1, -1, -1]);
  assert.equal(m.itemSimilarity(0, 5), 0);
  // Exact on the category-only catalogue: i0's only neighbour with similarity 1 is i2, the rest 0.
  const cat = await fitted();
  const s0 = await cat.similarItems(Int32Array.of(0), 3);
  assert.deepEqual([...s0.items], [2, 1, 3]);
  assert.deepEqual([...s0.scores], [1, 0, 0]);
});

test('cold start: addItems without refit, recommendForHistory for 1–3 interactions, fallback flag', async () => {
  const m = await fitted();
  const before = m.nItems;
  // A product nobody has seen, and a re-described existing one (i4 becomes category A).
  const res = await m.addItems([{ productId: 'new', category: 'A' }, { productId: 'i4', category: 'A' }]);
  assert.deepEqual({ added: res.added, updated: res.updated }, { added: 1, updated: 1 });
  assert.deepEqual([...res.itemIndexes], [before, 4]);
  assert.equal(m.itemIds?.idOf(before), 'new');
  assert.equal(m.fallbackScores[before], 0);
  // A brand-new user with one interaction (i0, category A): A items first, the new product among them.
  const one = m.recommendForHistory(Int32Array.of(0), null, 3);
  assert.equal(one.strategy, 'content');
  assert.deepEqual([...one.items], [2, 4, 5]);
  assert.deepEqual([...one.scores], [1, 1, 1]);
  // Three interactions with weights; history excluded by default, or not.
  const three = m.recommendForHistory(Int32Array.of(1, 3, 0), Float32Array.of(1, 1, 0.1), 2);
  assert.deepEqual([...three.items], [2, 4]);
  assert.ok(three.scores[0] < 0.2);
  const keep = m.recommendForHistory(Int32Array.of(1), null, 2, { excludeHistory: false });
  assert.deepEqual([...keep.items], [1, 3]);
  // The stored user 0 sees the new item without any refit.
  const r = await m.recommendDetailed(Int32Array.of(0), 4, { exclude: matrix() });
  assert.deepEqual([...r.items], [2, 3, 4, 5]);
  // No history, or only unknown ids: popularity, flagged.
  const none = m.recommendForHistory(new Int32Array(0), null, 3);
  assert.equal(none.strategy, 'popularity');
  assert.deepEqual([...none.items], [0, 1, 4]);
  const ids = m.recommendForHistoryIds(['i1', 'nope'], null, 2);
  assert.deepEqual(ids.unknownIds, ['nope']);
  assert.deepEqual(ids.ids, ['i3', 'i0']);
  assert.throws(() => m.recommendForHistory(Int32Array.of(0, 1), Float32Array.of(1), 2), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_USAGE');
});

test('foldIn: new interactions change a user\'s profile immediately', async () => {
  const m = await fitted();
  assert.equal((await m.recommendDetailed(Int32Array.of(1), 1)).strategy[0], 1);
  // User 1 now bought i3 (B).
  const fresh = matrixFromRows([[], [3], []], 5);
  await m.foldIn(new InteractionMatrix({ ...fresh, users: matrix().users, items: matrix().items }), Int32Array.of(1));
  const r = await m.recommendDetailed(Int32Array.of(1, 0), 1, { exclude: fresh });
  assert.equal(r.strategy[0], 0);
  assert.equal(r.items[0], 1);
  // User 0 untouched: still A/B mix, first the tie-broken i0 (not excluded here).
  assert.equal(r.strategy[1], 0);
});

test('fit needs a catalogue; items without a row are empty; catalogue-only rows are counted', async () => {
  const m = new ContentModel();
  await assert.rejects(m.fit(matrix()), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_MODEL_FIT' && /setCatalog/.test(e.message));
  const rows = catalog().filter((c) => c.productId !== 'i3');
  rows.push({ productId: 'extra', category: 'Z' });
  const part = await fitted({}, rows);
  assert.equal(part.lastFit?.itemsWithoutCatalogRow, 1);
  assert.equal(part.lastFit?.catalogRowsNotInMatrix, 1);
  assert.equal(part.lastFit?.emptyItems, 1);
  assert.ok(!part.hasFeatures(3));
  // The extra row's category is in the vocabulary (learned from the whole catalogue) but not an item.
  assert.equal(part.nItems, 5);
  assert.ok(part.featurizer?.categories.values.includes('Z'));
  assert.equal(contentFactory.needsCatalog, true);
  assert.throws(() => new ContentModel({ embedding: 'dense' }), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_MODEL_PARAM');
});

test('save → load: identical rankings and strategies, addItems still works (sparse and svd)', async () => {
  for (const embedding of ['sparse', 'svd'] as const) {
    const m = await fitted({ embedding, dimensions: 3, textWeight: 1 }, catalog().map((c, i) => ({ ...c, title: `item number ${i} ${c.category}` })));
    const dir = join(mkdtempSync(join(tmpdir(), `recsys-content-${embedding}-`)), 'model');
    await m.save(dir);
    const loaded = await contentFactory.load(dir);
    assert.ok(loaded instanceof ContentModel);
    const users = Int32Array.of(0, 1, 2);
    const a = await m.recommendDetailed(users, 4, { exclude: matrix() });
    const b = await loaded.recommendDetailed(users, 4, { exclude: matrix() });
    assert.deepEqual([...b.items], [...a.items]);
    assert.deepEqual([...b.scores], [...a.scores]);
    assert.deepEqual([...b.strategy], [...a.strategy]);
    assert.deepEqual(loaded.params, m.params);
    const added = await loaded.addItems([{ productId: 'late', category: 'A', title: 'item number A' }]);
    const ref = await m.addItems([{ productId: 'late', category: 'A', title: 'item number A' }]);
    assert.deepEqual([...added.itemIndexes], [...ref.itemIndexes]);
    close(loaded.itemSimilarity(0, 5), m.itemSimilarity(0, 5), 1e-6, embedding);
    if (embedding === 'svd') assert.ok((m.svd?.k ?? 0) <= 3 && m.itemVectors === null);
  }
});

/** The model contract (test/models/contract.test.ts) with a catalogue whose groups differ by content. */
test('contract on a checkerboard with content: batch = single, exclusions, padding, score = recommend, best item', async () => {
  const rows: number[][] = [];
  for (let u = 0; u < 20; u++) {
    const base = u < 10 ? 0 : 10;
    const row: number[] = [];
    for (let j = 0; j < 10; j++) if (j !== u % 10) row.push(base + j);
    rows.push(row);
  }
  const data = matrixFromRows(rows, 20);
  const m = new ContentModel();
  m.setCatalog(Array.from({ length: 20 }, (_, i) => ({ productId: `i${i}`, title: i < 10 ? `alpha gadget ${i}` : `beta gizmo ${i}`, category: i < 10 ? 'A' : 'B' })));
  await m.fit(data);
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  const batch = await m.recommend(users, 5, { exclude: data });
  for (const u of [0, 7, 13]) {
    const one = await m.recommend(Int32Array.of(u), 5, { exclude: data });
    assert.deepEqual([...one.items], [...batch.items.subarray(u * 5, u * 5 + 5)]);
  }
  for (let u = 0; u < 20; u++) {
    const seen = new Set(data.rowItems(u));
    for (let j = 0; j < 5; j++) {
      assert.ok(!seen.has(batch.items[u * 5 + j]));
      if (j > 0) assert.ok(batch.scores[u * 5 + j - 1] >= batch.scores[u * 5 + j]);
    }
    assert.equal(batch.items[u * 5], (u < 10 ? 0 : 10) + (u % 10), `user ${u}`);
  }
  const wide = await m.recommend(Int32Array.of(0), 30, { exclude: data });
  assert.equal([...wide.items].filter((i) => i >= 0).length, 20 - data.rowLength(0));
  assert.equal(wide.items[29], -1);
  const s = m.score(3, batch.items.subarray(15, 20));
  for (let j = 0; j < 5; j++) close(s[j], batch.scores[15 + j], 1e-5);
});

test('svd embeddings through the ALS top-k kernels: large batches (worker pool) = single queries = brute force', async () => {
  const { closeAlsPool } = await import('../../src/core/models/als/pool.js');
  const { Rng } = await import('../../src/core/rng.js');
  const rng = new Rng(5);
  const nItems = 60;
  const words = ['red', 'blue', 'green', 'wool', 'leather', 'cotton', 'boot', 'hat', 'scarf', 'coat'];
  const rowsCat: CatalogItem[] = Array.from({ length: nItems }, (_, i) => ({
    productId: `p${i}`,
    title: Array.from({ length: 3 }, () => words[rng.int(words.length)]).join(' '),
    category: `c${i % 4}`,
    price: 5 + rng.int(100),
  }));
  const history: number[][] = Array.from({ length: 300 }, (_, u) => (u % 17 === 0 ? [] : Array.from({ length: 1 + rng.int(4) }, () => rng.int(nItems))));
  const data = matrixFromRows(history, nItems);
  const m = new ContentModel({ embedding: 'svd', dimensions: 8 });
  m.setCatalog(rowsCat.map((r, i) => ({ ...r, productId: `i${i}` })));
  await m.fit(data);
  try {
    const users = Int32Array.from({ length: 300 }, (_, u) => u);
    const all = await m.recommendDetailed(users, 5, { exclude: data });
    for (const u of [0, 1, 2, 17, 150, 299]) {
      const one = await m.recommendDetailed(Int32Array.of(u), 5, { exclude: data });
      assert.deepEqual([...one.items], [...all.items.subarray(u * 5, u * 5 + 5)], `user ${u}`);
      assert.equal(one.strategy[0], u % 17 === 0 ? 1 : 0);
      if (u % 17 === 0) continue;
      // Brute force with score(): the best unseen item's score equals the list head's.
      const seen = new Set(data.rowItems(u));
      const candidates = Int32Array.from({ length: nItems }, (_, i) => i).filter((i) => !seen.has(i));
      const s = m.score(u, candidates);
      close(Math.max(...s), all.scores[u * 5], 1e-5, `user ${u}`);
    }
    const sim = await m.similarItems(Int32Array.of(0, 1), 3);
    close(sim.scores[0], m.itemSimilarity(0, sim.items[0]), 1e-5);
  } finally {
    await closeAlsPool();
  }
});

test('addItems with onlyNew (the --incremental path): known products are left alone', async () => {
  const m = await fitted();
  const before = m.featurizer && m.itemSimilarity(0, 4);
  const res = await m.addItems([{ productId: 'i4', category: 'A' }, { productId: 'late', category: 'B' }, { productId: 'i0', category: 'A' }], { onlyNew: true });
  assert.deepEqual({ added: res.added, updated: res.updated }, { added: 1, updated: 0 });
  assert.deepEqual([...res.itemIndexes], [4, 5, 0]);
  assert.equal(m.itemSimilarity(0, 4), before);
  close(m.itemSimilarity(1, 5), 1);
  const again = await m.addItems([{ productId: 'late', category: 'B' }], { onlyNew: true });
  assert.equal(again.added, 0);
  assert.equal(m.nItems, 6);
});

test('fallback=trending: time-decayed list with timestamps, a clear error without', async () => {
  // Default matrix: i0 and i4 at t=0, i1 one day later → i1 trends first.
  const m = await fitted({ fallback: 'trending' });
  const r = m.recommendForHistory(new Int32Array(0), null, 3);
  assert.equal(r.strategy, 'popularity');
  assert.deepEqual([...r.items], [1, 0, 4]);
  const noTime = matrixFromRows([[0], [1]], 5);
  const data = new InteractionMatrix({ ...noTime, users: noTime.users, items: matrix().items });
  await assert.rejects(fitted({ fallback: 'trending' }, catalog(), data), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_MODEL_PARAM' && /fallback=popularity/.test(e.message));
});
