/**
 * The ALS training state and its two backends. A `FitSession` holds both sides of the weighted
 * interaction matrix (user rows and item rows), the per-row regularisation λ_r, both factor
 * matrices (row stride kp) and the cached Gram matrix, and runs half-sweeps:
 *
 *   sweep('users'): G = YᵀY, then every user row solves its normal equations (CG or Cholesky);
 *   sweep('items'): G = XᵀX, then every item row.
 *
 * `JsSession` runs solver-reference.ts in the calling thread; `WasmSession` lays everything out in
 * a shared arena (16-bit column indices where they fit, no weights for binary data, factors first
 * so the model can keep them there: `takeFactors`) and runs the SIMD kernels on `threads` threads.
 * Chunks of rows are fixed by cost (never by thread count) and every row's solve depends only on
 * its own data, so the result is the same for any number of threads; Gram partials over fixed row
 * chunks are summed in chunk order for the same reason.
 */
import { RecsysError } from '../../errors.js';
import type { CsrData, CsrRows } from '../../data/matrix.js';
import type { SharedArena } from './kernels.js';
import type { AlsPool } from './pool.js';
import { topkJs, topkWasmInArena, type TopkRequest, type TopkResult } from './scoring.js';
import { choleskyRows, cgRows, gram, lossRows, regularizationTerm, type WeightedCsr } from './solver-reference.js';

export type Side = 'users' | 'items';

export interface WeightingParams {
  alpha: number;
  confidence: 'linear' | 'log';
  eps: number;
  regularization: number;
  regularizationScaling: 'plain' | 'als-wr';
}

export interface SolverParams {
  solver: 'cg' | 'cholesky';
  cgSteps: number;
  threads: number;
}

/** Smallest negative float32: marks p = 0 with c − 1 ≈ 0 (an entry that has no effect). */
const NEG_TINY = -1.401298464324817e-45;

/**
 * Encode raw values r as kernel weights: r > 0 → w = c(r) − 1 ≥ 0 (preference 1);
 * r < 0 → w = −(c(|r|) − 1) (preference 0, implicit's convention for negative feedback);
 * r = 0 → an entry with no effect. c(r) = 1 + α·r (linear) or 1 + α·log(1 + r/ε) (log), Hu et al. §4.
 */
export function encodeWeights(values: Float32Array, p: WeightingParams, out: Float32Array = new Float32Array(values.length)): Float32Array {
  for (let e = 0; e < values.length; e++) out[e] = encodeWeight(values[e], p, e);
  return out;
}

/** One value's weight (see encodeWeights); `position` only names the entry in the error. */
export function encodeWeight(r: number, p: WeightingParams, position: number): number {
  if (!Number.isFinite(r)) {
    throw new RecsysError('RECSYS_ERR_MODEL_FIT', `interaction value at position ${position} is ${r}; ALS needs finite values. Check the value column of the ingested data.`);
  }
  const a = Math.abs(r);
  const w = p.confidence === 'log' ? p.alpha * Math.log1p(a / p.eps) : p.alpha * a;
  return r > 0 ? w : r < 0 ? (w > 0 ? -w : NEG_TINY) : NEG_TINY;
}

/** λ_r per row: λ (plain) or λ·n_r with n_r the row's positive entries (Spark's ALS-WR scaling). */
export function rowRegularization(indptr: Int32Array, weights: Float32Array, p: WeightingParams, out: Float32Array = new Float32Array(indptr.length - 1)): Float32Array {
  const n = indptr.length - 1;
  if (p.regularizationScaling === 'plain') {
    out.fill(p.regularization, 0, n);
    return out;
  }
  for (let r = 0; r < n; r++) {
    let count = 0;
    for (let e = indptr[r]; e < indptr[r + 1]; e++) if (weights[e] >= 0) count++;
    out[r] = p.regularization * count;
  }
  return out;
}

