/**
 * Content-based recommender: items are described by their catalogue features, users by the items
 * they interacted with (Pazzani & Billsus, "Content-Based Recommendation Systems", The Adaptive Web,
 * 2007; the seed design's `recommend_content_based`).
 *
 *   x_i      = the item's feature vector (features/featurizer.ts: TF-IDF text, one-hot category and
 *              brand, price bucket, JSON attributes; unit L2 norm), or with embedding=svd its
 *              randomized-SVD embedding x_i V_k, re-normalised (features/svd.ts)
 *   w_uj     = h(r_uj) · 2^(−(t_ref − t_uj)/halfLife)      h = 1 (binary), r (value) or 1 + ln(1 + r) (log);
 *              the recency factor only with recencyHalfLifeDays > 0 and timestamps
 *   p_u      = Σ_j w_uj x_j / Σ_j w_uj                      (weighted mean over the user's history)
 *   score_ui = cos(p_u, x_i) = p_u · x_i / ‖p_u‖            (x_i is unit norm; 0 for an item without features)
 *
 * Top-k with the requested exclusions; ties by the smaller item index (topk.ts). Interaction types
 * are weighted when the matrix is built (MatrixOptions.weights), so w_uj sees the combined value.
 * Sparse vectors are scored in plain TypeScript, O(nnz of the item vectors) per user; dense svd
 * embeddings go through the ALS top-k kernels (als/scoring.ts: wasm SIMD panels, the worker pool for
 * large batches), since a profile is just a query vector there.
 *
 * Cold start: an item with no interactions is scored like any other from its features, so it can be
 * recommended right away; `addItems(rows)` adds (or re-describes) products after fit with the
 * fitted vocabulary/idf/buckets, no retraining; `recommendForHistory(items)` builds a profile from
 * 1–3 interactions of a user the model has never seen; a user with no usable history (no
 * interactions, or only items without features) gets the fallback list (popularity, or trending
 * with fallback=trending, from the training matrix) and the result says which strategy answered.
 *
 * The model never reads the store: item features arrive through `setCatalog(rows)` before fit (the
 * train workflow loads them from the products table; `contentFactory.needsCatalog` says so).
 * Saved as an artifact: item vectors (CSR) or embeddings, the users' weighted histories (CSR), the
 * fallback scores, and the featurizer state (vocabulary, idf, category/brand values, price edges,
 * attribute spec), so a loaded model can featurize new products identically.
 */
import { availableParallelism } from 'node:os';
import { RecsysError } from '../errors.js';
import { IdMap, type InteractionMatrix } from '../data/matrix.js';
import { loadArtifact, saveArtifact } from '../artifacts.js';
import { TopK, topKDense } from '../topk.js';
import { resolveParams, type ParamsOf } from './params.js';
import { Popularity } from './popularity.js';
import type { FitOptions, FitReport, ModelFactory, Progress, Rankings, Recommender, RecommendOptions } from './recommender.js';
import { encodeItemTexts, Featurizer, type CatalogItem, type DeepPartialConfig, type FeaturizeReport } from '../features/featurizer.js';
import { replaceRows, SparseBuilder, vstack, type SparseMatrix } from '../features/sparse.js';
import { normalizeDenseRows, projectSparse, randomizedSvd, type SvdResult } from '../features/svd.js';
import type { TextEncoder } from '../features/text-encoder.js';
import type { AttributeSpec } from '../features/encode.js';
import { alsKernelModule } from './als/kernels.js';
import { alsPool } from './als/pool.js';
import { PanelScorer, topkJs, topkWasm, type TopkRequest, type TopkResult } from './als/scoring.js';
import { paddedRank } from './als/solver-reference.js';

export type { CatalogItem } from '../features/featurizer.js';

export const CONTENT_PARAMS = {
  textWeight: { type: 'number', default: 1, min: 0, description: 'weight of the TF-IDF text block (title + description)' },
  categoryWeight: { type: 'number', default: 0.5, min: 0, description: 'weight of the one-hot category block' },
  brandWeight: { type: 'number', default: 0.5, min: 0, description: 'weight of the one-hot brand block' },
  priceWeight: { type: 'number', default: 0.25, min: 0, description: 'weight of the price-bucket block' },
  attributesWeight: { type: 'number', default: 0.5, min: 0, description: 'weight of the JSON attributes block (features column: categorical multi-hot, numeric z-scores)' },
  minDf: { type: 'int', default: 2, min: 1, description: 'tf-idf: fewest products a term must appear in (a term of one product cannot make two products similar)' },
  maxDfRatio: { type: 'number', default: 1, min: 0.000001, max: 1, description: 'tf-idf: terms in more than this share of products are dropped' },
  maxFeatures: { type: 'int', default: 262144, min: 1, description: 'tf-idf: most terms kept (by document frequency)' },
  stem: { type: 'boolean', default: true, description: 'Porter-stem English words' },
  priceBuckets: { type: 'int', default: 10, min: 1, max: 1000, description: 'number of quantile price buckets' },
  embedding: { type: 'enum', values: ['sparse', 'svd'], default: 'sparse', description: 'sparse = cosine on the feature vectors; svd = dense randomized-SVD embeddings of them' },
  dimensions: { type: 'int', default: 128, min: 1, max: 4096, description: 'svd only: embedding size' },
  svdPowerIterations: { type: 'int', default: 2, min: 0, max: 20, description: 'svd only: power iterations of the randomized SVD' },
  seed: { type: 'int', default: 42, min: 0, description: 'svd only: seed of the random projection' },
  historyWeighting: { type: 'enum', values: ['binary', 'value', 'log'], default: 'binary', description: 'weight of a history item in the profile: 1, the interaction value, or 1+ln(1+value)' },
  recencyHalfLifeDays: { type: 'number', default: 0, min: 0, description: 'halve a history item\'s weight every this many days before the newest training event (0 = no decay)' },
  fallback: { type: 'enum', values: ['popularity', 'trending'], default: 'popularity', description: 'list for users with no usable history: all-time popularity or trending (needs timestamps)' },
} as const;

