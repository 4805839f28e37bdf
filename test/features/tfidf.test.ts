/**
 * TF-IDF weights on a 3-document corpus, checked against hand-computed values (the formulas of
 * scikit-learn's TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm='l2')):
 *   d0 = "apple apple banana", d1 = "banana cherry", d2 = "banana"
 *   df: apple 1, banana 3, cherry 1;  n = 3
 *   idf(apple) = idf(cherry) = ln(4/2) + 1 = 1.6931472;  idf(banana) = ln(4/4) + 1 = 1
 *   d0: apple (1 + ln 2)·1.6931472 = 2.8667471, banana 1·1 → ÷ √(2.8667471² + 1) → 0.9442031, 0.3293639
 *   d1: banana 1, cherry 1.6931472 → ÷ √(1 + 1.6931472²) → 0.5085423, 0.8610370
 *   d2: banana 1 → 1
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TfidfVectorizer, tokenizeCorpus } from '../../src/core/features/tfidf.js';
import { Tokenizer } from '../../src/core/features/tokenize.js';
import type { SparseMatrix } from '../../src/core/features/sparse.js';

const plain = new Tokenizer({ stem: false, stopWords: null });
const docs = ['apple apple banana', 'banana cherry', 'banana'];

function row(m: SparseMatrix, r: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out.push([m.indices[p], m.values[p]]);
  return out;
}

function assertRow(actual: Array<[number, number]>, expected: Array<[number, number]>): void {
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  actual.forEach(([c, v], j) => {
    assert.equal(c, expected[j][0]);
    assert.ok(Math.abs(v - expected[j][1]) < 1e-6, `column ${c}: ${v} vs ${expected[j][1]}`);
  });
}

test('exact weights: sublinear tf, smoothed idf, L2 rows', () => {
  const corpus = tokenizeCorpus(docs.length, (d) => docs[d], plain);
  const v = TfidfVectorizer.fit(corpus, { minDf: 1 });
  assert.deepEqual([...v.vocabulary], ['apple', 'banana', 'cherry']);
  assert.ok(Math.abs(v.idf[0] - 1.6931472) < 1e-6);
  assert.ok(Math.abs(v.idf[1] - 1) < 1e-7);
  assert.ok(Math.abs(v.idf[2] - 1.6931472) < 1e-6);
  const m = v.transformCorpus(corpus);
  assert.equal(m.nRows, 3);
  assert.equal(m.nCols, 3);
  assertRow(row(m, 0), [[0, 0.9442031], [1, 0.3293639]]);
  assertRow(row(m, 1), [[1, 0.5085423], [2, 0.861037]]);
  assertRow(row(m, 2), [[1, 1]]);
});

test('raw tf and unsmoothed idf: ln(n/df) + 1', () => {
  const corpus = tokenizeCorpus(docs.length, (d) => docs[d], plain);
  const v = TfidfVectorizer.fit(corpus, { minDf: 1, sublinearTf: false, smoothIdf: false });
  assert.ok(Math.abs(v.idf[0] - (Math.log(3) + 1)) < 1e-6);
  // d0: apple 2·2.0986123, banana 1 → 0.9727717, 0.2317655
  assertRow(row(v.transformCorpus(corpus), 0), [[0, 0.9727717], [1, 0.2317655]]);
});

test('vocabulary filters: minDf, maxDfRatio, maxFeatures (by df, ties by term)', () => {
  const corpus = tokenizeCorpus(docs.length, (d) => docs[d], plain);
  assert.deepEqual([...TfidfVectorizer.fit(corpus, { minDf: 2 }).vocabulary], ['banana']);
  assert.deepEqual([...TfidfVectorizer.fit(corpus, { minDf: 1, maxDfRatio: 0.5 }).vocabulary], ['apple', 'cherry']);
  assert.deepEqual([...TfidfVectorizer.fit(corpus, { minDf: 1, maxFeatures: 2 }).vocabulary], ['apple', 'banana']);
  assert.throws(() => TfidfVectorizer.fit(corpus, { minDf: 0 }), (e: Error & { code?: string }) => e.code === 'RECSYS_ERR_MODEL_PARAM');
});

test('transform of new documents: fitted idf, unseen terms ignored, empty rows stay empty', () => {
  const corpus = tokenizeCorpus(docs.length, (d) => docs[d], plain);
  const v = TfidfVectorizer.fit(corpus, { minDf: 1 });
  const m = v.transform(['cherry durian durian', 'durian', null, ''], plain);
  assert.equal(m.nRows, 4);
  assertRow(row(m, 0), [[2, 1]]);
  assertRow(row(m, 1), []);
  assertRow(row(m, 2), []);
  assertRow(row(m, 3), []);
});

test('columns of a row are ascending and the same text gives the same row in any document order', () => {
  const texts = ['zebra apple mango apple', 'mango kiwi', 'kiwi zebra zebra zebra'];
  const a = tokenizeCorpus(3, (d) => texts[d], plain);
  const b = tokenizeCorpus(3, (d) => texts[2 - d], plain);
  const va = TfidfVectorizer.fit(a, { minDf: 1 });
  const vb = TfidfVectorizer.fit(b, { minDf: 1 });
  assert.deepEqual([...va.vocabulary], [...vb.vocabulary]);
  const ma = va.transformCorpus(a);
  const mb = vb.transformCorpus(b);
  for (let d = 0; d < 3; d++) {
    const ra = row(ma, d);
    for (let j = 1; j < ra.length; j++) assert.ok(ra[j][0] > ra[j - 1][0]);
    assert.deepEqual(ra, row(mb, 2 - d));
  }
});
