/**
 * Two-tower neural retrieval (Covington et al., "Deep Neural Networks for YouTube
 * Recommendations", RecSys 2016; Yi et al., RecSys 2019): a user tower and an item tower map their
 * inputs to unit vectors in one d-dimensional space, and score(u, i) = cos(f(u), g(i)).
 *
 *   user input: id (one row per user, or hashed buckets), demographics (features.ts), optionally
 *               the mean of the item rows of the user's last N training items (`historyLength`);
 *   item input: id, catalogue features (TF-IDF title/description, category, brand, price bucket,
 *               JSON attributes through the content featurizer), a learned "unknown" per missing block;
 *   each tower: embedding bag → [ReLU → Dropout → Linear]×depth → LayerNorm → L2 norm (towers.ts).
 *
 * Training (`loss`): `softmax` = in-batch sampled softmax with temperature, log-Q correction and
 * optional uniform negatives; `bce` = the design's sigmoid(cosine) with 4 uniform negatives per
 * positive (losses.ts). Every (user, item) pair of the training matrix is one positive; a batch's
 * users and items are deduplicated before the towers run. Embedding tables get sparse Adagrad or
 * lazy Adam (sparse-optim.ts), dense layers Adam; products run on tfjs wasm/cpu/webgpu (backend.ts).
 * With probability `idDropout` a batch's user/item is fed without its id (its "unknown id" row),
 * which trains the feature path that cold users and items rely on. Early stopping on NDCG@10 of a
 * validation set (FitOptions.validation, else one held-out pair from each of up to
 * `validationUsers` users), keeping the best epoch's weights. Runs are reproducible from `seed`.
 *
 * Cold start: a user or item without training interactions is embedded from its features alone
 * (unknown-id row + features (+ history)); `foldIn` gives held-out users their history,
 * `embedUsers`/`embedItems` embed rows never seen, `addItems` appends new products.
 * Warm start: `TwoTowerModel.warmStart(dir)` then `fit(newData)` continues training on new
 * interactions, growing the id tables for new users/items (old rows kept; `steps` bounds the work).
 *
 * The model never reads the store: before fit, the train workflow passes the catalogue through
 * `setCatalog(products)` and the users table through `setUserFeatures(users)` (features.ts
 * `userRowsFromSql`), or both through `setFeatures({ users, items })`.
 */
import { availableParallelism } from 'node:os';
import { RecsysError } from '../../errors.js';
import { Rng } from '../../rng.js';
import { IdMap, type CsrRows, type InteractionMatrix } from '../../data/matrix.js';
import { loadArtifact, readManifest, saveArtifact, type Tensor } from '../../artifacts.js';
import { ndcgAtK } from '../../eval/metrics.js';
import { resolveParams, type ParamsOf } from '../params.js';
import type { CatalogAware, UserFeatureAware, CatalogRow, FitOptions, FitReport, ModelFactory, Progress, Rankings, Recommender, RecommendOptions } from '../recommender.js';
import type { CatalogItem } from '../../features/featurizer.js';
import { alsKernelModule } from '../als/kernels.js';
import { alsPool } from '../als/pool.js';
import { PanelScorer, topkJs, topkWasm, type TopkRequest, type TopkResult } from '../als/scoring.js';
import { paddedRank } from '../als/solver-reference.js';
import { userTopkRequest } from '../als/engine.js';
import { createBackend, Workspace, type BackendChoice, type DenseBackend } from './backend.js';
import { appendBags, ItemFeatureEncoder, replaceBagRows, UserFeatureEncoder, type ItemEncoderState, type UserEncoderState, type UserRow } from './features.js';
import { bceLoss, candidateLogQ, softmaxLoss } from './losses.js';
import { createTableOptimizer, DenseAdam, type TableOptimizer, type TableOptimizerState } from './sparse-optim.js';
import { Tower, type Bags, type TowerGrads, type TowerInput } from './towers.js';

export type { UserRow } from './features.js';

export const TWOTOWER_PARAMS = {
  loss: { type: 'enum', values: ['softmax', 'bce'], default: 'softmax', description: 'softmax = in-batch sampled softmax with log-Q correction; bce = the design\'s sigmoid(cosine) with sampled negatives' },
  dimensions: { type: 'int', default: 128, min: 2, max: 1024, description: 'output embedding size d of both towers' },
  hidden: { type: 'int', default: 256, min: 1, max: 4096, description: 'width of the first layer (the embedding bag) and of every hidden layer' },
  depth: { type: 'int', default: 1, min: 0, max: 4, description: 'hidden Linear layers after the first (1 = the design: Linear(in,256) → ReLU → Dropout → Linear(256,d) → LayerNorm)' },
  dropout: { type: 'number', default: 0.3, min: 0, max: 0.95, description: 'dropout after each ReLU' },
  batchSize: { type: 'int', default: 1024, min: 1, description: 'positive pairs per step (the design: 2048)' },
  epochs: { type: 'int', default: 30, min: 1, description: 'most passes over the training pairs (early stopping may end sooner)' },
  steps: { type: 'int', default: 0, min: 0, description: 'train exactly this many steps instead of epochs (0 = use epochs); warm starts use it' },
  learningRate: { type: 'number', default: 0.005, min: 0, description: 'Adam learning rate of the dense layers (the design: 0.001)' },
  embeddingLearningRate: { type: 'number', default: 0.02, min: 0, description: 'learning rate of the embedding tables (sparse optimizer)' },
  optimizer: { type: 'enum', values: ['adam', 'adagrad'], default: 'adam', description: 'sparse optimizer of the embedding tables: adagrad, or lazy adam (PyTorch SparseAdam)' },
  weightDecay: { type: 'number', default: 0, min: 0, description: 'L2 on the embedding rows a step touches' },
  initStd: { type: 'number', default: 0.05, min: 0, description: 'standard deviation of the initial embedding rows' },
  negatives: { type: 'int', default: 4, min: 1, max: 1000, description: 'bce: uniform negatives per positive' },
  bceLogitScale: { type: 'number', default: 1, min: 0.001, description: 'bce: logit = scale · cosine (1 = the design)' },
  temperature: { type: 'number', default: 0.05, min: 0.001, max: 10, description: 'softmax: logits are cosine / temperature' },
  logQ: { type: 'boolean', default: true, description: 'softmax: subtract log q (chance the item is among the batch candidates) from its logits' },
  uniformNegatives: { type: 'int', default: 0, min: 0, description: 'softmax: extra uniformly drawn candidate items per batch (mixed negative sampling)' },
  idDropout: { type: 'number', default: 0.1, min: 0, max: 1, description: 'probability a batch user/item is fed without its id, training the feature-only (cold-start) path' },
  userFeatures: { type: 'boolean', default: true, description: 'use the users\' demographics (when setUserFeatures was called)' },
  itemFeatures: { type: 'boolean', default: true, description: 'use the catalogue features (when setCatalog was called)' },
  historyLength: { type: 'int', default: 0, min: 0, max: 10000, description: 'user tower: mean of the item rows of the last N training items (0 = off)' },
  userIdBuckets: { type: 'int', default: 0, min: 0, description: 'hash user ids into this many rows (0 = one row per user)' },
  itemIdBuckets: { type: 'int', default: 0, min: 0, description: 'hash item ids into this many rows (0 = one row per item)' },
  patience: { type: 'int', default: 3, min: 0, description: 'stop after this many epochs without a better validation NDCG@10 (0 = never stop early)' },
  validationUsers: { type: 'int', default: 2000, min: 0, description: 'without a validation split: hold out one pair from each of up to this many users for early stopping (0 = none)' },
  seed: { type: 'int', default: 42, min: 0, description: 'seed of initialisation, shuffling, negatives and dropout' },
  backend: { type: 'enum', values: ['auto', 'blas', 'wasm', 'cpu', 'webgpu'], default: 'auto', description: 'dense compute: blas (native OpenBLAS kernel, built where libopenblas-dev exists), wasm (tfjs SIMD), cpu (pure JS), webgpu (needs a GPU); auto = blas, else wasm, else cpu' },
  threads: { type: 'int', default: 0, min: 0, max: 64, description: 'threads for the large matrix products (worker threads with their own tfjs engine); 0 = one per CPU core, at most 4' },
  saveOptimizerState: { type: 'boolean', default: true, description: 'store the optimizer state in the artifact (needed to continue training exactly; doubles its size)' },
} as const;