/** Transpose a weighted CSR with `nCols` columns into the given arrays (counting sort, O(nnz)). */
export function transposeInto(
  src: { indptr: Int32Array; indices: Int32Array; weights: Float32Array | null }, nCols: number,
  indptr: Int32Array, indices: Int32Array, weights: Float32Array | null,
): void {
  const nRows = src.indptr.length - 1;
  indptr.fill(0);
  for (let e = 0; e < src.indptr[nRows]; e++) indptr[src.indices[e] + 1]++;
  for (let c = 0; c < nCols; c++) indptr[c + 1] += indptr[c];
  const cursor = indptr.slice(0, nCols);
  for (let r = 0; r < nRows; r++) {
    for (let e = src.indptr[r]; e < src.indptr[r + 1]; e++) {
      const dst = cursor[src.indices[e]]++;
      indices[dst] = r;
      if (weights) weights[dst] = src.weights![e];
    }
  }
}

/**
 * Row chunks of roughly equal solve cost (k² per row for the dense part plus n_r·k for its
 * entries), at most `maxChunks`, fixed by the data only.
 */
export function costBounds(indptr: Int32Array, kp: number, maxChunks = 512): Int32Array {
  const n = indptr.length - 1;
  const rowCost = kp * kp;
  const total = n * rowCost + indptr[n] * 2 * kp;
  const target = Math.max(total / maxChunks, rowCost * 16);
  const out: number[] = [0];
  let acc = 0;
  for (let r = 0; r < n; r++) {
    acc += rowCost + (indptr[r + 1] - indptr[r]) * 2 * kp;
    if (acc >= target && r + 1 < n) {
      out.push(r + 1);
      acc = 0;
    }
  }
  if (n > 0) out.push(n);
  return Int32Array.from(out);
}

export interface FitSessionInit {
  /** User rows (the training matrix). */
  data: CsrData;
  nUsers: number;
  nItems: number;
  kp: number;
  weighting: WeightingParams;
  solverParams: SolverParams;
  /** Initial factors (kp stride): given as arrays, or written by `fillInitial` into the session's own zeroed buffers (no extra copy). */
  userFactors?: Float32Array;
  itemFactors?: Float32Array;
  fillInitial?: (users: Float32Array, items: Float32Array) => void;
}

export interface FitSession {
  readonly kp: number;
  readonly nUsers: number;
  readonly nItems: number;
  /** Σ c over stored entries + nUsers·nItems − nnz: implicit's normaliser for the reported loss. */
  readonly lossNormalizer: number;
  /** Current factors (kp stride). Views: re-fetch after every session call. */
  factors(side: Side): Float32Array;
  /** Solve one side with the other fixed. Returns the number of rows whose exact solve failed. */
  sweep(side: Side): Promise<number>;
  /** The full objective L (unnormalised). */
  loss(): Promise<number>;
  /** Top-k for a batch of users with the current factors (validation). */
  topk(users: Int32Array, K: number, exclude: CsrRows | null): Promise<TopkResult>;
}

function setInitial(init: FitSessionInit, X: Float32Array, Y: Float32Array): void {
  if (init.fillInitial) init.fillInitial(X, Y);
  if (init.userFactors) X.set(init.userFactors);
  if (init.itemFactors) Y.set(init.itemFactors);
}

function sumConfidence(weights: Float32Array): number {
  let s = 0;
  for (let e = 0; e < weights.length; e++) s += 1 + Math.abs(weights[e]);
  return s;
}

/**
 * A top-k request for rows `users` of X against all rows of Y (both with row stride `stride`),
 * excluding each user's row of `exclude` and the batch row's `excludeSets` entry. A user index < 0
 * gets a zero query (the caller blanks its row).
 */