export type ContentParams = ParamsOf<typeof CONTENT_PARAMS>;

/** Which strategy produced a user's list. */
export type Strategy = 'content' | 'popularity';
export const STRATEGIES: readonly Strategy[] = ['content', 'popularity'];
const CONTENT = 0;
const POPULARITY = 1;

export interface ContentOptions {
  /** Featurizer settings beyond the params (attribute include/exclude, textAttributes, tf-idf details). */
  featurizer?: DeepPartialConfig;
  /** A sentence encoder for the text block instead of TF-IDF (features/text-encoder.ts). */
  textEncoder?: TextEncoder;
}

export interface ContentFitReport extends FitReport {
  items: number;
  /** Matrix items that had no catalogue row (their vectors are empty: they score 0). */
  itemsWithoutCatalogRow: number;
  /** Catalogue rows whose product is not in the matrix (used for the vocabulary, not recommendable until addItems). */
  catalogRowsNotInMatrix: number;
  /** Items whose feature vector is empty. */
  emptyItems: number;
  dimensions: number;
  nnz: number;
  featurize: Omit<FeaturizeReport, 'blocks'> & { blocks: FeaturizeReport['blocks'] };
  svd: { k: number; seconds: number; topSingularValues: number[] } | null;
}

/** Rankings plus, per row, which strategy answered (index into STRATEGIES). */
export interface DetailedRankings extends Rankings {
  readonly strategy: Uint8Array;
}

export interface HistoryRecommendation {
  items: Int32Array;
  scores: Float32Array;
  strategy: Strategy;
}

export interface HistoryOptions {
  /** Leave the history items out of the list (default true). */
  excludeHistory?: boolean;
  /** More item indexes to leave out. */
  exclude?: ReadonlySet<number> | null;
}

export interface AddItemsResult {
  added: number;
  updated: number;
  /** Item index of each given row. */
  itemIndexes: Int32Array;
}

interface History {
  indptr: Int32Array;
  items: Int32Array;
  weights: Float32Array;
}

const DAY_SECONDS = 86400;
/** Batches up to this many queries are scored in the calling thread (as ALS does). */
const SMALL_BATCH = 256;

export class ContentModel implements Recommender {
  readonly name = 'content';
  readonly params: ContentParams;
  userIds: IdMap | null = null;
  itemIds: IdMap | null = null;
  featurizer: Featurizer | null = null;
  /** Sparse item vectors (embedding=sparse), rows follow itemIds. */
  itemVectors: SparseMatrix | null = null;
  /** Dense unit-norm item embeddings, items × svd.k (embedding=svd). */
  itemEmbeddings: Float32Array | null = null;
  svd: SvdResult | null = null;
  /** Fallback score per item (training popularity or trending); items added later get 0. */
  fallbackScores: Float32Array = new Float32Array(0);
  lastFit: ContentFitReport | null = null;
  private readonly options: ContentOptions;
  private catalog: ReadonlyMap<string, CatalogItem> | null = null;
  private history: History = { indptr: new Int32Array(1), items: new Int32Array(0), weights: new Float32Array(0) };
  private fallbackOrder: Int32Array = new Int32Array(0);
  /** Name of the text encoder used at fit (restored on load; the encoder itself must be given again). */
  private textEncoderName: string | null = null;
  private scratch: Float64Array = new Float64Array(0);
  /** embedding=svd: the ALS wasm panels of the item embeddings, for small batches (rebuilt after addItems). */
  private panelScorer: PanelScorer | null = null;

