/**
 * The fallback chain behind GET /v1/users/:userId/recommendations (after Gorse: cache →
 * precomputed → real time → popular, each step saying who answered):
 *
 *   lru  in-process LRU, key (user; model version, k, filters), short TTL
 *   l1   per-user Redis hash, same key, TTL l1TtlSeconds (createdAt in the value is checked too)
 *   l2   the list `recsys precompute` wrote for the served run, filtered; only for known users with
 *        no live events (their lists must reflect the events) who have not opted out
 *   l3   computed now: the model's stored user state ('personalized'); the training history plus
 *        live events folded in ('realtime': ALS recalculateUser, otherwise the new items excluded);
 *        popularity for unknown users without events ('cold-start-popularity') and opted-out users
 *
 * Results of l2/l3 are written back to the LRU and L1. Live events invalidate the user's entries,
 * and a list computed from state older than the user's latest event is not cached (an event that
 * lands while a request computes must not be overwritten by that request's stale list).
 */
import { createHash } from 'node:crypto';
import { RecsysError } from '../errors.js';
import type { Rankings } from '../models/recommender.js';
import { LruCache } from './cache/lru.js';
import { decodeList, encodeList, REASON_NONE, REASON_POPULAR, type EncodedList, type Strategy } from './cache/codec.js';
import type { LiveEvent, RedisTiers } from './cache/tiers.js';
import type { ServingConfig } from './config.js';
import type { ServingMetrics, Tier } from './metrics.js';
import { canFindSimilar, canFoldIn, type ServingModel } from './model.js';
import { SortedIndexSet, containsSorted, sortedUnique, unionSorted } from './sorted-set.js';

export interface Reason {
  kind: 'similar-to' | 'popular';
  itemId?: string;
}

export interface RecommendedItem {
  itemId: string;
  score: number;
  reasons: Reason[];
}

export interface RecommendationResult {
  userId: string;
  model: string;
  modelVersion: string;
  strategy: Strategy;
  tier: Tier;
  k: number;
  items: RecommendedItem[];
}

export interface SimilarResult {
  itemId: string;
  model: string;
  modelVersion: string;
  strategy: Strategy;
  tier: Exclude<Tier, 'l2'>;
  k: number;
  items: Array<{ itemId: string; score: number }>;
}

export interface RecommendQuery {
  userId: string;
  k: number;
  /** External item ids never to return. */
  exclude?: readonly string[];
  category?: string | null;
}

interface UserCache {
  variants: Map<string, { list: EncodedList; expiresAt: number }>;
}

const COLD_KEY = '\u0000cold';

export class RecommendationService {
  private readonly lru: LruCache<UserCache>;
  private readonly similarLru: LruCache<EncodedList>;
  private readonly localHistory: LruCache<LiveEvent[]>;
  /** Wall time (ms) of each user's latest event seen here: guards cache writes against races. */
  private readonly lastEvent: LruCache<number>;
  private readonly localOptOut = new Set<string>();
  /** Events Redis did not take (it was down); replayed when it is back. */
  private pending: LiveEvent[] = [];
  private readonly pendingInvalidations = new Set<string>();
  static readonly MAX_PENDING = 100000;

  constructor(
    private readonly config: Readonly<ServingConfig>,
    readonly tiers: RedisTiers,
    private readonly metrics: ServingMetrics,
  ) {
    this.lru = new LruCache(config.lruEntries, config.lruTtlMs);
    this.similarLru = new LruCache(config.lruEntries, config.lruTtlMs);
    const historyMs = config.historyTtlSeconds * 1000;
    this.localHistory = new LruCache(config.localHistoryUsers, historyMs);
    this.lastEvent = new LruCache(Math.max(config.localHistoryUsers, 1), Math.max(historyMs, 1));
  }

  /** Cache-variant key: everything besides the user that changes the list. */
  static variantKey(model: ServingModel, k: number, exclude: readonly string[], category: string | null): string {
    let ex = exclude.length > 0 ? [...new Set(exclude)].sort().join(',') : '';
    if (ex.length > 64) ex = createHash('sha1').update(ex).digest('base64url').slice(0, 22);
    return `${model.version}|${k}|${ex}|${category ?? ''}`;
  }

