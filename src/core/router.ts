/**
 * Cold-start routing: the one place that decides who answers a user, and says so.
 *
 *   history ≥ minHistory (5)      → 'ensemble'          every member's candidates, blended and reranked
 *   1 ≤ history < minHistory      → 'few-interactions'  content profile + ALS fold-in (+ two-tower) blended:
 *                                                       the members that can use a short history
 *   no history, known segment     → 'demographic'       the most popular items of the user's demographic
 *                                                       segment (age band / gender / occupation / location,
 *                                                       most specific level with ≥ minSegmentUsers users)
 *   no history, no segment        → 'popularity'        global popularity of the training data
 *
 * New items are reachable through the ensemble's candidate generation (content scores a product from
 * its features from its first day; the new-item rule adds in-window products as candidates). Optional
 * exploration slots give some positions to a category chosen by a bandit policy (Thompson sampling or
 * ε-greedy from core/bandits), updated with `feedback`.
 *
 * Every list carries its `strategy` and per-item `reasons`: which members proposed the item, which
 * rule changed it, and, on request, an explanation (ALS: the history item with the largest share of
 * the score, Hu et al. 2008 §5; content: the most similar history item; segment: which segment).
 */
import { RecsysError } from './errors.js';
import type { InteractionMatrix } from './data/matrix.js';
import type { RouterConfig } from './rerank/config.js';
import type { RuleEffect } from './rerank/types.js';
import { createPolicy } from './bandits/policies/index.js';
import { NO_CONTEXT, type BanditPolicy } from './bandits/policies/types.js';
import type { EnsembleModel, EnsembleRow } from './models/ensemble/ensemble.js';

export const STRATEGIES = ['ensemble', 'few-interactions', 'demographic', 'popularity'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const STRATEGY_ENSEMBLE = 0;
export const STRATEGY_FEW = 1;
export const STRATEGY_DEMOGRAPHIC = 2;
export const STRATEGY_POPULARITY = 3;

/** Which path answers a user with `historyLength` interactions (hasSegment: a demographic segment applies). */
export function chooseStrategy(historyLength: number, hasSegment: boolean, minHistory: number): Strategy {
  if (historyLength >= minHistory) return 'ensemble';
  if (historyLength > 0) return 'few-interactions';
  return hasSegment ? 'demographic' : 'popularity';
}

// ---------------------------------------------------------------------------------------------
// Demographic segments

export type Demographics = Readonly<Record<string, unknown>>;

/** Age bands used for segments (MovieLens-1M's bands merged to ten-year spans). */
export function ageBand(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '' && !/^\d+(\.\d+)?$/.test(value.trim())) return value.trim();
  const age = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(age)) return null;
  if (age < 18) return '<18';
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  return '55+';
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

/**
 * The value of one segment field from a user's demographics (the store's users.demographics JSON):
 * age (age_band, or age binned by `ageBand`), gender, occupation, location (country, location,
 * region, or the first digit of a US zip code: its national area).
 */
export function demographicValue(field: string, d: Demographics | null | undefined): string | null {
  if (!d) return null;
  switch (field) {
    case 'age':
      return ageBand(d.age_band ?? d.ageBand ?? d.age);
    case 'gender':
      return str(d.gender)?.toUpperCase() ?? null;
    case 'occupation':
      return str(d.occupation)?.toLowerCase() ?? null;
    case 'location': {
      const direct = str(d.country ?? d.location ?? d.region);
      if (direct) return direct;
      const zip = str(d.zip);
      return zip && /^\d/.test(zip) ? `zip${zip[0]}` : null;
    }
    default:
      return str(d[field]);
  }
}

/** The segment key of a user at one level (null when a field is unknown). */
export function segmentKey(fields: readonly string[], d: Demographics | null | undefined): string | null {
  const parts: string[] = [];
  for (const f of fields) {
    const v = demographicValue(f, d);
    if (v === null) return null;
    parts.push(`${f}=${v}`);
  }
  return parts.join(',');
}

export interface Segment {
  key: string;
  /** Training users (with ≥ 1 interaction) in the segment. */
  users: number;
  /** The segment's most popular items, best first, and the share of its users who interacted with each. */
  items: Int32Array;
  scores: Float32Array;
}

export interface SegmentLevel {
  fields: string[];
  segments: Segment[];
}

export interface SegmentMatch {
  level: number;
  segment: Segment;
}

/**
 * Popular items per demographic segment, at several levels of detail. Built from the training
 * matrix and the users' demographics; answers for a known user (by index) or for raw demographics.
 */
export class DemographicSegments {
  readonly levels: SegmentLevel[];
  /** Per level: segment index of each user index (−1 = unknown demographics). */
  readonly userSegment: Int32Array[];
  readonly minUsers: number;
  private readonly byKey: Array<Map<string, number>>;

  constructor(levels: SegmentLevel[], userSegment: Int32Array[], minUsers: number) {
    this.levels = levels;
    this.userSegment = userSegment;
    this.minUsers = minUsers;
    this.byKey = levels.map((l) => new Map(l.segments.map((s, i) => [s.key, i])));
  }

