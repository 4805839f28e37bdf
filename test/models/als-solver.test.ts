/**
 * ALS numerics: the plain-TS oracle on hand-computed inputs, CG against the exact solve, the
 * objective's monotone decrease, and the WebAssembly kernels (pool, 1 vs 2 threads) against the
 * oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { choleskySolve, paddedRank, topkRows } from '../../src/core/models/als/solver-reference.js';
import { JsSession, WasmSession, costBounds, encodeWeights, rowRegularization, type FitSession, type FitSessionInit, type WeightingParams } from '../../src/core/models/als/engine.js';
import { alsKernelModule } from '../../src/core/models/als/kernels.js';
import { alsPool } from '../../src/core/models/als/pool.js';
import { PanelScorer, topkJs, topkWasm } from '../../src/core/models/als/scoring.js';
import { userTopkRequest } from '../../src/core/models/als/engine.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { Rng } from '../../src/core/rng.js';
import { matrixFromRows } from '../helpers.js';
import { randomMatrix } from './als-fixtures.js';

const HAVE_WASM = alsKernelModule() !== null;
const wasmOnly = { skip: HAVE_WASM ? false : 'wasm kernels not built (node scripts/build-wasm.mjs)' };

const plain = (over: Partial<WeightingParams> = {}): WeightingParams => ({ alpha: 1, confidence: 'linear', eps: 1, regularization: 0.1, regularizationScaling: 'plain', ...over });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Run `fn` on a session of the given backend (the wasm one inside the pool's arena). */
async function withSession<T>(backend: 'js' | 'wasm', init: FitSessionInit, k: number, fn: (s: FitSession) => Promise<T>): Promise<T> {
  if (backend === 'js') return fn(new JsSession(init, k));
  const pool = alsPool();
  return pool.withArena((p) => fn(new WasmSession(p, init, k)));
}

function seededFactors(rows: number, k: number, kp: number, rng: Rng): Float32Array {
  const F = new Float32Array(rows * kp);
  for (let r = 0; r < rows; r++) for (let d = 0; d < k; d++) F[r * kp + d] = rng.next() * 0.1;
  return F;
}

test('choleskySolve solves a hand-made 3×3 system exactly', () => {
  // A = [[4,2,0],[2,5,1],[0,1,3]], x = [1,-1,2] → b = A·x = [2,-1,5].
  const A = Float64Array.of(4, 2, 0, 2, 5, 1, 0, 1, 3);
  const b = Float64Array.of(2, -1, 5);
  assert.ok(choleskySolve(A, b, 3));
  assert.ok(maxAbsDiff(b, [1, -1, 2]) < 1e-12);
  // Not positive definite: reported, not NaN.
  assert.equal(choleskySolve(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2), false);
});

test('confidence encoding: linear, log, negative feedback, zero', () => {
  const w = encodeWeights(Float32Array.of(2, -3, 0), plain({ alpha: 2 }));
  assert.equal(w[0], 4); // c = 1 + 2·2 = 5 → w = c − 1 = 4, p = 1
  assert.equal(w[1], -6); // p = 0 with c = 1 + 2·3 → stored as −(c − 1)
  assert.ok(w[2] < 0 && w[2] > -1e-40); // r = 0: no effect (p = 0, c ≈ 1)
  const l = encodeWeights(Float32Array.of(3), plain({ alpha: 10, confidence: 'log', eps: 0.5 }));
  assert.ok(Math.abs(l[0] - 10 * Math.log(1 + 3 / 0.5)) < 1e-5);
  assert.throws(() => encodeWeights(Float32Array.of(NaN), plain()), /finite/);
});

test('per-row regularisation: plain λ, and λ·n_positive for ALS-WR', () => {
  const indptr = Int32Array.of(0, 3, 3, 4);
  const weights = Float32Array.of(1, -2, 0.5, 7);
  assert.deepEqual([...rowRegularization(indptr, weights, plain({ regularization: 0.5 }))], [0.5, 0.5, 0.5]);
  assert.deepEqual([...rowRegularization(indptr, weights, plain({ regularization: 0.5, regularizationScaling: 'als-wr' }))], [1, 0, 0.5]);
});

