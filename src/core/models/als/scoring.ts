/**
 * Batched scoring + top-k for ALS: score(q, i) = q·y_i for every item, the K best kept per query
 * by a bounded heap (no full sort), excluded items skipped, ties broken by the smaller item index
 * (the same rule as src/core/topk.ts). Two backends with one request shape:
 *  - wasm: item factors laid out in 8-item panels, 4 queries × 8 items per register block, 64
 *    queries kept hot while item tiles stream past, a SIMD threshold test per block; large batches
 *    are spread over the worker pool (`topkWasm`), in blocks of BLOCK_QUERIES queries when the
 *    request can write a range of them (bounded arena memory for recommend-all), small ones run in
 *    the calling thread on panels kept between calls (`PanelScorer`, the serving path);
 *  - js: solver-reference.ts `topkRows` (the oracle).
 */
import type { AlsPool } from './pool.js';
import { SharedArena, type WasmModule } from './kernels.js';
import { topkRows } from './solver-reference.js';

export interface TopkRequest {
  nQueries: number;
  nItems: number;
  /** Padded rank (multiple of 4) of queries and items. */
  kp: number;
  /** List length. */
  K: number;
  /** Fill the query matrix (nQueries × kp; the buffer arrives zeroed). */
  writeQueries(dst: Float32Array): void;
  /** Item factors and their row stride (only the first `factors` columns are read). */
  items: Float32Array;
  itemStride: number;
  factors: number;
  /** Exclusions as a CSR over queries: total number of entries, and a writer (rows sorted ascending). */
  exclusionSize: number;
  writeExclusion(indptr: Int32Array, indices: Int32Array): void;
  /**
   * Optional: the same writers for queries [start, end) only (their rows written from 0). With
   * them a large batch runs in blocks of BLOCK_QUERIES, so the arena never holds every query, its
   * exclusions and its results at once (recommend-all would need ≈ 6·kp + 8·K bytes per user).
   */
  range?: {
    exclusionSize(start: number, end: number): number;
    writeQueries(dst: Float32Array, start: number, end: number): void;
    writeExclusion(indptr: Int32Array, indices: Int32Array, start: number, end: number): void;
  };
}

export interface TopkResult {
  items: Int32Array;
  scores: Float32Array;
  /** Quantised path only: queries whose proof check failed and were re-scored in f32. */
  reruns?: number;
}

/** Queries per chunk claimed by a thread (the kernel's 64-query block). */
const QUERIES_PER_CHUNK = 64;
/** Queries per block of a large batch (requests with `range`): 128 chunks, ≈ 2.6 MiB of arena at kp = 64. */
export const BLOCK_QUERIES = 8192;

/** Item panels: panel q, dimension d, lane j = item 8q + j (padding items are zero). */
export function writePanels(dst: Float32Array, items: Float32Array, stride: number, factors: number, nItems: number, kp: number): void {
  const nPanels = (nItems + 7) >> 3;
  dst.fill(0, 0, nPanels * kp * 8);
  for (let i = 0; i < nItems; i++) {
    const base = (i >> 3) * kp * 8 + (i & 7);
    const src = i * stride;
    for (let d = 0; d < factors; d++) dst[base + d * 8] = items[src + d];
  }
}

export interface QuantizedPanels {
  /** Item scale s_y (ŷ = s_y·q̂), max |y|, and max over items of ‖ŷ_i‖₁. */
  sy: number;
  yAbsMax: number;
  y1Max: number;
  maxq: number;
}

/** Largest integer magnitude for the int16 scan such that kp·maxq² < 2³¹ (no i32 overflow). */
export function quantizationLimit(kp: number): number {
  return Math.min(2047, Math.floor(Math.sqrt((2 ** 31 - 1) / kp)));
}

/**
 * Int16 item panels for the quantised scan: panel q, dimension pair p holds 8 items × 2 dims
 * (item j's dims 2p, 2p+1 at int16 offset (q·kp/2 + p)·16 + 2j), one global scale s_y = max|y|/maxq.
 */
export function writePanels16(dst: Int16Array, items: Float32Array, stride: number, factors: number, nItems: number, kp: number): QuantizedPanels {
  const maxq = quantizationLimit(kp);
  const nPanels = (nItems + 7) >> 3;
  dst.fill(0, 0, nPanels * kp * 8);
  let yAbsMax = 0;
  for (let i = 0; i < nItems; i++) for (let d = 0; d < factors; d++) yAbsMax = Math.max(yAbsMax, Math.abs(items[i * stride + d]));
  const sy = Math.fround(yAbsMax / maxq);
  let y1Max = 0;
  const kpairs = kp >> 1;
  for (let i = 0; i < nItems; i++) {
    const base = ((i >> 3) * kpairs) * 16 + (i & 7) * 2;
    let l1 = 0;
    for (let d = 0; d < factors; d++) {
      const q = sy > 0 ? Math.max(-maxq, Math.min(maxq, Math.round(items[i * stride + d] / sy))) : 0;
      dst[base + (d >> 1) * 16 + (d & 1)] = q;
      l1 += Math.abs(q);
    }
    y1Max = Math.max(y1Max, l1 * sy);
  }
  return { sy, yAbsMax, y1Max, maxq };
}

