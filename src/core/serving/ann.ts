/**
 * Approximate maximum-inner-product search for large catalogues: an IVF (inverted-file) index
 * as in FAISS's IndexIVFFlat with the inner-product metric (Jégou et al., "Product quantization
 * for nearest neighbor search", TPAMI 2011, §IV: coarse quantiser + inverted lists).
 *
 *  - Build: k-means (L2) on a seeded sample of item vectors, `lists` ≈ √n centroids; every item
 *    goes to its nearest centroid. The assignment argmin_c ‖x − c‖² = argmax_c (x·c − ‖c‖²/2) is
 *    an inner-product top-1 over augmented vectors [x, 1]·[c, −‖c‖²/2], so it runs on the ALS
 *    wasm top-k kernels across worker threads (src/core/models/als/scoring.ts).
 *  - Search: rank the lists by centroid score plus a radius bound (see boundWeight), scan the
 *    `probes` best lists exactly, keep the top k (excluded items skipped). Cost ≈
 *    (lists + probes·n/lists)·dim instead of n·dim.
 *    With the wasm kernels built, each list's vectors live as 8-item panels in a private wasm
 *    arena and a probed list is scored by the ALS SIMD top-k kernel (one call per list);
 *    otherwise a plain TypeScript loop scores them.
 *  - int8 option: list vectors stored as int8 with one scale per item (x ≈ s·q, s = max|x|/127):
 *    a quarter of the float32 memory; the best `rerank` candidates are re-scored exactly from
 *    the model's float32 vectors, so scores returned are exact.
 *
 * Recall@k against exact scoring is measured by `recallAtK` (reported by bench/serve.ts).
 */
import { RecsysError } from '../errors.js';
import { Rng } from '../rng.js';
import { TopK } from '../topk.js';
import { SharedArena, alsKernelModule, type WasmModule } from '../models/als/kernels.js';
import { alsPool } from '../models/als/pool.js';
import { topkJs, topkWasm, writePanels, type TopkRequest } from '../models/als/scoring.js';
import { paddedRank } from '../models/als/solver-reference.js';
import { containsSorted } from './sorted-set.js';

export interface IvfOptions {
  /** Number of inverted lists (default round(√n)). */
  lists?: number;
  /** Items sampled to train the centroids (default max(40·lists, 50,000), at most n). */
  sample?: number;
  iterations?: number;
  seed?: number;
  quantize?: 'none' | 'int8';
  threads?: number;
  /** false: score lists in TypeScript even when the wasm kernels are built (tests compare both). */
  wasm?: boolean;
}

export interface IvfSearchOptions {
  probes: number;
  /** Sorted item indexes never to return. */
  exclude?: Int32Array | null;
  /** Only items for which this is true (e.g. a category filter). */
  allow?: ((item: number) => boolean) | null;
  /** int8: candidates re-scored exactly (default max(4k, 50)). */
  rerank?: number;
}

export interface IvfSearchResult {
  items: Int32Array;
  scores: Float32Array;
  /** Items whose score was computed. */
  scanned: number;
}

/** Top-1 inner product of each of `n` queries (stride dim) against `m` targets (stride dim): exact, wasm when built. */
async function argmaxInner(queries: Float32Array, n: number, targets: Float32Array, m: number, dim: number, threads: number): Promise<Int32Array> {
  const out = new Int32Array(n);
  const kp = paddedRank(dim);
  const wasm = alsKernelModule() !== null;
  const CHUNK = 65536;
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const req: TopkRequest = {
      nQueries: count,
      nItems: m,
      kp,
      K: 1,
      items: targets,
      itemStride: dim,
      factors: dim,
      exclusionSize: 0,
      writeQueries(dst) {
        for (let r = 0; r < count; r++) dst.set(queries.subarray((start + r) * dim, (start + r + 1) * dim), r * kp);
      },
      writeExclusion(indptr) {
        indptr.fill(0);
      },
    };
    const res = wasm ? await topkWasm(alsPool(), req, threads) : topkJs(req);
    out.set(res.items, start);
  }
  return out;
}

