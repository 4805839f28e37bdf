/**
 * Simulated traffic for an experiment, in process: users with known click probabilities per arm
 * go through the engine's own `assign` → `recordImpression` → `attribute` → `tick` (the calls the
 * server makes), against real Redis. Used by bench/experiments.ts for the repeated-run figures
 * (false-rollback rate) and by the tests; the HTTP version of the same loop is in the bench.
 */
import { Rng } from '../rng.js';
import type { ExperimentEngine } from './engine.js';

export interface TrafficOptions {
  /** Click probability of a served list, per arm. */
  clickProbability: Readonly<Record<string, number>>;
  impressions: number;
  /** Distinct simulated users (ids u0…u{n−1}, drawn uniformly per request). */
  users: number;
  /** Refresh the engine (counts, guardrails, canary) every this many impressions. */
  tickEvery: number;
  seed: number;
  /** Stop as soon as this arm is rolled back. */
  stopOnRollbackOf?: string;
  /** Items per served list (attribution needs the clicked item to be in the list). */
  listLength?: number;
  /** Impressions written to Redis before awaiting them (pipelining). */
  batch?: number;
  /** Id prefix of the impressions (unique per run). */
  requestPrefix?: string;
  /** Reported share windows: every this many impressions (default: tickEvery). */
  window?: number;
}

export interface TrafficResult {
  impressions: number;
  clicks: number;
  /** Σ (p* − p(arm served)) over the impressions. */
  regret: number;
  /** Per window: impressions so far, and each arm's share of the window's impressions. */
  shares: Array<{ impressions: number; share: Record<string, number> }>;
  /** Impressions (all arms) when `stopOnRollbackOf` was rolled back, or null. */
  rollbackAt: number | null;
  /** Arms rolled back at the end. */
  rolledBack: string[];
  served: Record<string, number>;
  seconds: number;
}

export async function simulateTraffic(engine: ExperimentEngine, o: TrafficOptions): Promise<TrafficResult> {
  const t0 = performance.now();
  const rng = new Rng(o.seed);
  const arms = engine.config.arms;
  const best = Math.max(...arms.map((a) => o.clickProbability[a] ?? 0));
  const items = Array.from({ length: o.listLength ?? 3 }, (_, i) => `item${i}`);
  const batch = o.batch ?? 200;
  const windowSize = o.window ?? o.tickEvery;
  const prefix = o.requestPrefix ?? `sim${o.seed}`;
  const served: Record<string, number> = Object.fromEntries(arms.map((a) => [a, 0]));
  let windowCounts: Record<string, number> = Object.fromEntries(arms.map((a) => [a, 0]));
  const shares: TrafficResult['shares'] = [];
  let pending: Array<Promise<unknown>> = [];
  let clicks = 0;
  let regret = 0;
  let rollbackAt: number | null = null;
  let n = 0;
  await engine.tick();
  while (n < o.impressions) {
    const user = `u${rng.int(o.users)}`;
    const a = await engine.assign(user);
    const rid = `${prefix}-${n}`;
    const now = Date.now();
    pending.push(engine.recordImpression(a, user, rid, items, now));
    const p = o.clickProbability[a.arm] ?? 0;
    regret += best - p;
    served[a.arm]++;
    windowCounts[a.arm]++;
    if (rng.next() < p) {
      clicks++;
      pending.push(engine.attribute({ userId: user, itemId: items[rng.int(items.length)], type: 'click', requestId: rid, tsMs: now }));
    }
    n++;
    if (pending.length >= batch) {
      await Promise.all(pending);
      pending = [];
    }
    if (n % o.tickEvery === 0) {
      await Promise.all(pending);
      pending = [];
      await engine.tick();
      if (o.stopOnRollbackOf && rollbackAt === null && engine.isRolledBack(o.stopOnRollbackOf)) {
        rollbackAt = n;
        break;
      }
    }
    if (n % windowSize === 0) {
      const total = Object.values(windowCounts).reduce((x, y) => x + y, 0);
      shares.push({ impressions: n, share: Object.fromEntries(arms.map((arm) => [arm, windowCounts[arm] / total])) });
      windowCounts = Object.fromEntries(arms.map((arm) => [arm, 0]));
    }
  }
  await Promise.all(pending);
  await engine.tick();
  return {
    impressions: n,
    clicks,
    regret,
    shares,
    rollbackAt,
    rolledBack: arms.filter((arm) => engine.isRolledBack(arm)),
    served,
    seconds: (performance.now() - t0) / 1000,
  };
}