  static build(data: InteractionMatrix, demographics: ReadonlyMap<string, Demographics>, config: Pick<RouterConfig, 'segmentFields' | 'minSegmentUsers' | 'segmentItems'>): DemographicSegments {
    const nUsers = data.nUsers;
    const nItems = data.nItems;
    const demo: Array<Demographics | null> = new Array(nUsers);
    for (let u = 0; u < nUsers; u++) demo[u] = demographics.get(data.users.idOf(u)) ?? null;
    const counts = new Float64Array(nItems);
    const levels: SegmentLevel[] = [];
    const userSegment: Int32Array[] = [];
    for (const fields of config.segmentFields) {
      const keyIndex = new Map<string, number>();
      const keys: string[] = [];
      const seg = new Int32Array(nUsers).fill(-1);
      for (let u = 0; u < nUsers; u++) {
        const key = segmentKey(fields, demo[u]);
        if (key === null) continue;
        let s = keyIndex.get(key);
        if (s === undefined) {
          s = keys.length;
          keyIndex.set(key, s);
          keys.push(key);
        }
        seg[u] = s;
      }
      // Users of each segment (counting sort), then item counts per segment.
      const start = new Int32Array(keys.length + 1);
      for (let u = 0; u < nUsers; u++) if (seg[u] >= 0) start[seg[u] + 1]++;
      for (let s = 0; s < keys.length; s++) start[s + 1] += start[s];
      const cursor = start.slice(0, keys.length);
      const members = new Int32Array(start[keys.length]);
      for (let u = 0; u < nUsers; u++) if (seg[u] >= 0) members[cursor[seg[u]]++] = u;
      const segments: Segment[] = [];
      for (let s = 0; s < keys.length; s++) {
        counts.fill(0);
        let active = 0;
        for (let p = start[s]; p < start[s + 1]; p++) {
          const u = members[p];
          const b = data.indptr[u];
          const e = data.indptr[u + 1];
          if (e > b) active++;
          for (let q = b; q < e; q++) counts[data.indices[q]]++;
        }
        const top = topItems(counts, config.segmentItems);
        segments.push({ key: keys[s], users: active, items: top, scores: Float32Array.from(top, (i) => (active > 0 ? counts[i] / active : 0)) });
      }
      levels.push({ fields: [...fields], segments });
      userSegment.push(seg);
    }
    return new DemographicSegments(levels, userSegment, config.minSegmentUsers);
  }

  /** The most specific segment of user index `u` with enough users, or null. */
  forUser(u: number): SegmentMatch | null {
    for (let l = 0; l < this.levels.length; l++) {
      const seg = this.userSegment[l];
      if (u < 0 || u >= seg.length || seg[u] < 0) continue;
      const s = this.levels[l].segments[seg[u]];
      if (s.users >= this.minUsers) return { level: l, segment: s };
    }
    return null;
  }

  /** The most specific segment for raw demographics (a user the model has never seen), or null. */
  forDemographics(d: Demographics | null | undefined): SegmentMatch | null {
    for (let l = 0; l < this.levels.length; l++) {
      const key = segmentKey(this.levels[l].fields, d);
      if (key === null) continue;
      const idx = this.byKey[l].get(key);
      if (idx === undefined) continue;
      const s = this.levels[l].segments[idx];
      if (s.users >= this.minUsers) return { level: l, segment: s };
    }
    return null;
  }

  /** JSON for the artifact manifest (per-user arrays go to tensors). */
  toJSON(): { minUsers: number; levels: Array<{ fields: string[]; segments: Array<{ key: string; users: number; items: number[]; scores: number[] }> }> } {
    return {
      minUsers: this.minUsers,
      levels: this.levels.map((l) => ({
        fields: l.fields,
        segments: l.segments.map((s) => ({ key: s.key, users: s.users, items: Array.from(s.items), scores: Array.from(s.scores, (x) => Math.round(x * 1e6) / 1e6) })),
      })),
    };
  }

  static fromJSON(json: ReturnType<DemographicSegments['toJSON']>, userSegment: Int32Array[]): DemographicSegments {
    const levels = json.levels.map((l) => ({
      fields: l.fields,
      segments: l.segments.map((s) => ({ key: s.key, users: s.users, items: Int32Array.from(s.items), scores: Float32Array.from(s.scores) })),
    }));
    if (userSegment.length !== levels.length) throw new RecsysError('RECSYS_ERR_ARTIFACT', `ensemble artifact: ${levels.length} segment levels but ${userSegment.length} user-segment tensors`);
    return new DemographicSegments(levels, userSegment, json.minUsers);
  }
}

/** The n items with the highest counts (ties: smaller index), dropping zero counts. */
function topItems(counts: Float64Array, n: number): Int32Array {
  const nz: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) nz.push(i);
  nz.sort((a, b) => counts[b] - counts[a] || a - b);
  return Int32Array.from(nz.slice(0, n));
}

// ---------------------------------------------------------------------------------------------
// Serving-side router: one request in, one explained list out

