/**
 * Offline evaluation of a bandit policy on logged data: how would the policy have done on the
 * traffic of the log?
 *
 * Rows are split in log order: the first `trainFraction` of them only train the policy (every
 * logged (context, action, reward) goes to `update`), the rest are evaluated.
 *
 * - replay (Li, Chu, Langford & Wang 2011, "Unbiased Offline Evaluation of Contextual-bandit-based
 *   News Article Recommendation Algorithms"): walk the evaluation rows in order; the policy
 *   proposes a slate for the row's context; when its item at the row's position is the logged one,
 *   the row's reward counts and the policy learns from it, otherwise the row is skipped. This is
 *   the online behaviour of a *learning* policy, unbiased when the log is uniformly random (each row
 *   is then kept with probability 1/K).
 * - ips, snips, dm, dr: the value of the policy *frozen* after training: π(a | x, position) from
 *   `actionProbabilities` for every evaluation row (Monte Carlo for Thompson sampling), weights
 *   π/p against the logged propensities, and a per-action reward model q̂ fitted on the evaluation
 *   rows for DM and DR.
 *
 * The logging policy's own value on the evaluation rows (their mean reward) is always reported
 * beside the estimates.
 */
import { RecsysError } from '../errors.js';
import { silentProgress, type Progress } from '../models/recommender.js';
import {
  dmEstimate,
  drEstimate,
  importanceWeights,
  ipsEstimate,
  meanEstimate,
  snipsEstimate,
  type Estimate,
  type EstimatorName,
} from './estimators/core.js';
import { fitRewardModel, type RewardModelFit, type RewardModelKind } from './estimators/reward-model.js';
import { ContextEncoder, type LoggedBandit } from './logs/types.js';
import { NO_CONTEXT, policyFromJSON, type BanditPolicy } from './policies/index.js';

export interface OfflineOptions {
  estimators: readonly EstimatorName[];
  /** Share of rows (from the start of the log) used only to train the policy. */
  trainFraction?: number;
  /** Clip importance weights at this value (default: no clipping). */
  clip?: number;
  rewardModel?: RewardModelKind;
  /** L2 penalty of the reward model (default 1). */
  rewardLambda?: number;
  bootstrapSamples?: number;
  seed?: number;
  /** Propensities to use when the log has none: 'uniform' = 1/arms (an evenly split A/B test). */
  assumePropensity?: 'uniform';
  progress?: Progress;
}

export interface ReplayCurvePoint {
  /** Evaluation rows walked so far. */
  rows: number;
  matched: number;
  /** Mean reward over the matched rows so far. */
  value: number;
}

export interface OfflineResult {
  trainRows: number;
  evalRows: number;
  /** The logging policy's observed mean reward on the evaluation rows. */
  logged: { value: number; ci95: [number, number]; n: number };
  estimates: Estimate[];
  /** Target policy π(a | position) averaged over evaluation rows: positions × arms. */
  targetDistribution: number[] | null;
  rewardModel: RewardModelFit | null;
  replayCurve: ReplayCurvePoint[];
  warnings: string[];
  seconds: Record<string, number>;
}

/** Encoder of a log's context for policies: [1, one-hot categoricals, numerics]. */
export function policyEncoder(log: LoggedBandit): ContextEncoder {
  return new ContextEncoder(log.context, { bias: true });
}

