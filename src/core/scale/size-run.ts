/**
 * One size of the scaling benchmark, run start to end in one process (the benchmark gives each size
 * a fresh child process, so every peak below belongs to this size alone):
 *
 *   synth      `generateSynth` → Parquet (events generated per user into typed-array chunks,
 *              appended to an on-disk DuckDB table, copied out: JS never holds all rows)
 *   ingest     `ingestSynth` into a store file (DuckDB scans the Parquet; memory_limit applies)
 *   matrix     `loadInteractionMatrix` (SQL aggregate + sort, read chunk by chunk into CSR arrays)
 *   als        ALS fit, `factors` factors, a fixed number of iterations; seconds/iteration = median
 *   recommend  top-10 (training items excluded) for an evenly spaced sample of users, then
 *              extrapolated to all users (ranking cost is linear in users at a fixed catalogue)
 *   precompute the serving layer's `runPrecompute` for a sample of users into Redis (top-10)
 *   save       the ALS artifact (factors + id maps) on disk
 *
 * Each stage records wall seconds, its own peak RSS (see measure.ts), DuckDB's buffer memory
 * right after it where DuckDB ran, and the bytes it left on disk.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecsysError } from '../errors.js';
import { generateSynth } from '../data/synth.js';
import { ingestSynth } from '../data/ingest/synth.js';
import { loadInteractionMatrix } from '../data/load-matrix.js';
import { openStore, type Store } from '../data/store.js';
import { IdMap, type InteractionMatrix } from '../data/matrix.js';
import { AlsModel } from '../models/als/als.js';
import { closeAlsPool } from '../models/als/pool.js';
import { saveArtifact } from '../artifacts.js';
import { closeRedis, createRedisClient, waitReady } from '../serving/cache/redis.js';
import { ServingModel } from '../serving/model.js';
import { runPrecompute } from '../serving/precompute.js';
import { diskBytes, peakRssBytes, resetPeakRss } from './measure.js';

export const STAGES = ['synth', 'ingest', 'matrix', 'als', 'recommend', 'precompute', 'save'] as const;
export type StageName = (typeof STAGES)[number];

export interface StageRecord {
  stage: StageName;
  /** Wall seconds of the stage as run (recommend / precompute: the sample only). */
  seconds: number;
  /** CPU seconds of the whole process (all threads, user + system) during the stage: robust to other load on the machine. */
  cpuSeconds: number;
  /** recommend / precompute: the sample's seconds scaled to every user; others equal `seconds`. */
  projectedSeconds: number;
  /** Peak RSS of the process during this stage (bytes). */
  peakRssBytes: number;
  /** True when the peak is this stage's own (Linux VmHWM reset); false: the process peak so far. */
  peakIsPerStage: boolean;
  /** DuckDB buffer-manager memory right after the stage (duckdb_memory()), where DuckDB ran. */
  duckdbBytes: number | null;
  /** Bytes on disk the stage produced (Parquet files, store file, artifact). */
  diskBytes: number | null;
}

export interface ScaleSizeSpec {
  label: string;
  interactions: number;
  users: number;
  products: number;
}

export interface ScaleSizeOptions {
  size: ScaleSizeSpec;
  /** Folder for this size's data (removed at the end unless keepData). */
  workDir: string;
  seed?: number;
  factors?: number;
  iterations?: number;
  /** ALS threads (0 = one per core). */
  workers?: number;
  /** DuckDB memory_limit for the store (e.g. '6GB'); DuckDB spills beyond it. */
  duckdbMemoryLimit?: string;
  /** Item-scores budget of the recommend sample: users = clamp(budget ÷ items, 1000, 50,000). */
  recommendBudget?: number;
  /** Users precomputed into Redis (capped by the recommend sample). */
  precomputeUsers?: number;
  /** Redis for the precompute stage; null or '' skips it. */
  redisUrl?: string | null;
  /** Save a sample model (this many users, all items) + its history here for the shard runs. */
  shardModel?: { dir: string; users: number } | null;
  keepData?: boolean;
  log?: (line: string) => void;
}

export interface ScaleSizeResult {
  size: ScaleSizeSpec;
  events: number;
  distinctPairs: number;
  matrix: { users: number; items: number; nnz: number; csrBytes: number };
  als: {
    factors: number;
    iterations: number;
    threads: number;
    backend: string;
    /** Median wall seconds per iteration (the fit report's). */
    secondsPerIteration: number;
    perIteration: number[];
    fitSeconds: number;
    /** CPU seconds (all threads) of the whole fit ÷ iterations: setup included, other processes' load excluded. */
    cpuSecondsPerIteration: number;
    factorBytes: number;
  };
  recommend: { sampleUsers: number; seconds: number; usersPerSecond: number; projectedSeconds: number };
  precompute: { sampleUsers: number; seconds: number; usersPerSecond: number; bytes: number; projectedSeconds: number } | null;
  stages: StageRecord[];
  duckdbMemoryLimit: string;
  /** Peak RSS of the whole child process (getrusage; reset by the per-stage peaks on Linux, so the max of the stages). */
  processPeakRssBytes: number;
  totalSeconds: number;
  machine: { cpus: number; loadAverage: number[] };
}

