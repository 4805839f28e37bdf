/**
 * The IVF index for large catalogues: exact when every list is probed, high recall@10 on
 * clustered vectors with a few lists probed, int8 at a quarter of the memory with exact scores,
 * and the app's L3 going through it (ann=on) with the same answers as exact scoring.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { IvfIndex, recallAtK } from '../../src/core/serving/ann.js';
import { buildApp } from '../../src/core/serving/app.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { Rng } from '../../src/core/rng.js';
import { TopK } from '../../src/core/topk.js';
import { tinyAls } from './fixtures.js';

after(async () => {
  await closeAlsPool();
});

function exactTopK(vectors: Float32Array, n: number, dim: number, q: Float32Array, k: number): Int32Array {
  const heap = new TopK(k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += q[d] * vectors[i * dim + d];
    heap.push(i, s);
  }
  const items = new Int32Array(k);
  heap.drainInto(items, new Float32Array(k), 0);
  return items;
}

/** n items around `centers` Gaussian centres (the shape trained item factors have), seeded. */
function clustered(n: number, dim: number, centers: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const C = Float32Array.from({ length: centers * dim }, () => rng.normal());
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centers);
    for (let d = 0; d < dim; d++) out[i * dim + d] = C[c * dim + d] + 0.5 * rng.normal();
  }
  return out;
}

test('IVF: hand-made 2-D catalogue, two lists; probing both is exact, exclusions honoured', async () => {
  // Two clear groups: near (10, 0) and near (0, 10).
  const v = Float32Array.of(10, 0, 9, 1, 11, -1, 0, 10, 1, 9, -1, 11);
  const index = await IvfIndex.build(v, 6, 2, { lists: 2, seed: 1 });
  assert.equal(index.nLists, 2);
  const sizes = [index.listOffsets[1] - index.listOffsets[0], index.listOffsets[2] - index.listOffsets[1]];
  assert.deepEqual(sizes.sort(), [3, 3], 'each group is one list');
  const q = Float32Array.of(1, 0);
  const one = index.search(q, 2, { probes: 1 });
  assert.deepEqual(Array.from(one.items), [2, 0]); // 11, 10
  assert.equal(one.scanned, 3, 'one list scanned');
  const both = index.search(q, 6, { probes: 2, exclude: Int32Array.of(2) });
  assert.deepEqual(Array.from(both.items), [0, 1, 4, 3, 5]); // 10, 9, 1, 0, -1
  assert.deepEqual(Array.from(both.scores), [10, 9, 1, 0, -1]);
  const allowed = index.search(q, 2, { probes: 2, allow: (i) => i >= 3 });
  assert.deepEqual(Array.from(allowed.items), [4, 3]);
});

test('IVF: recall@10 on clustered vectors (float32 and int8), and int8 uses a quarter of the memory', async () => {
  const n = 20000;
  const dim = 32;
  const v = clustered(n, dim, 200, 3);
  const f32 = await IvfIndex.build(v, n, dim, { seed: 5 });
  const i8 = await IvfIndex.build(v, n, dim, { seed: 5, quantize: 'int8' });
  assert.equal(f32.nLists, Math.round(Math.sqrt(n)));
  const rng = new Rng(9);
  const queries = Array.from({ length: 100 }, () => Float32Array.from({ length: dim }, () => rng.normal()));
  const exact = queries.map((q) => exactTopK(v, n, dim, q, 10));
  const full = queries.map((q) => f32.search(q, 10, { probes: f32.nLists }).items);
  assert.equal(recallAtK(full, exact), 1, 'probing every list is exact');
  // The wasm panel scan (when built) and the TypeScript loop return the same lists.
  const js = await IvfIndex.build(v, n, dim, { seed: 5, wasm: false });
  for (const q of queries.slice(0, 20)) {
    const a = f32.search(q, 10, { probes: 8, exclude: Int32Array.of(1, 2, 3) });
    const b = js.search(q, 10, { probes: 8, exclude: Int32Array.of(1, 2, 3) });
    assert.deepEqual(a.items, b.items);
    a.scores.forEach((x, j) => assert.ok(Math.abs(x - b.scores[j]) < 1e-4));
  }
  const probes = 8;
  const approx = queries.map((q) => f32.search(q, 10, { probes }));
  const approx8 = queries.map((q) => i8.search(q, 10, { probes }));
  const r32 = recallAtK(approx.map((r) => r.items), exact);
  const r8 = recallAtK(approx8.map((r) => r.items), exact);
  const scanned = approx.reduce((a, r) => a + r.scanned, 0) / approx.length;
  assert.ok(r32 >= 0.9, `float32 recall@10 ${r32}`);
  assert.ok(r8 >= 0.88, `int8 recall@10 ${r8}`);
  assert.ok(scanned < n / 5, `scanned ${scanned} of ${n}`);
  // int8 scores are re-scored exactly: each returned score is the float32 dot product.
  const q0 = queries[0];
  const r0 = approx8[0];
  r0.items.forEach((item, j) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += q0[d] * v[item * dim + d];
    assert.ok(Math.abs(r0.scores[j] - s) < 1e-4);
  });
  const vectorBytes = n * dim * 4;
  assert.ok(i8.byteSize - (js.byteSize - vectorBytes) <= vectorBytes / 4 + n * 4, 'int8 codes + scales ≈ ¼ of the float32 vectors');
  process.stderr.write(`# IVF 20k × 32 (${f32.nLists} lists, ${probes} probed, ${Math.round(scanned)} items scanned per query): recall@10 float32 ${r32.toFixed(3)}, int8 ${r8.toFixed(3)}; build ${f32.buildSeconds.toFixed(2)} s\n`);
});

test('the app\'s L3 goes through the index with ann=on and answers like exact scoring when every list is probed', async () => {
  const exactApp = await buildApp({ models: [tinyAls()], config: { lruEntries: 0, processMetrics: false } });
  const annApp = await buildApp({ models: [tinyAls()], config: { lruEntries: 0, processMetrics: false, ann: 'on', annLists: 2, annProbes: 2 } });
  try {
    assert.ok(annApp.recsys.models.default.ann, 'index built');
    assert.equal(exactApp.recsys.models.default.ann, null, 'auto: a 5-item catalogue gets no index');
    for (const url of ['/v1/users/u0/recommendations?k=2', '/v1/users/u1/recommendations?k=3', '/v1/users/u2/recommendations?k=3&exclude=i3', '/v1/users/u0/recommendations?k=2&category=b']) {
      assert.deepEqual((await annApp.inject(url)).json(), (await exactApp.inject(url)).json(), url);
    }
    const ev = { method: 'POST' as const, url: '/v1/events', payload: { events: [{ userId: 'u2', itemId: 'i3', type: 'purchase' }] } };
    await annApp.inject(ev);
    await exactApp.inject(ev);
    const a = (await annApp.inject('/v1/users/u2/recommendations?k=3')).json();
    const e = (await exactApp.inject('/v1/users/u2/recommendations?k=3')).json();
    assert.equal(a.strategy, 'realtime');
    assert.deepEqual(a.items.map((x: { itemId: string }) => x.itemId), e.items.map((x: { itemId: string }) => x.itemId));
  } finally {
    await exactApp.close();
    await annApp.close();
  }
});