/**
 * The lists' float32 vectors as wasm panels, each list starting on a panel boundary, scored one
 * list at a time by the ALS `topkRange` kernel in the calling thread.
 */
class ListPanels {
  private readonly arena: SharedArena;
  private readonly pPanels: number;
  /** First panel of each list. */
  private readonly panelStart: Int32Array;
  readonly kp: number;

  constructor(module: WasmModule, ordered: Float32Array, listOffsets: Int32Array, dim: number) {
    const nLists = listOffsets.length - 1;
    this.kp = paddedRank(dim);
    this.panelStart = new Int32Array(nLists + 1);
    for (let l = 0; l < nLists; l++) this.panelStart[l + 1] = this.panelStart[l] + ((listOffsets[l + 1] - listOffsets[l] + 7) >> 3);
    const panelFloats = this.kp * 8;
    const bytes = this.panelStart[nLists] * panelFloats * 4;
    this.arena = new SharedArena(module, bytes + (1 << 20));
    this.pPanels = this.arena.alloc(bytes);
    for (let l = 0; l < nLists; l++) {
      const n = listOffsets[l + 1] - listOffsets[l];
      if (n === 0) continue;
      const dst = this.arena.f32(this.pPanels + this.panelStart[l] * panelFloats * 4, (this.panelStart[l + 1] - this.panelStart[l]) * panelFloats);
      writePanels(dst, ordered.subarray(listOffsets[l] * dim, listOffsets[l + 1] * dim), dim, dim, n, this.kp);
    }
  }

  get byteSize(): number {
    return this.panelStart[this.panelStart.length - 1] * this.kp * 8 * 4;
  }

  /**
   * For each probed list `lists[j]` (size `sizes[j]`, its first item at `starts[j]` in list order):
   * its top `K(n)` positions and scores for `query`, passed to `take(start + pos, score)` best first.
   * The query, result and scratch buffers are set up once per search, not once per list.
   */
  scanLists(query: Float32Array, lists: Int32Array, count: number, starts: Int32Array, sizes: Int32Array, K: (n: number) => number, take: (listPos: number, score: number) => void): void {
    const a = this.arena;
    const mark = a.mark();
    try {
      let maxK = 1;
      for (let j = 0; j < count; j++) maxK = Math.max(maxK, Math.min(K(sizes[j]), sizes[j]));
      const pQ = a.alloc(this.kp * 4);
      const pExcl = a.alloc(8);
      const pItems = a.alloc(maxK * 4);
      const pScores = a.alloc(maxK * 4);
      const pScratch = a.alloc(a.kernels.topkScratchBytes(maxK));
      const q = a.f32(pQ, this.kp);
      q.fill(0);
      q.set(query.subarray(0, Math.min(query.length, this.kp)));
      a.i32(pExcl, 2).fill(0);
      const items = a.i32(pItems, maxK);
      const scores = a.f32(pScores, maxK);
      const panelBytes = this.kp * 8 * 4;
      for (let j = 0; j < count; j++) {
        const n = sizes[j];
        if (n === 0) continue;
        const kk = Math.min(K(n), n);
        a.kernels.topkRange(0, 1, pQ, this.pPanels + this.panelStart[lists[j]] * panelBytes, n, this.kp, kk, pExcl, pExcl + 4, pItems, pScores, pScratch);
        const start = starts[j];
        for (let r = 0; r < kk; r++) if (items[r] >= 0) take(start + items[r], scores[r]);
      }
    } finally {
      a.release(mark);
    }
  }
}

