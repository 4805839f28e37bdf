/**
 * Sparse row matrices (CSR, Float32 values) for item feature vectors, and the few operations the
 * featurizer and the content model need: a growable row builder, row L2 normalisation, row
 * concatenation and a sparse·dense dot. Row `r` holds columns `indices[indptr[r] .. indptr[r+1])`,
 * ascending, without duplicates. A 10M-item catalogue stays O(nnz), never n × columns.
 */
import type { CsrData } from '../data/matrix.js';
import { RecsysError } from '../errors.js';

export interface SparseMatrix extends CsrData {
  readonly nRows: number;
  readonly nCols: number;
}

/** Appends rows one at a time; arrays grow geometrically. */
export class SparseBuilder {
  private indptr: Int32Array;
  private indices: Int32Array;
  private values: Float32Array;
  private nnz = 0;
  private rows = 0;
  readonly nCols: number;

  constructor(nCols: number, expectedRows = 1024, expectedNnz = 8192) {
    this.nCols = nCols;
    this.indptr = new Int32Array(Math.max(2, expectedRows + 1));
    this.indices = new Int32Array(Math.max(16, expectedNnz));
    this.values = new Float32Array(Math.max(16, expectedNnz));
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Adds one entry to the current row (caller keeps columns ascending and distinct). */
  push(col: number, value: number): void {
    if (this.nnz === this.indices.length) {
      const cap = this.indices.length * 2;
      const ni = new Int32Array(cap);
      ni.set(this.indices);
      this.indices = ni;
      const nv = new Float32Array(cap);
      nv.set(this.values);
      this.values = nv;
    }
    this.indices[this.nnz] = col;
    this.values[this.nnz] = value;
    this.nnz++;
  }

  endRow(): void {
    if (this.rows + 2 > this.indptr.length) {
      const np = new Int32Array(this.indptr.length * 2);
      np.set(this.indptr);
      this.indptr = np;
    }
    this.rows++;
    this.indptr[this.rows] = this.nnz;
  }

  build(): SparseMatrix {
    return {
      nRows: this.rows,
      nCols: this.nCols,
      indptr: this.indptr.slice(0, this.rows + 1),
      indices: this.indices.slice(0, this.nnz),
      values: this.values.slice(0, this.nnz),
    };
  }
}

/** An n × nCols matrix with no entries. */
export function emptySparse(nRows: number, nCols: number): SparseMatrix {
  return { nRows, nCols, indptr: new Int32Array(nRows + 1), indices: new Int32Array(0), values: new Float32Array(0) };
}

/** Euclidean norm of row r. */
export function rowNorm(m: CsrData, r: number): number {
  let s = 0;
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) s += m.values[p] * m.values[p];
  return Math.sqrt(s);
}

/** Scales every non-empty row to unit L2 norm, in place. */
export function normalizeRowsInPlace(m: SparseMatrix): void {
  const v = m.values as Float32Array;
  for (let r = 0; r < m.nRows; r++) {
    const start = m.indptr[r];
    const end = m.indptr[r + 1];
    let s = 0;
    for (let p = start; p < end; p++) s += v[p] * v[p];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let p = start; p < end; p++) v[p] *= inv;
    }
  }
}

/**
 * Horizontal concatenation [A₁ | A₂ | …] of blocks with equal row counts, each scaled by its
 * weight (blocks with weight 0 are skipped; their columns stay in the layout).
 */
export function hstack(blocks: ReadonlyArray<{ matrix: SparseMatrix; weight: number }>): SparseMatrix {
  if (blocks.length === 0) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'internal: hstack needs at least one block');
  const nRows = blocks[0].matrix.nRows;
  let nCols = 0;
  let nnz = 0;
  for (const b of blocks) {
    if (b.matrix.nRows !== nRows) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: hstack blocks have ${nRows} and ${b.matrix.nRows} rows`);
    nCols += b.matrix.nCols;
    if (b.weight !== 0) nnz += b.matrix.indices.length;
  }
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    let offset = 0;
    for (const { matrix: m, weight } of blocks) {
      if (weight !== 0) {
        for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
          indices[w] = m.indices[p] + offset;
          values[w] = m.values[p] * weight;
          w++;
        }
      }
      offset += m.nCols;
    }
    indptr[r + 1] = w;
  }
  return { nRows, nCols, indptr, indices, values };
}

/** Vertical concatenation of matrices with the same column count. */
export function vstack(a: SparseMatrix, b: SparseMatrix): SparseMatrix {
  if (a.nCols !== b.nCols) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: vstack of ${a.nCols} vs ${b.nCols} columns`);
  const nnzA = a.indptr[a.nRows];
  const indptr = new Int32Array(a.nRows + b.nRows + 1);
  indptr.set(a.indptr);
  for (let r = 1; r <= b.nRows; r++) indptr[a.nRows + r] = nnzA + b.indptr[r];
  const indices = new Int32Array(nnzA + b.indices.length);
  indices.set(a.indices.subarray(0, nnzA));
  indices.set(b.indices, nnzA);
  const values = new Float32Array(nnzA + b.values.length);
  values.set(a.values.subarray(0, nnzA));
  values.set(b.values, nnzA);
  return { nRows: a.nRows + b.nRows, nCols: a.nCols, indptr, indices, values };
}

/** Rows of `m` replaced by the rows of `replacement` at the given row indexes (same column count). */
export function replaceRows(m: SparseMatrix, rows: Int32Array, replacement: SparseMatrix): SparseMatrix {
  const newRow = new Int32Array(m.nRows).fill(-1);
  for (let j = 0; j < rows.length; j++) newRow[rows[j]] = j;
  const builder = new SparseBuilder(m.nCols, m.nRows, m.indices.length + replacement.indices.length);
  for (let r = 0; r < m.nRows; r++) {
    const src = newRow[r] >= 0 ? replacement : m;
    const rr = newRow[r] >= 0 ? newRow[r] : r;
    for (let p = src.indptr[rr]; p < src.indptr[rr + 1]; p++) builder.push(src.indices[p], src.values[p]);
    builder.endRow();
  }
  return builder.build();
}

/** Dot product of sparse row r with a dense vector. */
export function rowDotDense(m: CsrData, r: number, dense: Float32Array | Float64Array): number {
  let s = 0;
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) s += m.values[p] * dense[m.indices[p]];
  return s;
}
