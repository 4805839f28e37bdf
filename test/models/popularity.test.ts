import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { Popularity } from '../../src/core/models/popularity.js';
import { matrixFromRows } from '../helpers.js';

test('popularity ranks by distinct users, ties by smaller index, excludes seen items', async () => {
  // item counts: 0→1, 1→3, 2→2, 3→2, 4→0
  const m = matrixFromRows([[1, 2], [1, 3], [1, 2, 3, 0]], 5);
  const p = new Popularity();
  await p.fit(m);
  assert.deepEqual([...p.itemScores], [1, 3, 2, 2, 0]);
  const r = await p.recommend(Int32Array.of(0, 2), 3, { exclude: m });
  assert.deepEqual([...r.items], [3, 0, 4, /* user 2 */ 4, -1, -1]);
  assert.deepEqual([...r.scores.subarray(0, 3)], [2, 1, 0]);
  const noExclude = await p.recommend(Int32Array.of(0), 3);
  assert.deepEqual([...noExclude.items], [1, 2, 3]);
});

test('weighting=value sums confidence weights', async () => {
  const m = matrixFromRows([[[0, 5], [1, 1]], [[1, 2]]], 2);
  const p = new Popularity({ weighting: 'value' });
  await p.fit(m);
  assert.deepEqual([...p.itemScores], [5, 3]);
});

test('trending decays by half-life from the newest timestamp', async () => {
  const day = 86400;
  const m = InteractionMatrix.fromCoo({
    users: Int32Array.from([0, 1, 2]),
    items: Int32Array.from([0, 0, 1]),
    values: Float32Array.from([1, 1, 1]),
    lastSeen: Float64Array.from([0, 0, 14 * day]),
    userIds: new IdMap(['a', 'b', 'c']),
    itemIds: new IdMap(['old', 'new']),
  });
  const p = new Popularity({ mode: 'trending', halfLifeDays: 7 });
  await p.fit(m);
  // item 0: two users 14 days (2 half-lives) before the reference: 2 · 1/4 = 0.5; item 1: 1.
  assert.ok(Math.abs(p.itemScores[0] - 0.5) < 1e-6);
  assert.equal(p.itemScores[1], 1);
  const noTime = matrixFromRows([[0]], 1);
  await assert.rejects(new Popularity({ mode: 'trending' }).fit(noTime), /needs timestamps/);
});

test('bad params are errors that name the parameter', () => {
  assert.throws(() => new Popularity({ mode: 'hot' }), /parameter 'mode': expected one of count, trending/);
  assert.throws(() => new Popularity({ halfLife: 3 } as Record<string, unknown>), /has no parameter 'halfLife'/);
});