export function userTopkRequest(
  X: Float32Array, Y: Float32Array, nItems: number, kp: number, factors: number, users: Int32Array, K: number,
  exclude: CsrRows | null, excludeSets?: Array<ReadonlySet<number> | null>, stride: number = kp,
): TopkRequest {
  const nRowsExclude = exclude ? exclude.indptr.length - 1 : 0;
  const extra: Array<Int32Array | null> = users.length > 0 && excludeSets ? Array.from({ length: users.length }, (_, r) => {
    const set = excludeSets[r];
    if (!set || set.size === 0) return null;
    return Int32Array.from(set).sort();
  }) : [];
  const exclusionSize = (start: number, end: number): number => {
    let size = 0;
    for (let r = start; r < end; r++) {
      const u = users[r];
      if (exclude && u >= 0 && u < nRowsExclude) size += exclude.indptr[u + 1] - exclude.indptr[u];
      size += extra[r]?.length ?? 0;
    }
    return size;
  };
  const writeQueries = (dst: Float32Array, start: number, end: number): void => {
    dst.fill(0, 0, (end - start) * kp);
    for (let r = start; r < end; r++) {
      const u = users[r];
      if (u < 0) continue;
      const src = u * stride;
      const o = (r - start) * kp;
      for (let d = 0; d < factors; d++) dst[o + d] = X[src + d];
    }
  };
  const writeExclusion = (indptr: Int32Array, indices: Int32Array, start: number, end: number): void => {
    let w = 0;
    indptr[0] = 0;
    for (let r = start; r < end; r++) {
      const u = users[r];
      const row = exclude && u >= 0 && u < nRowsExclude ? exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]) : null;
      const more = extra[r] ?? null;
      if (row && !more) {
        indices.set(row, w);
        w += row.length;
      } else if (more && !row) {
        indices.set(more, w);
        w += more.length;
      } else if (row && more) {
        // Merge two sorted lists.
        let a = 0;
        let b = 0;
        while (a < row.length || b < more.length) {
          if (b >= more.length || (a < row.length && row[a] <= more[b])) indices[w++] = row[a++];
          else indices[w++] = more[b++];
        }
      }
      indptr[r - start + 1] = w;
    }
  };
  const n = users.length;
  return {
    nQueries: n,
    nItems,
    kp,
    K,
    items: Y,
    itemStride: stride,
    factors,
    exclusionSize: exclusionSize(0, n),
    writeQueries: (dst) => writeQueries(dst, 0, n),
    writeExclusion: (indptr, indices) => writeExclusion(indptr, indices, 0, n),
    range: { exclusionSize, writeQueries, writeExclusion },
  };
}

export class JsSession implements FitSession {
  readonly kp: number;
  readonly nUsers: number;
  readonly nItems: number;
  readonly lossNormalizer: number;
  private readonly userCsr: WeightedCsr;
  private readonly itemCsr: WeightedCsr;
  private readonly userRegs: Float32Array;
  private readonly itemRegs: Float32Array;
  private readonly X: Float32Array;
  private readonly Y: Float32Array;
  private readonly solver: SolverParams;
  private gramOf: Side | null = null;
  private G: Float32Array = new Float32Array(0);
  private readonly factorCount: number;

  constructor(init: FitSessionInit, factors: number) {
    const { data, nUsers, nItems, kp } = init;
    this.kp = kp;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.factorCount = factors;
    this.solver = init.solverParams;
    const weights = encodeWeights(data.values, init.weighting);
    this.userCsr = { indptr: data.indptr, indices: data.indices, weights };
    const nnz = data.indptr[nUsers];
    const it = { indptr: new Int32Array(nItems + 1), indices: new Int32Array(nnz), weights: new Float32Array(nnz) };
    transposeInto(this.userCsr, nItems, it.indptr, it.indices, it.weights);
    this.itemCsr = it;
    this.userRegs = rowRegularization(this.userCsr.indptr, weights, init.weighting);
    this.itemRegs = rowRegularization(it.indptr, it.weights, init.weighting);
    this.X = new Float32Array(nUsers * kp);
    this.Y = new Float32Array(nItems * kp);
    setInitial(init, this.X, this.Y);
    this.lossNormalizer = sumConfidence(weights) + nUsers * nItems - nnz;
  }

  factors(side: Side): Float32Array {
    return side === 'users' ? this.X : this.Y;
  }

