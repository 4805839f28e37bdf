/** Randomized SVD against exact eigen-decompositions on small matrices (both orientations). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDenseRows, projectSparse, randomizedSvd, symmetricEigen } from '../../src/core/features/svd.js';
import { SparseBuilder, type SparseMatrix } from '../../src/core/features/sparse.js';
import { Rng } from '../../src/core/rng.js';

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('symmetricEigen: known 2×2 and a random symmetric matrix (A v = λ v, descending)', () => {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1)/√2 and (1, −1)/√2.
  const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
  close(values[0], 3, 1e-12);
  close(values[1], 1, 1e-12);
  close(Math.abs(vectors[0]), Math.SQRT1_2, 1e-12);
  close(vectors[0] * vectors[2], 0.5, 1e-12);
  const m = 7;
  const rng = new Rng(3);
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) a[i * m + j] = a[j * m + i] = rng.normal();
  const e = symmetricEigen(a, m);
  for (let c = 0; c < m; c++) {
    if (c > 0) assert.ok(e.values[c - 1] >= e.values[c]);
    for (let i = 0; i < m; i++) {
      let av = 0;
      for (let j = 0; j < m; j++) av += a[i * m + j] * e.vectors[j * m + c];
      close(av, e.values[c] * e.vectors[i * m + c], 1e-9, `row ${i} col ${c}`);
    }
  }
});

/** A sparse n × d matrix of exact rank r (product of random sparse factors). */
function lowRank(n: number, d: number, r: number, seed: number): SparseMatrix {
  const rng = new Rng(seed);
  const u = Array.from({ length: n * r }, () => (rng.next() < 0.5 ? rng.normal() : 0));
  const v = Array.from({ length: r * d }, () => (rng.next() < 0.5 ? rng.normal() : 0));
  const b = new SparseBuilder(d, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < r; t++) s += u[i * r + t] * v[t * d + j];
      if (s !== 0) b.push(j, s);
    }
    b.endRow();
  }
  return b.build();
}

function exactSingularValues(x: SparseMatrix): Float64Array {
  const d = x.nCols;
  const g = new Float64Array(d * d);
  for (let r = 0; r < x.nRows; r++) {
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      for (let q = x.indptr[r]; q < x.indptr[r + 1]; q++) g[x.indices[p] * d + x.indices[q]] += x.values[p] * x.values[q];
    }
  }
  return symmetricEigen(g, d).values.map((l) => Math.sqrt(Math.max(0, l)));
}

for (const [label, n, d] of [['tall (d ≤ n: feature-side range finder)', 60, 25], ['wide (n < d: item-side range finder)', 25, 60]] as const) {
  test(`randomizedSvd on an exact rank-4 ${label}: singular values, rank, X Xᵀ reproduced`, () => {
    const x = lowRank(n, d, 4, 11);
    const exact = exactSingularValues(x);
    const svd = randomizedSvd(x, { dimensions: 10, oversample: 5, powerIterations: 2, seed: 1 });
    // Rank 4: the other directions are numerically zero and dropped.
    assert.equal(svd.k, 4);
    for (let j = 0; j < 4; j++) close(svd.singularValues[j], exact[j], 1e-6 * exact[0], `σ${j}`);
    // Embeddings E = X V: E Eᵀ = X Xᵀ exactly when k ≥ rank.
    const e = projectSparse(x, svd);
    for (const [a, b] of [[0, 1], [3, 7], [5, 5], [10, 20]]) {
      let xx = 0;
      const row = new Map<number, number>();
      for (let p = x.indptr[a]; p < x.indptr[a + 1]; p++) row.set(x.indices[p], x.values[p]);
      for (let p = x.indptr[b]; p < x.indptr[b + 1]; p++) xx += (row.get(x.indices[p]) ?? 0) * x.values[p];
      let ee = 0;
      for (let j = 0; j < svd.k; j++) ee += e[a * svd.k + j] * e[b * svd.k + j];
      close(ee, xx, 1e-4 * Math.max(1, Math.abs(xx)), `rows ${a},${b}`);
    }
  });
}

test('truncation keeps the top singular values of a full-rank matrix; seeded; normalizeDenseRows', () => {
  const x = lowRank(40, 30, 30, 5);
  const exact = exactSingularValues(x);
  const a = randomizedSvd(x, { dimensions: 5, oversample: 10, powerIterations: 4, seed: 9 });
  const b = randomizedSvd(x, { dimensions: 5, oversample: 10, powerIterations: 4, seed: 9 });
  assert.equal(a.k, 5);
  for (let j = 0; j < 5; j++) close(a.singularValues[j], exact[j], 1e-3 * exact[0], `σ${j}`);
  assert.deepEqual([...a.components], [...b.components]);
  const e = projectSparse(x, a);
  normalizeDenseRows(e, a.k);
  for (let r = 0; r < 40; r++) {
    let s = 0;
    for (let j = 0; j < a.k; j++) s += e[r * a.k + j] ** 2;
    close(s, 1, 1e-5);
  }
  assert.equal(randomizedSvd({ nRows: 0, nCols: 3, indptr: new Int32Array(1), indices: new Int32Array(0), values: new Float32Array(0) }).k, 0);
  assert.throws(() => randomizedSvd(x, { dimensions: 0 }), (err: Error & { code?: string }) => err.code === 'RECSYS_ERR_MODEL_PARAM');
});
