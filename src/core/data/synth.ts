/**
 * Synthetic e-commerce dataset generator (`recsys datasets synth`, and the embedded default of
 * `recsys quickstart` and of the tests). Writes users, products and view/click/cart/purchase events
 * to Parquet (or CSV) plus a dataset.json, streaming: events are generated per user into typed-array
 * chunks, appended to an on-disk DuckDB table, and copied to the output file, so memory stays
 * bounded at 100M events (DuckDB spills to a temp directory under its memory limit).
 *
 * The latent-taste model (shaped like the peers' synthetic data in research/baselines.md):
 *   - K hidden communities; community k has a category mixture (a primary category 0.6, two
 *     secondaries 0.2 each) and preferred brands / adjectives / nouns / materials, so product
 *     content carries part of the hidden structure.
 *   - Product i: community uniform over K, category from its community's mixture, popularity weight
 *     pop_i = rank_i^-0.8 over a random rank permutation; price log-normal per category × brand premium.
 *   - User u: age band and country from weighted lists; community drawn from
 *     softmax(base_k + 1.2·[country ∈ home_k] + 1.5·ageTilt_k·z_age), and two favourite categories from
 *     softmax(ln weight_c + 1.5·ageTilt_c·z_age), so demographics predict taste.
 *     Activity (events) ∝ rank^-0.5 over a random rank permutation, allocated exactly to the total.
 *   - Each visit draws an item: 50% ∝ pop within the user's community, 20% ∝ pop within a favourite
 *     category, 30% ∝ global pop (or, 15% of the time, re-views an item already seen); products
 *     launched inside the span are only drawn after their launch.
 *   - Funnel per visit: view → click (0.3) → cart (0.35) → purchase (0.6·min(1, √(median/price))),
 *     each step a few seconds to minutes after the previous one, so a purchase always has an earlier
 *     view and click of the same pair.
 *   - Time: each user's events fall in sessions whose starts are uniform over the user's active window
 *     [max(span start, created_at + 60 s), span end); timestamps strictly increase per user.
 *
 * Output (ids are one-based, zero-padded to at least 6 digits: 'u000001', 'p000001'):
 *   users.parquet        user_id, created_at, age_band, country
 *   products.parquet     product_id, title, description, category, brand, price, created_at
 *   interactions.parquet user_id, product_id, interaction_type, value (1.0), timestamp
 *                        (ordered by user_id, then timestamp)
 *   dataset.json         parameters, seed, counts written, schema, description
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBDataChunk, DuckDBInstance, DuckDBIntegerVector, INTEGER } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { Rng } from '../rng.js';
import { AGE_BANDS, CATEGORY_VOCAB, COUNTRIES, LINE_SUFFIXES } from './synth-vocab.js';
import type { CategoryVocab } from './synth-vocab.js';

export type SynthFormat = 'parquet' | 'csv';

export interface SynthOptions {
  users: number;
  products: number;
  /** Number of events (rows of interactions), not distinct pairs. */
  interactions: number;
  seed: number;
  outDir: string;
  /** Number of product categories (default 20; up to 260: past the 26 vocabularies they repeat as product lines "II", "III", …). */
  categories?: number;
  /** Number of hidden taste communities (default 50). */
  communities?: number;
  format?: SynthFormat;
  progress?: Progress;
  /** Length of the event span in days (default 180). */
  days?: number;
  /** First day of the event span, ISO date (default '2025-01-01'). */
  startDate?: string;
  /** Events per generated chunk (default 1,048,576); bounds the JS-side memory. */
  chunkRows?: number;
  /** DuckDB memory_limit while writing (default '1GB'); DuckDB spills beyond it. */
  memoryLimit?: string;
}

export interface SynthCounts {
  users: number;
  products: number;
  /** Events written. */
  interactions: number;
  distinctPairs: number;
  byType: Record<InteractionType, number>;
  categories: number;
  communities: number;
  /** Users with at least one event. */
  activeUsers: number;
  /** Products with at least one event. */
  activeProducts: number;
}

export interface SynthResult {
  outDir: string;
  format: SynthFormat;
  files: { users: string; products: string; interactions: string; dataset: string };
  counts: SynthCounts;
  span: { start: string; end: string; days: number };
  seconds: number;
  timings: { world: number; users: number; products: number; interactions: number; write: number };
}

export const INTERACTION_TYPES = ['view', 'click', 'cart', 'purchase'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/**
 * Sizes used elsewhere. `quickstart` is the embedded default (about 26.5k distinct pairs).
 * `peers` matches the synthetic data of research/baselines.md: 100k users × 20k items with about
 * 5.0M distinct pairs (events repeat pairs through the funnel and re-views: 9.2M events → 5.02M pairs at seed 42).
 */
export const SYNTH_PRESETS = {
  quickstart: { users: 2000, products: 500, interactions: 60_000 },
  peers: { users: 100_000, products: 20_000, interactions: 9_200_000 },
} as const;

export const SYNTH_DEFAULTS = {
  categories: 20,
  communities: 50,
  format: 'parquet' as SynthFormat,
  days: 180,
  startDate: '2025-01-01',
  chunkRows: 1 << 20,
  memoryLimit: '1GB',
};

/** The generative model's constants, written to dataset.json so a file says how it was made. */
export const SYNTH_MODEL = {
  itemPopularityExponent: 0.8,
  userActivityExponent: 0.5,
  communityShare: 0.5,
  favouriteCategoryShare: 0.2,
  globalPopularityShare: 0.3,
  revisitProbability: 0.15,
  clickProbability: 0.3,
  cartProbability: 0.35,
  purchaseProbabilityMax: 0.6,
  eventsPerSession: 4,
  newProductShare: 0.15,
  lateUserShare: 0.3,
  ageStrength: 1.5,
  countryStrength: 1.2,
  primaryCategoryShare: 0.6,
  contentPreference: 0.5,
} as const;

interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  readonly description: string;
}