test('costBounds covers every row once, in order, independent of thread count', () => {
  const indptr = Int32Array.of(0, 100, 100, 101, 5000, 5001);
  const b = costBounds(indptr, 8, 3);
  assert.equal(b[0], 0);
  assert.equal(b[b.length - 1], 5);
  for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1]);
});

// One factor (k = 1, padded to 4), item factors y = [0.5, 1, 2], one user with items 0 and 2 (r = 1),
// α = 1 → c = 2, λ = 0.1. Normal equation: (Σ_i y_i² + Σ_{i∈u} (c−1) y_i² + λ) x = Σ_{i∈u} c y_i
//   (0.25 + 1 + 4 + 0.25 + 4 + 0.1) x = 2·0.5 + 2·2  →  x = 5 / 9.6.
const ONE_FACTOR_X = 5 / 9.6;
function oneFactorInit(solver: 'cg' | 'cholesky', steps = 1): FitSessionInit {
  const data = matrixFromRows([[0, 2]], 3);
  const kp = paddedRank(1);
  const Y = new Float32Array(3 * kp);
  Y[0] = 0.5;
  Y[kp] = 1;
  Y[2 * kp] = 2;
  return { data, nUsers: 1, nItems: 3, kp, weighting: plain(), solverParams: { solver, cgSteps: steps, threads: 1 }, userFactors: new Float32Array(kp), itemFactors: Y };
}

for (const backend of ['js', 'wasm'] as const) {
  for (const solver of ['cg', 'cholesky'] as const) {
    test(`${backend}/${solver}: one-factor user solve matches the hand-computed x = 5/9.6`, backend === 'wasm' ? wasmOnly : {}, async () => {
      const x = await withSession(backend, oneFactorInit(solver), 1, async (s) => {
        await s.sweep('users');
        return s.factors('users').slice(0, 4);
      });
      assert.ok(Math.abs(x[0] - ONE_FACTOR_X) < 1e-6, `x = ${x[0]}`);
      assert.deepEqual([...x.slice(1)], [0, 0, 0]); // padding stays zero
    });
  }
}

test('one-factor model: recalculateUser and explain match the hand computation', () => {
  const model = AlsModel.fromFactors({
    userIds: new IdMap(['u0']),
    itemIds: new IdMap(['a', 'b', 'c']),
    userFactors: Float32Array.of(ONE_FACTOR_X),
    itemFactors: Float32Array.of(0.5, 1, 2),
    params: { alpha: 1, regularization: 0.1 },
  });
  const x = model.recalculateUser(Int32Array.of(0, 2), Float32Array.of(1, 1));
  assert.ok(Math.abs(x[0] - ONE_FACTOR_X) < 1e-6);
  // Explaining item b (y = 1): W = 1/9.6, s_bj = y_b·W·y_j, contribution_j = c_j·s_bj:
  // item a: 2·0.5/9.6 = 0.1041667, item c: 2·2/9.6 = 0.4166667; sum = x·y_b = 5/9.6.
  const ex = model.explain(0, 1, Int32Array.of(0, 2), Float32Array.of(1, 1));
  assert.deepEqual(ex.contributions.map((c) => c.item), [2, 0]);
  assert.ok(Math.abs(ex.contributions[0].contribution - 4 / 9.6) < 1e-9);
  assert.ok(Math.abs(ex.contributions[1].contribution - 1 / 9.6) < 1e-9);
  assert.ok(Math.abs(ex.score - ONE_FACTOR_X) < 1e-9);
  assert.ok(Math.abs(ex.modelScore - ONE_FACTOR_X) < 1e-6);
});

function smallProblem(solver: 'cg' | 'cholesky', steps: number, k = 6, seed = 3, threads = 1): { init: FitSessionInit; k: number } {
  const data = randomMatrix(40, 25, 8, seed);
  const kp = paddedRank(k);
  const rng = new Rng(seed);
  return {
    k,
    init: {
      data, nUsers: data.nUsers, nItems: data.nItems, kp,
      weighting: plain({ alpha: 2, regularization: 0.5 }),
      solverParams: { solver, cgSteps: steps, threads },
      userFactors: seededFactors(data.nUsers, k, kp, rng),
      itemFactors: seededFactors(data.nItems, k, kp, rng),
    },
  };
}

