/**
 * The same serving code on Redis Cluster: three masters started by the test from Debian's
 * redis-server on spare loopback ports, joined with `redis-cli --cluster create`. A user's keys
 * share a hash tag, so one request's commands go to one node; precompute's flip script touches
 * one slot (the model version's tag); old runs are expired by scanning every master.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/core/serving/app.js';
import { KeySpace } from '../../src/core/serving/cache/keys.js';
import { closeRedis, createRedisClient, waitReady, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { runPrecompute } from '../../src/core/serving/precompute.js';
import { hasRedisServer, killAndWait, sparePort, startRedisServer, tinyAls } from './fixtures.js';

const hasCli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasRedisServer() && hasCli ? false : 'redis-server / redis-cli are not installed (apt-get install redis-server): cannot start a local cluster';
const children: ChildProcess[] = [];
let cluster: RedisClient | null = null;
let app: FastifyInstance | null = null;
let url = '';

before(async () => {
  if (skip) return;
  const ports = [await sparePort(), await sparePort(), await sparePort()];
  for (const port of ports) children.push(await startRedisServer(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000']));
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  assert.equal(created.status, 0, created.stdout + created.stderr);
  // Wait until every node agrees the cluster is up.
  const deadline = Date.now() + 10000;
  for (const port of ports) {
    for (;;) {
      const info = spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
      if (info.includes('cluster_state:ok')) break;
      if (Date.now() > deadline) assert.fail(`cluster on ${port} not ok: ${info}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  url = `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  cluster = createRedisClient(url, { commandTimeoutMs: 2000 });
  assert.equal(await waitReady(cluster, 5000), true, 'cluster client ready');
});

after(async () => {
  if (app) await app.close();
  await closeRedis(cluster);
  for (const c of children) await killAndWait(c);
});

test('cluster: precompute flips, L2 → L1, events invalidate, deletion purges, old runs expire on every master', { skip }, async () => {
  const redis = cluster!;
  const prefix = 'ctest';
  const keys = new KeySpace(prefix);
  const model = tinyAls('als-cluster');
  const first = await runPrecompute({ model, redis, k: 4, keyPrefix: prefix, runId: 'cluster-run-1' });
  assert.deepEqual([first.flipped, first.users], [true, 3]);
  app = await buildApp({ models: [model], redis, config: { keyPrefix: prefix, lruEntries: 0, adminToken: 't', processMetrics: false } });

  const l2 = await app.inject('/v1/users/u1/recommendations?k=2');
  assert.deepEqual([l2.json().tier, l2.json().items.map((x: { itemId: string }) => x.itemId)], ['l2', ['i2', 'i0']]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await app.inject('/v1/users/u1/recommendations?k=2')).json().tier, 'l1');

  const ev = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u1', itemId: 'i2', type: 'purchase' }, { userId: 'u0', itemId: 'i1', type: 'view' }] } });
  assert.deepEqual(ev.json(), { accepted: 2, persisted: true, users: 2 });
  const rt = await app.inject('/v1/users/u1/recommendations?k=2');
  assert.deepEqual([rt.json().tier, rt.json().strategy], ['l3', 'realtime']);
  assert.ok(!rt.json().items.some((x: { itemId: string }) => x.itemId === 'i2'));
  assert.equal(await redis.xlen(keys.stream), 2);

  // The user's keys landed in one slot (hash tag), whichever node holds it.
  const slots = new Set([keys.l1('u1'), keys.history('u1'), keys.optOut('u1'), keys.l2('cluster-run-1', 'u1')].map((k) => spawnSync('redis-cli', ['-u', url.replace('redis-cluster://', 'redis://').split(',')[0], 'cluster', 'keyslot', k], { encoding: 'utf8' }).stdout.trim()));
  assert.equal(slots.size, 1);

  const del = await app.inject({ method: 'DELETE', url: '/admin/users/u1', headers: { authorization: 'Bearer t' } });
  assert.equal(del.json().persisted, true);
  assert.deepEqual([del.json().purged.historyEntries, del.json().purged.streamEntries, del.json().purged.precomputedLists], [1, 1, 1]);
  assert.equal(await redis.xlen(keys.stream), 1);

  const second = await runPrecompute({ model, redis, k: 4, keyPrefix: prefix, runId: 'cluster-run-2', keepPreviousSeconds: 20 });
  assert.deepEqual([second.flipped, second.previousRunId, second.expiredKeys], [true, 'cluster-run-1', 2]);
  const ttl = await redis.ttl(keys.l2('cluster-run-1', 'u0'));
  assert.ok(ttl > 0 && ttl <= 20, `TTL ${ttl}`);
  assert.equal((await app.inject('/readyz')).json().redis, 'ready');
});
