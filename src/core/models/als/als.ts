/**
 * Implicit-feedback alternating least squares (Hu, Koren & Volinsky, "Collaborative Filtering for
 * Implicit Feedback Datasets", ICDM 2008), the toolkit's matrix-factorisation baseline.
 *
 * Each observed pair (u, i) with value r gets preference p_ui = 1 and confidence
 * c_ui = 1 + α·r (or 1 + α·log(1 + r/ε)); every unobserved pair has p = 0, c = 1. The model
 * minimises Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) (with λ·n_u per row under
 * `regularizationScaling=als-wr`, Spark MLlib's scaling) by alternating exact least squares over
 * users and items, solved by conjugate gradient warm-started from the previous factors (implicit's
 * `least_squares_cg`) or by Cholesky (the reference). The maths and the plain-TypeScript oracle are
 * in solver-reference.ts; the WebAssembly SIMD kernels (src/core/kernels/assembly/als.ts) run on
 * worker threads over shared memory (engine.ts, pool.ts).
 *
 * Beyond the Recommender contract: batch recommend for all users, `similarItems` (cosine over item
 * factors), `recalculateUser` / `foldIn` / `partialFit` (exact solves against the fixed other side,
 * no retraining), and `explain` (Hu et al. §5: ŷ_ui = Σ_j s^u_ij c_uj p_uj with
 * s^u_ij = y_iᵀ (YᵀC^uY + λI)⁻¹ y_j, so each history item's share of the score is known).
 *
 * Memory: a wasm fit runs in a shared arena the model then keeps, its factors handed over as views
 * (no copy), and large scoring batches reuse the arena space the training state occupied.
 *
 * Saved as an artifact (artifacts.ts): tensors `userFactors` [nUsers, k] and `itemFactors`
 * [nItems, k] (float32 little-endian), id maps `users` / `items`, params and the fit report in the
 * manifest.
 */
import { availableParallelism } from 'node:os';
import { RecsysError } from '../../errors.js';
import { IdMap, type CsrRows, type InteractionMatrix } from '../../data/matrix.js';
import { loadArtifact, saveArtifact } from '../../artifacts.js';
import { Rng } from '../../rng.js';
import { resolveParams } from '../params.js';
import type { FitOptions, FitReport, ModelFactory, Rankings, Recommender, RecommendOptions } from '../recommender.js';
import { ALS_PARAMS, type AlsParams } from './params.js';
import { JsSession, WasmSession, encodeWeights, userTopkRequest, wasmSessionBytes, type FitSession, type FitSessionInit } from './engine.js';
import { SharedArena, alsKernelModule } from './kernels.js';
import { alsPool } from './pool.js';
import { PanelScorer, topkJs, topkWasm, topkWasmInArena, type TopkRequest, type TopkResult } from './scoring.js';
import { choleskySolve, paddedRank } from './solver-reference.js';

export { ALS_PARAMS, type AlsParams } from './params.js';

/** Batches up to this many queries are scored in the calling thread on cached panels. */
const SMALL_BATCH = 256;
/** Users sampled for the validation metric during early stopping. */
const VALIDATION_USERS = 2000;

export interface ExplainResult {
  /** Score of the item recomputed from the given history: Σ contributions. */
  score: number;
  /** Score from the stored user vector (x_u·y_i), NaN for an unknown user. */
  modelScore: number;
  /** One entry per history item, largest contribution first. */
  contributions: Array<{ item: number; contribution: number }>;
}

export interface AlsFitReport extends FitReport {
  backend: 'wasm' | 'js';
  threads: number;
  /** Seconds per iteration (median over iterations, sweeps only). */
  secondsPerIteration: number;
  /** Iteration whose factors were kept (the best validation metric, or the last one). */
  bestIteration: number;
  stoppedEarly: boolean;
}