export type TwoTowerParams = ParamsOf<typeof TWOTOWER_PARAMS>;

/** Params that fix the shape of the network: a warm start must keep them. */
const STRUCTURAL: ReadonlyArray<keyof TwoTowerParams> = ['dimensions', 'hidden', 'depth', 'historyLength', 'userIdBuckets', 'itemIdBuckets', 'userFeatures', 'itemFeatures'];

export interface TwoTowerFitReport extends FitReport {
  loss: 'softmax' | 'bce';
  backend: string;
  fallbackReason: string | null;
  threads: number;
  steps: number;
  epochs: number;
  examples: number;
  /** Median wall-clock milliseconds per training step. */
  msPerStep: number;
  /** Median CPU milliseconds (user + system, all threads) per step: steadier than wall time on a busy machine. */
  cpuMsPerStep: number;
  examplesPerSecond: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  validation: { users: number; metric: 'ndcg@10'; best: number } | null;
  parameters: { tables: number; dense: number };
  warmStart: { newUsers: number; newItems: number } | null;
  coldUsers: number;
  coldItems: number;
}

/** The inputs of `setFeatures`. */
export interface TwoTowerFeatures {
  users?: readonly UserRow[] | null;
  items?: readonly CatalogItem[] | null;
}

interface Side {
  tower: Tower;
  /** Feature bags per entity index (null: the tower has no features beyond the unknown-id row). */
  bags: Bags | null;
  /** Id-table row per entity index (exact: the index; hashed: the bucket). */
  rowOf: Int32Array;
  /** 1 when the entity had training interactions (its id row is learned). */
  trained: Uint8Array;
}

interface TrainState {
  backend: DenseBackend;
  /** The losses' buffers, reused across steps (the towers keep their own). */
  workspace: Workspace;
  rng: Rng;
  userGrads: TowerGrads;
  itemGrads: TowerGrads;
  tableOpts: Record<string, TableOptimizer>;
  denseOpts: DenseAdam[];
}

/** Validation for early stopping: users to score, rows to exclude and the relevant items. */
interface ValidationSet {
  users: Int32Array;
  exclude: CsrRows;
  relevant: (u: number) => Int32Array;
}

const SMALL_BATCH = 256;
/** Below this many training pairs no pairs are held out for early stopping. */
const MIN_PAIRS_FOR_HOLDOUT = 2000;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Rows `rows` of `bags`, in that order, as a new CSR. */
export function gatherBags(bags: Bags, rows: Int32Array, n = rows.length): Bags {
  let nnz = 0;
  for (let r = 0; r < n; r++) nnz += bags.indptr[rows[r] + 1] - bags.indptr[rows[r]];
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let w = 0;
  for (let r = 0; r < n; r++) {
    const a = bags.indptr[rows[r]];
    const b = bags.indptr[rows[r] + 1];
    indices.set(bags.indices.subarray(a, b), w);
    values.set(bags.values.subarray(a, b), w);
    w += b - a;
    indptr[r + 1] = w;
  }
  return { indptr, indices, values };
}

export class TwoTowerModel implements Recommender, CatalogAware, UserFeatureAware {
  readonly name = 'twotower';
  readonly params: TwoTowerParams;
  userIds: IdMap | null = null;
  itemIds: IdMap | null = null;
  /** Unit user/item vectors (nUsers × d, nItems × d), computed at the end of fit. */
  userEmbeddings: Float32Array = new Float32Array(0);
  itemEmbeddings: Float32Array = new Float32Array(0);

  private catalog: readonly CatalogItem[] | null = null;
  private userRows: readonly UserRow[] | null = null;
  private userEncoder: UserFeatureEncoder | null = null;
  private itemEncoder: ItemFeatureEncoder | null = null;
  private user: Side | null = null;
  private item: Side | null = null;
  /** Last `historyLength` training items per user (most recent first), CSR over item indexes. */
  private recent: CsrRows | null = null;
  private itemCounts: Float64Array = new Float64Array(0);
  private tableOptState: Record<string, TableOptimizerState> | null = null;
  private denseOptState: Array<{ m: Float32Array; v: Float32Array; t: number }> | null = null;
  private warm = false;
  private backendHandle: DenseBackend | null = null;
  private scorer: PanelScorer | null = null;
  private lastFit: TwoTowerFitReport | null = null;

  constructor(params: Partial<Record<keyof TwoTowerParams, unknown>> = {}) {
    this.params = resolveParams('twotower', TWOTOWER_PARAMS, params);
  }

  get d(): number {
    return this.params.dimensions;
  }

  get nUsers(): number {
    return this.userIds?.size ?? 0;
  }

  get nItems(): number {
    return this.itemIds?.size ?? 0;
  }

