import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BernoulliThompson,
  EpsilonGreedy,
  FixedDistribution,
  LinearThompson,
  LinUcb,
  NO_CONTEXT,
  Ucb1,
  UniformRandom,
  createPolicy,
  policyFromJSON,
  topK,
  type BanditPolicy,
} from '../../src/core/bandits/policies/index.js';
import { isRecsysError } from '../../src/core/errors.js';

const near = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);

test('topK: best first, ties to the smaller index, k = n', () => {
  const out = new Int32Array(3);
  assert.deepEqual([...topK([0.1, 0.5, 0.5, 0.9, 0.2], 5, 3, out)], [3, 1, 2]);
  assert.deepEqual([...topK([1, 1, 1], 3, 3, out)], [0, 1, 2]);
  assert.deepEqual([...topK([-Infinity, -1, -Infinity], 3, 2, new Int32Array(2))], [1, 0]);
});

test('Thompson sampling: Beta posteriors count clicks, fractional rewards add pseudo-counts', () => {
  const ts = new BernoulliThompson(3);
  ts.update(NO_CONTEXT, 0, 1);
  ts.update(NO_CONTEXT, 0, 0);
  ts.update(NO_CONTEXT, 2, 0.25);
  assert.deepEqual([...ts.alpha], [2, 1, 1.25]);
  assert.deepEqual([...ts.beta], [2, 1, 1.75]);
  assert.deepEqual([...ts.means()], [0.5, 0.5, 1.25 / 3]);
});

test('Thompson sampling action probabilities: Monte Carlo matches P(Beta(2,1) > U(0,1)) = 2/3', () => {
  // θ0 ~ Beta(2,1) has density 2x; P(θ0 > θ1) for θ1 ~ U(0,1) = ∫ 2x·x dx = 2/3.
  const ts = new BernoulliThompson(2, { mcSamples: 200_000 });
  ts.update(NO_CONTEXT, 0, 1);
  const p = ts.actionProbabilities(NO_CONTEXT);
  near(p[0], 2 / 3, 0.005, 'π(0)');
  near(p[0] + p[1], 1, 1e-12);
  // Two positions: arm 0 is first w.p. 2/3, so second w.p. 1/3.
  const p2 = ts.actionProbabilities(NO_CONTEXT, 2);
  near(p2[2], 1 / 3, 0.005, 'π(0 at position 2)');
  // The estimate is cached until the next update and asking does not change select's stream.
  const a = new BernoulliThompson(4, { seed: 9 });
  const b = new BernoulliThompson(4, { seed: 9 });
  a.actionProbabilities(NO_CONTEXT, 2);
  for (let i = 0; i < 50; i++) assert.equal(a.select(NO_CONTEXT), b.select(NO_CONTEXT));
});

test('Thompson sampling with a prior below 1 uses the boosted gamma path and still learns', () => {
  const ts = new BernoulliThompson(2, { alpha0: 0.5, beta0: 0.5, seed: 3 });
  for (let i = 0; i < 200; i++) ts.update(NO_CONTEXT, 0, 1);
  let zero = 0;
  for (let i = 0; i < 1000; i++) if (ts.select(NO_CONTEXT) === 0) zero++;
  assert.ok(zero > 600, `arm 0 (200 clicks) chosen ${zero} / 1000 times`);
});

