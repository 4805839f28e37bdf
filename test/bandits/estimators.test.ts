import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bootstrapRatioCI,
  dmEstimate,
  drEstimate,
  effectiveSampleSize,
  importanceWeights,
  ipsEstimate,
  parseEstimators,
  snipsEstimate,
} from '../../src/core/bandits/estimators/core.js';
import { choleskySolve, fitRewardModel } from '../../src/core/bandits/estimators/reward-model.js';
import { ContextEncoder, FeatureTableBuilder, validateLog, type LoggedBandit } from '../../src/core/bandits/logs/types.js';

const near = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);
const F = (xs: number[]): Float64Array => Float64Array.from(xs);

test('IPS is unbiased on a tiny uniform log: the expectation over every possible log is the true value', () => {
  // Two arms logged uniformly (p = 1/2); clicks with q(0) = 0.2, q(1) = 0.7.
  // Target π = (0.3, 0.7): V(π) = 0.3·0.2 + 0.7·0.7 = 0.55.
  const q = [0.2, 0.7];
  const target = [0.3, 0.7];
  const outcomes: Array<{ a: number; r: number; prob: number }> = [];
  for (const a of [0, 1]) for (const r of [0, 1]) outcomes.push({ a, r, prob: 0.5 * (r ? q[a] : 1 - q[a]) });
  // Every log of 3 rows (4³ = 64 logs), weighted by its probability.
  let expectation = 0;
  let snipsExpectation = 0;
  let total = 0;
  for (const o1 of outcomes) {
    for (const o2 of outcomes) {
      for (const o3 of outcomes) {
        const rows = [o1, o2, o3];
        const prob = o1.prob * o2.prob * o3.prob;
        const { w } = importanceWeights(
          rows.map((o) => target[o.a]),
          rows.map(() => 0.5),
        );
        const r = rows.map((o) => o.r);
        expectation += prob * ipsEstimate(w, r, { bootstrapSamples: 0 }).value;
        snipsExpectation += prob * snipsEstimate(w, r, { bootstrapSamples: 0 }).value;
        total += prob;
      }
    }
  }
  near(total, 1, 1e-12, 'probabilities sum to 1');
  near(expectation, 0.55, 1e-12, 'E[IPS]');
  // SNIPS is only consistent: on 3 rows its expectation differs from the truth.
  assert.ok(Math.abs(snipsExpectation - 0.55) > 1e-3, `E[SNIPS] = ${snipsExpectation}`);
});

test('SNIPS equals the weighted mean Σ w·r / Σ w; ESS = (Σw)²/Σw²', () => {
  const w = F([2, 0.5, 1]);
  const r = F([1, 0, 1]);
  const e = snipsEstimate(w, r, { bootstrapSamples: 200 });
  assert.equal(e.value, 3 / 3.5);
  near(e.ess, 12.25 / 5.25, 1e-12);
  near(effectiveSampleSize(F([1, 1, 1, 1])), 4, 0);
  assert.equal(effectiveSampleSize(F([0, 0])), 0);
  assert.ok(e.ci95[0] <= e.value && e.value <= e.ci95[1], `CI ${e.ci95} holds the estimate`);
  // Resamples without weight are dropped, so the CI stays finite.
  const ci = bootstrapRatioCI(F([0, 1]), F([0, 1]), { bootstrapSamples: 100 });
  assert.deepEqual(ci, [1, 1]);
});