  /** Widths of each tower: [hidden × depth, d] (depth 0: the embedding bag is d wide and feeds LayerNorm). */
  private widths(): number[] {
    const p = this.params;
    return [...Array.from({ length: p.depth }, () => p.hidden), p.dimensions];
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  /** Product rows (the store's products table); the item tower's features come from them. */
  setCatalog(rows: readonly CatalogRow[]): void {
    this.catalog = rows;
  }

  /** User rows (the store's users table: id + demographics JSON). */
  setUserFeatures(rows: readonly UserRow[]): void {
    this.userRows = rows;
  }

  setFeatures(features: TwoTowerFeatures): void {
    if (features.items !== undefined) this.catalog = features.items;
    if (features.users !== undefined) this.userRows = features.users;
  }

  private async backend(): Promise<DenseBackend> {
    const threads = this.params.threads > 0 ? this.params.threads : Math.min(4, Math.max(1, availableParallelism()));
    this.backendHandle ??= await createBackend(this.params.backend as BackendChoice, { threads });
    return this.backendHandle;
  }

  private requireFitted(what: string): void {
    if (!this.user || !this.item || !this.userIds || !this.itemIds) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `cannot ${what} with an unfitted two-tower model: call fit() or load a saved model first`);
    }
  }

  private userBagsFor(ids: IdMap): Bags | null {
    if (!this.userEncoder) return null;
    const byId = new Map<string, UserRow>();
    for (const r of this.userRows ?? []) byId.set(r.userId, r);
    return this.userEncoder.encode(ids.ids.map((id) => byId.get(id) ?? null));
  }

  private itemBagsFor(ids: IdMap): Bags | null {
    if (!this.itemEncoder) return null;
    const byId = new Map<string, CatalogItem>();
    for (const r of this.catalog ?? []) byId.set(r.productId, r);
    return this.itemEncoder.encode(ids.ids.map((id) => byId.get(id) ?? null));
  }

  private rowsOf(ids: IdMap, buckets: number): Int32Array {
    const out = new Int32Array(ids.size);
    for (let i = 0; i < ids.size; i++) out[i] = buckets > 0 ? fnv1a(ids.idOf(i)) % buckets : i;
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Fit

  async fit(data: InteractionMatrix, opts: FitOptions = {}): Promise<TwoTowerFitReport> {
    const t0 = performance.now();
    const p = this.params;
    if (data.nUsers === 0 || data.nItems === 0 || data.nnz === 0) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `cannot train a two-tower model on an empty matrix (${data.nUsers} users, ${data.nItems} items, ${data.nnz} interactions). Check the ingested data and the split.`);
    }
    const validationGiven = opts.validation ?? null;
    if (validationGiven && (validationGiven.test.nUsers !== data.nUsers || validationGiven.test.nItems !== data.nItems)) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the validation split has ${validationGiven.test.nUsers} users × ${validationGiven.test.nItems} items but the training matrix ${data.nUsers} × ${data.nItems}; both must come from one split (same id maps).`);
    }
    const rng = new Rng(p.seed + (this.warm ? 7919 : 0));
    const backend = await this.backend();
    const warmInfo = this.warm ? this.growForWarmStart(data, rng) : (this.initFresh(data, rng), null);

    // Training pairs, less a validation hold-out when none was given.
    let train = data;
    let validation: ValidationSet | null = null;
    if (validationGiven) {
      validation = this.validationFrom(validationGiven.train, validationGiven.test, rng);
    } else if (p.patience > 0 && p.validationUsers > 0 && data.nnz >= MIN_PAIRS_FOR_HOLDOUT) {
      const held = this.holdOut(data, rng);
      train = held.train;
      validation = held.validation;
    }
    const user = this.user as Side;
    const item = this.item as Side;
    const trainedUsers = new Uint8Array(data.nUsers);
    const trainedItems = new Uint8Array(data.nItems);
    const counts = new Float64Array(data.nItems);
    for (let u = 0; u < train.nUsers; u++) if (train.rowLength(u) > 0) trainedUsers[u] = 1;
    for (let q = 0; q < train.nnz; q++) {
      trainedItems[train.indices[q]] = 1;
      counts[train.indices[q]]++;
    }
    for (let u = 0; u < data.nUsers; u++) user.trained[u] |= trainedUsers[u];
    for (let i = 0; i < data.nItems; i++) item.trained[i] |= trainedItems[i];
    this.itemCounts = counts;
    this.recent = p.historyLength > 0 ? recentItems(train, p.historyLength) : null;

    const state = this.trainState(backend, rng);
    const nPairs = train.nnz;
    const pairUsers = new Int32Array(nPairs);
    for (let u = 0; u < train.nUsers; u++) pairUsers.fill(u, train.indptr[u], train.indptr[u + 1]);
    const pairItems = train.indices;
    const trainable = Int32Array.from({ length: data.nItems }, (_, i) => i).filter((i) => trainedItems[i] === 1);
    const probabilities = new Float64Array(data.nItems);
    for (let i = 0; i < data.nItems; i++) probabilities[i] = counts[i] / nPairs;

    const B = Math.min(p.batchSize, nPairs);
    const stepsPerEpoch = Math.ceil(nPairs / B);
    const totalSteps = p.steps > 0 ? p.steps : p.epochs * stepsPerEpoch;
    const nEpochs = Math.ceil(totalSteps / stepsPerEpoch);
    const history: NonNullable<FitReport['history']> = [];
    const stepTimes: number[] = [];
    const stepCpu: number[] = [];
    const progress: Progress | undefined = opts.progress;
    let best = -Infinity;
    let bestEpoch = 0;
    let snapshot: Float32Array[] | null = null;
    let stoppedEarly = false;
    let stepsDone = 0;
    let examples = 0;
    let lastMetric: number | null = null;
    const order = Int32Array.from({ length: nPairs }, (_, j) => j);
    const exU = new Int32Array(B);
    const exI = new Int32Array(B);
    const ctx: StepContext = {
      userSlotOf: new Int32Array(data.nUsers).fill(-1),
      itemSlotOf: new Int32Array(data.nItems).fill(-1),
      trainable,
      probabilities,
    };
    for (let epoch = 1; epoch <= nEpochs && stepsDone < totalSteps; epoch++) {
      const te = performance.now();
      state.rng.shuffle(order);
      const stepsNow = Math.min(stepsPerEpoch, totalSteps - stepsDone);
      progress?.start(`twotower epoch ${epoch}/${nEpochs}`, stepsNow);
      let lossSum = 0;
      let epochExamples = 0;
      for (let s = 0; s < stepsNow; s++) {
        const ts = performance.now();
        const cs = process.cpuUsage();
        const start = s * B;
        const n = Math.min(B, nPairs - start);
        for (let r = 0; r < n; r++) {
          const j = order[start + r];
          exU[r] = pairUsers[j];
          exI[r] = pairItems[j];
        }
        const loss = await this.trainStep(state, ctx, exU.subarray(0, n), exI.subarray(0, n));
        if (!Number.isFinite(loss)) {
          throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the two-tower loss became ${loss} at epoch ${epoch}, step ${s + 1}. Lower --param learningRate / embeddingLearningRate (now ${p.learningRate} / ${p.embeddingLearningRate}) or raise temperature (now ${p.temperature}).`);
        }
        lossSum += loss * n;
        epochExamples += n;
        stepsDone++;
        const dt = performance.now() - ts;
        stepTimes.push(dt);
        const cu = process.cpuUsage(cs);
        stepCpu.push((cu.user + cu.system) / 1000);
        const elapsed = (performance.now() - te) / 1000;
        const info: Record<string, string | number> = { loss: (lossSum / epochExamples).toFixed(4), 'ex/s': Math.round(epochExamples / Math.max(elapsed, 1e-9)) };
        if (lastMetric !== null) info['ndcg@10'] = lastMetric.toFixed(4);
        progress?.tick(1, info);
      }
      examples += epochExamples;
      const entry: NonNullable<FitReport['history']>[number] = { iteration: epoch, seconds: (performance.now() - te) / 1000, loss: lossSum / Math.max(1, epochExamples) };
      if (validation) {
        const metric = await this.validationNdcg(backend, validation);
        entry.metric = metric;
        lastMetric = metric;
        progress?.tick(0, { loss: (entry.loss ?? 0).toFixed(4), 'ndcg@10': metric.toFixed(4) });
        if (metric > best) {
          best = metric;
          bestEpoch = epoch;
          snapshot = this.snapshot();
        } else if (p.patience > 0 && epoch - bestEpoch >= p.patience) {
          history.push(entry);
          progress?.stop();
          stoppedEarly = true;
          break;
        }
      } else {
        bestEpoch = epoch;
      }
      history.push(entry);
      progress?.stop();
    }
    if (snapshot && bestEpoch < history.length) this.restore(snapshot);
    this.saveOptimizerState(state);
    this.userIds = data.users;
    this.itemIds = data.items;
    await this.computeEmbeddings(backend);
    this.warm = false;
    const median = (xs: number[]): number => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
    };
    const msPerStep = median(stepTimes);
    const seconds = (performance.now() - t0) / 1000;
    const trainSeconds = stepTimes.reduce((a, b) => a + b, 0) / 1000;
    let coldUsers = 0;
    let coldItems = 0;
    for (let u = 0; u < data.nUsers; u++) coldUsers += user.trained[u] ? 0 : 1;
    for (let i = 0; i < data.nItems; i++) coldItems += item.trained[i] ? 0 : 1;
    const report: TwoTowerFitReport = {
      model: this.name,
      seconds,
      iterations: history.length,
      history,
      loss: p.loss,
      backend: backend.name,
      fallbackReason: backend.fallbackReason,
      threads: backend.threads,
      steps: stepsDone,
      epochs: history.length,
      examples,
      msPerStep,
      cpuMsPerStep: median(stepCpu),
      examplesPerSecond: trainSeconds > 0 ? examples / trainSeconds : 0,
      bestEpoch,
      stoppedEarly,
      validation: validation ? { users: validation.users.length, metric: 'ndcg@10', best } : null,
      parameters: this.parameterCounts(),
      warmStart: warmInfo,
      coldUsers,
      coldItems,
    };
    this.lastFit = report;
    return report;
  }

  private parameterCounts(): { tables: number; dense: number } {
    let tables = 0;
    let dense = 0;
    for (const s of [this.user, this.item]) {
      if (!s) continue;
      tables += s.tower.idTable.length + s.tower.featTable.length + s.tower.histTable.length;
      for (const d of s.tower.denseParams()) dense += d.value.length;
    }
    return { tables, dense };
  }

  /** Encoders and towers for a first fit. */
  private initFresh(data: InteractionMatrix, rng: Rng): void {
    const p = this.params;
    this.userEncoder = p.userFeatures && this.userRows && this.userRows.length > 0 ? UserFeatureEncoder.fit(this.userRows) : UserFeatureEncoder.fit([]);
    this.itemEncoder = p.itemFeatures && this.catalog && this.catalog.length > 0 ? ItemFeatureEncoder.fit(this.catalog) : null;
    const widths = this.widths();
    const userTower = new Tower(
      { widths, dropout: p.dropout, nIds: p.userIdBuckets > 0 ? p.userIdBuckets : data.nUsers, nFeatures: this.userEncoder.nColumns, nHistory: p.historyLength > 0 ? data.nItems : 0, initStd: p.initStd, unknownIdFeature: this.userEncoder.unknownIdColumn },
      rng,
    );
    const itemColumns = this.itemEncoder ? this.itemEncoder.nColumns : 1;
    const itemTower = new Tower(
      { widths, dropout: p.dropout, nIds: p.itemIdBuckets > 0 ? p.itemIdBuckets : data.nItems, nFeatures: itemColumns, nHistory: 0, initStd: p.initStd, unknownIdFeature: this.itemEncoder ? this.itemEncoder.unknownIdColumn : 0 },
      rng,
    );
    this.user = {
      tower: userTower,
      bags: this.userEncoder.nColumns > 1 ? this.userBagsFor(data.users) : null,
      rowOf: this.rowsOf(data.users, p.userIdBuckets),
      trained: new Uint8Array(data.nUsers),
    };
    this.item = { tower: itemTower, bags: this.itemBagsFor(data.items), rowOf: this.rowsOf(data.items, p.itemIdBuckets), trained: new Uint8Array(data.nItems) };
    this.tableOptState = null;
    this.denseOptState = null;
  }

  /**
   * Warm start: re-index everything on the new data's id maps. Old users/items keep their rows
   * (and optimizer state); new ones get fresh rows. Features of new entities come from the rows
   * given to setCatalog / setUserFeatures (unknown when none were given).
   */
  private growForWarmStart(data: InteractionMatrix, rng: Rng): { newUsers: number; newItems: number } {
    const p = this.params;
    const user = this.user as Side;
    const item = this.item as Side;
    const oldUsers = this.userIds as IdMap;
    const oldItems = this.itemIds as IdMap;
    const userMap = Int32Array.from(data.users.ids, (id) => oldUsers.indexOf(id));
    const itemMap = Int32Array.from(data.items.ids, (id) => oldItems.indexOf(id));
    const newUsers = userMap.filter((o) => o < 0).length;
    const newItems = itemMap.filter((o) => o < 0).length;
    const w0 = user.tower.w0;
    const remapTable = (table: Float32Array, map: Int32Array, init: boolean): Float32Array => {
      const out = new Float32Array(map.length * w0);
      for (let r = 0; r < map.length; r++) {
        if (map[r] >= 0) out.set(table.subarray(map[r] * w0, map[r] * w0 + w0), r * w0);
        else if (init) for (let d = 0; d < w0; d++) out[r * w0 + d] = rng.normal() * p.initStd;
      }
      return out;
    };
    const remapState = (name: string, map: Int32Array, fill: number): void => {
      const st = this.tableOptState?.[name];
      if (!st) return;
      for (const key of Object.keys(st.slots)) {
        const src = st.slots[key];
        const out = new Float32Array(map.length * w0).fill(key === 'accumulator' ? fill : 0);
        for (let r = 0; r < map.length; r++) if (map[r] >= 0) out.set(src.subarray(map[r] * w0, map[r] * w0 + w0), r * w0);
        st.slots[key] = out;
      }
    };
    if (p.userIdBuckets === 0) {
      user.tower.idTable = remapTable(user.tower.idTable, userMap, true);
      user.tower.nIds = data.nUsers;
      remapState('user.id', userMap, 0.1);
    }
    if (p.itemIdBuckets === 0) {
      item.tower.idTable = remapTable(item.tower.idTable, itemMap, true);
      item.tower.nIds = data.nItems;
      remapState('item.id', itemMap, 0.1);
    }
    if (user.tower.nHistory > 0) {
      // History rows are item rows.
      user.tower.histTable = remapTable(user.tower.histTable, itemMap, true);
      user.tower.nHistory = data.nItems;
      remapState('user.history', itemMap, 0.1);
    }
    const remapFlags = (flags: Uint8Array, map: Int32Array): Uint8Array => Uint8Array.from(map, (o) => (o >= 0 ? flags[o] : 0));
    // Old entities keep their bags, new ones start as "no feature row"; rows given to setCatalog /
    // setUserFeatures (re-)describe the entities they name, with the fitted encoders.
    const remapBags = (bags: Bags | null, map: Int32Array, ids: IdMap, encode: (rows: Array<never | null>) => Bags, given: Map<string, unknown> | null): Bags | null => {
      if (!bags) return null;
      let out = patchUnknownRows(gatherBags(bags, map.map((o) => Math.max(o, 0))), map, encode([null]));
      if (given && given.size > 0) {
        const rows = Int32Array.from({ length: ids.size }, (_, r) => r).filter((r) => given.has(ids.idOf(r)));
        out = replaceBagRows(out, rows, encode(Array.from(rows, (r) => given.get(ids.idOf(r)) as never)));
      }
      return out;
    };
    const userGiven = this.userRows ? new Map<string, unknown>(this.userRows.map((r) => [r.userId, r])) : null;
    const itemGiven = this.catalog ? new Map<string, unknown>(this.catalog.map((r) => [r.productId, r])) : null;
    const userEncoder = this.userEncoder;
    const itemEncoder = this.itemEncoder;
    const userBags = userEncoder ? remapBags(user.bags, userMap, data.users, (rows) => userEncoder.encode(rows), userGiven) : null;
    const itemBags = itemEncoder ? remapBags(item.bags, itemMap, data.items, (rows) => itemEncoder.encode(rows), itemGiven) : null;
    this.user = { tower: user.tower, bags: userBags, rowOf: this.rowsOf(data.users, p.userIdBuckets), trained: remapFlags(user.trained, userMap) };
    this.item = { tower: item.tower, bags: itemBags, rowOf: this.rowsOf(data.items, p.itemIdBuckets), trained: remapFlags(item.trained, itemMap) };
    this.scorer = null;
    return { newUsers, newItems };
  }

  private trainState(backend: DenseBackend, rng: Rng): TrainState {
    const p = this.params;
    const user = (this.user as Side).tower;
    const item = (this.item as Side).tower;
    const optOpts = { weightDecay: p.weightDecay };
    const st = this.tableOptState ?? {};
    const tableOpts: Record<string, TableOptimizer> = {
      'user.id': createTableOptimizer(p.optimizer, user.nIds, user.w0, optOpts, st['user.id']),
      'user.features': createTableOptimizer(p.optimizer, user.nFeatures, user.w0, optOpts, st['user.features']),
      'item.id': createTableOptimizer(p.optimizer, item.nIds, item.w0, optOpts, st['item.id']),
      'item.features': createTableOptimizer(p.optimizer, item.nFeatures, item.w0, optOpts, st['item.features']),
    };
    if (user.nHistory > 0) tableOpts['user.history'] = createTableOptimizer(p.optimizer, user.nHistory, user.w0, optOpts, st['user.history']);
    const denseParams = [...user.denseParams(), ...item.denseParams()];
    const denseOpts = denseParams.map((d, j) => new DenseAdam(d.value.length, {}, this.denseOptState?.[j]));
    return { backend, workspace: new Workspace(), rng, userGrads: user.newGrads(), itemGrads: item.newGrads(), tableOpts, denseOpts };
  }

  private saveOptimizerState(state: TrainState): void {
    this.tableOptState = Object.fromEntries(Object.entries(state.tableOpts).map(([k, o]) => [k, o.state()]));
    this.denseOptState = state.denseOpts.map((o) => ({ m: o.m, v: o.v, t: o.t }));
  }

  /** One optimisation step on the examples (exU[r], exI[r]); returns the mean loss. */
  private async trainStep(state: TrainState, ctx: StepContext, exU: Int32Array, exI: Int32Array): Promise<number> {
    const p = this.params;
    const user = this.user as Side;
    const item = this.item as Side;
    const B = exU.length;
    const { rng, backend } = state;
    // Distinct users and items of the batch.
    const users: number[] = [];
    const items: number[] = [];
    const exUserSlot = new Int32Array(B);
    const exItemSlot = new Int32Array(B);
    const slotUser = (u: number): number => {
      let s = ctx.userSlotOf[u];
      if (s < 0) {
        s = users.length;
        users.push(u);
        ctx.userSlotOf[u] = s;
      }
      return s;
    };
    const slotItem = (i: number): number => {
      let s = ctx.itemSlotOf[i];
      if (s < 0) {
        s = items.length;
        items.push(i);
        ctx.itemSlotOf[i] = s;
      }
      return s;
    };
    for (let r = 0; r < B; r++) {
      exUserSlot[r] = slotUser(exU[r]);
      exItemSlot[r] = slotItem(exI[r]);
    }
    const nTrainable = ctx.trainable.length;
    let pairUser: Int32Array | null = null;
    let pairItem: Int32Array | null = null;
    let labels: Uint8Array | null = null;
    if (p.loss === 'bce') {
      const k = p.negatives;
      const P = B * (1 + k);
      pairUser = new Int32Array(P);
      pairItem = new Int32Array(P);
      labels = new Uint8Array(P);
      for (let r = 0; r < B; r++) {
        const o = r * (1 + k);
        pairUser[o] = exUserSlot[r];
        pairItem[o] = exItemSlot[r];
        labels[o] = 1;
        for (let j = 1; j <= k; j++) {
          pairUser[o + j] = exUserSlot[r];
          pairItem[o + j] = slotItem(ctx.trainable[rng.int(nTrainable)]);
        }
      }
    } else {
      for (let j = 0; j < p.uniformNegatives; j++) slotItem(ctx.trainable[rng.int(nTrainable)]);
    }
    const userIdx = Int32Array.from(users);
    const itemIdx = Int32Array.from(items);
    for (const u of users) ctx.userSlotOf[u] = -1;
    for (const i of items) ctx.itemSlotOf[i] = -1;

    // The user's batch positives stay out of its history bag (else the target leaks in).
    let positivesOf: ((slot: number) => Int32Array) | null = null;
    if (this.recent) {
      const first = new Int32Array(userIdx.length).fill(-1);
      const next = new Int32Array(B).fill(-1);
      for (let r = B - 1; r >= 0; r--) {
        next[r] = first[exUserSlot[r]];
        first[exUserSlot[r]] = r;
      }
      positivesOf = (slot) => {
        const out: number[] = [];
        for (let r = first[slot]; r >= 0; r = next[r]) out.push(exI[r]);
        return Int32Array.from(out);
      };
    }
    const userInput = this.towerInput(user, userIdx, true, rng, positivesOf);
    const itemInput = this.towerInput(item, itemIdx, true, rng);
    // Both towers at once: while one waits for a worker's share of a product, the other runs.
    // (Each draws its dropout seed from `rng` before its first await, so the order is fixed.)
    const [uc, ic] = await Promise.all([user.tower.forward(userInput, backend, { train: true, rng }), item.tower.forward(itemInput, backend, { train: true, rng })]);
    const d = this.d;
    let result;
    if (p.loss === 'bce') {
      result = bceLoss(uc.out, ic.out, d, pairUser as Int32Array, pairItem as Int32Array, labels as Uint8Array, p.bceLogitScale, state.workspace);
    } else {
      const logQ = p.logQ ? candidateLogQ(ctx.probabilities, itemIdx, B, p.uniformNegatives, nTrainable) : null;
      result = await softmaxLoss(backend, uc.out, userIdx.length, ic.out, itemIdx.length, d, { exampleUser: exUserSlot, exampleItem: exItemSlot, logQ, temperature: p.temperature }, state.workspace);
    }
    const { userGrads, itemGrads } = state;
    await Promise.all([user.tower.backward(uc, result.dU, userGrads, backend), item.tower.backward(ic, result.dV, itemGrads, backend)]);
    // Updates.
    const lrT = p.embeddingLearningRate;
    const o = state.tableOpts;
    o['user.id'].step(user.tower.idTable, userGrads.id, lrT);
    o['user.features'].step(user.tower.featTable, userGrads.features, lrT);
    if (userGrads.history && o['user.history']) o['user.history'].step(user.tower.histTable, userGrads.history, lrT);
    o['item.id'].step(item.tower.idTable, itemGrads.id, lrT);
    o['item.features'].step(item.tower.featTable, itemGrads.features, lrT);
    const params = [...user.tower.denseParams(), ...item.tower.denseParams()];
    const grads = [...Tower.denseGrads(userGrads), ...Tower.denseGrads(itemGrads)];
    for (let j = 0; j < params.length; j++) state.denseOpts[j].step(params[j].value, grads[j], p.learningRate);
    for (const g of [userGrads, itemGrads]) {
      g.id.clear();
      g.features.clear();
      g.history?.clear();
      Tower.zeroDense(g);
    }
    return result.loss;
  }

  /**
   * Tower input for entities `idx` of one side: id rows (untrained entities, and in training a
   * random `idDropout` share, go in without theirs) and feature bags. The user side also gets its
   * history bags from `this.recent` (training: minus the user's batch positives, `skip`).
   */
  private towerInput(side: Side, idx: Int32Array, train: boolean, rng: Rng | null, skip: ((r: number) => Int32Array) | null = null): TowerInput {
    const n = idx.length;
    const ids = new Int32Array(n);
    const drop = train ? this.params.idDropout : 0;
    for (let r = 0; r < n; r++) {
      const e = idx[r];
      const known = e >= 0 && e < side.trained.length && side.trained[e] === 1;
      ids[r] = known && !(drop > 0 && (rng as Rng).next() < drop) ? side.rowOf[e] : -1;
    }
    const features = side.bags ? gatherBags(side.bags, idx) : null;
    const history = side.tower.nHistory > 0 && this.recent ? historyBags(this.recent, idx, skip) : null;
    return { n, ids, features, history };
  }

  // -------------------------------------------------------------------------------------------
  // Validation, snapshots

  /** One random pair from each of up to `validationUsers` users with ≥ 3 pairs leaves training. */
  private holdOut(data: InteractionMatrix, rng: Rng): { train: InteractionMatrix; validation: ValidationSet } {
    const candidates = Int32Array.from({ length: data.nUsers }, (_, u) => u).filter((u) => data.rowLength(u) >= 3);
    rng.shuffle(candidates);
    const chosen = candidates.slice(0, Math.min(this.params.validationUsers, candidates.length)).sort();
    const keep = new Uint8Array(data.nnz).fill(1);
    const heldItem = new Int32Array(data.nUsers).fill(-1);
    for (const u of chosen) {
      const q = data.indptr[u] + rng.int(data.rowLength(u));
      keep[q] = 0;
      heldItem[u] = data.indices[q];
    }
    const train = data.select(keep);
    return { train, validation: { users: chosen, exclude: train, relevant: (u) => Int32Array.of(heldItem[u]) } };
  }

  private validationFrom(train: InteractionMatrix, test: InteractionMatrix, rng: Rng): ValidationSet {
    const users = Int32Array.from({ length: test.nUsers }, (_, u) => u).filter((u) => test.rowLength(u) > 0);
    const limit = this.params.validationUsers > 0 ? this.params.validationUsers : users.length;
    if (users.length > limit) rng.shuffle(users);
    return { users: users.slice(0, limit).sort(), exclude: train, relevant: (u) => test.rowItems(u) };
  }

  private async validationNdcg(backend: DenseBackend, v: ValidationSet): Promise<number> {
    const user = this.user as Side;
    const item = this.item as Side;
    const allItems = Int32Array.from({ length: item.trained.length }, (_, i) => i);
    const Y = await item.tower.embed(this.towerInput(item, allItems, false, null), backend);
    const X = await user.tower.embed(this.towerInput(user, v.users, false, null), backend);
    const K = 10;
    const local = Int32Array.from({ length: v.users.length }, (_, r) => r);
    // Exclusions are indexed by the real user index; build a CSR over the local rows.
    const ex = localRows(v.exclude, v.users);
    const req = userTopkRequest(X, Y, allItems.length, paddedRank(this.d), this.d, local, K, ex, undefined, this.d);
    const res = await this.runTopk(req, Y, allItems.length, false);
    let total = 0;
    for (let r = 0; r < v.users.length; r++) {
      const rel = Int32Array.from(v.relevant(v.users[r])).sort();
      total += ndcgAtK(res.items.subarray(r * K, r * K + K), rel, K);
    }
    return v.users.length > 0 ? total / v.users.length : 0;
  }

  private snapshot(): Float32Array[] {
    const out: Float32Array[] = [];
    for (const s of [this.user as Side, this.item as Side]) {
      out.push(s.tower.idTable.slice(), s.tower.featTable.slice(), s.tower.histTable.slice());
      for (const d of s.tower.denseParams()) out.push(d.value.slice());
    }
    return out;
  }

  private restore(snap: Float32Array[]): void {
    let j = 0;
    for (const s of [this.user as Side, this.item as Side]) {
      s.tower.idTable.set(snap[j++]);
      s.tower.featTable.set(snap[j++]);
      s.tower.histTable.set(snap[j++]);
      for (const d of s.tower.denseParams()) d.value.set(snap[j++]);
    }
  }

  /** Eval-mode unit vectors of every user and item. */
  private async computeEmbeddings(backend: DenseBackend): Promise<void> {
    const user = this.user as Side;
    const item = this.item as Side;
    const users = Int32Array.from({ length: user.trained.length }, (_, u) => u);
    const items = Int32Array.from({ length: item.trained.length }, (_, i) => i);
    this.userEmbeddings = await user.tower.embed(this.towerInput(user, users, false, null), backend);
    this.itemEmbeddings = await item.tower.embed(this.towerInput(item, items, false, null), backend);
    this.scorer = null;
  }

  // -------------------------------------------------------------------------------------------
  // Scoring

  private runTopk(req: TopkRequest, items: Float32Array, nItems: number, cached: boolean): Promise<TopkResult> | TopkResult {
    const module = alsKernelModule();
    if (!module) return topkJs(req);
    if (req.nQueries <= SMALL_BATCH) {
      if (!cached) return new PanelScorer(module, items, this.d, this.d, nItems, paddedRank(this.d)).topk(req);
      this.scorer ??= new PanelScorer(module, items, this.d, this.d, nItems, paddedRank(this.d));
      return this.scorer.topk(req);
    }
    return topkWasm(alsPool(), req, Math.max(1, availableParallelism()));
  }

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<Rankings> {
    this.requireFitted('recommend');
    const K = Math.max(0, Math.floor(k));
    const d = this.d;
    const safe = users.map((u) => (u >= 0 && u < this.nUsers ? u : -1));
    const req = userTopkRequest(this.userEmbeddings, this.itemEmbeddings, this.nItems, paddedRank(d), d, safe, K, opts.exclude ?? null, opts.excludeSets, d);
    const res = await this.runTopk(req, this.itemEmbeddings, this.nItems, true);
    for (let r = 0; r < users.length; r++) {
      if (safe[r] >= 0) continue;
      res.items.fill(-1, r * K, r * K + K);
      res.scores.fill(-Infinity, r * K, r * K + K);
    }
    return { users, k: K, items: res.items, scores: res.scores };
  }

  /** Top-k for arbitrary unit query vectors (nQ × d), e.g. cold users embedded with embedUsers. */
  async recommendForVectors(queries: Float32Array, k: number, exclude: Array<Int32Array | null> | null = null): Promise<Rankings> {
    this.requireFitted('recommend');
    const d = this.d;
    const nQ = queries.length / d;
    const K = Math.max(0, Math.floor(k));
    const local = Int32Array.from({ length: nQ }, (_, r) => r);
    const sets = exclude ? exclude.map((e) => (e && e.length ? new Set(e) : null)) : undefined;
    const req = userTopkRequest(queries, this.itemEmbeddings, this.nItems, paddedRank(d), d, local, K, null, sets, d);
    const res = await this.runTopk(req, this.itemEmbeddings, this.nItems, true);
    return { users: local, k: K, items: res.items, scores: res.scores };
  }

  score(user: number, items: Int32Array): Float32Array {
    this.requireFitted('score');
    const d = this.d;
    const out = new Float32Array(items.length);
    if (user < 0 || user >= this.nUsers) return out.fill(-Infinity);
    const uo = user * d;
    for (let j = 0; j < items.length; j++) {
      const i = items[j];
      if (i < 0 || i >= this.nItems) {
        out[j] = -Infinity;
        continue;
      }
      let s = 0;
      const io = i * d;
      for (let t = 0; t < d; t++) s += this.userEmbeddings[uo + t] * this.itemEmbeddings[io + t];
      out[j] = s;
    }
    return out;
  }

  /** The k items most similar to each of `items` (cosine of item vectors, the item itself left out). */
  async similarItems(items: Int32Array, k: number): Promise<Rankings> {
    this.requireFitted('find similar items');
    const K = Math.max(0, Math.floor(k));
    const d = this.d;
    const safe = items.map((i) => (i >= 0 && i < this.nItems ? i : -1));
    const self = Array.from(safe, (i) => (i >= 0 ? new Set([i]) : null));
    const req = userTopkRequest(this.itemEmbeddings, this.itemEmbeddings, this.nItems, paddedRank(d), d, safe, K, null, self, d);
    const res = await this.runTopk(req, this.itemEmbeddings, this.nItems, true);
    for (let r = 0; r < items.length; r++) {
      if (safe[r] >= 0) continue;
      res.items.fill(-1, r * K, r * K + K);
      res.scores.fill(-Infinity, r * K, r * K + K);
    }
    return { users: items, k: K, items: res.items, scores: res.scores };
  }

  // -------------------------------------------------------------------------------------------
  // Cold start

  /**
   * Unit vectors of users never seen in training, from their demographics and (with
   * historyLength > 0) the item indexes they interacted with (oldest first, as logs are).
   */
  async embedUsers(rows: readonly UserRow[], histories: ReadonlyArray<Int32Array | null> | null = null): Promise<Float32Array> {
    this.requireFitted('embed users');
    const user = this.user as Side;
    const n = rows.length;
    const bags = this.userEncoder && user.bags ? this.userEncoder.encode(rows) : null;
    const local = Int32Array.from({ length: n }, (_, r) => r);
    const input: TowerInput = { n, ids: new Int32Array(n).fill(-1), features: bags, history: null };
    if (user.tower.nHistory > 0) input.history = historyBags(historyCsr(histories ?? [], n, this.params.historyLength, this.nItems), local, null);
    return user.tower.embed(input, await this.backend());
  }

  /** Unit vectors of products from their catalogue rows alone (no id row: the cold-item path). */
  async embedItems(rows: readonly CatalogItem[]): Promise<Float32Array> {
    this.requireFitted('embed items');
    const item = this.item as Side;
    const n = rows.length;
    const bags = this.itemEncoder ? this.itemEncoder.encode(rows) : null;
    return item.tower.embed({ n, ids: new Int32Array(n).fill(-1), features: bags, history: null }, await this.backend());
  }

  /**
   * Strong generalization: the held-out users' fold-in interactions become their history (with
   * historyLength > 0) and their vectors are recomputed from demographics + history; their id
   * rows stay unused (they were never trained).
   */
  async foldIn(data: InteractionMatrix, users: Int32Array): Promise<void> {
    this.requireFitted('fold in users');
    if (data.nUsers !== this.nUsers || data.nItems !== this.nItems) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `foldIn: the matrix is ${data.nUsers}×${data.nItems} but the model knows ${this.nUsers}×${this.nItems} users × items; use the split the model was trained on`);
    }
    const user = this.user as Side;
    if (this.params.historyLength > 0 && this.recent) {
      this.recent = replaceCsrRows(this.recent, users, recentItemsOfRows(data, users, this.params.historyLength));
    }
    const vectors = await user.tower.embed(this.towerInput(user, users, false, null), await this.backend());
    for (let r = 0; r < users.length; r++) this.userEmbeddings.set(vectors.subarray(r * this.d, (r + 1) * this.d), users[r] * this.d);
  }

  /**
   * Adds products (new ids are appended to the item id map; known ids are re-described) and embeds
   * them from their features; they can be recommended at once. Returns their item indexes.
   */
  async addItems(rows: readonly CatalogItem[]): Promise<Int32Array> {
    this.requireFitted('add items');
    const ids = [...(this.itemIds as IdMap).ids];
    const indexes = new Int32Array(rows.length);
    const appended: string[] = [];
    for (let r = 0; r < rows.length; r++) {
      const i = (this.itemIds as IdMap).indexOf(rows[r].productId);
      if (i >= 0) indexes[r] = i;
      else {
        indexes[r] = ids.length + appended.length;
        appended.push(rows[r].productId);
      }
    }
    const vectors = await this.embedItems(rows);
    const d = this.d;
    const n = ids.length + appended.length;
    if (appended.length > 0) {
      const grown = new Float32Array(n * d);
      grown.set(this.itemEmbeddings);
      this.itemEmbeddings = grown;
      this.itemIds = new IdMap([...ids, ...appended]);
      const item = this.item as Side;
      item.trained = Uint8Array.from({ length: n }, (_, i) => (i < item.trained.length ? item.trained[i] : 0));
      item.rowOf = this.rowsOf(this.itemIds, this.params.itemIdBuckets);
      const added = new Set(appended);
      if (item.bags && this.itemEncoder) item.bags = appendBags(item.bags, this.itemEncoder.encode(rows.filter((row) => added.has(row.productId))));
      const counts = new Float64Array(n);
      counts.set(this.itemCounts);
      this.itemCounts = counts;
    }
    for (let r = 0; r < rows.length; r++) this.itemEmbeddings.set(vectors.subarray(r * d, (r + 1) * d), indexes[r] * d);
    this.scorer = null;
    return indexes;
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  async save(dir: string): Promise<void> {
    this.requireFitted('save');
    const user = this.user as Side;
    const item = this.item as Side;
    const tensors: Record<string, { data: Tensor; shape?: number[] }> = {
      userEmbeddings: { data: this.userEmbeddings, shape: [this.nUsers, this.d] },
      itemEmbeddings: { data: this.itemEmbeddings, shape: [this.nItems, this.d] },
      itemCounts: { data: this.itemCounts },
    };
    const putTower = (prefix: string, s: Side): void => {
      const t = s.tower;
      tensors[`${prefix}_idTable`] = { data: t.idTable, shape: [t.nIds, t.w0] };
      tensors[`${prefix}_featTable`] = { data: t.featTable, shape: [t.nFeatures, t.w0] };
      if (t.nHistory > 0) tensors[`${prefix}_histTable`] = { data: t.histTable, shape: [t.nHistory, t.w0] };
      for (const dp of t.denseParams()) tensors[`${prefix}_${dp.name}`] = { data: dp.value };
      tensors[`${prefix}_trained`] = { data: Int32Array.from(s.trained) };
      if (s.bags) {
        tensors[`${prefix}_bagIndptr`] = { data: s.bags.indptr };
        tensors[`${prefix}_bagIndices`] = { data: s.bags.indices };
        tensors[`${prefix}_bagValues`] = { data: s.bags.values };
      }
    };
    putTower('user', user);
    putTower('item', item);
    if (this.recent) {
      tensors.recentIndptr = { data: this.recent.indptr };
      tensors.recentItems = { data: this.recent.indices };
    }
    let optimizer: Record<string, unknown> | null = null;
    if (this.params.saveOptimizerState && this.tableOptState && this.denseOptState) {
      const steps: Record<string, number> = {};
      for (const [name, st] of Object.entries(this.tableOptState)) {
        steps[name] = st.step;
        for (const [slot, arr] of Object.entries(st.slots)) tensors[`opt_${name.replace('.', '_')}_${slot}`] = { data: arr };
      }
      this.denseOptState.forEach((st, j) => {
        tensors[`opt_dense${j}_m`] = { data: st.m };
        tensors[`opt_dense${j}_v`] = { data: st.v };
      });
      optimizer = { tables: Object.fromEntries(Object.entries(this.tableOptState).map(([k, st]) => [k, { slots: Object.keys(st.slots), step: st.step }])), denseSteps: this.denseOptState.map((s) => s.t) };
    }
    const idMaps: Record<string, IdMap | readonly string[]> = { users: this.userIds as IdMap, items: this.itemIds as IdMap };
    let itemEncoder: Record<string, unknown> | null = null;
    if (this.itemEncoder) {
      const s: ItemEncoderState = this.itemEncoder.state();
      tensors.itemEncoder_idf = { data: s.idf };
      tensors.itemEncoder_priceEdges = { data: s.priceEdges };
      idMaps.itemEncoder_vocabulary = s.vocabulary;
      idMaps.itemEncoder_categories = s.categories;
      idMaps.itemEncoder_brands = s.brands;
      itemEncoder = { featurizer: s.featurizer };
    }
    await saveArtifact(dir, {
      kind: this.name,
      params: { ...this.params },
      tensors,
      idMaps,
      meta: {
        fit: this.lastFit,
        towers: {
          user: { widths: user.tower.widths, nIds: user.tower.nIds, nFeatures: user.tower.nFeatures, nHistory: user.tower.nHistory, unknownIdFeature: user.tower.unknownIdFeature, hasBags: user.bags !== null },
          item: { widths: item.tower.widths, nIds: item.tower.nIds, nFeatures: item.tower.nFeatures, nHistory: 0, unknownIdFeature: item.tower.unknownIdFeature, hasBags: item.bags !== null },
        },
        userEncoder: this.userEncoder ? this.userEncoder.state() : null,
        itemEncoder,
        optimizer,
        format:
          'userEmbeddings/itemEmbeddings: unit vectors [n, d] (score = dot product); <tower>_idTable/featTable/histTable: first-layer rows; ' +
          '<tower>_W<l>/b<l>/gamma/beta: dense layers and LayerNorm; <tower>_bag*: feature bags (CSR); opt_*: optimizer state',
      },
    });
  }

  /** A saved model; `overrides` replace stored params (warmStart uses it for training params). */
  static async load(dir: string, overrides: Record<string, unknown> = {}): Promise<TwoTowerModel> {
    const art = await loadArtifact(dir);
    interface TowerMeta { widths: number[]; nIds: number; nFeatures: number; nHistory: number; unknownIdFeature: number; hasBags: boolean }
    const meta = art.manifest.meta as {
      towers?: { user: TowerMeta; item: TowerMeta };
      userEncoder?: UserEncoderState | null;
      itemEncoder?: { featurizer: ItemEncoderState['featurizer'] } | null;
      optimizer?: { tables: Record<string, { slots: string[]; step: number }>; denseSteps: number[] } | null;
      fit?: TwoTowerFitReport | null;
    };
    if (!meta.towers) throw new RecsysError('RECSYS_ERR_ARTIFACT', `two-tower artifact ${dir} has no tower shapes in its manifest; it was not written by TwoTowerModel.save`, { file: dir });
    const model = new TwoTowerModel({ ...art.manifest.params, ...overrides });
    model.userIds = art.idMap('users');
    model.itemIds = art.idMap('items');
    const p = model.params;
    model.userEncoder = meta.userEncoder ? new UserFeatureEncoder(meta.userEncoder) : null;
    if (meta.itemEncoder) {
      model.itemEncoder = ItemFeatureEncoder.fromState({
        featurizer: meta.itemEncoder.featurizer,
        vocabulary: art.idMap('itemEncoder_vocabulary').ids,
        idf: art.float32('itemEncoder_idf'),
        categories: art.idMap('itemEncoder_categories').ids,
        brands: art.idMap('itemEncoder_brands').ids,
        priceEdges: art.float64('itemEncoder_priceEdges'),
      });
    }
    const getTower = (prefix: string, m: TowerMeta, ids: IdMap, buckets: number): Side => {
      const tower = new Tower({ widths: m.widths, dropout: p.dropout, nIds: m.nIds, nFeatures: m.nFeatures, nHistory: m.nHistory, initStd: p.initStd, unknownIdFeature: m.unknownIdFeature }, null);
      tower.idTable = art.float32(`${prefix}_idTable`);
      tower.featTable = art.float32(`${prefix}_featTable`);
      if (m.nHistory > 0) tower.histTable = art.float32(`${prefix}_histTable`);
      for (const dp of tower.denseParams()) dp.value.set(art.float32(`${prefix}_${dp.name}`));
      const bags = m.hasBags ? { indptr: art.int32(`${prefix}_bagIndptr`), indices: art.int32(`${prefix}_bagIndices`), values: art.float32(`${prefix}_bagValues`) } : null;
      return { tower, bags, rowOf: model.rowsOf(ids, buckets), trained: Uint8Array.from(art.int32(`${prefix}_trained`)) };
    };
    model.user = getTower('user', meta.towers.user, model.userIds, p.userIdBuckets);
    model.item = getTower('item', meta.towers.item, model.itemIds, p.itemIdBuckets);
    if (art.manifest.tensors.recentIndptr) model.recent = { indptr: art.int32('recentIndptr'), indices: art.int32('recentItems') };
    model.itemCounts = art.float64('itemCounts');
    model.userEmbeddings = art.float32('userEmbeddings');
    model.itemEmbeddings = art.float32('itemEmbeddings');
    if (meta.optimizer) {
      model.tableOptState = {};
      for (const [name, info] of Object.entries(meta.optimizer.tables)) {
        const slots: Record<string, Float32Array> = {};
        for (const slot of info.slots) slots[slot] = art.float32(`opt_${name.replace('.', '_')}_${slot}`);
        model.tableOptState[name] = { slots, step: info.step };
      }
      model.denseOptState = meta.optimizer.denseSteps.map((t, j) => ({ m: art.float32(`opt_dense${j}_m`), v: art.float32(`opt_dense${j}_v`), t }));
    }
    model.lastFit = meta.fit ?? null;
    return model;
  }

  /**
   * A saved model ready to continue training: the next `fit(newData)` keeps every known user's
   * and item's rows, adds rows for new ones and trains `steps` steps (or `epochs`). `overrides`
   * may change training params (steps, epochs, learning rates, seed, backend, …) but not the
   * network's shape.
   */
  static async warmStart(dir: string, overrides: Record<string, unknown> = {}): Promise<TwoTowerModel> {
    const manifest = await readManifest(dir);
    if (manifest.kind !== 'twotower') {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `--warm-start ${dir} holds a '${manifest.kind}' model; a two-tower warm start needs a twotower artifact`, { flag: '--warm-start', file: dir });
    }
    for (const key of STRUCTURAL) {
      if (key in overrides && overrides[key] !== undefined && String(overrides[key]) !== String(manifest.params[key])) {
        throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `--warm-start cannot change '${key}' (the saved model has ${String(manifest.params[key])}, given ${String(overrides[key])}); train a new model instead`, { flag: '--param', param: key });
      }
    }
    const model = await TwoTowerModel.load(dir, overrides);
    model.warm = true;
    return model;
  }

  /** The last fit's report (also after load). */
  get fitReport(): TwoTowerFitReport | null {
    return this.lastFit;
  }

  /** Feature column names of each tower (for inspection / docs). */
  featureColumns(): { users: string[]; items: string[] } {
    const users = this.userEncoder ? Array.from({ length: this.userEncoder.nColumns }, (_, c) => this.userEncoder!.columnName(c)) : [];
    const items = this.itemEncoder ? Array.from({ length: this.itemEncoder.nColumns }, (_, c) => this.itemEncoder!.columnName(c)) : [];
    return { users, items };
  }
}

