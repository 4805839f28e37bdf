/**
 * Batch precompute (the L2 tier): every user's top-K list, written into a versioned Redis
 * namespace, with the "current run" pointer flipped only once the whole run is complete.
 *
 *  1. The users of this shard (user index ≡ i mod N) are ranked in batches through the model's
 *     batch `recommend` (ALS spreads a batch over its worker-thread pool with the wasm kernels),
 *     their training items excluded; the first `reasonItems` items get a reason.
 *  2. Each batch is written with pipelined `SET <p>:l2:<run>:{user} <encoded list> EX ttl` while the
 *     next batch is computed.
 *  3. The shard adds its index to the run's done-set; a Lua script flips `<p>:l2:{version}:current`
 *     to the run only when all N shards are in the set (atomic: both keys share the version's hash
 *     tag, so this works on a cluster too). A run that dies half way never becomes current, so the
 *     previous run keeps being served.
 *  4. After a flip, every other run of this model version is expired: the previous one after a
 *     grace period (requests in flight may still read it), crashed ones likewise. Every list also
 *     carries a TTL, so runs of model versions no longer served disappear by themselves.
 */
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { KeySpace } from './cache/keys.js';
import { encodeList } from './cache/codec.js';
import type { RedisClient } from './cache/redis.js';
import type { ServingModel } from './model.js';

export interface PrecomputeOptions {
  model: ServingModel;
  redis: RedisClient;
  /** List length stored per user (requests with k up to this are answered from L2). */
  k?: number;
  shard?: { index: number; count: number };
  keyPrefix?: string;
  batchSize?: number;
  /** Lifetime of every stored list (default 7 days). */
  ttlSeconds?: number;
  /** Shared by the N shards of one run; default `<version>.<time>` (one shard) or `<version>.k<K>.n<N>`. */
  runId?: string;
  /** Cap on users per second (0 = none), to spare a live Redis. */
  maxUsersPerSecond?: number;
  /** How long the previous run stays readable after the flip. */
  keepPreviousSeconds?: number;
  reasonItems?: number;
  progress?: Progress;
}

export interface PrecomputeResult {
  model: string;
  modelVersion: string;
  runId: string;
  k: number;
  shard: { index: number; count: number };
  users: number;
  bytes: number;
  seconds: number;
  usersPerSecond: number;
  /** Ranking, reasons and encoding. */
  computeSeconds: number;
  /** Time spent waiting for pipelined writes (the writes themselves overlap the next batch's ranking). */
  writeWaitSeconds: number;
  /** All shards finished and the pointer now names this run. */
  flipped: boolean;
  previousRunId: string | null;
  /** Lists of older runs given a TTL of keepPreviousSeconds. */
  expiredKeys: number;
}