export const SYNTH_SCHEMA: Readonly<Record<'users' | 'products' | 'interactions', readonly ColumnSpec[]>> = {
  users: [
    { name: 'user_id', type: 'VARCHAR', description: "one-based, zero-padded: 'u000001'" },
    { name: 'created_at', type: 'TIMESTAMP', description: 'account creation (UTC); before the user\'s first event' },
    { name: 'age_band', type: 'VARCHAR', description: AGE_BANDS.map((a) => a.band).join(', ') },
    { name: 'country', type: 'VARCHAR', description: 'ISO 3166-1 alpha-2 code' },
  ],
  products: [
    { name: 'product_id', type: 'VARCHAR', description: "one-based, zero-padded: 'p000001'" },
    { name: 'title', type: 'VARCHAR', description: 'brand + adjectives + noun + material, from the category vocabulary' },
    { name: 'description', type: 'VARCHAR', description: 'one or two sentences from the category vocabulary' },
    { name: 'category', type: 'VARCHAR', description: 'category label' },
    { name: 'brand', type: 'VARCHAR', description: 'brand name (per-category list)' },
    { name: 'price', type: 'DOUBLE', description: 'log-normal per category × brand premium, ending in .99' },
    { name: 'created_at', type: 'TIMESTAMP', description: 'launch time (UTC); never after the product\'s first event' },
  ],
  interactions: [
    { name: 'user_id', type: 'VARCHAR', description: 'references users.user_id' },
    { name: 'product_id', type: 'VARCHAR', description: 'references products.product_id' },
    { name: 'interaction_type', type: 'VARCHAR', description: INTERACTION_TYPES.join(', ') },
    { name: 'value', type: 'DOUBLE', description: 'always 1.0 (weight by interaction_type at ingest)' },
    { name: 'timestamp', type: 'TIMESTAMP', description: 'UTC; strictly increasing per user; rows ordered by user_id then timestamp' },
  ],
};

const DAY = 86_400;
const YEAR = 365 * DAY;
const INV_TWO32 = 1 / 4294967296;
const MAX_EVENTS_PER_USER = 20_000_000;

// ───────────────────────────── sampling helpers ─────────────────────────────

/** Alias tables (Vose) for several groups of items at once, flattened: group g spans offsets[g]..offsets[g+1). */
export interface GroupedAlias {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly prob: Float64Array;
  /** Local index (within the group) of the alias. */
  readonly alias: Int32Array;
}

/**
 * Builds one alias table per group over `weights` (items with group -1 are left out). Items keep
 * ascending order within their group, so the tables depend only on the inputs.
 */
export function buildGroupedAlias(groupOf: Int32Array, nGroups: number, weights: Float64Array): GroupedAlias {
  const counts = new Int32Array(nGroups + 1);
  for (let i = 0; i < groupOf.length; i++) if (groupOf[i] >= 0) counts[groupOf[i] + 1]++;
  const offsets = new Int32Array(nGroups + 1);
  for (let g = 0; g < nGroups; g++) offsets[g + 1] = offsets[g] + counts[g + 1];
  const items = new Int32Array(offsets[nGroups]);
  const fill = offsets.slice(0, nGroups);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i];
    if (g >= 0) items[fill[g]++] = i;
  }
  const prob = new Float64Array(items.length);
  const alias = new Int32Array(items.length);
  const small = new Int32Array(items.length);
  const large = new Int32Array(items.length);
  for (let g = 0; g < nGroups; g++) {
    const off = offsets[g];
    const n = offsets[g + 1] - off;
    if (n === 0) continue;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += weights[items[off + j]];
    let ns = 0;
    let nl = 0;
    for (let j = 0; j < n; j++) {
      const p = sum > 0 ? (weights[items[off + j]] * n) / sum : 1;
      prob[off + j] = p;
      if (p < 1) small[ns++] = j;
      else large[nl++] = j;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[nl - 1];
      alias[off + s] = l;
      prob[off + l] += prob[off + s] - 1;
      if (prob[off + l] < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    // Leftovers are 1 up to rounding.
    while (nl > 0) prob[off + large[--nl]] = 1;
    while (ns > 0) prob[off + small[--ns]] = 1;
  }
  return { offsets, items, prob, alias };
}

/** One draw from group g (∝ its weights), or -1 when the group is empty. */
export function sampleGroup(t: GroupedAlias, g: number, rng: Rng): number {
  const off = t.offsets[g];
  const n = t.offsets[g + 1] - off;
  if (n === 0) return -1;
  const j = Math.floor(rng.nextUint32() * INV_TWO32 * n);
  return rng.nextUint32() * INV_TWO32 < t.prob[off + j] ? t.items[off + j] : t.items[off + t.alias[off + j]];
}

/** Index of a draw from cumulative weights cum[off .. off+n) (last entry = total). */
function sampleCumulative(cum: Float64Array, off: number, n: number, u: number): number {
  const target = u * cum[off + n - 1];
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[off + mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulative(weights: readonly number[]): Float64Array {
  const cum = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) cum[i] = s += weights[i];
  return cum;
}

/** Uniform in [0, 1) from one 32-bit draw: enough resolution for the event loop, half the cost of rng.next(). */
function u01(rng: Rng): number {
  return rng.nextUint32() * INV_TWO32;
}

function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - u01(rng)) * mean;
}