test('DR equals DM when every weight is 0, and IPS when the reward model is 0', () => {
  const r = F([1, 0, 0, 1, 1]);
  const qLogged = F([0.3, 0.1, 0.2, 0.6, 0.5]);
  const qTarget = F([0.4, 0.2, 0.2, 0.5, 0.45]);
  const zero = new Float64Array(5);
  const dm = dmEstimate(qTarget, { bootstrapSamples: 0 });
  assert.equal(drEstimate(zero, r, qLogged, qTarget, { bootstrapSamples: 0 }).value, dm.value);
  near(dm.value, (0.4 + 0.2 + 0.2 + 0.5 + 0.45) / 5, 1e-15);
  const w = F([2, 0, 0.5, 1, 3]);
  const ips = ipsEstimate(w, r, { bootstrapSamples: 0 });
  assert.equal(drEstimate(w, r, zero, zero, { bootstrapSamples: 0 }).value, ips.value);
  assert.equal(ips.value, (2 + 0 + 0 + 1 + 3) / 5);
  // In general: DR = DM + mean of w·(r − q̂(a)).
  const dr = drEstimate(w, r, qLogged, qTarget, { bootstrapSamples: 0 });
  near(dr.value, dm.value + (2 * 0.7 + 0 + 0.5 * -0.2 + 1 * 0.4 + 3 * 0.5) / 5, 1e-15);
});

test('IPS of the logging policy itself with its true propensities is exactly the empirical mean', () => {
  // A non-uniform logging policy: the target is the same policy, so every weight is p/p = 1 exactly.
  const p = F([0.7, 0.1, 0.2, 0.7, 0.013, 1 / 3, 1 / 34]);
  const r = F([1, 0, 1, 0, 1, 0, 1]);
  const { w } = importanceWeights(p, p);
  const e = ipsEstimate(w, r, { bootstrapSamples: 0 });
  assert.equal(e.value, 4 / 7);
  assert.equal(e.ess, 7);
  assert.equal(snipsEstimate(w, r, { bootstrapSamples: 0 }).value, 4 / 7);
});

test('importance weights: clipping caps w and counts the clipped rows; a zero propensity is an error', () => {
  const { w, clipped } = importanceWeights([0.9, 0.5, 0.1], [0.1, 0.5, 0.1], 5);
  assert.deepEqual([...w], [5, 1, 1]);
  assert.equal(clipped, 1);
  const e = ipsEstimate(w, [1, 1, 0], { bootstrapSamples: 0 }, clipped);
  assert.equal(e.details.clippedRows, 1);
  assert.equal(e.details.maxWeight, 5);
  assert.throws(() => importanceWeights([0.5], [0]), /propensity 0/);
  assert.throws(() => ipsEstimate(F([1, 2]), F([1])), /different lengths/);
});

test('bootstrap CIs are seeded (same seed, same interval) and cover the estimate', () => {
  const w = F(Array.from({ length: 200 }, (_, i) => 0.5 + (i % 4) * 0.5));
  const r = F(Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? 1 : 0)));
  const a = ipsEstimate(w, r, { bootstrapSamples: 500, seed: 3 });
  const b = ipsEstimate(w, r, { bootstrapSamples: 500, seed: 3 });
  assert.deepEqual(a.ci95, b.ci95);
  assert.ok(a.ci95[0] < a.value && a.value < a.ci95[1]);
  assert.deepEqual(ipsEstimate(w, r, { bootstrapSamples: 0 }).ci95, [NaN, NaN]);
});

test('estimator list parsing', () => {
  assert.deepEqual(parseEstimators('ips, DR,ips'), ['ips', 'dr']);
  assert.throws(() => parseEstimators('ips,magic'), /unknown estimator 'magic'/);
});

test('Cholesky solve of a 3×3 system', () => {
  // A = [[4,2,0],[2,5,1],[0,1,3]], x = [1,-1,2] → b = A x = [2,-1,5].
  const x = choleskySolve(F([4, 2, 0, 2, 5, 1, 0, 1, 3]), F([2, -1, 5]), 3);
  [1, -1, 2].forEach((v, i) => near(x[i], v, 1e-12));
});

