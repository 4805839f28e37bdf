/**
 * The ensemble: the model `serve` exposes. Members are trained models (artifacts of any kind:
 * popularity, ALS, content, two-tower, … — any subset). For each user (the seed design's
 * EnsembleRecommender, made measurable):
 *
 *   1. candidates  every member proposes its top-N (N = 50, or k when larger), exclusions applied;
 *                  the union is taken, plus up to `newItemBoost.candidates` in-window new products;
 *   2. scoring     every member scores every candidate (a member that cannot: "missing", see normalize.ts);
 *   3. normalise   per (member, user) with the statistics of the member's own top-N (minmax by default;
 *                  zscore, reciprocal-rank, or `none` = the design's raw weighted sum);
 *   4. blend       s_i = Σ_m w_m n_m(i), weights on the simplex: given (`--member-weights`) or learned on
 *                  a validation split carved from train (learn-weights.ts, maximising NDCG@10);
 *   5. rerank      the business rules of core/rerank (exclusions, popularity and new-item boosts, the
 *                  deterministic sort, optional diversity), cut at k.
 *
 * Users are routed first (core/router.ts): ≥ minHistory interactions → the blend above; fewer → the
 * blend of the members that can use a short history (content profile, ALS fold-in); none → the
 * popular items of the user's demographic segment, else global popularity. Every row says which
 * strategy answered; with `record` it also carries what each rule changed, for `reasons`.
 *
 * The artifact holds member references (artifact directories, stored relative to the ensemble so a
 * models/ folder can move as a whole; members trained by the ensemble itself live under members/),
 * the weights (and the learning report), the rules and router config, item popularity / categories /
 * creation times, the users' histories, the demographic segments, and the "bought" lists.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RecsysError } from '../../errors.js';
import { IdMap, type CsrRows, type InteractionMatrix } from '../../data/matrix.js';
import { loadArtifact, saveArtifact, type Tensor } from '../../artifacts.js';
import { Rng } from '../../rng.js';
import { TopK } from '../../topk.js';
import { splitMatrix } from '../../data/split.js';
import { resolveParams, type ParamsOf } from '../params.js';
import type { CatalogAware, CatalogRow, FitOptions, FitReport, ModelFactory, Progress, Rankings, Recommender, RecommendOptions } from '../recommender.js';
import { AlsModel } from '../als/als.js';
import { ContentModel } from '../content.js';
import { Popularity } from '../popularity.js';
import { blendInto, fillMissing, MISSING_MODES, normalizeInto, NORMALIZATIONS, normStats, type MissingMode, type Normalization } from './normalize.js';
import { learnWeights, type BlendProblem, type LearnResult } from './learn-weights.js';
import { resolveRouterConfig, resolveRulesConfig, type DeepPartial, type RouterConfig, type RulesConfig } from '../../rerank/config.js';
import { buildRules, rerank } from '../../rerank/pipeline.js';
import { isNewItem, newItemBoost, popularityBoost } from '../../rerank/rules.js';
import type { CandidateList, RerankContext, Rule, RuleEffect } from '../../rerank/types.js';
import {
  chooseStrategy,
  DemographicSegments,
  STRATEGIES,
  STRATEGY_DEMOGRAPHIC,
  STRATEGY_ENSEMBLE,
  STRATEGY_FEW,
  STRATEGY_POPULARITY,
  type Demographics,
  type SegmentMatch,
  type Strategy,
} from '../../router.js';

export const ENSEMBLE_PARAMS = {
  candidates: { type: 'int', default: 50, min: 1, max: 100000, description: 'top-N candidates each member proposes (the design: 50; k when k is larger)' },
  normalization: { type: 'enum', values: NORMALIZATIONS, default: 'minmax', description: 'per-user score normalisation before blending: minmax | zscore | rank (reciprocal rank) | none (the design\'s raw sum)' },
  rrfK: { type: 'int', default: 60, min: 0, max: 100000, description: 'rank normalisation: the c in 1/(c + rank) (Cormack et al. 2009)' },
  missing: { type: 'enum', values: MISSING_MODES, default: 'min', description: 'value of a candidate a member cannot score: min (its lowest normalised value), zero, or skip (average over the members that can)' },
  learnWeights: { type: 'boolean', default: false, description: 'learn the blend weights on a validation split carved from train (maximising NDCG@10) instead of using the given ones' },
  validationFraction: { type: 'number', default: 0.2, min: 0.01, max: 0.9, description: 'learnWeights: share of each user\'s training pairs held out for validation' },
  validationUsers: { type: 'int', default: 5000, min: 1, description: 'learnWeights: most validation users scored (a seeded sample)' },
  gridSteps: { type: 'int', default: 20, min: 1, max: 1000, description: 'learnWeights: simplex grid resolution (weights are multiples of 1/gridSteps before refinement)' },
  coldFraction: { type: 'number', default: 0.1, min: 0, max: 0.5, description: 'learnWeights: share of users held out entirely to learn the few-interactions weights (each reveals 1–4 interactions); 0 = use the main weights over the router\'s fewInteractionMembers' },
  seed: { type: 'int', default: 42, min: 0, description: 'seed of the validation split and the user sample' },
} as const;

export type EnsembleParams = ParamsOf<typeof ENSEMBLE_PARAMS>;

/** Bit m of a proposer mask = member m; masks are 32-bit. */
export const MAX_MEMBERS = 32;

export interface EnsembleMember {
  /** Name used for weights and reports ('als', 'content', 'popularity', 'als-2', …). */
  readonly name: string;
  /** Registry kind of the model. */
  readonly kind: string;
  readonly model: Recommender;
  /** Absolute artifact directory it was loaded from; null when the ensemble trained it (saved under members/). */
  readonly dir: string | null;
}

export interface EnsembleSpec {
  /** Member artifact directories (loaded with the registry's loadModel). */
  members?: Array<string | { dir: string; name?: string }>;
  /** Members already in memory. */
  models?: Array<{ model: Recommender; name?: string; dir?: string | null }>;
  /** Blend weights by member name (normalised to sum 1); missing names get 0. Default: equal weights. */
  weights?: Record<string, number>;
  learnWeights?: boolean;
  rules?: DeepPartial<RulesConfig>;
  router?: DeepPartial<RouterConfig>;
}

export interface EnsembleFitReport extends FitReport {
  members: Array<{ name: string; kind: string; dir: string | null; trainedByEnsemble: boolean }>;
  weights: Record<string, number>;
  normalization: Normalization;
  learned: (LearnResult & { members: string[]; validationPairs: number; seconds: number; cold: (LearnResult & { revealed: number[] }) | null }) | null;
  /** Weights of the few-interactions route, when learned separately. */
  fewWeights: Record<string, number> | null;
  segments: { levels: number; segments: number } | null;
  referenceTime: number | null;
}

/** One user's answer, with what the router and the rules did (Router and reasons read it). */
export interface EnsembleRow {
  strategy: Strategy;
  /** In words: the members blended, or the segment. */
  detail: string;
  items: Int32Array;
  scores: Float64Array;
  /** Per listed item: bitmask of the members that proposed it. */
  proposers: Uint32Array | null;
  effects: RuleEffect[] | null;
  /** The user index (−1 for a user the model does not know). */
  user: number;
  history: { items: Int32Array; values: Float32Array };
  /** Items never to show (history and request exclusions). */
  excluded: ReadonlySet<number>;
  /** Union of candidates (sorted) with the normalised member scores [union × participating members]. */
  union: Int32Array | null;
  norm: Float64Array | null;
  participants: number[];
  /** Items placed by exploration, with the category name. */
  explored?: Map<number, string>;
}

/** A member's view of one user: its own top-N and a scorer for any items. */
interface RowSource {
  topItems: Int32Array;
  topScores: Float32Array;
  score(items: Int32Array): Float32Array;
}

interface BlendedRow {
  union: Int32Array;
  norm: Float64Array;
  blended: Float64Array;
  proposers: Uint32Array;
  participants: number[];
  /** The blend's natural unit for additive boosts (see scoreScale). */
  scale: number;
}


function sortedHas(sorted: Int32Array | null, x: number): boolean {
  if (!sorted) return false;
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

function sortedIndexOf(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function sameIds(a: IdMap, b: IdMap): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) if (a.idOf(i) !== b.idOf(i)) return false;
  return true;
}

