/**
 * Two-tower model: each hand-written backward pass against central finite differences on a tiny
 * network, the losses' values on hand-computed inputs, the sparse optimisers against dense
 * references, the feature encoders on hand-made rows, the backends against a plain matrix
 * product, and the model's behaviour (checkerboard, cold items through features, save → load,
 * reproducibility, warm start, the webgpu message when no GPU is there).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { isRecsysError } from '../../src/core/errors.js';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { blasUnavailableReason, closeTwoTowerWorkers, createBackend, loadBlas, matMulReference, transpose } from '../../src/core/models/twotower/backend.js';
import { Tower, type TowerInput } from '../../src/core/models/twotower/towers.js';
import { bceLoss, candidateLogQ, softmaxLoss } from '../../src/core/models/twotower/losses.js';
import { DenseAdam, SparseAdagrad, SparseAdam, SparseGrad } from '../../src/core/models/twotower/sparse-optim.js';
import { ItemFeatureEncoder, UserFeatureEncoder, userRowsFromSql } from '../../src/core/models/twotower/features.js';
import { TwoTowerModel, twoTowerFactory } from '../../src/core/models/twotower/model.js';
import { matrixFromRows } from '../helpers.js';

const rand = (n: number, rng: Rng, scale = 1): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);

// ---------------------------------------------------------------------------------------------
// Backends

test('backends: wasm and cpu matMul equal the reference product; transpose', async () => {
  const rng = new Rng(3);
  const a = rand(7 * 5, rng);
  const b = rand(5 * 3, rng);
  const ref = matMulReference(a, 7, 5, b, 3);
  for (const name of ['cpu', 'wasm'] as const) {
    const be = await createBackend(name);
    const c = await be.matMul(a, 7, 5, b, 3);
    assert.equal(c.length, 21);
    for (let j = 0; j < 21; j++) assert.ok(Math.abs(c[j] - ref[j]) < 1e-4, `${name} [${j}] ${c[j]} vs ${ref[j]}`);
  }
  // Two threads (a worker with its own tfjs engine takes half of A's rows): same products.
  const be2 = await createBackend('wasm', { threads: 2 });
  assert.equal(be2.threads, 2);
  const big = rand(300 * 128, rng);
  const w = rand(128 * 120, rng);
  const want = matMulReference(big, 300, 128, w, 120);
  const got = await be2.matMul(big, 300, 128, w, 120);
  for (let j = 0; j < want.length; j++) assert.ok(Math.abs(got[j] - want[j]) < 1e-3, `parallel [${j}]`);
  const g = rand(300 * 120, rng);
  const wantT = matMulReference(transpose(big, 300, 128), 128, 300, g, 120);
  for (const be of [be2, await createBackend('cpu')]) {
    const gotT = await be.matMulTransA(big, 300, 128, g, 120);
    for (let j = 0; j < wantT.length; j++) assert.ok(Math.abs(gotT[j] - wantT[j]) < 1e-3, `${be.name}/${be.threads} Aᵀ·B [${j}]`);
  }
  // [[1,2,3],[4,5,6]]ᵀ
  assert.deepEqual([...transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3)], [1, 4, 2, 5, 3, 6]);
  const auto = await createBackend('auto');
  if (loadBlas()) {
    assert.equal(auto.name, 'blas');
    assert.equal(auto.fallbackReason, null);
  } else {
    assert.equal(auto.name, 'wasm');
    assert.match(auto.fallbackReason ?? '', /native BLAS kernel was not built/);
  }
});

test('backend blas (native OpenBLAS kernel): products equal the reference; CI must have built it', { skip: !loadBlas() && !process.env.CI && `not built here: ${blasUnavailableReason()}` }, async () => {
  assert.ok(loadBlas(), `CI installs libopenblas-dev, so the kernel must build: ${blasUnavailableReason()}`);
  const rng = new Rng(11);
  for (const threads of [1, 2]) {
    const be = await createBackend('blas', { threads });
    assert.equal(be.name, 'blas');
    for (const [m, k, n] of [[7, 5, 3], [300, 128, 120], [1, 1, 1], [64, 256, 1]] as const) {
      const a = rand(m * k, rng);
      const b = rand(k * n, rng);
      const want = matMulReference(a, m, k, b, n);
      const got = await be.matMul(a, m, k, b, n);
      for (let j = 0; j < want.length; j++) assert.ok(Math.abs(got[j] - want[j]) < 1e-3, `blas ${m}×${k}·${k}×${n} [${j}] ${got[j]} vs ${want[j]}`);
      const g = rand(m * n, rng);
      const wantT = matMulReference(transpose(a, m, k), k, m, g, n);
      const gotT = await be.matMulTransA(a, m, k, g, n);
      for (let j = 0; j < wantT.length; j++) assert.ok(Math.abs(gotT[j] - wantT[j]) < 1e-3, `blas Aᵀ·B ${m}×${k} [${j}]`);
    }
    await assert.rejects(be.matMul(new Float32Array(5), 2, 3, new Float32Array(6), 2), /do not match/);
  }
});

test('backend webgpu without a GPU fails with RECSYS_ERR_BACKEND_UNAVAILABLE and says how to enable it', async () => {
  // The packages are installed (optional dependencies) but this machine has no GPU: Dawn's default
  // (Vulkan) finds no adapter. On a machine with a GPU the same call must give a working backend.
  const real = await createBackend('webgpu', { webgpuFlags: [] }).then(
    (be) => be,
    (e: unknown) => e,
  );
  if (isRecsysError(real)) {
    assert.equal(real.code, 'RECSYS_ERR_BACKEND_UNAVAILABLE');
    assert.equal(real.exit, 13);
    assert.match(real.message, /backend webgpu is not available: Dawn found no GPU adapter on this machine/);
    assert.match(real.message, /machine with a GPU/);
    assert.match(real.message, /--backend wasm/);
  } else {
    const be = real as Awaited<ReturnType<typeof createBackend>>;
    assert.equal(be.name, 'webgpu');
    const c = await be.matMul(Float32Array.of(1, 2, 3, 4), 2, 2, Float32Array.of(1, 0, 0, 1), 2);
    assert.deepEqual([...c], [1, 2, 3, 4]);
  }
  // Where the packages are missing (an install that skipped optional dependencies): say how to add them.
  const missing = async (spec: string): Promise<unknown> => {
    throw new Error(`Cannot find package '${spec}'`);
  };
  await assert.rejects(createBackend('webgpu', { importModule: missing, webgpuFlags: [] }), (e: unknown) => {
    assert.ok(isRecsysError(e));
    assert.equal(e.code, 'RECSYS_ERR_BACKEND_UNAVAILABLE');
    assert.match(e.message, /the `webgpu` package \(Dawn for Node\) is not installed/);
    assert.match(e.message, /npm install webgpu @tensorflow\/tfjs-backend-webgpu/);
    return true;
  });
  // Dawn present but no adapter (a machine without a GPU): the adapter message, no silent fallback.
  const noAdapter = async (spec: string): Promise<unknown> => {
    if (spec === 'webgpu') return { create: () => ({ requestAdapter: async () => null }), globals: {} };
    throw new Error(`unexpected import ${spec}`);
  };
  await assert.rejects(createBackend('webgpu', { importModule: noAdapter, webgpuFlags: [] }), (e: unknown) => {
    assert.ok(isRecsysError(e));
    assert.equal(e.code, 'RECSYS_ERR_BACKEND_UNAVAILABLE');
    assert.match(e.message, /Dawn found no GPU adapter on this machine/);
    return true;
  });
  // And through the model: fit fails, it does not train on the CPU behind the user's back.
  const model = new TwoTowerModel({ backend: 'webgpu', epochs: 1 });
  await assert.rejects(model.fit(matrixFromRows([[0, 1], [1, 2]], 3)), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_BACKEND_UNAVAILABLE');
});

// ---------------------------------------------------------------------------------------------
// Gradient checks

/** Central differences of f with respect to every element of x (float64 loss, float32 params). */
async function numericGrad(x: Float32Array, f: () => Promise<number>, eps: number): Promise<Float64Array> {
  const g = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const old = x[j];
    x[j] = old + eps;
    const up = await f();
    x[j] = old - eps;
    const down = await f();
    x[j] = old;
    g[j] = (up - down) / (2 * eps);
  }
  return g;
}

function assertClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string, atol = 2e-3, rtol = 3e-2): void {
  assert.equal(analytic.length, numeric.length, what);
  let worst = 0;
  for (let j = 0; j < numeric.length; j++) {
    const err = Math.abs(analytic[j] - numeric[j]);
    worst = Math.max(worst, err);
    assert.ok(err <= atol + rtol * Math.abs(numeric[j]), `${what}[${j}]: analytic ${analytic[j]} vs numeric ${numeric[j]}`);
  }
  // Guard against a check that passes because everything is zero.
  assert.ok([...numeric].some((v) => Math.abs(v) > 1e-3), `${what}: numeric gradient is all zero`);
  assert.ok(worst < 0.05, `${what}: worst error ${worst}`);
}

test('tower backward equals finite differences for every layer (bag, Linear, ReLU+dropout, LayerNorm, L2)', async () => {
  const be = await createBackend('cpu');
  const rng = new Rng(11);
  // widths [6, 5, 4]: bag(6) → ReLU → Dropout → Linear(6,5) → ReLU → Dropout → Linear(5,4) → LayerNorm → L2.
  const tower = new Tower({ widths: [6, 5, 4], dropout: 0.25, nIds: 5, nFeatures: 4, nHistory: 3, initStd: 0.8, unknownIdFeature: 3 }, rng);
  tower.gamma.set(rand(4, rng, 0.3).map((v) => 1 + v));
  tower.beta.set(rand(4, rng, 0.3));
  const input: TowerInput = {
    n: 4,
    ids: Int32Array.of(0, 2, -1, 4),
    features: { indptr: Int32Array.of(0, 2, 2, 3, 4), indices: Int32Array.of(0, 2, 1, 2), values: Float32Array.of(0.5, 1.5, 1, -0.7) },
    history: { indptr: Int32Array.of(0, 2, 3, 3, 5), indices: Int32Array.of(0, 1, 2, 0, 2), values: Float32Array.of(0.5, 0.5, 1, 0.5, 0.5) },
  };
  const c = rand(4 * 4, new Rng(5));
  const seed = 99;
  const lossOf = async (): Promise<number> => {
    const cache = await tower.forward(input, be, { train: true, rng: new Rng(seed) });
    let s = 0;
    for (let j = 0; j < c.length; j++) s += c[j] * cache.out[j];
    return s;
  };
  const cache = await tower.forward(input, be, { train: true, rng: new Rng(seed) });
  const grads = tower.newGrads();
  await tower.backward(cache, c, grads, be);
  // Some dropout happened (else the check would not cover the mask).
  assert.ok(cache.acts[0].some((v) => v === 0));
  const dense = (sg: SparseGrad, rows: number): Float32Array => {
    const out = new Float32Array(rows * sg.width);
    for (let s = 0; s < sg.count; s++) out.set(sg.values.subarray(s * sg.width, (s + 1) * sg.width), sg.rows[s] * sg.width);
    return out;
  };
  const eps = 1e-3;
  assertClose(dense(grads.id, 5), await numericGrad(tower.idTable, lossOf, eps), 'id table');
  assertClose(dense(grads.features, 4), await numericGrad(tower.featTable, lossOf, eps), 'feature table (incl. unknown-id row 3)');
  assertClose(dense(grads.history as SparseGrad, 3), await numericGrad(tower.histTable, lossOf, eps), 'history table');
  assertClose(grads.b0, await numericGrad(tower.b0, lossOf, eps), 'b0');
  assertClose(grads.W[0], await numericGrad(tower.dense[0].W, lossOf, eps), 'W0');
  assertClose(grads.b[0], await numericGrad(tower.dense[0].b, lossOf, eps), 'b1');
  assertClose(grads.W[1], await numericGrad(tower.dense[1].W, lossOf, eps), 'W1');
  assertClose(grads.b[1], await numericGrad(tower.dense[1].b, lossOf, eps), 'b2');
  assertClose(grads.gamma, await numericGrad(tower.gamma, lossOf, eps), 'LayerNorm gamma');
  assertClose(grads.beta, await numericGrad(tower.beta, lossOf, eps), 'LayerNorm beta');
  // Row 2 has no id: its gradient went to the unknown-id feature row, not to an id row.
  assert.equal([...grads.id.rows.subarray(0, grads.id.count)].sort().join(','), '0,2,4');
  // The outputs are unit vectors.
  for (let r = 0; r < 4; r++) assert.ok(Math.abs(Math.hypot(...cache.out.subarray(r * 4, r * 4 + 4)) - 1) < 1e-5);
});