for (const backend of ['js', 'wasm'] as const) {
  test(`${backend}: CG with enough steps matches the exact Cholesky solve to 1e-4`, backend === 'wasm' ? wasmOnly : {}, async () => {
    // k = 6 (kp = 8): CG converges in at most kp steps in exact arithmetic; 3·kp leaves margin for float32.
    const cg = smallProblem('cg', 24);
    const exact = smallProblem('cholesky', 1);
    const run = (p: { init: FitSessionInit; k: number }) => withSession(backend, p.init, p.k, async (s) => {
      await s.sweep('users');
      const X = s.factors('users').slice();
      await s.sweep('items');
      return { X, Y: s.factors('items').slice() };
    });
    const a = await run(cg);
    const b = await run(exact);
    assert.ok(maxAbsDiff(a.X, b.X) < 1e-4, `users differ by ${maxAbsDiff(a.X, b.X)}`);
    assert.ok(maxAbsDiff(a.Y, b.Y) < 1e-4, `items differ by ${maxAbsDiff(a.Y, b.Y)}`);
  });

  for (const solver of ['cg', 'cholesky'] as const) {
    test(`${backend}/${solver}: the objective decreases monotonically over iterations`, backend === 'wasm' ? wasmOnly : {}, async () => {
      const { init, k } = smallProblem(solver, 3, 6, 11);
      const losses = await withSession(backend, init, k, async (s) => {
        const out = [await s.loss()];
        for (let it = 0; it < 12; it++) {
          await s.sweep('users');
          await s.sweep('items');
          out.push(await s.loss());
        }
        return out;
      });
      for (let i = 1; i < losses.length; i++) {
        // Each half-sweep minimises (Cholesky) or decreases (warm-started CG) its quadratic; allow float32 noise.
        assert.ok(losses[i] <= losses[i - 1] * (1 + 1e-6), `iteration ${i}: ${losses[i]} > ${losses[i - 1]}`);
      }
      assert.ok(losses[losses.length - 1] < 0.9 * losses[0], `the objective barely moved: ${losses[0]} → ${losses[losses.length - 1]}`);
    });
  }
}

test('the loss equals the objective computed term by term', async () => {
  const { init, k } = smallProblem('cholesky', 1, 3, 5);
  const { data, kp, nUsers, nItems } = init;
  const X = init.userFactors!;
  const Y = init.itemFactors!;
  const w = encodeWeights(data.values, init.weighting);
  let expected = 0;
  for (let u = 0; u < nUsers; u++) {
    const row = new Map<number, number>();
    for (let e = data.indptr[u]; e < data.indptr[u + 1]; e++) row.set(data.indices[e], w[e]);
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let d = 0; d < k; d++) s += X[u * kp + d] * Y[i * kp + d];
      const we = row.get(i);
      const c = we === undefined ? 1 : 1 + Math.abs(we);
      const p = we === undefined || we < 0 ? 0 : 1;
      expected += c * (p - s) ** 2;
    }
  }
  for (const F of [X, Y]) for (let j = 0; j < F.length; j++) expected += 0.5 * F[j] * F[j];
  const js = await withSession('js', init, k, (s) => s.loss());
  assert.ok(Math.abs(js - expected) / expected < 1e-9, `js ${js} vs ${expected}`);
  if (HAVE_WASM) {
    const wasm = await withSession('wasm', init, k, (s) => s.loss());
    assert.ok(Math.abs(wasm - expected) / expected < 1e-5, `wasm ${wasm} vs ${expected}`);
  }
});

test('wasm sweeps agree with the TypeScript oracle (Cholesky, 3 iterations)', wasmOnly, async () => {
  const { init, k } = smallProblem('cholesky', 1, 10, 9, 2);
  const run = (backend: 'js' | 'wasm') => withSession(backend, init, k, async (s) => {
    for (let it = 0; it < 3; it++) {
      await s.sweep('users');
      await s.sweep('items');
    }
    return { X: s.factors('users').slice(), Y: s.factors('items').slice() };
  });
  const a = await run('js');
  const b = await run('wasm');
  assert.ok(maxAbsDiff(a.X, b.X) < 1e-4, `users differ by ${maxAbsDiff(a.X, b.X)}`);
  assert.ok(maxAbsDiff(a.Y, b.Y) < 1e-4, `items differ by ${maxAbsDiff(a.Y, b.Y)}`);
});

