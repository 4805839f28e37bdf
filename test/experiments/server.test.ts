/**
 * Experiments inside the server, against the real Redis at REDIS_URL: assignment and response
 * fields, impressions and attribution (by request id, by user + item, once per impression),
 * /metrics, opt-out (control, unpersonalised, not logged), deletion (impressions purged),
 * stickiness across a restart and across two servers, and hot reload of the file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/core/serving/app.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { ExperimentKeys, impressionsOf } from '../../src/core/experiments/store.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, tinyAls, tinyPopularity, uniquePrefix } from '../serving/fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const prefix = uniquePrefix('exp-server');
const keys = new ExperimentKeys(prefix);
const TOKEN = 'exp-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let redis: RedisClient;
const apps: FastifyInstance[] = [];
const dirs: string[] = [];

before(async () => {
  if (REDIS_URL) redis = await connect(REDIS_URL);
});
after(async () => {
  for (const a of apps) await a.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  await closeAlsPool();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function experiments(doc: Record<string, unknown>) {
  return parseExperimentsConfig({ experiments: [{ arms: ['als', 'popularity'], control: 'popularity', ...doc }] }, 'test');
}

async function app(exp: ReturnType<typeof experiments> | null, config: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const a = await buildApp({ models: [tinyAls(), await tinyPopularity()], redis, experiments: exp, experimentTimers: false, config: { keyPrefix: prefix, processMetrics: false, lruEntries: 0, adminToken: TOKEN, ...config } });
  apps.push(a);
  return a;
}

const rec = async (a: FastifyInstance, user: string, extra = '') => (await a.inject(`/v1/users/${user}/recommendations?k=3${extra}`)).json() as Record<string, unknown> & { items: Array<{ itemId: string }>; experiment?: { id: string; arm: string; propensity: number }; requestId?: string };
const events = async (a: FastifyInstance, list: Array<Record<string, unknown>>) => {
  const r = await a.inject({ method: 'POST', url: '/v1/events', payload: { events: list } });
  assert.equal(r.statusCode, 202, r.body);
  return r.json() as { accepted: number; attributed?: number };
};

test('a request is assigned, logged, and its clicks attributed once, by request id or by user + item', { skip }, async () => {
  const a = await app(experiments({ id: 'ab' }));
  const r = await rec(a, 'u0');
  assert.equal(r.experiment?.id, 'ab');
  assert.ok(['als', 'popularity'].includes(r.experiment!.arm));
  assert.equal(r.experiment!.propensity, 0.5);
  assert.equal(r.model, r.experiment!.arm, 'the arm is the model that answered');
  assert.match(r.requestId!, /^[\w-]+-1$/);
  // The same user: the same arm, a new request id.
  const again = await rec(a, 'u0');
  assert.equal(again.experiment!.arm, r.experiment!.arm);
  assert.notEqual(again.requestId, r.requestId);
  // ?model= bypasses the experiment: no fields, nothing logged.
  const explicit = await rec(a, 'u0', '&model=als');
  assert.equal(explicit.experiment, undefined);
  assert.equal(explicit.requestId, undefined);

  const shown = r.items[0].itemId;
  const notShown = ['i0', 'i1', 'i2', 'i3', 'i4'].find((i) => !r.items.some((x) => x.itemId === i) && !again.items.some((x) => x.itemId === i))!;
  assert.equal((await events(a, [{ userId: 'u0', itemId: shown, type: 'click', requestId: r.requestId }])).attributed, 1);
  assert.equal((await events(a, [{ userId: 'u0', itemId: shown, type: 'click', requestId: r.requestId }])).attributed, 0, 'one click per impression');
  assert.equal((await events(a, [{ userId: 'u0', itemId: notShown, type: 'click' }])).attributed, 0, 'an item not shown is not a click on the list');
  assert.equal((await events(a, [{ userId: 'u0', itemId: shown, type: 'view' }])).attributed, 0, 'views do not count');
  // No request id: the newest impression listing the item (the second one); a purchase is a click and a conversion.
  assert.equal((await events(a, [{ userId: 'u0', itemId: again.items[0].itemId, type: 'purchase' }])).attributed, 2);
  // Outside the attribution window (1800 s): not attributed.
  assert.equal((await events(a, [{ userId: 'u0', itemId: shown, type: 'cart', requestId: again.requestId, timestamp: new Date(Date.now() + 3600e3).toISOString() }])).attributed, 0);

  await a.recsys.experiments!.tickAll();
  const arm = r.experiment!.arm;
  assert.deepEqual(await redis.hgetall(keys.stats('ab')), { [`imp:${arm}`]: '2', [`clk:${arm}`]: '2', [`conv:${arm}`]: '1' });
  const log = (await redis.xrange(keys.log('ab'), '-', '+')) as Array<[string, string[]]>;
  const fieldsOf = (list: string[]): Record<string, string> => Object.fromEntries(list.reduce<string[][]>((acc, v, i) => (i % 2 ? acc[acc.length - 1].push(v) : acc.push([v]), acc), []));
  // Impression entries (one per flushed batch: one or two here, depending on the 10 ms timer), then the rewards.
  const kinds = log.map(([, f]) => fieldsOf(f).t);
  const nImp = kinds.filter((k) => k === 'imp').length;
  assert.ok(nImp === 1 || nImp === 2, `${nImp} impression entries`);
  assert.deepEqual(kinds.slice(nImp), ['clk', 'clk', 'conv']);
  const entry = fieldsOf(log[0][1]);
  const lines = entry.b.split('\n');
  assert.equal(entry.n, String(lines.length));
  const [user, rid, loggedArm, ts, p, ...items] = lines[0].split('\t');
  assert.equal(user, 'u0');
  assert.equal(rid, r.requestId);
  assert.equal(loggedArm, arm);
  assert.ok(Math.abs(Number(ts) - Date.now()) < 60_000, `impression time ${ts}`);
  assert.equal(p, '0.5');
  assert.deepEqual(items, r.items.map((i) => i.itemId), 'items in position order');
  assert.deepEqual(log.slice(0, nImp).flatMap(([, f]) => impressionsOf(fieldsOf(f))).map((x) => x.requestId), [r.requestId, again.requestId]);

  const metrics = (await a.inject('/metrics')).body;
  assert.match(metrics, new RegExp(`recsys_experiment_impressions\\{experiment="ab",arm="${arm}"\\} 2`));
  assert.match(metrics, new RegExp(`recsys_experiment_clicks\\{experiment="ab",arm="${arm}"\\} 2`));
  assert.match(metrics, new RegExp(`recsys_experiment_ctr\\{experiment="ab",arm="${arm}",bound="estimate"\\} 1`));
  assert.match(metrics, /recsys_experiment_share\{experiment="ab",arm="als"\} 0\.5/);
  assert.match(metrics, /recsys_experiment_rewards_total\{experiment="ab",kind="conv"\} 1/);
});

test('opt-out: the control, unpersonalised, not logged; deletion purges the user\'s impressions', { skip }, async () => {
  // All traffic on als except the control's share of 0: an opted-out user must still get the control.
  const a = await app(experiments({ id: 'privacy', allocation: { mode: 'fixed', shares: { als: 1, popularity: 0 } } }));
  assert.equal((await rec(a, 'u1')).experiment!.arm, 'als');
  assert.equal((await a.inject({ method: 'POST', url: '/admin/users/u1/opt-out', headers: auth, payload: {} })).statusCode, 200);
  const opted = await rec(a, 'u1');
  assert.equal(opted.model, 'popularity');
  assert.equal(opted.strategy, 'opted-out-popularity');
  assert.equal(opted.experiment, undefined);
  assert.equal(opted.requestId, undefined);
  await a.recsys.experiments!.tickAll();
  assert.equal(await redis.hget(keys.stats('privacy'), 'imp:als'), '1', 'only the impression before the opt-out');

  await rec(a, 'u2');
  await rec(a, 'u2');
  await a.recsys.experiments!.tickAll(); // writes the queued impressions
  const usersIn = async (): Promise<string[]> => ((await redis.xrange(keys.log('privacy'), '-', '+')) as Array<[string, string[]]>).flatMap(([, f]) => impressionsOf(Object.fromEntries(f.reduce<string[][]>((acc, v, i) => (i % 2 ? acc[acc.length - 1].push(v) : acc.push([v]), acc), []))).map((x) => x.userId));
  assert.deepEqual((await usersIn()).sort(), ['u1', 'u2', 'u2']);
  const del = await a.inject({ method: 'DELETE', url: '/admin/users/u2', headers: auth });
  assert.equal(del.statusCode, 200);
  assert.equal(del.json().purged.experimentLogEntries, 2);
  assert.equal(del.json().purged.experimentKeys, 1, 'the recent-impressions list');
  assert.deepEqual(await usersIn(), ['u1']);
  assert.equal(await redis.exists(keys.recent('privacy', 'u2')), 0);
  // The aggregate counters stay (they hold no user id).
  assert.equal(await redis.hget(keys.stats('privacy'), 'imp:als'), '3');
});

test('sticky across a restart (fixed) and across two servers (thompson, assignment=user)', { skip }, async () => {
  const cfg = experiments({ id: 'restart' });
  const first = await app(cfg);
  const users = Array.from({ length: 40 }, (_, i) => `r${i}`);
  const arms = [];
  for (const u of users) arms.push((await rec(first, u)).experiment!.arm);
  assert.ok(new Set(arms).size === 2, 'both arms used');
  await first.close();
  const second = await app(cfg);
  for (const [i, u] of users.entries()) assert.equal((await rec(second, u)).experiment!.arm, arms[i]);

  const ts = experiments({ id: 'ts-user', allocation: { mode: 'thompson', assignment: 'user', stickySeconds: 600, seed: 1 } });
  const s1 = await app(ts);
  const s2 = await app(experiments({ id: 'ts-user', allocation: { mode: 'thompson', assignment: 'user', stickySeconds: 600, seed: 2 } }));
  for (const u of users) {
    const x = await rec(s1, u);
    const y = await rec(s2, u);
    assert.equal(y.experiment!.arm, x.experiment!.arm, `user ${u}: the second server keeps the first server's draw`);
    assert.equal(y.experiment!.propensity, x.experiment!.propensity);
  }
  const ttl = await redis.pttl(keys.assign('ts-user', 'r0'));
  assert.ok(ttl > 590_000 && ttl <= 600_000, `sticky TTL ${ttl}`);
});

test('hot reload: a changed file is picked up by the watcher; an invalid one keeps the running experiments', { skip, timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-exp-reload-'));
  dirs.push(dir);
  const file = join(dir, 'experiments.json');
  const write = (shares: Record<string, number>): void => writeFileSync(file, JSON.stringify({ experiments: [{ id: 'reload', arms: ['als', 'popularity'], control: 'popularity', allocation: { mode: 'fixed', shares } }] }));
  write({ als: 1, popularity: 0 });
  const a = await app(null, { experimentsFile: file });
  assert.equal((await rec(a, 'u0')).experiment!.arm, 'als');
  write({ als: 0, popularity: 1 });
  const deadline = Date.now() + 10_000;
  while ((await rec(a, 'u0')).experiment!.arm !== 'popularity') {
    assert.ok(Date.now() < deadline, 'the watcher reloaded the file within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  a.recsys.experiments!.close(); // stop the watcher: the next steps reload by hand
  writeFileSync(file, JSON.stringify({ experiments: [{ id: 'reload', arms: ['als', 'bert'], control: 'als' }] }));
  const reload = await a.inject({ method: 'POST', url: '/admin/reload', headers: auth });
  assert.equal(reload.statusCode, 200);
  assert.match(reload.json().experiments.error, /experiments\.json: experiments\[0\]\.arms\[1\] 'bert' is not a served model/);
  assert.equal((await rec(a, 'u0')).experiment!.arm, 'popularity', 'still the previous experiment');
  assert.match((await a.inject('/metrics')).body, /recsys_experiment_config_reloads_total\{result="error"\} 1/);
});