export function evaluateOffline(log: LoggedBandit, policy: BanditPolicy, opts: OfflineOptions): OfflineResult {
  const progress = opts.progress ?? silentProgress;
  const warnings: string[] = [];
  const seconds: Record<string, number> = {};
  const n = log.n;
  const K = log.nArms;
  const P = log.nPositions;
  if (policy.nArms !== K) {
    throw new RecsysError('RECSYS_ERR_USAGE', `the policy has ${policy.nArms} arms but ${log.source.path} has ${K}`, { file: log.source.path });
  }
  if (P > K) throw new RecsysError('RECSYS_ERR_USAGE', `${log.source.path} has ${P} positions but only ${K} arms: a slate cannot fill them with distinct arms`, { file: log.source.path });
  const trainFraction = opts.trainFraction ?? 0;
  if (!(trainFraction >= 0 && trainFraction < 1)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--train-fraction must be in [0, 1), got ${trainFraction}`, { flag: '--train-fraction' });
  }
  const nTrain = Math.floor(trainFraction * n);
  const evalRows = n - nTrain;
  const boot = { bootstrapSamples: opts.bootstrapSamples ?? 1000, seed: opts.seed ?? 42 };

  const encoder = policyEncoder(log);
  const x = new Float64Array(encoder.dim);
  const contextOf = (row: number): Float64Array => (policy.contextual ? encoder.encode(row, x) : NO_CONTEXT);
  if (policy.contextual && policy.contextDim !== encoder.dim) {
    throw new RecsysError('RECSYS_ERR_USAGE', `the policy expects ${policy.contextDim} context features, the log encodes ${encoder.dim}`);
  }

  // Train on the first rows.
  let t0 = performance.now();
  if (nTrain > 0 && policy.learns) {
    progress.start('train policy', nTrain);
    for (let i = 0; i < nTrain; i++) {
      policy.update(contextOf(i), log.actions[i], log.rewards[i]);
      if ((i & 4095) === 4095) progress.tick(4096);
    }
    progress.stop();
  }
  seconds.train = (performance.now() - t0) / 1000;

  const evalRewards = log.rewards.subarray(nTrain);
  const logged = meanEstimate(Float64Array.from(evalRewards), boot);
  const estimates: Estimate[] = [];
  const want = new Set(opts.estimators);
  const replayCurve: ReplayCurvePoint[] = [];

  // Propensities.
  let propensities = log.propensities ? log.propensities.subarray(nTrain) : null;
  if (!propensities && opts.assumePropensity === 'uniform') propensities = new Float64Array(evalRows).fill(1 / K);
  const needsWeights = want.has('ips') || want.has('snips') || want.has('dr');
  if (needsWeights && !propensities) {
    throw new RecsysError(
      'RECSYS_ERR_USAGE',
      `${log.source.path} has no propensity column, which ips, snips and dr need (the logging policy's probability of each shown action). Add one (--propensity-column), pass --assume-uniform if arms were split evenly, or use --estimator replay,dm.`,
      { file: log.source.path, flag: '--estimator' },
    );
  }

  // Replay: a copy of the trained policy keeps learning on matched rows.
  if (want.has('replay')) {
    t0 = performance.now();
    const player = policy.learns ? policyFromJSON(policy.toJSON()) : policy;
    if (log.propensities && propensities) {
      const u = 1 / K;
      let nonUniform = 0;
      for (let i = 0; i < propensities.length; i++) if (Math.abs(propensities[i] - u) > 1e-9 * u) nonUniform++;
      if (nonUniform > 0) {
        warnings.push(
          `replay assumes a uniformly random logging policy (propensity 1/${K} = ${u.toPrecision(4)}), but ${nonUniform} of ${propensities.length} evaluation rows have other propensities: the replay estimate is biased towards the logging policy's choices.`,
        );
      }
    }
    const slate = new Int32Array(P);
    const matchedRewards: number[] = [];
    let sum = 0;
    const every = Math.max(1, Math.floor(evalRows / 200));
    progress.start('replay', evalRows);
    for (let j = 0; j < evalRows; j++) {
      const i = nTrain + j;
      const ctx = player.contextual ? encoder.encode(i, x) : NO_CONTEXT;
      const pos = log.positions[i];
      const chosen = P === 1 ? player.select(ctx) : player.selectSlate(ctx, P, slate)[pos];
      if (chosen === log.actions[i]) {
        matchedRewards.push(log.rewards[i]);
        sum += log.rewards[i];
        player.update(ctx, chosen, log.rewards[i]);
      }
      if ((j + 1) % every === 0 || j === evalRows - 1) {
        replayCurve.push({ rows: j + 1, matched: matchedRewards.length, value: matchedRewards.length > 0 ? sum / matchedRewards.length : NaN });
      }
      if ((j & 1023) === 1023) progress.tick(1024);
    }
    progress.stop();
    const m = meanEstimate(Float64Array.from(matchedRewards), boot);
    estimates.push({ estimator: 'replay', value: m.value, ci95: m.ci95, n: m.n, ess: m.n, details: { matchedShare: evalRows > 0 ? m.n / evalRows : 0, evaluationRows: evalRows } });
    if (m.n === 0) warnings.push('replay matched no row: the policy never chose a logged action; the replay estimate is undefined.');
    seconds.replay = (performance.now() - t0) / 1000;
  }

  let targetDistribution: number[] | null = null;
  let rewardFit: RewardModelFit | null = null;
  if (want.has('ips') || want.has('snips') || want.has('dm') || want.has('dr')) {
    t0 = performance.now();
    const needsModel = want.has('dm') || want.has('dr');
    const rows = Int32Array.from({ length: evalRows }, (_, j) => nTrain + j);
    const model = needsModel ? fitRewardModel(log, new ContextEncoder(log.context, { bias: true, positions: P }), rows, { kind: opts.rewardModel, lambda: opts.rewardLambda }) : null;
    rewardFit = model?.fit ?? null;
    seconds.rewardModel = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const targetProb = new Float64Array(evalRows);
    const qLogged = new Float64Array(evalRows);
    const qTarget = new Float64Array(evalRows);
    const probs = new Float64Array(P * K);
    const q = new Float64Array(K);
    const avg = new Float64Array(P * K);
    progress.start('action probabilities', evalRows);
    for (let j = 0; j < evalRows; j++) {
      const i = nTrain + j;
      const pos = log.positions[i];
      policy.actionProbabilities(contextOf(i), P, probs);
      for (let c = 0; c < P * K; c++) avg[c] += probs[c];
      targetProb[j] = probs[pos * K + log.actions[i]];
      if (model) {
        model.predictAll(i, pos, q);
        let e = 0;
        for (let a = 0; a < K; a++) e += probs[pos * K + a] * q[a];
        qTarget[j] = e;
        qLogged[j] = q[log.actions[i]];
      }
      if ((j & 255) === 255) progress.tick(256);
    }
    progress.stop();
    targetDistribution = Array.from(avg, (v) => (evalRows > 0 ? v / evalRows : 0));
    seconds.actionProbabilities = (performance.now() - t0) / 1000;

    const r = evalRewards;
    const weights = propensities ? importanceWeights(targetProb, propensities, opts.clip) : null;
    for (const name of opts.estimators) {
      if (name === 'ips' && weights) estimates.push(ipsEstimate(weights.w, r, boot, weights.clipped));
      if (name === 'snips' && weights) estimates.push(snipsEstimate(weights.w, r, boot, weights.clipped));
      if (name === 'dm') estimates.push(dmEstimate(qTarget, boot));
      if (name === 'dr' && weights) estimates.push(drEstimate(weights.w, r, qLogged, qTarget, boot, weights.clipped));
    }
    if (weights) {
      const ess = estimates.find((e) => e.estimator === 'ips' || e.estimator === 'snips' || e.estimator === 'dr')?.ess ?? 0;
      if (ess > 0 && ess < 0.01 * evalRows) {
        warnings.push(`the effective sample size is ${ess.toFixed(0)} of ${evalRows} rows: the target policy rarely picks what the logging policy showed, so IPS-type estimates are noisy (consider --clip or DM).`);
      }
    }
  }
  // Estimates in the order asked for.
  const order = new Map(opts.estimators.map((e, i) => [e, i]));
  estimates.sort((a, b) => (order.get(a.estimator) ?? 0) - (order.get(b.estimator) ?? 0));
  return { trainRows: nTrain, evalRows, logged, estimates, targetDistribution, rewardModel: rewardFit, replayCurve, warnings, seconds };
}
