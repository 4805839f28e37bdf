/**
 * Business rules over one user's candidate list, as pure functions: a list in, a new list out, plus
 * (when `record` is set) what changed. No rule mutates its input, reads a clock or draws a random
 * number, so a rule's effect can be tested by hand and replayed in an ablation.
 *
 *   excludeBought    drop items in the user's sorted "bought" list (interaction types chosen in config)
 *   excludeLists     drop items of named explicit lists (out of stock, blocked, …)
 *   popularityBoost  s' = s + β·pop_i·|s|  (= s·(1 + β·pop_i) for s ≥ 0, the design's formula; with |s|
 *                    a negative z-score is lifted too instead of being pushed further down), pop ∈ [0, 1]
 *   newItemBoost     s' = s + boost·scale for items with 0 ≤ now − created_at < days·86400, where scale is
 *                    the blend's natural unit (1 for minmax and z-scores; the caller passes it): additive,
 *                    so a new item with a low or negative blended score can still be lifted
 *   sortByScore      score descending; equal scores by smaller item index ('index') or by higher
 *                    popularity, then smaller index ('popularity'): the deterministic tie-break
 *   diversifyMmr     maximal marginal relevance (Carbonell & Goldstein, SIGIR 1998) over categories:
 *                    greedily pick argmax λ·rel_j − (1 − λ)·max_{i∈S} sim(i, j) for the first k slots,
 *                    rel_j = (s_j − min s)/(max s − min s) over the list (1 for a flat list),
 *                    sim = 1 for two items of the same known category, else 0; ties: earlier item
 *   diversifyCap     at most maxPerCategory items of one category in the first k slots (items of an
 *                    unknown category are never capped); when the cap would leave slots empty, the
 *                    best capped items fill them (and the effect's note says so)
 *
 * After the first k slots the diversity rules keep the remaining items in their incoming order.
 */
import type { CandidateList, RuleEffect, RuleName, RuleResult } from './types.js';

const DAY_SECONDS = 86400;

function effect(rule: RuleName): RuleEffect {
  return { rule, removed: [], rescored: [], moved: [] };
}

/** A list keeping the positions where keep[j] = 1 (same order). */
function subset(list: CandidateList, keep: Uint8Array, kept: number): CandidateList {
  const items = new Int32Array(kept);
  const scores = new Float64Array(kept);
  const proposers = list.proposers ? new Uint32Array(kept) : undefined;
  let w = 0;
  for (let j = 0; j < list.items.length; j++) {
    if (!keep[j]) continue;
    items[w] = list.items[j];
    scores[w] = list.scores[j];
    if (proposers) proposers[w] = (list.proposers as Uint32Array)[j];
    w++;
  }
  return proposers ? { items, scores, proposers } : { items, scores };
}

