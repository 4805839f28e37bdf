/**
 * Child-process entry of the scaling benchmark (spawned by benchmark.ts; not a public command):
 *   node child.js size  <options.json> <result.json>   one size, start to end (runScaleSize)
 *   node child.js shard <options.json> <result.json>   one `precompute --shard i/N` process
 * A fresh process per size keeps each size's peak RSS its own; shard processes run side by side
 * against one Redis, exactly as `recsys precompute --shard i/N` on N machines.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadArtifact } from '../artifacts.js';
import { AlsModel } from '../models/als/als.js';
import { closeAlsPool } from '../models/als/pool.js';
import { closeRedis, createRedisClient, waitReady } from '../serving/cache/redis.js';
import { ServingModel } from '../serving/model.js';
import { runPrecompute, type PrecomputeResult } from '../serving/precompute.js';
import { runScaleSize, type ScaleSizeOptions } from './size-run.js';

export interface ShardChildOptions {
  /** Folder written by saveShardModel (model/ and history/). */
  dir: string;
  redisUrl: string;
  shard: { index: number; count: number };
  runId: string;
  keyPrefix: string;
  k: number;
  workers?: number;
}

export async function runShardChild(opts: ShardChildOptions): Promise<PrecomputeResult & { loadSeconds: number; startMs: number; endMs: number }> {
  const t0 = performance.now();
  const art = await loadArtifact(join(opts.dir, 'model'));
  const params = { ...art.manifest.params, ...(opts.workers !== undefined ? { workers: opts.workers } : {}) };
  const model = AlsModel.fromFactors({ userIds: art.idMap('users'), itemIds: art.idMap('items'), userFactors: art.float32('userFactors'), itemFactors: art.float32('itemFactors'), params });
  const h = await loadArtifact(join(opts.dir, 'history'));
  const history = { indptr: h.int32('indptr'), indices: h.int32('indices'), values: h.float32('values') };
  const serving = new ServingModel({ recommender: model, history, version: `scale-shard-${opts.runId}` });
  const loadSeconds = (performance.now() - t0) / 1000;
  const redis = createRedisClient(opts.redisUrl, { commandTimeoutMs: 30000 });
  try {
    if (!(await waitReady(redis, 5000))) throw new Error(`cannot reach Redis at ${opts.redisUrl}`);
    const startMs = Date.now();
    const res = await runPrecompute({ model: serving, redis, k: opts.k, shard: opts.shard, runId: opts.runId, keyPrefix: opts.keyPrefix, ttlSeconds: 600, keepPreviousSeconds: 1 });
    return { ...res, loadSeconds, startMs, endMs: Date.now() };
  } finally {
    await closeRedis(redis);
    await closeAlsPool();
  }
}

async function main(): Promise<void> {
  const [mode, optionsFile, resultFile] = process.argv.slice(2);
  const options = JSON.parse(await readFile(optionsFile, 'utf8')) as unknown;
  let result: unknown;
  if (mode === 'size') {
    result = await runScaleSize({ ...(options as ScaleSizeOptions), log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`) });
  } else if (mode === 'shard') {
    result = await runShardChild(options as ShardChildOptions);
  } else {
    throw new Error(`scale child: unknown mode '${mode}' (size or shard)`);
  }
  await writeFile(resultFile, JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`scale child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