async function duckdbMemory(store: Store): Promise<number> {
  return Number(await store.scalar('SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory()'));
}

/** Evenly spaced user indexes (n of them, at most all users). */
export function sampleUsers(nUsers: number, n: number): Int32Array {
  const m = Math.min(nUsers, Math.max(1, n));
  const out = new Int32Array(m);
  for (let j = 0; j < m; j++) out[j] = Math.floor((j * nUsers) / m);
  return out;
}

/** Rows `users` of a CSR matrix, as a new CSR with rows renumbered 0..n-1. */
export function selectRows(m: InteractionMatrix, users: Int32Array): { indptr: Int32Array; indices: Int32Array; values: Float32Array } {
  const indptr = new Int32Array(users.length + 1);
  for (let j = 0; j < users.length; j++) indptr[j + 1] = indptr[j] + m.rowLength(users[j]);
  const indices = new Int32Array(indptr[users.length]);
  const values = new Float32Array(indptr[users.length]);
  for (let j = 0; j < users.length; j++) {
    indices.set(m.rowItems(users[j]), indptr[j]);
    values.set(m.rowValues(users[j]), indptr[j]);
  }
  return { indptr, indices, values };
}

/** An ALS model over a subset of users (all items), for the precompute sample. */
export function subModel(model: AlsModel, users: Int32Array): AlsModel {
  const k = model.factors;
  const uf = new Float32Array(users.length * k);
  for (let j = 0; j < users.length; j++) uf.set(model.userFactors.subarray(users[j] * k, (users[j] + 1) * k), j * k);
  const ids = Array.from(users, (u) => model.userIds!.idOf(u));
  return AlsModel.fromFactors({ userIds: new IdMap(ids), itemIds: model.itemIds!, userFactors: uf, itemFactors: model.itemFactors, params: { ...model.params } });
}

/** Saves a sample ALS model and its history (as a 'csr' artifact beside it) for shard processes. */
export async function saveShardModel(model: AlsModel, matrix: InteractionMatrix, users: Int32Array, dir: string): Promise<void> {
  const sub = subModel(model, users);
  await sub.save(join(dir, 'model'));
  const h = selectRows(matrix, users);
  await saveArtifact(join(dir, 'history'), { kind: 'csr', params: {}, tensors: { indptr: { data: h.indptr }, indices: { data: h.indices }, values: { data: h.values } } });
}