  async recommend(model: ServingModel, q: RecommendQuery): Promise<RecommendationResult> {
    const t0 = performance.now();
    const startedAt = Date.now();
    const exclude = q.exclude ?? [];
    const category = q.category ?? null;
    const categoryIndex = this.resolveCategory(model, category);
    const field = RecommendationService.variantKey(model, q.k, exclude, category);
    const user = q.userId;
    const userIndex = model.userIds.indexOf(user);
    const useLru = this.lru.enabled;

    // lru (unknown users are looked up under the shared cold-start key once Redis says they have no events)
    const localLive = this.localHistory.get(user, startedAt);
    if (useLru && (userIndex >= 0 || localLive)) {
      const hit = this.lruGet(user, field, startedAt);
      this.metrics.cache('lru', hit !== undefined);
      if (hit) return this.respond(model, user, 'lru', q.k, hit, t0);
    }

    // l1
    const redis = this.tiers.state !== 'disabled';
    if (redis && this.config.l1Enabled) {
      const value = await this.tiers.getL1(user, field);
      const list = decodeList(value);
      const fresh = list !== null && startedAt / 1000 - list.createdAt < this.config.l1TtlSeconds;
      this.metrics.cache('l1', fresh);
      if (list && fresh) {
        if (useLru) this.lruSet(user, field, list, startedAt);
        return this.respond(model, user, 'l1', q.k, list, t0);
      }
    }

    // l2 lookup and the user's live state, in one round trip
    const run = redis && userIndex >= 0 ? await this.tiers.currentRun(model.version) : null;
    const miss = redis ? await this.tiers.missLookup(user, run) : undefined;
    const live = miss ? miss.history : (localLive ?? []);
    const optedOut = miss ? miss.optedOut : this.localOptOut.has(user);
    const excludeIdx = sortedUnique(exclude.map((id) => model.itemIds.indexOf(id)).filter((i) => i >= 0));
    if (run && userIndex >= 0 && live.length === 0 && !optedOut) {
      const stored = decodeList(miss?.l2);
      const list = stored ? filterList(stored, q.k, excludeIdx, model, categoryIndex) : null;
      this.metrics.cache('l2', list !== null);
      if (list) {
        this.writeBack(user, field, list, startedAt, true);
        return this.respond(model, user, 'l2', q.k, list, t0);
      }
    }
    const cold = userIndex < 0 && live.length === 0;
    if (cold && useLru && !optedOut) {
      const hit = this.lruGet(COLD_KEY, field, startedAt);
      this.metrics.cache('lru', hit !== undefined);
      if (hit) return this.respond(model, user, 'lru', q.k, hit, t0);
    }

    // l3
    const list = await this.compute(model, userIndex, live, optedOut, q.k, excludeIdx, categoryIndex, startedAt);
    // Cold-start lists are shared by all unknown users: kept in process only, never per user in Redis.
    if (cold && optedOut) this.writeBack(user, field, list, startedAt, true);
    else this.writeBack(cold ? COLD_KEY : user, field, list, startedAt, !cold);
    return this.respond(model, user, 'l3', q.k, list, t0);
  }

  private resolveCategory(model: ServingModel, category: string | null): number | null {
    if (category === null) return null;
    const c = model.categoryIndex(category);
    if (c === null) {
      throw new RecsysError('RECSYS_ERR_USAGE', `querystring/category: model '${model.name}' was served without a catalogue, so it cannot filter by category. Start the server with --store (the DuckDB store holding the products).`, { field: 'category' });
    }
    // An unknown category is a valid filter that matches nothing; -1 never equals an item's category.
    return c;
  }

  private lruGet(user: string, field: string, now: number): EncodedList | undefined {
    const entry = this.lru.get(user, now);
    const v = entry?.variants.get(field);
    if (!v) return undefined;
    if (v.expiresAt <= now) {
      entry!.variants.delete(field);
      return undefined;
    }
    return v.list;
  }

  private lruSet(user: string, field: string, list: EncodedList, now: number): void {
    const entry = this.lru.get(user, now) ?? { variants: new Map() };
    entry.variants.set(field, { list, expiresAt: now + this.config.lruTtlMs });
    this.lru.set(user, entry, now);
  }

  private writeBack(user: string, field: string, list: EncodedList, startedAt: number, toRedis: boolean): void {
    // An event for this user arrived while we computed: the list may predate it, so do not cache it.
    const last = user === COLD_KEY ? undefined : this.lastEvent.get(user);
    if (last !== undefined && last >= startedAt) return;
    if (this.lru.enabled) this.lruSet(user, field, list, startedAt);
    if (toRedis && this.config.l1Enabled && this.tiers.state === 'ready') this.tiers.setL1(user, field, encodeList(list));
  }