  constructor(params: Partial<Record<keyof ContentParams, unknown>> = {}, options: ContentOptions = {}) {
    this.params = resolveParams('content', CONTENT_PARAMS, params);
    this.options = options;
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  /**
   * The product rows the model featurizes (call before fit). Rows are matched to the matrix items by
   * productId; the vocabulary, idf, buckets and attribute statistics are learned from all of them.
   */
  setCatalog(rows: Iterable<CatalogItem>): void {
    const map = new Map<string, CatalogItem>();
    for (const row of rows) map.set(row.productId, row);
    this.catalog = map;
  }

  /** The featurizer config the params (and constructor options) ask for. */
  featurizerConfig(): DeepPartialConfig {
    const p = this.params;
    const extra = this.options.featurizer ?? {};
    return {
      ...extra,
      weights: { text: p.textWeight, category: p.categoryWeight, brand: p.brandWeight, price: p.priceWeight, attributes: p.attributesWeight },
      tfidf: { ...(extra.tfidf ?? {}), minDf: p.minDf, maxDfRatio: p.maxDfRatio, maxFeatures: p.maxFeatures },
      tokenizer: { ...(extra.tokenizer ?? {}), stem: p.stem },
      priceBuckets: p.priceBuckets,
      textSource: this.options.textEncoder ? 'encoder' : 'tfidf',
    };
  }

  async fit(data: InteractionMatrix, opts: FitOptions = {}): Promise<ContentFitReport> {
    const t0 = performance.now();
    if (!this.catalog) {
      throw new RecsysError(
        'RECSYS_ERR_MODEL_FIT',
        'the content model needs product features: call setCatalog(products) before fit(). `recsys train --model content` loads them from the store\'s products table; ingest a products file first (recsys ingest --table products).',
      );
    }
    if (data.nItems === 0) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'cannot train the content model on a matrix with no items. Check the ingested data and the split.');
    }
    const progress = opts.progress;
    // Rows in item order first (their vectors are kept), then catalogue-only rows (vocabulary only).
    const rows: CatalogItem[] = [];
    const hasRow = new Uint8Array(data.nItems);
    let itemsWithoutCatalogRow = 0;
    for (let i = 0; i < data.nItems; i++) {
      const row = this.catalog.get(data.items.idOf(i));
      if (row) {
        rows.push(row);
        hasRow[i] = 1;
      } else {
        rows.push({ productId: data.items.idOf(i) });
        itemsWithoutCatalogRow++;
      }
    }
    let catalogRowsNotInMatrix = 0;
    for (const [id, row] of this.catalog) {
      if (data.items.indexOf(id) < 0) {
        rows.push(row);
        catalogRowsNotInMatrix++;
      }
    }
    // Items without a catalogue row are featurized as empty rows; keep them out of the learned statistics.
    const fitRows = itemsWithoutCatalogRow > 0 ? rows.filter((_, r) => r >= data.nItems || hasRow[r] === 1) : rows;
    const textVectors = this.options.textEncoder ? await encodeItemTexts(this.options.textEncoder, fitRows, this.featurizerConfig().textAttributes ?? []) : undefined;
    const fitted = Featurizer.fit(fitRows, this.featurizerConfig(), { progress, textVectors });
    this.featurizer = fitted.featurizer;
    this.textEncoderName = this.options.textEncoder?.name ?? null;
    // Scatter the fitted rows back to item order (items without a row stay empty).
    const vectors = scatterRows(fitted.vectors, hasRow, itemsWithoutCatalogRow > 0);
    this.itemIds = data.items;
    this.userIds = data.users;

    let svdReport: ContentFitReport['svd'] = null;
    if (this.params.embedding === 'svd') {
      const ts = performance.now();
      this.svd = randomizedSvd(vectors, { dimensions: this.params.dimensions, powerIterations: this.params.svdPowerIterations, seed: this.params.seed }, progress);
      this.itemEmbeddings = projectSparse(vectors, this.svd);
      normalizeDenseRows(this.itemEmbeddings, this.svd.k);
      this.itemVectors = null;
      svdReport = { k: this.svd.k, seconds: (performance.now() - ts) / 1000, topSingularValues: Array.from(this.svd.singularValues.subarray(0, 5)) };
    } else {
      this.itemVectors = vectors;
      this.itemEmbeddings = null;
      this.svd = null;
    }

    this.history = buildHistory(data, this.params);
    await this.fitFallback(data);

