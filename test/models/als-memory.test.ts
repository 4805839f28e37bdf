/**
 * ALS memory layout: 16-bit column indices (segmented past 65,536 columns, 32-bit when segments
 * would cost more), factors kept as views into the model's own arena, and large scoring batches
 * run in blocks. Each layout is checked against the TypeScript oracle or the single-shot kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InteractionMatrix } from '../../src/core/data/matrix.js';
import { paddedRank } from '../../src/core/models/als/solver-reference.js';
import { JsSession, WasmSession, indexSegments, userTopkRequest, wasmSessionBytes, type FitSession, type FitSessionInit, type WeightingParams } from '../../src/core/models/als/engine.js';
import { SharedArena, alsKernelModule } from '../../src/core/models/als/kernels.js';
import { alsPool } from '../../src/core/models/als/pool.js';
import { BLOCK_QUERIES, PanelScorer, topkWasm, type TopkRequest } from '../../src/core/models/als/scoring.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { Rng } from '../../src/core/rng.js';
import { randomMatrix } from './als-fixtures.js';

const HAVE_WASM = alsKernelModule() !== null;
const wasmOnly = { skip: HAVE_WASM ? false : 'wasm kernels not built (node scripts/build-wasm.mjs)' };

const weighting = (over: Partial<WeightingParams> = {}): WeightingParams => ({ alpha: 2, confidence: 'linear', eps: 1, regularization: 0.5, regularizationScaling: 'plain', ...over });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function seededFactors(rows: number, k: number, kp: number, rng: Rng): Float32Array {
  const F = new Float32Array(rows * kp);
  for (let r = 0; r < rows; r++) for (let d = 0; d < k; d++) F[r * kp + d] = rng.next() * 0.1;
  return F;
}

test('indexSegments: 16-bit segments unless their pointers cost more than half the saving', () => {
  assert.equal(indexSegments(100_000, 20_000, 4_000_000), 1); // items ≤ 65,536: one segment, no extra pointers
  assert.equal(indexSegments(20_000, 100_000, 4_000_000), 2); // 4·20,000 extra bytes ≤ 4,000,000
  assert.equal(indexSegments(70_000, 70_000, 300_000), 2); // 280,000 ≤ 300,000
  assert.equal(indexSegments(70_000, 70_000, 279_999), 0); // 280,000 > 279,999: 32-bit indices
  assert.equal(indexSegments(10, 65_536, 1), 1);
  assert.equal(indexSegments(10, 65_537, 40), 2);
});

/** Same seeded start for both backends: the factors after one user and one item sweep, and the loss. */
async function sweepBoth(data: InteractionMatrix, solver: 'cg' | 'cholesky', over: Partial<WeightingParams> = {}): Promise<{ layout: { users: number; items: number }; diffX: number; diffY: number; lossJs: number; lossWasm: number }> {
  const k = 5;
  const kp = paddedRank(k);
  const rng = new Rng(3);
  const init: FitSessionInit = {
    data, nUsers: data.nUsers, nItems: data.nItems, kp,
    weighting: weighting(over),
    // CG run to convergence (3·kp steps), so float32 rounding cannot pile up between backends.
    solverParams: { solver, cgSteps: 24, threads: 2 },
    userFactors: seededFactors(data.nUsers, k, kp, rng),
    itemFactors: seededFactors(data.nItems, k, kp, rng),
  };
  const run = async (s: FitSession) => {
    await s.sweep('users');
    await s.sweep('items');
    return { X: s.factors('users').slice(), Y: s.factors('items').slice(), loss: await s.loss() };
  };
  const a = await run(new JsSession(init, k));
  let layout = { users: -1, items: -1 };
  const b = await alsPool().withArena((p) => {
    const s = new WasmSession(p, init, k);
    layout = s.indexLayout;
    return run(s);
  });
  return { layout, diffX: maxAbsDiff(a.X, b.X), diffY: maxAbsDiff(a.Y, b.Y), lossJs: a.loss, lossWasm: b.loss };
}

