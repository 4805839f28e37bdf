/**
 * The ALS model's API: recommend (single, batch, exclusions, unknown users), similar items,
 * fold-in and partial refits, explanations, save/load, progress, early stopping, params.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { AlsModel, alsFactory } from '../../src/core/models/als/als.js';
import { alsKernelModule } from '../../src/core/models/als/kernels.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { choleskyRows, gram, paddedRank } from '../../src/core/models/als/solver-reference.js';
import { encodeWeights, rowRegularization } from '../../src/core/models/als/engine.js';
import { isRecsysError } from '../../src/core/errors.js';
import type { Progress } from '../../src/core/models/recommender.js';
import { randomMatrix } from './als-fixtures.js';

const BACKENDS = alsKernelModule() ? (['js', 'wasm'] as const) : (['js'] as const);
const DATA = randomMatrix(120, 60, 15, 5);

async function fitted(params: Record<string, unknown> = {}): Promise<AlsModel> {
  const m = new AlsModel({ factors: 8, iterations: 6, alpha: 2, regularization: 0.1, workers: 2, ...params });
  await m.fit(DATA);
  return m;
}

for (const [backend, factors] of BACKENDS.flatMap((b) => [[b, 8], [b, 10]] as const)) {
  test(`${backend}, ${factors} factors: recommend excludes history, sorts, pads and matches brute force`, async () => {
    const m = await fitted({ backend, factors });
    const users = Int32Array.from({ length: DATA.nUsers }, (_, u) => u);
    const r = await m.recommend(users, 7, { exclude: DATA });
    for (let u = 0; u < DATA.nUsers; u++) {
      const seen = new Set(DATA.rowItems(u));
      // Brute force: score every unseen item, sort by (score desc, index asc).
      const all = m.score(u, Int32Array.from({ length: DATA.nItems }, (_, i) => i));
      const expected = [...all.keys()].filter((i) => !seen.has(i)).sort((a, b) => all[b] - all[a] || a - b).slice(0, 7);
      const got = [...r.items.subarray(u * 7, u * 7 + 7)];
      // Scores computed in a different order may differ in the last float bit: compare by score.
      for (let j = 0; j < 7; j++) assert.ok(Math.abs(all[got[j]] - all[expected[j]]) < 1e-5, `user ${u} rank ${j}: ${got[j]} vs ${expected[j]}`);
      for (const i of got) assert.ok(!seen.has(i));
    }
    // k larger than the unseen catalogue: padded with -1 / -Infinity.
    const big = await m.recommend(Int32Array.of(0), 100, { exclude: DATA });
    const unseen = DATA.nItems - DATA.rowLength(0);
    assert.ok(big.items[unseen - 1] >= 0);
    assert.equal(big.items[unseen], -1);
    assert.equal(big.scores[99], -Infinity);
    // Unknown users get empty rows; excludeSets removes extra items.
    const odd = await m.recommend(Int32Array.of(-1, 5000, 3), 3, { exclude: DATA, excludeSets: [null, null, new Set([r.items[3 * 7]])] });
    assert.deepEqual([...odd.items.subarray(0, 6)], [-1, -1, -1, -1, -1, -1]);
    assert.equal(odd.items[6], r.items[3 * 7 + 1]);
    // Large batches (worker pool) equal small ones (calling thread).
    const many = Int32Array.from({ length: 600 }, (_, j) => j % DATA.nUsers);
    const rm = await m.recommend(many, 7, { exclude: DATA });
    for (let j = 0; j < many.length; j++) assert.deepEqual([...rm.items.subarray(j * 7, j * 7 + 7)], [...r.items.subarray(many[j] * 7, many[j] * 7 + 7)]);
    // Degenerate requests.
    const none = await m.recommend(Int32Array.of(0, 1), 0, { exclude: DATA });
    assert.equal(none.items.length, 0);
    const empty = await m.recommend(new Int32Array(0), 5);
    assert.equal(empty.items.length, 0);
  });

  test(`${backend}, ${factors} factors: similarItems ranks by cosine and leaves the item itself out`, async () => {
    const m = await fitted({ backend, factors });
    const k = m.factors;
    const queries = Int32Array.of(0, 17, 59);
    const r = await m.similarItems(queries, 5);
    const norm = (i: number) => Math.hypot(...m.itemFactors.subarray(i * k, i * k + k));
    for (let q = 0; q < queries.length; q++) {
      const a = queries[q];
      const cos = (b: number) => {
        let s = 0;
        for (let d = 0; d < k; d++) s += m.itemFactors[a * k + d] * m.itemFactors[b * k + d];
        return s / (norm(a) * norm(b));
      };
      const expected = Array.from({ length: DATA.nItems }, (_, i) => i).filter((i) => i !== a).sort((x, y) => cos(y) - cos(x)).slice(0, 5);
      const got = [...r.items.subarray(q * 5, q * 5 + 5)];
      assert.ok(!got.includes(a));
      for (let j = 0; j < 5; j++) assert.ok(Math.abs(cos(got[j]) - cos(expected[j])) < 1e-5);
      assert.ok(Math.abs(r.scores[q * 5] - cos(got[0])) < 1e-5);
    }
  });
}

test('recalculateUser equals the exact solve of the oracle against the item factors', async () => {
  const m = await fitted({ regularizationScaling: 'als-wr', regularization: 0.05 });
  const k = m.factors;
  const kp = paddedRank(k);
  const Y = new Float32Array(DATA.nItems * kp);
  for (let i = 0; i < DATA.nItems; i++) Y.set(m.itemFactors.subarray(i * k, i * k + k), i * kp);
  const weights = encodeWeights(DATA.values, m.params);
  const X = new Float32Array(DATA.nUsers * kp);
  choleskyRows(0, DATA.nUsers, { indptr: DATA.indptr, indices: DATA.indices, weights }, X, Y, gram(Y, DATA.nItems, kp), rowRegularization(DATA.indptr, weights, m.params), kp);
  for (const u of [0, 1, 50, 119]) {
    const x = m.recalculateUser(DATA.rowItems(u), DATA.rowValues(u));
    for (let d = 0; d < k; d++) assert.ok(Math.abs(x[d] - X[u * kp + d]) < 1e-5, `user ${u} dim ${d}: ${x[d]} vs ${X[u * kp + d]}`);
  }
  assert.throws(() => m.recalculateUser(Int32Array.of(999), Float32Array.of(1)), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_UNKNOWN_ITEM');
});

test('explain: contributions sum to the fold-in score, largest first', async () => {
  const m = await fitted();
  const u = 7;
  const items = DATA.rowItems(u);
  const values = DATA.rowValues(u);
  const x = m.recalculateUser(items, values);
  for (const target of [0, 33]) {
    const ex = m.explain(u, target, items, values);
    let s = 0;
    for (let d = 0; d < m.factors; d++) s += x[d] * m.itemFactors[target * m.factors + d];
    assert.ok(Math.abs(ex.score - s) < 1e-5, `${ex.score} vs ${s}`);
    assert.equal(ex.contributions.length, items.length);
    for (let j = 1; j < ex.contributions.length; j++) assert.ok(ex.contributions[j - 1].contribution >= ex.contributions[j].contribution);
    assert.ok(Math.abs(ex.modelScore - m.score(u, Int32Array.of(target))[0]) < 1e-6);
  }
});

test('foldIn / partialFit: new users appended get vectors; other rows untouched', async () => {
  const m = await fitted();
  // The same matrix plus a new user 'new' who copies user 3's history.
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < DATA.nUsers; u++) for (let e = DATA.indptr[u]; e < DATA.indptr[u + 1]; e++) {
    users.push(u);
    items.push(DATA.indices[e]);
    values.push(DATA.values[e]);
  }
  for (let e = DATA.indptr[3]; e < DATA.indptr[4]; e++) {
    users.push(DATA.nUsers);
    items.push(DATA.indices[e]);
    values.push(DATA.values[e]);
  }
  const grown = InteractionMatrix.fromCoo({
    users: Int32Array.from(users), items: Int32Array.from(items), values: Float32Array.from(values),
    userIds: new IdMap([...DATA.users.ids, 'new']), itemIds: DATA.items,
  });
  const before = m.userFactors.slice();
  await m.foldIn(grown, Int32Array.of(DATA.nUsers));
  assert.equal(m.nUsers, DATA.nUsers + 1);
  assert.deepEqual(m.userFactors.subarray(0, before.length), before);
  const expected = m.recalculateUser(DATA.rowItems(3), DATA.rowValues(3));
  assert.deepEqual([...m.userFactors.subarray(DATA.nUsers * m.factors)], [...expected]);
  const r = await m.recommend(Int32Array.of(DATA.nUsers), 3, { exclude: grown });
  assert.ok(r.items[0] >= 0);
  // Partial refit of items: only the chosen rows change.
  const itemsBefore = m.itemFactors.slice();
  await m.partialFit(grown, { items: Int32Array.of(2) });
  const k = m.factors;
  assert.deepEqual(m.itemFactors.subarray(3 * k), itemsBefore.subarray(3 * k));
  assert.notDeepEqual(m.itemFactors.subarray(2 * k, 3 * k), itemsBefore.subarray(2 * k, 3 * k));
  // Id maps that do not extend the model's are refused with an actionable message.
  const shuffled = InteractionMatrix.fromCoo({ users: Int32Array.of(0), items: Int32Array.of(0), values: Float32Array.of(1), userIds: new IdMap(['zz', ...DATA.users.ids.slice(1)]), itemIds: DATA.items });
  await assert.rejects(m.foldIn(shuffled, Int32Array.of(0)), /same order/);
});

test('save → load round trip keeps factors, id maps, params and rankings', async () => {
  const m = await fitted({ alpha: 3 });
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-als-')), 'model');
  await m.save(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.kind, 'als');
  assert.deepEqual(manifest.tensors.userFactors.shape, [DATA.nUsers, 8]);
  assert.deepEqual(manifest.tensors.itemFactors.shape, [DATA.nItems, 8]);
  const loaded = await alsFactory.load(dir);
  assert.ok(loaded instanceof AlsModel);
  assert.equal(loaded.params.alpha, 3);
  assert.deepEqual(loaded.userFactors, m.userFactors);
  assert.deepEqual(loaded.itemIds?.ids, m.itemIds?.ids);
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  assert.deepEqual((await loaded.recommend(users, 5, { exclude: DATA })).items, (await m.recommend(users, 5, { exclude: DATA })).items);
});

test('progress: one tick per iteration with seconds per iteration and the loss', async () => {
  const calls: string[] = [];
  const losses: number[] = [];
  const progress: Progress = {
    start: (phase, total) => calls.push(`start ${phase} ${total}`),
    tick: (done, info) => {
      calls.push(`tick ${done}`);
      assert.ok(info && 's/it' in info);
      losses.push(Number(info!.loss));
    },
    stop: () => calls.push('stop'),
  };
  const m = new AlsModel({ factors: 4, iterations: 4, calculateLoss: true, alpha: 2, workers: 1 });
  const report = await m.fit(DATA, { progress });
  assert.deepEqual(calls, ['start als 4', 'tick 1', 'tick 1', 'tick 1', 'tick 1', 'stop']);
  assert.equal(report.history?.length, 4);
  for (let i = 1; i < losses.length; i++) assert.ok(losses[i] <= losses[i - 1] * (1 + 1e-6));
  assert.ok(report.history!.every((h) => h.loss !== undefined && h.seconds >= 0));
});

test('early stopping on a validation split keeps the best iteration', async () => {
  // Validation: hold one item per user out of the training matrix.
  const keep = new Uint8Array(DATA.nnz).fill(1);
  for (let u = 0; u < DATA.nUsers; u++) if (DATA.rowLength(u) >= 2) keep[DATA.indptr[u]] = 0;
  const train = DATA.select(keep);
  const test_ = DATA.select(keep.map((v) => 1 - v));
  const m = new AlsModel({ factors: 8, iterations: 60, patience: 2, alpha: 2, regularization: 0.1, workers: 1 });
  const report = await m.fit(train, { validation: { train, test: test_ } });
  assert.ok(report.history!.every((h) => typeof h.metric === 'number'));
  const metrics = report.history!.map((h) => h.metric!);
  const best = Math.max(...metrics);
  assert.equal(metrics[report.bestIteration - 1], best);
  if (report.stoppedEarly) assert.equal(report.history!.length, report.bestIteration + 2);
  else assert.equal(report.history!.length, 60);
  assert.ok(report.stoppedEarly, 'expected the validation metric to stop improving within 60 iterations');
});

test('parameter validation and unfitted use give actionable errors', async () => {
  assert.throws(() => new AlsModel({ factors: 0 }), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_MODEL_PARAM' && /factors/.test(e.message));
  assert.throws(() => new AlsModel({ solver: 'svd' }), /cg, cholesky/);
  assert.throws(() => new AlsModel({ nope: 1 } as Record<string, unknown>), /no parameter 'nope'/);
  const m = new AlsModel();
  await assert.rejects(m.recommend(Int32Array.of(0), 5), /call fit\(\) first/);
  const empty = InteractionMatrix.fromCoo({ users: new Int32Array(0), items: new Int32Array(0), values: new Float32Array(0), userIds: new IdMap(['a']), itemIds: new IdMap(['x']) });
  await assert.rejects(m.fit(empty), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_MODEL_FIT');
  assert.equal(new AlsModel().params.factors, 64);
  assert.equal(new AlsModel().params.alpha, 40);
});

test('closeAlsPool terminates the workers; a later fit starts a fresh pool', async () => {
  await fitted({ workers: 2 });
  await closeAlsPool();
  const m = await fitted({ workers: 2 });
  assert.equal(m.userFactors.length, DATA.nUsers * 8);
});