test('ε-greedy: every arm once, then ε/K + (1 − ε) on the best; ε decays as ε₀/(1 + decay·t)', () => {
  const eg = new EpsilonGreedy(4, { epsilon: 0.2 });
  // Untried arms score +∞: the greedy choice is the first untried arm.
  const p0 = eg.actionProbabilities(NO_CONTEXT);
  assert.deepEqual([...p0], [0.05 + 0.8, 0.05, 0.05, 0.05]);
  for (const [a, r] of [
    [0, 0],
    [1, 1],
    [2, 0],
    [3, 0],
  ]) eg.update(NO_CONTEXT, a, r);
  const p = eg.actionProbabilities(NO_CONTEXT, 2);
  near(p[1], 0.85, 1e-12);
  // Position 2: the greedy slate's second arm is arm 0 (ties 0, 2, 3 at mean 0 → smallest index).
  near(p[4 + 0], 0.85, 1e-12);
  near(p[4 + 1], 0.05, 1e-12);
  const decaying = new EpsilonGreedy(2, { epsilon: 0.5, decay: 0.1 });
  for (let i = 0; i < 10; i++) decaying.update(NO_CONTEXT, i % 2, 0);
  near(decaying.epsilon(), 0.25, 1e-12); // 0.5 / (1 + 0.1·10)
  // Selection frequencies match the probabilities.
  let best = 0;
  for (let i = 0; i < 20_000; i++) if (eg.select(NO_CONTEXT) === 1) best++;
  near(best / 20_000, 0.85, 0.015, 'share of the greedy arm');
});

test('UCB1: plays each arm once, then mean + c·√(2 ln t / n)', () => {
  const ucb = new Ucb1(3);
  const seen: number[] = [];
  for (let t = 0; t < 3; t++) {
    const a = ucb.select(NO_CONTEXT);
    seen.push(a);
    ucb.update(NO_CONTEXT, a, a === 1 ? 1 : 0);
  }
  assert.deepEqual(seen, [0, 1, 2]);
  ucb.update(NO_CONTEXT, 1, 0); // arm 1: 2 plays, mean 0.5; t = 4
  const idx = ucb.indexes();
  near(idx[0], Math.sqrt((2 * Math.log(4)) / 1), 1e-12);
  near(idx[1], 0.5 + Math.sqrt((2 * Math.log(4)) / 2), 1e-12);
  const p = ucb.actionProbabilities(NO_CONTEXT, 2);
  // Arm 1 (0.5 + 1.177 = 1.677) first, then arm 0 (1.665; arm 2 ties with it and loses on index).
  assert.deepEqual([...p], [0, 1, 0, 1, 0, 0]);
});

test('LinUCB: Sherman–Morrison keeps A⁻¹ equal to the inverse of λI + Σxxᵀ, θ = A⁻¹b', () => {
  const lin = new LinUcb(2, 2, { alpha: 0.5, lambda: 2 });
  const xs = [
    [1, 0],
    [1, 1],
    [0, 2],
  ];
  const rs = [1, 0, 1];
  for (let i = 0; i < xs.length; i++) lin.update(Float64Array.from(xs[i]), 0, rs[i]);
  // A = 2I + [[2,1],[1,5]] = [[4,1],[1,7]]; det 27; A⁻¹ = [[7,-1],[-1,4]]/27; b = [1, 2]; θ = [5/27, 7/27].
  const ainv = lin.model.ainv.subarray(0, 4);
  [7 / 27, -1 / 27, -1 / 27, 4 / 27].forEach((v, i) => near(ainv[i], v, 1e-12, `A⁻¹[${i}]`));
  near(lin.model.theta[0], 5 / 27, 1e-12);
  near(lin.model.theta[1], 7 / 27, 1e-12);
  // Score for x = [1, 1]: θᵀx + α√(xᵀA⁻¹x) = 12/27 + 0.5·√(9/27); arm 1 is untouched: 0 + 0.5·√(2/2).
  const ub = lin.upperBounds(Float64Array.from([1, 1]));
  near(ub[0], 12 / 27 + 0.5 * Math.sqrt(9 / 27), 1e-12);
  near(ub[1], 0.5, 1e-12);
  assert.equal(lin.select(Float64Array.from([1, 1])), 0);
  assert.throws(() => lin.select(Float64Array.from([1])), (e: unknown) => isRecsysError(e) && /2 features|has 1 features/.test(e.message));
});