  private gramFor(side: Side): Float32Array {
    // Solving `side` needs the Gram matrix of the other side's factors.
    if (this.gramOf !== side) {
      this.G = side === 'users' ? gram(this.Y, this.nItems, this.kp) : gram(this.X, this.nUsers, this.kp);
      this.gramOf = side;
    }
    return this.G;
  }

  async sweep(side: Side): Promise<number> {
    const G = this.gramFor(side);
    const [csr, F, other, regs, n] = side === 'users'
      ? [this.userCsr, this.X, this.Y, this.userRegs, this.nUsers] as const
      : [this.itemCsr, this.Y, this.X, this.itemRegs, this.nItems] as const;
    let failures = 0;
    if (this.solver.solver === 'cg') cgRows(0, n, csr, F, other, G, regs, this.kp, this.solver.cgSteps);
    else failures = choleskyRows(0, n, csr, F, other, G, regs, this.kp) ? 0 : 1;
    // This side's factors changed: only the Gram of the other side (used to solve `side`) survives.
    this.gramOf = side;
    return failures;
  }

  async loss(): Promise<number> {
    const G = this.gramFor('users');
    const out = new Float64Array(this.nUsers);
    lossRows(0, this.nUsers, this.userCsr, this.X, this.Y, G, this.userRegs, this.kp, out);
    let total = 0;
    for (let u = 0; u < out.length; u++) total += out[u];
    return total + regularizationTerm(this.Y, this.itemRegs, this.kp);
  }

  async topk(users: Int32Array, K: number, exclude: CsrRows | null): Promise<TopkResult> {
    return topkJs(userTopkRequest(this.X, this.Y, this.nItems, this.kp, this.factorCount, users, K, exclude));
  }
}

interface SideLayout {
  /** i32: nRows + 1 entries (nSeg ≤ 1) or nRows·nSeg + 1 (segment pointers). */
  indptr: number;
  indices: number;
  /** 0: i32 column indices; ≥ 1: u16 indices in this many 65,536-column segments. */
  nSeg: number;
  /** 0 when every entry has the same weight (`uniform`). */
  weights: number;
  regs: number;
  factors: number;
  nRows: number;
  bounds: number;
  nChunks: number;
  gramBounds: number;
  gramChunks: number;
  rowsPerGramChunk: number;
}

/** The single value of `values` when all are equal (binary implicit data), else null. */
function uniformValue(values: Float32Array, n: number): number | null {
  if (n === 0) return 0;
  const v = values[0];
  for (let e = 1; e < n; e++) if (values[e] !== v) return null;
  return v;
}

/** Columns per segment of the 16-bit index layout (the kernels' SEGMENT). */
export const INDEX_SEGMENT = 65536;

/**
 * Column-index layout for a CSR side with `nRows` rows over `nCols` columns: the number of
 * 65,536-column segments of 16-bit indices, or 0 for 32-bit indices when the segment pointers
 * (4·nRows bytes per extra segment) would cost more than half of what 16-bit indices save (2·nnz).
 */
export function indexSegments(nRows: number, nCols: number, nnz: number): number {
  const nSeg = Math.max(1, Math.ceil(nCols / INDEX_SEGMENT));
  return nSeg === 1 || 4 * nRows * (nSeg - 1) <= nnz ? nSeg : 0;
}

/** Row starts (nRows + 1) of a segmented indptr with `segs` entries per row (the array itself when segs = 1). */
function rowStarts(indptr: Int32Array, nRows: number, segs: number): Int32Array {
  if (segs === 1) return indptr.subarray(0, nRows + 1);
  const out = new Int32Array(nRows + 1);
  for (let r = 0; r <= nRows; r++) out[r] = indptr[r * segs];
  return out;
}

/**
 * Bytes a WasmSession allocates for this problem (an upper bound: every block rounded up to 64
 * bytes), so a fresh arena can start at its final size instead of growing step by step.
 */