interface StepContext {
  userSlotOf: Int32Array;
  itemSlotOf: Int32Array;
  /** Items with training interactions: the negatives are drawn from them. */
  trainable: Int32Array;
  /** Share of the training pairs per item (unigram probability, for log-Q). */
  probabilities: Float64Array;
}

/** The last `n` items of each user (by lastSeen when the matrix has it, newest first). */
function recentItems(m: InteractionMatrix, n: number): CsrRows {
  return recentItemsOfRows(m, Int32Array.from({ length: m.nUsers }, (_, u) => u), n, true);
}

/** Recent items of `users` (dense: row r = users[r]; or, with `all`, row u = user u). */
function recentItemsOfRows(m: InteractionMatrix, users: Int32Array, n: number, all = false): CsrRows {
  const indptr = new Int32Array(users.length + 1);
  const out: number[] = [];
  for (let r = 0; r < users.length; r++) {
    const u = all ? r : users[r];
    const a = m.indptr[u];
    const b = m.indptr[u + 1];
    const idx = Array.from({ length: b - a }, (_, j) => a + j);
    if (m.lastSeen) {
      const ts = m.lastSeen;
      idx.sort((x, y) => (ts[y] || 0) - (ts[x] || 0) || m.indices[x] - m.indices[y]);
    }
    for (let j = 0; j < Math.min(n, idx.length); j++) out.push(m.indices[idx[j]]);
    indptr[r + 1] = out.length;
  }
  return { indptr, indices: Int32Array.from(out) };
}