export class IvfIndex {
  readonly nItems: number;
  readonly dim: number;
  readonly nLists: number;
  readonly quantize: 'none' | 'int8';
  /** nLists × dim. */
  readonly centroids: Float32Array;
  /** Items of list l: listItems[listOffsets[l] .. listOffsets[l+1]). */
  readonly listOffsets: Int32Array;
  readonly listItems: Int32Array;
  /** Root-mean-square distance of each list's members to its centroid (the list-ranking bound). */
  readonly radii: Float32Array;
  /** Item vectors in list order (float32; null with int8, or when they live in wasm panels). */
  readonly vectors: Float32Array | null;
  private readonly panels: ListPanels | null;
  /** int8 codes in list order and one scale per position, or null. */
  readonly codes: Int8Array | null;
  readonly scales: Float32Array | null;
  /** The original vectors (item order), for exact re-scoring. */
  private readonly source: Float32Array;
  readonly buildSeconds: number;
  /**
   * Lists are ranked by q·c + w·‖q‖·r (r = the list's RMS radius): the Cauchy–Schwarz bound
   * q·x ≤ q·c + ‖q‖·‖x − c‖, damped. w = 0.5 found best on clustered vectors (test/serving/ann.test.ts:
   * recall@10 0.77 → 0.93 at 8 of 141 lists); 0 = FAISS's plain centroid ranking.
   */
  boundWeight = 0.5;

  private constructor(init: {
    nItems: number; dim: number; centroids: Float32Array; radii: Float32Array; listOffsets: Int32Array; listItems: Int32Array;
    vectors: Float32Array | null; panels: ListPanels | null; codes: Int8Array | null; scales: Float32Array | null; source: Float32Array; quantize: 'none' | 'int8'; buildSeconds: number;
  }) {
    this.nItems = init.nItems;
    this.dim = init.dim;
    this.centroids = init.centroids;
    this.radii = init.radii;
    this.nLists = init.listOffsets.length - 1;
    this.listOffsets = init.listOffsets;
    this.listItems = init.listItems;
    this.vectors = init.vectors;
    this.panels = init.panels;
    this.codes = init.codes;
    this.scales = init.scales;
    this.source = init.source;
    this.quantize = init.quantize;
    this.buildSeconds = init.buildSeconds;
  }

  /** Bytes held by the index itself (not counting the model's own vectors). */
  get byteSize(): number {
    return this.centroids.byteLength + this.listOffsets.byteLength + this.listItems.byteLength + (this.vectors?.byteLength ?? 0) + (this.panels?.byteSize ?? 0) + (this.codes?.byteLength ?? 0) + (this.scales?.byteLength ?? 0);
  }

