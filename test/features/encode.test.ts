/** Categorical one-hot, quantile price buckets and JSON attributes, on hand-checked inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeEncoder, CategoricalEncoder, PriceBuckets } from '../../src/core/features/encode.js';

test('price buckets: quantile edges s[⌊j·n/B⌋], bucket = number of edges ≤ price', () => {
  // 1..10 into 5 buckets: edges at s[2]=3, s[4]=5, s[6]=7, s[8]=9 → two prices per bucket.
  const b = PriceBuckets.fit([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 5);
  assert.deepEqual([...b.edges], [3, 5, 7, 9]);
  assert.equal(b.buckets, 5);
  const got = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((p) => b.bucket(p));
  assert.deepEqual(got, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  // Between and beyond the edges; missing and non-finite prices have no bucket.
  assert.equal(b.bucket(2.99), 0);
  assert.equal(b.bucket(-5), 0);
  assert.equal(b.bucket(1e9), 4);
  assert.equal(b.bucket(null), -1);
  assert.equal(b.bucket(undefined), -1);
  assert.equal(b.bucket(Number.NaN), -1);
  assert.equal(b.bucket(Infinity), -1);
});

test('price buckets: ties collapse edges; missing prices are ignored when fitting', () => {
  // sorted [1, 5, 5, 5, 5]: the one edge is s[2] = 5, so 1 → 0 and 5 → 1.
  const b = PriceBuckets.fit([5, 5, null, 5, 5, 1, Number.NaN], 2);
  assert.deepEqual([...b.edges], [5]);
  assert.deepEqual([b.bucket(1), b.bucket(5)], [0, 1]);
  // All equal: no edge above the minimum, one bucket.
  const flat = PriceBuckets.fit([7, 7, 7], 4);
  assert.equal(flat.buckets, 1);
  assert.equal(flat.bucket(7), 0);
  assert.equal(PriceBuckets.fit([], 10).buckets, 1);
  assert.throws(() => PriceBuckets.fit([1, 2], 0), (e: Error & { code?: string }) => e.code === 'RECSYS_ERR_MODEL_PARAM');
});

test('categorical: sorted values, minCount, unknown and missing encode to -1', () => {
  const c = CategoricalEncoder.fit(['shoes', 'hats', null, 'shoes', '', 'bags', undefined]);
  assert.deepEqual([...c.values], ['bags', 'hats', 'shoes']);
  assert.deepEqual(['hats', 'shoes', 'bags', 'coats', null].map((v) => c.encode(v)), [1, 2, 0, -1, -1]);
  assert.deepEqual([...CategoricalEncoder.fit(['a', 'b', 'a'], 2).values], ['a']);
});

test('attributes: categorical multi-hot, numeric z-scores, identifier-like keys dropped, nesting flattened', () => {
  const rows = [
    { color: 'red', size: 10, tags: ['a', 'b', 'a'], url: 'u1', dims: { w: 1 } },
    { color: 'blue', size: 20, tags: ['a'], url: 'u2', dims: { w: 1 } },
    { color: 'red', size: 30, url: 'u3', flag: true, dims: { w: 1 } },
    null,
    { color: 'red', flag: true, dims: { w: 'heavy' } },
  ];
  const enc = AttributeEncoder.fit(rows);
  // blue and tag b occur once (< minCount 2); url has 3 distinct values in 3 rows (> 0.5·3): dropped;
  // dims.w mixes numbers and strings, so it is categorical ('1' three times, 'heavy' once: 2 distinct in 4 rows).
  assert.deepEqual(enc.spec.categorical, [
    { key: 'color', values: ['red'] },
    { key: 'dims.w', values: ['1'] },
    { key: 'flag', values: ['true'] },
    { key: 'tags', values: ['a'] },
  ]);
  assert.equal(enc.spec.numeric.length, 1);
  assert.equal(enc.spec.numeric[0].key, 'size');
  assert.equal(enc.spec.numeric[0].mean, 20);
  assert.ok(Math.abs(enc.spec.numeric[0].std - 8.1649658) < 1e-6);
  assert.deepEqual(enc.columnNames(), ['color=red', 'dims.w=1', 'flag=true', 'tags=a', 'size']);

  const cols: number[] = [];
  const vals: number[] = [];
  enc.encodeInto(rows[0], cols, vals);
  // color=red (0), dims.w=1 (1), tags=a once (3) despite appearing twice, size z = (10 − 20)/8.165 = −1.2247449 (4).
  const pairs = cols.map((c, j) => [c, vals[j]] as const).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(pairs.map((p) => p[0]), [0, 1, 3, 4]);
  assert.ok(Math.abs(pairs[3][1] + 1.2247449) < 1e-6);
  // Extreme numbers are clipped to ±3 standard deviations; unknown keys and values add nothing.
  cols.length = 0;
  vals.length = 0;
  enc.encodeInto({ size: 1000, color: 'green', other: 'x' }, cols, vals);
  assert.deepEqual(cols, [4]);
  assert.deepEqual(vals, [3]);
});

test('attributes: include / exclude lists and constant numeric keys', () => {
  const rows = [{ a: 'x', b: 'y', n: 5 }, { a: 'x', b: 'y', n: 5 }];
  assert.deepEqual(AttributeEncoder.fit(rows, { include: ['a'] }).columnNames(), ['a=x']);
  assert.deepEqual(AttributeEncoder.fit(rows, { exclude: ['a'] }).columnNames(), ['b=y']);
  // n is constant (std 0): it carries no information and is dropped.
  assert.ok(!AttributeEncoder.fit(rows).columnNames().includes('n'));
});
