/**
 * The ALS training state and its two backends. A `FitSession` holds both sides of the weighted
 * interaction matrix (user rows and item rows), the per-row regularisation λ_r, both factor
 * matrices (row stride kp) and the cached Gram matrix, and runs half-sweeps:
 *
 *   sweep('users'): G = YᵀY, then every user row solves its normal equations (CG or Cholesky);
 *   sweep('items'): G = XᵀX, then every item row.
 *
 * `JsSession` runs solver-reference.ts in the calling thread; `WasmSession` lays everything out in
 * the pool's shared arena and runs the SIMD kernels on `threads` threads. Chunks of rows are fixed
 * by cost (never by thread count) and every row's solve depends only on its own data, so the
 * result is the same for any number of threads; Gram partials over fixed row chunks are summed in
 * chunk order for the same reason.
 */
import { RecsysError } from '../../errors.js';
import type { CsrData, CsrRows } from '../../data/matrix.js';
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
  const { alpha, eps } = p;
  const log = p.confidence === 'log';
  for (let e = 0; e < values.length; e++) {
    const r = values[e];
    if (!Number.isFinite(r)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `interaction value at position ${e} is ${r}; ALS needs finite values. Check the value column of the ingested data.`);
    }
    const a = Math.abs(r);
    const w = log ? alpha * Math.log1p(a / eps) : alpha * a;
    out[e] = r > 0 ? w : r < 0 ? (w > 0 ? -w : NEG_TINY) : NEG_TINY;
  }
  return out;
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
  let size = 0;
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    if (exclude && u >= 0 && u < nRowsExclude) size += exclude.indptr[u + 1] - exclude.indptr[u];
    size += extra[r]?.length ?? 0;
  }
  return {
    nQueries: users.length,
    nItems,
    kp,
    K,
    items: Y,
    itemStride: stride,
    factors,
    exclusionSize: size,
    writeQueries(dst) {
      dst.fill(0);
      for (let r = 0; r < users.length; r++) {
        const u = users[r];
        if (u < 0) continue;
        const src = u * stride;
        for (let d = 0; d < factors; d++) dst[r * kp + d] = X[src + d];
      }
    },
    writeExclusion(indptr, indices) {
      let w = 0;
      indptr[0] = 0;
      for (let r = 0; r < users.length; r++) {
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
        indptr[r + 1] = w;
      }
    },
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
  indptr: number;
  indices: number;
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

/**
 * Fit state in the pool's shared arena; construct inside `pool.withArena`. When every interaction
 * has the same value (binary data), no weight arrays are stored: the kernels take the one weight.
 */
export class WasmSession implements FitSession {
  readonly kp: number;
  readonly nUsers: number;
  readonly nItems: number;
  readonly lossNormalizer: number;
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
  private gramOf: Side | null = null;
  private readonly factorCount: number;

  constructor(pool: AlsPool, init: FitSessionInit, factors: number) {
    const { data, nUsers, nItems, kp } = init;
    this.pool = pool;
    this.kp = kp;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.factorCount = factors;
    this.solver = init.solverParams;
    this.threads = Math.max(1, init.solverParams.threads);
    const arena = pool.arena;
    const nnz = data.indptr[nUsers];
    const same = uniformValue(data.values, nnz);
    const uniformWeight = same === null ? 0 : encodeWeights(Float32Array.of(same), init.weighting)[0];
    this.uniform = uniformWeight;
    const userBounds = costBounds(data.indptr, kp);
    const layoutSide = (nRows: number): SideLayout => ({
      indptr: arena.alloc((nRows + 1) * 4),
      indices: arena.alloc(nnz * 4),
      weights: same === null ? arena.alloc(nnz * 4) : 0,
      regs: arena.alloc(nRows * 4),
      factors: arena.alloc(nRows * kp * 4),
      nRows,
      bounds: 0,
      nChunks: 0,
      gramBounds: 0,
      gramChunks: 0,
      rowsPerGramChunk: Math.max(256, Math.ceil(nRows / 64)),
    });
    this.users = layoutSide(nUsers);
    this.items = layoutSide(nItems);
    this.G = arena.alloc(kp * kp * 4);
    const maxGramChunks = Math.max(Math.ceil(nUsers / this.users.rowsPerGramChunk), Math.ceil(nItems / this.items.rowsPerGramChunk), 1);
    this.partials = arena.alloc(maxGramChunks * kp * kp * 4);
    this.lossOut = arena.alloc(Math.max(nUsers, nItems) * 8);
    // CG: r, p, Ap and a prefetch sink (4·kp floats); Cholesky: kp² f32 + kp² f64 + kp f64.
    this.scratchStride = (Math.max(4 * kp * 4, kp * kp * 12 + kp * 8 + 64) + 63) & ~63;
    this.scratch = arena.alloc(this.scratchStride * this.threads);
    // Fill the user side, then build the item side by transposing inside the arena.
    const u = this.users;
    const it = this.items;
    const uIndptr = arena.i32(u.indptr, nUsers + 1);
    uIndptr.set(data.indptr.subarray(0, nUsers + 1));
    const uIndices = arena.i32(u.indices, nnz);
    uIndices.set(data.indices.subarray(0, nnz));
    const iIndptr = arena.i32(it.indptr, nItems + 1);
    const iIndices = arena.i32(it.indices, nnz);
    let sumConf: number;
    if (same === null) {
      const uWeights = encodeWeights(data.values.subarray(0, nnz), init.weighting, arena.f32(u.weights, nnz));
      const iWeights = arena.f32(it.weights, nnz);
      transposeInto({ indptr: uIndptr, indices: uIndices, weights: uWeights }, nItems, iIndptr, iIndices, iWeights);
      rowRegularization(uIndptr, uWeights, init.weighting, arena.f32(u.regs, nUsers));
      rowRegularization(iIndptr, iWeights, init.weighting, arena.f32(it.regs, nItems));
      sumConf = sumConfidence(uWeights);
    } else {
      transposeInto({ indptr: uIndptr, indices: uIndices, weights: null }, nItems, iIndptr, iIndices, null);
      // λ_r: plain λ, or λ per positive entry (all entries are positive when the weight is ≥ 0).
      const lambda = init.weighting.regularization;
      const perEntry = uniformWeight >= 0 ? lambda : 0;
      const wr = init.weighting.regularizationScaling === 'als-wr';
      for (const [side, indptr, n] of [[u, uIndptr, nUsers], [it, iIndptr, nItems]] as const) {
        const regs = arena.f32(side.regs, n);
        for (let r = 0; r < n; r++) regs[r] = wr ? perEntry * (indptr[r + 1] - indptr[r]) : lambda;
      }
      sumConf = nnz * (1 + Math.abs(uniformWeight));
    }
    const X = arena.f32(u.factors, nUsers * kp);
    const Y = arena.f32(it.factors, nItems * kp);
    X.fill(0);
    Y.fill(0);
    setInitial(init, X, Y);
    this.lossNormalizer = sumConf + nUsers * nItems - nnz;
    // Chunk bounds (rows) for solves, and chunk indexes for Gram partials.
    const itemBounds = costBounds(iIndptr, kp);
    for (const [side, bounds] of [[u, userBounds], [it, itemBounds]] as const) {
      side.nChunks = bounds.length - 1;
      side.bounds = arena.alloc(bounds.length * 4);
      arena.i32(side.bounds, bounds.length).set(bounds);
      side.gramChunks = Math.ceil(side.nRows / side.rowsPerGramChunk);
      side.gramBounds = arena.alloc((side.gramChunks + 1) * 4);
      const gb = arena.i32(side.gramBounds, side.gramChunks + 1);
      for (let c = 0; c <= side.gramChunks; c++) gb[c] = c;
    }
  }

  factors(side: Side): Float32Array {
    const s = side === 'users' ? this.users : this.items;
    return this.pool.arena.f32(s.factors, s.nRows * this.kp);
  }

  /** G = FᵀF for the factors of `of` (summed from fixed chunk partials, in chunk order). */
  private async computeGram(of: SideLayout): Promise<void> {
    const kp = this.kp;
    const arena = this.pool.arena;
    if (of.gramChunks > 0) {
      await this.pool.run({
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
    const common = [me.indptr, me.indices, me.weights, this.uniform, me.factors, other.factors, this.G, me.regs, this.kp];
    const cg = this.solver.solver === 'cg';
    const failures = await this.pool.run({
      op: cg ? 'cgRange' : 'choleskyRange',
      args: cg ? [...common, this.solver.cgSteps, 0] : [...common, 0],
      scratchIndex: cg ? 10 : 9,
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
      op: 'lossRange',
      args: [u.indptr, u.indices, u.weights, this.uniform, u.factors, this.items.factors, this.G, u.regs, this.kp, 0, this.lossOut],
      scratchIndex: 9,
      scratch: this.scratch,
      scratchStride: this.scratchStride,
      bounds: u.bounds,
      nChunks: u.nChunks,
      threads: Math.min(this.threads, Math.max(1, u.nChunks)),
    });
    const arena = this.pool.arena;
    const out = arena.f64(this.lossOut, this.nUsers);
    let total = 0;
    for (let r = 0; r < this.nUsers; r++) total += out[r];
    return total + regularizationTerm(arena.f32(this.items.factors, this.nItems * this.kp), arena.f32(this.items.regs, this.nItems), this.kp);
  }

  async topk(users: Int32Array, K: number, exclude: CsrRows | null): Promise<TopkResult> {
    const req = userTopkRequest(this.factors('users'), this.factors('items'), this.nItems, this.kp, this.factorCount, users, K, exclude);
    return topkWasmInArena(this.pool, req, this.threads);
  }
}