    let emptyItems = 0;
    for (let i = 0; i < data.nItems; i++) if (!this.hasFeatures(i)) emptyItems++;
    const { blocks, ...featurize } = fitted.report;
    const report: ContentFitReport = {
      model: this.name,
      seconds: (performance.now() - t0) / 1000,
      items: data.nItems,
      itemsWithoutCatalogRow,
      catalogRowsNotInMatrix,
      emptyItems,
      dimensions: this.svd ? this.svd.k : vectors.nCols,
      nnz: vectors.indices.length,
      featurize: { ...featurize, blocks },
      svd: svdReport,
    };
    this.lastFit = report;
    return report;
  }

  /** The fallback list is the spine's popularity model (count or trending) fitted on the same matrix. */
  private async fitFallback(data: InteractionMatrix): Promise<void> {
    const pop = new Popularity({ mode: this.params.fallback === 'trending' ? 'trending' : 'count' });
    if (this.params.fallback === 'trending' && !data.lastSeen) {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', 'fallback=trending needs timestamps, and this dataset has none. Use --param fallback=popularity, or ingest a time column (--time-col).', { flag: '--param', param: 'fallback' });
    }
    await pop.fit(data);
    this.setFallbackScores(Float32Array.from(pop.itemScores));
  }

  private setFallbackScores(scores: Float32Array): void {
    this.fallbackScores = scores;
    const order = Int32Array.from({ length: scores.length }, (_, i) => i);
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    this.fallbackOrder = order;
  }

  private requireFitted(what: string): void {
    if (!this.itemIds || !this.userIds || (!this.itemVectors && !this.itemEmbeddings)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `cannot ${what} with an unfitted content model: call setCatalog() and fit() first, or load a trained model`);
    }
  }

  /** Whether item i has a non-empty feature vector. */
  hasFeatures(item: number): boolean {
    if (this.itemVectors) return this.itemVectors.indptr[item + 1] > this.itemVectors.indptr[item];
    if (this.itemEmbeddings && this.svd) {
      const k = this.svd.k;
      for (let j = 0; j < k; j++) if (this.itemEmbeddings[item * k + j] !== 0) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // Profiles and scoring
  // ------------------------------------------------------------------------------------------

  private profileSize(): number {
    return this.itemVectors ? this.itemVectors.nCols : (this.svd?.k ?? 0);
  }

  /**
   * Writes the unit-norm profile of a weighted item list into `out` (zeroed first); returns false
   * when it is empty (no items, zero weights, or only items without features).
   */
  private profileInto(items: ArrayLike<number>, weights: ArrayLike<number> | null, out: Float64Array): boolean {
    out.fill(0);
    let total = 0;
    const n = this.nItems;
    for (let j = 0; j < items.length; j++) {
      const i = items[j];
      if (i < 0 || i >= n) continue;
      const w = weights ? weights[j] : 1;
      if (!(w > 0)) continue;
      total += w;
      if (this.itemVectors) {
        const m = this.itemVectors;
        for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) out[m.indices[p]] += w * m.values[p];
      } else if (this.itemEmbeddings && this.svd) {
        const k = this.svd.k;
        const e = this.itemEmbeddings;
        for (let d = 0; d < k; d++) out[d] += w * e[i * k + d];
      }
    }
    if (total === 0) return false;
    // Mean then unit norm: the mean is the documented profile, the norm makes scores cosines.
    let norm = 0;
    for (let d = 0; d < out.length; d++) {
      out[d] /= total;
      norm += out[d] * out[d];
    }
    if (!(norm > 0)) return false;
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < out.length; d++) out[d] *= inv;
    return true;
  }

  /** cos(profile, x_i) for every item into `scores`. */
  private scoreAll(profile: Float64Array, scores: Float32Array): void {
    if (this.itemVectors) {
      const { indptr, indices, values } = this.itemVectors;
      for (let i = 0; i < scores.length; i++) {
        let s = 0;
        for (let p = indptr[i]; p < indptr[i + 1]; p++) s += values[p] * profile[indices[p]];
        scores[i] = s;
      }
    } else if (this.itemEmbeddings && this.svd) {
      const k = this.svd.k;
      const e = this.itemEmbeddings;
      for (let i = 0; i < scores.length; i++) {
        let s = 0;
        const o = i * k;
        for (let d = 0; d < k; d++) s += e[o + d] * profile[d];
        scores[i] = s;
      }
    }
  }

  private scoreSome(profile: Float64Array, items: Int32Array, out: Float32Array): void {
    const n = this.nItems;
    for (let j = 0; j < items.length; j++) {
      const i = items[j];
      if (i < 0 || i >= n) {
        out[j] = -Infinity;
        continue;
      }
      let s = 0;
      if (this.itemVectors) {
        const m = this.itemVectors;
        for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) s += m.values[p] * profile[m.indices[p]];
      } else if (this.itemEmbeddings && this.svd) {
        const k = this.svd.k;
        for (let d = 0; d < k; d++) s += this.itemEmbeddings[i * k + d] * profile[d];
      }
      out[j] = s;
    }
  }

  private profileScratch(): Float64Array {
    const size = this.profileSize();
    if (this.scratch.length !== size) this.scratch = new Float64Array(size);
    return this.scratch;
  }

  private userProfile(user: number, out: Float64Array): boolean {
    if (user < 0 || user >= this.history.indptr.length - 1) return false;
    const h = this.history;
    const start = h.indptr[user];
    const end = h.indptr[user + 1];
    return this.profileInto(h.items.subarray(start, end), h.weights.subarray(start, end), out);
  }

  /** Fallback list into items/scores at row offset: the fallback order minus exclusions. */
  private fallbackInto(k: number, items: Int32Array, scores: Float32Array, offset: number, excludeRow: Int32Array | null, excludeSet: ReadonlySet<number> | null): void {
    const order = this.fallbackOrder;
    let w = 0;
    for (let j = 0; j < order.length && w < k; j++) {
      const item = order[j];
      if (excludeRow && sortedHas(excludeRow, item)) continue;
      if (excludeSet && excludeSet.has(item)) continue;
      items[offset + w] = item;
      scores[offset + w] = this.fallbackScores[item];
      w++;
    }
    for (; w < k; w++) {
      items[offset + w] = -1;
      scores[offset + w] = -Infinity;
    }
  }

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    const { strategy: _strategy, ...rankings } = await this.recommendDetailed(users, k, opts);
    return rankings;
  }

  /** Like recommend, plus which strategy answered each row ('content', or 'popularity' for users without usable history). */
  async recommendDetailed(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<DetailedRankings> {
    this.requireFitted('recommend');
    const K = Math.max(0, Math.floor(k));
    const items = new Int32Array(users.length * K).fill(-1);
    const scores = new Float32Array(users.length * K).fill(-Infinity);
    const strategy = new Uint8Array(users.length);
    const profile = this.profileScratch();
    const exclude = opts.exclude ?? null;
    const excludeRowOf = (u: number): Int32Array | null =>
      exclude && u >= 0 && u < exclude.indptr.length - 1 ? exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]) : null;
    if (this.itemEmbeddings && this.svd) {
      // Dense embeddings: profiles become queries for the ALS top-k kernels (same tie rule).
      const k = this.svd.k;
      const rows: number[] = [];
      const queries: number[] = [];
      const exclusions: Array<Int32Array | null> = [];
      for (let r = 0; r < users.length; r++) {
        const u = users[r];
        const extra = opts.excludeSets?.[r] ?? null;
        if (!this.userProfile(u, profile)) {
          strategy[r] = POPULARITY;
          this.fallbackInto(K, items, scores, r * K, excludeRowOf(u), extra);
          continue;
        }
        rows.push(r);
        for (let d = 0; d < k; d++) queries.push(profile[d]);
        exclusions.push(mergeExclusions(excludeRowOf(u), extra));
      }
      if (rows.length > 0 && K > 0) {
        const res = await this.embeddingTopk(Float32Array.from(queries), rows.length, K, exclusions);
        rows.forEach((r, q) => {
          items.set(res.items.subarray(q * K, q * K + K), r * K);
          scores.set(res.scores.subarray(q * K, q * K + K), r * K);
        });
      }
      return { users, k: K, items, scores, strategy };
    }
    const all = new Float32Array(this.nItems);
    const heap = new TopK(K);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const excludeRow = excludeRowOf(u);
      const extra = opts.excludeSets?.[r] ?? null;
      if (!this.userProfile(u, profile)) {
        strategy[r] = POPULARITY;
        this.fallbackInto(K, items, scores, r * K, excludeRow, extra);
        continue;
      }
      strategy[r] = CONTENT;
      this.scoreAll(profile, all);
      topKDense(all, heap, { items, scores, offset: r * K }, excludeRow, extra);
    }
    return { users, k: K, items, scores, strategy };
  }

  /**
   * Top-k of nQ dense queries (rows of `queries`, svd.k wide) against the item embeddings, reusing
   * the ALS scoring kernels: WebAssembly SIMD panels in this thread for small batches, the ALS worker
   * pool for large ones, plain TypeScript when the wasm kernels are not built.
   */
  private embeddingTopk(queries: Float32Array, nQ: number, K: number, exclusions: Array<Int32Array | null>): Promise<TopkResult> | TopkResult {
    const svd = this.svd as SvdResult;
    const k = svd.k;
    const kp = paddedRank(k);
    const embeddings = this.itemEmbeddings as Float32Array;
    let exclusionSize = 0;
    for (const e of exclusions) exclusionSize += e?.length ?? 0;
    const req: TopkRequest = {
      nQueries: nQ,
      nItems: this.nItems,
      kp,
      K,
      items: embeddings,
      itemStride: k,
      factors: k,
      exclusionSize,
      writeQueries(dst) {
        for (let q = 0; q < nQ; q++) for (let d = 0; d < k; d++) dst[q * kp + d] = queries[q * k + d];
      },
      writeExclusion(indptr, indices) {
        let w = 0;
        indptr[0] = 0;
        for (let q = 0; q < nQ; q++) {
          const e = exclusions[q];
          if (e) {
            indices.set(e, w);
            w += e.length;
          }
          indptr[q + 1] = w;
        }
      },
    };
    const module = alsKernelModule();
    if (!module) return topkJs(req);
    if (nQ <= SMALL_BATCH) {
      this.panelScorer ??= new PanelScorer(module, embeddings, k, k, this.nItems, kp);
      return this.panelScorer.topk(req);
    }
    return topkWasm(alsPool(), req, Math.max(1, availableParallelism()));
  }

  /** The strategy name of row r of a DetailedRankings. */
  static strategyOf(r: DetailedRankings, row: number): Strategy {
    return STRATEGIES[r.strategy[row]];
  }

  score(user: number, items: Int32Array): Float32Array {
    this.requireFitted('score');
    const out = new Float32Array(items.length);
    const profile = this.profileScratch();
    if (!this.userProfile(user, profile)) {
      for (let j = 0; j < items.length; j++) out[j] = items[j] >= 0 && items[j] < this.nItems ? this.fallbackScores[items[j]] : -Infinity;
      return out;
    }
    this.scoreSome(profile, items, out);
    return out;
  }

  /**
   * Top-k for a history the model has not stored (a new user's first 1–3 interactions, a live
   * session): profile = weighted mean of the items' vectors. Empty or featureless history →
   * the fallback list, and `strategy` says so.
   */
  recommendForHistory(history: Int32Array, weights: Float32Array | null, k: number, opts: HistoryOptions = {}): HistoryRecommendation {
    this.requireFitted('recommend');
    if (weights && weights.length !== history.length) {
      throw new RecsysError('RECSYS_ERR_USAGE', `recommendForHistory: ${history.length} items but ${weights.length} weights; give one weight per item (or null for equal weights)`);
    }
    const K = Math.max(0, Math.floor(k));
    const items = new Int32Array(K).fill(-1);
    const scores = new Float32Array(K).fill(-Infinity);
    const excludeHistory = opts.excludeHistory ?? true;
    const excludeRow = excludeHistory ? Int32Array.from(history).filter((i) => i >= 0).sort() : null;
    const extra = opts.exclude ?? null;
    const profile = this.profileScratch();
    if (!this.profileInto(history, weights, profile)) {
      this.fallbackInto(K, items, scores, 0, excludeRow, extra);
      return { items, scores, strategy: 'popularity' };
    }
    if (this.itemEmbeddings && this.svd) {
      // Synchronous on purpose (serving one user): the in-thread wasm panels, or plain TypeScript.
      const res = this.embeddingTopk(Float32Array.from(profile), 1, K, [mergeExclusions(excludeRow, extra)]);
      if (res instanceof Promise) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'internal: a one-query top-k went to the worker pool');
      return { items: res.items, scores: res.scores, strategy: 'content' };
    }
    const all = new Float32Array(this.nItems);
    this.scoreAll(profile, all);
    topKDense(all, new TopK(K), { items, scores, offset: 0 }, excludeRow, extra);
    return { items, scores, strategy: 'content' };
  }

  /** recommendForHistory with external product ids; unknown ids are skipped and returned. */
  recommendForHistoryIds(productIds: readonly string[], weights: readonly number[] | null, k: number, opts: HistoryOptions = {}): HistoryRecommendation & { ids: string[]; unknownIds: string[] } {
    this.requireFitted('recommend');
    const ids = this.itemIds as IdMap;
    const known: number[] = [];
    const knownWeights: number[] = [];
    const unknownIds: string[] = [];
    productIds.forEach((id, j) => {
      const i = ids.indexOf(id);
      if (i < 0) unknownIds.push(id);
      else {
        known.push(i);
        knownWeights.push(weights ? weights[j] : 1);
      }
    });
    const rec = this.recommendForHistory(Int32Array.from(known), Float32Array.from(knownWeights), k, opts);
    return { ...rec, ids: Array.from(rec.items, (i) => (i >= 0 ? ids.idOf(i) : '')).filter((s) => s !== ''), unknownIds };
  }

  /**
   * The k items most similar to each given item (cosine of the item vectors), the item itself left
   * out. Rows of items without features (or out of range) are empty (-1). Row r is `items[r]`'s list;
   * the Rankings' `users` field holds the query items.
   */
  async similarItems(items: Int32Array, k: number): Promise<Rankings> {
    this.requireFitted('find similar items');
    const K = Math.max(0, Math.floor(k));
    const outItems = new Int32Array(items.length * K).fill(-1);
    const outScores = new Float32Array(items.length * K).fill(-Infinity);
    const profile = this.profileScratch();
    if (this.itemEmbeddings && this.svd) {
      const k = this.svd.k;
      const rows: number[] = [];
      const queries = new Float32Array(items.length * k);
      const exclusions: Array<Int32Array | null> = [];
      for (let r = 0; r < items.length; r++) {
        const i = items[r];
        if (i < 0 || i >= this.nItems || !this.hasFeatures(i)) continue;
        queries.set(this.itemEmbeddings.subarray(i * k, i * k + k), rows.length * k);
        rows.push(r);
        exclusions.push(Int32Array.of(i));
      }
      if (rows.length > 0 && K > 0) {
        const res = await this.embeddingTopk(queries, rows.length, K, exclusions);
        rows.forEach((r, q) => {
          outItems.set(res.items.subarray(q * K, q * K + K), r * K);
          outScores.set(res.scores.subarray(q * K, q * K + K), r * K);
        });
      }
      return { users: items, k: K, items: outItems, scores: outScores };
    }
    const all = new Float32Array(this.nItems);
    const heap = new TopK(K);
    const one = new Int32Array(1);
    for (let r = 0; r < items.length; r++) {
      const i = items[r];
      one[0] = i;
      if (i < 0 || i >= this.nItems || !this.profileInto(one, null, profile)) continue;
      this.scoreAll(profile, all);
      topKDense(all, heap, { items: outItems, scores: outScores, offset: r * K }, one);
    }
    return { users: items, k: K, items: outItems, scores: outScores };
  }

  /** Cosine similarity of two items (0 when either has no features). */
  itemSimilarity(a: number, b: number): number {
    this.requireFitted('compare items');
    const profile = this.profileScratch();
    if (!this.profileInto(Int32Array.of(a), null, profile)) return 0;
    const out = new Float32Array(1);
    this.scoreSome(profile, Int32Array.of(b), out);
    return out[0];
  }

  // ------------------------------------------------------------------------------------------
  // Cold start: new items and new interactions without refitting
  // ------------------------------------------------------------------------------------------

  /**
   * Adds products after fit (or re-describes known ones) with the fitted featurizer: unseen
   * productIds get new item indexes at the end (itemIds grows), known ones get their vectors
   * replaced. Unknown terms/categories are ignored, as in any transform. No refit: the users'
   * profiles are unchanged and the new items are scored from the next call on.
   * `onlyNew` skips rows whose productId the model already knows (`recsys train --incremental`:
   * pass the whole products table, only the new products are featurized); their itemIndexes are
   * still filled in.
   */
  async addItems(rows: readonly CatalogItem[], opts: { onlyNew?: boolean; progress?: Progress } = {}): Promise<AddItemsResult> {
    this.requireFitted('add items');
    if (opts.onlyNew) {
      const known = this.itemIds as IdMap;
      const fresh = rows.filter((row) => known.indexOf(row.productId) < 0);
      const res = await this.addItems(fresh, { progress: opts.progress });
      const ids = this.itemIds as IdMap;
      return { added: res.added, updated: 0, itemIndexes: Int32Array.from(rows, (row) => ids.indexOf(row.productId)) };
    }
    const progress = opts.progress;
    const featurizer = this.featurizer as Featurizer;
    let textVectors: Float32Array | undefined;
    if (featurizer.needsTextVectors) {
      if (!this.options.textEncoder) {
        throw new RecsysError('RECSYS_ERR_USAGE', `this content model embeds text with ${this.textEncoderName ?? 'a text encoder'}; load it with ContentModel.load(dir, { textEncoder }) to add items`);
      }
      textVectors = await encodeItemTexts(this.options.textEncoder, rows, featurizer.config.textAttributes);
    }
    const ids = this.itemIds as IdMap;
    // Last row wins when one productId is given twice.
    const lastRowOf = new Map<string, number>();
    rows.forEach((row, r) => lastRowOf.set(row.productId, r));
    const itemIndexes = new Int32Array(rows.length);
    const newIds: string[] = [];
    const updatedRows: number[] = [];
    const updatedItems: number[] = [];
    const addedRows: number[] = [];
    for (const [id, r] of lastRowOf) {
      const i = ids.indexOf(id);
      if (i >= 0) {
        updatedRows.push(r);
        updatedItems.push(i);
      } else {
        addedRows.push(r);
        newIds.push(id);
      }
    }
    const vectors = featurizer.transform(rows, { progress, textVectors });
    const pick = (which: number[]): SparseMatrix => {
      const b = new SparseBuilder(vectors.nCols, which.length, 16);
      for (const r of which) {
        for (let p = vectors.indptr[r]; p < vectors.indptr[r + 1]; p++) b.push(vectors.indices[p], vectors.values[p]);
        b.endRow();
      }
      return b.build();
    };
    const updated = pick(updatedRows);
    const added = pick(addedRows);
    const nOld = ids.size;
    if (this.itemVectors) {
      let m = this.itemVectors;
      if (updatedItems.length > 0) m = replaceRows(m, Int32Array.from(updatedItems), updated);
      if (addedRows.length > 0) m = vstack(m, added);
      this.itemVectors = m;
    } else if (this.itemEmbeddings && this.svd) {
      const k = this.svd.k;
      const upd = projectSparse(updated, this.svd);
      normalizeDenseRows(upd, k);
      const add = projectSparse(added, this.svd);
      normalizeDenseRows(add, k);
      const e = new Float32Array((nOld + addedRows.length) * k);
      e.set(this.itemEmbeddings.subarray(0, nOld * k));
      updatedItems.forEach((i, j) => e.set(upd.subarray(j * k, j * k + k), i * k));
      e.set(add, nOld * k);
      this.itemEmbeddings = e;
      this.panelScorer = null;
    }
    if (newIds.length > 0) {
      this.itemIds = new IdMap([...ids.ids, ...newIds]);
      const scores = new Float32Array(nOld + newIds.length);
      scores.set(this.fallbackScores);
      this.setFallbackScores(scores);
    }
    const finalIds = this.itemIds as IdMap;
    rows.forEach((row, r) => (itemIndexes[r] = finalIds.indexOf(row.productId)));
    return { added: newIds.length, updated: updatedItems.length, itemIndexes };
  }

  /**
   * Takes new interactions of `users` into their stored histories (rows of `data`, same id maps;
   * items past the model's catalogue are ignored): no refit, profiles change immediately.
   */
  async foldIn(data: InteractionMatrix, users: Int32Array): Promise<void> {
    this.requireFitted('fold in users');
    const nUsers = Math.max(this.history.indptr.length - 1, data.nUsers);
    const replaced = new Uint8Array(nUsers);
    for (const u of users) if (u >= 0 && u < data.nUsers) replaced[u] = 1;
    const fresh = buildHistory(data, this.params);
    const h = this.history;
    const indptr = new Int32Array(nUsers + 1);
    const items: number[] = [];
    const weights: number[] = [];
    for (let u = 0; u < nUsers; u++) {
      const src = replaced[u] ? fresh : h;
      if (u < src.indptr.length - 1) {
        for (let p = src.indptr[u]; p < src.indptr[u + 1]; p++) {
          if (src.items[p] >= this.nItems) continue;
          items.push(src.items[p]);
          weights.push(src.weights[p]);
        }
      }
      indptr[u + 1] = items.length;
    }
    this.history = { indptr, items: Int32Array.from(items), weights: Float32Array.from(weights) };
    if (data.nUsers > this.nUsers && data.users.size === data.nUsers) this.userIds = data.users;
  }

  // ------------------------------------------------------------------------------------------
  // Persistence
  // ------------------------------------------------------------------------------------------

  async save(dir: string): Promise<void> {
    if (!this.itemIds || !this.userIds || !this.featurizer) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot save an unfitted content model: call setCatalog() and fit() first');
    }
    const s = this.featurizer.state();
    const tensors: Record<string, { data: Float32Array | Int32Array | Float64Array; shape?: number[] }> = {
      historyIndptr: { data: this.history.indptr },
      historyItems: { data: this.history.items },
      historyWeights: { data: this.history.weights },
      fallbackScores: { data: this.fallbackScores },
      idf: { data: s.idf },
      priceEdges: { data: s.priceEdges },
    };
    if (this.itemVectors) {
      tensors.itemIndptr = { data: this.itemVectors.indptr };
      tensors.itemIndices = { data: this.itemVectors.indices };
      tensors.itemValues = { data: this.itemVectors.values };
    }
    if (this.itemEmbeddings && this.svd) {
      tensors.itemEmbeddings = { data: this.itemEmbeddings, shape: [this.nItems, this.svd.k] };
      tensors.svdComponents = { data: this.svd.components, shape: [this.svd.nCols, this.svd.k] };
      tensors.singularValues = { data: this.svd.singularValues };
    }
    await saveArtifact(dir, {
      kind: this.name,
      params: { ...this.params },
      tensors,
      idMaps: { users: this.userIds, items: this.itemIds, vocabulary: s.vocabulary, categories: s.categories, brands: s.brands },
      meta: {
        fit: this.lastFit,
        featurizer: { config: s.config, nDocs: s.nDocs, attributes: s.attributes, textDimensions: s.textDimensions },
        itemColumns: this.itemVectors?.nCols ?? null,
        svd: this.svd ? { k: this.svd.k, nCols: this.svd.nCols } : null,
        textEncoder: this.textEncoderName,
        format:
          'item vectors: CSR itemIndptr/itemIndices/itemValues (embedding=sparse) or itemEmbeddings [items, k] (svd); ' +
          'user histories: CSR historyIndptr/historyItems/historyWeights over item indexes',
      },
    });
  }

  static async load(dir: string, options: ContentOptions = {}): Promise<ContentModel> {
    const art = await loadArtifact(dir);
    const meta = art.manifest.meta as {
      featurizer?: { config: DeepPartialConfig; nDocs: number; attributes: AttributeSpec; textDimensions: number };
      itemColumns?: number | null;
      svd?: { k: number; nCols: number } | null;
      textEncoder?: string | null;
      fit?: ContentFitReport | null;
    };
    if (!meta.featurizer) throw new RecsysError('RECSYS_ERR_ARTIFACT', `content artifact ${dir} has no featurizer state in its manifest`, { file: dir });
    const model = new ContentModel(art.manifest.params, options);
    model.userIds = art.idMap('users');
    model.itemIds = art.idMap('items');
    model.featurizer = Featurizer.fromState({
      config: meta.featurizer.config as never,
      nDocs: meta.featurizer.nDocs,
      vocabulary: art.idMap('vocabulary').ids,
      idf: art.float32('idf'),
      categories: art.idMap('categories').ids,
      brands: art.idMap('brands').ids,
      priceEdges: art.float64('priceEdges'),
      attributes: meta.featurizer.attributes,
      textDimensions: meta.featurizer.textDimensions ?? 0,
    });
    model.textEncoderName = meta.textEncoder ?? null;
    model.lastFit = meta.fit ?? null;
    const nItems = model.itemIds.size;
    if (meta.svd) {
      const e = art.float32('itemEmbeddings');
      if (e.length !== nItems * meta.svd.k) throw artifactMismatch(dir, 'itemEmbeddings', nItems);
      model.itemEmbeddings = e;
      model.svd = { k: meta.svd.k, nCols: meta.svd.nCols, components: art.float32('svdComponents'), singularValues: art.float64('singularValues') };
    } else {
      const indptr = art.int32('itemIndptr');
      if (indptr.length !== nItems + 1) throw artifactMismatch(dir, 'itemIndptr', nItems);
      model.itemVectors = { nRows: nItems, nCols: meta.itemColumns ?? model.featurizer.dimensions, indptr, indices: art.int32('itemIndices'), values: art.float32('itemValues') };
    }
    model.history = { indptr: art.int32('historyIndptr'), items: art.int32('historyItems'), weights: art.float32('historyWeights') };
    if (model.history.indptr.length !== model.userIds.size + 1) throw artifactMismatch(dir, 'historyIndptr', model.userIds.size);
    const fallback = art.float32('fallbackScores');
    if (fallback.length !== nItems) throw artifactMismatch(dir, 'fallbackScores', nItems);
    model.setFallbackScores(fallback);
    return model;
  }
}