/** CSR with rows `rows` replaced by the rows of `own` (row r of own → row rows[r]). */
function replaceCsrRows(base: CsrRows, rows: Int32Array, own: CsrRows): CsrRows {
  const n = base.indptr.length - 1;
  const at = new Int32Array(n).fill(-1);
  rows.forEach((u, r) => (at[u] = r));
  const indptr = new Int32Array(n + 1);
  const out: number[] = [];
  for (let u = 0; u < n; u++) {
    const src = at[u] >= 0 ? own : base;
    const row = at[u] >= 0 ? at[u] : u;
    for (let q = src.indptr[row]; q < src.indptr[row + 1]; q++) out.push(src.indices[q]);
    indptr[u + 1] = out.length;
  }
  return { indptr, indices: Int32Array.from(out) };
}

/** Histories given as lists (oldest first, as logs are) → CSR of the last n, newest first; rows past the list are empty. */
function historyCsr(histories: ReadonlyArray<Int32Array | null>, rows: number, n: number, nItems: number): CsrRows {
  const indptr = new Int32Array(rows + 1);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const h = histories[r] ?? null;
    if (h) {
      let taken = 0;
      for (let j = h.length - 1; j >= 0 && taken < n; j--) {
        if (h[j] < 0 || h[j] >= nItems) continue;
        out.push(h[j]);
        taken++;
      }
    }
    indptr[r + 1] = out.length;
  }
  return { indptr, indices: Int32Array.from(out) };
}