/** A hand-built log: one categorical context column, explicit actions/rewards. */
function handLog(segments: string[], actions: number[], rewards: number[], nArms: number): LoggedBandit {
  const b = new FeatureTableBuilder(['segment'], []);
  for (const s of segments) b.add([s], []);
  return validateLog({
    source: { path: 'hand-built', format: 'csv', files: [] },
    n: actions.length,
    nArms,
    armIds: Array.from({ length: nArms }, (_, i) => `a${i}`),
    nPositions: 1,
    actions: Int32Array.from(actions),
    positions: new Int32Array(actions.length),
    rewards: Float64Array.from(rewards),
    propensities: new Float64Array(actions.length).fill(1 / nArms),
    timestamps: null,
    context: b.finish(),
    armFeatures: null,
    columns: { action: 'a', reward: 'r', propensity: 'p', position: null, timestamp: null, context: ['segment'] },
    notes: [],
  });
}

test('ridge reward model: per-action closed form (XᵀX + λI)⁻¹Xᵀ(y − ȳ) around the overall mean', () => {
  // Arm 0 only, features [bias, segment=x, segment=y]; rows: x→1, x→1, y→0; ȳ over all rows = 2/4.
  const log = handLog(['x', 'x', 'y', 'x'], [0, 0, 0, 1], [1, 1, 0, 0], 2);
  const enc = new ContextEncoder(log.context, { bias: true });
  const m = fitRewardModel(log, enc, undefined, { kind: 'ridge', lambda: 1 });
  // Arm 0: XᵀX = [[3,2,1],[2,2,0],[1,0,1]] + I; Xᵀ(y − 0.5) = [0.5, 1, −0.5].
  // Solving [[4,2,1],[2,3,0],[1,0,2]] w = [0.5, 1, −0.5] by hand (Gaussian elimination): w = [1/26, 4/13, −7/26].
  const w = m.weights.subarray(0, 3);
  near(w[0], 1 / 26, 1e-12);
  near(w[1], 4 / 13, 1e-12);
  near(w[2], -7 / 26, 1e-12);
  const out = new Float64Array(2);
  m.predictAll(0, 0, out);
  near(out[0], 0.5 + w[0] + w[1], 1e-12, 'q̂(x, arm 0)');
  assert.equal(m.fit.kind, 'ridge');
});

test('logistic reward model: with a tiny penalty it recovers each action’s click rate per segment', () => {
  const segments: string[] = [];
  const actions: number[] = [];
  const rewards: number[] = [];
  // Segment u: arm 0 clicks 3/4, arm 1 1/4; segment v: arm 0 1/4, arm 1 3/4 (every cell 40 rows).
  const rate: Record<string, number[]> = { u: [0.75, 0.25], v: [0.25, 0.75] };
  for (const s of ['u', 'v']) for (const a of [0, 1]) for (let i = 0; i < 40; i++) {
    segments.push(s);
    actions.push(a);
    rewards.push(i < 40 * rate[s][a] ? 1 : 0);
  }
  const log = handLog(segments, actions, rewards, 2);
  const m = fitRewardModel(log, new ContextEncoder(log.context, { bias: true }), undefined, { kind: 'logistic', lambda: 1e-6 });
  const out = new Float64Array(2);
  m.predictAll(0, 0, out); // segment u
  near(out[0], 0.75, 1e-4, 'q̂(u, 0)');
  near(out[1], 0.25, 1e-4, 'q̂(u, 1)');
  m.predictAll(80 + 0, 0, out); // a segment v row
  near(out[0], 0.25, 1e-4, 'q̂(v, 0)');
  near(out[1], 0.75, 1e-4, 'q̂(v, 1)');
  assert.ok(m.fit.iterations.every((it) => it > 1 && it < 50), `Newton converged: ${m.fit.iterations}`);
  // A large penalty shrinks everything towards the overall mean 0.5.
  const shrunk = fitRewardModel(log, new ContextEncoder(log.context, { bias: true }), undefined, { kind: 'logistic', lambda: 1e6 });
  shrunk.predictAll(0, 0, out);
  near(out[0], 0.5, 1e-3);
  // Rewards outside [0, 1] fall back to ridge.
  const big = handLog(['u', 'v'], [0, 1], [3, 5], 2);
  assert.equal(fitRewardModel(big, new ContextEncoder(big.context), undefined, { kind: 'logistic' }).kind, 'ridge');
});