/** A list in the order `order` (positions of `list`). */
function permute(list: CandidateList, order: ArrayLike<number>): CandidateList {
  const n = order.length;
  const items = new Int32Array(n);
  const scores = new Float64Array(n);
  const proposers = list.proposers ? new Uint32Array(n) : undefined;
  for (let j = 0; j < n; j++) {
    items[j] = list.items[order[j]];
    scores[j] = list.scores[order[j]];
    if (proposers) proposers[j] = (list.proposers as Uint32Array)[order[j]];
  }
  return proposers ? { items, scores, proposers } : { items, scores };
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

function recordMoves(e: RuleEffect, before: CandidateList, order: ArrayLike<number>): void {
  for (let to = 0; to < order.length; to++) {
    const from = order[to];
    if (from !== to) e.moved.push({ item: before.items[from], from, to });
  }
}

/** Drop the items of the user's sorted `bought` list. */
export function excludeBought(list: CandidateList, bought: Int32Array | null | undefined, record = false): RuleResult {
  if (!bought || bought.length === 0) return { list, effect: record ? effect('excludeBought') : null };
  const keep = new Uint8Array(list.items.length);
  let kept = 0;
  const e = record ? effect('excludeBought') : null;
  for (let j = 0; j < list.items.length; j++) {
    if (sortedHas(bought, list.items[j])) {
      e?.removed.push({ item: list.items[j], reason: 'bought' });
      continue;
    }
    keep[j] = 1;
    kept++;
  }
  return { list: kept === list.items.length ? list : subset(list, keep, kept), effect: e };
}

/** Drop the items of named explicit lists; the effect names the list that removed each item. */
export function excludeLists(list: CandidateList, lists: ReadonlyMap<string, ReadonlySet<number>> | null | undefined, record = false): RuleResult {
  if (!lists || lists.size === 0) return { list, effect: record ? effect('excludeLists') : null };
  const keep = new Uint8Array(list.items.length);
  let kept = 0;
  const e = record ? effect('excludeLists') : null;
  outer: for (let j = 0; j < list.items.length; j++) {
    const item = list.items[j];
    for (const [name, set] of lists) {
      if (set.has(item)) {
        e?.removed.push({ item, reason: name });
        continue outer;
      }
    }
    keep[j] = 1;
    kept++;
  }
  return { list: kept === list.items.length ? list : subset(list, keep, kept), effect: e };
}

/** s' = s + β·pop_i·|s| (the design's s·(1 + β·pop) for s ≥ 0). */
export function popularityBoost(list: CandidateList, popularity: Float32Array | null | undefined, beta: number, record = false): RuleResult {
  if (!popularity || beta === 0 || list.items.length === 0) return { list, effect: record ? effect('popularityBoost') : null };
  const scores = new Float64Array(list.scores.length);
  const e = record ? effect('popularityBoost') : null;
  for (let j = 0; j < scores.length; j++) {
    const s = list.scores[j];
    const item = list.items[j];
    const p = item >= 0 && item < popularity.length ? popularity[item] : 0;
    const after = Number.isFinite(s) ? s + beta * p * Math.abs(s) : s;
    scores[j] = after;
    if (e && after !== s) e.rescored.push({ item, before: s, after });
  }
  return { list: { ...list, scores }, effect: e };
}

/** Whether item's created_at lies in [now − days, now]. */
export function isNewItem(createdAt: Float64Array, item: number, now: number, days: number): boolean {
  if (item < 0 || item >= createdAt.length) return false;
  const age = now - createdAt[item];
  return age >= 0 && age < days * DAY_SECONDS;
}

/** s' = s + boost·scale for items created in the last `days` days before `now`. */
export function newItemBoost(
  list: CandidateList,
  createdAt: Float64Array | null | undefined,
  now: number | undefined,
  days: number,
  boost: number,
  scale = 1,
  record = false,
): RuleResult {
  if (!createdAt || now === undefined || !Number.isFinite(now) || boost === 0 || !(scale > 0) || list.items.length === 0) {
    return { list, effect: record ? effect('newItemBoost') : null };
  }
  let scores: Float64Array | null = null;
  const e = record ? effect('newItemBoost') : null;
  for (let j = 0; j < list.items.length; j++) {
    const item = list.items[j];
    if (!isNewItem(createdAt, item, now, days)) continue;
    const s = list.scores[j];
    if (!Number.isFinite(s)) continue;
    scores ??= Float64Array.from(list.scores);
    const after = s + boost * scale;
    scores[j] = after;
    if (e) e.rescored.push({ item, before: s, after });
  }
  return { list: scores ? { ...list, scores } : list, effect: e };
}

/**
 * Score descending with a deterministic tie-break. The effect records moved items and, in `note`,
 * how many adjacent pairs of the result had equal scores (decided by the tie-break).
 */
export function sortByScore(list: CandidateList, by: 'index' | 'popularity', popularity: Float32Array | null | undefined, record = false): RuleResult {
  const n = list.items.length;
  const order = Array.from({ length: n }, (_, j) => j);
  const s = list.scores;
  const it = list.items;
  const pop = by === 'popularity' && popularity ? popularity : null;
  const key = (j: number): number => (Number.isNaN(s[j]) ? -Infinity : s[j]);
  order.sort((a, b) => {
    const sa = key(a);
    const sb = key(b);
    if (sa !== sb) return sb > sa ? 1 : -1;
    if (pop) {
      const pa = it[a] >= 0 && it[a] < pop.length ? pop[it[a]] : 0;
      const pb = it[b] >= 0 && it[b] < pop.length ? pop[it[b]] : 0;
      if (pa !== pb) return pb - pa;
    }
    return it[a] - it[b];
  });
  let same = true;
  for (let j = 0; j < n && same; j++) same = order[j] === j;
  const e = record ? effect('tieBreak') : null;
  if (e) {
    recordMoves(e, list, order);
    let ties = 0;
    for (let j = 1; j < n; j++) if (key(order[j]) === key(order[j - 1])) ties++;
    if (ties > 0) e.note = `${ties} equal-score neighbour pair(s) ordered by ${by === 'popularity' ? 'popularity, then item index' : 'item index'}`;
  }
  return { list: same ? list : permute(list, order), effect: e };
}

/** Maximal marginal relevance over categories for the first k slots (see the module comment). */
export function diversifyMmr(list: CandidateList, categories: Int32Array | null | undefined, lambda: number, k: number, record = false): RuleResult {
  const n = list.items.length;
  const slots = Math.min(k, n);
  if (!categories || lambda >= 1 || slots <= 1) return { list, effect: record ? effect('diversity') : null };
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = list.scores[j];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  const rel = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const v = list.scores[j];
    rel[j] = !Number.isFinite(v) ? -Infinity : range > 0 ? (v - lo) / range : 1;
  }
  const catOf = (j: number): number => {
    const item = list.items[j];
    return item >= 0 && item < categories.length ? categories[item] : -1;
  };
  const taken = new Uint8Array(n);
  const shown = new Set<number>();
  const order: number[] = [];
  for (let step = 0; step < slots; step++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let j = 0; j < n; j++) {
      if (taken[j]) continue;
      const c = catOf(j);
      const sim = c >= 0 && shown.has(c) ? 1 : 0;
      const value = rel[j] === -Infinity ? -Infinity : lambda * rel[j] - (1 - lambda) * sim;
      if (best < 0 || value > bestValue) {
        best = j;
        bestValue = value;
      }
    }
    taken[best] = 1;
    order.push(best);
    const c = catOf(best);
    if (c >= 0) shown.add(c);
  }
  for (let j = 0; j < n; j++) if (!taken[j]) order.push(j);
  const e = record ? effect('diversity') : null;
  if (e) recordMoves(e, list, order);
  return { list: permute(list, order), effect: e };
}