/** Mean-pooling bags (weight 1/len) over rows idx[r] of a history CSR, leaving out skip(r). */
function historyBags(recent: CsrRows, idx: Int32Array, skip: ((r: number) => Int32Array) | null): Bags {
  const n = idx.length;
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  for (let r = 0; r < n; r++) {
    const u = idx[r];
    if (u >= 0 && u < recent.indptr.length - 1) {
      const leave = skip ? skip(r) : null;
      for (let q = recent.indptr[u]; q < recent.indptr[u + 1]; q++) {
        const it = recent.indices[q];
        if (leave && leave.includes(it)) continue;
        indices.push(it);
      }
    }
    indptr[r + 1] = indices.length;
  }
  const values = new Float32Array(indices.length);
  for (let r = 0; r < n; r++) {
    const len = indptr[r + 1] - indptr[r];
    for (let q = indptr[r]; q < indptr[r + 1]; q++) values[q] = 1 / len;
  }
  return { indptr, indices: Int32Array.from(indices), values };
}

/** Rows of `m` for `users`, re-indexed 0..users.length−1. */
function localRows(m: CsrRows, users: Int32Array): CsrRows {
  const indptr = new Int32Array(users.length + 1);
  let nnz = 0;
  for (let r = 0; r < users.length; r++) nnz += m.indptr[users[r] + 1] - m.indptr[users[r]];
  const indices = new Int32Array(nnz);
  let w = 0;
  for (let r = 0; r < users.length; r++) {
    const a = m.indptr[users[r]];
    const b = m.indptr[users[r] + 1];
    indices.set(m.indices.subarray(a, b), w);
    w += b - a;
    indptr[r + 1] = w;
  }
  return { indptr, indices };
}

