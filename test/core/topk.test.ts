import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopK, topKDense } from '../../src/core/topk.js';
import { Rng } from '../../src/core/rng.js';

test('TopK keeps the k best, best first, ties by smaller index', () => {
  const h = new TopK(3);
  const scores = [0.5, 0.9, 0.5, 0.1, 0.9, 0.7];
  scores.forEach((s, i) => h.push(i, s));
  const items = new Int32Array(3);
  const out = new Float32Array(3);
  assert.equal(h.drainInto(items, out, 0), 3);
  assert.deepEqual([...items], [1, 4, 5]);
});

test('TopK pads with -1 when fewer than k candidates', () => {
  const h = new TopK(4);
  h.push(7, 1);
  const items = new Int32Array(4);
  const out = new Float32Array(4);
  assert.equal(h.drainInto(items, out, 0), 1);
  assert.deepEqual([...items], [7, -1, -1, -1]);
  assert.equal(out[1], -Infinity);
});

test('topKDense matches a full sort on random data and honours exclusions', () => {
  const rng = new Rng(1);
  const scores = Float32Array.from({ length: 1000 }, () => Math.round(rng.next() * 50) / 50);
  const exclude = Int32Array.from([3, 10, 500, 999]);
  const heap = new TopK(20);
  const items = new Int32Array(20);
  const out = new Float32Array(20);
  topKDense(scores, heap, { items, scores: out, offset: 0 }, exclude, new Set([42]));
  const expected = [...scores.keys()]
    .filter((i) => !exclude.includes(i) && i !== 42)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, 20);
  assert.deepEqual([...items], expected);
});

test('Rng is deterministic per seed', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = [a.next(), a.next(), a.next()];
  assert.deepEqual(xa, [b.next(), b.next(), b.next()]);
  assert.notDeepEqual(xa, [c.next(), c.next(), c.next()]);
  for (const x of xa) assert.ok(x >= 0 && x < 1);
});