/** At most maxPerCategory items per category in the first k slots, relaxed rather than leaving slots empty. */
export function diversifyCap(list: CandidateList, categories: Int32Array | null | undefined, maxPerCategory: number, k: number, record = false): RuleResult {
  const n = list.items.length;
  const slots = Math.min(k, n);
  if (!categories || slots === 0) return { list, effect: record ? effect('diversity') : null };
  const counts = new Map<number, number>();
  const taken = new Uint8Array(n);
  const order: number[] = [];
  for (let j = 0; j < n && order.length < slots; j++) {
    const item = list.items[j];
    const c = item >= 0 && item < categories.length ? categories[item] : -1;
    if (c >= 0) {
      const have = counts.get(c) ?? 0;
      if (have >= maxPerCategory) continue;
      counts.set(c, have + 1);
    }
    taken[j] = 1;
    order.push(j);
  }
  let relaxed = 0;
  for (let j = 0; j < n && order.length < slots; j++) {
    if (taken[j]) continue;
    taken[j] = 1;
    order.push(j);
    relaxed++;
  }
  for (let j = 0; j < n; j++) if (!taken[j]) order.push(j);
  const e = record ? effect('diversity') : null;
  if (e) {
    recordMoves(e, list, order);
    if (relaxed > 0) e.note = `category cap relaxed: ${relaxed} slot(s) filled over the cap of ${maxPerCategory} (not enough other categories)`;
  }
  return { list: permute(list, order), effect: e };
}