export function wasmSessionBytes(data: CsrData, nUsers: number, nItems: number, kp: number, threads: number): number {
  const nnz = data.indptr[nUsers];
  const weighted = uniformValue(data.values, nnz) === null;
  const side = (nRows: number, nCols: number): number => {
    const nSeg = indexSegments(nRows, nCols, nnz);
    return (nRows * Math.max(1, nSeg) + 1) * 4 + nnz * (nSeg === 0 ? 4 : 2) + (weighted ? nnz * 4 : 0) + nRows * (kp * 4 + 4);
  };
  const gramChunks = Math.max(Math.ceil(nUsers / Math.max(256, Math.ceil(nUsers / 64))), Math.ceil(nItems / Math.max(256, Math.ceil(nItems / 64))), 1);
  const scratch = ((Math.max(4 * kp * 4, kp * kp * 12 + kp * 8 + 64) + 63) & ~63) * Math.max(1, threads);
  // Chunk bounds: at most 513 per side (costBounds) plus the Gram chunk indexes.
  const bounds = 2 * (514 + 66) * 4;
  // 20 blocks, each rounded up to 64 bytes, after the 256-byte header of atomic counters.
  return side(nUsers, nItems) + side(nItems, nUsers) + kp * kp * 4 * (1 + gramChunks) + scratch + Math.max(nUsers, nItems) * 8 + bounds + 20 * 64 + 256;
}

/**
 * Fit state in a shared arena (the pool's, or one the caller hands over to keep the factors
 * afterwards, see `takeFactors`); construct inside `pool.withArena(fn, arena)`. Layout, in order:
 * both factor matrices, then both CSR sides, regularisation, Gram buffers and scratch, so that
 * releasing everything after the factors leaves one contiguous block for later scoring.
 *
 * Memory: column indices are 16-bit when there are at most 65,536 columns (segmented above that,
 * `indexSegments`), and when every interaction has the same value (binary data) no weight arrays
 * are stored: the kernels take the one weight. The item side is transposed straight from the
 * caller's CSR into the arena, so no JavaScript copy of either side is made.
 */
export class WasmSession implements FitSession {
  readonly kp: number;
  readonly nUsers: number;
  readonly nItems: number;
  readonly lossNormalizer: number;
  readonly arena: SharedArena;
  private readonly pool: AlsPool;
  private readonly solver: SolverParams;
  private readonly users: SideLayout;
  private readonly items: SideLayout;
  private readonly uniform: number;
  private readonly G: number;
  private readonly partials: number;
  private readonly lossOut: number;
  private readonly scratch: number;
  private readonly scratchStride: number;
  private readonly threads: number;
  private readonly factorsEnd: number;
  private gramOf: Side | null = null;
  private readonly factorCount: number;