function copyPadded(src: Float32Array, n: number, k: number, kp: number): Float32Array {
  if (k === kp) return src.slice(0, n * k);
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) for (let d = 0; d < k; d++) out[r * k + d] = src[r * kp + d];
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** NDCG@k (binary gain) of one ranked row against a sorted relevant list. */
function ndcgRow(ranked: Int32Array, offset: number, k: number, relevant: Int32Array): number {
  let dcg = 0;
  for (let p = 0; p < k; p++) {
    const item = ranked[offset + p];
    if (item < 0) continue;
    let lo = 0;
    let hi = relevant.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (relevant[mid] === item) {
        dcg += 1 / Math.log2(p + 2);
        break;
      }
      if (relevant[mid] < item) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  let idcg = 0;
  for (let p = 0; p < Math.min(k, relevant.length); p++) idcg += 1 / Math.log2(p + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

export class AlsModel implements Recommender {
  readonly name = 'als';
  readonly params: AlsParams;
  userIds: IdMap | null = null;
  itemIds: IdMap | null = null;
  /**
   * [nUsers, k] row-major. After a wasm fit, a view into the model's own shared arena (see
   * `arena`): a valid Float32Array for as long as it is referenced, over a SharedArrayBuffer.
   */
  userFactors: Float32Array = new Float32Array(0);
  /** [nItems, k] row-major (a view into the model's arena after a wasm fit, like userFactors). */
  itemFactors: Float32Array = new Float32Array(0);
  lastFit: AlsFitReport | null = null;
  /**
   * The shared wasm memory a wasm fit ran in, kept with the factors in it instead of copying them
   * out (one copy fewer: the fit's peak memory is the factors plus the training state, not twice
   * the factors). The space after the factors, where the training state was, is reused for
   * scoring large batches. Dropped once neither factor matrix lives there (partialFit grew both).
   */
  private arena: SharedArena | null = null;
  private factorsInArena = { users: false, items: false };
  // Caches derived from the item factors; dropped whenever they change.
  private itemGram: Float64Array | null = null;
  private scorer: PanelScorer | null = null;
  private cosineScorer: PanelScorer | null = null;
  private normalizedItems: Float32Array | null = null;

  constructor(params: Partial<Record<keyof AlsParams, unknown>> = {}) {
    this.params = resolveParams('als', ALS_PARAMS, params);
  }

  get factors(): number {
    return this.params.factors;
  }

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  /**
   * Bytes of shared WebAssembly memory this model keeps (its factors after a wasm fit, then
   * scratch for large scoring batches); 0 when it keeps none. Only pages written count as resident.
   */
  get arenaBytes(): number {
    return this.arena?.capacity ?? 0;
  }

  /** Threads used for training and batch scoring. */
  get threads(): number {
    return this.params.workers > 0 ? this.params.workers : Math.max(1, availableParallelism());
  }

  /** 'wasm' when the kernels are built (and not switched off by backend=js), else 'js'. */
  get backend(): 'wasm' | 'js' {
    if (this.params.backend === 'js') return 'js';
    const module = alsKernelModule();
    if (module) return 'wasm';
    if (this.params.backend === 'wasm') {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', 'backend=wasm was asked for, but the ALS WebAssembly kernels are not built (src/core/kernels/als.wasm or dist/core/kernels/als.wasm). Run `node scripts/build-wasm.mjs` (part of `npm run build`), or use --param backend=auto|js.', { flag: '--param', param: 'backend' });
    }
    return 'js';
  }

  private invalidate(): void {
    this.itemGram = null;
    this.scorer = null;
    this.cosineScorer = null;
    this.normalizedItems = null;
  }

  private requireFitted(what: string): void {
    if (!this.userIds || !this.itemIds) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `cannot ${what} with an unfitted ALS model: call fit() first, or load a trained model`);
    }
  }

  /** Initial factors: uniform [0, 0.01) (implicit's init), users then items, from one seeded stream. */
  private fillInitialFactors(X: Float32Array, Y: Float32Array, nUsers: number, nItems: number, kp: number): void {
    const k = this.factors;
    const rng = new Rng(this.params.seed);
    for (let r = 0; r < nUsers; r++) for (let d = 0; d < k; d++) X[r * kp + d] = rng.next() * 0.01;
    for (let r = 0; r < nItems; r++) for (let d = 0; d < k; d++) Y[r * kp + d] = rng.next() * 0.01;
  }

  async fit(data: InteractionMatrix, opts: FitOptions = {}): Promise<AlsFitReport> {
    const t0 = performance.now();
    const p = this.params;
    if (data.nUsers === 0 || data.nItems === 0 || data.nnz === 0) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `cannot train ALS on an empty matrix (${data.nUsers} users, ${data.nItems} items, ${data.nnz} interactions). Check the ingested data and the split.`);
    }
    const validation = opts.validation ?? null;
    if (validation && (validation.test.nUsers !== data.nUsers || validation.test.nItems !== data.nItems || validation.train.nUsers !== data.nUsers)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the validation split has ${validation.test.nUsers} users × ${validation.test.nItems} items but the training matrix ${data.nUsers} × ${data.nItems}; both must come from one split (same id maps).`);
    }
    const k = p.factors;
    const kp = paddedRank(k);
    const backend = this.backend;
    const threads = backend === 'wasm' ? this.threads : 1;
    const init: FitSessionInit = {
      data,
      nUsers: data.nUsers,
      nItems: data.nItems,
      kp,
      weighting: p,
      solverParams: { solver: p.solver, cgSteps: p.cgSteps, threads },
      fillInitial: (X, Y) => this.fillInitialFactors(X, Y, data.nUsers, data.nItems, kp),
    };
    const progress = opts.progress;
    const history: NonNullable<FitReport['history']> = [];
    const sampleUsers = validation ? this.validationSample(validation.test) : null;
    let best = -Infinity;
    let bestIteration = 0;
    let stoppedEarly = false;
    let snapshot: { X: Float32Array; Y: Float32Array } | null = null;
    let failures = 0;

    const run = async (session: FitSession, takeFactors: (keep: { X: Float32Array; Y: Float32Array } | null) => void): Promise<void> => {
      progress?.start('als', p.iterations);
      for (let it = 1; it <= p.iterations; it++) {
        const ts = performance.now();
        failures += await session.sweep('users');
        failures += await session.sweep('items');
        const seconds = (performance.now() - ts) / 1000;
        const entry: (typeof history)[number] = { iteration: it, seconds };
        const info: Record<string, string | number> = { 's/it': seconds.toFixed(3) };
        if (p.calculateLoss) {
          entry.loss = (await session.loss()) / session.lossNormalizer;
          info.loss = entry.loss.toPrecision(6);
          if (!Number.isFinite(entry.loss)) throw nanError(it);
        }
        if (validation && sampleUsers) {
          entry.metric = await this.validationMetric(session, sampleUsers, validation.train, validation.test);
          info['ndcg@10'] = entry.metric.toFixed(4);
          if (entry.metric > best) {
            best = entry.metric;
            bestIteration = it;
            snapshot = { X: session.factors('users').slice(), Y: session.factors('items').slice() };
          } else if (p.patience > 0 && it - bestIteration >= p.patience) {
            history.push(entry);
            progress?.tick(1, info);
            stoppedEarly = true;
            break;
          }
        } else {
          bestIteration = it;
        }
        history.push(entry);
        progress?.tick(1, info);
      }
      progress?.stop();
      takeFactors(snapshot);
    };

    if (backend === 'wasm') {
      const pool = alsPool();
      // The fit runs in an arena of its own that the model keeps: its factors are handed over as views.
      const arena = new SharedArena(pool.module, wasmSessionBytes(data, data.nUsers, data.nItems, kp, threads));
      await pool.withArena(async (pl) => {
        const session = new WasmSession(pl, init, k, arena);
        await run(session, (keep) => {
          const f = session.takeFactors(k, keep);
          this.userFactors = f.users;
          this.itemFactors = f.items;
          this.arena = arena;
          this.factorsInArena = { users: true, items: true };
        });
      }, arena);
    } else {
      const session = new JsSession(init, k);
      await run(session, (keep) => {
        const kept = keep ?? { X: session.factors('users'), Y: session.factors('items') };
        this.userFactors = copyPadded(kept.X, data.nUsers, k, kp);
        this.itemFactors = copyPadded(kept.Y, data.nItems, k, kp);
        this.arena = null;
        this.factorsInArena = { users: false, items: false };
      });
    }
    if (failures > 0) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the exact (Cholesky) solve failed for ${failures} rows: their normal equations were not positive definite. Raise --regularization (now ${p.regularization}).`);
    }
    for (const F of [this.userFactors, this.itemFactors]) {
      for (let j = 0; j < F.length; j++) if (!Number.isFinite(F[j])) throw nanError(p.iterations);
    }
    this.userIds = data.users;
    this.itemIds = data.items;
    this.invalidate();
    const report: AlsFitReport = {
      model: this.name,
      seconds: (performance.now() - t0) / 1000,
      iterations: history.length,
      history,
      backend,
      threads,
      secondsPerIteration: median(history.map((h) => h.seconds)),
      bestIteration,
      stoppedEarly,
    };
    this.lastFit = report;
    return report;
  }

  /** Up to VALIDATION_USERS users with test items, chosen by a seeded shuffle, in ascending order. */
  private validationSample(test: InteractionMatrix): Int32Array {
    const candidates: number[] = [];
    for (let u = 0; u < test.nUsers; u++) if (test.rowLength(u) > 0) candidates.push(u);
    const arr = Int32Array.from(candidates);
    if (arr.length > VALIDATION_USERS) new Rng(this.params.seed + 1).shuffle(arr);
    return arr.slice(0, VALIDATION_USERS).sort();
  }

  private async validationMetric(session: FitSession, users: Int32Array, train: CsrRows, test: InteractionMatrix): Promise<number> {
    const K = 10;
    const res = await session.topk(users, K, train);
    let total = 0;
    for (let r = 0; r < users.length; r++) total += ndcgRow(res.items, r * K, K, test.rowItems(users[r]));
    return users.length > 0 ? total / users.length : 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Scoring

  private runTopk(req: TopkRequest, cosine: boolean): Promise<TopkResult> | TopkResult {
    if (this.backend === 'js') return topkJs(req);
    const module = alsKernelModule();
    if (req.nQueries <= SMALL_BATCH && module) {
      if (cosine) {
        this.cosineScorer ??= new PanelScorer(module, req.items, req.itemStride, req.factors, req.nItems, req.kp);
        return this.cosineScorer.topk(req);
      }
      this.scorer ??= new PanelScorer(module, req.items, req.itemStride, req.factors, req.nItems, req.kp);
      return this.scorer.topk(req);
    }
    const arena = this.arena;
    // Large batches run after the factors in the model's own arena (where the training state was).
    if (arena) return alsPool().withArena((pool) => topkWasmInArena(pool, req, this.threads, arena), arena);
    return topkWasm(alsPool(), req, this.threads);
  }

  private toRankings(users: Int32Array, K: number, res: TopkResult): Rankings {
    // Unknown users (index out of range) get empty rows rather than the zero vector's arbitrary list.
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      if (u >= 0 && u < this.nUsers) continue;
      res.items.fill(-1, r * K, r * K + K);
      res.scores.fill(-Infinity, r * K, r * K + K);
    }
    return { users, k: K, items: res.items, scores: res.scores };
  }

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    this.requireFitted('recommend');
    const K = Math.max(0, Math.floor(k));
    const kk = this.factors;
    const safeUsers = users.map((u) => (u >= 0 && u < this.nUsers ? u : -1));
    const req = userTopkRequest(this.userFactors, this.itemFactors, this.nItems, paddedRank(kk), kk, safeUsers, K, opts.exclude ?? null, opts.excludeSets, kk);
    return this.toRankings(users, K, await this.runTopk(req, false));
  }

  score(user: number, items: Int32Array): Float32Array {
    this.requireFitted('score');
    const k = this.factors;
    const out = new Float32Array(items.length);
    if (user < 0 || user >= this.nUsers) return out.fill(-Infinity);
    const xo = user * k;
    for (let j = 0; j < items.length; j++) {
      const i = items[j];
      if (i < 0 || i >= this.nItems) {
        out[j] = -Infinity;
        continue;
      }
      let s = 0;
      const yo = i * k;
      for (let d = 0; d < k; d++) s += this.userFactors[xo + d] * this.itemFactors[yo + d];
      out[j] = s;
    }
    return out;
  }

  /** Item factors scaled to unit length (zero vectors stay zero). */
  private unitItems(): Float32Array {
    if (this.normalizedItems) return this.normalizedItems;
    const k = this.factors;
    const out = new Float32Array(this.itemFactors.length);
    for (let i = 0; i < this.nItems; i++) {
      let s = 0;
      for (let d = 0; d < k; d++) s += this.itemFactors[i * k + d] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < k; d++) out[i * k + d] = this.itemFactors[i * k + d] * inv;
    }
    this.normalizedItems = out;
    return out;
  }

  /**
   * The k most similar items to each of `items` by cosine similarity of item factors (the item
   * itself excluded). Rankings rows follow `items` (its `users` field holds the query items).
   */
  async similarItems(items: Int32Array, k: number): Promise<Rankings> {
    this.requireFitted('find similar items');
    const K = Math.max(0, Math.floor(k));
    const unit = this.unitItems();
    const kk = this.factors;
    const safe = items.map((i) => (i >= 0 && i < this.nItems ? i : -1));
    const self = Array.from(safe, (i) => (i >= 0 ? new Set([i]) : null));
    const req = userTopkRequest(unit, unit, this.nItems, paddedRank(kk), kk, safe, K, null, self, kk);
    const res = await this.runTopk(req, true);
    for (let r = 0; r < items.length; r++) {
      if (safe[r] >= 0) continue;
      res.items.fill(-1, r * K, r * K + K);
      res.scores.fill(-Infinity, r * K, r * K + K);
    }
    return { users: items, k: K, items: res.items, scores: res.scores };
  }

  // ---------------------------------------------------------------------------------------------
  // Fold-in, partial refit, explanations

  /** YᵀY in float64 (k×k), cached until the item factors change. */
  private gramOfItems(): Float64Array {
    if (this.itemGram) return this.itemGram;
    this.itemGram = gramOf(this.itemFactors, this.nItems, this.factors);
    return this.itemGram;
  }

  /** A = G + λ_r I + Σ_j |w_j| f_j f_jᵀ and b = Σ_j b_j f_j for one row against fixed factors F. */
  private normalEquations(F: Float32Array, G: Float64Array, indexes: Int32Array, weights: Float32Array): { A: Float64Array; b: Float64Array } {
    const k = this.factors;
    const A = Float64Array.from(G);
    const b = new Float64Array(k);
    let positives = 0;
    for (let e = 0; e < indexes.length; e++) {
      const w = weights[e];
      if (w >= 0) positives++;
      const aw = Math.abs(w);
      const bw = w >= 0 ? 1 + w : 0;
      const fo = indexes[e] * k;
      for (let a = 0; a < k; a++) {
        const fa = F[fo + a];
        b[a] += bw * fa;
        if (aw === 0 || fa === 0) continue;
        const t = aw * fa;
        for (let c = a; c < k; c++) A[a * k + c] += t * F[fo + c];
      }
    }
    // Only the upper triangle was accumulated above: mirror it.
    for (let a = 0; a < k; a++) for (let c = a + 1; c < k; c++) A[c * k + a] = A[a * k + c];
    const lambda = this.params.regularizationScaling === 'als-wr' ? this.params.regularization * positives : this.params.regularization;
    for (let d = 0; d < k; d++) A[d * k + d] += lambda;
    return { A, b };
  }

  private checkIndexes(indexes: Int32Array, values: Float32Array, n: number, what: string): void {
    if (indexes.length !== values.length) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${what}: ${indexes.length} indexes but ${values.length} values; pass one value per interaction`);
    }
    for (const i of indexes) {
      if (i < 0 || i >= n || !Number.isInteger(i)) throw new RecsysError('RECSYS_ERR_UNKNOWN_ITEM', `${what}: index ${i} is outside the model's ${n} ${what.includes('item') ? 'users' : 'items'}`);
    }
  }

  /** Exact solve for one row against fixed factors F (Gram G); zero for an empty row. */
  private solveRow(F: Float32Array, G: Float64Array, indexes: Int32Array, values: Float32Array): Float32Array {
    const k = this.factors;
    if (indexes.length === 0) return new Float32Array(k);
    const weights = encodeWeights(values, this.params);
    const { A, b } = this.normalEquations(F, G, indexes, weights);
    if (!choleskySolve(A, b, k)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the fold-in solve is not positive definite; raise --regularization (now ${this.params.regularization})`);
    }
    return Float32Array.from(b);
  }

  /**
   * The user vector for a history of `itemIndexes` with raw `values` (same meaning as the training
   * values), solved exactly against the fixed item factors: x = (YᵀY + λI + Σ (c−1) y yᵀ)⁻¹ Σ c p y.
   * Costs O(n·k² + k³) (YᵀY is computed once and cached). Does not change the model.
   */
  recalculateUser(itemIndexes: Int32Array, values: Float32Array): Float32Array {
    this.requireFitted('recalculate a user');
    this.checkIndexes(itemIndexes, values, this.nItems, 'recalculateUser item');
    return this.solveRow(this.itemFactors, this.gramOfItems(), itemIndexes, values);
  }

  /** Top-k for an ad-hoc user vector (e.g. from recalculateUser), excluding `exclude` items. */
  async recommendForVector(vector: Float32Array, k: number, exclude: Int32Array | null = null): Promise<Rankings> {
    this.requireFitted('recommend');
    const kk = this.factors;
    if (vector.length !== kk) throw new RecsysError('RECSYS_ERR_USAGE', `user vector has ${vector.length} values; this model has ${kk} factors`);
    const K = Math.max(0, Math.floor(k));
    const sorted = exclude ? Int32Array.from(exclude).sort() : new Int32Array(0);
    const req: TopkRequest = {
      nQueries: 1,
      nItems: this.nItems,
      kp: paddedRank(kk),
      K,
      items: this.itemFactors,
      itemStride: kk,
      factors: kk,
      exclusionSize: sorted.length,
      writeQueries: (dst) => dst.set(vector),
      writeExclusion: (indptr, indices) => {
        indptr[0] = 0;
        indptr[1] = sorted.length;
        indices.set(sorted);
      },
    };
    const res = await this.runTopk(req, false);
    return { users: Int32Array.of(-1), k: K, items: res.items, scores: res.scores };
  }

  /** Ensure `incoming` extends `current` (same ids in the same order, new ids appended). */
  private static extendIds(current: IdMap | null, incoming: IdMap, what: 'user' | 'item'): IdMap {
    if (!current || current === incoming) return incoming;
    if (incoming.size < current.size) {
      throw new RecsysError('RECSYS_ERR_USAGE', `the matrix has ${incoming.size} ${what}s but the model ${current.size}: partial refits need the model's ${what} ids in the same order, with new ids appended`);
    }
    for (let i = 0; i < current.size; i++) {
      if (incoming.idOf(i) !== current.idOf(i)) {
        throw new RecsysError('RECSYS_ERR_USAGE', `${what} index ${i} is '${incoming.idOf(i)}' in the matrix but '${current.idOf(i)}' in the model: partial refits need the model's ${what} ids in the same order, with new ids appended`);
      }
    }
    return incoming;
  }

  private static grow(F: Float32Array, rows: number, k: number): Float32Array {
    if (F.length >= rows * k) return F;
    const out = new Float32Array(rows * k);
    out.set(F);
    return out;
  }

  /**
   * Re-solve chosen rows exactly against the fixed other side, from the rows of `data` (whose id
   * maps must extend the model's: new users/items appended get new factor rows):
   *  - `users`: user indexes of `data`, solved from their rows against the item factors;
   *  - `items`: item indexes of `data`, solved from their columns against the user factors.
   * The other rows are untouched (implicit's partial_fit_users / partial_fit_items).
   */
  async partialFit(data: InteractionMatrix, rows: { users?: Int32Array; items?: Int32Array }): Promise<void> {
    this.requireFitted('partially refit');
    const k = this.factors;
    const users = AlsModel.extendIds(this.userIds, data.users, 'user');
    const items = AlsModel.extendIds(this.itemIds, data.items, 'item');
    const usersGrew = users.size > this.nUsers;
    const itemsGrew = items.size > this.nItems;
    this.userFactors = AlsModel.grow(this.userFactors, users.size, k);
    this.itemFactors = AlsModel.grow(this.itemFactors, items.size, k);
    // Grown matrices are new JavaScript arrays; the arena goes once it holds neither.
    if (usersGrew) this.factorsInArena.users = false;
    if (itemsGrew) this.factorsInArena.items = false;
    if (!this.factorsInArena.users && !this.factorsInArena.items) this.arena = null;
    this.userIds = users;
    this.itemIds = items;
    if (itemsGrew) this.invalidate();
    if (rows.users && rows.users.length > 0) {
      const G = this.gramOfItems();
      for (const u of rows.users) {
        if (u < 0 || u >= data.nUsers) throw new RecsysError('RECSYS_ERR_UNKNOWN_USER', `partialFit: user index ${u} is outside the matrix's ${data.nUsers} users`);
        this.userFactors.set(this.solveRow(this.itemFactors, G, data.rowItems(u), data.rowValues(u)), u * k);
      }
    }
    if (rows.items && rows.items.length > 0) {
      const G = gramOf(this.userFactors, this.nUsers, k);
      const csc = data.csc();
      for (const i of rows.items) {
        if (i < 0 || i >= data.nItems) throw new RecsysError('RECSYS_ERR_UNKNOWN_ITEM', `partialFit: item index ${i} is outside the matrix's ${data.nItems} items`);
        const begin = csc.indptr[i];
        const end = csc.indptr[i + 1];
        this.itemFactors.set(this.solveRow(this.userFactors, G, csc.indices.subarray(begin, end), csc.values.subarray(begin, end)), i * k);
      }
      this.invalidate();
    }
  }

  /** Recommender.foldIn: recompute `users`' vectors from their rows of `data` (exact solves). */
  async foldIn(data: InteractionMatrix, users: Int32Array): Promise<void> {
    await this.partialFit(data, { users });
  }

  /**
   * Why `item` scores for a user with this history (Hu et al. 2008 §5). With
   * W = (YᵀY + λI + Σ_j (c_j − 1) y_j y_jᵀ)⁻¹ the user's exact solution is x = Σ_j c_j p_j W y_j,
   * so ŷ = y_iᵀx = Σ_j s_ij c_j p_j with s_ij = y_iᵀ W y_j: history item j contributes
   * c_j p_j · s_ij. One Cholesky solve (W y_i) gives every s_ij.
   */
  explain(user: number, item: number, historyItems: Int32Array, historyValues: Float32Array): ExplainResult {
    this.requireFitted('explain');
    this.checkIndexes(historyItems, historyValues, this.nItems, 'explain history item');
    if (item < 0 || item >= this.nItems) throw new RecsysError('RECSYS_ERR_UNKNOWN_ITEM', `explain: item index ${item} is outside the model's ${this.nItems} items`);
    const k = this.factors;
    const weights = encodeWeights(historyValues, this.params);
    const { A } = this.normalEquations(this.itemFactors, this.gramOfItems(), historyItems, weights);
    const z = new Float64Array(k);
    for (let d = 0; d < k; d++) z[d] = this.itemFactors[item * k + d];
    if (!choleskySolve(A, z, k)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `explain: the user's normal equations are not positive definite; raise --regularization (now ${this.params.regularization})`);
    }
    const contributions: ExplainResult['contributions'] = [];
    let score = 0;
    for (let e = 0; e < historyItems.length; e++) {
      const w = weights[e];
      const cp = w >= 0 ? 1 + w : 0;
      let s = 0;
      const yo = historyItems[e] * k;
      for (let d = 0; d < k; d++) s += z[d] * this.itemFactors[yo + d];
      const contribution = cp * s;
      score += contribution;
      contributions.push({ item: historyItems[e], contribution });
    }
    contributions.sort((a, b) => b.contribution - a.contribution || a.item - b.item);
    const modelScore = user >= 0 && user < this.nUsers ? this.score(user, Int32Array.of(item))[0] : NaN;
    return { score, modelScore, contributions };
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  async save(dir: string): Promise<void> {
    if (!this.userIds || !this.itemIds) throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot save an unfitted ALS model: call fit() first');
    const k = this.factors;
    await saveArtifact(dir, {
      kind: this.name,
      params: { ...this.params },
      tensors: {
        userFactors: { data: this.userFactors.subarray(0, this.nUsers * k), shape: [this.nUsers, k] },
        itemFactors: { data: this.itemFactors.subarray(0, this.nItems * k), shape: [this.nItems, k] },
      },
      idMaps: { users: this.userIds, items: this.itemIds },
      meta: { fit: this.lastFit ?? null, format: 'userFactors/itemFactors: float32 little-endian row-major [rows, factors]; rows follow users/items id maps' },
    });
  }

  static async load(dir: string): Promise<AlsModel> {
    const art = await loadArtifact(dir);
    const model = new AlsModel(art.manifest.params);
    const users = art.idMap('users');
    const items = art.idMap('items');
    const uf = art.float32('userFactors');
    const itf = art.float32('itemFactors');
    const k = model.factors;
    if (uf.length !== users.size * k || itf.length !== items.size * k) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `ALS artifact ${dir}: factor tensors do not match ${users.size} users / ${items.size} items × ${k} factors`, { file: dir });
    }
    return AlsModel.fromFactors({ userIds: users, itemIds: items, userFactors: uf, itemFactors: itf, params: art.manifest.params });
  }

  /** A model from factors trained elsewhere (Spark, implicit, a Parquet import). */
  static fromFactors(init: { userIds: IdMap; itemIds: IdMap; userFactors: Float32Array; itemFactors: Float32Array; params?: Record<string, unknown> }): AlsModel {
    const k = init.userIds.size > 0 ? init.userFactors.length / init.userIds.size : init.itemFactors.length / Math.max(1, init.itemIds.size);
    if (!Number.isInteger(k) || k < 1 || init.itemFactors.length !== init.itemIds.size * k || init.userFactors.length !== init.userIds.size * k) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `factor matrices do not agree: ${init.userFactors.length} user values for ${init.userIds.size} users, ${init.itemFactors.length} item values for ${init.itemIds.size} items`);
    }
    const model = new AlsModel({ ...(init.params ?? {}), factors: k });
    model.userIds = init.userIds;
    model.itemIds = init.itemIds;
    model.userFactors = init.userFactors;
    model.itemFactors = init.itemFactors;
    return model;
  }
}

/** FᵀF (k×k, float64) over n rows of a k-stride factor matrix (upper triangle, then mirrored). */
function gramOf(F: Float32Array, n: number, k: number): Float64Array {
  const G = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    const o = r * k;
    for (let a = 0; a < k; a++) {
      const fa = F[o + a];
      if (fa === 0) continue;
      const row = a * k;
      for (let c = a; c < k; c++) G[row + c] += fa * F[o + c];
    }
  }
  for (let a = 0; a < k; a++) for (let c = a + 1; c < k; c++) G[c * k + a] = G[a * k + c];
  return G;
}

function nanError(iteration: number): RecsysError {
  return new RecsysError('RECSYS_ERR_MODEL_FIT', `NaN or infinite values in the ALS factors after iteration ${iteration}. Lower --alpha or raise --regularization, check the interaction values for huge numbers, or try --param solver=cholesky.`);
}

export const alsFactory: ModelFactory = {
  description: 'implicit-feedback ALS (Hu et al. 2008): conjugate-gradient or Cholesky solves, WebAssembly SIMD on worker threads',
  schema: ALS_PARAMS,
  create: (params) => new AlsModel(params),
  load: (dir) => AlsModel.load(dir),
};