// ───────────────────────────── the world ─────────────────────────────

interface Category {
  readonly name: string;
  readonly vocab: CategoryVocab;
}

interface World {
  readonly categories: Category[];
  /** Per community: cumulative over categories (K × C). */
  readonly communityCategoryCum: Float64Array;
  /** Per (age band, country): cumulative over communities (A × N × K). */
  readonly communityPriorCum: Float64Array;
  /** Per age band: cumulative over categories (A × C). */
  readonly categoryPriorCum: Float64Array;
  /** Per community: preferred brand, noun, material and two adjectives (indexes taken modulo list length). */
  readonly prefBrand: Int32Array;
  readonly prefNoun: Int32Array;
  readonly prefMaterial: Int32Array;
  readonly prefAdjective: Int32Array;
}

function buildCategories(n: number): Category[] {
  const out: Category[] = [];
  for (let c = 0; c < n; c++) {
    const vocab = CATEGORY_VOCAB[c % CATEGORY_VOCAB.length];
    out.push({ name: vocab.name + LINE_SUFFIXES[Math.floor(c / CATEGORY_VOCAB.length)], vocab });
  }
  return out;
}

function softmaxCumInto(logits: Float64Array, out: Float64Array, off: number): void {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) out[off + i] = s += Math.exp(logits[i] - max);
}

function buildWorld(nCategories: number, nCommunities: number, rng: Rng): World {
  const categories = buildCategories(nCategories);
  const C = nCategories;
  const K = nCommunities;
  const A = AGE_BANDS.length;
  const N = COUNTRIES.length;
  const M = SYNTH_MODEL;

  // Community → category mixture: a primary category (spread evenly over a shuffled order) plus
  // two secondaries drawn ∝ category weight.
  const order = rng.shuffle(Int32Array.from({ length: C }, (_, i) => i));
  const catWeight = categories.map((c) => c.vocab.weight);
  const catCum = cumulative(catWeight);
  const communityCategoryCum = new Float64Array(K * C);
  const communityTilt = new Float64Array(K);
  const mix = new Float64Array(C);
  for (let k = 0; k < K; k++) {
    mix.fill(0);
    const primary = order[k % C];
    mix[primary] = C === 1 ? 1 : M.primaryCategoryShare;
    const nSecondary = Math.min(2, C - 1);
    for (let s = 0; s < nSecondary; s++) {
      let c = primary;
      for (let tries = 0; c === primary && tries < 64; tries++) c = sampleCumulative(catCum, 0, C, rng.next());
      if (c === primary) c = (primary + 1 + s) % C;
      mix[c] += (1 - M.primaryCategoryShare) / nSecondary;
    }
    let s = 0;
    for (let c = 0; c < C; c++) {
      communityCategoryCum[k * C + c] = s += mix[c];
      communityTilt[k] += mix[c] * categories[c].vocab.ageTilt;
    }
  }

  // Demographics → community prior.
  const base = new Float64Array(K);
  const home1 = new Int32Array(K);
  const home2 = new Int32Array(K);
  const countryCum = cumulative(COUNTRIES.map((c) => c.weight));
  for (let k = 0; k < K; k++) {
    base[k] = 0.5 * rng.normal();
    home1[k] = sampleCumulative(countryCum, 0, N, rng.next());
    home2[k] = rng.int(N);
  }
  const communityPriorCum = new Float64Array(A * N * K);
  const logits = new Float64Array(K);
  for (let a = 0; a < A; a++) {
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const home = home1[k] === n || home2[k] === n ? 1 : 0;
        logits[k] = base[k] + M.countryStrength * home + M.ageStrength * communityTilt[k] * AGE_BANDS[a].z;
      }
      softmaxCumInto(logits, communityPriorCum, (a * N + n) * K);
    }
  }

  // Age band → favourite-category prior.
  const categoryPriorCum = new Float64Array(A * C);
  const catLogits = new Float64Array(C);
  for (let a = 0; a < A; a++) {
    for (let c = 0; c < C; c++) {
      catLogits[c] = Math.log(categories[c].vocab.weight) + M.ageStrength * categories[c].vocab.ageTilt * AGE_BANDS[a].z;
    }
    softmaxCumInto(catLogits, categoryPriorCum, a * C);
  }

  const prefBrand = new Int32Array(K);
  const prefNoun = new Int32Array(K);
  const prefMaterial = new Int32Array(K);
  const prefAdjective = new Int32Array(2 * K);
  for (let k = 0; k < K; k++) {
    prefBrand[k] = rng.int(1 << 20);
    prefNoun[k] = rng.int(1 << 20);
    prefMaterial[k] = rng.int(1 << 20);
    prefAdjective[2 * k] = rng.int(1 << 20);
    prefAdjective[2 * k + 1] = rng.int(1 << 20);
  }
  return { categories, communityCategoryCum, communityPriorCum, categoryPriorCum, prefBrand, prefNoun, prefMaterial, prefAdjective };
}

