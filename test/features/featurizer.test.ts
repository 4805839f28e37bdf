/** Featurizer: block weighting and normalisation (exact cosines), price neighbours, state round trip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Featurizer, type CatalogItem } from '../../src/core/features/featurizer.js';
import type { SparseMatrix } from '../../src/core/features/sparse.js';

function dense(m: SparseMatrix, r: number): Float64Array {
  const out = new Float64Array(m.nCols);
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out[m.indices[p]] = m.values[p];
  return out;
}

function dot(m: SparseMatrix, a: number, b: number): number {
  const x = dense(m, a);
  const y = dense(m, b);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('cosine = Σ w_b² cos_b / Σ w_b² when every block is present; rows are unit norm; empty items stay empty', () => {
  const items: CatalogItem[] = [
    { productId: 'a', title: 'red shoe', category: 'shoes', brand: 'acme', price: 10 },
    { productId: 'b', title: 'blue hat', category: 'shoes', brand: 'zeta', price: 10 },
    { productId: 'c' },
  ];
  const { featurizer, vectors, report } = Featurizer.fit(items, { tfidf: { minDf: 1 } });
  // Default weights text 1, category 0.5, brand 0.5, price 0.25; a and b share category and price only:
  // (0.5² + 0.25²) / (1 + 0.5² + 0.5² + 0.25²) = 0.3125 / 1.5625 = 0.2.
  close(dot(vectors, 0, 1), 0.2);
  close(dot(vectors, 0, 0), 1);
  close(dot(vectors, 1, 1), 1);
  assert.equal(vectors.indptr[3] - vectors.indptr[2], 0);
  assert.equal(report.emptyItems, 1);
  assert.equal(report.items, 3);
  assert.deepEqual(
    featurizer.layout().map((b) => [b.name, b.offset, b.size]),
    [['text', 0, 4], ['category', 4, 1], ['brand', 5, 2], ['price', 7, 1], ['attributes', 8, 0]],
  );
  assert.equal(featurizer.dimensions, 8);
  assert.deepEqual([0, 4, 5, 7].map((c) => featurizer.columnName(c)), ['text:blue', 'category:shoes', 'brand:acme', 'price:0']);
  assert.deepEqual(report.blocks.map((b) => b.itemsWithBlock), [2, 2, 2, 2, 0]);
});

test('block weights change the mix: category-only weights make same-category items identical', () => {
  const items: CatalogItem[] = [
    { productId: 'a', title: 'red shoe', category: 'shoes' },
    { productId: 'b', title: 'blue hat', category: 'shoes' },
    { productId: 'c', title: 'red hat', category: 'hats' },
  ];
  const catOnly = Featurizer.fit(items, { weights: { text: 0, category: 1, brand: 0, price: 0, attributes: 0 } }).vectors;
  close(dot(catOnly, 0, 1), 1);
  close(dot(catOnly, 0, 2), 0);
  const textOnly = Featurizer.fit(items, { weights: { text: 1, category: 0, brand: 0, price: 0, attributes: 0 }, tfidf: { minDf: 1 } }).vectors;
  assert.ok(dot(textOnly, 0, 2) > 0);
  close(dot(textOnly, 0, 1), 0);
});

test('price block: one-hot with neighbour buckets at priceNeighbourWeight, normalised', () => {
  const items: CatalogItem[] = [1, 2, 3].map((p, i) => ({ productId: `p${i}`, price: p }));
  const { vectors, featurizer } = Featurizer.fit(items, { weights: { text: 0, category: 0, brand: 0, price: 1, attributes: 0 }, priceBuckets: 3 });
  assert.deepEqual([...featurizer.prices.edges], [2, 3]);
  // p0: [1, 0.5]/√1.25, p1: [0.5, 1, 0.5]/√1.5, p2: [0.5, 1]/√1.25 over buckets 0..2.
  const r0 = dense(vectors, 0);
  close(r0[0], 0.8944272);
  close(r0[1], 0.4472136);
  close(dot(vectors, 0, 1), 0.7302967);
  close(dot(vectors, 0, 2), 0.2);
  const oneHot = Featurizer.fit(items, { weights: { text: 0, category: 0, brand: 0, price: 1, attributes: 0 }, priceBuckets: 3, priceNeighbourWeight: 0 }).vectors;
  close(dot(oneHot, 0, 1), 0);
});

test('transform applies the fitted encoders; state round trip gives identical vectors', () => {
  const items: CatalogItem[] = [
    { productId: 'a', title: 'Leather boots', description: 'Warm leather boots for winter', category: 'shoes', brand: 'Acme', price: 120, features: { color: 'brown' } },
    { productId: 'b', title: 'Wool hat', description: 'A warm wool hat', category: 'hats', brand: 'Acme', price: 25, features: { color: 'brown' } },
    { productId: 'c', title: 'Sun hat', description: 'Straw hat for summer', category: 'hats', brand: 'Zeta', price: 30, features: { color: 'beige' } },
    { productId: 'd', title: 'Rain boots', description: 'Rubber boots', category: 'shoes', brand: 'Zeta', price: 60, features: { color: 'beige' } },
  ];
  const { featurizer, vectors } = Featurizer.fit(items, { tfidf: { minDf: 1 } });
  const again = featurizer.transform(items);
  assert.deepEqual([...again.indptr], [...vectors.indptr]);
  assert.deepEqual([...again.indices], [...vectors.indices]);
  assert.deepEqual([...again.values], [...vectors.values]);
  // As a saved model stores it: JSON for the structure, copies of the typed arrays.
  const s = featurizer.state();
  const json = JSON.parse(JSON.stringify({ config: s.config, nDocs: s.nDocs, vocabulary: s.vocabulary, categories: s.categories, brands: s.brands, attributes: s.attributes, textDimensions: s.textDimensions }));
  const restored = Featurizer.fromState({ ...json, idf: Float32Array.from(s.idf), priceEdges: Float64Array.from(s.priceEdges) });
  const r = restored.transform(items);
  assert.deepEqual([...r.values], [...vectors.values]);
  // A new product: unseen words, category and colour are ignored; known ones still count.
  const fresh = featurizer.transform([{ productId: 'z', title: 'Leather gloves', category: 'gloves', brand: 'Acme', price: 40, features: { color: 'green' } }]);
  const names = Array.from(fresh.indices, (c) => featurizer.columnName(c));
  assert.ok(names.includes('text:leather'));
  assert.ok(names.includes('brand:Acme'));
  assert.ok(!names.some((n) => n.startsWith('category:') || n.startsWith('attr:')));
});

test('textAttributes append attribute values to the text; textSource encoder uses given vectors', () => {
  const items: CatalogItem[] = [
    { productId: '1', title: 'Toy Story (1995)', features: { genres: ['Animation', 'Comedy'] } },
    { productId: '2', title: 'Heat (1995)', features: { genres: ['Action', 'Crime'] } },
  ];
  const { featurizer } = Featurizer.fit(items, { tfidf: { minDf: 1 }, textAttributes: ['genres'], weights: { text: 1, category: 0, brand: 0, price: 0, attributes: 0 } });
  assert.ok(featurizer.tfidf.vocabulary.includes('comedi'));
  const vecs = Float32Array.from([3, 4, 0, 0, 0, 2]);
  const enc = Featurizer.fit(items, { textSource: 'encoder', weights: { text: 1, category: 0, brand: 0, price: 0, attributes: 0 } }, { textVectors: vecs });
  assert.equal(enc.featurizer.textDimensions, 3);
  assert.deepEqual(Array.from(enc.vectors.values, (v) => Math.round(v * 1e6) / 1e6), [0.6, 0.8, 1]);
  assert.throws(() => enc.featurizer.transform(items), (e: Error & { code?: string }) => e.code === 'RECSYS_ERR_MODEL_PARAM' && /encodeItemTexts/.test(e.message));
});

test('config validation: negative or all-zero weights are errors naming the parameter', () => {
  const items: CatalogItem[] = [{ productId: 'a', title: 'x y' }];
  assert.throws(() => Featurizer.fit(items, { weights: { text: -1 } }), (e: Error & { code?: string }) => e.code === 'RECSYS_ERR_MODEL_PARAM' && /text/.test(e.message));
  assert.throws(() => Featurizer.fit(items, { weights: { text: 0, category: 0, brand: 0, price: 0, attributes: 0 } }), (e: Error & { code?: string }) => e.code === 'RECSYS_ERR_MODEL_PARAM');
});
