/**
 * Timing of the bandit simulator and estimators:
 * - the issue's budget: Thompson sampling, 1,000,000 steps × 100 arms, one run through
 *   `runSynthetic` (environment, regret bookkeeping and checkpoints included) in < 5 s;
 * - the same horizon for UCB1 and ε-greedy, and raw Beta draws per second;
 * - off-policy evaluation of the obd-small random/men log (10,000 rows, 34 arms, 3 positions) with
 *   every estimator for ts (Monte Carlo action probabilities) and linucb.
 * Wall time and process CPU time are both printed: on a shared machine CPU time is the steadier one.
 * Run: node --import tsx bench/bandits.ts [--steps 1000000] [--arms 100]   (not part of `npm test`)
 */
import { existsSync } from 'node:fs';
import { makeEnv, runSynthetic } from '../src/core/bandits/simulate.js';
import { Sampler } from '../src/core/bandits/sampling.js';
import { readLog } from '../src/core/bandits/logs/index.js';
import { evaluateOffline, policyEncoder } from '../src/core/bandits/offline.js';
import { createPolicy, type NamedPolicy } from '../src/core/bandits/policies/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const steps = arg('steps', 1_000_000);
const arms = arg('arms', 100);

function timed<T>(label: string, f: () => T): T {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(46)} wall ${wall.toFixed(2)} s   cpu ${((c.user + c.system) / 1e6).toFixed(2)} s`);
  return out;
}

console.log(`node ${process.version}, ${steps.toLocaleString()} steps × ${arms} arms`);
const env = makeEnv({ arms, range: [0, 0.1], seed: 7 });
for (const name of ['ts', 'ucb', 'egreedy'] as NamedPolicy[]) {
  const res = timed(`${name}: one run of ${steps.toLocaleString()} steps`, () => runSynthetic({ env, horizon: steps, runs: 1, policies: [{ name }], seed: 1 }));
  const p = res.policies[0];
  console.log(`${''.padEnd(46)} regret ${p.finalRegret.mean.toFixed(1)}, ${Math.round(p.stepsPerSecond).toLocaleString()} steps/s (loop only)`);
}
const s = new Sampler(3);
let acc = 0;
const draws = 10_000_000;
timed(`${draws.toLocaleString()} Beta(3, 50) draws (method)`, () => {
  for (let i = 0; i < draws; i++) acc += s.beta(3, 50);
});
if (!Number.isFinite(acc)) throw new Error('sampler produced a non-finite value');

const obd = new URL('../../shared/datasets/obd-small/random/men', import.meta.url).pathname;
if (existsSync(obd)) {
  const log = await readLog(obd);
  for (const name of ['ts', 'linucb'] as NamedPolicy[]) {
    const res = timed(`OPE on obd-small random/men: ${name}, all estimators`, () =>
      evaluateOffline(log, createPolicy(name, { nArms: log.nArms, contextDim: policyEncoder(log).dim }), { estimators: ['replay', 'ips', 'snips', 'dm', 'dr'], trainFraction: 0.5 }),
    );
    console.log(`${''.padEnd(46)} ${res.estimates.map((e) => `${e.estimator} ${e.value.toFixed(5)}`).join(', ')}`);
  }
}
