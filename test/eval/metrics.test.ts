import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  catalogCoverage,
  discount,
  hitRateAtK,
  intraListDiversity,
  itemSelfInformation,
  listNovelty,
  listPopularityBias,
  mapAtK,
  mapCappedAtK,
  MetricScratch,
  mrrAtK,
  ndcgAtK,
  ndcgGradedAtK,
  popularityPercentiles,
  precisionAtK,
  RANKING_METRICS,
  rankingMetricsInto,
  recallAtK,
  recallCappedAtK,
} from '../../src/core/eval/metrics.js';
import { Rng } from '../../src/core/rng.js';

const L = (...xs: number[]): Int32Array => Int32Array.from(xs);
const close = (actual: number, expected: number, msg?: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg ?? ''} expected ${expected}, got ${actual}`);

// d(r) = 1/log2(r+1): d(1) = 1, d(2) = 0.6309297535714575, d(3) = 0.5.
const D2 = 0.6309297535714575;

test('discount is 1/log2(rank+1)', () => {
  close(discount(1), 1);
  close(discount(2), D2);
  close(discount(3), 0.5);
});

// R = {2, 5, 7}; list [5, 1, 7, 3, 9]: hits at ranks 1 (item 5) and 3 (item 7).
const R = L(2, 5, 7);
const LIST = L(5, 1, 7, 3, 9);

test('every metric at k=5 on a list with two hits (|R| = 3 < k)', () => {
  close(precisionAtK(LIST, R, 5), 2 / 5); // 2 hits / k=5
  close(recallAtK(LIST, R, 5), 2 / 3); // 2 hits / |R|=3
  close(recallCappedAtK(LIST, R, 5), 2 / 3); // 2 hits / min(5,3)=3
  // DCG = d(1) + d(3) = 1.5; IDCG = d(1)+d(2)+d(3) = 2.1309297535714575 → 0.7039180890341347
  close(ndcgAtK(LIST, R, 5), 1.5 / (1 + D2 + 0.5));
  close(ndcgAtK(LIST, R, 5), 0.7039180890341347);
  // AP numerator: P@1 = 1/1, P@3 = 2/3 → 5/3; map = (5/3)/|R|=3 = 5/9; capped ÷ min(5,3)=3 = 5/9
  close(mapAtK(LIST, R, 5), 5 / 9);
  close(mapCappedAtK(LIST, R, 5), 5 / 9);
  close(mrrAtK(LIST, R, 5), 1); // first hit at rank 1
  close(hitRateAtK(LIST, R, 5), 1);
});

test('every metric at k=2 where |R| = 3 > k: the two denominators differ', () => {
  // top 2 = [5, 1]: one hit at rank 1
  close(precisionAtK(LIST, R, 2), 1 / 2); // 1/k
  close(recallAtK(LIST, R, 2), 1 / 3); // 1/|R|
  close(recallCappedAtK(LIST, R, 2), 1 / 2); // 1/min(2,3)
  close(ndcgAtK(LIST, R, 2), 1 / (1 + D2)); // DCG 1; IDCG over min(2,3)=2 ranks = 1 + d(2) → 0.6131471927654584
  close(mapAtK(LIST, R, 2), 1 / 3); // (P@1 = 1) / |R|=3
  close(mapCappedAtK(LIST, R, 2), 1 / 2); // (P@1 = 1) / min(2,3)=2
  close(mrrAtK(LIST, R, 2), 1);
  close(hitRateAtK(LIST, R, 2), 1);
});

test('fewer relevant items than k: one relevant item found at rank 3 of 10', () => {
  const list = L(1, 2, 4, 6, 8, 10, 12, 14, 16, 18);
  const rel = L(4);
  close(precisionAtK(list, rel, 10), 0.1); // 1/10
  close(recallAtK(list, rel, 10), 1); // 1/|R|=1
  close(recallCappedAtK(list, rel, 10), 1); // 1/min(10,1)
  close(ndcgAtK(list, rel, 10), 0.5); // d(3)=0.5 / IDCG d(1)=1
  close(mapAtK(list, rel, 10), 1 / 3); // P@3 = 1/3, ÷ |R|=1
  close(mapCappedAtK(list, rel, 10), 1 / 3); // ÷ min(10,1)=1
  close(mrrAtK(list, rel, 10), 1 / 3);
  close(hitRateAtK(list, rel, 10), 1);
});

test('no hits: every metric is 0', () => {
  const list = L(0, 1, 3);
  for (const f of [precisionAtK, recallAtK, recallCappedAtK, ndcgAtK, mapAtK, mapCappedAtK, mrrAtK, hitRateAtK]) {
    assert.equal(f(list, R, 3), 0, f.name);
  }
  assert.equal(ndcgGradedAtK(list, R, Float32Array.of(1, 2, 3), 3), 0);
});

test('an empty list (length 0 or all -1 padding) is 0 on every metric, not skipped', () => {
  for (const list of [new Int32Array(0), L(-1, -1, -1)]) {
    for (const f of [precisionAtK, recallAtK, recallCappedAtK, ndcgAtK, mapAtK, mapCappedAtK, mrrAtK, hitRateAtK]) {
      assert.equal(f(list, R, 3), 0, f.name);
    }
  }
});

test('a short list is penalised: precision@10 of a 1-item list with a hit is 1/10', () => {
  const list = L(5);
  close(precisionAtK(list, R, 10), 0.1); // 1 hit / k = 10, not / list length 1
  close(recallAtK(list, R, 10), 1 / 3);
  // IDCG@10 over min(10, 3) = 3 ranks: 1 + d(2) + d(3)
  close(ndcgAtK(list, R, 10), 1 / (1 + D2 + 0.5));
});

test('-1 padding in the middle keeps later positions at their rank', () => {
  const list = L(-1, 4);
  const rel = L(4);
  close(mrrAtK(list, rel, 2), 1 / 2); // hit at rank 2, not shifted to rank 1
  close(ndcgAtK(list, rel, 2), D2); // d(2) / d(1)
  close(precisionAtK(list, rel, 2), 1 / 2);
});

test('ties: the order in the list decides (the evaluator never reorders)', () => {
  // items 3 and 4 tied in score; the model put 3 first in one list and 4 first in the other.
  const rel = L(4);
  close(ndcgAtK(L(3, 4), rel, 2), D2); // hit at rank 2
  close(ndcgAtK(L(4, 3), rel, 2), 1); // hit at rank 1
  close(mrrAtK(L(3, 4), rel, 2), 0.5);
});

test('a duplicated item counts once, at its first rank', () => {
  // [4, 4, 5] with R = {4, 5}: hits at ranks 1 and 3 only
  const rel = L(4, 5);
  close(precisionAtK(L(4, 4, 5), rel, 3), 2 / 3);
  close(mapAtK(L(4, 4, 5), rel, 3), (1 / 1 + 2 / 3) / 2); // (P@1 + P@3) / |R|
});

test('only the first k positions count', () => {
  close(precisionAtK(L(0, 0, 5), R, 2), 0); // the hit at rank 3 is outside k = 2
  close(hitRateAtK(L(0, 0, 5), R, 2), 0);
});

test('graded NDCG uses gain 2^rel − 1 and the best min(k,|R|) gains for IDCG', () => {
  // R = {2 (rel 1), 5 (rel 3), 7 (rel 2)} → gains 1, 7, 3
  const gains = Float32Array.of(1, 3, 2);
  const list = L(7, 1, 2);
  // DCG@3 = gain(7)=3 · d(1) + gain(2)=1 · d(3) = 3 + 0.5 = 3.5
  // IDCG@3 = 7·d(1) + 3·d(2) + 1·d(3) = 7 + 1.8927892607143724 + 0.5 = 9.392789260714372
  close(ndcgGradedAtK(list, R, gains, 3), 3.5 / (7 + 3 * D2 + 0.5));
  close(ndcgGradedAtK(list, R, gains, 3), 0.3726262671130988);
  // k = 2: DCG = 3; IDCG over the best 2 gains = 7 + 3·d(2)
  close(ndcgGradedAtK(list, R, gains, 2), 3 / (7 + 3 * D2));
  // all gains equal 1 (rel = 1 → gain 1): graded equals binary
  close(ndcgGradedAtK(LIST, R, Float32Array.of(1, 1, 1), 5), ndcgAtK(LIST, R, 5));
  // every relevant item has rel 0 → IDCG = 0 → 0 by convention
  assert.equal(ndcgGradedAtK(L(1), L(1), Float32Array.of(0), 1), 0);
});

test('no relevant items: every metric returns 0 (the evaluator skips such users)', () => {
  assert.equal(precisionAtK(LIST, new Int32Array(0), 5), 0);
  assert.equal(recallAtK(LIST, new Int32Array(0), 5), 0);
  assert.equal(ndcgAtK(LIST, new Int32Array(0), 5), 0);
});

test('rankingMetricsInto equals the single-metric functions on random lists', () => {
  const rng = new Rng(3);
  const ks = Int32Array.of(1, 3, 5, 10);
  const scratch = new MetricScratch(10);
  const nks = ks.length;
  const out = new Float64Array(RANKING_METRICS.length * nks);
  for (let trial = 0; trial < 500; trial++) {
    const nRel = 1 + rng.int(8);
    const relSet = new Set<number>();
    while (relSet.size < nRel) relSet.add(rng.int(20));
    const rel = Int32Array.from([...relSet].sort((a, b) => a - b));
    const gains = Float32Array.from(rel, () => rng.int(6));
    const len = rng.int(13); // shorter and longer than max k
    const list = Int32Array.from({ length: len }, () => (rng.next() < 0.15 ? -1 : rng.int(20)));
    rankingMetricsInto(list, rel, gains, ks, out, 0, scratch);
    for (let j = 0; j < nks; j++) {
      const k = ks[j];
      const expected = [
        precisionAtK(list, rel, k),
        recallAtK(list, rel, k),
        recallCappedAtK(list, rel, k),
        ndcgAtK(list, rel, k),
        ndcgGradedAtK(list, rel, gains, k),
        mapAtK(list, rel, k),
        mapCappedAtK(list, rel, k),
        mrrAtK(list, rel, k),
        hitRateAtK(list, rel, k),
      ];
      for (let m = 0; m < RANKING_METRICS.length; m++) {
        assert.ok(Math.abs(out[m * nks + j] - expected[m]) < 1e-12, `trial ${trial} ${RANKING_METRICS[m]}@${k}: ${out[m * nks + j]} vs ${expected[m]}`);
      }
    }
  }
});

test('rankingMetricsInto on the hand example (k = 2, 5)', () => {
  const ks = Int32Array.of(2, 5);
  const out = new Float64Array(RANKING_METRICS.length * 2);
  rankingMetricsInto(LIST, R, null, ks, out, 0, new MetricScratch(5));
  // metric-major: [precision@2, precision@5, recall@2, recall@5, ...]
  close(out[0], 1 / 2);
  close(out[1], 2 / 5);
  close(out[2 * 2 + 0], 1 / 2); // recall_capped@2
  close(out[3 * 2 + 1], 0.7039180890341347); // ndcg@5
  close(out[4 * 2 + 1], 0.7039180890341347); // ndcg_graded@5 without gains = binary
  close(out[6 * 2 + 0], 1 / 2); // map_capped@2
});

test('catalog coverage counts distinct items in the top k over all lists', () => {
  // rows [0, 1, -1] and [1, 2, -1], nItems 5: top 2 = {0,1} ∪ {1,2} = 3 items → 3/5; top 1 = {0, 1} → 2/5
  const items = L(0, 1, -1, 1, 2, -1);
  close(catalogCoverage(items, 3, 2, 5), 0.6);
  close(catalogCoverage(items, 3, 1, 5), 0.4);
  close(catalogCoverage(items, 3, 10, 5), 0.6); // k past the width: what is there
});

test('intra-list diversity is the share of known-category pairs with different categories', () => {
  const categories = L(0, 0, 1, -1);
  // top 4 = items 0(c0), 1(c0), 2(c1), 3(unknown): known pairs (0,1) same, (0,2) diff, (1,2) diff → 2/3
  close(intraListDiversity(L(0, 1, 2, 3), 4, categories), 2 / 3);
  close(intraListDiversity(L(0, 1, 2, 3), 2, categories), 0); // pair (0,1): same category
  assert.ok(Number.isNaN(intraListDiversity(L(0, 1), 1, categories))); // no pair at k = 1
  assert.ok(Number.isNaN(intraListDiversity(L(3, 0, -1), 3, categories))); // one known item: no pair
});

test('self-information −log2(pop/nUsers), with (0+1)/(nUsers+1) for unseen items', () => {
  // 4 training users; item 0 seen by all 4 → 0 bits; item 1 by one → 2 bits; item 2 by none → −log2(1/5)
  const info = itemSelfInformation(Int32Array.of(4, 1, 0), 4);
  close(info[0], 0);
  close(info[1], 2);
  close(info[2], 2.321928094887362);
  close(listNovelty(L(0, 1, -1), 3, info), 1); // (0 + 2)/2 valid items
  assert.ok(Number.isNaN(listNovelty(L(-1, -1), 2, info)));
});

test('popularity percentiles use mid-ranks for ties', () => {
  // counts [5, 1, 1, 0]; sorted [0, 1, 1, 5]: 0 → 0/3; 1 → (1 + (2−1)/2)/3 = 0.5; 5 → 3/3 = 1
  const pct = popularityPercentiles(Int32Array.of(5, 1, 1, 0));
  assert.deepEqual([...pct], [1, 0.5, 0.5, 0]);
  assert.deepEqual([...popularityPercentiles(Int32Array.of(3, 3, 3))], [0.5, 0.5, 0.5]); // no spread → 0.5
  close(listPopularityBias(L(0, 3), 2, pct), 0.5); // (1 + 0)/2
});
