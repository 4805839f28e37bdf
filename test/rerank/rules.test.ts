/**
 * Every business rule on hand-checked lists: exact items, scores and recorded effects, plus the
 * edge cases the issue names (a user who bought everything in a category, an empty candidate list,
 * k larger than the candidate count).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRules,
  diversifyCap,
  diversifyMmr,
  excludeBought,
  excludeLists,
  isNewItem,
  newItemBoost,
  popularityBoost,
  rerank,
  resolveRulesConfig,
  sortByScore,
  type CandidateList,
} from '../../src/core/rerank/index.js';

const DAY = 86400;

function list(items: number[], scores: number[], proposers?: number[]): CandidateList {
  return proposers
    ? { items: Int32Array.from(items), scores: Float64Array.from(scores), proposers: Uint32Array.from(proposers) }
    : { items: Int32Array.from(items), scores: Float64Array.from(scores) };
}

const empty = list([], []);

test('excludeBought drops the bought items, keeps order, records what it removed', () => {
  const input = list([3, 1, 4, 5], [0.9, 0.8, 0.7, 0.6], [1, 2, 3, 4]);
  const { list: out, effect } = excludeBought(input, Int32Array.of(1, 5), true);
  assert.deepEqual([...out.items], [3, 4]);
  assert.deepEqual([...out.scores], [0.9, 0.7]);
  assert.deepEqual([...(out.proposers ?? [])], [1, 3]);
  assert.deepEqual(effect?.removed, [{ item: 1, reason: 'bought' }, { item: 5, reason: 'bought' }]);
  assert.deepEqual([...input.items], [3, 1, 4, 5], 'the input list is not mutated');
  assert.equal(excludeBought(input, null).list, input, 'nothing bought: the same list');
  assert.deepEqual([...excludeBought(empty, Int32Array.of(1)).list.items], []);
});

test('excludeLists names the list that removed each item', () => {
  const lists = new Map([
    ['outOfStock', new Set([4])],
    ['blocked', new Set([3, 9])],
  ]);
  const { list: out, effect } = excludeLists(list([3, 1, 4, 5], [4, 3, 2, 1]), lists, true);
  assert.deepEqual([...out.items], [1, 5]);
  assert.deepEqual(effect?.removed, [{ item: 3, reason: 'blocked' }, { item: 4, reason: 'outOfStock' }]);
});

test('popularityBoost: s + β·pop·|s| (= s·(1 + β·pop) for s ≥ 0)', () => {
  const pop = Float32Array.of(1, 0.5, 0, 1);
  const { list: out, effect } = popularityBoost(list([0, 1, 2, 3], [1, 0.5, -0.5, -1]), pop, 0.1, true);
  const expected = [1.1, 0.525, -0.5, -0.9];
  out.scores.forEach((s, j) => assert.ok(Math.abs(s - expected[j]) < 1e-12, `item ${j}: ${s} vs ${expected[j]}`));
  assert.deepEqual(effect?.rescored.map((r) => r.item), [0, 1, 3], 'item 2 has popularity 0: unchanged, not recorded');
  assert.deepEqual([...popularityBoost(empty, pop, 0.1).list.items], []);
});

test('newItemBoost adds boost·scale to items created in the last `days` days before now (negative scores too)', () => {
  const now = 1_000 * DAY;
  const created = Float64Array.of(now - 1 * DAY, now - 8 * DAY, NaN, now + DAY, now - 7 * DAY + 1);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => isNewItem(created, i, now, 7)), [true, false, false, false, true]);
  const { list: out, effect } = newItemBoost(list([0, 1, 2, 3, 4], [0.4, 0.4, 0.4, 0.4, -0.2]), created, now, 7, 0.5, 1, true);
  const expected = [0.9, 0.4, 0.4, 0.4, 0.3];
  out.scores.forEach((s, j) => assert.ok(Math.abs(s - expected[j]) < 1e-12, `item ${j}: ${s}`));
  assert.deepEqual(effect?.rescored.map((r) => r.item), [0, 4]);
  assert.equal(newItemBoost(list([0], [1]), created, undefined, 7, 0.5).list.scores[0], 1, 'no "now": no boost');
  assert.ok(Math.abs(newItemBoost(list([0], [0.01]), created, now, 7, 0.5, 0.02).list.scores[0] - 0.02) < 1e-15, 'scale 0.02 (a rank blend): +0.01');
});

test('sortByScore breaks ties deterministically by index or by popularity', () => {
  const input = list([5, 2, 7, 1], [0.5, 0.9, 0.5, 0.5]);
  assert.deepEqual([...sortByScore(input, 'index', null).list.items], [2, 1, 5, 7]);
  const pop = new Float32Array(8);
  pop[1] = 0.1;
  pop[5] = 0.9;
  pop[7] = 0.5;
  const { list: byPop, effect } = sortByScore(input, 'popularity', pop, true);
  assert.deepEqual([...byPop.items], [2, 5, 7, 1]);
  assert.match(effect?.note ?? '', /2 equal-score neighbour pair\(s\) ordered by popularity/);
  const sorted = list([2, 1], [0.9, 0.5]);
  assert.equal(sortByScore(sorted, 'index', null).list, sorted, 'already sorted: the same list');
});

test('diversifyMmr: hand-computed greedy choices at λ = 0.7, unchanged at λ = 0.8 and 1', () => {
  // rel = [1, 0.9, 0.5, 0]; categories A A B A.
  // λ=0.7: pick 0 (0.7); then 1: 0.63−0.3=0.33 vs 2: 0.35 → 2; then 1 (0.33) over 3 (−0.3).
  const categories = Int32Array.of(0, 0, 1, 0);
  const input = list([0, 1, 2, 3], [1.0, 0.9, 0.5, 0.0]);
  const { list: out, effect } = diversifyMmr(input, categories, 0.7, 3, true);
  assert.deepEqual([...out.items], [0, 2, 1, 3]);
  assert.deepEqual([...out.scores], [1.0, 0.5, 0.9, 0.0], 'scores travel with their items');
  assert.deepEqual(effect?.moved, [{ item: 2, from: 2, to: 1 }, { item: 1, from: 1, to: 2 }]);
  // λ=0.8: item 1 scores 0.72−0.2 = 0.52 > item 2's 0.4: relevance wins.
  assert.deepEqual([...diversifyMmr(input, categories, 0.8, 3).list.items], [0, 1, 2, 3]);
  assert.equal(diversifyMmr(input, categories, 1, 3).list, input);
  assert.deepEqual([...diversifyMmr(empty, categories, 0.5, 3).list.items], []);
});

test('diversifyCap: at most maxPerCategory per category in the top k, the rest keeps its order', () => {
  const categories = Int32Array.of(0, 0, 0, 1, 1, 2);
  const input = list([0, 1, 2, 3, 4, 5], [6, 5, 4, 3, 2, 1]);
  const { list: out, effect } = diversifyCap(input, categories, 2, 4, true);
  assert.deepEqual([...out.items], [0, 1, 3, 4, 2, 5]);
  assert.equal(effect?.note, undefined);
});

test('a user who bought everything in a category: only other categories remain, and the cap relaxes rather than leave slots empty', () => {
  const categories = Int32Array.of(0, 0, 0, 1, 1, 1);
  const rules = buildRules(resolveRulesConfig({ excludeBought: { types: ['purchase'] }, popularityBoost: { enabled: false }, newItemBoost: { enabled: false }, diversity: { enabled: true, method: 'cap', maxPerCategory: 2 } }));
  const { list: out, effects } = rerank(list([0, 1, 2, 3, 4, 5], [6, 5, 4, 3, 2, 1]), rules, { k: 4, bought: Int32Array.of(0, 1, 2), categories }, true);
  assert.deepEqual([...out.items], [3, 4, 5], 'category 0 is gone; three items of category 1 fill the list');
  const diversity = effects.find((e) => e.rule === 'diversity');
  assert.match(diversity?.note ?? '', /relaxed: 1 slot\(s\) filled over the cap of 2/);
  assert.deepEqual(effects.find((e) => e.rule === 'excludeBought')?.removed.map((r) => r.item), [0, 1, 2]);
});

test('the pipeline: filters before boosts before the sort; k larger than the candidates; an empty list', () => {
  const now = 100 * DAY;
  const ctx = {
    k: 10,
    bought: Int32Array.of(2),
    popularity: Float32Array.of(0, 1, 0, 0),
    createdAt: Float64Array.of(NaN, NaN, now - DAY, now - DAY),
    now,
  };
  const rules = buildRules(resolveRulesConfig({ excludeBought: { types: ['purchase'] } }));
  assert.deepEqual(rules.map((r) => r.name), ['excludeBought', 'excludeLists', 'popularityBoost', 'newItemBoost', 'tieBreak']);
  // item 2 is new but bought: removed, never boosted. item 3: 0.5 → 0.8 (new, +0.3); item 1: 0.7 → 0.77 (popular).
  const { list: out, effects } = rerank(list([0, 1, 2, 3], [1, 0.7, 0.6, 0.5]), rules, ctx, true);
  assert.deepEqual([...out.items], [0, 3, 1], 'k = 10 > 3 candidates: all of them, no padding; the new item overtakes');
  assert.ok(Math.abs(out.scores[1] - 0.8) < 1e-12 && Math.abs(out.scores[2] - 0.77) < 1e-12);
  assert.deepEqual(effects.map((e) => e.rule), ['excludeBought', 'excludeLists', 'popularityBoost', 'newItemBoost', 'tieBreak']);
  assert.deepEqual(effects.find((e) => e.rule === 'newItemBoost')?.rescored.map((r) => r.item), [3]);
  const none = rerank(empty, rules, { ...ctx, categories: Int32Array.of(0, 0, 1, 1) }, true);
  assert.equal(none.list.items.length, 0);
  const cut = rerank(list([0, 1, 3], [3, 2, 1]), rules, { k: 2 });
  assert.deepEqual([...cut.list.items], [0, 1]);
  assert.equal(rerank(list([0, 1], [2, 1]), rules, { k: 0 }).list.items.length, 0);
});