test('losses: hand-computed values, and gradients equal finite differences', async () => {
  const be = await createBackend('cpu');
  // bce, one pair: u·v = 0.6, scale 2 → x = 1.2, label 1: ℓ = log(1 + e^−1.2) = 0.263282...
  const u = Float32Array.of(0.6, 0.8);
  const v = Float32Array.of(1, 0);
  const one = bceLoss(u, v, 2, Int32Array.of(0), Int32Array.of(0), Uint8Array.of(1), 2);
  assert.ok(Math.abs(one.loss - Math.log1p(Math.exp(-1.2))) < 1e-6);
  // ∂ℓ/∂u = (σ(1.2) − 1) · 2 · v
  assert.ok(Math.abs(one.dU[0] - (1 / (1 + Math.exp(-1.2)) - 1) * 2) < 1e-6);
  // softmax, one user, candidates with cos 0.6 (positive) and 0 at τ = 1, no log-Q: ℓ = −0.6 + log(e^0.6 + e^0)
  const sm = await softmaxLoss(be, u, 1, Float32Array.of(0.6, 0.8, 0.8, -0.6), 2, 2, { exampleUser: Int32Array.of(0), exampleItem: Int32Array.of(0), logQ: null, temperature: 1 });
  const s1 = 0.6 * 0.6 + 0.8 * 0.8;
  const s2 = 0.6 * 0.8 - 0.8 * 0.6;
  assert.ok(Math.abs(sm.loss - (-s1 + Math.log(Math.exp(s1) + Math.exp(s2)))) < 1e-6);
  // log-Q: q = 1 − (1 − p)^B; p = 0.5, B = 2 → q = 0.75; with 10 uniform draws over 4 items: q = 1 − 0.25·0.75^10
  const lq = candidateLogQ(Float64Array.of(0.5, 0), Int32Array.of(0, 1), 2, 10, 4);
  assert.ok(Math.abs(lq[0] - Math.log(1 - 0.25 * 0.75 ** 10)) < 1e-6);
  assert.ok(Math.abs(lq[1] - Math.log(1 - 0.75 ** 10)) < 1e-6);

  // Gradients on random data: 3 users, 5 candidates, 6 examples (user 0 has two positives: masked for each other).
  const rng = new Rng(21);
  const d = 4;
  const U = rand(3 * d, rng, 0.5);
  const V = rand(5 * d, rng, 0.5);
  const batch = { exampleUser: Int32Array.of(0, 0, 1, 2, 2, 1), exampleItem: Int32Array.of(0, 1, 2, 3, 4, 0), logQ: Float32Array.of(-0.1, -1, -2, -0.5, -3), temperature: 0.3 };
  const softmaxOf = async (): Promise<number> => (await softmaxLoss(be, U, 3, V, 5, d, batch)).loss;
  const res = await softmaxLoss(be, U, 3, V, 5, d, batch);
  assertClose(res.dU, await numericGrad(U, softmaxOf, 1e-3), 'softmax ∂U');
  assertClose(res.dV, await numericGrad(V, softmaxOf, 1e-3), 'softmax ∂V');
  // Accidental-hit masking: user 0's loss for item 0 ignores item 1 (its other positive).
  const masked = await softmaxLoss(be, U, 3, V, 5, d, { ...batch, exampleUser: Int32Array.of(0), exampleItem: Int32Array.of(0) });
  const both = await softmaxLoss(be, U, 3, V, 5, d, { ...batch, exampleUser: Int32Array.of(0, 0), exampleItem: Int32Array.of(0, 1) });
  assert.ok(both.loss < masked.loss + 10); // sanity
  const logits = (j: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += U[t] * V[j * d + t];
    return s / 0.3 - (batch.logQ[j] as number);
  };
  const zNoMask = [0, 1, 2, 3, 4].reduce((a, j) => a + Math.exp(logits(j)), 0);
  const z0 = zNoMask - Math.exp(logits(1));
  const z1 = zNoMask - Math.exp(logits(0));
  const expected = (-logits(0) + Math.log(z0) - logits(1) + Math.log(z1)) / 2;
  assert.ok(Math.abs(both.loss - expected) < 1e-4, `${both.loss} vs ${expected}`);

  const labels = Uint8Array.of(1, 0, 0, 1, 0);
  const pu = Int32Array.of(0, 0, 1, 2, 2);
  const pi = Int32Array.of(0, 3, 1, 4, 2);
  const bceOf = async (): Promise<number> => bceLoss(U, V, d, pu, pi, labels, 3).loss;
  const b = bceLoss(U, V, d, pu, pi, labels, 3);
  assertClose(b.dU, await numericGrad(U, bceOf, 1e-3), 'bce ∂U');
  assertClose(b.dV, await numericGrad(V, bceOf, 1e-3), 'bce ∂V');
});