/** Rows r with map[r] < 0 get the single row of `unknown`. */
function patchUnknownRows(bags: Bags, map: Int32Array, unknown: Bags): Bags {
  const n = map.length;
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < n; r++) {
    const src = map[r] >= 0 ? bags : unknown;
    const row = map[r] >= 0 ? r : 0;
    for (let q = src.indptr[row]; q < src.indptr[row + 1]; q++) {
      idx.push(src.indices[q]);
      vals.push(src.values[q]);
    }
    indptr[r + 1] = idx.length;
  }
  return { indptr, indices: Int32Array.from(idx), values: Float32Array.from(vals) };
}

/**
 * Registry entry. `needsCatalog`: the train workflow calls `setCatalog(await loadProducts(store))`
 * before fit; `needsUsers`: and `setUserFeatures(await loadUserRows(store))` (data/users.ts).
 */
export const twoTowerFactory: ModelFactory = {
  description: 'two-tower neural retrieval: user and item towers over ids + features (demographics, catalogue), in-batch softmax or the design\'s BCE; cold start through features',
  schema: TWOTOWER_PARAMS,
  needsCatalog: true,
  needsUsers: true,
  create: (params) => new TwoTowerModel(params),
  load: (dir) => TwoTowerModel.load(dir),
  warmStart: (dir, params) => TwoTowerModel.warmStart(dir, params),
};