// KEYS[1] = done set, KEYS[2] = current pointer; ARGV = shards, run id.
const FLIP_SCRIPT = `
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local old = redis.call('GET', KEYS[2])
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return {1, old or ''}
end
return {0, ''}`;

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--shard expects i/N with 0 ≤ i < N (e.g. 0/4 for the first of four machines), got '${text}'`, { flag: '--shard' });
  }
  return { index, count };
}

export async function runPrecompute(opts: PrecomputeOptions): Promise<PrecomputeResult> {
  const t0 = performance.now();
  const { model, redis } = opts;
  const K = opts.k ?? 100;
  const shard = opts.shard ?? { index: 0, count: 1 };
  const batchSize = Math.max(1, opts.batchSize ?? 1024);
  const ttl = opts.ttlSeconds ?? 7 * 86400;
  const keys = new KeySpace(opts.keyPrefix ?? 'recsys');
  const runId = opts.runId ?? (shard.count > 1 ? `${model.version}.k${K}.n${shard.count}` : `${model.version}.${Date.now().toString(36)}`);
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(runId)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--run-id may hold letters, digits, '_', '.', '-' (up to 128), got '${runId}'`, { flag: '--run-id' });
  }
  if (!Number.isInteger(K) || K < 1) throw new RecsysError('RECSYS_ERR_USAGE', `--k must be a positive integer, got ${K}`, { flag: '--k' });
  if (redis.status !== 'ready') {
    throw new RecsysError('RECSYS_ERR_REDIS', `Redis is not reachable (client status '${redis.status}'): check --redis-url and that the server is running`, { flag: '--redis-url' });
  }

  const users: number[] = [];
  for (let u = shard.index; u < model.userIds.size; u += shard.count) users.push(u);
  const popular = model.recommender.name === 'popularity';
  const reasonItems = opts.reasonItems ?? 10;
  const startedAt = new Date().toISOString();
  const state = (extra: Record<string, unknown>): string => JSON.stringify({ startedAt, k: K, shards: shard.count, ...extra });
  await redis.hset(keys.l2Runs(model.version), runId, state({ written: 0, shard: shard.index }));

  const progress = opts.progress;
  progress?.start('precompute', users.length);
  let bytes = 0;
  let computeMs = 0;
  let writeMs = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let written = 0;
  for (let b = 0; b < users.length; b += batchSize) {
    const tc = performance.now();
    const batch = Int32Array.from(users.slice(b, b + batchSize));
    const rankings = await model.recommender.recommend(batch, K, { exclude: model.history });
    const values: Buffer[] = new Array(batch.length);
    for (let r = 0; r < batch.length; r++) {
      let n = 0;
      const off = r * K;
      while (n < K && rankings.items[off + n] >= 0) n++;
      const items = rankings.items.slice(off, off + n);
      const scores = rankings.scores.slice(off, off + n);
      const reasons = model.reasonsFor(items, model.historyItems(batch[r]), reasonItems, popular);
      values[r] = encodeList({ strategy: 'personalized', createdAt: Date.now() / 1000, items, scores, reasons });
      bytes += values[r].byteLength;
    }
    computeMs += performance.now() - tc;
    // One batch in flight while the next one is computed.
    const tw = performance.now();
    await inFlight;
    writeMs += performance.now() - tw;
    inFlight = Promise.all(Array.from(batch, (u, r) => redis.set(keys.l2(runId, model.userIds.idOf(u)), values[r], 'EX', ttl))).then(() => {
      written += batch.length;
      return redis.hset(keys.l2Runs(model.version), runId, state({ written, shard: shard.index }));
    });
    // Keep a failed write from surfacing as an unhandled rejection before it is awaited.
    inFlight.catch(() => undefined);
    progress?.tick(batch.length, { 'users/s': Math.round((b + batch.length) / ((performance.now() - t0) / 1000)) });
    if (opts.maxUsersPerSecond && opts.maxUsersPerSecond > 0) {
      const due = ((b + batch.length) / opts.maxUsersPerSecond) * 1000 - (performance.now() - t0);
      if (due > 0) await new Promise((done) => setTimeout(done, due));
    }
  }
  try {
    const tw = performance.now();
    await inFlight;
    writeMs += performance.now() - tw;
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_REDIS', `writing precomputed lists failed: ${(e as Error).message}. The current run was not changed; fix Redis and run precompute again.`, {}, { cause: e });
  }
  progress?.stop();

  await redis.sadd(keys.l2Done(model.version, runId), String(shard.index));
  const [flippedFlag, old] = (await redis.eval(FLIP_SCRIPT, 2, keys.l2Done(model.version, runId), keys.l2Current(model.version), String(shard.count), runId)) as [number, string];
  const flipped = flippedFlag === 1;
  let expiredKeys = 0;
  if (flipped) {
    await redis.hset(keys.l2Runs(model.version), runId, state({ written, complete: true }));
    expiredKeys = await expireOtherRuns(redis, keys, model.version, runId, opts.keepPreviousSeconds ?? 300);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    model: model.name,
    modelVersion: model.version,
    runId,
    k: K,
    shard,
    users: users.length,
    bytes,
    seconds,
    usersPerSecond: users.length / Math.max(seconds, 1e-9),
    computeSeconds: computeMs / 1000,
    writeWaitSeconds: writeMs / 1000,
    flipped,
    previousRunId: flipped && old ? old : null,
    expiredKeys,
  };
}

/** Give every list of the model's other runs a short TTL and forget those runs. */
async function expireOtherRuns(redis: RedisClient, keys: KeySpace, version: string, keep: string, graceSeconds: number): Promise<number> {
  const runs = Object.keys(await redis.hgetall(keys.l2Runs(version))).filter((r) => r !== keep);
  let expired = 0;
  for (const run of runs) {
    for await (const batch of scanKeys(redis, keys.l2Pattern(run))) {
      if (batch.length === 0) continue;
      await Promise.all(batch.map((key) => redis.expire(key, graceSeconds)));
      expired += batch.length;
    }
    await redis.hdel(keys.l2Runs(version), run);
    await redis.del(keys.l2Done(version, run));
  }
  return expired;
}

/** SCAN over every master (one node for a standalone server). */
async function* scanKeys(redis: RedisClient, pattern: string): AsyncGenerator<string[]> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      yield found;
    } while (cursor !== '0');
  }
}