test('wasm: 1-thread and 2-thread fits give identical factors', wasmOnly, async () => {
  const data = randomMatrix(3000, 800, 40, 21);
  const fit = async (workers: number) => {
    const m = new AlsModel({ factors: 16, iterations: 3, alpha: 2, regularization: 0.1, workers, backend: 'wasm' });
    await m.fit(data);
    return m;
  };
  const one = await fit(1);
  const two = await fit(2);
  assert.equal(one.lastFit?.threads, 1);
  assert.equal(two.lastFit?.threads, 2);
  // Rows are solved independently and Gram partials are summed in a fixed order: bit-identical.
  assert.deepEqual(two.userFactors, one.userFactors);
  assert.deepEqual(two.itemFactors, one.itemFactors);
});

test('wasm top-k matches the oracle (exclusions, padding, k > catalogue)', wasmOnly, async () => {
  const data = randomMatrix(300, 37, 10, 4);
  const rng = new Rng(8);
  const k = 5;
  const kp = paddedRank(k);
  const X = seededFactors(data.nUsers, k, kp, rng);
  const Y = seededFactors(data.nItems, k, kp, rng);
  // Duplicate item 3 into item 4 to create exact ties (broken by the smaller index).
  Y.copyWithin(4 * kp, 3 * kp, 4 * kp);
  const users = Int32Array.from({ length: data.nUsers }, (_, u) => (u * 7) % data.nUsers);
  for (const K of [1, 10, 40]) {
    const extra = Array.from({ length: users.length }, (_, r) => (r % 3 === 0 ? new Set([r % 37, (r * 5) % 37]) : null));
    const req = () => userTopkRequest(X, Y, data.nItems, kp, k, users, K, data, extra);
    const a = topkJs(req());
    const b = await topkWasm(alsPool(), req(), 2);
    assert.deepEqual([...b.items], [...a.items], `K = ${K}`);
    assert.ok(maxAbsDiff(a.scores.map((s) => (Number.isFinite(s) ? s : 0)), b.scores.map((s) => (Number.isFinite(s) ? s : 0))) < 1e-6);
    if (K === 40) assert.equal(b.items[39], -1); // 37 items minus exclusions < 40: padded
  }
  // The oracle itself: exclusions respected and rows sorted.
  const items = new Int32Array(2 * 3);
  const scores = new Float32Array(2 * 3);
  const Q = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0);
  const Yt = Float32Array.of(3, 0, 0, 0, 1, 5, 0, 0, 2, 2, 0, 0, 3, 1, 0, 0);
  topkRows(0, 2, Q, Yt, 4, 4, 3, Int32Array.of(0, 1, 1), Int32Array.of(0), items, scores);
  // q0 = e0: scores [3, 1, 2, 3], item 0 excluded → 3 (3), 2 (2), 1 (1); q1 = e1: [0, 5, 2, 1] → 1, 2, 3.
  assert.deepEqual([...items], [3, 2, 1, 1, 2, 3]);
  assert.deepEqual([...scores], [3, 2, 1, 5, 2, 1]);
});

test('an empty user row gets a zero vector (as implicit)', async () => {
  const data = InteractionMatrix.fromCoo({
    users: Int32Array.of(0, 0, 2), items: Int32Array.of(0, 1, 1), values: Float32Array.of(1, 1, 1),
    userIds: new IdMap(['a', 'b', 'c']), itemIds: new IdMap(['x', 'y']),
  });
  for (const backend of HAVE_WASM ? ['js', 'wasm'] as const : ['js'] as const) {
    const m = new AlsModel({ factors: 3, iterations: 2, backend, workers: 1 });
    await m.fit(data);
    assert.deepEqual([...m.userFactors.subarray(3, 6)], [0, 0, 0], backend);
  }
});

