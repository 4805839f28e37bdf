/**
 * Redis faults, on a private redis-server this test starts on a spare loopback port: Redis down
 * at start, killed under load, and restarted. Requests never get a 5xx, /readyz says degraded,
 * errors are counted in /metrics, events taken while Redis was down are replayed, and the cache
 * tiers come back by themselves.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/core/serving/app.js';
import { KeySpace } from '../../src/core/serving/cache/keys.js';
import { closeRedis, createRedisClient, waitReady, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { hasRedisServer, killAndWait, sparePort, startRedisServer, tinyAls } from './fixtures.js';

const skip = hasRedisServer() ? false : 'redis-server is not installed (apt-get install redis-server): the fault tests start their own instances';
const children: ChildProcess[] = [];
const clients: RedisClient[] = [];
const apps: FastifyInstance[] = [];

after(async () => {
  for (const a of apps) await a.close();
  for (const c of clients) await closeRedis(c);
  for (const c of children) await killAndWait(c);
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

const metric = (body: string, name: string): number => {
  let total = 0;
  for (const line of body.split('\n')) if (line.startsWith(name)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
};

test('Redis down at start: answers from L3 with no 5xx, /readyz degraded, then recovers and replays events', { skip }, async () => {
  const port = await sparePort();
  const redis = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 200, maxRetryDelayMs: 100 });
  clients.push(redis);
  const app = await buildApp({ models: [tinyAls()], redis, config: { keyPrefix: 'fault1', lruEntries: 0, processMetrics: false } });
  apps.push(app);

  const r = await app.inject('/v1/users/u0/recommendations?k=2');
  assert.equal(r.statusCode, 200);
  assert.deepEqual([r.json().tier, r.json().items.map((x: { itemId: string }) => x.itemId)], ['l3', ['i3', 'i2']]);
  const ready = (await app.inject('/readyz')).json();
  assert.deepEqual([ready.status, ready.redis], ['degraded', 'down']);
  const ev = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u0', itemId: 'i3', type: 'purchase' }] } });
  assert.equal(ev.statusCode, 202);
  assert.deepEqual(ev.json(), { accepted: 1, persisted: false, users: 1 });
  // Real time still works in process.
  const live = (await app.inject('/v1/users/u0/recommendations?k=2')).json();
  assert.equal(live.strategy, 'realtime');
  assert.ok(!live.items.some((x: { itemId: string }) => x.itemId === 'i3'));
  const metrics = (await app.inject('/metrics')).body;
  assert.ok(metric(metrics, 'recsys_redis_errors_total') > 0, 'Redis errors are counted');
  assert.equal((await app.inject('/readyz')).json().pendingEvents, 1);

  children.push(await startRedisServer(port));
  assert.equal(await waitReady(redis, 5000), true, 'the client reconnects by itself');
  assert.deepEqual([(await app.inject('/readyz')).json().status, (await app.inject('/readyz')).json().redis], ['ready', 'ready']);
  const keys = new KeySpace('fault1');
  await until('the pending event is replayed to the stream', async () => (await redis.xlen(keys.stream)) === 1);
  assert.equal((await app.inject('/readyz')).json().pendingEvents, 0);
  assert.deepEqual(await redis.lrange(keys.history('u0'), 0, -1).then((h) => h.map((e) => e.split('\t').slice(0, 2))), [['purchase', 'i3']]);
  await app.inject('/v1/users/u0/recommendations?k=2');
  await until('L1 answers again', async () => (await app.inject('/v1/users/u0/recommendations?k=2')).json().tier === 'l1');
});

test('Redis killed under load: zero 5xx, errors in /metrics; restarted: the cache tiers come back', { skip }, async () => {
  const port = await sparePort();
  let server = await startRedisServer(port);
  children.push(server);
  const redis = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 200, maxRetryDelayMs: 100 });
  clients.push(redis);
  assert.equal(await waitReady(redis, 3000), true);
  const app = await buildApp({ models: [tinyAls()], redis, config: { keyPrefix: 'fault2', lruEntries: 0, processMetrics: false } });
  apps.push(app);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });

  const statuses = new Map<number, number>();
  const tiers = new Map<string, number>();
  let stop = false;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const user = `u${(w + i) % 3}`;
      const res = i % 10 === 9
        ? await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId: `load-${w}`, itemId: 'i1', type: 'view' }] }) })
        : await fetch(`${url}/v1/users/${user}/recommendations?k=2`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = (await res.json()) as { tier?: string };
      if (body.tier) tiers.set(body.tier, (tiers.get(body.tier) ?? 0) + 1);
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  await new Promise((r) => setTimeout(r, 400));
  const l1BeforeKill = tiers.get('l1') ?? 0;
  await killAndWait(server, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 600));
  const degraded = (await (await fetch(`${url}/readyz`)).json()) as { status: string };
  const l3DuringOutage = tiers.get('l3') ?? 0;
  server = await startRedisServer(port);
  children.push(server);
  assert.equal(await waitReady(redis, 5000), true);
  const l1AtRestart = tiers.get('l1') ?? 0;
  await until('L1 hits resume after the restart', () => (tiers.get('l1') ?? 0) > l1AtRestart + 20);
  stop = true;
  await load;

  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  const errors5xx = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
  assert.equal(errors5xx, 0, `status counts ${JSON.stringify([...statuses])}`);
  assert.deepEqual(new Set(statuses.keys()), new Set([200, 202]));
  assert.ok(l1BeforeKill > 0, 'L1 answered before the kill');
  assert.ok(l3DuringOutage > 0, 'L3 answered during the outage');
  assert.equal(degraded.status, 'degraded');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const redisErrors = metric(metrics, 'recsys_redis_errors_total');
  assert.ok(redisErrors > 0);
  assert.match(metrics, /recsys_redis_up 1/);
  process.stderr.write(`# Redis killed under load: ${total} requests, 0 × 5xx, ${redisErrors} Redis errors counted, tiers ${JSON.stringify(Object.fromEntries(tiers))}\n`);
});