// ───────────────────────────── products ─────────────────────────────

interface Products {
  readonly category: Int32Array;
  readonly community: Int32Array;
  readonly popularity: Float64Array;
  /** Launch time, seconds relative to the span start (negative = before it). */
  readonly created: Int32Array;
  readonly purchaseProb: Float32Array;
}

function titleCase(s: string): string {
  return s.replace(/(^|[\s-])([a-z])/g, (_, p: string, c: string) => p + c.toUpperCase());
}

function pick<T>(list: readonly T[], preferred: number, pPreferred: number, rng: Rng): T {
  return rng.next() < pPreferred ? list[preferred % list.length] : list[rng.int(list.length)];
}

/** Generates the catalogue: returns the per-product arrays the event model needs and streams rows to `emit`. */
function generateProducts(
  n: number,
  world: World,
  spanSeconds: number,
  rng: Rng,
  emit: (i: number, title: string, description: string, category: string, brand: string, price: number, created: number) => void,
): Products {
  const M = SYNTH_MODEL;
  const C = world.categories.length;
  const K = world.prefBrand.length;
  const category = new Int32Array(n);
  const community = new Int32Array(n);
  const popularity = new Float64Array(n);
  const created = new Int32Array(n);
  const purchaseProb = new Float32Array(n);
  const rank = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const p = M.contentPreference;
  const launchWindow = Math.max(1, spanSeconds > 14 * DAY ? spanSeconds - 7 * DAY : Math.floor(spanSeconds / 2));
  for (let i = 0; i < n; i++) {
    popularity[i] = Math.pow(rank[i] + 1, -M.itemPopularityExponent);
    const k = rng.int(K);
    community[i] = k;
    const c = sampleCumulative(world.communityCategoryCum, k * C, C, rng.next());
    category[i] = c;
    const v = world.categories[c].vocab;
    const brandIndex = rng.next() < p ? world.prefBrand[k] % v.brands.length : rng.int(v.brands.length);
    const brand = v.brands[brandIndex];
    const noun = pick(v.nouns, world.prefNoun[k], 0.4, rng);
    const adj1 = pick(v.adjectives, world.prefAdjective[2 * k], p, rng);
    let adj2: string | null = null;
    if (rng.next() < 0.6) {
      adj2 = pick(v.adjectives, world.prefAdjective[2 * k + 1], p, rng);
      if (adj2 === adj1) adj2 = null;
    }
    const material = pick(v.materials, world.prefMaterial[k], p, rng);
    const use = v.uses[rng.int(v.uses.length)];
    const material2 = rng.next() < 0.5 ? v.materials[rng.int(v.materials.length)] : null;
    const title = `${brand} ${titleCase(adj1)}${adj2 ? ' ' + titleCase(adj2) : ''} ${titleCase(noun)} with ${titleCase(material)}`;
    const description =
      `The ${brand} ${noun} is ${adj1}${adj2 ? ` and ${adj2}` : ''}, made with ${material}. Great for ${use}.` +
      (material2 && material2 !== material ? ` Also features ${material2}.` : '');
    const premium = Math.exp(0.5 * (v.brands.length > 1 ? brandIndex / (v.brands.length - 1) - 0.5 : 0));
    const raw = Math.exp(Math.log(v.priceMedian) + v.priceSigma * rng.normal()) * premium;
    const price = raw < 1.5 ? 0.99 : Math.round(raw) - 0.01;
    purchaseProb[i] = M.purchaseProbabilityMax * Math.min(1, Math.sqrt(v.priceMedian / price));
    // The most popular product is always old, so a draw before any launch has a fallback.
    const isNew = rank[i] !== 0 && rng.next() < M.newProductShare;
    created[i] = isNew ? Math.floor(rng.next() * launchWindow) : -Math.floor(DAY + rng.next() * (3 * YEAR - DAY));
    emit(i, title, description, world.categories[c].name, brand, price, created[i]);
  }
  return { category, community, popularity, created, purchaseProb };
}

// ───────────────────────────── users ─────────────────────────────

interface Users {
  readonly ageBand: Int32Array;
  readonly country: Int32Array;
  readonly community: Int32Array;
  readonly fav1: Int32Array;
  readonly fav2: Int32Array;
  /** Account creation, seconds relative to the span start. */
  readonly created: Int32Array;
  /** Events allotted to each user (sums to the requested total). */
  readonly budget: Int32Array;
}

