/** `recsys bench capacity`'s arithmetic on hand-computed figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCapacity, type MeasuredRates } from '../../src/core/serving/capacity.js';

const measured: MeasuredRates = {
  measuredAt: '2026-11-25T00:00:00Z',
  machine: { cores: 2, cpu: 'test' },
  rps: { lru: 10000, l1: 8000, l2: 6000, l3: 1000, l3Ivf1m: 400 },
  catalogItems: 20000,
  redis: { getPerSecond: 80000, bytesPerL2List: 1300, l2ListLength: 100, bytesPerL1Hash: 300 },
  precompute: { usersPerSecond: 4000, cores: 2, catalogItems: 20000 },
};

const load = {
  users: 1_000_000, items: 1_000_000, qps: 10000,
  shares: { lru: 0.2, l1: 0.5, l2: 0.25, l3: 0.05 },
  activeUserShare: 0.1, historyBytesPerUser: 1500, serverCores: 16, redisNodeMemoryGiB: 25,
  usdPerCoreHour: 0.04, usdPerGiBHour: 0.01, precomputeCores: 8,
};

test('capacity: cores per tier, Redis memory and nodes, precompute hours, monthly cost', () => {
  const plan = planCapacity(measured, load);
  // Per core: LRU 5000, L1 4000, L2 3000, L3 (IVF at 1M, 1M items) 200 req/s.
  // Cores: 2000/5000 + 5000/4000 + 2500/3000 + 500/200 = 0.4 + 1.25 + 0.8333 + 2.5.
  assert.ok(Math.abs(plan.appCores - 4.98333) < 1e-4);
  assert.equal(plan.appServers, 1);
  // 1e6 × 1300 + 1e5 × 300 + 1e5 × 1500 bytes.
  assert.ok(Math.abs(plan.redisGiB - 1.48e9 / 2 ** 30) < 1e-9);
  assert.equal(plan.redisNodes, 1);
  // 730 h × (16 cores × $0.04 + 1 node × 25 GiB × $0.01).
  assert.ok(Math.abs(plan.monthlyUsd - 649.7) < 1e-9);
  const row = (what: string) => plan.rows.find((r) => r.what === what)!.value;
  assert.equal(row('Redis commands/s'), '17,000'); // 10,000 × (0.5·1 + 0.25·4 + 0.05·4)
  assert.equal(row('precompute, all users'), '0.9 h'); // 1e6 / (2000/core × 8 cores × 20k/1M) / 3600
});

test('capacity: 10× the catalogue makes L3 10× dearer; commands/s can decide the Redis node count', () => {
  const big = planCapacity(measured, { ...load, items: 10_000_000, qps: 1_000_000 });
  const small = planCapacity(measured, { ...load, items: 1_000_000, qps: 1_000_000 });
  assert.ok(Math.abs((big.appCores - small.appCores) - 9 * 250) < 1e-6, 'L3 cores: 50,000 req/s ÷ 200 = 250 → ×10');
  // 1.7M commands/s ÷ 80k per node = 21.25 → 22 nodes, more than memory needs.
  assert.equal(big.redisNodes, 22);
  assert.throws(() => planCapacity(measured, { ...load, shares: { lru: 0, l1: 0, l2: 0, l3: 0 } }), /tier shares/);
});