/** Candidates re-scored exactly per query in the quantised path. */
export function candidateCount(K: number): number {
  return K + Math.max(16, K);
}

export function topkJs(req: TopkRequest): TopkResult {
  const { nQueries, nItems, kp, K } = req;
  const Q = new Float32Array(nQueries * kp);
  req.writeQueries(Q);
  let Y = req.items;
  if (req.itemStride !== kp) {
    Y = new Float32Array(nItems * kp);
    for (let i = 0; i < nItems; i++) for (let d = 0; d < req.factors; d++) Y[i * kp + d] = req.items[i * req.itemStride + d];
  }
  const indptr = new Int32Array(nQueries + 1);
  const indices = new Int32Array(req.exclusionSize);
  req.writeExclusion(indptr, indices);
  const items = new Int32Array(nQueries * K);
  const scores = new Float32Array(nQueries * K);
  topkRows(0, nQueries, Q, Y, nItems, kp, K, indptr, indices, items, scores);
  return { items, scores };
}

interface PreparedTopk {
  args: number[];
  pBounds: number;
  nChunks: number;
  pScratch: number;
  stride: number;
  pItems: number;
  pScores: number;
}

/** The queries of one prepare(): the whole request, or rows [start, end) of it through `range`. */
interface QueryBlock {
  nQueries: number;
  exclusionSize: number;
  writeQueries(dst: Float32Array): void;
  writeExclusion(indptr: Int32Array, indices: Int32Array): void;
}

function wholeRequest(req: TopkRequest): QueryBlock {
  return { nQueries: req.nQueries, exclusionSize: req.exclusionSize, writeQueries: (dst) => req.writeQueries(dst), writeExclusion: (p, i) => req.writeExclusion(p, i) };
}

function requestRows(range: NonNullable<TopkRequest['range']>, start: number, end: number): QueryBlock {
  return {
    nQueries: end - start,
    exclusionSize: range.exclusionSize(start, end),
    writeQueries: (dst) => range.writeQueries(dst, start, end),
    writeExclusion: (p, i) => range.writeExclusion(p, i, start, end),
  };
}

/** Lay out a block's queries, exclusions, outputs, bounds and scratch after the panels at `pPanels`. */
function prepare(arena: SharedArena, pPanels: number, req: TopkRequest, block: QueryBlock, threads: number, scratchBytes = 0): PreparedTopk {
  const { nItems, kp, K } = req;
  const { nQueries, exclusionSize } = block;
  const pQ = arena.alloc(nQueries * kp * 4);
  const pExclIndptr = arena.alloc((nQueries + 1) * 4);
  const pExcl = arena.alloc(exclusionSize * 4);
  const pItems = arena.alloc(nQueries * K * 4);
  const pScores = arena.alloc(nQueries * K * 4);
  const nChunks = Math.ceil(nQueries / QUERIES_PER_CHUNK);
  const pBounds = arena.alloc((nChunks + 1) * 4);
  const stride = (Math.max(scratchBytes, arena.kernels.topkScratchBytes(K)) + 63) & ~63;
  const pScratch = arena.alloc(stride * Math.max(1, threads));
  const Q = arena.f32(pQ, nQueries * kp);
  Q.fill(0);
  block.writeQueries(Q);
  block.writeExclusion(arena.i32(pExclIndptr, nQueries + 1), arena.i32(pExcl, exclusionSize));
  const bounds = arena.i32(pBounds, nChunks + 1);
  for (let c = 0; c <= nChunks; c++) bounds[c] = Math.min(nQueries, c * QUERIES_PER_CHUNK);
  return { args: [pQ, pPanels, nItems, kp, K, pExclIndptr, pExcl, pItems, pScores, 0], pBounds, nChunks, pScratch, stride, pItems, pScores };
}

function collect(arena: SharedArena, prep: PreparedTopk, req: TopkRequest): TopkResult {
  const n = req.nQueries * req.K;
  return { items: arena.i32(prep.pItems, n).slice(), scores: arena.f32(prep.pScores, n).slice() };
}

/**
 * Run a top-k request on `arena` (default: the pool's). The caller must hold it
 * (`pool.withArena(fn, arena)`); everything allocated here is released before returning. Requests
 * with `range` writers and more than BLOCK_QUERIES queries run block by block over one layout of
 * the item panels, each block's results copied out before the next reuses its arena bytes.
 */