export interface RouteRequest {
  /** External user id; unknown ids are fine (cold start). */
  userId?: string;
  /** The user's interactions (overrides the stored history), oldest first. */
  history?: ReadonlyArray<{ productId: string; value?: number }>;
  /** Demographics of a user the model has not seen (age, gender, occupation, location/zip, …). */
  demographics?: Demographics;
  k?: number;
  /** More product ids never to show in this response. */
  exclude?: readonly string[];
  /** Compute "because you …" explanations (costs one small solve per item with ALS). */
  explain?: boolean;
}

export interface RoutedItem {
  productId: string;
  item: number;
  score: number;
  reasons: string[];
}

export interface RoutedList {
  strategy: Strategy;
  /** What answered in words (e.g. the segment's key, or the members blended). */
  detail: string;
  items: RoutedItem[];
  /** What each rule changed in this list. */
  rules: RuleEffect[];
}

/**
 * Serving entry point around an ensemble: resolves ids, picks the strategy, and turns the
 * ensemble's row (with rule effects) into an explained list in external ids.
 */
export class Router {
  readonly ensemble: EnsembleModel;
  private readonly policy: BanditPolicy | null;
  private readonly exploreCategories: Int32Array;

  constructor(ensemble: EnsembleModel) {
    this.ensemble = ensemble;
    const ex = ensemble.router.exploration;
    const nCats = ensemble.categoryNames.length;
    if (ex.enabled && nCats > 0 && ensemble.categories) {
      this.policy = createPolicy(ex.policy, { nArms: nCats, params: { seed: ex.seed } });
      this.exploreCategories = Int32Array.from({ length: nCats }, (_, c) => c);
    } else {
      this.policy = null;
      this.exploreCategories = new Int32Array(0);
    }
  }

  async recommend(req: RouteRequest): Promise<RoutedList> {
    const ens = this.ensemble;
    const itemIds = ens.requireItemIds();
    const k = Math.max(0, Math.floor(req.k ?? 10));
    const user = req.userId !== undefined ? (ens.userIds?.indexOf(req.userId) ?? -1) : -1;
    const exclude = new Set<number>();
    for (const id of req.exclude ?? []) {
      const i = itemIds.indexOf(id);
      if (i >= 0) exclude.add(i);
    }
    let row: EnsembleRow;
    if (req.history) {
      const items: number[] = [];
      const values: number[] = [];
      for (const h of req.history) {
        const i = itemIds.indexOf(h.productId);
        if (i < 0) continue;
        items.push(i);
        values.push(h.value ?? 1);
      }
      row = await ens.recommendForHistory(Int32Array.from(items), Float32Array.from(values), k, { user, demographics: req.demographics, exclude, record: true });
    } else if (user >= 0) {
      row = await ens.recommendForHistory(ens.historyItems(user), ens.historyValues(user), k, { user, exclude, record: true });
    } else {
      row = await ens.recommendForHistory(new Int32Array(0), new Float32Array(0), k, { user: -1, demographics: req.demographics, exclude, record: true });
    }
    if (this.policy) row = this.explore(row, k);
    const items: RoutedItem[] = [];
    const effects = row.effects ?? [];
    for (let j = 0; j < row.items.length; j++) {
      const item = row.items[j];
      const reasons = ens.reasonsFor(row, j, effects);
      if (req.explain) {
        const why = ens.explainItem(row, item);
        if (why) reasons.push(why);
      }
      items.push({ productId: itemIds.idOf(item), item, score: row.scores[j], reasons });
    }
    return { strategy: row.strategy, detail: row.detail, items, rules: effects };
  }

  /** Exploration slots: each configured position gets the best candidate of a category the policy picks. */
  private explore(row: EnsembleRow, k: number): EnsembleRow {
    const policy = this.policy as BanditPolicy;
    const slots = this.ensemble.router.exploration.slots.filter((p) => p < Math.min(k, row.items.length));
    if (slots.length === 0) return row;
    const items = Array.from(row.items);
    const scores = Array.from(row.scores);
    const explored = new Map<number, string>();
    for (const slot of slots) {
      const arm = policy.select(NO_CONTEXT);
      const category = this.exploreCategories[arm];
      const shown = new Set(items.slice(0, k));
      const pick = this.ensemble.bestOfCategory(category, shown, row.excluded);
      if (pick < 0) continue;
      items.splice(slot, 0, pick);
      scores.splice(slot, 0, Number.NaN);
      explored.set(pick, this.ensemble.categoryNames[category] ?? String(category));
    }
    const n = Math.min(k, items.length);
    return { ...row, items: Int32Array.from(items.slice(0, n)), scores: Float64Array.from(scores.slice(0, n)), explored };
  }

  /** Reward for an item shown in an exploration slot (1 = clicked/bought, 0 = ignored). */
  feedback(productId: string, reward: number): void {
    if (!this.policy || !this.ensemble.categories) return;
    const i = this.ensemble.requireItemIds().indexOf(productId);
    if (i < 0) return;
    const c = this.ensemble.categories[i];
    if (c >= 0) this.policy.update(NO_CONTEXT, c, reward);
  }
}