function artifactMismatch(dir: string, tensor: string, n: number): RecsysError {
  return new RecsysError('RECSYS_ERR_ARTIFACT', `content artifact ${dir}: tensor ${tensor} does not match the id maps (${n} rows); the artifact is damaged, retrain it`, { file: dir });
}

/** Weighted histories from the matrix (see the module comment for w_uj). */
function buildHistory(data: InteractionMatrix, p: ContentParams): History {
  const n = data.nnz;
  const weights = new Float32Array(n);
  const halfLife = p.recencyHalfLifeDays * DAY_SECONDS;
  const ts = data.lastSeen;
  let tRef = -Infinity;
  if (halfLife > 0 && ts) for (let q = 0; q < n; q++) if (ts[q] > tRef) tRef = ts[q];
  for (let q = 0; q < n; q++) {
    const v = data.values[q];
    let w = p.historyWeighting === 'binary' ? 1 : p.historyWeighting === 'value' ? v : 1 + Math.log1p(Math.max(0, v));
    if (halfLife > 0 && ts && Number.isFinite(ts[q])) w *= Math.pow(2, -(tRef - ts[q]) / halfLife);
    weights[q] = w;
  }
  return { indptr: Int32Array.from(data.indptr), items: Int32Array.from(data.indices), weights };
}

