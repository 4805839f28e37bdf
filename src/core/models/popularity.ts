/**
 * Popularity baselines.
 *
 *  - `popularity`: score(i) = number of training users who interacted with item i (or the sum of
 *    their confidence weights with `weighting=value`). The same list for everyone, minus the
 *    user's excluded items. The bar every personal model must clear.
 *  - `trending` (mode=trending): time-decayed popularity, score(i) = Σ_u w_ui · 2^(−(t_ref − t_ui)/halfLife),
 *    with t_ref the newest timestamp in the training data and t_ui the pair's last interaction.
 *
 * Ties are broken by the smaller item index, so rankings are deterministic.
 */
import { RecsysError } from '../errors.js';
import { IdMap, type InteractionMatrix } from '../data/matrix.js';
import { loadArtifact, saveArtifact } from '../artifacts.js';
import { resolveParams, type ParamsOf } from './params.js';
import type { FitOptions, FitReport, ModelFactory, Rankings, Recommender, RecommendOptions } from './recommender.js';

export const POPULARITY_PARAMS = {
  mode: { type: 'enum', values: ['count', 'trending'], default: 'count', description: 'count = all-time interactions; trending = exponentially time-decayed' },
  weighting: { type: 'enum', values: ['users', 'value'], default: 'users', description: 'users = count distinct users per item; value = sum the confidence weights' },
  halfLifeDays: { type: 'number', default: 7, min: 0.001, description: 'trending only: half-life of the decay in days' },
} as const;

export type PopularityParams = ParamsOf<typeof POPULARITY_PARAMS>;

export class Popularity implements Recommender {
  readonly name = 'popularity';
  readonly params: PopularityParams;
  userIds: IdMap | null = null;
  itemIds: IdMap | null = null;
  /** Score per item index. */
  itemScores: Float32Array = new Float32Array(0);
  /** Item indexes sorted by descending score (ties: smaller index first). */
  private order: Int32Array = new Int32Array(0);

  constructor(params: Partial<Record<keyof PopularityParams, unknown>> = {}) {
    this.params = resolveParams('popularity', POPULARITY_PARAMS, params);
  }

  async fit(data: InteractionMatrix, opts: FitOptions = {}): Promise<FitReport> {
    const t0 = performance.now();
    const progress = opts.progress;
    progress?.start('popularity', 1);
    const scores = new Float64Array(data.nItems);
    const { indices, values } = data;
    if (this.params.mode === 'trending') {
      if (!data.lastSeen) {
        throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'the trending popularity model needs timestamps, and this dataset has none. Use --param mode=count, or ingest a time column (--time-col).');
      }
      let tRef = -Infinity;
      for (let p = 0; p < data.lastSeen.length; p++) if (data.lastSeen[p] > tRef) tRef = data.lastSeen[p];
      const halfLifeSeconds = this.params.halfLifeDays * 86400;
      for (let p = 0; p < indices.length; p++) {
        const w = this.params.weighting === 'value' ? values[p] : 1;
        scores[indices[p]] += w * Math.pow(2, -(tRef - data.lastSeen[p]) / halfLifeSeconds);
      }
    } else {
      for (let p = 0; p < indices.length; p++) scores[indices[p]] += this.params.weighting === 'value' ? values[p] : 1;
    }
    this.setScores(Float32Array.from(scores));
    this.userIds = data.users;
    this.itemIds = data.items;
    progress?.tick(1);
    progress?.stop();
    return { model: this.name, seconds: (performance.now() - t0) / 1000 };
  }

  private setScores(scores: Float32Array): void {
    this.itemScores = scores;
    const order = Int32Array.from({ length: scores.length }, (_, i) => i);
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    this.order = order;
  }

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    const items = new Int32Array(users.length * k).fill(-1);
    const scores = new Float32Array(users.length * k).fill(-Infinity);
    const order = this.order;
    const exclude = opts.exclude ?? null;
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const extra = opts.excludeSets?.[r] ?? null;
      // Walk the global order, skipping excluded items: O(k + |excluded|) per user.
      let excludedRow: Int32Array | null = null;
      if (exclude && u >= 0 && u < exclude.indptr.length - 1) excludedRow = exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]);
      let written = 0;
      for (let j = 0; j < order.length && written < k; j++) {
        const item = order[j];
        if (excludedRow && binarySearch(excludedRow, item)) continue;
        if (extra && extra.has(item)) continue;
        items[r * k + written] = item;
        scores[r * k + written] = this.itemScores[item];
        written++;
      }
    }
    return { users, k, items, scores };
  }

  score(_user: number, items: Int32Array): Float32Array {
    const out = new Float32Array(items.length);
    for (let j = 0; j < items.length; j++) out[j] = items[j] >= 0 && items[j] < this.itemScores.length ? this.itemScores[items[j]] : -Infinity;
    return out;
  }

  /** Popularity needs no per-user state, so folding in new users is a no-op. */
  async foldIn(): Promise<void> {}

  async save(dir: string): Promise<void> {
    if (!this.itemIds || !this.userIds) throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot save an unfitted popularity model: call fit() first');
    await saveArtifact(dir, {
      kind: this.name,
      params: { ...this.params },
      tensors: { itemScores: { data: this.itemScores } },
      idMaps: { users: this.userIds, items: this.itemIds },
    });
  }

  static async load(dir: string): Promise<Popularity> {
    const art = await loadArtifact(dir);
    const model = new Popularity(art.manifest.params);
    model.userIds = art.idMap('users');
    model.itemIds = art.idMap('items');
    model.setScores(art.float32('itemScores'));
    return model;
  }
}

function binarySearch(sorted: Int32Array, x: number): boolean {
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

export const popularityFactory: ModelFactory = {
  description: 'most-interacted items (mode=count) or time-decayed trending items (mode=trending)',
  schema: POPULARITY_PARAMS,
  create: (params) => new Popularity(params),
  load: (dir) => Popularity.load(dir),
};