test('wasm sweeps with > 65,536 users and items agree with the oracle in every index layout', wasmOnly, async () => {
  // 66,000 × 66,000 (two 16-bit segments per side) with ~300k pairs, then ~130k pairs (32-bit
  // indices: the segment pointers would cost more), then 66,000 users × 500 items (the benchmark's
  // shape: one segment for the user rows, two for the item rows). Values 1..5, so the weights are
  // reordered along with the indices; a binary copy checks the no-weights path.
  const cases: Array<[InteractionMatrix, { users: number; items: number }]> = [
    [randomMatrix(66_000, 66_000, 8, 41), { users: 2, items: 2 }],
    [randomMatrix(66_000, 66_000, 3, 42), { users: 0, items: 0 }],
    [randomMatrix(66_000, 500, 6, 43), { users: 1, items: 2 }],
  ];
  for (const [data, expected] of cases) {
    // Entries really reach the second segment on both sides.
    let highItems = 0;
    for (let e = 0; e < data.nnz; e++) if (data.indices[e] >= 65_536) highItems++;
    assert.ok(data.nItems < 65_536 || highItems > 100, `only ${highItems} entries past item 65,535`);
    assert.ok(data.indptr[data.nUsers] - data.indptr[65_536] > 100, 'too few entries past user 65,535');
    const binary = new InteractionMatrix({ indptr: data.indptr, indices: data.indices, values: new Float32Array(data.nnz).fill(1), users: data.users, items: data.items });
    for (const [m, solver, over] of [[data, 'cholesky', {}], [binary, 'cg', { regularizationScaling: 'als-wr', regularization: 0.05 }]] as const) {
      const r = await sweepBoth(m, solver, over);
      const what = `${data.nUsers}×${data.nItems} nnz ${data.nnz} ${solver}`;
      assert.deepEqual(r.layout, expected, what);
      assert.ok(r.diffX < 1e-4 && r.diffY < 1e-4, `${what}: factors differ by ${r.diffX} / ${r.diffY}`);
      assert.ok(Math.abs(r.lossJs - r.lossWasm) / r.lossJs < 1e-5, `${what}: loss ${r.lossJs} vs ${r.lossWasm}`);
    }
  }
});

test('wasmSessionBytes bounds what a session allocates (a fresh arena never grows during the fit)', wasmOnly, async () => {
  const base = randomMatrix(66_000, 300, 5, 50);
  const binary = new InteractionMatrix({ indptr: base.indptr, indices: base.indices, values: new Float32Array(base.nnz).fill(1), users: base.users, items: base.items });
  for (const [data, k, threads] of [[base, 64, 2], [binary, 5, 1], [randomMatrix(40, 70_000, 30, 51), 16, 3]] as const) {
    const kp = paddedRank(k);
    const init: FitSessionInit = { data, nUsers: data.nUsers, nItems: data.nItems, kp, weighting: weighting(), solverParams: { solver: 'cg', cgSteps: 3, threads } };
    const bytes = wasmSessionBytes(data, data.nUsers, data.nItems, kp, threads);
    const arena = new SharedArena(alsPool().module, bytes);
    const capacity = arena.capacity;
    await alsPool().withArena(async (p) => {
      const s = new WasmSession(p, init, k, arena);
      await s.sweep('users');
      await s.loss();
    }, arena);
    assert.ok(arena.used <= bytes, `${data.nUsers}×${data.nItems} k ${k}: used ${arena.used} > estimate ${bytes}`);
    assert.equal(arena.capacity, capacity);
  }
});

test('a view into the shared arena stays valid when the memory grows', wasmOnly, () => {
  const arena = new SharedArena(alsKernelModule()!, 1 << 16);
  const p = arena.alloc(1024);
  const before = arena.f32(p, 256);
  before.fill(1.5);
  const capacity = arena.capacity;
  arena.alloc(8 << 20); // grows the memory
  assert.ok(arena.capacity > capacity);
  arena.f32(p, 256)[7] = 42; // written through a view of the grown buffer
  assert.equal(before[7], 42);
  assert.equal(before[8], 1.5);
  assert.equal(before.length, 256);
});

test('segmented layout: 1-thread and 2-thread fits give identical factors', wasmOnly, async () => {
  const data = randomMatrix(66_000, 300, 5, 44);
  const fit = async (workers: number) => {
    const m = new AlsModel({ factors: 8, iterations: 2, alpha: 2, regularization: 0.1, workers, backend: 'wasm' });
    await m.fit(data);
    return m;
  };
  const one = await fit(1);
  const two = await fit(2);
  assert.deepEqual(two.userFactors, one.userFactors);
  assert.deepEqual(two.itemFactors, one.itemFactors);
});

