/**
 * What `recsys serve` does, as a library call: load the artifacts (and the catalogue's categories
 * from a store when given), connect to Redis without waiting for it (a server whose Redis is down
 * starts degraded and recovers when Redis comes up), build the app and listen. `close()` stops
 * accepting connections, lets requests in flight finish, then closes Redis and the ALS threads.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { readManifest } from '../artifacts.js';
import type { FastifyInstance } from 'fastify';
import { RecsysError } from '../errors.js';
import { openStore } from '../data/store.js';
import { loadProducts } from '../data/load-matrix.js';
import { closeAlsPool } from '../models/als/pool.js';
import { buildApp } from './app.js';
import { closeRedis, createRedisClient, SERVING_AUTO_PIPELINING, waitReady, type RedisClient } from './cache/redis.js';
import type { ServingConfig } from './config.js';
import { ServingModel, type CatalogEntry } from './model.js';

export interface ModelSpec {
  /** `?model=` name; default the artifact kind (the directory name when two kinds clash). */
  name?: string;
  dir: string;
}

export interface StartServingOptions {
  models: readonly ModelSpec[];
  host?: string;
  port?: number;
  /** redis://… or redis-cluster://…; absent = no Redis (in-process LRU and L3 only). */
  redisUrl?: string | null;
  /** DuckDB store whose products give the category filter. */
  store?: string | null;
  config?: Partial<ServingConfig>;
  /** How long to wait for Redis before listening anyway (degraded). */
  redisWaitMs?: number;
  version?: string;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  redis: RedisClient | null;
  models: Array<{ name: string; version: string; dir: string | null; notes: string[] }>;
  redisReady: boolean;
  close(): Promise<void>;
}

/** `name=dir` or `dir`. */
export function parseModelSpec(text: string): ModelSpec {
  const eq = text.indexOf('=');
  if (eq > 0 && !existsSync(text)) return { name: text.slice(0, eq), dir: text.slice(eq + 1) };
  return { dir: text };
}

export async function loadCatalog(storePath: string): Promise<CatalogEntry[]> {
  if (!existsSync(storePath)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `no store at ${storePath}: pass the DuckDB store the model was trained from (--store), or leave it out to serve without category filters`, { flag: '--store', file: storePath });
  }
  const store = await openStore(storePath);
  try {
    return (await loadProducts(store)).map((p) => ({ itemId: p.productId, category: p.category }));
  } finally {
    store.close();
  }
}

export async function loadServingModels(specs: readonly ModelSpec[], catalog: readonly CatalogEntry[] | null): Promise<ServingModel[]> {
  const models: ServingModel[] = [];
  const taken = new Set<string>();
  for (const spec of specs) {
    const kind = (await readManifest(spec.dir)).kind;
    const name = spec.name ?? (taken.has(kind) ? basename(resolve(spec.dir)) : kind);
    taken.add(name);
    models.push(await ServingModel.load(spec.dir, { name, catalog }));
  }
  return models;
}

export async function startServing(opts: StartServingOptions): Promise<RunningServer> {
  const catalog = opts.store ? await loadCatalog(opts.store) : null;
  const models = await loadServingModels(opts.models, catalog);
  let redis: RedisClient | null = null;
  let redisReady = false;
  if (opts.redisUrl) {
    redis = createRedisClient(opts.redisUrl, { commandTimeoutMs: opts.config?.redisCommandTimeoutMs, autoPipelining: SERVING_AUTO_PIPELINING });
    redisReady = await waitReady(redis, opts.redisWaitMs ?? 1000);
  }
  let app: FastifyInstance;
  try {
    app = await buildApp({ models, redis, config: opts.config, version: opts.version });
    await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  } catch (e) {
    await closeRedis(redis);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new RecsysError('RECSYS_ERR_USAGE', `port ${opts.port} on ${opts.host ?? '127.0.0.1'} is already in use: pick another with --port`, { flag: '--port' });
    }
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    app,
    url,
    redis,
    redisReady,
    models: models.map((m) => ({ name: m.name, version: m.version, dir: m.dir, notes: m.notes })),
    close() {
      closing ??= (async () => {
        await app.close();
        await closeRedis(redis);
        await closeAlsPool();
      })();
      return closing;
    },
  };
}