export async function topkWasmInArena(pool: AlsPool, req: TopkRequest, threads: number, arena: SharedArena = pool.arena): Promise<TopkResult> {
  const mark = arena.mark();
  try {
    const { nQueries, nItems, kp, K } = req;
    const nPanels = (nItems + 7) >> 3;
    const pP = arena.alloc(nPanels * kp * 8 * 4);
    // The int16 scan pays off once there are more items than candidates to re-score.
    const KC = candidateCount(K);
    const quantized = K > 0 && K <= 512 && nItems > 4 * KC;
    const pP16 = quantized ? arena.alloc(nPanels * kp * 8 * 2) : 0;
    const scratchBytes = quantized ? arena.kernels.topkQScratchBytes(K, KC, kp) : 0;
    writePanels(arena.f32(pP, nPanels * kp * 8), req.items, req.itemStride, req.factors, nItems, kp);
    const qp = quantized ? writePanels16(new Int16Array(arena.memory.buffer, pP16, nPanels * kp * 8), req.items, req.itemStride, req.factors, nItems, kp) : null;
    const runPrepared = async (prep: PreparedTopk): Promise<number> => {
      if (prep.nChunks === 0) return 0;
      const common = { arena, scratch: prep.pScratch, scratchStride: prep.stride, bounds: prep.pBounds, nChunks: prep.nChunks, threads: Math.min(threads, prep.nChunks) };
      if (qp) {
        const [pQ, , , , , pExclIndptr, pExcl, pItems, pScores] = prep.args;
        return pool.run({
          ...common,
          op: 'topkRangeQ',
          args: [pQ, pP, pP16, nItems, kp, K, KC, pExclIndptr, pExcl, pItems, pScores, 0, qp.sy, qp.yAbsMax, qp.y1Max, qp.maxq],
          scratchIndex: 11,
        });
      }
      await pool.run({ ...common, op: 'topkRange', args: prep.args, scratchIndex: 9 });
      return 0;
    };
    const range = req.range;
    if (!range || nQueries <= BLOCK_QUERIES) {
      const prep = prepare(arena, pP, req, wholeRequest(req), threads, scratchBytes);
      const reruns = await runPrepared(prep);
      return { ...collect(arena, prep, req), reruns };
    }
    const items = new Int32Array(nQueries * K);
    const scores = new Float32Array(nQueries * K);
    let reruns = 0;
    const blockMark = arena.mark();
    for (let start = 0; start < nQueries; start += BLOCK_QUERIES) {
      const end = Math.min(nQueries, start + BLOCK_QUERIES);
      const prep = prepare(arena, pP, req, requestRows(range, start, end), threads, scratchBytes);
      reruns += await runPrepared(prep);
      const n = (end - start) * K;
      items.set(arena.i32(prep.pItems, n), start * K);
      scores.set(arena.f32(prep.pScores, n), start * K);
      arena.release(blockMark);
    }
    return { items, scores, reruns };
  } finally {
    arena.release(mark);
  }
}

export function topkWasm(pool: AlsPool, req: TopkRequest, threads: number): Promise<TopkResult> {
  return pool.withArena((p) => topkWasmInArena(p, req, threads));
}

/**
 * Item panels kept in a private arena between calls, scored in the calling thread: the path for
 * small batches (serving one user, similar items), where re-laying out the catalogue per call
 * would cost more than the scoring. Build a new one when the item factors change.
 */
export class PanelScorer {
  private readonly arena: SharedArena;
  private readonly pPanels: number;
  readonly nItems: number;
  readonly kp: number;

  constructor(module: WasmModule, items: Float32Array, itemStride: number, factors: number, nItems: number, kp: number) {
    const nPanels = (nItems + 7) >> 3;
    this.arena = new SharedArena(module, nPanels * kp * 32 + (1 << 20));
    this.pPanels = this.arena.alloc(nPanels * kp * 32);
    writePanels(this.arena.f32(this.pPanels, nPanels * kp * 8), items, itemStride, factors, nItems, kp);
    this.nItems = nItems;
    this.kp = kp;
  }

  /** `req.items` is ignored: the panels built at construction are used. */
  topk(req: TopkRequest): TopkResult {
    const arena = this.arena;
    const mark = arena.mark();
    try {
      const prep = prepare(arena, this.pPanels, req, wholeRequest(req), 1);
      const args = prep.args.slice();
      args[9] = prep.pScratch;
      if (req.nQueries > 0) arena.kernels.topkRange(0, req.nQueries, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9]);
      return collect(arena, prep, req);
    } finally {
      arena.release(mark);
    }
  }
}