// ---------------------------------------------------------------------------------------------
// Sparse optimisers

test('sparse adagrad equals dense adagrad, duplicates in a batch summed first; hand-computed step', () => {
  // One element: w = 1, g = 0.5, G₀ = 0.1, lr = 0.1 → G = 0.35, w = 1 − 0.1·0.5/√0.35
  const t1 = Float32Array.of(1);
  const opt1 = new SparseAdagrad(1, 1, { initialAccumulator: 0.1, eps: 0 });
  const g1 = new SparseGrad(1, 1);
  g1.add(0, Float32Array.of(0.5), 0, 1);
  opt1.step(t1, g1, 0.1);
  assert.ok(Math.abs(t1[0] - (1 - (0.1 * 0.5) / Math.sqrt(0.35))) < 1e-7);

  const rng = new Rng(4);
  const rows = 6;
  const width = 3;
  const sparseTable = rand(rows * width, rng);
  const denseTable = sparseTable.slice();
  const opt = new SparseAdagrad(rows, width, { initialAccumulator: 0.1, weightDecay: 0.01 });
  const denseAcc = new Float64Array(rows * width).fill(0.1);
  const grad = new SparseGrad(rows, width, 2);
  for (let step = 0; step < 5; step++) {
    const touched = [rng.int(rows), rng.int(rows), rng.int(rows), rng.int(rows)];
    const denseGrad = new Float64Array(rows * width);
    for (const r of touched) {
      const g = rand(width, rng);
      grad.add(r, g, 0, 0.5);
      for (let d = 0; d < width; d++) denseGrad[r * width + d] += 0.5 * g[d];
    }
    // Dense reference: every row, with L2 only where a gradient exists (lazy decay).
    for (let j = 0; j < rows * width; j++) {
      const r = Math.floor(j / width);
      const g = touched.includes(r) ? denseGrad[j] + 0.01 * denseTable[j] : 0;
      denseAcc[j] += g * g;
      denseTable[j] -= (0.2 * g) / (Math.sqrt(denseAcc[j]) + 1e-10);
    }
    opt.step(sparseTable, grad, 0.2);
    grad.clear();
    assert.equal(grad.count, 0);
  }
  for (let j = 0; j < rows * width; j++) assert.ok(Math.abs(sparseTable[j] - denseTable[j]) < 1e-5, `element ${j}`);
});

