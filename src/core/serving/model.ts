/**
 * A model as the server holds it: the Recommender plus what serving needs around it and the model
 * contract does not carry:
 *  - a version string (kind + hash of the artifact's manifest and training record) that keys every
 *    cached list, so a reloaded model never serves its predecessor's lists;
 *  - the training interactions (from the split named in training.json) as CSR rows by user index:
 *    items a user already has are excluded, and they are the history real-time fold-in starts from;
 *  - the event weights the model was trained with (training.json `matrix.weights`), so a live
 *    purchase weighs what a purchase weighed in training;
 *  - a cold-start list: the model's own scores when it is a popularity model, otherwise the
 *    number of training users per item;
 *  - optionally the catalogue's categories (category filter), item-vector norms (reasons), and an
 *    IVF index over the item vectors for L3 on large catalogues (ann.ts).
 *
 * Optional capabilities are duck-typed (ALS has them; any model may add them): fold-in
 * (`recalculateUser` + `recommendForVector`), `similarItems`, and item factors.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import { IdMap, transposeCsr, type CsrData } from '../data/matrix.js';
import { loadSplit } from '../data/split.js';
import { loadModel } from '../models/registry.js';
import type { Rankings, Recommender } from '../models/recommender.js';
import { TopK } from '../topk.js';
import { DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, type EventType } from './config.js';
import { REASON_NONE, REASON_POPULAR } from './cache/codec.js';
import { IvfIndex } from './ann.js';

/** A model that can solve a user vector from a history and rank for it (ALS). */
export interface FoldInCapable {
  recalculateUser(itemIndexes: Int32Array, values: Float32Array): Float32Array;
  recommendForVector(vector: Float32Array, k: number, exclude: Int32Array | null): Promise<Rankings>;
}

export interface SimilarCapable {
  similarItems(items: Int32Array, k: number): Promise<Rankings>;
}

export interface FactorCapable {
  readonly itemFactors: Float32Array;
  readonly factors: number;
}

/** A model that stores one vector per known user (ALS): lets L3 use the ANN index. */
export interface UserFactorCapable {
  readonly userFactors: Float32Array;
  readonly factors: number;
}

export function hasUserFactors(m: Recommender): m is Recommender & UserFactorCapable & FactorCapable {
  const c = m as Partial<UserFactorCapable>;
  return c.userFactors instanceof Float32Array && hasItemFactors(m);
}

export function canFoldIn(m: Recommender): m is Recommender & FoldInCapable {
  const c = m as Partial<FoldInCapable>;
  return typeof c.recalculateUser === 'function' && typeof c.recommendForVector === 'function';
}

export function canFindSimilar(m: Recommender): m is Recommender & SimilarCapable {
  return typeof (m as Partial<SimilarCapable>).similarItems === 'function';
}

export function hasItemFactors(m: Recommender): m is Recommender & FactorCapable {
  const c = m as Partial<FactorCapable>;
  return c.itemFactors instanceof Float32Array && typeof c.factors === 'number' && c.factors > 0;
}

export interface CatalogEntry {
  itemId: string;
  category: string | null;
}

export interface ServingModelInit {
  recommender: Recommender;
  /** Name used by `?model=` (default: the recommender's name). */
  name?: string;
  dir?: string | null;
  /** Default: `<name>-` + a hash of the params and id-map sizes (pass one for models built in memory). */
  version?: string;
  /** Training interactions, rows = the recommender's user indexes, columns = its item indexes. */
  history?: CsrData | null;
  eventWeights?: Partial<Record<EventType, number>>;
  catalog?: readonly CatalogEntry[] | null;
  /** Things worth telling the operator (e.g. why history is missing). */
  notes?: string[];
}