test('wasm on binary data (one shared weight, no weight arrays) agrees with the oracle, ALS-WR included', wasmOnly, async () => {
  const base = randomMatrix(60, 30, 10, 17);
  const data = new InteractionMatrix({ indptr: base.indptr, indices: base.indices, values: new Float32Array(base.nnz).fill(1), users: base.users, items: base.items });
  for (const scaling of ['plain', 'als-wr'] as const) {
    const k = 5;
    const kp = paddedRank(k);
    const rng = new Rng(5);
    const init: FitSessionInit = {
      data, nUsers: data.nUsers, nItems: data.nItems, kp,
      weighting: plain({ alpha: 3, regularization: scaling === 'plain' ? 0.3 : 0.05, regularizationScaling: scaling }),
      solverParams: { solver: 'cholesky', cgSteps: 1, threads: 2 },
      userFactors: seededFactors(data.nUsers, k, kp, rng),
      itemFactors: seededFactors(data.nItems, k, kp, rng),
    };
    const run = (backend: 'js' | 'wasm') => withSession(backend, init, k, async (s) => {
      await s.sweep('users');
      await s.sweep('items');
      return { X: s.factors('users').slice(), loss: await s.loss(), norm: s.lossNormalizer };
    });
    const a = await run('js');
    const b = await run('wasm');
    assert.ok(maxAbsDiff(a.X, b.X) < 1e-4, `${scaling}: users differ by ${maxAbsDiff(a.X, b.X)}`);
    assert.ok(Math.abs(a.loss - b.loss) / a.loss < 1e-5, `${scaling}: loss ${a.loss} vs ${b.loss}`);
    assert.equal(a.norm, b.norm);
  }
});

test('wasm quantised top-k (int16 scan + exact re-rank) returns exactly the f32 kernel\'s lists and scores', wasmOnly, async () => {
  const module = alsKernelModule()!;
  const rng = new Rng(31);
  for (const [nQ, nI, k, K] of [[700, 900, 16, 10], [300, 2000, 10, 1], [260, 700, 64, 50]] as const) {
    const kp = paddedRank(k);
    const X = new Float32Array(nQ * kp);
    const Y = new Float32Array(nI * kp);
    for (let r = 0; r < nQ; r++) for (let d = 0; d < k; d++) X[r * kp + d] = rng.normal() * (r % 7 === 0 ? 10 : 0.1);
    for (let i = 0; i < nI; i++) for (let d = 0; d < k; d++) Y[i * kp + d] = rng.normal() * (i % 5 === 0 ? 3 : 0.3);
    X.fill(0, 3 * kp, 4 * kp); // a zero query: every score ties at 0
    Y.fill(0, 10 * kp, 11 * kp); // a zero item
    for (let i = 100; i < 140; i++) Y.copyWithin(i * kp, 50 * kp, 51 * kp); // forty identical items: ties
    const users = Int32Array.from({ length: nQ }, (_, u) => u);
    const exclude = randomMatrix(nQ, nI, 30, 9);
    const req = () => userTopkRequest(X, Y, nI, kp, k, users, K, exclude);
    const quantized = await topkWasm(alsPool(), req(), 2);
    const exact = new PanelScorer(module, Y, kp, k, nI, kp).topk(req());
    assert.deepEqual(quantized.items, exact.items, `nQ ${nQ} nI ${nI} K ${K}`);
    assert.deepEqual(quantized.scores, exact.scores);
    assert.ok((quantized.reruns ?? 0) >= 1, 'the zero query cannot be proven and must be re-run');
    assert.ok((quantized.reruns ?? 0) < nQ / 4, `${quantized.reruns} re-runs of ${nQ}`);
    // And against the TypeScript oracle (float64 sums): same lists up to float-level near-ties.
    const oracle = topkJs(req());
    let same = 0;
    for (let j = 0; j < oracle.items.length; j++) same += oracle.items[j] === exact.items[j] ? 1 : 0;
    assert.ok(same >= 0.99 * oracle.items.length);
  }
  // All items identical: every list is the K smallest non-excluded indexes; nothing can be proven.
  const kp = 4;
  const Y = new Float32Array(500 * kp);
  for (let i = 0; i < 500; i++) Y.set([0.5, -0.25, 1, 0], i * kp);
  const X = Float32Array.from({ length: 200 * kp }, (_, j) => (j % 4 === 3 ? 0 : 1 + (j % 3)));
  const users = Int32Array.from({ length: 200 }, (_, u) => u);
  const res = await topkWasm(alsPool(), userTopkRequest(X, Y, 500, kp, 3, users, 5, null), 2);
  assert.deepEqual([...res.items.subarray(0, 5)], [0, 1, 2, 3, 4]);
  assert.equal(res.reruns, 200);
});