function generateUsers(n: number, totalEvents: number, world: World, spanSeconds: number, rng: Rng): Users {
  const M = SYNTH_MODEL;
  const C = world.categories.length;
  const K = world.prefBrand.length;
  const N = COUNTRIES.length;
  const ageCum = cumulative(AGE_BANDS.map((a) => a.weight));
  const countryCum = cumulative(COUNTRIES.map((c) => c.weight));
  const ageBand = new Int32Array(n);
  const country = new Int32Array(n);
  const community = new Int32Array(n);
  const fav1 = new Int32Array(n);
  const fav2 = new Int32Array(n);
  const created = new Int32Array(n);
  for (let u = 0; u < n; u++) {
    const a = sampleCumulative(ageCum, 0, ageCum.length, rng.next());
    const c = sampleCumulative(countryCum, 0, N, rng.next());
    ageBand[u] = a;
    country[u] = c;
    community[u] = sampleCumulative(world.communityPriorCum, (a * N + c) * K, K, rng.next());
    fav1[u] = sampleCumulative(world.categoryPriorCum, a * C, C, rng.next());
    let f2 = fav1[u];
    for (let tries = 0; f2 === fav1[u] && tries < 8 && C > 1; tries++) f2 = sampleCumulative(world.categoryPriorCum, a * C, C, rng.next());
    fav2[u] = f2;
    created[u] =
      rng.next() < M.lateUserShare
        ? Math.floor(rng.next() * 0.7 * spanSeconds)
        : -Math.floor(60 + rng.next() * (3 * YEAR - 60));
  }
  // Activity ∝ rank^-0.5; at least one event each when the total allows, remainder to the most active.
  const rank = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const budget = new Int32Array(n);
  if (totalEvents < n) {
    for (let u = 0; u < n; u++) budget[u] = rank[u] < totalEvents ? 1 : 0;
  } else {
    const extra = totalEvents - n;
    let wsum = 0;
    for (let r = 0; r < n; r++) wsum += Math.pow(r + 1, -M.userActivityExponent);
    const most = 2 + Math.ceil(extra / wsum);
    if (most > MAX_EVENTS_PER_USER) {
      throw new RecsysError(
        'RECSYS_ERR_USAGE',
        `synth: ${totalEvents} interactions over ${n} users gives the most active user about ${most} events (limit ${MAX_EVENTS_PER_USER}); raise --users`,
        { flag: '--users' },
      );
    }
    const byRank = new Int32Array(n);
    let given = 0;
    for (let r = 0; r < n; r++) {
      byRank[r] = Math.floor((extra * Math.pow(r + 1, -M.userActivityExponent)) / wsum);
      given += byRank[r];
    }
    for (let r = 0; given < extra; r = (r + 1) % n, given++) byRank[r]++;
    for (let u = 0; u < n; u++) budget[u] = 1 + byRank[rank[u]];
  }
  return { ageBand, country, community, fav1, fav2, created, budget };
}

// ───────────────────────────── events ─────────────────────────────

interface EventSamplers {
  readonly byCommunity: GroupedAlias;
  readonly byCategory: GroupedAlias;
  readonly global: GroupedAlias;
  /** Products launched before the span (always non-empty). */
  readonly old: GroupedAlias;
}

/** Per-user scratch, sized to the largest budget. */
interface Scratch {
  item: Int32Array;
  type: Uint8Array;
  time: Int32Array;
  history: Int32Array;
  starts: Float64Array;
  perSession: Int32Array;
}

/** One user's events, written into scratch.item/type/time; returns the event count. */
function generateUserEvents(
  u: number,
  users: Users,
  products: Products,
  samplers: EventSamplers,
  spanSeconds: number,
  rng: Rng,
  s: Scratch,
): number {
  const M = SYNTH_MODEL;
  const n = users.budget[u];
  if (n === 0) return 0;
  const activeFrom = Math.max(0, users.created[u] + 60);
  const window = Math.max(1, spanSeconds - activeFrom);
  // Sessions: count ~ n / eventsPerSession with per-user spread; starts uniform in the window.
  const nSessions = Math.max(1, Math.min(n, Math.round((n / M.eventsPerSession) * (0.5 + u01(rng)))));
  const starts = s.starts.subarray(0, nSessions);
  for (let i = 0; i < nSessions; i++) starts[i] = activeFrom + Math.floor(u01(rng) * window);
  starts.sort();
  const perSession = s.perSession.subarray(0, nSessions);
  perSession.fill(1);
  for (let r = n - nSessions; r > 0; r--) perSession[Math.floor(u01(rng) * nSessions)]++;
  // Mean gap inside a session: short, and shorter for heavy users so sessions rarely overlap.
  const gapMean = Math.min(120, Math.max(2, window / (8 * n)));

  const community = users.community[u];
  const fav1 = users.fav1[u];
  const fav2 = users.fav2[u];
  let histLen = 0;
  let e = 0;
  let t = activeFrom - 1;
  // Keeps the timestamp strictly increasing and, when room allows, leaves 1 s per remaining event before the end.
  const advance = (proposed: number): number => {
    const latest = spanSeconds - (n - e);
    let next = latest > t ? Math.min(proposed, latest) : proposed;
    if (next <= t) next = t + 1;
    return next;
  };
  const emit = (item: number, type: number): void => {
    s.item[e] = item;
    s.type[e] = type;
    s.time[e] = t;
    e++;
  };
  for (let si = 0; si < nSessions; si++) {
    let quota = perSession[si];
    t = advance(starts[si]);
    let first = true;
    while (quota > 0) {
      if (!first) t = advance(t + 1 + Math.floor(exponential(rng, gapMean)));
      first = false;
      let item = -1;
      if (histLen > 0 && u01(rng) < M.revisitProbability) {
        item = s.history[Math.floor(u01(rng) * histLen)];
      } else {
        for (let tries = 0; tries < 8 && item < 0; tries++) {
          const r = u01(rng);
          let draw: number;
          if (r < M.communityShare) draw = sampleGroup(samplers.byCommunity, community, rng);
          else if (r < M.communityShare + M.favouriteCategoryShare) {
            draw = sampleGroup(samplers.byCategory, u01(rng) < 0.65 ? fav1 : fav2, rng);
          } else draw = sampleGroup(samplers.global, 0, rng);
          if (draw >= 0 && products.created[draw] <= t) item = draw;
        }
        if (item < 0) item = sampleGroup(samplers.old, 0, rng);
        s.history[histLen++] = item;
      }
      emit(item, 0);
      quota--;
      if (quota > 0 && u01(rng) < M.clickProbability) {
        t = advance(t + 1 + Math.floor(exponential(rng, gapMean)));
        emit(item, 1);
        quota--;
        if (quota > 0 && u01(rng) < M.cartProbability) {
          t = advance(t + 1 + Math.floor(exponential(rng, gapMean)));
          emit(item, 2);
          quota--;
          if (quota > 0 && u01(rng) < products.purchaseProb[item]) {
            t = advance(t + 1 + Math.floor(exponential(rng, 2 * gapMean)));
            emit(item, 3);
            quota--;
          }
        }
      }
    }
  }
  return e;
}

