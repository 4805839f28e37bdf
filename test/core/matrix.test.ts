import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { matrixFromRows } from '../helpers.js';

test('fromCoo sorts rows, sums duplicate pairs and keeps the newest timestamp', () => {
  const m = InteractionMatrix.fromCoo({
    users: Int32Array.from([1, 0, 1, 1, 0]),
    items: Int32Array.from([2, 1, 0, 2, 1]),
    values: Float32Array.from([1, 2, 3, 4, 5]),
    lastSeen: Float64Array.from([10, 20, 30, 40, 5]),
    userIds: new IdMap(['a', 'b']),
    itemIds: new IdMap(['x', 'y', 'z']),
  });
  assert.deepEqual([...m.indptr], [0, 1, 3]);
  assert.deepEqual([...m.indices], [1, 0, 2]);
  assert.deepEqual([...m.values], [7, 3, 5]); // (0,1): 2+5; (1,0): 3; (1,2): 1+4
  assert.deepEqual([...m.lastSeen!], [20, 30, 40]);
  assert.equal(m.nnz, 3);
});

test('csc is the exact transpose', () => {
  const m = matrixFromRows([[0, [2, 5]], [1, 2], []], 3);
  const t = m.csc();
  assert.deepEqual([...t.indptr], [0, 1, 2, 4]);
  assert.deepEqual([...t.indices], [0, 1, 0, 1]);
  assert.deepEqual([...t.values], [1, 1, 5, 1]);
  assert.deepEqual([...m.itemCounts()], [1, 1, 2]);
});

test('select keeps the chosen entries and the id maps', () => {
  const m = matrixFromRows([[0, 1], [2]], 3);
  const s = m.select(Uint8Array.from([1, 0, 1]));
  assert.deepEqual([...s.indptr], [0, 1, 2]);
  assert.deepEqual([...s.indices], [0, 2]);
  assert.equal(s.users, m.users);
});

test('out-of-range indexes and duplicate ids are errors, not silent corruption', () => {
  assert.throws(() => new IdMap(['a', 'a']), /duplicate/);
  assert.throws(
    () => InteractionMatrix.fromCoo({ users: Int32Array.from([2]), items: Int32Array.from([0]), values: Float32Array.from([1]), userIds: new IdMap(['a']), itemIds: new IdMap(['x']) }),
    /user index 2 out of range/,
  );
});