test('fitted factors are views into the model\'s own arena: another fit and large batches leave them intact', wasmOnly, async () => {
  const a = new AlsModel({ factors: 8, iterations: 3, alpha: 2, regularization: 0.1, workers: 2, backend: 'wasm' });
  const dataA = randomMatrix(2_000, 400, 12, 45);
  await a.fit(dataA);
  assert.ok(a.userFactors.buffer instanceof SharedArrayBuffer, 'user factors live in shared wasm memory');
  assert.ok(a.arenaBytes >= a.userFactors.byteLength + a.itemFactors.byteLength);
  const X = a.userFactors.slice();
  const Y = a.itemFactors.slice();
  // Another model fits in its own arena, then both score large batches in theirs.
  const b = new AlsModel({ factors: 8, iterations: 3, alpha: 2, regularization: 0.1, workers: 2, backend: 'wasm', seed: 9 });
  await b.fit(randomMatrix(3_000, 500, 12, 46));
  const users = Int32Array.from({ length: dataA.nUsers }, (_, u) => u);
  const ra = await a.recommend(users, 10, { exclude: dataA });
  await b.recommend(Int32Array.from({ length: 3_000 }, (_, u) => u), 10);
  assert.deepEqual(a.userFactors, X);
  assert.deepEqual(a.itemFactors, Y);
  // The rankings equal the f32 kernel run once over the whole batch in the calling thread.
  const k = a.factors;
  const req = userTopkRequest(a.userFactors, a.itemFactors, a.nItems, paddedRank(k), k, users, 10, dataA, undefined, k);
  const exact = new PanelScorer(alsKernelModule()!, a.itemFactors, k, k, a.nItems, paddedRank(k)).topk(req);
  assert.deepEqual(ra.items, exact.items);
  assert.deepEqual(ra.scores, exact.scores);
});

test('a factor count that is not a multiple of 4 is compacted in place and matches the js backend', wasmOnly, async () => {
  const data = randomMatrix(500, 120, 15, 47);
  const fit = async (backend: 'js' | 'wasm') => {
    const m = new AlsModel({ factors: 5, iterations: 2, solver: 'cholesky', alpha: 2, regularization: 0.5, workers: 2, backend });
    await m.fit(data);
    return m;
  };
  const js = await fit('js');
  const wasm = await fit('wasm');
  assert.equal(wasm.userFactors.length, 500 * 5);
  assert.equal(wasm.itemFactors.length, 120 * 5);
  assert.ok(maxAbsDiff(js.userFactors, wasm.userFactors) < 1e-4, `users differ by ${maxAbsDiff(js.userFactors, wasm.userFactors)}`);
  assert.ok(maxAbsDiff(js.itemFactors, wasm.itemFactors) < 1e-4, `items differ by ${maxAbsDiff(js.itemFactors, wasm.itemFactors)}`);
});

test(`top-k over more than ${BLOCK_QUERIES} queries: blocks give exactly the single-shot result`, wasmOnly, async () => {
  const nQ = BLOCK_QUERIES * 2 + 123;
  const nI = 700;
  const k = 12;
  const kp = paddedRank(k);
  const rng = new Rng(48);
  const X = new Float32Array(nQ * kp);
  const Y = new Float32Array(nI * kp);
  for (let r = 0; r < nQ; r++) for (let d = 0; d < k; d++) X[r * kp + d] = rng.normal();
  for (let i = 0; i < nI; i++) for (let d = 0; d < k; d++) Y[i * kp + d] = rng.normal();
  const exclude = randomMatrix(nQ, nI, 20, 49);
  // Users in a scrambled order with some unknown (-1) rows and extra exclusions on a few rows.
  const users = Int32Array.from({ length: nQ }, (_, r) => (r % 997 === 5 ? -1 : (r * 7919) % nQ));
  const extra = Array.from({ length: nQ }, (_, r) => (r % 50 === 0 ? new Set([1, 2, 3, r % nI]) : null));
  for (const K of [10]) {
    const blocked = userTopkRequest(X, Y, nI, kp, k, users, K, exclude, extra);
    const { range, ...whole } = blocked;
    assert.ok(range);
    const single: TopkRequest = whole;
    const a = await topkWasm(alsPool(), blocked, 2);
    const b = await topkWasm(alsPool(), single, 2);
    assert.deepEqual(a.items, b.items, `K ${K}`);
    assert.deepEqual(a.scores, b.scores, `K ${K}`);
    assert.equal(a.reruns, b.reruns);
  }
});