test('sparse (lazy) adam equals dense adam on rows touched every step and leaves untouched rows alone', () => {
  const rng = new Rng(8);
  const rows = 4;
  const width = 2;
  const table = rand(rows * width, rng);
  const start = table.slice();
  const opt = new SparseAdam(rows, width);
  const ref = table.slice(0, 2 * width);
  const m = new Float64Array(2 * width);
  const v = new Float64Array(2 * width);
  const grad = new SparseGrad(rows, width);
  for (let t = 1; t <= 6; t++) {
    const g = rand(2 * width, rng);
    grad.add(1, g, width, 1); // row 1 first: slots need not follow row order
    grad.add(0, g, 0, 1);
    opt.step(table, grad, 0.01);
    grad.clear();
    // PyTorch SparseAdam on the touched rows.
    for (let j = 0; j < 2 * width; j++) {
      m[j] = 0.9 * m[j] + 0.1 * g[j];
      v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
      const stepSize = (0.01 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      ref[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) + 1e-8);
    }
  }
  for (let j = 0; j < 2 * width; j++) assert.ok(Math.abs(table[j] - ref[j]) < 1e-5);
  assert.deepEqual([...table.subarray(2 * width)], [...start.subarray(2 * width)]);

  // Dense Adam, first step: m̂ = g, v̂ = g² → p −= lr · g/(|g| + ε) = lr · sign(g)
  const p = Float32Array.of(1, 1);
  new DenseAdam(2).step(p, Float32Array.of(0.3, -2), 0.1);
  assert.ok(Math.abs(p[0] - 0.9) < 1e-6 && Math.abs(p[1] - 1.1) < 1e-6);
});

// ---------------------------------------------------------------------------------------------
// Feature encoders

test('user encoder: numeric age buckets, one-hot categories, identifier-like keys dropped, unknown slots', () => {
  const rows = userRowsFromSql([
    { user_id: 'a', demographics: JSON.stringify({ age: 20, gender: 'F', zip: '111', occupation: 'writer' }) },
    { user_id: 'b', demographics: JSON.stringify({ age: 30, gender: 'M', zip: '222', occupation: 'writer' }) },
    { user_id: 'c', demographics: JSON.stringify({ age: 40, gender: 'F', zip: '333', occupation: 'doctor' }) },
    { user_id: 'd', demographics: JSON.stringify({ age: 50, gender: 'M', zip: '444', occupation: 'doctor', pet: 'cat' }) },
    { user_id: 'e', demographics: null },
  ]);
  assert.equal(rows[4].demographics, null);
  const enc = UserFeatureEncoder.fit(rows, { numericBuckets: 2, minCount: 2 });
  // age: edges [40] → buckets 0 (<40), 1 (≥40) + unknown; gender: F, M + unknown;
  // occupation: doctor, writer + unknown; zip: 4 distinct values in 4 rows → an identifier, dropped;
  // pet: one value seen once (< minCount 2) → no column, dropped.
  assert.deepEqual(enc.keys.map((k) => k.key), ['age', 'gender', 'occupation']);
  const names = Array.from({ length: enc.nColumns }, (_, c) => enc.columnName(c));
  assert.deepEqual(names, ['age:0', 'age:1', 'age:?', 'gender=F', 'gender=M', 'gender:?', 'occupation=doctor', 'occupation=writer', 'occupation:?', 'id:?']);
  const bags = enc.encode([rows[0], rows[2], rows[4], { userId: 'x', demographics: { age: 'n/a', gender: 'X', occupation: ['writer'] } }]);
  const row = (r: number): string[] => Array.from(bags.indices.subarray(bags.indptr[r], bags.indptr[r + 1]), (c) => names[c]);
  assert.deepEqual(row(0), ['age:0', 'gender=F', 'occupation=writer']);
  assert.deepEqual(row(1), ['age:1', 'gender=F', 'occupation=doctor']);
  assert.deepEqual(row(2), ['age:?', 'gender:?', 'occupation:?']);
  assert.deepEqual(row(3), ['age:?', 'gender:?', 'occupation=writer']);
  assert.throws(() => userRowsFromSql([{ user_id: 'z', demographics: '{oops' }]), /users.demographics of user z is not valid JSON/);
});