export class ServingModel {
  readonly name: string;
  readonly dir: string | null;
  readonly version: string;
  readonly recommender: Recommender;
  readonly userIds: IdMap;
  readonly itemIds: IdMap;
  readonly history: CsrData | null;
  readonly eventWeights: Readonly<Record<EventType, number>>;
  readonly fallbackItems: Int32Array;
  readonly fallbackScores: Float32Array;
  readonly fallbackSource: 'popularity-model' | 'training-counts' | 'none';
  readonly itemCategory: Int32Array | null;
  readonly categories: IdMap | null;
  readonly notes: string[];
  /** The catalogue rows given at load (kept so a reload can rebuild the category index). */
  readonly catalog: readonly CatalogEntry[] | null;
  readonly loadedAt = new Date().toISOString();
  private itemNorms: Float32Array | null = null;
  /** IVF index for L3 on large catalogues (built by prepareAnn), with the lists probed per query. */
  ann: IvfIndex | null = null;
  annProbes = 0;
  private readonly outOfCategory = new Map<number, Int32Array>();
  private historyCsc: CsrData | null = null;

  constructor(init: ServingModelInit) {
    const r = init.recommender;
    if (!r.userIds || !r.itemIds) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `model '${r.name}' is not fitted (no id maps): train it first (recsys train) and serve the artifact`);
    }
    this.recommender = r;
    this.name = init.name ?? r.name;
    this.dir = init.dir ?? null;
    this.userIds = r.userIds;
    this.itemIds = r.itemIds;
    this.notes = [...(init.notes ?? [])];
    this.version = init.version ?? `${r.name}-${createHash('sha256').update(JSON.stringify([r.params, this.userIds.size, this.itemIds.size])).digest('hex').slice(0, 12)}`;
    const h = init.history ?? null;
    if (h && (h.indptr.length !== this.userIds.size + 1)) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `history has ${h.indptr.length - 1} user rows but model '${this.name}' has ${this.userIds.size} users: pass the training matrix of this model`);
    }
    this.history = h;
    const weights: Record<EventType, number> = { ...DEFAULT_EVENT_WEIGHTS };
    for (const t of EVENT_TYPES) {
      const w = init.eventWeights?.[t];
      if (typeof w === 'number' && Number.isFinite(w)) weights[t] = w;
    }
    this.eventWeights = Object.freeze(weights);

    const nItems = this.itemIds.size;
    let scores: Float32Array | null = null;
    let source: ServingModel['fallbackSource'] = 'none';
    if (r.name === 'popularity' || r.name === 'trending') {
      scores = r.score(0, Int32Array.from({ length: nItems }, (_, i) => i));
      source = 'popularity-model';
    } else if (h) {
      scores = new Float32Array(nItems);
      for (let p = 0; p < h.indices.length; p++) scores[h.indices[p]] += 1;
      source = 'training-counts';
    }
    if (scores) {
      const s = scores;
      const order = Int32Array.from({ length: nItems }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b);
      this.fallbackItems = order;
      this.fallbackScores = Float32Array.from(order, (i) => s[i]);
    } else {
      this.fallbackItems = new Int32Array(0);
      this.fallbackScores = new Float32Array(0);
      this.notes.push('no cold-start list: the model is not a popularity model and its training history was not found, so unknown users get an empty list');
    }
    this.fallbackSource = source;

    this.catalog = init.catalog ?? null;
    if (init.catalog && init.catalog.length > 0) {
      const names: string[] = [];
      const index = new Map<string, number>();
      const cat = new Int32Array(nItems).fill(-1);
      let matched = 0;
      for (const row of init.catalog) {
        const i = this.itemIds.indexOf(row.itemId);
        if (i < 0 || row.category === null) continue;
        let c = index.get(row.category);
        if (c === undefined) {
          c = names.length;
          names.push(row.category);
          index.set(row.category, c);
        }
        cat[i] = c;
        matched++;
      }
      this.itemCategory = cat;
      this.categories = new IdMap(names);
      if (matched < nItems) this.notes.push(`${nItems - matched} of ${nItems} items have no category in the catalogue: a category filter never returns them`);
    } else {
      this.itemCategory = null;
      this.categories = null;
    }
  }

  /** Load an artifact directory (with its training history and weights when training.json names them). */
  static async load(dir: string, opts: { name?: string; catalog?: readonly CatalogEntry[] | null } = {}): Promise<ServingModel> {
    const root = resolve(dir);
    const recommender = await loadModel(root);
    const manifestText = await readFile(join(root, 'manifest.json'), 'utf8');
    const trainingPath = join(root, 'training.json');
    const trainingText = existsSync(trainingPath) ? await readFile(trainingPath, 'utf8') : '';
    const version = `${recommender.name}-${createHash('sha256').update(manifestText).update(trainingText).digest('hex').slice(0, 12)}`;
    const notes: string[] = [];
    let history: CsrData | null = null;
    let weights: Partial<Record<EventType, number>> | undefined;
    if (trainingText) {
      const record = JSON.parse(trainingText) as { split?: { dir?: string }; matrix?: { weights?: Record<string, number> } };
      weights = record.matrix?.weights as Partial<Record<EventType, number>> | undefined;
      const splitDir = record.split?.dir;
      if (splitDir && existsSync(join(splitDir, 'manifest.json'))) {
        const split = await loadSplit(splitDir);
        if (sameIds(split.train.users, recommender.userIds) && sameIds(split.train.items, recommender.itemIds)) {
          history = split.train;
        } else {
          notes.push(`the split at ${splitDir} does not match the model's id maps: seen items are not excluded and real-time fold-in starts from the live events only`);
        }
      } else {
        notes.push(`the training split ${splitDir ?? '(none recorded)'} was not found: seen items are not excluded and real-time fold-in starts from the live events only`);
      }
    } else {
      notes.push(`${trainingPath} is missing: no training history (seen items are not excluded) and default event weights`);
    }
    return new ServingModel({ recommender, name: opts.name, dir: root, version, history, eventWeights: weights, catalog: opts.catalog ?? null, notes });
  }

  get nItems(): number {
    return this.itemIds.size;
  }

  /**
   * Build the IVF index when the catalogue is large enough (`mode` auto: ≥ minItems) and the model
   * has item and user vectors. Idempotent.
   */
  async prepareAnn(opts: { mode: 'auto' | 'on' | 'off'; minItems: number; lists: number; probes: number; quantize: 'none' | 'int8' }): Promise<void> {
    const r = this.recommender;
    if (this.ann || opts.mode === 'off' || !hasUserFactors(r)) return;
    if (opts.mode === 'auto' && this.nItems < opts.minItems) return;
    this.ann = await IvfIndex.build(r.itemFactors, this.nItems, r.factors, { lists: opts.lists > 0 ? opts.lists : undefined, quantize: opts.quantize });
    this.annProbes = opts.probes > 0 ? opts.probes : Math.max(8, Math.round(this.ann.nLists / 32));
  }

  /** The stored vector of a known user (models with user factors). */
  userVector(user: number): Float32Array | null {
    const r = this.recommender;
    if (!hasUserFactors(r) || user < 0 || user >= this.userIds.size) return null;
    return r.userFactors.subarray(user * r.factors, (user + 1) * r.factors);
  }

  /** Training items of a user index (empty for unknown users or without history). */
  historyItems(user: number): Int32Array {
    const h = this.history;
    if (!h || user < 0 || user >= h.indptr.length - 1) return new Int32Array(0);
    return h.indices.subarray(h.indptr[user], h.indptr[user + 1]);
  }

  historyValues(user: number): Float32Array {
    const h = this.history;
    if (!h || user < 0 || user >= h.indptr.length - 1) return new Float32Array(0);
    return h.values.subarray(h.indptr[user], h.indptr[user + 1]);
  }

  /** Category index by name, -1 for an unknown category, null when there is no catalogue. */
  categoryIndex(name: string): number | null {
    return this.categories ? this.categories.indexOf(name) : null;
  }

  /** Sorted item indexes outside category `c` (cached: the exclusion list of a category filter). */
  itemsOutsideCategory(c: number): Int32Array {
    let out = this.outOfCategory.get(c);
    if (!out) {
      const cat = this.itemCategory!;
      let n = 0;
      for (let i = 0; i < cat.length; i++) if (cat[i] !== c) n++;
      out = new Int32Array(n);
      let w = 0;
      for (let i = 0; i < cat.length; i++) if (cat[i] !== c) out[w++] = i;
      this.outOfCategory.set(c, out);
    }
    return out;
  }

  /** Euclidean norm of each item vector (4 bytes per item; reasons divide by them), null without factors. */
  private norms(): Float32Array | null {
    if (this.itemNorms) return this.itemNorms;
    const r = this.recommender;
    if (!hasItemFactors(r) || r.itemFactors.length < this.nItems * r.factors) return null;
    const k = r.factors;
    const src = r.itemFactors;
    const out = new Float32Array(this.nItems);
    for (let i = 0; i < this.nItems; i++) {
      let norm = 0;
      for (let d = 0; d < k; d++) norm += src[i * k + d] * src[i * k + d];
      out[i] = Math.sqrt(norm);
    }
    this.itemNorms = out;
    return out;
  }

  /**
   * One reason per recommended item (first `limit` items; the rest REASON_NONE): the history item
   * whose vector is closest (cosine of item factors) to the recommended one — "because you
   * interacted with X". Popularity lists say REASON_POPULAR. O(limit · |history| · factors).
   */
  reasonsFor(items: Int32Array, historyItems: Int32Array, limit: number, popular = false): Int32Array {
    const out = new Int32Array(items.length).fill(popular ? REASON_POPULAR : REASON_NONE);
    if (popular || historyItems.length === 0 || limit <= 0) return out;
    const norms = this.norms();
    if (!norms) return out;
    const F = (this.recommender as Recommender & FactorCapable).itemFactors;
    const k = (this.recommender as Recommender & FactorCapable).factors;
    const n = Math.min(limit, items.length);
    for (let r = 0; r < n; r++) {
      const i = items[r];
      if (i < 0 || norms[i] === 0) continue;
      let best = REASON_NONE;
      let bestSim = -Infinity;
      const io = i * k;
      for (let j = 0; j < historyItems.length; j++) {
        const h = historyItems[j];
        if (h === i || h < 0 || norms[h] === 0) continue;
        const ho = h * k;
        let s = 0;
        for (let d = 0; d < k; d++) s += F[io + d] * F[ho + d];
        s /= norms[i] * norms[h];
        if (s > bestSim || (s === bestSim && h < best)) {
          bestSim = s;
          best = h;
        }
      }
      out[r] = best;
    }
    return out;
  }

  /** Item-item cosine over training co-occurrence: |U_i ∩ U_j| / sqrt(|U_i|·|U_j|), item itself excluded. */
  coOccurrenceSimilar(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const h = this.history;
    if (!h) return { items: new Int32Array(0), scores: new Float32Array(0) };
    this.historyCsc ??= transposeCsr(h, this.nItems);
    const csc = this.historyCsc;
    const counts = new Float32Array(this.nItems);
    for (let p = csc.indptr[item]; p < csc.indptr[item + 1]; p++) {
      const u = csc.indices[p];
      for (let q = h.indptr[u]; q < h.indptr[u + 1]; q++) counts[h.indices[q]] += 1;
    }
    const ni = csc.indptr[item + 1] - csc.indptr[item];
    const heap = new TopK(k);
    for (let j = 0; j < this.nItems; j++) {
      if (j === item || counts[j] === 0) continue;
      const nj = csc.indptr[j + 1] - csc.indptr[j];
      heap.push(j, counts[j] / Math.sqrt(ni * nj));
    }
    const items = new Int32Array(k);
    const scores = new Float32Array(k);
    const n = heap.drainInto(items, scores, 0);
    return { items: items.slice(0, n), scores: scores.slice(0, n) };
  }
}

function sameIds(a: IdMap, b: IdMap | null): boolean {
  if (!b || a.size !== b.size) return false;
  // The id maps are built by one loader from one store; checking a spread of positions catches a different split.
  const n = a.size;
  const step = Math.max(1, Math.floor(n / 64));
  for (let i = 0; i < n; i += step) if (a.idOf(i) !== b.idOf(i)) return false;
  return n === 0 || a.idOf(n - 1) === b.idOf(n - 1);
}