function rowOf(csr: CsrRows | null | undefined, u: number): Int32Array | null {
  if (!csr || u < 0 || u >= csr.indptr.length - 1) return null;
  return csr.indices.subarray(csr.indptr[u], csr.indptr[u + 1]);
}

/** The kind a member is weighted as by default names: two-tower spelled either way. */
function canonicalKind(kind: string): string {
  return kind === 'two_tower' || kind === 'two-tower' ? 'twotower' : kind;
}

export class EnsembleModel implements Recommender, CatalogAware {
  readonly name = 'ensemble';
  readonly schemaParams: EnsembleParams;
  rules: RulesConfig;
  router: RouterConfig;
  members: EnsembleMember[] = [];
  /** Blend weights aligned with `members` (sum 1). */
  weights: Float64Array = new Float64Array(0);
  /** Weights of the few-interactions route (learned on simulated cold users), aligned with `members`; null = `weights` over router.fewInteractionMembers. */
  fewWeights: Float64Array | null = null;
  userIds: IdMap | null = null;
  itemIds: IdMap | null = null;
  /** Training popularity per item, count / max count ∈ [0, 1]. */
  popularity: Float32Array = new Float32Array(0);
  /** Category code per item (−1 unknown), names in `categoryNames`; null without a catalogue. */
  categories: Int32Array | null = null;
  categoryNames: string[] = [];
  /** created_at per item, epoch seconds (NaN unknown); null without a catalogue. */
  createdAt: Float64Array | null = null;
  /** Newest training timestamp (else newest created_at): "now" of the new-item rule unless `now` is set. */
  referenceTime = NaN;
  /** Override of "now" (epoch seconds) for the new-item window, e.g. the wall clock when serving. */
  now: number | null = null;
  segments: DemographicSegments | null = null;
  /** Users' items of the `excludeBought.types` interaction types (rows follow userIds). */
  bought: CsrRows | null = null;
  learned: EnsembleFitReport['learned'] = null;
  lastFit: EnsembleFitReport | null = null;

  private givenWeights: Record<string, number> | null;
  private givenFewWeights: Record<string, number> | null;
  private catalogRows: CatalogRow[] | null = null;
  private demographics: ReadonlyMap<string, Demographics> | null = null;
  private history: { indptr: Int32Array; indices: Int32Array; values: Float32Array } = { indptr: new Int32Array(1), indices: new Int32Array(0), values: new Float32Array(0) };
  private ruleList: Rule[];
  private excludeListSets: Map<string, Set<number>> | null = null;
  private popOrder: Int32Array = new Int32Array(0);
  private newItemCache: { now: number; items: Int32Array } | null = null;
  private categoryOrder: Map<number, Int32Array> | null = null;
  private stamp: Int32Array = new Int32Array(0);
  private stampGen = 0;

  constructor(params: Record<string, unknown> = {}) {
    const { weights, fewWeights, rules, router, members: _members, ...rest } = params;
    this.schemaParams = resolveParams('ensemble', ENSEMBLE_PARAMS, rest);
    this.givenWeights = weights && typeof weights === 'object' ? checkWeights(weights as Record<string, unknown>) : null;
    this.givenFewWeights = fewWeights && typeof fewWeights === 'object' ? checkWeights(fewWeights as Record<string, unknown>) : null;
    this.rules = resolveRulesConfig((rules ?? {}) as DeepPartial<RulesConfig>);
    this.router = resolveRouterConfig((router ?? {}) as DeepPartial<RouterConfig>);
    this.ruleList = buildRules(this.rules);
  }

  /** Hyper-parameters plus weights, rules and router config (the manifest's params). */
  get params(): Readonly<Record<string, unknown>> {
    return {
      ...this.schemaParams,
      members: this.members.map((m) => m.name),
      weights: this.weightsByName(),
      ...(this.fewWeights ? { fewWeights: this.weightsByName(this.fewWeights) } : {}),
      rules: this.rules,
      router: this.router,
    };
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  weightsByName(weights: Float64Array = this.weights): Record<string, number> {
    const out: Record<string, number> = {};
    this.members.forEach((m, j) => (out[m.name] = weights[j] ?? 0));
    return out;
  }

  requireItemIds(): IdMap {
    if (!this.itemIds) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'the ensemble is not fitted: call fit() first, or load a trained ensemble');
    return this.itemIds;
  }

  // -------------------------------------------------------------------------------------------
  // Configuration

  /** Members (artifact dirs and/or models), weights, rules, router. Replaces the current members. */
  async configure(spec: EnsembleSpec): Promise<void> {
    const members: EnsembleMember[] = [];
    const taken = new Set<string>();
    const unique = (base: string): string => {
      let name = base;
      for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
      taken.add(name);
      return name;
    };
    if (spec.members && spec.members.length > 0) {
      const { loadModel } = await import('../registry.js');
      for (const m of spec.members) {
        const dir = resolve(typeof m === 'string' ? m : m.dir);
        const model = await loadModel(dir);
        if (model.name === 'ensemble') throw new RecsysError('RECSYS_ERR_USAGE', `member ${dir} is itself an ensemble; give the member models' directories instead`, { flag: '--members' });
        members.push({ name: unique(typeof m === 'string' || !m.name ? model.name : m.name), kind: model.name, model, dir });
      }
    }
    for (const m of spec.models ?? []) members.push({ name: unique(m.name ?? m.model.name), kind: m.model.name, model: m.model, dir: m.dir ? resolve(m.dir) : null });
    if (members.length > MAX_MEMBERS) throw new RecsysError('RECSYS_ERR_USAGE', `an ensemble holds at most ${MAX_MEMBERS} members, got ${members.length}`, { flag: '--members' });
    this.members = members;
    if (spec.weights) this.givenWeights = checkWeights(spec.weights);
    if (spec.learnWeights !== undefined) this.schemaParams.learnWeights = spec.learnWeights;
    if (spec.rules) this.setRules(resolveRulesConfig(spec.rules));
    if (spec.router) this.router = resolveRouterConfig(spec.router);
    this.weights = this.resolveGivenWeights();
    this.fewWeights = this.givenFewWeights ? Float64Array.from(this.members, (m) => this.givenFewWeights?.[m.name] ?? 0) : null;
  }

  setRules(rules: RulesConfig): void {
    this.rules = rules;
    this.ruleList = buildRules(rules);
    this.excludeListSets = null;
    this.newItemCache = null;
  }

  /** Product rows: categories and created_at for the rules; forwarded to members retrained by the ensemble. */
  setCatalog(rows: readonly CatalogRow[]): void {
    this.catalogRows = [...rows];
  }

  /** Users' demographics by external user id (the store's users.demographics), for segment popularity. */
  setDemographics(demographics: ReadonlyMap<string, Demographics>): void {
    this.demographics = demographics;
  }

  /** Per-user items of the interaction types named in `rules.excludeBought.types` (rows/cols follow the training matrix). */
  setBought(rows: CsrRows): void {
    this.bought = rows;
  }

  private resolveGivenWeights(): Float64Array {
    const m = this.members.length;
    const w = new Float64Array(m);
    if (m === 0) return w;
    const given = this.givenWeights;
    if (!given) return w.fill(1 / m);
    const names = this.members.map((x) => x.name);
    for (const key of Object.keys(given)) {
      if (!names.includes(key)) {
        throw new RecsysError('RECSYS_ERR_USAGE', `--member-weights names '${key}', which is not a member of this ensemble. Members: ${names.join(', ')}.`, { flag: '--member-weights' });
      }
    }
    let sum = 0;
    this.members.forEach((x, j) => {
      w[j] = given[x.name] ?? 0;
      sum += w[j];
    });
    if (!(sum > 0)) throw new RecsysError('RECSYS_ERR_USAGE', '--member-weights must give at least one member a positive weight', { flag: '--member-weights' });
    for (let j = 0; j < m; j++) w[j] /= sum;
    return w;
  }

  // -------------------------------------------------------------------------------------------
  // Fit