/** Rows of `fitted` in item order: item i takes the next fitted row when hasRow[i], else stays empty. */
function scatterRows(fitted: SparseMatrix, hasRow: Uint8Array, anyMissing: boolean): SparseMatrix {
  const n = hasRow.length;
  if (!anyMissing) {
    const nnz = fitted.indptr[n];
    return { nRows: n, nCols: fitted.nCols, indptr: fitted.indptr.slice(0, n + 1), indices: fitted.indices.slice(0, nnz), values: fitted.values.slice(0, nnz) };
  }
  const b = new SparseBuilder(fitted.nCols, n, fitted.indices.length);
  let src = 0;
  for (let i = 0; i < n; i++) {
    if (hasRow[i]) {
      for (let p = fitted.indptr[src]; p < fitted.indptr[src + 1]; p++) b.push(fitted.indices[p], fitted.values[p]);
      src++;
    }
    b.endRow();
  }
  return b.build();
}

/** A sorted, de-duplicated union of a sorted exclusion row and a set (null when both are empty). */
function mergeExclusions(row: Int32Array | null, extra: ReadonlySet<number> | null): Int32Array | null {
  if (!extra || extra.size === 0) return row && row.length > 0 ? row : null;
  const merged = new Set<number>(extra);
  if (row) for (const i of row) merged.add(i);
  return Int32Array.from(merged).sort();
}

function sortedHas(sorted: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Registry entry. `needsCatalog`: the train workflow must call `setCatalog(products)` before fit. */
export const contentFactory: ModelFactory & { readonly needsCatalog: true } = {
  description: 'content-based: cosine between item feature vectors (TF-IDF text, category, brand, price, attributes) and the mean of the user\'s history; works for items with no interactions',
  schema: CONTENT_PARAMS,
  needsCatalog: true,
  create: (params) => new ContentModel(params),
  load: (dir) => ContentModel.load(dir),
};