  /** The L3 computation. Returns the list with reasons, createdAt = now. */
  private async compute(
    model: ServingModel, userIndex: number, live: readonly LiveEvent[], optedOut: boolean, k: number,
    explicit: Int32Array, categoryIndex: number | null, now: number,
  ): Promise<EncodedList> {
    const createdAt = Math.floor(now / 1000);
    const outside = categoryIndex === null ? new Int32Array(0) : model.itemCategory ? model.itemsOutsideCategory(categoryIndex) : new Int32Array(0);
    if (optedOut) return { ...popularList(model, k, unionSorted([explicit, outside])), strategy: 'opted-out-popularity', createdAt };

    // Live events → item indexes and weights (unknown items cannot be scored and are skipped).
    const liveWeights = new Map<number, number>();
    for (const e of live) {
      const i = model.itemIds.indexOf(e.itemId);
      if (i >= 0) liveWeights.set(i, (liveWeights.get(i) ?? 0) + model.eventWeights[e.type]);
    }
    const liveItems = sortedUnique([...liveWeights.keys()]);
    const trainItems = model.historyItems(userIndex);
    const m = model.recommender;

    if (userIndex < 0 && liveItems.length === 0) {
      return { ...popularList(model, k, unionSorted([explicit, outside])), strategy: 'cold-start-popularity', createdAt };
    }
    const reasonHistory = unionSorted([trainItems, liveItems]);
    const popular = m.name === 'popularity';
    let ranked: { items: Int32Array; scores: Float32Array };
    let strategy: Strategy;
    if (liveItems.length === 0) {
      strategy = 'personalized';
      const extra = unionSorted([explicit, outside]);
      const vector = model.ann ? model.userVector(userIndex) : null;
      const approx = vector ? annSearch(model, vector, k, unionSorted([trainItems, explicit]), categoryIndex) : null;
      if (approx) {
        ranked = approx;
      } else {
        const r = await m.recommend(Int32Array.of(userIndex), k, { exclude: model.history, excludeSets: [extra.length > 0 ? new SortedIndexSet(extra) : null] });
        ranked = trimRankings(r);
      }
    } else if (canFoldIn(m)) {
      strategy = 'realtime';
      // Training row + live events (weights summed per item) → an exact user vector, then rank.
      const values = new Float32Array(reasonHistory.length);
      const trainValues = model.historyValues(userIndex);
      for (let j = 0; j < trainItems.length; j++) {
        const pos = lowerBound(reasonHistory, trainItems[j]);
        values[pos] += trainValues[j];
      }
      for (const [i, w] of liveWeights) values[lowerBound(reasonHistory, i)] += w;
      const vector = m.recalculateUser(reasonHistory, values);
      const approx = model.ann ? annSearch(model, vector, k, unionSorted([reasonHistory, explicit]), categoryIndex) : null;
      ranked = approx ?? trimRankings(await m.recommendForVector(vector, k, unionSorted([reasonHistory, explicit, outside])));
    } else if (userIndex >= 0) {
      // No fold-in: the model's own list, minus what the user just interacted with.
      strategy = 'realtime';
      const extra = unionSorted([liveItems, explicit, outside]);
      const r = await m.recommend(Int32Array.of(userIndex), k, { exclude: model.history, excludeSets: [new SortedIndexSet(extra)] });
      ranked = trimRankings(r);
    } else {
      return { ...popularList(model, k, unionSorted([liveItems, explicit, outside])), strategy: 'cold-start-popularity', createdAt };
    }
    const reasons = model.reasonsFor(ranked.items, reasonHistory, this.config.reasonItems, popular);
    return { strategy, createdAt, items: ranked.items, scores: ranked.scores, reasons };
  }

  private respond(model: ServingModel, userId: string, tier: Tier, k: number, list: EncodedList, t0: number): RecommendationResult {
    const n = Math.min(k, list.items.length);
    const items: RecommendedItem[] = new Array(n);
    const ids = model.itemIds;
    for (let r = 0; r < n; r++) {
      const reason = list.reasons ? list.reasons[r] : REASON_NONE;
      items[r] = {
        itemId: ids.idOf(list.items[r]),
        score: list.scores[r],
        reasons: reason >= 0 ? [{ kind: 'similar-to', itemId: ids.idOf(reason) }] : reason === REASON_POPULAR ? [{ kind: 'popular' }] : [],
      };
    }
    this.metrics.tierDuration.observe({ tier }, (performance.now() - t0) / 1000);
    return { userId, model: model.name, modelVersion: model.version, strategy: list.strategy, tier, k, items };
  }