// ───────────────────────────── DuckDB writing ─────────────────────────────

/** Appends `count` rows of int32 columns through data chunks (about 4× faster than row-by-row appends). */
class IntChunkAppender {
  private readonly chunk: DuckDBDataChunk;

  constructor(private readonly appender: DuckDBAppender, private readonly nColumns: number) {
    this.chunk = DuckDBDataChunk.create(Array.from({ length: nColumns }, () => INTEGER), 2048);
  }

  append(columns: readonly Int32Array[], count: number): void {
    for (let off = 0; off < count; off += 2048) {
      const rows = Math.min(2048, count - off);
      this.chunk.reset();
      this.chunk.rowCount = rows;
      for (let c = 0; c < this.nColumns; c++) {
        const vector = this.chunk.getColumnVector(c);
        if (!(vector instanceof DuckDBIntegerVector)) throw new RecsysError('RECSYS_ERR_STORE', 'synth: expected an INTEGER vector');
        const src = columns[c];
        for (let r = 0; r < rows; r++) vector.setItem(r, src[off + r]);
        vector.flush();
      }
      this.appender.appendDataChunk(this.chunk);
    }
  }

  close(): void {
    this.appender.flushSync();
    this.appender.closeSync();
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

function copyOptions(format: SynthFormat): string {
  return format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : '(FORMAT csv, HEADER true)';
}

function validate(opts: SynthOptions): void {
  const int = (v: number, name: string, flag: string, min: number, max: number): void => {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RecsysError('RECSYS_ERR_USAGE', `synth: ${name} must be an integer in [${min}, ${max}], got ${v}; pass ${flag} <n>`, { flag });
    }
  };
  int(opts.users, 'users', '--users', 1, 100_000_000);
  int(opts.products, 'products', '--products', 1, 100_000_000);
  int(opts.interactions, 'interactions', '--interactions', 0, 10_000_000_000);
  int(opts.seed, 'seed', '--seed', 0, 0xffffffff);
  int(opts.categories ?? SYNTH_DEFAULTS.categories, 'categories', '--categories', 1, CATEGORY_VOCAB.length * LINE_SUFFIXES.length);
  int(opts.communities ?? SYNTH_DEFAULTS.communities, 'communities', '--communities', 1, 100_000);
  int(opts.days ?? SYNTH_DEFAULTS.days, 'days', '--days', 1, 3650);
  int(opts.chunkRows ?? SYNTH_DEFAULTS.chunkRows, 'chunkRows', '--chunk-rows', 1024, 1 << 26);
  const format = opts.format ?? SYNTH_DEFAULTS.format;
  if (format !== 'parquet' && format !== 'csv') {
    throw new RecsysError('RECSYS_ERR_USAGE', `synth: format must be parquet or csv, got ${String(format)}`, { flag: '--format' });
  }
  const start = opts.startDate ?? SYNTH_DEFAULTS.startDate;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || Number.isNaN(Date.parse(`${start}T00:00:00Z`))) {
    throw new RecsysError('RECSYS_ERR_USAGE', `synth: start date must be YYYY-MM-DD, got '${start}'`, { flag: '--start-date' });
  }
}

/**
 * Generates the dataset into `opts.outDir` (created if missing; existing files of the same names are
 * replaced). Deterministic for a given seed and options: the same seed gives the same rows in the
 * same order (and, in practice, byte-identical files for one DuckDB version).
 */