export async function runScaleSize(opts: ScaleSizeOptions): Promise<ScaleSizeResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const size = opts.size;
  const factors = opts.factors ?? 64;
  const iterations = opts.iterations ?? 3;
  const memoryLimit = opts.duckdbMemoryLimit ?? '6GB';
  const dataDir = join(opts.workDir, 'data');
  const storePath = join(opts.workDir, 'store.duckdb');
  const artifactDir = join(opts.workDir, 'model');
  await mkdir(opts.workDir, { recursive: true });
  const stages: StageRecord[] = [];
  const stage = async <T>(name: StageName, fn: () => Promise<T>, after?: (v: T) => Promise<Partial<StageRecord>>): Promise<T> => {
    const perStage = resetPeakRss();
    log(`${size.label}: ${name} …`);
    const s0 = performance.now();
    const c0 = process.cpuUsage();
    const value = await fn();
    const seconds = (performance.now() - s0) / 1000;
    const cpu = process.cpuUsage(c0);
    const peak = peakRssBytes();
    const extra = after ? await after(value) : {};
    const rec: StageRecord = { stage: name, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, projectedSeconds: seconds, peakRssBytes: peak, peakIsPerStage: perStage, duckdbBytes: null, diskBytes: null, ...extra };
    stages.push(rec);
    log(`${size.label}: ${name} ${seconds.toFixed(1)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
    return value;
  };

  try {
    const synth = await stage(
      'synth',
      () => generateSynth({ users: size.users, products: size.products, interactions: size.interactions, seed: opts.seed ?? 42, outDir: dataDir }),
      async (r) => ({ diskBytes: diskBytes(r.files.interactions) + diskBytes(r.files.products) + diskBytes(r.files.users) }),
    );

    const store = await openStore(storePath);
    let matrix: InteractionMatrix;
    try {
      await store.run(`SET memory_limit = '${memoryLimit.replace(/'/g, '')}'`);
      await store.run(`SET temp_directory = '${join(opts.workDir, 'duckdb-spill').replace(/'/g, "''")}'`);
      await stage('ingest', () => ingestSynth(store, dataDir), async () => ({ duckdbBytes: await duckdbMemory(store), diskBytes: diskBytes(storePath) + diskBytes(`${storePath}.wal`) }));
      matrix = await stage(
        'matrix',
        () => loadInteractionMatrix(store, { weights: { view: 1, click: 2, cart: 4, purchase: 8 } }),
        async (m) => ({ duckdbBytes: await duckdbMemory(store), diskBytes: m.byteSize }),
      );
    } finally {
      store.close();
    }
    // The raw Parquet is ingested; free the disk before the model stages.
    if (!opts.keepData) await rm(dataDir, { recursive: true, force: true });

    const model = new AlsModel({ factors, iterations, alpha: 1, regularization: 0.05, workers: opts.workers ?? 0, seed: 42 });
    const fit = await stage('als', () => model.fit(matrix));
    const perIteration = (fit.history ?? []).map((h) => h.seconds);

    const budget = opts.recommendBudget ?? 2e9;
    const nRec = Math.max(1000, Math.min(50_000, Math.floor(budget / Math.max(1, matrix.nItems))));
    const recUsers = sampleUsers(matrix.nUsers, nRec);
    const recSeconds = await stage('recommend', async () => {
      const s0 = performance.now();
      const r = await model.recommend(recUsers, 10, { exclude: matrix });
      if (r.items.length !== recUsers.length * 10) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `recommend returned ${r.items.length} items for ${recUsers.length} users × 10`);
      return (performance.now() - s0) / 1000;
    });
    const recRecord = stages[stages.length - 1];
    recRecord.projectedSeconds = (recSeconds * matrix.nUsers) / recUsers.length;

    let precompute: ScaleSizeResult['precompute'] = null;
    if (opts.redisUrl) {
      const pcUsers = sampleUsers(matrix.nUsers, Math.min(recUsers.length, opts.precomputeUsers ?? 5000));
      const sub = subModel(model, pcUsers);
      const history = selectRows(matrix, pcUsers);
      const serving = new ServingModel({ recommender: sub, history, version: `scale-${size.label}-${process.pid}` });
      const redis = createRedisClient(opts.redisUrl, { commandTimeoutMs: 30000 });
      try {
        if (!(await waitReady(redis, 5000))) {
          throw new RecsysError('RECSYS_ERR_REDIS', `cannot reach Redis at ${opts.redisUrl}: start it, set REDIS_URL, or pass --no-redis`, { flag: '--redis-url' });
        }
        const res = await stage('precompute', () =>
          runPrecompute({ model: serving, redis, k: 10, keyPrefix: `recsys-scale-${process.pid}`, ttlSeconds: 600, keepPreviousSeconds: 1 }),
        );
        const rec = stages[stages.length - 1];
        rec.projectedSeconds = (res.seconds * matrix.nUsers) / pcUsers.length;
        precompute = { sampleUsers: pcUsers.length, seconds: res.seconds, usersPerSecond: res.usersPerSecond, bytes: res.bytes, projectedSeconds: rec.projectedSeconds };
        // The lists expire by themselves (TTL 600 s); drop them now to leave Redis as it was.
        await dropKeys(redis, `recsys-scale-${process.pid}:*`);
      } finally {
        await closeRedis(redis);
      }
    }

    await stage('save', () => model.save(artifactDir), async () => ({ diskBytes: diskBytes(artifactDir) }));
    if (opts.shardModel) {
      await saveShardModel(model, matrix, sampleUsers(matrix.nUsers, opts.shardModel.users), opts.shardModel.dir);
    }

    const k = model.factors;
    const result: ScaleSizeResult = {
      size,
      events: synth.counts.interactions,
      distinctPairs: synth.counts.distinctPairs,
      matrix: { users: matrix.nUsers, items: matrix.nItems, nnz: matrix.nnz, csrBytes: matrix.byteSize },
      als: {
        factors: k,
        iterations: perIteration.length,
        threads: model.threads,
        backend: model.backend,
        secondsPerIteration: fit.secondsPerIteration,
        perIteration,
        fitSeconds: fit.seconds,
        cpuSecondsPerIteration: stages.find((st) => st.stage === 'als')!.cpuSeconds / Math.max(1, perIteration.length),
        factorBytes: (matrix.nUsers + matrix.nItems) * k * 4,
      },
      recommend: { sampleUsers: recUsers.length, seconds: recSeconds, usersPerSecond: recUsers.length / recSeconds, projectedSeconds: recRecord.projectedSeconds },
      precompute,
      stages,
      duckdbMemoryLimit: memoryLimit,
      processPeakRssBytes: Math.max(process.resourceUsage().maxRSS * 1024, ...stages.map((s) => s.peakRssBytes)),
      totalSeconds: (performance.now() - t0) / 1000,
      machine: { cpus: (await import('node:os')).cpus().length, loadAverage: (await import('node:os')).loadavg() },
    };
    await writeFile(join(opts.workDir, 'result.json'), JSON.stringify(result, null, 2));
    return result;
  } finally {
    await closeAlsPool();
    if (!opts.keepData) {
      await rm(dataDir, { recursive: true, force: true });
      await rm(storePath, { force: true });
      await rm(`${storePath}.wal`, { force: true });
      await rm(join(opts.workDir, 'duckdb-spill'), { recursive: true, force: true });
      await rm(artifactDir, { recursive: true, force: true });
    }
  }
}

async function dropKeys(redis: ReturnType<typeof createRedisClient>, pattern: string): Promise<void> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await node.del(...found);
    } while (cursor !== '0');
  }
}
