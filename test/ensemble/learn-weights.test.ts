/** The weight learner on a tiny case with a known unique optimum, and on planted weights. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendNdcg, learnWeights, type BlendProblem } from '../../src/core/models/ensemble/learn-weights.js';
import { Rng } from '../../src/core/rng.js';

/**
 * One user, three candidates, two members A and B with weights (w, 1 − w); item 2 is relevant.
 *   item 0: A = 1,    B = 0     → blend w
 *   item 1: A = 0,    B = 1.77  → blend 1.77·(1 − w)
 *   item 2: A = 0.69, B = 0.69  → blend 0.69
 * Item 2 is first iff 0.69 > w and 0.69 > 1.77(1 − w), i.e. w ∈ (0.6102, 0.69): on the 1/20 grid
 * only w = 0.65. Uniform weights (0.5): item 1 (0.885) comes first, item 2 second →
 * NDCG = 1/log2(3) = 0.6309.
 */
function tinyProblem(): BlendProblem {
  return {
    nMembers: 2,
    offsets: Int32Array.of(0, 3),
    items: Int32Array.of(0, 1, 2),
    scores: Float64Array.of(1, 0, 0, 1.77, 0.69, 0.69),
    relevant: Uint8Array.of(0, 0, 1),
    nRelevant: Int32Array.of(1),
  };
}

test('tiny case: the learner finds the unique optimum w = (0.65, 0.35) with NDCG 1', () => {
  const p = tinyProblem();
  const second = 1 / Math.log2(3);
  assert.equal(blendNdcg(p, [0.5, 0.5]), second);
  assert.equal(blendNdcg(p, [0.6, 0.4]), second, 'w = 0.6: item 1 (0.708) still first');
  assert.equal(blendNdcg(p, [0.7, 0.3]), second, 'w = 0.7: item 0 (0.7) first');
  assert.equal(blendNdcg(p, [0.65, 0.35]), 1);
  const res = learnWeights(p, { gridSteps: 20 });
  assert.deepEqual(res.weights, [0.65, 0.35]);
  assert.equal(res.ndcg, 1);
  assert.equal(res.uniformNdcg, second);
  assert.equal(res.gridSteps, 20);
});

test('an item no member proposed still counts in the ideal DCG', () => {
  const p = { ...tinyProblem(), nRelevant: Int32Array.of(2) };
  // Best case: the one relevant candidate at rank 1 → DCG 1, IDCG = 1 + 1/log2(3).
  assert.ok(Math.abs(learnWeights(p).ndcg - 1 / (1 + 1 / Math.log2(3))) < 1e-12);
});

test('planted weights (0.2, 0.3, 0.5) are recovered from the top-3 they produce', () => {
  const rng = new Rng(7);
  const users = 200;
  const n = 30;
  const truth = [0.2, 0.3, 0.5];
  const offsets = new Int32Array(users + 1);
  const items: number[] = [];
  const scores: number[] = [];
  const relevant: number[] = [];
  for (let u = 0; u < users; u++) {
    const rows: number[][] = [];
    for (let c = 0; c < n; c++) rows.push([rng.next(), rng.next(), rng.next()]);
    const blend = rows.map((r) => r[0] * truth[0] + r[1] * truth[1] + r[2] * truth[2]);
    const top = blend.map((_, c) => c).sort((a, b) => blend[b] - blend[a]).slice(0, 3);
    rows.forEach((r, c) => {
      items.push(c);
      scores.push(...r);
      relevant.push(top.includes(c) ? 1 : 0);
    });
    offsets[u + 1] = items.length;
  }
  const p: BlendProblem = { nMembers: 3, offsets, items: Int32Array.from(items), scores: Float64Array.from(scores), relevant: Uint8Array.from(relevant), nRelevant: new Int32Array(users).fill(3) };
  assert.equal(blendNdcg(p, truth), 1);
  const res = learnWeights(p);
  assert.ok(res.ndcg > 0.99, `ndcg ${res.ndcg}`);
  res.weights.forEach((w, j) => assert.ok(Math.abs(w - truth[j]) < 0.06, `weight ${j}: ${w} vs ${truth[j]}`));
  assert.ok(Math.abs(res.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(res.uniformNdcg < res.ndcg);
});

test('a single member gets weight 1; no users is an error that names the flag', () => {
  const one: BlendProblem = { nMembers: 1, offsets: Int32Array.of(0, 2), items: Int32Array.of(0, 1), scores: Float64Array.of(1, 0), relevant: Uint8Array.of(1, 0), nRelevant: Int32Array.of(1) };
  assert.deepEqual(learnWeights(one).weights, [1]);
  assert.throws(() => learnWeights({ ...one, offsets: Int32Array.of(0), nRelevant: new Int32Array(0) }), /--member-weights instead of --learn-weights/);
});
