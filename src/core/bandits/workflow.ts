/**
 * The workflow behind `recsys simulate`, in one call the CLI (and scripts) make:
 * - synthetic: build the environment, run every policy for `runs` seeded runs, optionally write a
 *   uniformly random log of the same environment (so estimators can be checked against a known
 *   truth), report regret and CTR curves;
 * - logged: read the log, build the target policy — a named policy, or the action distribution of
 *   another log's behaviour policy (`targetLog`, estimated from its propensities; that log's own
 *   mean reward is then the truth every estimate is compared with) — evaluate it with the chosen
 *   estimators, report.
 * Reports go to <reportsDir>/<run-id>/ as report.json, report.md and report.html.
 */
import { join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import { silentProgress, type Progress } from '../models/recommender.js';
import { gitInfo } from '../report/git.js';
import { newRunId } from '../report/index.js';
import { meanEstimate, type EstimatorName } from './estimators/core.js';
import type { RewardModelKind } from './estimators/reward-model.js';
import { estimateActionDistribution, readLog, summarizeLog, type DistributionMethod, type ReadLogOptions } from './logs/index.js';
import { evaluateOffline, policyEncoder } from './offline.js';
import { createPolicy, FixedDistribution, isNamedPolicy, NAMED_POLICIES, POLICY_INFO, type BanditPolicy, type NamedPolicy } from './policies/index.js';
import { SIMULATION_REPORT_FORMAT, writeSimulationReport, type EstimateComparison, type LoggedSection, type SimulationReport, type SimulationReportPaths } from './report.js';
import { makeEnv, runSynthetic, writeSyntheticLog, type EnvOptions, type PolicySpec } from './simulate.js';

export interface SyntheticRunOptions {
  env: EnvOptions;
  /**
   * Draw new arm probabilities for every run (default: true unless probabilities are given), so
   * the curves average over environments as well as over the policies' luck.
   */
  resampleEnv?: boolean;
  horizon: number;
  runs: number;
  policies: PolicySpec[];
  seed?: number;
  points?: number;
  /** Also write a uniformly random log of this environment (CSV). */
  writeLog?: { path: string; rows: number };
}

export interface LoggedRunOptions {
  /** Log file or OBD campaign folder. */
  path: string;
  read?: ReadLogOptions;
  /** The policy to evaluate (ignored when `targetLog` is given). */
  policy?: { name: NamedPolicy; params?: Record<string, unknown> };
  /** Evaluate the behaviour policy of this other log instead (its distribution from its propensities). */
  targetLog?: string;
  targetMethod?: DistributionMethod;
  estimators: EstimatorName[];
  /** Default: 0.5 for learning policies, 0 for fixed ones. */
  trainFraction?: number;
  clip?: number;
  rewardModel?: RewardModelKind;
  rewardLambda?: number;
  bootstrapSamples?: number;
  seed?: number;
  assumeUniform?: boolean;
}

export interface SimulateRunOptions {
  synthetic?: SyntheticRunOptions;
  logged?: LoggedRunOptions;
  /** Parent folder of report runs (default 'reports'); null writes nothing. */
  reportsDir?: string | null;
  label?: string;
  progress?: Progress;
  /** Clock for the run id (tests pin it). */
  now?: Date;
}

export interface SimulateRunResult {
  report: SimulationReport;
  paths: SimulationReportPaths | null;
  writtenLog: { path: string; rows: number; meanReward: number } | null;
}

function compare(estimates: LoggedSection['result']['estimates'], truth: { value: number; ci95: [number, number] }): EstimateComparison[] {
  return estimates
    .filter((e) => Number.isFinite(e.value))
    .map((e) => ({
      estimator: e.estimator,
      error: e.value - truth.value,
      relativeError: truth.value !== 0 ? Math.abs(e.value - truth.value) / Math.abs(truth.value) : NaN,
      truthInCi: truth.value >= e.ci95[0] && truth.value <= e.ci95[1],
      cisOverlap: e.ci95[0] <= truth.ci95[1] && truth.ci95[0] <= e.ci95[1],
    }));
}

/** The last two parts of a path without extensions: ../obd-small/bts/men → bts/men. */
function shortName(path: string): string {
  const parts = resolve(path).split(/[\\/]/).filter((p) => p !== '');
  return parts
    .slice(-2)
    .join('/')
    .replace(/\.(csv|tsv|jsonl|json)(\.gz)?$/, '');
}

async function loggedSection(o: LoggedRunOptions, progress: Progress, timings: Record<string, number>): Promise<LoggedSection> {
  let t0 = performance.now();
  const log = await readLog(o.path, o.read);
  timings['read log'] = (performance.now() - t0) / 1000;
  const encoder = policyEncoder(log);
  const bootstrapSamples = o.bootstrapSamples ?? 1000;
  const seed = o.seed ?? 42;

  let policy: BanditPolicy;
  let info: LoggedSection['policy'];
  let target: LoggedSection['target'] = null;
  if (o.targetLog) {
    t0 = performance.now();
    const targetLog = await readLog(o.targetLog, o.read);
    timings['read target log'] = (performance.now() - t0) / 1000;
    if (targetLog.nArms !== log.nArms || targetLog.armIds.some((id, i) => id !== log.armIds[i])) {
      throw new RecsysError(
        'RECSYS_ERR_USAGE',
        `the target log ${o.targetLog} has arms ${targetLog.armIds.slice(0, 5).join(', ')}… (${targetLog.nArms}), the evaluated log ${o.path} has ${log.armIds.slice(0, 5).join(', ')}… (${log.nArms}): they must be the same campaign`,
        { flag: '--target-log' },
      );
    }
    if (targetLog.nPositions !== log.nPositions) {
      throw new RecsysError('RECSYS_ERR_USAGE', `the target log has ${targetLog.nPositions} positions, the evaluated log ${log.nPositions}`, { flag: '--target-log' });
    }
    const method = o.targetMethod ?? (targetLog.propensities ? 'harmonic' : 'frequency');
    policy = new FixedDistribution(log.nArms, estimateActionDistribution(targetLog, method), { seed });
    info = {
      name: 'fixed',
      label: `behaviour policy of ${shortName(o.targetLog)}`,
      description: `the action distribution per position of the policy that logged ${o.targetLog}, estimated (${method}) from its ${targetLog.propensities ? 'propensities' : 'action frequencies'}`,
      params: { method },
    };
    target = { log: summarizeLog(targetLog, encoder.dim), method, onPolicy: meanEstimate(targetLog.rewards, { bootstrapSamples, seed }) };
  } else {
    const spec = o.policy;
    if (!spec) throw new RecsysError('RECSYS_ERR_USAGE', `give the policy to evaluate (--policy ${NAMED_POLICIES.join('|')}) or another log's behaviour policy (--target-log <log>)`, { flag: '--policy' });
    if (!isNamedPolicy(spec.name)) throw new RecsysError('RECSYS_ERR_USAGE', `unknown policy '${spec.name}'. Policies: ${NAMED_POLICIES.join(', ')}.`, { flag: '--policy' });
    policy = createPolicy(spec.name, { nArms: log.nArms, contextDim: encoder.dim, params: spec.params });
    info = { name: spec.name, label: spec.name, description: POLICY_INFO[spec.name].description, params: { ...policy.params } };
  }
  const trainFraction = o.trainFraction ?? (policy.learns ? 0.5 : 0);
  t0 = performance.now();
  const result = evaluateOffline(log, policy, {
    estimators: o.estimators,
    trainFraction,
    clip: o.clip,
    rewardModel: o.rewardModel,
    rewardLambda: o.rewardLambda,
    bootstrapSamples,
    seed,
    assumePropensity: o.assumeUniform ? 'uniform' : undefined,
    progress,
  });
  timings.evaluate = (performance.now() - t0) / 1000;
  if (policy.learns && trainFraction === 0 && o.estimators.some((e) => e !== 'replay')) {
    result.warnings.push(`${info.label} was evaluated by ${o.estimators.filter((e) => e !== 'replay').join(', ')} in its initial state (train fraction 0): pass --train-fraction 0.5 to fit it on the first half of the log first.`);
  }
  return {
    log: summarizeLog(log, encoder.dim),
    policy: info,
    target,
    options: {
      estimators: o.estimators,
      trainFraction,
      clip: o.clip ?? null,
      rewardModel: result.rewardModel?.kind ?? o.rewardModel ?? 'logistic',
      rewardLambda: o.rewardLambda ?? 1,
      bootstrapSamples,
      seed,
      assumeUniform: o.assumeUniform ?? false,
    },
    result,
    comparison: target ? compare(result.estimates, target.onPolicy) : [],
  };
}

export async function runSimulation(opts: SimulateRunOptions): Promise<SimulateRunResult> {
  if (!opts.synthetic === !opts.logged) {
    throw new RecsysError('RECSYS_ERR_USAGE', 'simulate either a synthetic environment (--env synthetic) or a logged file (--logged <file|dir>), not both or neither', { flag: '--env' });
  }
  const progress = opts.progress ?? silentProgress;
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  let synthetic: SimulationReport['synthetic'] = null;
  let logged: SimulationReport['logged'] = null;
  let writtenLog: SimulateRunResult['writtenLog'] = null;
  let label = opts.label ?? '';
  if (opts.synthetic) {
    const s = opts.synthetic;
    const baseSeed = s.env.seed ?? s.seed ?? 42;
    const env = makeEnv({ ...s.env, seed: baseSeed });
    const resample = (s.resampleEnv ?? true) && !s.env.probabilities;
    const t1 = performance.now();
    synthetic = runSynthetic({ env: resample ? (r: number) => (r === 0 ? env : makeEnv({ ...s.env, seed: baseSeed + 7919 * r })) : env, horizon: s.horizon, runs: s.runs, policies: s.policies, seed: s.seed, points: s.points, progress });
    timings.simulate = (performance.now() - t1) / 1000;
    if (s.writeLog) {
      writtenLog = await writeSyntheticLog(s.writeLog.path, env, s.writeLog.rows, s.seed ?? 42);
    }
    label ||= `synthetic-${s.policies.map((p) => p.name).join('-')}`;
  } else if (opts.logged) {
    logged = await loggedSection(opts.logged, progress, timings);
    label ||= `${logged.policy.name === 'fixed' ? 'behaviour' : logged.policy.name}-${shortName(opts.logged.path).replace('/', '-')}`;
  }
  timings.total = (performance.now() - t0) / 1000;
  const now = opts.now ?? new Date();
  const runId = newRunId(now, label);
  const report: SimulationReport = {
    format: SIMULATION_REPORT_FORMAT,
    version: 1,
    runId,
    createdAt: now.toISOString(),
    git: await gitInfo(),
    mode: synthetic ? 'synthetic' : 'logged',
    synthetic,
    logged,
    timings,
  };
  const reportsDir = opts.reportsDir === undefined ? 'reports' : opts.reportsDir;
  const paths = reportsDir === null ? null : await writeSimulationReport(report, join(resolve(reportsDir), runId));
  return { report, paths, writtenLog };
}