  constructor(pool: AlsPool, init: FitSessionInit, factors: number, arena: SharedArena = pool.arena) {
    const { data, nUsers, nItems, kp } = init;
    this.pool = pool;
    this.arena = arena;
    this.kp = kp;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.factorCount = factors;
    this.solver = init.solverParams;
    this.threads = Math.max(1, init.solverParams.threads);
    const nnz = data.indptr[nUsers];
    const same = uniformValue(data.values, nnz);
    const weighting = init.weighting;
    const uniformWeight = same === null ? 0 : encodeWeights(Float32Array.of(same), weighting)[0];
    this.uniform = uniformWeight;
    // Factors first: they outlive the rest when the caller takes them (takeFactors).
    const pX = arena.alloc(nUsers * kp * 4);
    const pY = arena.alloc(nItems * kp * 4);
    this.factorsEnd = arena.mark();
    const layoutSide = (nRows: number, nCols: number, pFactors: number): SideLayout => {
      const nSeg = indexSegments(nRows, nCols, nnz);
      return {
        indptr: arena.alloc((nRows * Math.max(1, nSeg) + 1) * 4),
        indices: arena.alloc(nnz * (nSeg === 0 ? 4 : 2)),
        nSeg,
        weights: same === null ? arena.alloc(nnz * 4) : 0,
        regs: 0,
        factors: pFactors,
        nRows,
        bounds: 0,
        nChunks: 0,
        gramBounds: 0,
        gramChunks: 0,
        rowsPerGramChunk: Math.max(256, Math.ceil(nRows / 64)),
      };
    };
    const u = layoutSide(nUsers, nItems, pX);
    const it = layoutSide(nItems, nUsers, pY);
    this.users = u;
    this.items = it;
    u.regs = arena.alloc(nUsers * 4);
    it.regs = arena.alloc(nItems * 4);
    this.G = arena.alloc(kp * kp * 4);
    const maxGramChunks = Math.max(Math.ceil(nUsers / u.rowsPerGramChunk), Math.ceil(nItems / it.rowsPerGramChunk), 1);
    this.partials = arena.alloc(maxGramChunks * kp * kp * 4);
    // CG: r, p, Ap and a prefetch sink (4·kp floats); Cholesky: kp² f32 + kp² f64 + kp f64.
    this.scratchStride = (Math.max(4 * kp * 4, kp * kp * 12 + kp * 8 + 64) + 63) & ~63;
    this.scratch = arena.alloc(this.scratchStride * this.threads);
    // Last: only loss() writes it, and pages never written cost no memory.
    this.lossOut = arena.alloc(Math.max(nUsers, nItems) * 8);

    const weightOf = (e: number): number => encodeWeight(data.values[e], weighting, e);
    const uSegs = Math.max(1, u.nSeg);
    const iSegs = Math.max(1, it.nSeg);
    // User side: rows of `data` as they are, columns narrowed to 16 bits where the layout says so.
    const uIndptr = arena.i32(u.indptr, nUsers * uSegs + 1);
    const uWeights = same === null ? arena.f32(u.weights, nnz) : null;
    if (uSegs === 1) {
      uIndptr.set(data.indptr.subarray(0, nUsers + 1));
      // Uint16Array.set keeps the low 16 bits: exact, as every column is < 65,536 here.
      if (u.nSeg === 0) arena.i32(u.indices, nnz).set(data.indices.subarray(0, nnz));
      else arena.u16(u.indices, nnz).set(data.indices.subarray(0, nnz));
      if (uWeights) encodeWeights(data.values.subarray(0, nnz), weighting, uWeights);
    } else {
      // Group each row's entries by segment (stable: order within a segment is kept).
      uIndptr.fill(0);
      for (let r = 0; r < nUsers; r++) {
        for (let e = data.indptr[r]; e < data.indptr[r + 1]; e++) uIndptr[r * uSegs + (data.indices[e] >>> 16) + 1]++;
      }
      for (let j = 0; j < nUsers * uSegs; j++) uIndptr[j + 1] += uIndptr[j];
      const cursor = uIndptr.slice(0, nUsers * uSegs);
      const idx = arena.u16(u.indices, nnz);
      for (let r = 0; r < nUsers; r++) {
        for (let e = data.indptr[r]; e < data.indptr[r + 1]; e++) {
          const c = data.indices[e];
          const dst = cursor[r * uSegs + (c >>> 16)]++;
          idx[dst] = c & 0xffff;
          if (uWeights) uWeights[dst] = weightOf(e);
        }
      }
    }
    // Item side: a counting-sort transpose of `data` straight into the arena (users ascending per item).
    const iIndptr = arena.i32(it.indptr, nItems * iSegs + 1);
    iIndptr.fill(0);
    const segOf = (user: number): number => (it.nSeg > 1 ? user >>> 16 : 0);
    for (let r = 0; r < nUsers; r++) {
      const s = segOf(r);
      for (let e = data.indptr[r]; e < data.indptr[r + 1]; e++) iIndptr[data.indices[e] * iSegs + s + 1]++;
    }
    for (let j = 0; j < nItems * iSegs; j++) iIndptr[j + 1] += iIndptr[j];
    {
      const cursor = iIndptr.slice(0, nItems * iSegs);
      const wide = it.nSeg === 0 ? arena.i32(it.indices, nnz) : null;
      const narrow = it.nSeg === 0 ? null : arena.u16(it.indices, nnz);
      const iWeights = same === null ? arena.f32(it.weights, nnz) : null;
      // The user side's weights are in data order unless its rows were regrouped by segment.
      const inOrder = uSegs === 1 ? uWeights : null;
      for (let r = 0; r < nUsers; r++) {
        const s = segOf(r);
        const low = r & 0xffff;
        for (let e = data.indptr[r]; e < data.indptr[r + 1]; e++) {
          const dst = cursor[data.indices[e] * iSegs + s]++;
          if (wide) wide[dst] = r;
          else narrow![dst] = low;
          if (iWeights) iWeights[dst] = inOrder ? inOrder[e] : weightOf(e);
        }
      }
    }
    const uRows = rowStarts(uIndptr, nUsers, uSegs);
    const iRows = rowStarts(iIndptr, nItems, iSegs);
    let sumConf: number;
    if (uWeights) {
      rowRegularization(uRows, uWeights, weighting, arena.f32(u.regs, nUsers));
      rowRegularization(iRows, arena.f32(it.weights, nnz), weighting, arena.f32(it.regs, nItems));
      sumConf = sumConfidence(uWeights);
    } else {
      // λ_r: plain λ, or λ per positive entry (all entries are positive when the weight is ≥ 0).
      const lambda = weighting.regularization;
      const perEntry = uniformWeight >= 0 ? lambda : 0;
      const wr = weighting.regularizationScaling === 'als-wr';
      for (const [side, rows, n] of [[u, uRows, nUsers], [it, iRows, nItems]] as const) {
        const regs = arena.f32(side.regs, n);
        for (let r = 0; r < n; r++) regs[r] = wr ? perEntry * (rows[r + 1] - rows[r]) : lambda;
      }
      sumConf = nnz * (1 + Math.abs(uniformWeight));
    }
    const X = arena.f32(pX, nUsers * kp);
    const Y = arena.f32(pY, nItems * kp);
    X.fill(0);
    Y.fill(0);
    setInitial(init, X, Y);
    this.lossNormalizer = sumConf + nUsers * nItems - nnz;
    // Chunk bounds (rows) for solves, and chunk indexes for Gram partials.
    for (const [side, rows] of [[u, uRows], [it, iRows]] as const) {
      const bounds = costBounds(rows, kp);
      side.nChunks = bounds.length - 1;
      side.bounds = arena.alloc(bounds.length * 4);
      arena.i32(side.bounds, bounds.length).set(bounds);
      side.gramChunks = Math.ceil(side.nRows / side.rowsPerGramChunk);
      side.gramBounds = arena.alloc((side.gramChunks + 1) * 4);
      const gb = arena.i32(side.gramBounds, side.gramChunks + 1);
      for (let c = 0; c <= side.gramChunks; c++) gb[c] = c;
    }
  }