test('item encoder: featurizer columns plus an unknown column per missing block', () => {
  const items = [
    { productId: 'p1', title: 'red shoe', category: 'shoes', brand: 'acme', price: 10 },
    { productId: 'p2', title: 'blue shoe', category: 'shoes', brand: null, price: 20 },
    { productId: 'p3', title: 'red hat', category: null, brand: 'acme', price: null },
  ];
  const enc = ItemFeatureEncoder.fit(items, { tfidf: { minDf: 1 }, priceBuckets: 2, tokenizer: { stem: false } });
  const bags = enc.encode([items[1], items[2], null]);
  const row = (r: number): string[] => Array.from(bags.indices.subarray(bags.indptr[r], bags.indptr[r + 1]), (c) => enc.columnName(c));
  assert.ok(row(0).includes('brand:?') && row(0).includes('category:shoes') && !row(0).includes('category:?'));
  assert.ok(row(1).includes('category:?') && row(1).includes('price:?') && row(1).includes('brand:acme'));
  // No catalogue row: every block unknown, nothing else (no attributes block: no product has attributes).
  assert.deepEqual(row(2).sort(), ['brand:?', 'category:?', 'price:?', 'text:?']);
  assert.equal(enc.columnName(enc.unknownIdColumn), 'id:?');
});

// ---------------------------------------------------------------------------------------------
// The model

/** Users 0..9 like items 0..9 (category A), users 10..19 items 10..19 (B); each misses item u mod 10 of its group. */
function checkerboard(): InteractionMatrix {
  const rows: number[][] = [];
  for (let u = 0; u < 20; u++) {
    const base = u < 10 ? 0 : 10;
    const row: number[] = [];
    for (let j = 0; j < 10; j++) if (j !== u % 10) row.push(base + j);
    rows.push(row);
  }
  return matrixFromRows(rows, 20);
}

/** Items 0..9 and 20 read like group A, 10..19 and 21 like group B (20 and 21 have no interactions). */
const groupA = (i: number): boolean => i < 10 || i === 20;
const catalog = Array.from({ length: 22 }, (_, i) => ({
  productId: `i${i}`,
  title: groupA(i) ? 'alpha gadget' : 'beta gizmo',
  description: null,
  category: groupA(i) ? 'A' : 'B',
  brand: null,
  price: null,
  features: null,
  createdAt: null,
}));

const SMALL = { dimensions: 8, hidden: 16, batchSize: 32, epochs: 60, learningRate: 0.01, embeddingLearningRate: 0.1, temperature: 0.2, dropout: 0.1, backend: 'cpu', patience: 0 };

