/**
 * `recsys ingest --from-stream` against the real Redis at REDIS_URL: events posted through the real
 * app (buildApp + inject, so the stream entries are the ones POST /v1/events writes) are folded into
 * a store that already holds ml-100k, exactly once across repeated runs, resumable from the
 * checkpoint, with unknown users/items registered, unreadable entries counted, --trim dropping only
 * what was ingested; then `recsys train` on that store sees the streamed events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/core/serving/app.js';
import { KeySpace } from '../../src/core/serving/cache/keys.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { ServingModel } from '../../src/core/serving/model.js';
import { openStore } from '../../src/core/data/store.js';
import { ingestPath } from '../../src/core/workflows/ingest.js';
import { compareStreamIds, ingestStream, readStreamCheckpoint } from '../../src/core/workflows/ingest-stream.js';
import { trainModel } from '../../src/core/workflows/train.js';
import { isRecsysError } from '../../src/core/errors.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, tinyAls, uniquePrefix } from './fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const ML100K = new URL('../../../shared/datasets/ml-100k', import.meta.url).pathname;
const prefix = uniquePrefix('ingest-stream');
const keys = new KeySpace(prefix);
let redis: RedisClient;
let app: FastifyInstance;
let dir: string;
let storePath: string;

before(async () => {
  if (!REDIS_URL) return;
  redis = await connect(REDIS_URL);
  app = await buildApp({ models: [tinyAls()], redis, config: { keyPrefix: prefix, processMetrics: false } });
  dir = mkdtempSync(join(tmpdir(), 'ingest-stream-'));
  storePath = join(dir, 'store.duckdb');
  await ingestPath(ML100K, { store: storePath, format: 'movielens-100k' });
});

after(async () => {
  await app?.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(events: Array<{ userId: string; itemId: string; type: string; timestamp: string }>): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(res.json().persisted, true);
}

async function streamRows(): Promise<Array<{ user: string; item: string; type: string; value: number; ts: string; streamId: string }>> {
  const store = await openStore(storePath);
  try {
    const rows = await store.rows(
      `SELECT user_id, product_id, interaction_type, value, strftime(timestamp, '%Y-%m-%dT%H:%M:%SZ') AS ts, context->>'stream_id' AS sid
       FROM interactions WHERE source = 'redis-stream:${keys.stream}' ORDER BY sid`,
    );
    return rows.map((r) => ({ user: String(r.user_id), item: String(r.product_id), type: String(r.interaction_type), value: Number(r.value), ts: String(r.ts), streamId: String(r.sid) }));
  } finally {
    store.close();
  }
}

// ml-100k has users 1…943 and items 1…1682; 'new-user-*' and 'new-item-x' are unknown to the store.
const FIRST = [
  { userId: '1', itemId: '50', type: 'view', timestamp: '2026-01-01T00:00:00Z' },
  { userId: '1', itemId: 'new-item-x', type: 'purchase', timestamp: '2026-01-01T00:00:05Z' },
  { userId: 'new-user-a', itemId: 'new-item-x', type: 'click', timestamp: '2026-01-01T00:01:00Z' },
  { userId: 'new-user-a', itemId: '50', type: 'cart', timestamp: '2026-01-01T00:02:00Z' },
];

test('events posted to the app land in the store once, across repeated and resumed runs', { skip }, async () => {
  await post(FIRST);
  const before = await openStore(storePath).then(async (s) => {
    const n = Number(await s.scalar('SELECT count(*)::DOUBLE FROM interactions'));
    s.close();
    return n;
  });
  assert.equal(before, 100000);

  const r1 = await ingestStream({ store: storePath, redis, prefix });
  assert.equal(r1.streamKey, `${prefix}:events`);
  assert.equal(r1.fromId, null);
  assert.equal(r1.entriesRead, 4);
  assert.equal(r1.rowsIngested, 4);
  assert.equal(r1.rowsRejected, 0);
  assert.equal(r1.newUsers, 1, 'new-user-a');
  assert.equal(r1.newItems, 1, 'new-item-x');
  assert.equal(r1.stats.interactions, 100004);
  assert.equal(r1.trimmed, null);
  assert.equal(r1.streamLength, 4, 'without --trim the stream is left as it is');
  const ids = (await redis.xrange(keys.stream, '-', '+')).map(([id]) => id);
  assert.equal(r1.toId, ids[3]);
  assert.deepEqual(
    (await streamRows()).map(({ streamId: _s, ...r }) => r),
    [
      { user: '1', item: '50', type: 'view', value: 1, ts: '2026-01-01T00:00:00Z' },
      { user: '1', item: 'new-item-x', type: 'purchase', value: 1, ts: '2026-01-01T00:00:05Z' },
      { user: 'new-user-a', item: 'new-item-x', type: 'click', value: 1, ts: '2026-01-01T00:01:00Z' },
      { user: 'new-user-a', item: '50', type: 'cart', value: 1, ts: '2026-01-01T00:02:00Z' },
    ],
  );
  assert.deepEqual((await streamRows()).map((r) => r.streamId), ids);

  // Run again: nothing new, nothing doubled.
  const r2 = await ingestStream({ store: storePath, redis, prefix });
  assert.equal(r2.fromId, ids[3]);
  assert.equal(r2.entriesRead, 0);
  assert.equal(r2.rowsIngested, 0);
  assert.equal(r2.stats.interactions, 100004);

  // More events, read in batches of 2 (3 batches); an unreadable entry written by hand is counted, skipped, passed.
  await post([
    { userId: 'new-user-b', itemId: 'new-item-x', type: 'purchase', timestamp: '2026-01-02T00:00:00Z' },
    { userId: 'new-user-c', itemId: 'new-item-x', type: 'purchase', timestamp: '2026-01-02T00:00:01Z' },
    { userId: 'new-user-d', itemId: 'new-item-x', type: 'view', timestamp: '2026-01-02T00:00:02Z' },
  ]);
  const badId = await redis.xadd(keys.stream, '*', 'user', 'new-user-e', 'item', '7', 'type', 'view', 'ts', 'yesterday');
  await post([{ userId: '2', itemId: 'new-item-x', type: 'purchase', timestamp: '2026-01-02T00:00:03Z' }]);
  const r3 = await ingestStream({ store: storePath, redis, prefix, batchSize: 2 });
  assert.equal(r3.fromId, ids[3]);
  assert.equal(r3.entriesRead, 5);
  assert.equal(r3.batches, 3);
  assert.equal(r3.rowsIngested, 4);
  assert.equal(r3.rowsRejected, 1);
  assert.deepEqual(r3.rejects, [{ id: badId, reason: "field 'ts' is not a time in seconds since the epoch: 'yesterday'" }]);
  assert.equal(r3.newUsers, 3, 'new-user-b, -c, -d (the rejected entry registers nothing)');
  assert.equal(r3.newItems, 0);
  assert.equal(r3.stats.interactions, 100008);
  const rows = await streamRows();
  assert.equal(rows.length, 8);
  assert.equal(new Set(rows.map((r) => r.streamId)).size, 8, 'each entry once');

  // The checkpoint committed with the rows; an ingest record per batch.
  const store = await openStore(storePath);
  try {
    assert.equal(await readStreamCheckpoint(store, keys.stream), r3.toId);
    assert.equal(Number(await store.scalar(`SELECT count(*)::DOUBLE FROM ingests WHERE format = 'redis-stream'`)), 4);
    assert.equal(Number(await store.scalar(`SELECT count(*)::DOUBLE FROM users WHERE user_id LIKE 'new-user-%'`)), 4);
    assert.equal(Number(await store.scalar(`SELECT count(*)::DOUBLE FROM products WHERE product_id = 'new-item-x'`)), 1);
  } finally {
    store.close();
  }

  // --strict: the unreadable entry fails its batch, nothing of it is written, the checkpoint stays.
  await post([{ userId: '3', itemId: '9', type: 'view', timestamp: '2026-01-03T00:00:00Z' }]);
  await redis.xadd(keys.stream, '*', 'user', '3', 'type', 'view', 'ts', '1');
  await assert.rejects(
    () => ingestStream({ store: storePath, redis, prefix, strict: true }),
    (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_INGEST_ROW' && /missing field 'item'/.test(e.message) && e.message.includes(r3.toId!),
  );
  assert.equal((await streamRows()).length, 8);

  // --trim: the entries up to the checkpoint leave the stream; an entry appended afterwards stays.
  const r4 = await ingestStream({ store: storePath, redis, prefix, trim: true });
  assert.equal(r4.rowsIngested, 1);
  assert.equal(r4.rowsRejected, 1);
  assert.equal(r4.trimmed, 11);
  assert.equal(r4.streamLength, 0);
  await post([{ userId: '3', itemId: '10', type: 'view', timestamp: '2026-01-03T00:00:01Z' }]);
  const r5 = await ingestStream({ store: storePath, redis, prefix, trim: true });
  assert.equal(r5.rowsIngested, 1);
  assert.equal(r5.trimmed, 1);
  assert.ok(compareStreamIds(r5.toId!, r4.toId!) > 0);
  assert.equal((await streamRows()).length, 10);
  assert.equal(r5.stats.interactions, 100010);
});

test('recsys train on the store sees the streamed users and items', { skip }, async () => {
  const out = join(dir, 'model');
  const trained = await trainModel({ store: storePath, model: 'popularity', split: 'random:0.2', splitsDir: join(dir, 'splits'), out });
  // The matrix: ml-100k's 943 users and 1,682 items plus the 4 streamed new users and the new item.
  assert.equal(trained.split.users, 947);
  assert.equal(trained.split.items, 1683);
  assert.equal(trained.split.trainPairs + trained.split.testPairs + trained.split.foldInPairs, 100000 + 9, "100,000 ratings + 9 new (user, item) pairs: (1, 50) is rated in ml-100k; (3, 9), (3, 10) are not");
  const model = await ServingModel.load(trained.modelDir);
  for (const u of ['new-user-a', 'new-user-b', 'new-user-c', 'new-user-d']) assert.ok(model.userIds.indexOf(u) >= 0, u);
  assert.ok(model.itemIds.indexOf('new-item-x') >= 0);
  assert.equal(model.userIds.indexOf('new-user-e'), -1, 'the rejected entry is not in the store');
});

test('a missing Redis is a usable error naming the flag', async () => {
  await assert.rejects(
    () => ingestStream({ store: ':memory:', redisUrl: 'redis://127.0.0.1:1', connectTimeoutMs: 300 }),
    (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_REDIS' && e.data.flag === '--redis-url' && /127\.0\.0\.1:1/.test(e.message),
  );
});

test('the CLI: recsys ingest --from-stream --json prints the result; a path with it, or neither, is a usage error', { skip }, async () => {
  const root = new URL('../../', import.meta.url).pathname;
  assert.ok(existsSync(join(root, 'dist/commands/ingest.js')), 'run `npm run build` first');
  const cliPrefix = `${prefix}-cli`;
  const stream = new KeySpace(cliPrefix).stream;
  await redis.xadd(stream, '*', 'user', 'cu1', 'item', 'ci1', 'type', 'view', 'ts', '1767225600');
  await redis.xadd(stream, '*', 'user', 'cu2', 'item', 'ci1', 'type', 'Purchase', 'ts', '1767225601.5');
  const cliStore = join(dir, 'cli.duckdb');
  const run = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/run.js'), 'ingest', ...args], { encoding: 'utf8', env: { ...process.env, REDIS_URL, FORCE_COLOR: '0' } });
  try {
    const first = run(['--from-stream', '--prefix', cliPrefix, '--store', cliStore, '--trim', '--json']);
    assert.equal(first.status, 0, first.stderr);
    const r = JSON.parse(first.stdout) as { rowsIngested: number; newUsers: number; newItems: number; trimmed: number; streamLength: number; stats: { interactionTypes: Record<string, number>; lastTimestamp: string } };
    assert.equal(r.rowsIngested, 2);
    assert.equal(r.newUsers, 2);
    assert.equal(r.newItems, 1);
    assert.equal(r.trimmed, 2);
    assert.equal(r.streamLength, 0);
    assert.deepEqual(r.stats.interactionTypes, { purchase: 1, view: 1 });
    assert.equal(r.stats.lastTimestamp, '2026-01-01T00:00:01Z');
    const again = run(['--from-stream', '--prefix', cliPrefix, '--store', cliStore, '--json']);
    assert.equal(JSON.parse(again.stdout).rowsIngested, 0);
    const both = run(['events.csv', '--from-stream', '--store', cliStore]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--from-stream reads the Redis stream, not a file/);
    const neither = run(['--store', cliStore]);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /give a file or dataset folder to ingest/);
  } finally {
    await redis.del(stream);
  }
});