  /** Index layout of each side (number of 16-bit segments, 0 = 32-bit indices): for tests and reports. */
  get indexLayout(): { users: number; items: number } {
    return { users: this.users.nSeg, items: this.items.nSeg };
  }

  /**
   * End the session and hand its factors over as [n, k] row-major views into the arena: rows are
   * compacted in place from stride kp to k, `keep` (e.g. the best iteration's snapshot, stride kp)
   * replaces the current factors first, and everything else the session allocated is released.
   * The views stay valid for as long as they are referenced (shared memory never detaches); the
   * caller must not let anything else allocate over them (the arena's next free byte follows them).
   */
  takeFactors(k: number, keep: { X: Float32Array; Y: Float32Array } | null = null): { users: Float32Array; items: Float32Array } {
    const arena = this.arena;
    const kp = this.kp;
    const X = arena.f32(this.users.factors, this.nUsers * kp);
    const Y = arena.f32(this.items.factors, this.nItems * kp);
    if (keep) {
      X.set(keep.X);
      Y.set(keep.Y);
    }
    if (k !== kp) {
      // Row r moves from r·kp to r·k ≤ r·kp: front to back never overwrites a row not yet moved.
      for (const [F, n] of [[X, this.nUsers], [Y, this.nItems]] as const) {
        for (let r = 0; r < n; r++) F.copyWithin(r * k, r * kp, r * kp + k);
      }
    }
    arena.release(this.factorsEnd);
    return { users: arena.f32(this.users.factors, this.nUsers * k), items: arena.f32(this.items.factors, this.nItems * k) };
  }

