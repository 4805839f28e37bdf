import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArms, parsePolicies, parseRange, splitPolicyParams } from '../../src/core/bandits/parse.js';
import { checkpointsFor, makeEnv, runSynthetic, type SyntheticPolicyResult } from '../../src/core/bandits/simulate.js';
import { isRecsysError } from '../../src/core/errors.js';

test('environment: explicit probabilities, seeded draws in a range, best arm per segment', () => {
  const env = makeEnv({ arms: 3, labels: ['mf', 'content', 'two_tower'], probabilities: [0.03, 0.02, 0.05] });
  assert.deepEqual([...env.probabilities], [0.03, 0.02, 0.05]);
  assert.deepEqual([...env.best], [0.05]);
  const a = makeEnv({ arms: 4, range: [0.1, 0.2], segments: 2, seed: 9 });
  const b = makeEnv({ arms: 4, range: [0.1, 0.2], segments: 2, seed: 9 });
  assert.deepEqual([...a.probabilities], [...b.probabilities]);
  assert.ok(a.probabilities.every((p) => p >= 0.1 && p < 0.2));
  assert.equal(a.best[1], Math.max(...a.probabilities.subarray(4, 8)));
  assert.throws(() => makeEnv({ arms: 1 }), (e: unknown) => isRecsysError(e) && e.data.flag === '--arms');
  assert.throws(() => makeEnv({ arms: 2, probabilities: [0.5, 1.5] }), /in \[0, 1\]/);
});

test('checkpoints: a linear grid plus log-spaced early points, ending at the horizon', () => {
  const c = checkpointsFor(1000, 10);
  assert.deepEqual([...c].slice(0, 4), [1, 2, 3, 4]);
  assert.equal(c[c.length - 1], 1000);
  assert.ok(c.includes(100) && c.includes(500));
  for (let i = 1; i < c.length; i++) assert.ok(c[i] > c[i - 1]);
});

test('regret bookkeeping: each pull of the worse arm costs its gap, and nothing else does', () => {
  // Arm 0 never pays, arm 1 always does (gap 1). Greedy (ε = 0) tries arm 0 once and never again.
  const env = makeEnv({ arms: 2, probabilities: [0, 1] });
  const res = runSynthetic({ env, horizon: 100, runs: 2, policies: [{ name: 'egreedy', params: { epsilon: 0 } }, { name: 'ucb' }] });
  const [greedy, ucb] = res.policies;
  assert.equal(greedy.finalRegret.mean, 1);
  assert.equal(greedy.finalCtr, 0.99);
  // UCB1 returns to arm 0 while √(2 ln t / n₀) ≥ 1 + √(2 ln t / n₁): regret = its pulls of arm 0,
  // and reward = the others (deterministic rewards, so CTR·T + regret = T exactly).
  assert.ok(ucb.finalRegret.mean > 1 && ucb.finalRegret.mean < 10, `UCB1 regret ${ucb.finalRegret.mean}`);
  assert.equal(ucb.finalCtr * 100 + ucb.finalRegret.mean, 100);
  assert.equal(res.env.optimalValue, 1);
});