  async fit(data: InteractionMatrix, opts: FitOptions = {}): Promise<EnsembleFitReport> {
    const t0 = performance.now();
    if (data.nItems === 0 || data.nUsers === 0) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'cannot fit an ensemble on an empty matrix; check the ingested data and the split');
    const trainedHere = new Set<string>();
    if (this.members.length === 0) {
      for (const m of await this.trainDefaultMembers(data, opts.progress)) trainedHere.add(m);
      this.weights = this.resolveGivenWeights();
    }
    for (const m of this.members) {
      const where = m.dir ? ` (${m.dir})` : '';
      if (!m.model.itemIds || !sameIds(m.model.itemIds, data.items)) {
        throw new RecsysError(
          'RECSYS_ERR_MODEL_FIT',
          `member ${m.name}${where} was trained on other items (${m.model.itemIds?.size ?? 0}) than this split (${data.nItems}): train every member with the same --split as the ensemble`,
          { flag: '--members' },
        );
      }
      if (m.model.userIds && !sameIds(m.model.userIds, data.users)) {
        throw new RecsysError('RECSYS_ERR_MODEL_FIT', `member ${m.name}${where} was trained on other users than this split: train every member with the same --split as the ensemble`, { flag: '--members' });
      }
    }
    this.userIds = data.users;
    this.itemIds = data.items;
    this.setPopularity(data.itemCounts());
    this.applyCatalog(data.items);
    let ref = -Infinity;
    if (data.lastSeen) for (let p = 0; p < data.lastSeen.length; p++) if (data.lastSeen[p] > ref) ref = data.lastSeen[p];
    if (!Number.isFinite(ref) && this.createdAt) for (const t of this.createdAt) if (t > ref) ref = t;
    this.referenceTime = Number.isFinite(ref) ? ref : NaN;
    this.history = { indptr: Int32Array.from(data.indptr), indices: Int32Array.from(data.indices), values: Float32Array.from(data.values) };
    this.segments = this.demographics ? DemographicSegments.build(data, this.demographics, this.router) : null;
    if (this.bought && this.bought.indptr.length !== data.nUsers + 1) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the bought lists have ${this.bought.indptr.length - 1} users, the training matrix ${data.nUsers}`);
    }
    this.excludeListSets = null;
    this.newItemCache = null;
    this.categoryOrder = null;
    this.learned = null;
    if (this.schemaParams.learnWeights && this.members.length > 1) {
      this.learned = await this.learnOnValidation(data, opts.progress);
      this.weights = Float64Array.from(this.learned.weights);
      this.fewWeights = this.learned.cold ? Float64Array.from(this.learned.cold.weights) : null;
    } else if (this.weights.length !== this.members.length) {
      this.weights = this.resolveGivenWeights();
    }
    let nSegments = 0;
    for (const l of this.segments?.levels ?? []) nSegments += l.segments.length;
    const report: EnsembleFitReport = {
      model: this.name,
      seconds: (performance.now() - t0) / 1000,
      members: this.members.map((m) => ({ name: m.name, kind: m.kind, dir: m.dir, trainedByEnsemble: trainedHere.has(m.name) })),
      weights: this.weightsByName(),
      normalization: this.schemaParams.normalization,
      learned: this.learned,
      fewWeights: this.fewWeights ? this.weightsByName(this.fewWeights) : null,
      segments: this.segments ? { levels: this.segments.levels.length, segments: nSegments } : null,
      referenceTime: Number.isFinite(this.referenceTime) ? this.referenceTime : null,
    };
    this.lastFit = report;
    return report;
  }

  /** Without configured members: popularity, ALS and (with a catalogue) content, trained here. */
  private async trainDefaultMembers(data: InteractionMatrix, progress?: Progress): Promise<string[]> {
    const { modelFactory } = await import('../registry.js');
    const kinds = ['popularity', 'als'];
    if (this.catalogRows && this.catalogRows.length > 0) kinds.push('content');
    const models: Array<{ model: Recommender; name: string }> = [];
    for (const kind of kinds) {
      const factory = modelFactory(kind);
      const model = factory.create({});
      if (factory.needsCatalog) (model as Recommender & CatalogAware).setCatalog(this.catalogRows ?? []);
      await model.fit(data, { progress });
      models.push({ model, name: kind });
    }
    await this.configure({ models, ...(this.givenWeights ? { weights: this.givenWeights } : {}) });
    return kinds;
  }

  private setPopularity(counts: Int32Array | Float32Array): void {
    let max = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i] > max) max = counts[i];
    this.popularity = Float32Array.from(counts, (c) => (max > 0 ? c / max : 0));
    const pop = this.popularity;
    this.popOrder = Int32Array.from({ length: pop.length }, (_, i) => i).sort((a, b) => pop[b] - pop[a] || a - b);
  }

  private applyCatalog(items: IdMap): void {
    if (!this.catalogRows) return;
    const byId = new Map(this.catalogRows.map((r) => [r.productId, r]));
    const names = [...new Set(this.catalogRows.map((r) => r.category).filter((c): c is string => typeof c === 'string' && c !== ''))].sort();
    const code = new Map(names.map((n, i) => [n, i]));
    const categories = new Int32Array(items.size).fill(-1);
    const createdAt = new Float64Array(items.size).fill(NaN);
    let anyCategory = false;
    let anyCreated = false;
    for (let i = 0; i < items.size; i++) {
      const row = byId.get(items.idOf(i));
      if (!row) continue;
      if (row.category) {
        categories[i] = code.get(row.category) ?? -1;
        anyCategory = true;
      }
      if (row.createdAt) {
        const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(row.createdAt) ? row.createdAt : `${row.createdAt.replace(' ', 'T')}Z`);
        if (Number.isFinite(t)) {
          createdAt[i] = t / 1000;
          anyCreated = true;
        }
      }
    }
    this.categories = anyCategory ? categories : null;
    this.categoryNames = anyCategory ? names : [];
    this.createdAt = anyCreated ? createdAt : null;
  }

  // -------------------------------------------------------------------------------------------
  // Weight learning on a validation split carved from train

  private async learnOnValidation(data: InteractionMatrix, progress?: Progress): Promise<NonNullable<EnsembleFitReport['learned']>> {
    const t0 = performance.now();
    const p = this.schemaParams;
    const minHistory = this.router.minHistory;
    // Cold validation users (held out entirely, as in strong generalization) for the few-interactions weights.
    const coldUsers: number[] = [];
    if (p.coldFraction > 0 && minHistory > 1) {
      const eligible = Int32Array.from({ length: data.nUsers }, (_, u) => u).filter((u) => data.rowLength(u) >= minHistory + 1);
      const n = Math.min(p.validationUsers, Math.round(eligible.length * p.coldFraction));
      coldUsers.push(...new Rng(p.seed + 11).shuffle(eligible).slice(0, n).sort());
    }
    const isCold = new Uint8Array(data.nUsers);
    for (const u of coldUsers) isCold[u] = 1;
    const keep = new Uint8Array(data.nnz);
    for (let u = 0; u < data.nUsers; u++) if (!isCold[u]) keep.fill(1, data.indptr[u], data.indptr[u + 1]);
    const warmData = coldUsers.length > 0 ? data.select(keep) : data;
    const split = splitMatrix(warmData, { method: 'random', testFraction: p.validationFraction, seed: p.seed, minInteractions: 2 }, 'ensemble-validation');
    const { modelFactory } = await import('../registry.js');
    // Members refitted on the validation-train part, with their own hyper-parameters.
    const copies: EnsembleMember[] = [];
    for (const m of this.members) {
      const factory = modelFactory(m.kind);
      const copy = factory.create({ ...m.model.params });
      if (factory.needsCatalog) {
        if (!this.catalogRows) {
          throw new RecsysError('RECSYS_ERR_MODEL_FIT', `learning weights refits member ${m.name} on a validation split, and it needs the product catalogue: call setCatalog() (recsys train does) or give --member-weights`, { flag: '--learn-weights' });
        }
        (copy as Recommender & CatalogAware).setCatalog(this.catalogRows);
      }
      await copy.fit(split.train, { progress });
      copies.push({ ...m, model: copy });
    }
    const M = this.members.length;
    const shadow = this.variant({ weights: new Float64Array(M).fill(1 / M) });
    shadow.members = copies;
    shadow.fewWeights = null;
    shadow.history = { indptr: split.train.indptr, indices: split.train.indices, values: split.train.values };
    const eligible: number[] = [];
    for (let u = 0; u < split.test.nUsers; u++) if (split.test.rowLength(u) > 0 && split.train.rowLength(u) > 0) eligible.push(u);
    let users = Int32Array.from(eligible);
    if (users.length > p.validationUsers) users = new Rng(p.seed + 7).shuffle(users).slice(0, p.validationUsers).sort();
    const problem = await shadow.blendProblem(users, split.train, split.test, progress);
    const result = learnWeights(problem, { k: 10, gridSteps: p.gridSteps });
    let cold: (LearnResult & { revealed: number[] }) | null = null;
    if (coldUsers.length > 0) {
      const coldProblem = await shadow.coldProblem(Int32Array.from(coldUsers), data, minHistory, p.seed, progress);
      cold = { ...learnWeights(coldProblem.problem, { k: 10, gridSteps: p.gridSteps }), revealed: coldProblem.revealed };
    }
    return { ...result, members: this.members.map((m) => m.name), validationPairs: split.test.nnz, seconds: (performance.now() - t0) / 1000, cold };
  }

  /**
   * Simulated cold users for the few-interactions weights: each user reveals r ∈ 1..minHistory−1
   * random interactions (seeded), every member answers from that history alone (ALS fold-in solve,
   * content profile, popularity), the rest of the user's row is the relevant set.
   */
  async coldProblem(users: Int32Array, data: InteractionMatrix, minHistory: number, seed: number, progress?: Progress): Promise<{ problem: BlendProblem; revealed: number[] }> {
    const M = this.members.length;
    const N = this.schemaParams.candidates;
    const rng = new Rng(seed + 13);
    const offsets = new Int32Array(users.length + 1);
    const itemsOut: number[] = [];
    const scoresOut: number[] = [];
    const relevant: number[] = [];
    const nRelevant = new Int32Array(users.length);
    const revealed: number[] = [];
    const all = Array.from({ length: M }, (_, j) => j);
    progress?.start('ensemble: cold validation users', users.length);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const row = data.rowItems(u);
      const vals = data.rowValues(u);
      const reveal = 1 + rng.int(Math.max(1, minHistory - 1));
      const order = rng.shuffle(Int32Array.from({ length: row.length }, (_, j) => j));
      const pick = order.slice(0, reveal).sort();
      const hItems = Int32Array.from(pick, (j) => row[j]);
      const hValues = Float32Array.from(pick, (j) => vals[j]);
      const hSorted = Int32Array.from(hItems).sort();
      const rest = Int32Array.from(row).filter((i) => !sortedHas(hSorted, i));
      const sources = await Promise.all(this.members.map((m) => this.historySource(m.model, -1, hItems, hValues, hSorted, null, N)));
      const b = this.blendRow(sources, all, this.weights, hSorted, null, null);
      nRelevant[r] = rest.length;
      revealed.push(reveal);
      for (let c = 0; c < b.union.length; c++) {
        itemsOut.push(b.union[c]);
        relevant.push(sortedHas(rest, b.union[c]) ? 1 : 0);
        for (let j = 0; j < M; j++) scoresOut.push(b.norm[c * M + j]);
      }
      offsets[r + 1] = itemsOut.length;
      progress?.tick(1);
    }
    progress?.stop();
    return { problem: { nMembers: M, offsets, items: Int32Array.from(itemsOut), scores: Float64Array.from(scoresOut), relevant: Uint8Array.from(relevant), nRelevant }, revealed };
  }

  /** Normalised member scores of every candidate of `users` (for learning), labelled by `test`. */
  async blendProblem(users: Int32Array, exclude: CsrRows, test: InteractionMatrix, progress?: Progress): Promise<BlendProblem> {
    const M = this.members.length;
    const N = this.schemaParams.candidates;
    const offsets = new Int32Array(users.length + 1);
    const itemsOut: number[] = [];
    const scoresOut: number[] = [];
    const relevant: number[] = [];
    const nRelevant = new Int32Array(users.length);
    const all = Array.from({ length: M }, (_, j) => j);
    const batch = 1024;
    progress?.start('ensemble: validation candidates', users.length);
    for (let start = 0; start < users.length; start += batch) {
      const chunk = users.slice(start, Math.min(users.length, start + batch));
      const ranks = await Promise.all(this.members.map((m) => m.model.recommend(chunk, N, { exclude })));
      for (let r = 0; r < chunk.length; r++) {
        const u = chunk[r];
        const sources = this.members.map((m, j) => this.indexSource(m.model, u, ranks[j], r));
        const row = this.blendRow(sources, all, this.weights, rowOf(exclude, u), null, null);
        const rel = test.rowItems(u);
        nRelevant[start + r] = rel.length;
        for (let c = 0; c < row.union.length; c++) {
          itemsOut.push(row.union[c]);
          relevant.push(sortedHas(rel, row.union[c]) ? 1 : 0);
          for (let j = 0; j < M; j++) scoresOut.push(row.norm[c * M + j]);
        }
        offsets[start + r + 1] = itemsOut.length;
      }
      progress?.tick(chunk.length);
    }
    progress?.stop();
    return { nMembers: M, offsets, items: Int32Array.from(itemsOut), scores: Float64Array.from(scoresOut), relevant: Uint8Array.from(relevant), nRelevant };
  }

  // -------------------------------------------------------------------------------------------
  // Candidates, normalisation, blend

  private indexSource(model: Recommender, u: number, ranks: Rankings, r: number): RowSource {
    const K = ranks.k;
    return {
      topItems: ranks.items.subarray(r * K, r * K + K),
      topScores: ranks.scores.subarray(r * K, r * K + K),
      score: (items) => model.score(u, items),
    };
  }

  /** Items created inside the new-item window before `now`, newest first, at most `candidates`. */
  private newItemCandidates(now: number): Int32Array | null {
    const cfg = this.rules.newItemBoost;
    if (!cfg.enabled || cfg.candidates === 0 || !this.createdAt || !Number.isFinite(now)) return null;
    if (this.newItemCache && this.newItemCache.now === now) return this.newItemCache.items;
    const created = this.createdAt;
    const fresh: number[] = [];
    for (let i = 0; i < created.length; i++) if (isNewItem(created, i, now, cfg.days)) fresh.push(i);
    fresh.sort((a, b) => created[b] - created[a] || a - b);
    const items = Int32Array.from(fresh.slice(0, cfg.candidates));
    this.newItemCache = { now, items };
    return items;
  }

  /**
   * Union of the participants' candidates (and `extra`), minus exclusions, sorted by item index; every
   * participant scores every candidate; scores normalised with the participant's own top-N statistics.
   */
  private blendRow(sources: Array<RowSource | null>, participants: number[], memberWeights: Float64Array, excludeRow: Int32Array | null, excludeSet: ReadonlySet<number> | null, extra: Int32Array | null): BlendedRow {
    const nItems = this.nItems;
    if (this.stamp.length !== nItems) {
      this.stamp = new Int32Array(nItems);
      this.stampGen = 0;
    }
    const gen = ++this.stampGen;
    const stamp = this.stamp;
    const collected: number[] = [];
    const bits: number[] = [];
    const slotOf = new Map<number, number>();
    const add = (item: number, bit: number): void => {
      if (item < 0 || item >= nItems) return;
      if (stamp[item] === gen) {
        const s = slotOf.get(item);
        if (s !== undefined) bits[s] |= bit;
        return;
      }
      stamp[item] = gen;
      if (sortedHas(excludeRow, item) || (excludeSet && excludeSet.has(item))) return;
      slotOf.set(item, collected.length);
      collected.push(item);
      bits.push(bit);
    };
    for (const j of participants) {
      const src = sources[j];
      if (!src) continue;
      const bit = (1 << j) >>> 0;
      for (let p = 0; p < src.topItems.length; p++) add(src.topItems[p], bit);
    }
    if (extra) for (let p = 0; p < extra.length; p++) add(extra[p], 0);
    const order = Int32Array.from({ length: collected.length }, (_, c) => c).sort((a, b) => collected[a] - collected[b]);
    const n = collected.length;
    const union = new Int32Array(n);
    const proposers = new Uint32Array(n);
    for (let c = 0; c < n; c++) {
      union[c] = collected[order[c]];
      proposers[c] = bits[order[c]] >>> 0;
    }
    const P = participants.length;
    const norm = new Float64Array(n * P);
    const method = this.schemaParams.normalization;
    const missing: MissingMode = this.schemaParams.missing;
    const weights = new Float64Array(P);
    const spreads = new Float64Array(P);
    let wsum = 0;
    participants.forEach((j, q) => {
      const src = sources[j];
      weights[q] = src ? memberWeights[j] : 0;
      wsum += weights[q];
      if (!src) {
        for (let c = 0; c < n; c++) norm[c * P + q] = NaN;
        return;
      }
      const stats = normStats(method, src.topScores, this.schemaParams.rrfK);
      spreads[q] = stats.max - stats.min;
      normalizeInto(stats, src.score(union), norm, q, P);
      fillMissing(missing, norm, n, q, P);
    });
    // A participant without a source (cannot serve this user) contributes nothing: weights renormalised.
    if (wsum > 0) for (let q = 0; q < P; q++) weights[q] /= wsum;
    for (let q = 0; q < P; q++) {
      if (weights[q] !== 0) continue;
      for (let c = 0; c < n; c++) if (Number.isNaN(norm[c * P + q])) norm[c * P + q] = 0;
    }
    const blended = new Float64Array(n);
    blendInto(norm, n, weights, blended);
    return { union, norm, blended, proposers, participants, scale: this.scoreScale(weights, spreads) };
  }

  /**
   * The blend's natural unit, for additive boosts: 1 for minmax (each member's top-N spans [0, 1]) and
   * zscore (one standard deviation); the spread between rank 1 and rank N + 1 for rank; the weighted
   * raw spread of the members' top-N for none.
   */
  private scoreScale(weights: Float64Array, spreads: Float64Array): number {
    const p = this.schemaParams;
    switch (p.normalization) {
      case 'minmax':
      case 'zscore':
        return 1;
      case 'rank':
        return 1 / (p.rrfK + 1) - 1 / (p.rrfK + p.candidates + 1);
      case 'none': {
        let s = 0;
        for (let q = 0; q < weights.length; q++) s += weights[q] * spreads[q];
        return s > 0 ? s : 1;
      }
    }
  }

  /** The weights a strategy blends with: the learned few-interactions weights, else the main ones. */
  routeWeights(strategy: number | Strategy): Float64Array {
    const code = typeof strategy === 'number' ? strategy : STRATEGIES.indexOf(strategy);
    return code === STRATEGY_FEW && this.fewWeights ? this.fewWeights : this.weights;
  }

  private participantsFor(strategy: number): number[] {
    const w = this.routeWeights(strategy);
    const all: number[] = [];
    this.members.forEach((_, j) => {
      if (w[j] > 0) all.push(j);
    });
    if (strategy !== STRATEGY_FEW || this.fewWeights) return all;
    const allowed = new Set(this.router.fewInteractionMembers.map(canonicalKind));
    const few = all.filter((j) => allowed.has(canonicalKind(this.members[j].kind)));
    return few.length > 0 ? few : all;
  }

  private rerankContext(u: number, k: number, scoreScale = 1): RerankContext {
    return {
      k,
      scoreScale,
      bought: this.rules.excludeBought.types ? rowOf(this.bought, u) : null,
      excludeLists: this.resolvedExcludeLists(),
      popularity: this.popularity,
      createdAt: this.createdAt,
      now: this.effectiveNow(),
      categories: this.categories,
    };
  }

  effectiveNow(): number {
    return this.now ?? this.referenceTime;
  }

  private resolvedExcludeLists(): Map<string, Set<number>> | null {
    if (this.excludeListSets) return this.excludeListSets;
    const lists = this.rules.excludeLists.lists;
    if (!this.itemIds || Object.keys(lists).length === 0) return null;
    const ids = this.itemIds;
    const out = new Map<string, Set<number>>();
    for (const [name, productIds] of Object.entries(lists)) {
      const set = new Set<number>();
      for (const id of productIds) {
        const i = ids.indexOf(id);
        if (i >= 0) set.add(i);
      }
      out.set(name, set);
    }
    this.excludeListSets = out;
    return out;
  }

  /** Cold users: the segment's (or global) popular items, scored by share of users, minus exclusions. */
  private coldCandidates(match: SegmentMatch | null, n: number, excludeRow: Int32Array | null, excludeSet: ReadonlySet<number> | null): CandidateList {
    const items: number[] = [];
    const scores: number[] = [];
    const seen = new Set<number>();
    const skip = (i: number): boolean => sortedHas(excludeRow, i) || (excludeSet !== null && excludeSet.has(i)) || seen.has(i);
    if (match) {
      const s = match.segment;
      for (let p = 0; p < s.items.length && items.length < n; p++) {
        const i = s.items[p];
        if (skip(i)) continue;
        seen.add(i);
        items.push(i);
        scores.push(s.scores[p]);
      }
    }
    // Global popularity (and the tail of a short segment list, scored below every segment item).
    const below = match ? -1 : 0;
    for (let p = 0; p < this.popOrder.length && items.length < n; p++) {
      const i = this.popOrder[p];
      if (skip(i)) continue;
      seen.add(i);
      items.push(i);
      scores.push(below + this.popularity[i]);
    }
    return { items: Int32Array.from(items), scores: Float64Array.from(scores), proposers: new Uint32Array(items.length) };
  }

  // -------------------------------------------------------------------------------------------
  // Recommend

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    return (await this.recommendDetailed(users, k, opts)).rankings;
  }

  /** RoutedRecommender (eval/segments.ts): rankings with the strategy of each row. */
  async recommendRouted(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<{ rankings: Rankings; strategy: Uint8Array; names: readonly string[] }> {
    const r = await this.recommendDetailed(users, k, opts);
    return { rankings: r.rankings, strategy: r.strategy, names: STRATEGIES };
  }

  /** Rankings plus the strategy code of each row (index into STRATEGIES) and, with `record`, every row's details. */
  async recommendDetailed(users: Int32Array, k: number, opts: RecommendOptions = {}, record = false): Promise<{ rankings: Rankings; strategy: Uint8Array; rows: EnsembleRow[] | null }> {
    this.requireItemIds();
    const K = Math.max(0, Math.floor(k));
    const N = Math.max(this.schemaParams.candidates, K);
    const nRows = users.length;
    const outItems = new Int32Array(nRows * K).fill(-1);
    const outScores = new Float32Array(nRows * K).fill(-Infinity);
    const strategy = new Uint8Array(nRows);
    const rows: EnsembleRow[] | null = record ? [] : null;
    const exclude = opts.exclude ?? null;
    const minHistory = this.router.minHistory;
    // Route every row; rows answered by members are batched per member.
    const warmRows: number[] = [];
    for (let r = 0; r < nRows; r++) {
      const u = users[r];
      const known = u >= 0 && u < this.nUsers;
      const h = exclude ? (rowOf(exclude, u)?.length ?? 0) : known ? this.history.indptr[u + 1] - this.history.indptr[u] : 0;
      const match = h === 0 && known && this.segments ? this.segments.forUser(u) : null;
      const s = chooseStrategy(h, match !== null, minHistory);
      strategy[r] = STRATEGIES.indexOf(s);
      if (known && (s === 'ensemble' || s === 'few-interactions')) warmRows.push(r);
    }
    const warmUsers = Int32Array.from(warmRows, (r) => users[r]);
    const warmSets = opts.excludeSets ? warmRows.map((r) => opts.excludeSets?.[r] ?? null) : undefined;
    const anyParticipant = new Set<number>([...this.participantsFor(STRATEGY_ENSEMBLE), ...this.participantsFor(STRATEGY_FEW)]);
    const ranks: Array<Rankings | null> = await Promise.all(
      this.members.map((m, j) => (anyParticipant.has(j) && warmUsers.length > 0 ? m.model.recommend(warmUsers, N, { exclude, excludeSets: warmSets }) : Promise.resolve(null))),
    );
    const extra = this.newItemCandidates(this.effectiveNow());
    let w = 0;
    for (let r = 0; r < nRows; r++) {
      const u = users[r];
      const excludeRow = rowOf(exclude, u);
      const excludeSet = opts.excludeSets?.[r] ?? null;
      let row: EnsembleRow;
      if (w < warmRows.length && warmRows[w] === r) {
        const participants = this.participantsFor(strategy[r]);
        const sources = this.members.map((m, j) => (ranks[j] ? this.indexSource(m.model, u, ranks[j] as Rankings, w) : null));
        row = this.finishWarm(STRATEGIES[strategy[r]], u, sources, participants, excludeRow, excludeSet, extra, K, record);
        w++;
      } else {
        const match = u >= 0 && u < this.nUsers && this.segments ? this.segments.forUser(u) : null;
        if (strategy[r] !== STRATEGY_DEMOGRAPHIC && strategy[r] !== STRATEGY_POPULARITY) strategy[r] = match ? STRATEGY_DEMOGRAPHIC : STRATEGY_POPULARITY;
        row = this.finishCold(u, match, N, excludeRow, excludeSet, K, record);
      }
      const n = Math.min(K, row.items.length);
      for (let j = 0; j < n; j++) {
        outItems[r * K + j] = row.items[j];
        outScores[r * K + j] = row.scores[j];
      }
      rows?.push(row);
    }
    return { rankings: { users, k: K, items: outItems, scores: outScores }, strategy, rows };
  }

  private finishWarm(
    strategy: Strategy,
    u: number,
    sources: Array<RowSource | null>,
    participants: number[],
    excludeRow: Int32Array | null,
    excludeSet: ReadonlySet<number> | null,
    extra: Int32Array | null,
    K: number,
    record: boolean,
    history?: { items: Int32Array; values: Float32Array },
  ): EnsembleRow {
    const w = this.routeWeights(strategy);
    const b = this.blendRow(sources, participants, w, excludeRow, excludeSet, extra);
    const res = rerank({ items: b.union, scores: b.blended, proposers: b.proposers }, this.ruleList, this.rerankContext(u, K, b.scale), record);
    return {
      strategy,
      detail: participants.map((j) => `${this.members[j].name}×${w[j].toFixed(3)}`).join(' + '),
      items: res.list.items,
      scores: res.list.scores,
      proposers: res.list.proposers ?? null,
      effects: record ? res.effects : null,
      user: u,
      history: history ?? { items: this.historyItems(u), values: this.historyValues(u) },
      excluded: record ? excludedSet(excludeRow, excludeSet) : new Set(),
      union: record ? b.union : null,
      norm: record ? b.norm : null,
      participants,
    };
  }

  private finishCold(u: number, match: SegmentMatch | null, N: number, excludeRow: Int32Array | null, excludeSet: ReadonlySet<number> | null, K: number, record: boolean): EnsembleRow {
    const list = this.coldCandidates(match, N, excludeRow, excludeSet);
    const res = rerank(list, this.ruleList, this.rerankContext(u, K), record);
    return {
      strategy: match ? 'demographic' : 'popularity',
      detail: match ? `segment ${match.segment.key} (${match.segment.users} users)` : 'global popularity',
      items: res.list.items,
      scores: res.list.scores,
      proposers: null,
      effects: record ? res.effects : null,
      user: u,
      history: { items: new Int32Array(0), values: new Float32Array(0) },
      excluded: record ? excludedSet(excludeRow, excludeSet) : new Set(),
      union: null,
      norm: null,
      participants: [],
    };
  }

  /**
   * One user's list from a history given with the request (serving): a known user with enough
   * history goes through the members' stored state; a short or unknown history through the members
   * that can take a history (ALS fold-in solve, content profile, popularity); none → segment or
   * global popularity (demographics may come with the request).
   */
  async recommendForHistory(
    historyItems: Int32Array,
    historyValues: Float32Array,
    k: number,
    opts: { user?: number; demographics?: Demographics; exclude?: ReadonlySet<number>; record?: boolean } = {},
  ): Promise<EnsembleRow> {
    this.requireItemIds();
    const K = Math.max(0, Math.floor(k));
    const N = Math.max(this.schemaParams.candidates, K);
    const u = opts.user !== undefined && opts.user >= 0 && opts.user < this.nUsers ? opts.user : -1;
    const record = opts.record ?? true;
    const historySorted = Int32Array.from(historyItems).sort();
    const excludeSet = opts.exclude && opts.exclude.size > 0 ? opts.exclude : null;
    const h = historyItems.length;
    let match: SegmentMatch | null = null;
    if (h === 0 && this.segments) match = (u >= 0 ? this.segments.forUser(u) : null) ?? this.segments.forDemographics(opts.demographics);
    const s = chooseStrategy(h, match !== null, this.router.minHistory);
    if (s === 'demographic' || s === 'popularity') return this.finishCold(u, match, N, historySorted, excludeSet, K, record);
    const code = STRATEGIES.indexOf(s);
    const participants = this.participantsFor(code);
    const history = { items: Int32Array.from(historyItems), values: Float32Array.from(historyValues) };
    if (u >= 0 && s === 'ensemble') {
      const sets = [mergeSets(historySorted, excludeSet)];
      const ranks = await Promise.all(this.members.map((m, j) => (participants.includes(j) ? m.model.recommend(Int32Array.of(u), N, { excludeSets: sets }) : Promise.resolve(null))));
      const sources = this.members.map((m, j) => (ranks[j] ? this.indexSource(m.model, u, ranks[j] as Rankings, 0) : null));
      return this.finishWarm(s, u, sources, participants, historySorted, excludeSet, this.newItemCandidates(this.effectiveNow()), K, record, history);
    }
    const sources = await Promise.all(this.members.map((m, j) => (participants.includes(j) ? this.historySource(m.model, u, historyItems, historyValues, historySorted, excludeSet, N) : Promise.resolve(null))));
    return this.finishWarm(s, u, sources, participants, historySorted, excludeSet, this.newItemCandidates(this.effectiveNow()), K, record, history);
  }

  /** A member's view of an ad-hoc history; null when the member cannot take one (then its weight is spread). */
  private async historySource(model: Recommender, u: number, items: Int32Array, values: Float32Array, sorted: Int32Array, excludeSet: ReadonlySet<number> | null, N: number): Promise<RowSource | null> {
    const merged = mergeSets(sorted, excludeSet);
    if (model instanceof AlsModel) {
      const vector = model.recalculateUser(items, values);
      const top = await model.recommendForVector(vector, N, Int32Array.from(merged));
      const k = model.factors;
      const Y = model.itemFactors;
      return {
        topItems: top.items,
        topScores: top.scores,
        score: (query) => {
          const out = new Float32Array(query.length);
          for (let j = 0; j < query.length; j++) {
            const i = query[j];
            if (i < 0 || i >= model.nItems) {
              out[j] = -Infinity;
              continue;
            }
            let s = 0;
            for (let d = 0; d < k; d++) s += vector[d] * Y[i * k + d];
            out[j] = s;
          }
          return out;
        },
      };
    }
    if (model instanceof ContentModel) {
      // The profile weights as the content model computes them for stored histories (no recency here).
      const hw = model.params.historyWeighting;
      const weights = hw === 'binary' ? null : Float32Array.from(values, (v) => (hw === 'value' ? v : 1 + Math.log1p(Math.max(0, v))));
      const full = model.recommendForHistory(items, weights, model.nItems, { excludeHistory: false });
      const byItem = new Float32Array(model.nItems).fill(-Infinity);
      for (let j = 0; j < full.items.length; j++) if (full.items[j] >= 0) byItem[full.items[j]] = full.scores[j];
      const topItems: number[] = [];
      const topScores: number[] = [];
      for (let j = 0; j < full.items.length && topItems.length < N; j++) {
        const i = full.items[j];
        if (i < 0 || merged.has(i)) continue;
        topItems.push(i);
        topScores.push(full.scores[j]);
      }
      return { topItems: Int32Array.from(topItems), topScores: Float32Array.from(topScores), score: (query) => Float32Array.from(query, (i) => (i >= 0 && i < byItem.length ? byItem[i] : -Infinity)) };
    }
    if (model instanceof Popularity) {
      const top = await model.recommend(Int32Array.of(0), N, { excludeSets: [merged] });
      return { topItems: top.items, topScores: top.scores, score: (query) => model.score(0, query) };
    }
    if (u >= 0 && model.userIds && u < model.userIds.size) {
      const top = await model.recommend(Int32Array.of(u), N, { excludeSets: [merged] });
      return { topItems: top.items, topScores: top.scores, score: (query) => model.score(u, query) };
    }
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // score, foldIn

  /**
   * The blended, boosted score of `items` for user index `user`, with the normalisation statistics
   * recomputed from each member's own top-N (the user's stored history excluded), so it agrees with
   * `recommend` when recommend excludes the stored history. Cold users get their segment/popularity
   * score. Diversity only reorders, so it does not enter a score.
   */
  score(user: number, items: Int32Array): Float32Array {
    this.requireItemIds();
    const out = new Float32Array(items.length);
    if (user < 0 || user >= this.nUsers) return out.fill(-Infinity);
    const hist = rowOf(this.history, user) ?? new Int32Array(0);
    const match = hist.length === 0 && this.segments ? this.segments.forUser(user) : null;
    const s = chooseStrategy(hist.length, match !== null, this.router.minHistory);
    let scores: Float64Array;
    let scale = 1;
    if (s === 'demographic' || s === 'popularity') {
      const all = this.coldCandidates(match, this.nItems, null, null);
      const byItem = new Map<number, number>();
      all.items.forEach((i, j) => byItem.set(i, all.scores[j]));
      scores = Float64Array.from(items, (i) => byItem.get(i) ?? -Infinity);
    } else {
      const participants = this.participantsFor(STRATEGIES.indexOf(s));
      const N = this.schemaParams.candidates;
      const P = participants.length;
      const norm = new Float64Array(items.length * P);
      const weights = new Float64Array(P);
      const spreads = new Float64Array(P);
      const heap = new TopK(N);
      const allItems = Int32Array.from({ length: this.nItems }, (_, i) => i);
      const routeWeights = this.routeWeights(s);
      participants.forEach((j, q) => {
        const model = this.members[j].model;
        weights[q] = routeWeights[j];
        const full = model.score(user, allItems);
        heap.reset();
        let e = 0;
        for (let i = 0; i < full.length; i++) {
          while (e < hist.length && hist[e] < i) e++;
          if (e < hist.length && hist[e] === i) continue;
          heap.push(i, full[i]);
        }
        const topItems = new Int32Array(N);
        const topScores = new Float32Array(N);
        heap.drainInto(topItems, topScores, 0);
        const stats = normStats(this.schemaParams.normalization, topScores, this.schemaParams.rrfK);
        spreads[q] = stats.max - stats.min;
        normalizeInto(stats, model.score(user, items), norm, q, P);
        fillMissing(this.schemaParams.missing, norm, items.length, q, P);
      });
      let wsum = 0;
      for (const x of weights) wsum += x;
      if (wsum > 0) for (let q = 0; q < P; q++) weights[q] /= wsum;
      scores = new Float64Array(items.length);
      blendInto(norm, items.length, weights, scores);
      scale = this.scoreScale(weights, spreads);
    }
    let list: CandidateList = { items, scores };
    if (this.rules.popularityBoost.enabled) list = popularityBoost(list, this.popularity, this.rules.popularityBoost.beta).list;
    if (this.rules.newItemBoost.enabled) list = newItemBoost(list, this.createdAt, this.effectiveNow(), this.rules.newItemBoost.days, this.rules.newItemBoost.boost, scale).list;
    for (let j = 0; j < items.length; j++) out[j] = list.scores[j];
    return out;
  }

  /** Fold new interactions of `users` into every member that supports it and into the stored histories. */
  async foldIn(data: InteractionMatrix, users: Int32Array): Promise<void> {
    this.requireItemIds();
    for (const m of this.members) if (typeof m.model.foldIn === 'function') await m.model.foldIn(data, users);
    const replace = new Uint8Array(Math.max(this.nUsers, data.nUsers));
    for (const u of users) if (u >= 0 && u < replace.length) replace[u] = 1;
    const old = this.history;
    const nUsers = replace.length;
    const indptr = new Int32Array(nUsers + 1);
    const indices: number[] = [];
    const values: number[] = [];
    for (let u = 0; u < nUsers; u++) {
      if (replace[u] && u < data.nUsers) {
        for (let p = data.indptr[u]; p < data.indptr[u + 1]; p++) {
          indices.push(data.indices[p]);
          values.push(data.values[p]);
        }
      } else if (u < old.indptr.length - 1) {
        for (let p = old.indptr[u]; p < old.indptr[u + 1]; p++) {
          indices.push(old.indices[p]);
          values.push(old.values[p]);
        }
      }
      indptr[u + 1] = indices.length;
    }
    this.history = { indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
  }

  historyItems(u: number): Int32Array {
    return Int32Array.from(rowOf(this.history, u) ?? new Int32Array(0));
  }

  historyValues(u: number): Float32Array {
    if (u < 0 || u >= this.history.indptr.length - 1) return new Float32Array(0);
    return this.history.values.slice(this.history.indptr[u], this.history.indptr[u + 1]);
  }

  // -------------------------------------------------------------------------------------------
  // Variants (ablation, λ curve), reasons, explanations

  /**
   * A lightweight copy sharing members and state, with some members dropped (their weight spread
   * over the others), other weights, or other rules. Used by `--ablation` and the diversity curve.
   */
  variant(change: { dropMember?: string; weights?: Float64Array | Record<string, number>; rules?: RulesConfig; normalization?: Normalization }): EnsembleModel {
    const copy = Object.create(EnsembleModel.prototype) as EnsembleModel;
    Object.assign(copy, this);
    (copy as { schemaParams: EnsembleParams }).schemaParams = { ...this.schemaParams, ...(change.normalization ? { normalization: change.normalization } : {}) };
    copy.stamp = new Int32Array(0);
    if (change.rules) copy.setRules(change.rules);
    if (change.weights) {
      copy.weights = change.weights instanceof Float64Array ? Float64Array.from(change.weights) : Float64Array.from(this.members, (m) => (change.weights as Record<string, number>)[m.name] ?? 0);
    } else copy.weights = Float64Array.from(this.weights);
    copy.fewWeights = this.fewWeights ? Float64Array.from(this.fewWeights) : null;
    if (change.dropMember) {
      const j = this.members.findIndex((m) => m.name === change.dropMember);
      if (j < 0) throw new RecsysError('RECSYS_ERR_USAGE', `no member '${change.dropMember}' in this ensemble (members: ${this.members.map((m) => m.name).join(', ')})`);
      copy.weights[j] = 0;
      if (copy.fewWeights) copy.fewWeights[j] = 0;
    }
    for (const w of [copy.weights, copy.fewWeights]) {
      if (!w) continue;
      let sum = 0;
      for (const x of w) sum += x;
      if (sum > 0) for (let j = 0; j < w.length; j++) w[j] /= sum;
    }
    if (copy.fewWeights && !copy.fewWeights.some((x) => x > 0)) copy.fewWeights = null;
    return copy;
  }

  /** Human-readable reasons for position j of a row: proposers, member contributions, rules. */
  reasonsFor(row: EnsembleRow, j: number, effects: RuleEffect[]): string[] {
    const item = row.items[j];
    const reasons: string[] = [`strategy ${row.strategy}: ${row.detail}`];
    if (row.explored?.has(item)) reasons.push(`exploration slot: category ${row.explored.get(item)}`);
    if (row.proposers) {
      const mask = row.proposers[j] ?? 0;
      const names = this.members.filter((_, m) => (mask >>> m) & 1).map((m) => m.name);
      reasons.push(names.length > 0 ? `proposed by ${names.join(', ')}` : 'added as a new product (inside the new-item window)');
    }
    if (row.union && row.norm) {
      const c = sortedIndexOf(row.union, item);
      if (c >= 0) {
        const P = row.participants.length;
        const w = this.routeWeights(row.strategy);
        const parts = row.participants.map((m, q) => `${this.members[m].name} ${row.norm![c * P + q].toFixed(3)}×${w[m].toFixed(2)}`);
        reasons.push(`blend (${this.schemaParams.normalization}): ${parts.join(' + ')}`);
      }
    }
    for (const e of effects) {
      for (const r of e.rescored) if (r.item === item) reasons.push(`${e.rule}: score ${r.before.toFixed(4)} → ${r.after.toFixed(4)}`);
      if (e.rule === 'diversity') for (const mv of e.moved) if (mv.item === item) reasons.push(`diversity: moved from position ${mv.from + 1} to ${mv.to + 1}`);
    }
    return reasons;
  }

  /**
   * "Because you …" for one listed item: ALS's largest history contribution (Hu et al. 2008 §5),
   * else the most similar history item by content; null without a history or those members.
   */
  explainItem(row: EnsembleRow, item: number): string | null {
    const h = row.history;
    if (h.items.length === 0 || !this.itemIds) return null;
    const ids = this.itemIds;
    const als = this.members.find((m) => m.model instanceof AlsModel && this.weights[this.members.indexOf(m)] > 0)?.model as AlsModel | undefined;
    if (als) {
      const ex = als.explain(row.user, item, h.items, h.values);
      const top = ex.contributions[0];
      if (top && top.contribution > 0 && ex.score > 0) return `because you interacted with ${ids.idOf(top.item)} (${Math.round((100 * top.contribution) / ex.score)}% of the ALS score)`;
    }
    const content = this.members.find((m) => m.model instanceof ContentModel)?.model as ContentModel | undefined;
    if (content) {
      let best = -1;
      let bestSim = 0;
      for (const j of h.items) {
        const s = content.itemSimilarity(j, item);
        if (s > bestSim) {
          bestSim = s;
          best = j;
        }
      }
      if (best >= 0) return `similar to ${ids.idOf(best)}, which you interacted with (content cosine ${bestSim.toFixed(2)})`;
    }
    return null;
  }

  /** The most popular item of a category that is neither shown nor excluded (exploration), or −1. */
  bestOfCategory(category: number, shown: ReadonlySet<number>, excluded: ReadonlySet<number>): number {
    if (!this.categories) return -1;
    if (!this.categoryOrder) {
      const byCat = new Map<number, number[]>();
      for (const i of this.popOrder) {
        const c = this.categories[i];
        if (c < 0) continue;
        let list = byCat.get(c);
        if (!list) byCat.set(c, (list = []));
        list.push(i);
      }
      this.categoryOrder = new Map([...byCat].map(([c, l]) => [c, Int32Array.from(l)]));
    }
    for (const i of this.categoryOrder.get(category) ?? []) if (!shown.has(i) && !excluded.has(i)) return i;
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  async save(dir: string): Promise<void> {
    if (!this.userIds || !this.itemIds) throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot save an unfitted ensemble: call fit() first');
    const target = resolve(dir);
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    const staging = join(parent, `.${basename(target)}.ensemble-${process.pid}-${randomBytes(4).toString('hex')}`);
    const tensors: Record<string, { data: Tensor; shape?: number[] }> = {
      popularity: { data: this.popularity },
      historyIndptr: { data: this.history.indptr },
      historyIndices: { data: this.history.indices },
      historyValues: { data: this.history.values },
    };
    if (this.categories) tensors.categories = { data: this.categories };
    if (this.createdAt) tensors.createdAt = { data: this.createdAt };
    if (this.bought) {
      tensors.boughtIndptr = { data: this.bought.indptr };
      tensors.boughtIndices = { data: this.bought.indices };
    }
    this.segments?.userSegment.forEach((s, l) => (tensors[`segmentOfUser${l}`] = { data: s }));
    const members = this.members.map((m) => {
      if (m.dir) return { name: m.name, kind: m.kind, dir: relative(target, m.dir) || '.', absoluteDir: m.dir, embedded: false };
      return { name: m.name, kind: m.kind, dir: join('members', m.name), absoluteDir: null, embedded: true };
    });
    try {
      await saveArtifact(staging, {
        kind: this.name,
        params: { ...this.params },
        tensors,
        idMaps: { users: this.userIds, items: this.itemIds, categoryNames: this.categoryNames },
        meta: {
          members,
          learned: this.learned,
          referenceTime: Number.isFinite(this.referenceTime) ? this.referenceTime : null,
          segments: this.segments ? this.segments.toJSON() : null,
          fit: this.lastFit,
          format: 'members: artifact dirs relative to this one (embedded ones under members/); popularity f32 per item; history CSR; segments in meta + segmentOfUser<level> i32 per user',
        },
      });
      for (const m of this.members) if (!m.dir) await m.model.save(join(staging, 'members', m.name));
      let old: string | null = null;
      if (existsSync(target)) {
        old = `${staging}.old`;
        await rename(target, old);
      }
      await rename(staging, target);
      if (old) await rm(old, { recursive: true, force: true });
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      if (e instanceof RecsysError) throw e;
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `could not write the ensemble to ${target}: ${(e as Error).message}`, { file: target }, { cause: e });
    }
  }

  static async load(dir: string): Promise<EnsembleModel> {
    const root = resolve(dir);
    const art = await loadArtifact(root);
    const meta = art.manifest.meta as {
      members?: Array<{ name: string; kind: string; dir: string; absoluteDir: string | null; embedded: boolean }>;
      learned?: EnsembleFitReport['learned'];
      referenceTime?: number | null;
      segments?: ReturnType<DemographicSegments['toJSON']> | null;
      fit?: EnsembleFitReport | null;
    };
    const params = art.manifest.params;
    const model = new EnsembleModel(params);
    const { loadModel } = await import('../registry.js');
    const models: Array<{ model: Recommender; name: string; dir: string | null }> = [];
    for (const m of meta.members ?? []) {
      const candidates = m.embedded ? [join(root, m.dir)] : [isAbsolute(m.dir) ? m.dir : resolve(root, m.dir), ...(m.absoluteDir ? [m.absoluteDir] : [])];
      const found = candidates.find((c) => existsSync(join(c, 'manifest.json')));
      if (!found) {
        throw new RecsysError('RECSYS_ERR_ARTIFACT', `ensemble ${root}: member '${m.name}' is missing (looked in ${candidates.join(' and ')}). Keep member artifacts next to the ensemble, or retrain it with --members.`, { file: root });
      }
      models.push({ model: await loadModel(found), name: m.name, dir: m.embedded ? null : found });
    }
    await model.configure({ models });
    const weights = (params.weights ?? {}) as Record<string, number>;
    model.weights = Float64Array.from(model.members, (m) => weights[m.name] ?? 0);
    const few = params.fewWeights as Record<string, number> | undefined;
    model.fewWeights = few ? Float64Array.from(model.members, (m) => few[m.name] ?? 0) : null;
    model.userIds = art.idMap('users');
    model.itemIds = art.idMap('items');
    const names = art.manifest.tensors;
    model.setPopularity(art.float32('popularity'));
    model.categories = names.categories ? art.int32('categories') : null;
    model.categoryNames = art.manifest.idMaps.categoryNames ? [...art.idMap('categoryNames').ids] : [];
    model.createdAt = names.createdAt ? art.float64('createdAt') : null;
    model.history = { indptr: art.int32('historyIndptr'), indices: art.int32('historyIndices'), values: art.float32('historyValues') };
    model.bought = names.boughtIndptr ? { indptr: art.int32('boughtIndptr'), indices: art.int32('boughtIndices') } : null;
    model.referenceTime = meta.referenceTime ?? NaN;
    model.learned = meta.learned ?? null;
    model.lastFit = meta.fit ?? null;
    if (meta.segments) {
      const userSegment = meta.segments.levels.map((_, l) => art.int32(`segmentOfUser${l}`));
      model.segments = DemographicSegments.fromJSON(meta.segments, userSegment);
    }
    if (model.history.indptr.length !== model.userIds.size + 1 || model.popularity.length !== model.itemIds.size) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `ensemble artifact ${root}: tensors do not match the id maps (${model.userIds.size} users, ${model.itemIds.size} items); retrain it`, { file: root });
    }
    for (const m of model.members) {
      if (!m.model.itemIds || !sameIds(m.model.itemIds, model.itemIds)) {
        throw new RecsysError('RECSYS_ERR_ARTIFACT', `ensemble ${root}: member '${m.name}' (${m.dir ?? 'embedded'}) now has other items than the ensemble was trained with; it was retrained on another split. Retrain the ensemble.`, { file: root });
      }
    }
    return model;
  }
}

function excludedSet(row: Int32Array | null, set: ReadonlySet<number> | null): Set<number> {
  const out = new Set<number>(set ?? []);
  if (row) for (const i of row) out.add(i);
  return out;
}

function mergeSets(sorted: Int32Array, set: ReadonlySet<number> | null): Set<number> {
  const out = new Set<number>(sorted);
  if (set) for (const i of set) out.add(i);
  return out;
}

function checkWeights(given: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(given)) {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0) throw new RecsysError('RECSYS_ERR_USAGE', `member weight ${k}=${String(v)} must be a number ≥ 0`, { flag: '--member-weights' });
    out[k] = n;
  }
  return out;
}

/** `als=0.4,content=0.2` → { als: 0.4, content: 0.2 } */
export function parseMemberWeights(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const n = Number(part.slice(eq + 1));
    if (eq <= 0 || !Number.isFinite(n) || n < 0) {
      throw new RecsysError('RECSYS_ERR_USAGE', `--member-weights expects member=weight pairs with weights ≥ 0, got '${part}'. Example: --member-weights als=0.4,content=0.2,popularity=0.4`, { flag: '--member-weights' });
    }
    out[part.slice(0, eq).trim()] = n;
  }
  return out;
}

/** Registry entry: `needsCatalog` so the train workflow hands over categories and created_at. */
export const ensembleFactory: ModelFactory & { readonly needsCatalog: true } = {
  description: 'weighted blend of trained members (candidates from each, normalised scores, given or learned weights) + business-rule reranking + cold-start routing',
  schema: ENSEMBLE_PARAMS,
  needsCatalog: true,
  create: (params) => new EnsembleModel(params),
  load: (dir) => EnsembleModel.load(dir),
};