  factors(side: Side): Float32Array {
    const s = side === 'users' ? this.users : this.items;
    return this.arena.f32(s.factors, s.nRows * this.kp);
  }

  /** G = FᵀF for the factors of `of` (summed from fixed chunk partials, in chunk order). */
  private async computeGram(of: SideLayout): Promise<void> {
    const kp = this.kp;
    const arena = this.arena;
    if (of.gramChunks > 0) {
      await this.pool.run({
        arena,
        op: 'gramChunks',
        args: [of.factors, of.nRows, of.rowsPerGramChunk, kp, this.partials],
        scratchIndex: -1,
        scratch: 0,
        scratchStride: 0,
        bounds: of.gramBounds,
        nChunks: of.gramChunks,
        threads: Math.min(this.threads, of.gramChunks),
      });
    }
    const parts = arena.f32(this.partials, of.gramChunks * kp * kp);
    const acc = new Float64Array(kp * kp);
    for (let c = 0; c < of.gramChunks; c++) {
      const o = c * kp * kp;
      for (let j = 0; j < kp * kp; j++) acc[j] += parts[o + j];
    }
    arena.f32(this.G, kp * kp).set(acc);
  }

  private async gramFor(side: Side): Promise<void> {
    if (this.gramOf === side) return;
    await this.computeGram(side === 'users' ? this.items : this.users);
    this.gramOf = side;
  }

  async sweep(side: Side): Promise<number> {
    await this.gramFor(side);
    const [me, other] = side === 'users' ? [this.users, this.items] : [this.items, this.users];
    const common = [me.indptr, me.indices, me.nSeg, me.weights, this.uniform, me.factors, other.factors, this.G, me.regs, this.kp];
    const cg = this.solver.solver === 'cg';
    const failures = await this.pool.run({
      arena: this.arena,
      op: cg ? 'cgRange' : 'choleskyRange',
      args: cg ? [...common, this.solver.cgSteps, 0] : [...common, 0],
      scratchIndex: cg ? 11 : 10,
      scratch: this.scratch,
      scratchStride: this.scratchStride,
      bounds: me.bounds,
      nChunks: me.nChunks,
      threads: Math.min(this.threads, Math.max(1, me.nChunks)),
    });
    // This side's factors changed: only the Gram of the other side (used to solve `side`) survives.
    this.gramOf = side;
    return failures;
  }

  async loss(): Promise<number> {
    await this.gramFor('users');
    const u = this.users;
    await this.pool.run({
      arena: this.arena,
      op: 'lossRange',
      args: [u.indptr, u.indices, u.nSeg, u.weights, this.uniform, u.factors, this.items.factors, this.G, u.regs, this.kp, 0, this.lossOut],
      scratchIndex: 10,
      scratch: this.scratch,
      scratchStride: this.scratchStride,
      bounds: u.bounds,
      nChunks: u.nChunks,
      threads: Math.min(this.threads, Math.max(1, u.nChunks)),
    });
    const arena = this.arena;
    const out = arena.f64(this.lossOut, this.nUsers);
    let total = 0;
    for (let r = 0; r < this.nUsers; r++) total += out[r];
    return total + regularizationTerm(arena.f32(this.items.factors, this.nItems * this.kp), arena.f32(this.items.regs, this.nItems), this.kp);
  }

  async topk(users: Int32Array, K: number, exclude: CsrRows | null): Promise<TopkResult> {
    const req = userTopkRequest(this.factors('users'), this.factors('items'), this.nItems, this.kp, this.factorCount, users, K, exclude);
    return topkWasmInArena(this.pool, req, this.threads, this.arena);
  }
}