test('synthetic regret over 10k steps: Thompson sampling and UCB1 grow sub-linearly and beat fixed-ε ε-greedy', () => {
  // 10 arms, probabilities drawn per run uniformly in [0, 1] (seeded), 20 runs: the setting of the
  // acceptance run in docs/bandits.md (there with 50 runs).
  const runs = 20;
  const res = runSynthetic({
    env: (r) => makeEnv({ arms: 10, range: [0, 1], seed: 42 + 7919 * r }),
    horizon: 10_000,
    runs,
    seed: 42,
    policies: [{ name: 'ts' }, { name: 'ucb' }, { name: 'egreedy', params: { epsilon: 0.1 } }],
  });
  const [ts, ucb, eg] = res.policies as [SyntheticPolicyResult, SyntheticPolicyResult, SyntheticPolicyResult];
  assert.equal(res.env.resampledPerRun, true);
  // Sub-linear: regret over the last decade grows like t^b with b well below 1; fixed ε is near-linear.
  assert.ok(ts.growthExponent < 0.4, `TS exponent ${ts.growthExponent}`);
  assert.ok(ucb.growthExponent < 0.6, `UCB1 exponent ${ucb.growthExponent}`);
  assert.ok(eg.growthExponent > 0.75, `ε-greedy exponent ${eg.growthExponent}`);
  // Lower regret than ε-greedy, with 95% intervals that do not overlap.
  assert.ok(ts.finalRegret.ci95[1] < ucb.finalRegret.ci95[0], `TS ${ts.finalRegret.ci95} below UCB1 ${ucb.finalRegret.ci95}`);
  assert.ok(ucb.finalRegret.mean < eg.finalRegret.mean, `UCB1 ${ucb.finalRegret.mean} < ε-greedy ${eg.finalRegret.mean}`);
  assert.ok(ts.finalRegret.ci95[1] < eg.finalRegret.ci95[0]);
  // Curves: one point per checkpoint, bands around the mean, monotone mean regret.
  assert.equal(ts.regret.mean.length, res.checkpoints.length);
  for (let c = 1; c < res.checkpoints.length; c++) assert.ok(ts.regret.mean[c] >= ts.regret.mean[c - 1]);
  ts.regret.mean.forEach((m, c) => assert.ok(ts.regret.lo[c] <= m && m <= ts.regret.hi[c]));
  assert.equal(ts.finalRegret.perRun.length, runs);
  // Determinism: the same seed gives the same curves.
  const again = runSynthetic({ env: (r) => makeEnv({ arms: 10, range: [0, 1], seed: 42 + 7919 * r }), horizon: 10_000, runs, seed: 42, policies: [{ name: 'ts' }] });
  assert.deepEqual(again.policies[0].finalRegret.perRun, ts.finalRegret.perRun);
});

test('contextual environment: LinUCB on segment one-hots beats context-free UCB1, whose regret stays linear', () => {
  // Two segments with opposite best arms: no single arm is good for both.
  const env = makeEnv({ arms: 2, segments: 2, probabilities: [0.8, 0.2, 0.2, 0.8] });
  const res = runSynthetic({ env, horizon: 4000, runs: 5, policies: [{ name: 'ucb' }, { name: 'linucb' }, { name: 'lints' }] });
  const [ucb, lin, lints] = res.policies;
  assert.ok(ucb.finalRegret.mean > 1000, `UCB1 ${ucb.finalRegret.mean} (≈ 0.6 per step on half the steps)`);
  assert.ok(lin.finalRegret.mean < 100, `LinUCB ${lin.finalRegret.mean}`);
  assert.ok(lints.finalRegret.mean < 100, `LinTS ${lints.finalRegret.mean}`);
});

test('flag parsers: arms, ranges, policies with inline and shared parameters', () => {
  assert.deepEqual(parseArms('5'), { arms: 5 });
  assert.deepEqual(parseArms('mf, content,two_tower'), { arms: 3, labels: ['mf', 'content', 'two_tower'] });
  assert.deepEqual(parseArms('mf=0.03,content=0.02'), { arms: 2, labels: ['mf', 'content'], probabilities: [0.03, 0.02] });
  assert.throws(() => parseArms('mf=0.03,content'), /every arm or for none/);
  assert.throws(() => parseArms('mf,mf'), /distinct/);
  assert.deepEqual(parseRange('0.1,0.5'), [0.1, 0.5]);
  assert.throws(() => parseRange('0.5,0.1'), /lo < hi/);
  const specs = parsePolicies('ts,egreedy,egreedy:epsilon=0.05:decay=0.01', { seed: '7', 'egreedy.epsilon': '0.2' });
  assert.deepEqual(specs, [
    { name: 'ts', params: { seed: '7' }, label: undefined },
    { name: 'egreedy', params: { seed: '7', epsilon: '0.2' }, label: undefined },
    { name: 'egreedy', params: { seed: '7', epsilon: '0.05', decay: '0.01' }, label: 'egreedy (epsilon=0.05, decay=0.01)' },
  ]);
  assert.throws(() => parsePolicies('ts,bogus'), /unknown policy 'bogus'/);
  assert.throws(() => splitPolicyParams({ alpha: '1' }, ['ts', 'ucb']), /none of the policies \(ts, ucb\) has a parameter 'alpha'/);
  assert.throws(() => splitPolicyParams({ 'linucb.alpha': '1' }, ['ts']), /'linucb' is not one of the policies/);
});
