/**
 * The batched impression log against the real Redis at REDIS_URL: a flush writes its impressions
 * as one stream entry per batch (at most `maxBatch`), every impression appears exactly once in the
 * export whatever the batching, attribution by request id sees impressions still queued in this
 * process, and deleting a user rewrites the batched entries without the user's impressions (and
 * deletes the user's reward entries) while every other impression and reward stays.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { exportExperimentLog } from '../../src/core/experiments/export.js';
import { ExperimentManager } from '../../src/core/experiments/manager.js';
import { directCall, impressionsOf } from '../../src/core/experiments/store.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, uniquePrefix } from '../serving/fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const prefix = uniquePrefix('exp-log');
const dir = mkdtempSync(join(tmpdir(), 'recsys-exp-log-'));
let redis: RedisClient;
const managers: ExperimentManager[] = [];

before(async () => {
  if (REDIS_URL) redis = await connect(REDIS_URL);
});
after(async () => {
  for (const m of managers) await m.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  rmSync(dir, { recursive: true, force: true });
});

function fieldsOf(list: string[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) f[list[i]] = list[i + 1];
  return f;
}

function readCsv(path: string): Map<string, { arm: string; p: string; reward: string }> {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'timestamp,request_id,arm,propensity,reward');
  const rows = new Map<string, { arm: string; p: string; reward: string }>();
  for (const line of lines.slice(1)) {
    const [, rid, arm, p, reward] = line.split(',');
    assert.ok(!rows.has(rid), `request ${rid} exported once`);
    rows.set(rid, { arm, p, reward });
  }
  return rows;
}

test('N impressions over several flushes: one entry per batch, each impression exported exactly once; deletion rewrites the batches without the user', { skip, timeout: 20_000 }, async () => {
  const config = parseExperimentsConfig({ experiments: [{ id: 'batched', arms: ['mf', 'content'], control: 'mf', allocation: { mode: 'fixed', shares: { mf: 0.5, content: 0.5 } }, guardrail: { enabled: false } }] }, 'test');
  const m = await ExperimentManager.start({ config, call: directCall(redis), keyPrefix: prefix, servedModels: () => ['mf', 'content'], timers: false });
  managers.push(m);
  m.store.maxBatch = 16;
  m.store.flushMs = 60_000; // only the explicit flushes (and attribution's) write
  const engine = m.active!;
  const items = ['i0', 'i1', 'i2', 'i3', 'i4'];
  const arms = new Map<string, { arm: string; p: number }>();
  const rounds = [40, 35, 25];
  let i = 0;
  for (const n of rounds) {
    const first = i;
    for (let j = 0; j < n; j++, i++) {
      const user = `u${i % 10}`;
      const a = await engine.assign(user);
      arms.set(`r${i}`, { arm: a.arm, p: a.propensity });
      m.recordImpression(a, user, `r${i}`, items);
    }
    assert.equal(m.store.pending, n, 'queued in process, nothing written yet');
    // Clicks by request id on every third impression of the round: the first one attributes while
    // the round's impressions are still queued (attribution flushes first).
    for (let k = first; k < i; k++) {
      if (k % 3 !== 0) continue;
      const counted = await m.attribute([{ userId: `u${k % 10}`, itemId: items[k % items.length], type: 'click', requestId: `r${k}`, tsMs: Date.now() }]);
      assert.equal(counted, 1, `click on r${k}`);
    }
    assert.equal(m.store.pending, 0);
    await m.store.flush();
  }
  const total = i;
  assert.equal(total, 100);

  // Layout: per flush, batches of at most 16 impressions, one stream entry each, then the rewards.
  const log = ((await redis.xrange(m.store.keys.log('batched'), '-', '+')) as Array<[string, string[]]>).map(([id, f]) => ({ id, f: fieldsOf(f) }));
  const impEntries = log.filter((e) => e.f.t === 'imp');
  assert.deepEqual(impEntries.map((e) => Number(e.f.n)), [16, 16, 8, 16, 16, 3, 16, 9]);
  for (const e of impEntries) assert.equal(e.f.b.split('\n').length, Number(e.f.n));
  assert.equal(log.filter((e) => e.f.t === 'clk').length, 34);
  const logged = impEntries.flatMap((e) => impressionsOf(e.f));
  assert.deepEqual(logged.map((x) => x.requestId), Array.from({ length: total }, (_, k) => `r${k}`), 'every impression once, in order');
  assert.deepEqual(logged[13], { requestId: 'r13', arm: arms.get('r13')!.arm, propensity: 0.5, userId: 'u3', itemIds: items, tsMs: logged[13].tsMs });
  assert.equal(await redis.hget(m.store.keys.stats('batched'), `imp:mf`), String([...arms.values()].filter((a) => a.arm === 'mf').length));
  assert.equal(await redis.llen(m.store.keys.recent('batched', 'u3')), 10, 'each impression in its user\'s recent list');

  const before = await exportExperimentLog(m.store, 'batched', join(dir, 'before.csv'));
  assert.equal(before.rows, total);
  assert.equal(before.rewards, 34);
  assert.equal(before.orphanRewards, 0);
  const rows = readCsv(join(dir, 'before.csv'));
  assert.equal(rows.size, total);
  for (let k = 0; k < total; k++) {
    const r = rows.get(`r${k}`)!;
    assert.deepEqual(r, { arm: arms.get(`r${k}`)!.arm, p: '0.5', reward: k % 3 === 0 ? '1' : '0' }, `r${k}`);
  }

  // Deletion of u3: its 10 impressions (r3, r13, …, r93: in every batched entry) and its 4 clicks (r3, r33, r63, r93).
  const purged = await m.purgeUser('u3');
  assert.deepEqual(purged, { logEntries: 14, keys: 2 });
  const left = ((await redis.xrange(m.store.keys.log('batched'), '-', '+')) as Array<[string, string[]]>).map(([, f]) => fieldsOf(f));
  const leftImps = left.flatMap((f) => impressionsOf(f));
  assert.equal(leftImps.length, 90);
  assert.ok(leftImps.every((x) => x.userId !== 'u3'));
  assert.ok(left.every((f) => f.user !== 'u3' && !(f.b ?? '').includes('u3\t')));
  for (const f of left.filter((x) => x.t === 'imp')) assert.equal(f.b.split('\n').length, Number(f.n));
  assert.equal(await redis.exists(m.store.keys.recent('batched', 'u3')), 0);
  assert.deepEqual(await m.purgeUser('u3'), { logEntries: 0, keys: 0 }, 'a second purge finds nothing');

  const after = await exportExperimentLog(m.store, 'batched', join(dir, 'after.csv'));
  assert.deepEqual([after.rows, after.rewards, after.orphanRewards], [90, 30, 0]);
  const rowsAfter = readCsv(join(dir, 'after.csv'));
  for (let k = 0; k < total; k++) {
    if (k % 10 === 3) assert.equal(rowsAfter.has(`r${k}`), false, `r${k} purged`);
    else assert.deepEqual(rowsAfter.get(`r${k}`), rows.get(`r${k}`), `r${k} kept with its reward`);
  }
});