  // ---------------------------------------------------------------------------------------------
  // Similar items

  async similar(model: ServingModel, itemId: string, k: number): Promise<SimilarResult> {
    const t0 = performance.now();
    const item = model.itemIds.indexOf(itemId);
    if (item < 0) {
      throw new RecsysError('RECSYS_ERR_UNKNOWN_ITEM', `item '${itemId}' is not in model '${model.name}' (${model.nItems} items): check the id, or retrain with the new items`, { field: 'itemId' });
    }
    const key = `${model.version}\u0000${itemId}\u0000${k}`;
    const field = String(k);
    if (this.similarLru.enabled) {
      const hit = this.similarLru.get(key);
      this.metrics.cache('lru', hit !== undefined);
      if (hit) return this.respondSimilar(model, itemId, 'lru', k, hit, t0);
    }
    if (this.tiers.state !== 'disabled') {
      const list = decodeList(await this.tiers.getSimilar(model.version, itemId, field));
      this.metrics.cache('l1', list !== null);
      if (list) {
        this.similarLru.set(key, list);
        return this.respondSimilar(model, itemId, 'l1', k, list, t0);
      }
    }
    const m = model.recommender;
    let list: EncodedList;
    const createdAt = Math.floor(Date.now() / 1000);
    if (canFindSimilar(m)) {
      const r = trimRankings(await m.similarItems(Int32Array.of(item), k));
      list = { strategy: 'item-similarity', createdAt, items: r.items, scores: r.scores, reasons: null };
    } else {
      const r = model.coOccurrenceSimilar(item, k);
      list = { strategy: 'co-occurrence', createdAt, items: r.items, scores: r.scores, reasons: null };
    }
    this.similarLru.set(key, list);
    if (this.tiers.state === 'ready') this.tiers.setSimilar(model.version, itemId, field, encodeList(list));
    return this.respondSimilar(model, itemId, 'l3', k, list, t0);
  }

  private respondSimilar(model: ServingModel, itemId: string, tier: SimilarResult['tier'], k: number, list: EncodedList, t0: number): SimilarResult {
    const n = Math.min(k, list.items.length);
    const items = new Array<{ itemId: string; score: number }>(n);
    for (let r = 0; r < n; r++) items[r] = { itemId: model.itemIds.idOf(list.items[r]), score: list.scores[r] };
    this.metrics.tierDuration.observe({ tier }, (performance.now() - t0) / 1000);
    return { itemId, model: model.name, modelVersion: model.version, strategy: list.strategy, tier, k, items };
  }

  // ---------------------------------------------------------------------------------------------
  // Events, opt-out, deletion

  /** Take a validated batch: local state first (this instance is real time even without Redis), then Redis. */
  async ingest(events: readonly LiveEvent[]): Promise<{ accepted: number; persisted: boolean; users: number }> {
    const now = Date.now();
    const users = new Set<string>();
    for (const e of events) {
      users.add(e.userId);
      const h = this.localHistory.get(e.userId, now) ?? [];
      h.unshift(e);
      if (h.length > this.config.historyLength) h.length = this.config.historyLength;
      this.localHistory.set(e.userId, h, now);
      this.metrics.eventsIngested.inc({ type: e.type });
    }
    for (const u of users) {
      this.lastEvent.set(u, now, now);
      this.lru.delete(u);
    }
    let persisted = false;
    if (this.tiers.state !== 'disabled') {
      persisted = await this.tiers.appendEvents(events);
      if (!persisted) this.keepPending(events, users);
    }
    return { accepted: events.length, persisted, users: users.size };
  }

  private keepPending(events: readonly LiveEvent[], users: ReadonlySet<string>): void {
    const room = RecommendationService.MAX_PENDING - this.pending.length;
    if (room > 0) this.pending.push(...events.slice(0, room));
    for (const u of users) if (this.pendingInvalidations.size < RecommendationService.MAX_PENDING) this.pendingInvalidations.add(u);
  }

  /** Called when Redis is back: replay the events it missed and drop L1 lists they made stale. */
  async flushPending(): Promise<{ events: number; invalidated: number }> {
    const events = this.pending;
    const users = [...this.pendingInvalidations];
    this.pending = [];
    this.pendingInvalidations.clear();
    let sent = 0;
    if (events.length > 0) {
      if (await this.tiers.appendEvents(events)) sent = events.length;
      else this.keepPending(events, new Set(events.map((e) => e.userId)));
    }
    let invalidated = 0;
    for (const u of users) if (await this.tiers.invalidateUser(u)) invalidated++;
    return { events: sent, invalidated };
  }

