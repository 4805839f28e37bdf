/**
 * Batched scoring + top-k for ALS: score(q, i) = q·y_i for every item, the K best kept per query
 * by a bounded heap (no full sort), excluded items skipped, ties broken by the smaller item index
 * (the same rule as src/core/topk.ts). Two backends with one request shape:
 *  - wasm: item factors laid out in 8-item panels, 4 queries × 8 items per register block, 64
 *    queries kept hot while item tiles stream past, a SIMD threshold test per block; large batches
 *    are spread over the worker pool (`topkWasm`), small ones run in the calling thread on panels
 *    kept between calls (`PanelScorer`, the serving path);
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
}

export interface TopkResult {
  items: Int32Array;
  scores: Float32Array;
  /** Quantised path only: queries whose proof check failed and were re-scored in f32. */
  reruns?: number;
}

/** Queries per chunk claimed by a thread (the kernel's 64-query block). */
const QUERIES_PER_CHUNK = 64;

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

/** Lay out queries, exclusions, outputs, bounds and scratch after the panels at `pPanels`. */
function prepare(arena: SharedArena, pPanels: number, req: TopkRequest, threads: number, scratchBytes = 0): PreparedTopk {
  const { nQueries, nItems, kp, K } = req;
  const pQ = arena.alloc(nQueries * kp * 4);
  const pExclIndptr = arena.alloc((nQueries + 1) * 4);
  const pExcl = arena.alloc(req.exclusionSize * 4);
  const pItems = arena.alloc(nQueries * K * 4);
  const pScores = arena.alloc(nQueries * K * 4);
  const nChunks = Math.ceil(nQueries / QUERIES_PER_CHUNK);
  const pBounds = arena.alloc((nChunks + 1) * 4);
  const stride = (Math.max(scratchBytes, arena.kernels.topkScratchBytes(K)) + 63) & ~63;
  const pScratch = arena.alloc(stride * Math.max(1, threads));
  const Q = arena.f32(pQ, nQueries * kp);
  Q.fill(0);
  req.writeQueries(Q);
  req.writeExclusion(arena.i32(pExclIndptr, nQueries + 1), arena.i32(pExcl, req.exclusionSize));
  const bounds = arena.i32(pBounds, nChunks + 1);
  for (let c = 0; c <= nChunks; c++) bounds[c] = Math.min(nQueries, c * QUERIES_PER_CHUNK);
  return { args: [pQ, pPanels, nItems, kp, K, pExclIndptr, pExcl, pItems, pScores, 0], pBounds, nChunks, pScratch, stride, pItems, pScores };
}

function collect(arena: SharedArena, prep: PreparedTopk, req: TopkRequest): TopkResult {
  const n = req.nQueries * req.K;
  return { items: arena.i32(prep.pItems, n).slice(), scores: arena.f32(prep.pScores, n).slice() };
}

/**
 * Run a top-k request on the pool's arena. The caller must hold the arena (`pool.withArena`);
 * everything allocated here is released before returning.
 */
export async function topkWasmInArena(pool: AlsPool, req: TopkRequest, threads: number): Promise<TopkResult> {
  const arena = pool.arena;
  const mark = arena.mark();
  try {
    const { nItems, kp, K } = req;
    const nPanels = (nItems + 7) >> 3;
    const pP = arena.alloc(nPanels * kp * 8 * 4);
    // The int16 scan pays off once there are more items than candidates to re-score.
    const KC = candidateCount(K);
    const quantized = K > 0 && K <= 512 && nItems > 4 * KC;
    const pP16 = quantized ? arena.alloc(nPanels * kp * 8 * 2) : 0;
    const prep = prepare(arena, pP, req, threads, quantized ? arena.kernels.topkQScratchBytes(K, KC, kp) : 0);
    writePanels(arena.f32(pP, nPanels * kp * 8), req.items, req.itemStride, req.factors, nItems, kp);
    let reruns = 0;
    if (prep.nChunks > 0) {
      if (quantized) {
        const qp = writePanels16(new Int16Array(arena.memory.buffer, pP16, nPanels * kp * 8), req.items, req.itemStride, req.factors, nItems, kp);
        const [pQ, , , , , pExclIndptr, pExcl, pItems, pScores] = prep.args;
        reruns = await pool.run({
          op: 'topkRangeQ',
          args: [pQ, pP, pP16, nItems, kp, K, KC, pExclIndptr, pExcl, pItems, pScores, 0, qp.sy, qp.yAbsMax, qp.y1Max, qp.maxq],
          scratchIndex: 11,
          scratch: prep.pScratch,
          scratchStride: prep.stride,
          bounds: prep.pBounds,
          nChunks: prep.nChunks,
          threads: Math.min(threads, prep.nChunks),
        });
      } else {
        await pool.run({
          op: 'topkRange',
          args: prep.args,
          scratchIndex: 9,
          scratch: prep.pScratch,
          scratchStride: prep.stride,
          bounds: prep.pBounds,
          nChunks: prep.nChunks,
          threads: Math.min(threads, prep.nChunks),
        });
      }
    }
    return { ...collect(arena, prep, req), reruns };
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
      const prep = prepare(arena, this.pPanels, req, 1);
      const args = prep.args.slice();
      args[9] = prep.pScratch;
      if (req.nQueries > 0) arena.kernels.topkRange(0, req.nQueries, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9]);
      return collect(arena, prep, req);
    } finally {
      arena.release(mark);
    }
  }
}
