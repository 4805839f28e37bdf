/**
 * Guardrails, canary and Thompson sampling on simulated traffic through the engine's own calls
 * (assign → recordImpression → attribute → tick) against the real Redis at REDIS_URL. Seeded: the
 * same impressions and clicks every run. The full-size figures are in bench/experiments.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { ExperimentManager } from '../../src/core/experiments/manager.js';
import { simulateTraffic } from '../../src/core/experiments/simulate.js';
import { directCall } from '../../src/core/experiments/store.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, uniquePrefix } from '../serving/fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const prefix = uniquePrefix('exp-guard');
let redis: RedisClient;
const managers: ExperimentManager[] = [];

before(async () => {
  if (REDIS_URL) redis = await connect(REDIS_URL);
});
after(async () => {
  for (const m of managers) m.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
});

async function manager(doc: Record<string, unknown>, registry: Registry | null = null, log: string[] = []): Promise<ExperimentManager> {
  const config = parseExperimentsConfig({ experiments: [{ arms: ['control', 'b'], control: 'control', ...doc }] }, 'test');
  const m = await ExperimentManager.start({ config, call: directCall(redis), keyPrefix: prefix, servedModels: () => ['control', 'b', 'c'], registry, timers: false, log: (_l, msg) => log.push(msg) });
  managers.push(m);
  return m;
}

test('a clearly worse arm is rolled back: share 0, the reason stored and logged, a metric raised', { skip }, async () => {
  const registry = new Registry();
  const log: string[] = [];
  const m = await manager({ id: 'degraded' }, registry, log);
  const e = m.active!;
  const r = await simulateTraffic(e, { clickProbability: { control: 0.3, b: 0.15 }, impressions: 20000, users: 50000, tickEvery: 250, seed: 7, stopOnRollbackOf: 'b' });
  assert.ok(r.rollbackAt !== null && r.rollbackAt >= 1000 && r.rollbackAt <= 4000, `rolled back after ${r.rollbackAt} impressions`);
  assert.deepEqual(r.rolledBack, ['b']);
  assert.equal(e.shareOf('b'), 0);
  assert.equal(e.shareOf('control'), 1);
  for (let u = 0; u < 200; u++) assert.equal((await e.assign(`u${u}`)).arm, 'control');
  const info = e.view().arms.find((a) => a.arm === 'b')!.rolledBack!;
  assert.ok(info.armImpressions >= 500 && info.lambda >= 20, JSON.stringify(info));
  assert.match(info.reason, /^CTR 1\d\.\d{3}% vs control \d+\.\d{3}% \(-\d+\.\d%\): more than 5\.0% below the control with mSPRT evidence Λ = [\d.]+ ≥ 1\/α = 20\.0/);
  assert.equal(log.length, 1);
  assert.match(log[0], /^experiment degraded: rolled back arm 'b': CTR/);
  const text = await registry.metrics();
  assert.match(text, /recsys_experiment_rollbacks_total\{experiment="degraded",arm="b"\} 1/);
  assert.match(text, /recsys_experiment_rolled_back\{experiment="degraded",arm="b"\} 1/);
  assert.match(text, /recsys_experiment_share\{experiment="degraded",arm="b"\} 0/);
  // A second server (another manager on the same Redis) sees the rollback without deciding it again.
  const other = await manager({ id: 'degraded' }, new Registry());
  assert.equal(other.active!.shareOf('b'), 0);
  assert.equal(log.length, 1);
});

test('equal arms under continuous monitoring: no rollback in 2 seeded runs', { skip }, async () => {
  for (let run = 0; run < 2; run++) {
    const m = await manager({ id: `equal-${run}` });
    const r = await simulateTraffic(m.active!, { clickProbability: { control: 0.3, b: 0.3 }, impressions: 2500, users: 50000, tickEvery: 100, seed: 100 + run });
    assert.deepEqual(r.rolledBack, [], `run ${run}`);
    assert.equal(r.impressions, 2500);
  }
});

test('canary: advances step by step while healthy, keeps its users as it grows; a bad canary is rolled back mid-ramp', { skip }, async () => {
  const canary = { arm: 'b', steps: [0.1, 0.3, 0.5], minImpressions: 150 };
  const m = await manager({ id: 'canary-ok', canary, allocation: { mode: 'fixed', shares: { control: 1 } } });
  const e = m.active!;
  assert.equal(e.shareOf('b'), 0.1);
  const early = new Set<string>();
  for (let u = 0; u < 4000; u++) if ((await e.assign(`u${u}`)).arm === 'b') early.add(`u${u}`);
  assert.ok(Math.abs(early.size / 4000 - 0.1) < 0.015, `${early.size} of 4000 users in the 10% canary`);
  const r = await simulateTraffic(e, { clickProbability: { control: 0.3, b: 0.3 }, impressions: 3500, users: 50000, tickEvery: 100, seed: 3 });
  const v = e.view().canary!;
  assert.deepEqual([v.step, v.status, v.share], [2, 'complete', 0.5]);
  assert.deepEqual(r.rolledBack, []);
  for (const u of early) assert.equal((await e.assign(u)).arm, 'b', `${u} stays in the canary`);
  const a = await e.assign('u0');
  assert.equal(a.propensity, 0.5);

  const bad = await manager({ id: 'canary-bad', canary: { arm: 'b', steps: [0.2, 0.5], minImpressions: 3000 }, allocation: { mode: 'fixed', shares: { control: 1 } } });
  const rb = await simulateTraffic(bad.active!, { clickProbability: { control: 0.3, b: 0.1 }, impressions: 20000, users: 50000, tickEvery: 200, seed: 4, stopOnRollbackOf: 'b' });
  const cv = bad.active!.view().canary!;
  assert.ok(rb.rollbackAt !== null, 'rolled back');
  assert.deepEqual([cv.step, cv.status, cv.share], [0, 'rolled-back', 0], 'never advanced past its first step');
});

test('thompson: traffic concentrates on the best arm, with propensities that are the allocation\'s probabilities', { skip }, async () => {
  const config = parseExperimentsConfig({ experiments: [{ id: 'ts', arms: ['control', 'b', 'c'], control: 'control', allocation: { mode: 'thompson', seed: 11 } }] }, 'test');
  const m = await ExperimentManager.start({ config, call: directCall(redis), keyPrefix: prefix, servedModels: () => ['control', 'b', 'c'], timers: false });
  managers.push(m);
  const e = m.active!;
  const first = await e.assign('x');
  assert.ok(Math.abs(first.propensity - 1 / 3) < 0.02, `uniform posterior: ${first.propensity}`);
  const r = await simulateTraffic(e, { clickProbability: { control: 0.1, b: 0.15, c: 0.3 }, impressions: 3000, users: 50000, tickEvery: 100, seed: 5, window: 1000 });
  const last = r.shares[r.shares.length - 1].share;
  assert.ok(last.c > 0.9, `best arm's share of the last 1,000 impressions: ${last.c}`);
  // Uniform allocation would lose (0.2 + 0.15)/3 per impression: 350 over 3,000.
  assert.ok(r.regret < 120, `regret ${r.regret}`);
  const views = e.view().arms;
  const sum = views.reduce((s, a) => s + a.share, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
  assert.ok(views.every((a) => a.share >= 0.02 / 3 - 1e-12), 'exploration keeps every propensity ≥ explore/K');
});
