/** Wilson intervals and the guardrail's mSPRT on hand-computed values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardrailTest, wilson } from '../../src/core/experiments/stats.js';

const near = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≈ ${b}`);

test('Wilson 95% interval: 10/100 and 0/50 (computed by hand with z = 1.95996)', () => {
  const [lo, hi] = wilson(10, 100);
  near(lo, 0.0552291370606751);
  near(hi, 0.17436566150491345);
  const [lo0, hi0] = wilson(0, 50);
  assert.equal(lo0, 0);
  near(hi0, 0.07134759913335872);
  assert.deepEqual(wilson(0, 0), [0, 0]);
});

const G = { maxRelativeDrop: 0.05, alpha: 0.05, mixtureSd: 0.01, minImpressions: 500 };

test('mSPRT: Λ = √(V/(V+τ²))·exp(τ²d²/(2V(V+τ²))) with half-click smoothing in V', () => {
  // 10% vs 15% CTR on 1,000 impressions each: d = 0.1 − 0.95·0.15 = −0.0425, Λ = 3.4525 (< 20: no rollback yet).
  const t = guardrailTest({ impressions: 1000, clicks: 100, conversions: 0 }, { impressions: 1000, clicks: 150, conversions: 0 }, G);
  near(t.difference, -0.0425, 1e-12);
  near(t.lambda, 3.452533979160134, 1e-9);
  assert.equal(t.threshold, 20);
  near(t.pValue, 1 / 3.452533979160134, 1e-9);
  assert.equal(t.reject, false);
  // Same counts, δ = 0 and τ = 0.02: Λ = 24.262 ≥ 20 → reject.
  const u = guardrailTest({ impressions: 1000, clicks: 100, conversions: 0 }, { impressions: 1000, clicks: 150, conversions: 0 }, { ...G, maxRelativeDrop: 0, mixtureSd: 0.02 });
  near(u.lambda, 24.262035309214188, 1e-9);
  assert.equal(u.reject, true);
});

test('mSPRT: never rejects when the arm is better than the threshold, nor before minImpressions', () => {
  const t = guardrailTest({ impressions: 2000, clicks: 300, conversions: 0 }, { impressions: 2000, clicks: 300, conversions: 0 }, G);
  near(t.difference, 0.0075, 1e-12);
  near(t.lambda, 0.8221766501616722, 1e-9);
  assert.equal(t.reject, false);
  // An arm far better than control: large Λ but d > 0, so no rollback.
  assert.equal(guardrailTest({ impressions: 5000, clicks: 2500, conversions: 0 }, { impressions: 5000, clicks: 500, conversions: 0 }, G).reject, false);
  const early = guardrailTest({ impressions: 499, clicks: 0, conversions: 0 }, { impressions: 5000, clicks: 2500, conversions: 0 }, G);
  assert.deepEqual([early.ran, early.reject, early.lambda], [false, false, 0]);
});
