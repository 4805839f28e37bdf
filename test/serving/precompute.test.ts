/**
 * `recsys precompute` against the real Redis at REDIS_URL: shards flip the pointer only when all
 * are done; a precompute process killed half way leaves the previous run served; a later complete
 * run expires the old and the crashed runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/core/serving/app.js';
import { KeySpace } from '../../src/core/serving/cache/keys.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { ServingModel } from '../../src/core/serving/model.js';
import { runPrecompute } from '../../src/core/serving/precompute.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { runQuickstart } from '../../src/core/workflows/quickstart.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, killAndWait, tinyAls, uniquePrefix } from './fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const ROOT = new URL('../../', import.meta.url).pathname;
const prefix = uniquePrefix('precompute');
const keys = new KeySpace(prefix);
let redis: RedisClient;
const tmpDirs: string[] = [];

before(async () => {
  if (REDIS_URL) redis = await connect(REDIS_URL);
});

after(async () => {
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  await closeAlsPool();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

test('shards: the pointer flips only when every shard of the run is done', { skip }, async () => {
  const model = tinyAls('als-shards');
  const first = await runPrecompute({ model, redis, k: 3, keyPrefix: prefix, shard: { index: 0, count: 2 } });
  assert.equal(first.runId, 'als-shards.k3.n2', 'shards agree on the default run id');
  assert.equal(first.users, 2, 'shard 0/2 holds users 0 and 2');
  assert.equal(first.flipped, false);
  assert.equal(await redis.get(keys.l2Current('als-shards')), null);
  const second = await runPrecompute({ model, redis, k: 3, keyPrefix: prefix, shard: { index: 1, count: 2 } });
  assert.deepEqual([second.users, second.flipped, second.previousRunId], [1, true, null]);
  assert.equal(await redis.get(keys.l2Current('als-shards')), 'als-shards.k3.n2');
  for (const u of ['u0', 'u1', 'u2']) assert.equal(await redis.exists(keys.l2('als-shards.k3.n2', u)), 1, u);
});

test('a precompute killed half way leaves the previous run served; the next complete run expires both', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-precompute-'));
  tmpDirs.push(dir);
  const qs = await runQuickstart({ dir, scale: 0.5 });
  const modelDir = qs.models.find((m) => m.model === 'als')!.modelDir;
  const model = await ServingModel.load(modelDir);
  const previous = await runPrecompute({ model, redis, k: 100, keyPrefix: prefix, runId: 'complete-1' });
  assert.equal(previous.flipped, true);

  // A second run in a child process, slowed to 400 users/s and killed once it has written some lists.
  const code = `
    import { ServingModel } from ${JSON.stringify(join(ROOT, 'src/core/serving/model.ts'))};
    import { runPrecompute } from ${JSON.stringify(join(ROOT, 'src/core/serving/precompute.ts'))};
    import { createRedisClient, waitReady } from ${JSON.stringify(join(ROOT, 'src/core/serving/cache/redis.ts'))};
    const redis = createRedisClient(${JSON.stringify(REDIS_URL)}, { commandTimeoutMs: 5000 });
    await waitReady(redis, 5000);
    const model = await ServingModel.load(${JSON.stringify(modelDir)});
    await runPrecompute({ model, redis, k: 20, keyPrefix: ${JSON.stringify(prefix)}, runId: 'crashing', batchSize: 40, maxUsersPerSecond: 400 });
    process.exit(0);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let written = 0;
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && child.exitCode === null) {
    const state = await redis.hget(keys.l2Runs(model.version), 'crashing');
    written = state ? (JSON.parse(state) as { written: number }).written : 0;
    if (written >= 120) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(child.exitCode, null, `the child finished before it could be killed: ${stderr}`);
  await killAndWait(child, 'SIGKILL');
  assert.ok(written >= 120 && written < model.userIds.size, `killed half way (${written} of ${model.userIds.size} users written)`);
  const partial = await redis.exists(keys.l2('crashing', model.userIds.idOf(0)));
  assert.equal(partial, 1, 'the crashed run did write lists');

  assert.equal(await redis.get(keys.l2Current(model.version)), 'complete-1', 'the pointer still names the complete run');
  const app = await buildApp({ models: [model], redis, config: { keyPrefix: prefix, lruEntries: 0, l1Enabled: false, processMetrics: false } });
  try {
    // k = 50 can only come from the complete run's 100-item lists (the crashed run stores 20).
    const r = await app.inject(`/v1/users/${model.userIds.idOf(0)}/recommendations?k=50`);
    assert.deepEqual([r.json().tier, r.json().items.length], ['l2', 50]);
  } finally {
    await app.close();
  }

  // The lists the crashed run left (the batch in flight at the kill may have landed after its progress note).
  let crashedKeys = 0;
  let cursor = '0';
  do {
    const [c, found] = await redis.scan(cursor, 'MATCH', keys.l2Pattern('crashing'), 'COUNT', 1000);
    cursor = c;
    crashedKeys += found.length;
  } while (cursor !== '0');
  assert.ok(crashedKeys >= written && crashedKeys < model.userIds.size);

  const next = await runPrecompute({ model, redis, k: 100, keyPrefix: prefix, runId: 'complete-2', keepPreviousSeconds: 30 });
  assert.deepEqual([next.flipped, next.previousRunId], [true, 'complete-1']);
  assert.equal(next.expiredKeys, model.userIds.size + crashedKeys, 'the previous run and the crashed run are expired');
  const ttlOld = await redis.ttl(keys.l2('complete-1', model.userIds.idOf(0)));
  const ttlCrashed = await redis.ttl(keys.l2('crashing', model.userIds.idOf(0)));
  assert.ok(ttlOld > 0 && ttlOld <= 30 && ttlCrashed > 0 && ttlCrashed <= 30, `TTLs ${ttlOld}, ${ttlCrashed}`);
  assert.deepEqual(Object.keys(await redis.hgetall(keys.l2Runs(model.version))), ['complete-2']);
  process.stderr.write(`# precompute of ${next.users} users × top-100 (${model.nItems} items): ${Math.round(next.usersPerSecond)} users/s\n`);
});
