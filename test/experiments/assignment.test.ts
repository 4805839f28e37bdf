/**
 * Fixed allocation is pure hashing: sticky per user across requests and across a restart (a new
 * engine, nothing stored), and the shares hold within ±1% over 100k users. No Redis needed (the
 * store is given a Redis that is "down": assignment never waits on it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { ExperimentEngine, hash01 } from '../../src/core/experiments/engine.js';
import { ExperimentStore, type RedisCall } from '../../src/core/experiments/store.js';

const down: RedisCall = async () => undefined;
const USERS = 100000;

function engine(salt?: string): ExperimentEngine {
  const cfg = parseExperimentsConfig(
    { experiments: [{ id: 'sticky', salt, arms: ['als', 'popularity', 'content'], control: 'popularity', allocation: { mode: 'fixed', shares: { als: 0.5, popularity: 0.3, content: 0.2 } } }] },
    'mem',
  );
  return new ExperimentEngine(cfg.experiments[0], new ExperimentStore(down, 'unused'));
}

test('hash01 is uniform enough: 100k ids into 10 buckets, each within ±1% of 10%', () => {
  const buckets = new Array<number>(10).fill(0);
  for (let u = 0; u < USERS; u++) buckets[Math.floor(hash01(`salt\u0000user-${u}`) * 10)]++;
  for (const b of buckets) assert.ok(Math.abs(b / USERS - 0.1) < 0.01, `bucket share ${b / USERS}`);
  assert.equal(hash01('a'), hash01('a'));
  assert.notEqual(hash01('a'), hash01('b'));
});

test('fixed shares 50/30/20 hold within ±1% over 100k users, with the configured propensities', async () => {
  const e = engine();
  const counts: Record<string, number> = { als: 0, popularity: 0, content: 0 };
  for (let u = 0; u < USERS; u++) {
    const a = await e.assign(`user-${u}`);
    counts[a.arm]++;
    assert.equal(a.via, 'hash');
    assert.equal(a.propensity, a.arm === 'als' ? 0.5 : a.arm === 'popularity' ? 0.3 : 0.2);
  }
  for (const [arm, want] of [['als', 0.5], ['popularity', 0.3], ['content', 0.2]] as const) {
    const share = counts[arm] / USERS;
    assert.ok(Math.abs(share - want) <= 0.01, `${arm}: ${share} vs ${want}`);
  }
});

test('sticky: the same arm for a user on every request and after a restart; a new salt reshuffles', async () => {
  const first = engine();
  const before = await Promise.all(Array.from({ length: 5000 }, (_, u) => first.assign(`user-${u}`)));
  for (let u = 0; u < 5000; u += 97) {
    for (let rep = 0; rep < 3; rep++) assert.equal((await first.assign(`user-${u}`)).arm, before[u].arm);
  }
  const restarted = engine();
  const after = await Promise.all(Array.from({ length: 5000 }, (_, u) => restarted.assign(`user-${u}`)));
  assert.deepEqual(after.map((a) => a.arm), before.map((a) => a.arm));
  const resalted = engine('another-salt');
  const moved = (await Promise.all(Array.from({ length: 5000 }, (_, u) => resalted.assign(`user-${u}`)))).filter((a, u) => a.arm !== before[u].arm).length;
  // Independent draws agree with probability .5² + .3² + .2² = 0.38: about 62% move.
  assert.ok(moved > 0.55 * 5000 && moved < 0.69 * 5000, `${moved} users moved`);
});