  static async build(vectors: Float32Array, nItems: number, dim: number, opts: IvfOptions = {}): Promise<IvfIndex> {
    const t0 = performance.now();
    if (vectors.length < nItems * dim || nItems < 1 || dim < 1) {
      throw new RecsysError('RECSYS_ERR_USAGE', `IVF index: ${vectors.length} values cannot hold ${nItems} vectors of ${dim} dimensions`);
    }
    const nLists = Math.max(1, Math.min(nItems, opts.lists ?? Math.round(Math.sqrt(nItems))));
    const sampleSize = Math.min(nItems, opts.sample ?? Math.max(40 * nLists, 50000));
    const iterations = opts.iterations ?? 6;
    const threads = opts.threads ?? 2;
    const rng = new Rng(opts.seed ?? 42);
    const aug = dim + 1;

    // Seeded sample (partial Fisher–Yates over indexes).
    const perm = Int32Array.from({ length: nItems }, (_, i) => i);
    for (let i = 0; i < sampleSize; i++) {
      const j = i + rng.int(nItems - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    const sample = perm.subarray(0, sampleSize);
    const augment = (rows: Int32Array | null, n: number): Float32Array => {
      const out = new Float32Array(n * aug);
      for (let r = 0; r < n; r++) {
        const src = (rows ? rows[r] : r) * dim;
        out.set(vectors.subarray(src, src + dim), r * aug);
        out[r * aug + dim] = 1;
      }
      return out;
    };
    const sampleAug = augment(sample, sampleSize);
    const centroids = new Float32Array(nLists * dim);
    for (let c = 0; c < nLists; c++) centroids.set(vectors.subarray(sample[c] * dim, sample[c] * dim + dim), c * dim);
    const centroidsAug = new Float32Array(nLists * aug);
    const refreshAug = (): void => {
      for (let c = 0; c < nLists; c++) {
        let norm = 0;
        for (let d = 0; d < dim; d++) {
          const v = centroids[c * dim + d];
          centroidsAug[c * aug + d] = v;
          norm += v * v;
        }
        centroidsAug[c * aug + dim] = -norm / 2;
      }
    };
    const sums = new Float64Array(nLists * dim);
    const counts = new Int32Array(nLists);
    for (let it = 0; it < iterations; it++) {
      refreshAug();
      const assign = await argmaxInner(sampleAug, sampleSize, centroidsAug, nLists, aug, threads);
      sums.fill(0);
      counts.fill(0);
      for (let r = 0; r < sampleSize; r++) {
        const c = assign[r];
        counts[c]++;
        const src = sample[r] * dim;
        for (let d = 0; d < dim; d++) sums[c * dim + d] += vectors[src + d];
      }
      for (let c = 0; c < nLists; c++) {
        if (counts[c] === 0) {
          // An empty list restarts at a random sample point.
          const s = sample[rng.int(sampleSize)] * dim;
          centroids.set(vectors.subarray(s, s + dim), c * dim);
          continue;
        }
        for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] / counts[c];
      }
    }
    refreshAug();
    // Assign every item, in chunks (the augmented copy of 1M × 65 floats would be 260 MB at once).
    const assignment = new Int32Array(nItems);
    const CHUNK = 131072;
    for (let start = 0; start < nItems; start += CHUNK) {
      const n = Math.min(CHUNK, nItems - start);
      const rows = Int32Array.from({ length: n }, (_, r) => start + r);
      assignment.set(await argmaxInner(augment(rows, n), n, centroidsAug, nLists, aug, threads), start);
    }
    const listOffsets = new Int32Array(nLists + 1);
    for (let i = 0; i < nItems; i++) listOffsets[assignment[i] + 1]++;
    for (let c = 0; c < nLists; c++) listOffsets[c + 1] += listOffsets[c];
    const cursor = listOffsets.slice(0, nLists);
    const listItems = new Int32Array(nItems);
    for (let i = 0; i < nItems; i++) listItems[cursor[assignment[i]]++] = i;

    const radii = new Float32Array(nLists);
    for (let c = 0; c < nLists; c++) {
      let sum = 0;
      for (let p = listOffsets[c]; p < listOffsets[c + 1]; p++) {
        const o = listItems[p] * dim;
        for (let d = 0; d < dim; d++) {
          const e = vectors[o + d] - centroids[c * dim + d];
          sum += e * e;
        }
      }
      const size = listOffsets[c + 1] - listOffsets[c];
      radii[c] = size > 0 ? Math.sqrt(sum / size) : 0;
    }
    const quantize = opts.quantize ?? 'none';
    let ordered: Float32Array | null = null;
    let codes: Int8Array | null = null;
    let scales: Float32Array | null = null;
    if (quantize === 'int8') {
      codes = new Int8Array(nItems * dim);
      scales = new Float32Array(nItems);
      for (let p = 0; p < nItems; p++) {
        const src = listItems[p] * dim;
        let max = 0;
        for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(vectors[src + d]));
        const s = max > 0 ? max / 127 : 0;
        scales[p] = s;
        for (let d = 0; d < dim; d++) codes[p * dim + d] = s > 0 ? Math.round(vectors[src + d] / s) : 0;
      }
    } else {
      ordered = new Float32Array(nItems * dim);
      for (let p = 0; p < nItems; p++) ordered.set(vectors.subarray(listItems[p] * dim, listItems[p] * dim + dim), p * dim);
    }
    const module = quantize === 'none' && opts.wasm !== false ? alsKernelModule() : null;
    const panels = module && ordered ? new ListPanels(module, ordered, listOffsets, dim) : null;
    if (panels) ordered = null;
    return new IvfIndex({ nItems, dim, centroids, radii, listOffsets, listItems, vectors: ordered, panels, codes, scales, source: vectors, quantize, buildSeconds: (performance.now() - t0) / 1000 });
  }

