import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { meanEstimate, type Estimate } from '../../src/core/bandits/estimators/core.js';
import { estimateActionDistribution, readLog } from '../../src/core/bandits/logs/index.js';
import { evaluateOffline, policyEncoder } from '../../src/core/bandits/offline.js';
import { createPolicy, FixedDistribution } from '../../src/core/bandits/policies/index.js';
import { makeEnv, writeSyntheticLog } from '../../src/core/bandits/simulate.js';
import { isRecsysError } from '../../src/core/errors.js';
import { SHARED_DATASETS } from '../helpers.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-bandit-offline-'));
after(() => rm(root, { recursive: true, force: true }));
const OBD = join(SHARED_DATASETS, 'obd-small');
const byName = (es: Estimate[], name: string): Estimate => {
  const e = es.find((x) => x.estimator === name);
  assert.ok(e, `${name} estimate present`);
  return e;
};

test('obd-small: IPS (and SNIPS) of the random policy on its own logs equal the empirical CTR exactly', async () => {
  for (const campaign of ['men', 'women']) {
    const log = await readLog(join(OBD, 'random', campaign));
    const res = evaluateOffline(log, createPolicy('random', { nArms: log.nArms }), { estimators: ['ips', 'snips', 'dr'], bootstrapSamples: 200 });
    let sum = 0;
    for (const r of log.rewards) sum += r;
    assert.equal(res.logged.value, sum / log.n);
    assert.equal(byName(res.estimates, 'ips').value, sum / log.n, `${campaign}: IPS = ${sum}/${log.n}`);
    assert.equal(byName(res.estimates, 'snips').value, sum / log.n);
    assert.equal(byName(res.estimates, 'ips').ess, log.n);
    // DR with weights 1 is mean(Σ_a π q̂) + mean(r − q̂(a_i)): the empirical mean plus the gap between
    // the model's average over all arms and over the logged ones, which is small but not 0.
    assert.ok(Math.abs(byName(res.estimates, 'dr').value - sum / log.n) < 2e-4);
    assert.equal(res.trainRows, 0);
  }
});

test('obd-small: the Bernoulli-TS behaviour policy estimated from the random logs agrees with its on-policy CTR', async () => {
  // Golden numbers: obd-small (10,000 rows per campaign and policy), bts distribution by the harmonic
  // mean of its propensities, reward model logistic λ = 1, bootstrap 1000 resamples, seed 42.
  const expected = {
    men: { truth: 0.0069, ips: 0.00569, snips: 0.00574, dr: 0.00558 },
    women: { truth: 0.0046, ips: 0.00572, snips: 0.00575, dr: 0.00575 },
  } as const;
  for (const campaign of ['men', 'women'] as const) {
    const random = await readLog(join(OBD, 'random', campaign));
    const bts = await readLog(join(OBD, 'bts', campaign));
    const target = new FixedDistribution(random.nArms, estimateActionDistribution(bts, 'harmonic'));
    const res = evaluateOffline(random, target, { estimators: ['ips', 'snips', 'dm', 'dr'] });
    const truth = meanEstimate(bts.rewards);
    assert.equal(truth.value, expected[campaign].truth);
    for (const name of ['ips', 'snips', 'dr'] as const) {
      const e = byName(res.estimates, name);
      assert.ok(Math.abs(e.value - expected[campaign][name]) < 5e-6, `${campaign} ${name} = ${e.value}`);
      assert.ok(e.ci95[0] <= truth.value && truth.value <= e.ci95[1], `${campaign} ${name}: truth ${truth.value} in [${e.ci95}]`);
      assert.ok(e.ess > 2500 && e.ess < 4000, `${campaign} ${name} ESS ${e.ess}`);
    }
    // The reward model's CI is narrow (row sampling only) and misses the truth for men: the report says so.
    assert.ok(byName(res.estimates, 'dm').ci95[1] - byName(res.estimates, 'dm').ci95[0] < 5e-4);
  }
});