test('model: checkerboard, batch = single user, exclusions, score = recommend, save → load identical, reproducible', async (t) => {
  const data = checkerboard();
  const model = twoTowerFactory.create(SMALL) as TwoTowerModel;
  assert.equal(twoTowerFactory.needsCatalog, true);
  model.setCatalog(catalog.slice(0, 20));
  const report = await model.fit(data);
  assert.equal(report.backend, 'cpu');
  assert.equal(report.epochs, 60);
  assert.equal(report.steps, 60 * Math.ceil(data.nnz / 32));
  assert.ok((report.history?.[59].loss ?? 9) < (report.history?.[0].loss ?? 0), 'loss falls');
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  const batch = await model.recommend(users, 5, { exclude: data });

  await t.test('finds the one unseen item of the user\'s group first', () => {
    for (let u = 0; u < 20; u++) assert.equal(batch.items[u * 5], (u < 10 ? 0 : 10) + (u % 10), `user ${u}`);
  });
  await t.test('batch equals single-user results; seen items excluded; sorted; k > catalogue pads', async () => {
    for (const u of [0, 7, 13]) assert.deepEqual([...(await model.recommend(Int32Array.of(u), 5, { exclude: data })).items], [...batch.items.subarray(u * 5, u * 5 + 5)]);
    for (let u = 0; u < 20; u++) {
      const seen = new Set(data.rowItems(u));
      for (let j = 0; j < 5; j++) {
        assert.ok(!seen.has(batch.items[u * 5 + j]));
        if (j > 0) assert.ok(batch.scores[u * 5 + j - 1] >= batch.scores[u * 5 + j]);
      }
    }
    const wide = await model.recommend(Int32Array.of(0), 30, { exclude: data });
    assert.equal([...wide.items].filter((i) => i >= 0).length, 11);
    assert.equal(wide.items[29], -1);
    const unknown = await model.recommend(Int32Array.of(-1, 99), 3);
    assert.deepEqual([...unknown.items], [-1, -1, -1, -1, -1, -1]);
  });
  await t.test('score agrees with recommend; similar items stay in the group', async () => {
    const s = model.score(3, batch.items.subarray(15, 20));
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(s[j] - batch.scores[15 + j]) < 1e-5);
    const sim = await model.similarItems(Int32Array.of(2, 15), 3);
    assert.ok([...sim.items.subarray(0, 3)].every((i) => i < 10 && i !== 2));
    assert.ok([...sim.items.subarray(3, 6)].every((i) => i >= 10 && i !== 15));
  });
  await t.test('save → load gives identical rankings and scores; recomputed embeddings match', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'recsys-twotower-')), 'model');
    await model.save(dir);
    const loaded = await twoTowerFactory.load(dir);
    assert.equal(loaded.name, 'twotower');
    const again = await loaded.recommend(users, 5, { exclude: data });
    assert.deepEqual([...again.items], [...batch.items]);
    assert.deepEqual([...again.scores], [...batch.scores]);
    assert.deepEqual(loaded.itemIds?.ids, data.items.ids);
    // The weights came back too: the cold path gives the same vectors before and after.
    const a = await model.embedItems([catalog[20]]);
    const b = await (loaded as TwoTowerModel).embedItems([catalog[20]]);
    for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-6);
  });
  await t.test('same seed → identical model; another seed → another', async () => {
    const again = new TwoTowerModel(SMALL);
    again.setCatalog(catalog.slice(0, 20));
    await again.fit(data);
    assert.deepEqual([...again.itemEmbeddings], [...model.itemEmbeddings]);
    const other = new TwoTowerModel({ ...SMALL, seed: 7 });
    other.setCatalog(catalog.slice(0, 20));
    await other.fit(data);
    assert.notDeepEqual([...other.itemEmbeddings], [...model.itemEmbeddings]);
  });
  await t.test('cold items: unseen products are embedded from features and land with their category', async () => {
    // i20 reads like group A, i21 like group B; neither has an interaction.
    const idx = await model.addItems([catalog[20], catalog[21]]);
    assert.deepEqual([...idx], [20, 21]);
    assert.equal(model.itemIds?.size, 22);
    const score0 = model.score(0, Int32Array.of(20, 21));
    const score15 = model.score(15, Int32Array.of(20, 21));
    assert.ok(score0[0] > score0[1], 'group-A user prefers the A-like new item');
    assert.ok(score15[1] > score15[0], 'group-B user prefers the B-like new item');
  });
});

test('bce (the design\'s loss) trains too, and the early-stopping hold-out is used on larger data', async () => {
  const data = checkerboard();
  const model = new TwoTowerModel({ ...SMALL, loss: 'bce', bceLogitScale: 5, epochs: 40 });
  model.setCatalog(catalog.slice(0, 20));
  const report = await model.fit(data);
  assert.equal(report.loss, 'bce');
  assert.equal(report.validation, null); // 180 pairs: too few to hold any out
  const r = await model.recommend(Int32Array.of(0, 12), 1, { exclude: data });
  assert.deepEqual([...r.items], [0, 12]);
});

