/**
 * The model contract. Small on purpose (after implicit's RecommenderBase): fit, recommend, score,
 * save. Loading goes through the registry (`loadModel(dir)`), which reads the manifest and picks
 * the class. Rankings are flat typed arrays so metrics, reranking and serving share one
 * representation and nothing is boxed per item.
 */
import type { CsrRows, IdMap, InteractionMatrix } from '../data/matrix.js';
import type { ParamSchema } from './params.js';

/** Top-k lists for a batch of users: row r (user `users[r]`) is items[r*k .. r*k+k), best first. */
export interface Rankings {
  readonly users: Int32Array;
  readonly k: number;
  /** Item indexes, -1 where the list is shorter than k (e.g. k larger than the catalogue). */
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

/** Progress callback: models report work done; the CLI turns it into a progress bar. */
export interface Progress {
  /** Start (or restart) a phase with a known amount of work. */
  start(phase: string, total: number): void;
  /** Advance the current phase; `info` is shown next to the bar (e.g. loss, seconds/iteration). */
  tick(done?: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, tick() {}, stop() {} };

export interface FitOptions {
  progress?: Progress;
  /** Optional validation split for early stopping (models that support it). */
  validation?: { train: InteractionMatrix; test: InteractionMatrix };
}

export interface FitReport {
  model: string;
  seconds: number;
  iterations?: number;
  /** Per-iteration timings and (optional) losses. */
  history?: Array<{ iteration: number; seconds: number; loss?: number; metric?: number }>;
  [key: string]: unknown;
}

export interface RecommendOptions {
  /**
   * Items to exclude per user: rows of this CSR (indexed by user index) are removed before the
   * cut at k. The evaluator passes the training matrix; serving passes the user's history.
   */
  exclude?: CsrRows | null;
  /** Extra per-batch-row exclusions (row r of the batch), e.g. items a live user just bought. */
  excludeSets?: Array<ReadonlySet<number> | null>;
}

export interface Recommender {
  /** Registry name (e.g. 'popularity', 'als'). */
  readonly name: string;
  /** Hyper-parameters as given (after defaults), stored in the manifest. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The id maps the model was trained with (null before fit). */
  readonly userIds: IdMap | null;
  readonly itemIds: IdMap | null;

  fit(data: InteractionMatrix, opts?: FitOptions): Promise<FitReport>;
  recommend(users: Int32Array, k: number, opts?: RecommendOptions): Promise<Rankings>;
  /** Scores of `items` for user index `user` (higher is better). */
  score(user: number, items: Int32Array): Float32Array;
  /** Writes manifest.json + binary tensors into `dir` (atomically; see artifacts.ts). */
  save(dir: string): Promise<void>;
  /**
   * Optional: take new interactions for `users` (rows of `data`, same id maps) into the model's
   * user state without retraining (strong-generalization fold-in, serving-time updates).
   */
  foldIn?(data: InteractionMatrix, users: Int32Array): Promise<void>;
}

/** How the registry creates and loads a model class. */
export interface ModelFactory {
  /** One line for `recsys train --help`. */
  readonly description: string;
  /** The hyper-parameter schema (defaults and validation live there only). */
  readonly schema: ParamSchema;
  /**
   * The model learns from product metadata (content, two-tower): the train workflow loads the
   * catalogue from the store and calls `setCatalog(rows)` before fit (models never read the store).
   */
  readonly needsCatalog?: boolean;
  /**
   * The model learns from the users table (two-tower demographics): the train workflow loads it and
   * calls `setUserFeatures(rows)` before fit.
   */
  readonly needsUsers?: boolean;
  create(params: Record<string, unknown>): Recommender;
  load(dir: string): Promise<Recommender>;
  /**
   * Optional: a saved model ready to continue training on new interactions (`train --warm-start`);
   * `params` may change training settings, not the model's shape.
   */
  warmStart?(dir: string, params: Record<string, unknown>): Promise<Recommender>;
}

/** Empty rankings of the right shape, filled with -1 / -Infinity. */
export function emptyRankings(users: Int32Array, k: number): Rankings {
  const items = new Int32Array(users.length * k).fill(-1);
  const scores = new Float32Array(users.length * k).fill(-Infinity);
  return { users, k, items, scores };
}

/** One row of the store's users table: id and demographics (JSON object or null). */
export interface UserFeatureRow {
  userId: string;
  demographics: Record<string, unknown> | null;
}

/** A model that receives the users table (see ModelFactory.needsUsers). */
export interface UserFeatureAware {
  setUserFeatures(rows: readonly UserFeatureRow[]): void;
}

/** A model that receives product metadata rows (see ModelFactory.needsCatalog). */
export interface CatalogAware {
  setCatalog(rows: readonly CatalogRow[]): void;
}

/** One product as the store holds it (structurally the store's ProductRow). */
export interface CatalogRow {
  productId: string;
  title: string | null;
  description: string | null;
  category: string | null;
  brand: string | null;
  price: number | null;
  features: Record<string, unknown> | null;
  createdAt: string | null;
}