test('linear Thompson sampling: scores are N(θᵀx, v²xᵀA⁻¹x) and learn the better arm per context', () => {
  const lints = new LinearThompson(2, 2, { v: 0.3, seed: 4, mcSamples: 4000 });
  const x0 = Float64Array.from([1, 0]);
  const x1 = Float64Array.from([0, 1]);
  for (let i = 0; i < 300; i++) {
    lints.update(x0, 0, 1);
    lints.update(x0, 1, 0);
    lints.update(x1, 0, 0);
    lints.update(x1, 1, 1);
  }
  assert.ok(lints.actionProbabilities(x0)[0] > 0.99);
  assert.ok(lints.actionProbabilities(x1)[1] > 0.99);
  // Untrained: both arms N(0, v²/λ) → π = 1/2 each.
  const fresh = new LinearThompson(2, 2, { mcSamples: 40_000 });
  near(fresh.actionProbabilities(x0)[0], 0.5, 0.01);
});

test('random and fixed-distribution policies: exact probabilities, slates of distinct arms', () => {
  const rnd = new UniformRandom(5);
  assert.deepEqual([...rnd.actionProbabilities(NO_CONTEXT, 2)], new Array(10).fill(0.2));
  const fixed = new FixedDistribution(3, [2, 1, 1, 0, 0, 5]);
  assert.deepEqual([...fixed.actionProbabilities(NO_CONTEXT, 2)], [0.5, 0.25, 0.25, 0, 0, 1]);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20_000; i++) counts[fixed.select(NO_CONTEXT)]++;
  near(counts[0] / 20_000, 0.5, 0.015);
  for (let i = 0; i < 100; i++) {
    const s = fixed.selectSlate(NO_CONTEXT, 3);
    assert.equal(new Set(s).size, 3);
    const r = rnd.selectSlate(NO_CONTEXT, 4);
    assert.equal(new Set(r).size, 4);
  }
  assert.throws(() => new FixedDistribution(3, [1, 2]), /one row of 3/);
  assert.throws(() => rnd.selectSlate(NO_CONTEXT, 6), /1 ≤ k ≤ 5/);
});

test('every policy round-trips through JSON and then behaves identically', () => {
  const dim = 3;
  const make = (): BanditPolicy[] => [
    createPolicy('ts', { nArms: 4 }),
    createPolicy('egreedy', { nArms: 4, params: { epsilon: 0.3, decay: 0.01 } }),
    createPolicy('ucb', { nArms: 4 }),
    createPolicy('linucb', { nArms: 4, contextDim: dim }),
    createPolicy('lints', { nArms: 4, contextDim: dim, params: { mcSamples: 50 } }),
    createPolicy('random', { nArms: 4 }),
    new FixedDistribution(4, [1, 2, 3, 4, 4, 3, 2, 1]),
  ];
  const x = Float64Array.from([1, 0.5, -0.2]);
  for (const policy of make()) {
    const ctx = policy.contextual ? x : NO_CONTEXT;
    for (let i = 0; i < 40; i++) policy.update(ctx, policy.select(ctx), i % 3 === 0 ? 1 : 0);
    const json = JSON.parse(JSON.stringify(policy.toJSON()));
    const copy = policyFromJSON(json);
    assert.equal(copy.kind, policy.kind);
    for (let i = 0; i < 30; i++) {
      const a = policy.selectSlate(ctx, 2);
      const b = copy.selectSlate(ctx, 2);
      assert.deepEqual([...b], [...a], `${policy.kind} step ${i}`);
      policy.update(ctx, a[0], i % 2);
      copy.update(ctx, b[0], i % 2);
    }
    assert.deepEqual([...copy.actionProbabilities(ctx, 2)], [...policy.actionProbabilities(ctx, 2)], `${policy.kind} probabilities`);
  }
  assert.throws(() => policyFromJSON({ ...make()[0].toJSON(), kind: 'nope' as never }), /unknown bandit policy kind/);
  assert.throws(() => createPolicy('ts', { nArms: 3, params: { alpha0: -1 } }), /alpha0/);
  assert.throws(() => createPolicy('thompson', { nArms: 3 }), /unknown bandit policy 'thompson'/);
});