test('synthetic A/B log with a known truth: IPS, SNIPS, DR and replay recover a fixed policy’s value', async () => {
  const env = makeEnv({ arms: 3, labels: ['mf', 'content', 'two_tower'], probabilities: [0.04, 0.03, 0.06] });
  const path = join(root, 'ab.csv');
  const written = await writeSyntheticLog(path, env, 60_000, 5);
  assert.equal(written.rows, 60_000);
  const log = await readLog(path);
  assert.deepEqual(log.armIds, ['content', 'mf', 'two_tower']); // natural order of the labels
  assert.ok(log.propensities?.every((p) => Math.abs(p - 1 / 3) < 1e-12));
  // π = (content 0.2, mf 0.3, two_tower 0.5): V = 0.2·0.03 + 0.3·0.04 + 0.5·0.06 = 0.048.
  const policy = new FixedDistribution(3, [0.2, 0.3, 0.5], { seed: 1 });
  const res = evaluateOffline(log, policy, { estimators: ['replay', 'ips', 'snips', 'dm', 'dr'], bootstrapSamples: 300 });
  for (const e of res.estimates) {
    assert.ok(Math.abs(e.value - 0.048) < 0.003, `${e.estimator} = ${e.value}`);
    // The DM interval covers row sampling only (not the reward model's error), so it is not checked.
    if (e.estimator !== 'dm') assert.ok(e.ci95[0] <= 0.048 && 0.048 <= e.ci95[1], `${e.estimator} ${e.value} CI [${e.ci95}] holds 0.048`);
  }
  assert.equal(res.warnings.length, 0);
  // Replay keeps about a third of the rows.
  const replay = byName(res.estimates, 'replay');
  assert.ok(Math.abs(replay.details.matchedShare - 1 / 3) < 0.01);
  assert.ok(res.replayCurve.length > 100 && res.replayCurve[res.replayCurve.length - 1].rows === 60_000);

  // A learning Thompson sampler replayed on the same log ends up mostly on two_tower.
  const ts = evaluateOffline(log, createPolicy('ts', { nArms: 3 }), { estimators: ['replay', 'ips'], trainFraction: 0, bootstrapSamples: 100 });
  const tsReplay = byName(ts.estimates, 'replay');
  assert.ok(tsReplay.value > 0.052 && tsReplay.value < 0.065, `replayed TS CTR ${tsReplay.value}`);
  assert.deepEqual(ts.warnings, []);
});

test('replay on a non-uniform log warns; missing propensities are an error unless --assume-uniform', async () => {
  const bts = await readLog(join(OBD, 'bts', 'men'));
  const res = evaluateOffline(bts, createPolicy('random', { nArms: bts.nArms }), { estimators: ['replay'], bootstrapSamples: 0 });
  assert.match(res.warnings[0] ?? '', /replay assumes a uniformly random logging policy/);

  const path = join(root, 'noprop.csv');
  await writeFile(path, 'arm,reward,segment\n' + Array.from({ length: 300 }, (_, i) => `${['a', 'b', 'c'][i % 3]},${i % 5 === 0 ? 1 : 0},s${i % 2}`).join('\n'));
  const log = await readLog(path);
  assert.equal(log.propensities, null);
  const lin = createPolicy('linucb', { nArms: 3, contextDim: policyEncoder(log).dim });
  assert.throws(
    () => evaluateOffline(log, lin, { estimators: ['ips'] }),
    (e: unknown) => isRecsysError(e) && /no propensity column/.test(e.message) && /--assume-uniform/.test(e.message),
  );
  const ok = evaluateOffline(log, createPolicy('random', { nArms: 3 }), { estimators: ['replay', 'dm', 'ips'], assumePropensity: 'uniform', bootstrapSamples: 100 });
  assert.equal(byName(ok.estimates, 'ips').value, 60 / 300);
  assert.throws(() => evaluateOffline(log, createPolicy('random', { nArms: 4 }), { estimators: ['dm'] }), /4 arms/);
  assert.throws(() => evaluateOffline(log, createPolicy('random', { nArms: 3 }), { estimators: ['dm'], trainFraction: 1 }), /--train-fraction/);
});