  get pendingEvents(): number {
    return this.pending.length;
  }

  async setOptOut(user: string, optedOut: boolean): Promise<{ persisted: boolean }> {
    if (optedOut) this.localOptOut.add(user);
    else this.localOptOut.delete(user);
    this.lru.delete(user);
    this.lastEvent.set(user, Date.now());
    const persisted = this.tiers.state === 'disabled' ? false : await this.tiers.setOptOut(user, optedOut);
    return { persisted };
  }

  async deleteUser(user: string, models: readonly ServingModel[]): Promise<{ persisted: boolean; purged: Record<string, number> }> {
    this.lru.delete(user);
    this.localHistory.delete(user);
    this.localOptOut.delete(user);
    this.lastEvent.set(user, Date.now());
    this.pending = this.pending.filter((e) => e.userId !== user);
    const runs: string[] = [];
    for (const m of models) {
      const run = await this.tiers.currentRun(m.version, 0);
      if (run) runs.push(run);
    }
    const purged = this.tiers.state === 'disabled' ? undefined : await this.tiers.deleteUser(user, runs);
    return { persisted: purged !== undefined, purged: { ...(purged ?? {}) } };
  }

  /** Drop every in-process cached list (model reload). */
  clearLocalCaches(): void {
    this.lru.clear();
    this.similarLru.clear();
    this.tiers.resetPointers();
  }
}

function lowerBound(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * L3 through the model's IVF index; null (exact scoring instead) when it returns fewer than k
 * items although the catalogue holds more (a narrow category filter can empty the probed lists).
 */
function annSearch(model: ServingModel, vector: Float32Array, k: number, exclude: Int32Array, categoryIndex: number | null): { items: Int32Array; scores: Float32Array } | null {
  const ann = model.ann!;
  const cat = categoryIndex === null ? null : model.itemCategory;
  const r = ann.search(vector, k, { probes: model.annProbes, exclude, allow: cat ? (i) => cat[i] === categoryIndex : null });
  if (r.items.length < k && model.nItems - exclude.length > r.items.length) return null;
  return { items: r.items, scores: r.scores };
}

/** Drop the -1 padding of a one-row Rankings. */
function trimRankings(r: Rankings): { items: Int32Array; scores: Float32Array } {
  let n = 0;
  while (n < r.k && r.items[n] >= 0) n++;
  return { items: r.items.slice(0, n), scores: r.scores.slice(0, n) };
}

/** The model's cold-start list minus `excluded` (sorted), first k. */
function popularList(model: ServingModel, k: number, excluded: Int32Array): Omit<EncodedList, 'strategy' | 'createdAt'> {
  const order = model.fallbackItems;
  const items: number[] = [];
  const scores: number[] = [];
  for (let j = 0; j < order.length && items.length < k; j++) {
    if (excluded.length > 0 && containsSorted(excluded, order[j])) continue;
    items.push(order[j]);
    scores.push(model.fallbackScores[j]);
  }
  return { items: Int32Array.from(items), scores: Float32Array.from(scores), reasons: new Int32Array(items.length).fill(REASON_POPULAR) };
}

/** A precomputed list with request filters applied; null when fewer than k items survive. */
function filterList(list: EncodedList, k: number, excluded: Int32Array, model: ServingModel, categoryIndex: number | null): EncodedList | null {
  const n = list.items.length;
  if (excluded.length === 0 && categoryIndex === null) return n >= k ? list : null;
  const keep: number[] = [];
  for (let r = 0; r < n && keep.length < k; r++) {
    const i = list.items[r];
    if (excluded.length > 0 && containsSorted(excluded, i)) continue;
    if (categoryIndex !== null && (!model.itemCategory || model.itemCategory[i] !== categoryIndex)) continue;
    keep.push(r);
  }
  if (keep.length < k) return null;
  if (keep.length === n) return list;
  return {
    strategy: list.strategy,
    createdAt: list.createdAt,
    items: Int32Array.from(keep, (r) => list.items[r]),
    scores: Float32Array.from(keep, (r) => list.scores[r]),
    reasons: list.reasons ? Int32Array.from(keep, (r) => list.reasons![r]) : null,
  };
}