  search(query: Float32Array, k: number, opts: IvfSearchOptions): IvfSearchResult {
    const { dim } = this;
    const probes = Math.max(1, Math.min(this.nLists, opts.probes));
    const exclude = opts.exclude && opts.exclude.length > 0 ? opts.exclude : null;
    const allow = opts.allow ?? null;
    // 1. The best lists by centroid score.
    const lists = new TopK(probes);
    const C = this.centroids;
    let qNorm = 0;
    for (let d = 0; d < dim; d++) qNorm += query[d] * query[d];
    qNorm = Math.sqrt(qNorm);
    for (let c = 0; c < this.nLists; c++) {
      let s = 0;
      const o = c * dim;
      for (let d = 0; d < dim; d++) s += query[d] * C[o + d];
      lists.push(c, s + this.boundWeight * qNorm * this.radii[c]);
    }
    const probeIds = new Int32Array(probes);
    const probeScores = new Float32Array(probes);
    const nProbe = lists.drainInto(probeIds, probeScores, 0);
    // 2. Scan them.
    const keep = this.quantize === 'int8' ? Math.max(opts.rerank ?? 4 * k, 50, k) : k;
    const heap = new TopK(keep);
    let scanned = 0;
    const V = this.vectors;
    const Q8 = this.codes;
    const S = this.scales;
    if (this.panels) {
      // Over-fetch by the exclusions (they are filtered here, not in the kernel), or the whole list with a filter.
      const extra = exclude ? exclude.length : 0;
      const starts = new Int32Array(nProbe);
      const sizes = new Int32Array(nProbe);
      for (let j = 0; j < nProbe; j++) {
        starts[j] = this.listOffsets[probeIds[j]];
        sizes[j] = this.listOffsets[probeIds[j] + 1] - starts[j];
        scanned += sizes[j];
      }
      this.panels.scanLists(query, probeIds, nProbe, starts, sizes, (n) => (allow ? n : keep + extra), (listPos, score) => {
        const item = this.listItems[listPos];
        if (exclude && containsSorted(exclude, item)) return;
        if (allow && !allow(item)) return;
        heap.push(item, score);
      });
    }
    for (let j = 0; j < nProbe && !this.panels; j++) {
      const l = probeIds[j];
      for (let p = this.listOffsets[l]; p < this.listOffsets[l + 1]; p++) {
        const item = this.listItems[p];
        if (exclude && containsSorted(exclude, item)) continue;
        if (allow && !allow(item)) continue;
        let s = 0;
        const o = p * dim;
        if (V) {
          for (let d = 0; d < dim; d++) s += query[d] * V[o + d];
        } else {
          for (let d = 0; d < dim; d++) s += query[d] * Q8![o + d];
          s *= S![p];
        }
        scanned++;
        heap.push(item, s);
      }
    }
    const items = new Int32Array(keep);
    const scores = new Float32Array(keep);
    const n = heap.drainInto(items, scores, 0);
    if (this.quantize !== 'int8') return { items: items.slice(0, Math.min(n, k)), scores: scores.slice(0, Math.min(n, k)), scanned };
    // 3. int8: exact float32 scores for the candidates, then the top k.
    const exact = new TopK(k);
    for (let r = 0; r < n; r++) {
      const o = items[r] * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += query[d] * this.source[o + d];
      exact.push(items[r], s);
    }
    const outItems = new Int32Array(k);
    const outScores = new Float32Array(k);
    const m = exact.drainInto(outItems, outScores, 0);
    return { items: outItems.slice(0, m), scores: outScores.slice(0, m), scanned };
  }
}

/** Mean |approx ∩ exact| / |exact| over queries (recall@k of an approximate list against the exact one). */
export function recallAtK(approx: readonly Int32Array[], exact: readonly Int32Array[]): number {
  let total = 0;
  let n = 0;
  for (let q = 0; q < exact.length; q++) {
    const truth = new Set(Array.from(exact[q]).filter((i) => i >= 0));
    if (truth.size === 0) continue;
    let hit = 0;
    for (const i of approx[q]) if (truth.has(i)) hit++;
    total += hit / truth.size;
    n++;
  }
  return n > 0 ? total / n : 0;
}