export async function generateSynth(opts: SynthOptions): Promise<SynthResult> {
  validate(opts);
  const t0 = performance.now();
  const format = opts.format ?? SYNTH_DEFAULTS.format;
  const nCategories = opts.categories ?? SYNTH_DEFAULTS.categories;
  const nCommunities = opts.communities ?? SYNTH_DEFAULTS.communities;
  const days = opts.days ?? SYNTH_DEFAULTS.days;
  const startDate = opts.startDate ?? SYNTH_DEFAULTS.startDate;
  const chunkRows = opts.chunkRows ?? SYNTH_DEFAULTS.chunkRows;
  const progress = opts.progress;
  const spanSeconds = days * DAY;
  const epoch = Date.parse(`${startDate}T00:00:00Z`) / 1000;
  const outDir = resolve(opts.outDir);
  const ext = format === 'parquet' ? 'parquet' : 'csv';
  const files = {
    users: join(outDir, `users.${ext}`),
    products: join(outDir, `products.${ext}`),
    interactions: join(outDir, `interactions.${ext}`),
    dataset: join(outDir, 'dataset.json'),
  };
  const userWidth = Math.max(6, String(opts.users).length);
  const productWidth = Math.max(6, String(opts.products).length);
  const timings = { world: 0, users: 0, products: 0, interactions: 0, write: 0 };
  const lap = (() => {
    let last = performance.now();
    return (): number => {
      const now = performance.now();
      const d = (now - last) / 1000;
      last = now;
      return d;
    };
  })();

  // Independent streams, so e.g. changing the product count does not reshuffle the users' demographics.
  const master = new Rng(opts.seed);
  const worldRng = master.fork();
  const productRng = master.fork();
  const userRng = master.fork();
  const eventRng = master.fork();

  const tmpDir = join(outDir, `.synth-tmp-${process.pid}-${Date.now()}`);
  try {
    await mkdir(tmpDir, { recursive: true });
  } catch (err) {
    throw new RecsysError(
      'RECSYS_ERR_USAGE',
      `synth: cannot create the output folder ${outDir} (${(err as Error).message}); pass --out <a writable folder>`,
      { flag: '--out', file: outDir },
      { cause: err },
    );
  }
  let instance: DuckDBInstance | null = null;
  let con: DuckDBConnection | null = null;
  try {
    instance = await DuckDBInstance.create(join(tmpDir, 'synth.duckdb'), {
      memory_limit: opts.memoryLimit ?? SYNTH_DEFAULTS.memoryLimit,
      temp_directory: join(tmpDir, 'spill'),
    });
    con = await instance.connect();
    const db = con;

    const world = buildWorld(nCategories, nCommunities, worldRng);
    timings.world = lap();

    // Products: strings built here, numbers mapped to SQL types on copy.
    progress?.start('synth products', opts.products);
    await db.run(
      'CREATE TABLE p (idx INTEGER, title VARCHAR, description VARCHAR, category VARCHAR, brand VARCHAR, price DOUBLE, created INTEGER)',
    );
    const productAppender = await db.createAppender('p');
    const tickEvery = Math.max(1, Math.floor(opts.products / 100));
    const products = generateProducts(opts.products, world, spanSeconds, productRng, (i, title, description, category, brand, price, created) => {
      productAppender.appendInteger(i);
      productAppender.appendVarchar(title);
      productAppender.appendVarchar(description);
      productAppender.appendVarchar(category);
      productAppender.appendVarchar(brand);
      productAppender.appendDouble(price);
      productAppender.appendInteger(created);
      productAppender.endRow();
      if ((i + 1) % tickEvery === 0) progress?.tick(tickEvery);
    });
    if (opts.products % tickEvery !== 0) progress?.tick(opts.products % tickEvery);
    productAppender.flushSync();
    productAppender.closeSync();
    progress?.stop();
    timings.products = lap();

    // Users.
    const users = generateUsers(opts.users, opts.interactions, world, spanSeconds, userRng);
    await db.run('CREATE TABLE u (idx INTEGER, created INTEGER, age INTEGER, country INTEGER)');
    const userAppender = new IntChunkAppender(await db.createAppender('u'), 4);
    userAppender.append([Int32Array.from({ length: opts.users }, (_, i) => i), users.created, users.ageBand, users.country], opts.users);
    userAppender.close();
    timings.users = lap();

    // Events, streamed in chunks.
    const samplers: EventSamplers = {
      byCommunity: buildGroupedAlias(products.community, nCommunities, products.popularity),
      byCategory: buildGroupedAlias(products.category, nCategories, products.popularity),
      global: buildGroupedAlias(new Int32Array(opts.products), 1, products.popularity),
      old: buildGroupedAlias(
        Int32Array.from(products.created, (c) => (c < 0 ? 0 : -1)),
        1,
        products.popularity,
      ),
    };
    let maxBudget = 1;
    for (let u = 0; u < opts.users; u++) if (users.budget[u] > maxBudget) maxBudget = users.budget[u];
    const scratch: Scratch = {
      item: new Int32Array(maxBudget),
      type: new Uint8Array(maxBudget),
      time: new Int32Array(maxBudget),
      history: new Int32Array(maxBudget),
      starts: new Float64Array(maxBudget),
      perSession: new Int32Array(maxBudget),
    };
    const bufRows = Math.min(chunkRows, Math.max(1, opts.interactions));
    const cu = new Int32Array(bufRows);
    const ci = new Int32Array(bufRows);
    const ck = new Int32Array(bufRows);
    const ct = new Int32Array(bufRows);
    await db.run('CREATE TABLE e (u INTEGER, i INTEGER, k INTEGER, t INTEGER)');
    const eventAppender = new IntChunkAppender(await db.createAppender('e'), 4);
    const seenBy = new Int32Array(opts.products).fill(-1);
    const productHit = new Uint8Array(opts.products);
    const byType = new Float64Array(4);
    let distinctPairs = 0;
    let activeUsers = 0;
    let written = 0;
    let fill = 0;
    progress?.start('synth events', opts.interactions);
    const flush = (): void => {
      if (fill === 0) return;
      eventAppender.append([cu, ci, ck, ct], fill);
      progress?.tick(fill);
      written += fill;
      fill = 0;
    };
    for (let u = 0; u < opts.users; u++) {
      // Users are generated in a fixed order from one stream; chunking only affects writing.
      const n = generateUserEvents(u, users, products, samplers, spanSeconds, eventRng, scratch);
      if (n > 0) activeUsers++;
      for (let e = 0; e < n; e++) {
        if (fill === bufRows) flush();
        const item = scratch.item[e];
        cu[fill] = u;
        ci[fill] = item;
        ck[fill] = scratch.type[e];
        ct[fill] = scratch.time[e];
        fill++;
        byType[scratch.type[e]]++;
        if (seenBy[item] !== u) {
          seenBy[item] = u;
          distinctPairs++;
          productHit[item] = 1;
        }
      }
    }
    flush();
    eventAppender.close();
    progress?.stop();
    timings.interactions = lap();

    // Copy the three tables out with their final types; write to temp names, then rename.
    progress?.start('synth write', 3);
    const ts = (col: string): string => `make_timestamp((${epoch} + ${col})::BIGINT * 1000000)`;
    const copies: Array<[string, string]> = [
      [
        `SELECT printf('u%0${userWidth}d', idx + 1) AS user_id, ${ts('created')} AS created_at,
           ${sqlList(AGE_BANDS.map((a) => a.band))}[age + 1] AS age_band,
           ${sqlList(COUNTRIES.map((c) => c.code))}[country + 1] AS country
         FROM u`,
        files.users,
      ],
      [
        `SELECT printf('p%0${productWidth}d', idx + 1) AS product_id, title, description, category, brand, price,
           ${ts('created')} AS created_at
         FROM p`,
        files.products,
      ],
      [
        `SELECT printf('u%0${userWidth}d', u + 1) AS user_id, printf('p%0${productWidth}d', i + 1) AS product_id,
           ${sqlList(INTERACTION_TYPES)}[k + 1] AS interaction_type, 1.0::DOUBLE AS value, ${ts('t')} AS timestamp
         FROM e`,
        files.interactions,
      ],
    ];
    for (const [select, file] of copies) {
      const tmp = `${file}.tmp`;
      await db.run(`COPY (${select}) TO ${sqlString(tmp)} ${copyOptions(format)}`);
      await rename(tmp, file);
      progress?.tick(1);
    }
    progress?.stop();
    timings.write = lap();

    let activeProducts = 0;
    for (let i = 0; i < opts.products; i++) activeProducts += productHit[i];
    const counts: SynthCounts = {
      users: opts.users,
      products: opts.products,
      interactions: written,
      distinctPairs,
      byType: { view: byType[0], click: byType[1], cart: byType[2], purchase: byType[3] },
      categories: nCategories,
      communities: nCommunities,
      activeUsers,
      activeProducts,
    };
    const span = {
      start: new Date(epoch * 1000).toISOString(),
      end: new Date((epoch + spanSeconds) * 1000).toISOString(),
      days,
    };
    const seconds = (performance.now() - t0) / 1000;
    const descriptor = {
      name: 'recsys-synth',
      version: 1,
      description:
        'Synthetic e-commerce events from a latent-taste model: hidden communities with category mixtures and ' +
        'content preferences, Zipf-like item popularity and user activity, demographics that shift taste, ' +
        'and a view → click → cart → purchase funnel in time-ordered sessions. Generated by recsys (src/core/data/synth.ts).',
      seed: opts.seed,
      params: {
        users: opts.users,
        products: opts.products,
        interactions: opts.interactions,
        categories: nCategories,
        communities: nCommunities,
        days,
        startDate,
        format,
      },
      model: SYNTH_MODEL,
      categories: world.categories.map((c) => c.name),
      counts,
      span,
      idFormat: { users: `u + ${userWidth}-digit one-based index`, products: `p + ${productWidth}-digit one-based index` },
      files: { users: `users.${ext}`, products: `products.${ext}`, interactions: `interactions.${ext}` },
      schema: SYNTH_SCHEMA,
    };
    await writeFile(`${files.dataset}.tmp`, JSON.stringify(descriptor, null, 2) + '\n');
    await rename(`${files.dataset}.tmp`, files.dataset);
    return { outDir, format, files, counts, span, seconds, timings };
  } catch (err) {
    if (err instanceof RecsysError) throw err;
    throw new RecsysError('RECSYS_ERR_STORE', `synth: writing into ${outDir} failed: ${(err as Error).message}`, { file: outDir }, { cause: err });
  } finally {
    con?.closeSync();
    instance?.closeSync();
    await rm(tmpDir, { recursive: true, force: true });
  }
}