test('warm start keeps known rows, adds rows for new users and items, and continues for `steps` steps', async () => {
  const data = checkerboard();
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-twotower-warm-')), 'model');
  const first = new TwoTowerModel({ ...SMALL, epochs: 20 });
  first.setCatalog(catalog.slice(0, 20));
  await first.fit(data);
  await first.save(dir);

  // New data: the same ids plus user u20 (likes group A) and item i20; in another id order.
  const users = [...data.users.ids].reverse().concat('u20');
  const items = [...data.items.ids, 'i20'];
  const coo: { u: number[]; i: number[] } = { u: [], i: [] };
  for (let u = 0; u < 20; u++) for (const i of data.rowItems(u)) {
    coo.u.push(users.indexOf(`u${u}`));
    coo.i.push(i);
  }
  for (const i of [0, 1, 2, 20]) {
    coo.u.push(20);
    coo.i.push(i);
  }
  coo.u.push(users.indexOf('u3'));
  coo.i.push(20);
  const next = InteractionMatrix.fromCoo({ users: Int32Array.from(coo.u), items: Int32Array.from(coo.i), values: new Float32Array(coo.u.length).fill(1), userIds: new IdMap(users), itemIds: new IdMap(items) });

  await assert.rejects(TwoTowerModel.warmStart(dir, { dimensions: 16 }), /--warm-start cannot change 'dimensions'/);
  const w0 = 16;
  const towerOf = (m: TwoTowerModel, side: 'user' | 'item'): Tower => (m as unknown as Record<string, { tower: Tower }>)[side].tower;
  const oldUser = towerOf(first, 'user').idTable;
  const oldItem = towerOf(first, 'item').idTable;

  // Tables frozen (embedding learning rate 0): every old row comes back bit for bit at its new index.
  const frozen = await TwoTowerModel.warmStart(dir, { steps: 1, embeddingLearningRate: 0 });
  const frozenReport = await frozen.fit(next);
  assert.deepEqual(frozenReport.warmStart, { newUsers: 1, newItems: 1 });
  assert.equal(frozenReport.steps, 1);
  const fu = towerOf(frozen, 'user');
  const fi = towerOf(frozen, 'item');
  assert.equal(fu.nIds, 21);
  assert.equal(fi.nIds, 21);
  assert.equal(frozen.userIds?.idOf(0), 'u19');
  for (let u = 0; u < 20; u++) {
    const at = users.indexOf(`u${u}`);
    assert.deepEqual([...fu.idTable.subarray(at * w0, (at + 1) * w0)], [...oldUser.subarray(u * w0, (u + 1) * w0)], `user u${u}`);
  }
  assert.deepEqual([...fi.idTable.subarray(0, 20 * w0)], [...oldItem]);
  assert.ok(fi.idTable.subarray(20 * w0).some((v) => v !== 0), 'the new item got an initialised row');
  assert.ok(fu.idTable.subarray(20 * w0).some((v) => v !== 0), 'the new user got an initialised row');

  // Training on: 10 steps on the new data; old users keep their taste, the new user (4 pairs) gets group A.
  const warm = await TwoTowerModel.warmStart(dir, { steps: 10 });
  warm.setCatalog([catalog[20]]);
  const report = await warm.fit(next);
  assert.equal(report.steps, 10);
  assert.equal(report.coldItems, 0);
  // (u0's unseen group-A items are now 0 and the new A-like item 20.)
  const old = await warm.recommend(Int32Array.from([0, 15], (u) => users.indexOf(`u${u}`)), 1, { exclude: next });
  assert.ok(old.items[0] === 0 || old.items[0] === 20, `u0 → ${old.items[0]}`);
  assert.equal(old.items[1], 15);
  const recs = await warm.recommend(Int32Array.of(20), 3, { exclude: next });
  assert.ok([...recs.items].every((i) => i >= 3 && i < 10), `new user gets unseen group-A items: ${[...recs.items]}`);
});

test('export: binary and Parquet embeddings round-trip (Parquet loads back as a dot-product model)', async () => {
  const { exportEmbeddings } = await import('../../src/core/models/twotower/export.js');
  const { importFactorsParquet } = await import('../../src/core/models/als/parquet.js');
  const { readFileSync } = await import('node:fs');
  const data = checkerboard();
  const model = new TwoTowerModel({ ...SMALL, epochs: 5 });
  await model.fit(data);
  const dir = mkdtempSync(join(tmpdir(), 'recsys-twotower-export-'));
  const out = await exportEmbeddings(model, dir, 'both');
  assert.equal(out.files.length, 7);
  const manifest = JSON.parse(readFileSync(join(dir, 'embeddings.json'), 'utf8')) as { dimensions: number; users: number; items: number };
  assert.deepEqual([manifest.dimensions, manifest.users, manifest.items], [8, 20, 20]);
  const buf = readFileSync(join(dir, 'item_embeddings.f32'));
  const items = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  assert.deepEqual([...items], [...model.itemEmbeddings]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'user_ids.json'), 'utf8')), data.users.ids);
  const back = await importFactorsParquet(join(dir, 'user_embeddings.parquet'), join(dir, 'item_embeddings.parquet'));
  assert.deepEqual([...back.itemFactors], [...model.itemEmbeddings]);
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  const a = await model.recommend(users, 3, { exclude: data });
  const b = await back.recommend(users, 3, { exclude: data });
  assert.deepEqual([...b.items], [...a.items]);
});

after(async () => {
  await closeTwoTowerWorkers();
});
