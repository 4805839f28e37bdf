/**
 * `precompute --shard i/N` driven as N separate processes against one Redis (REDIS_URL), the way
 * the scaling benchmark and docs/scale.md run it: the shards together write every user exactly
 * once (two processes), and a run shared by all shards becomes current once, when the last finishes.
 * Model: 301 users × 40 items, seeded random ALS factors (8), two training items per user.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsModel } from '../../src/core/models/als/als.js';
import { Rng } from '../../src/core/rng.js';
import { KeySpace } from '../../src/core/serving/cache/keys.js';
import { decodeList } from '../../src/core/serving/cache/codec.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { saveShardModel } from '../../src/core/scale/size-run.js';
import { loadArtifact } from '../../src/core/artifacts.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { ServingModel } from '../../src/core/serving/model.js';
import { runPrecompute } from '../../src/core/serving/precompute.js';
import type { ShardChildOptions } from '../../src/core/scale/child.js';
import { matrixFromRows } from '../helpers.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, uniquePrefix } from '../serving/fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const ROOT = new URL('../../', import.meta.url).pathname;
const CHILD = join(ROOT, 'src/core/scale/child.ts');
const N_USERS = 301;
const N_ITEMS = 40;
const prefix = uniquePrefix('scale-shards');
const keys = new KeySpace(prefix);
let dir: string;
let redis: RedisClient;
let userIds: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recsys-shards-'));
  const rows = Array.from({ length: N_USERS }, (_, u) => [u % N_ITEMS, (u * 7 + 3) % N_ITEMS].filter((v, j, a) => a.indexOf(v) === j));
  const matrix = matrixFromRows(rows, N_ITEMS);
  const rng = new Rng(11);
  const k = 8;
  const model = AlsModel.fromFactors({
    userIds: matrix.users,
    itemIds: matrix.items,
    userFactors: Float32Array.from({ length: N_USERS * k }, () => rng.normal()),
    itemFactors: Float32Array.from({ length: N_ITEMS * k }, () => rng.normal()),
    params: { workers: 1 },
  });
  userIds = [...matrix.users.ids];
  await saveShardModel(model, matrix, Int32Array.from({ length: N_USERS }, (_, u) => u), dir);
  if (REDIS_URL) redis = await connect(REDIS_URL);
});

after(async () => {
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** One `precompute --shard` process (the benchmark's child entry); resolves with its result. */
function shardProcess(shard: { index: number; count: number }, runId: string): Promise<{ users: number; flipped: boolean }> {
  const opts: ShardChildOptions = { dir, redisUrl: REDIS_URL, shard, runId, keyPrefix: prefix, k: 5, workers: 1 };
  const tag = `${runId}-${shard.index}`;
  const optionsFile = join(dir, `${tag}.json`);
  const resultFile = join(dir, `${tag}.result.json`);
  writeFileSync(optionsFile, JSON.stringify(opts));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'shard', optionsFile, resultFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as { users: number; flipped: boolean }) : reject(new Error(`shard ${tag} exited ${code}: ${err}`))));
  });
}

async function usersOfRun(runId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keys.l2Pattern(runId), 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  // <prefix>:l2:<run>:{<user>} → <user>
  return found.map((key) => key.slice(key.lastIndexOf('{') + 1, -1));
}

test('two shard processes write disjoint halves that together cover every user exactly once', { skip }, async () => {
  // Separate run ids make each process's writes visible on their own.
  const [a, b] = await Promise.all([shardProcess({ index: 0, count: 2 }, 'cover-a'), shardProcess({ index: 1, count: 2 }, 'cover-b')]);
  const usersA = await usersOfRun('cover-a');
  const usersB = await usersOfRun('cover-b');
  assert.equal(a.users, 151); // users 0, 2, …, 300
  assert.equal(b.users, 150);
  assert.equal(usersA.length, 151);
  assert.equal(usersB.length, 150);
  const setA = new Set(usersA);
  assert.equal(usersB.filter((u) => setA.has(u)).length, 0, 'no user in both shards');
  assert.deepEqual([...usersA, ...usersB].sort(), [...userIds].sort());
  // Shard i holds exactly the users whose index ≡ i (mod 2).
  assert.deepEqual(usersA.sort(), userIds.filter((_, u) => u % 2 === 0).sort());
});

test('N = 2 shards sharing one run id (run side by side): all users written, the pointer flips once to the run', { skip }, async () => {
  // In-process here (the process boundary is covered above); the same runPrecompute each process runs.
  const runId = 'shared-n2';
  const [model, history] = await Promise.all([AlsModel.load(join(dir, 'model')), loadArtifact(join(dir, 'history'))]);
  const serving = new ServingModel({ recommender: model, history: { indptr: history.int32('indptr'), indices: history.int32('indices'), values: history.float32('values') }, version: 'scale-shards-test' });
  const results = await Promise.all([0, 1].map((index) => runPrecompute({ model: serving, redis, k: 5, shard: { index, count: 2 }, runId, keyPrefix: prefix, ttlSeconds: 600 })));
  assert.deepEqual(results.map((r) => r.users), [151, 150]);
  assert.equal(results.filter((r) => r.flipped).length, 1, 'exactly the last shard to finish flips the pointer');
  const written = await usersOfRun(runId);
  assert.equal(written.length, N_USERS);
  assert.deepEqual(written.sort(), [...userIds].sort());
  assert.equal(await redis.get(keys.l2Current('scale-shards-test')), runId);
  // A stored list is a real top-5 without the user's training items.
  const list = decodeList(await redis.getBuffer(keys.l2(runId, userIds[7])));
  assert.ok(list);
  assert.equal(list.items.length, 5);
  assert.ok(!Array.from(list.items).includes(7 % N_ITEMS) && !Array.from(list.items).includes((7 * 7 + 3) % N_ITEMS));
  await closeAlsPool();
});
