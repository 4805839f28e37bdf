import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base.js';
import { RecsysError } from '../core/errors.js';
import { parseParamList } from '../core/models/params.js';
import { ESTIMATORS, parseEstimators } from '../core/bandits/estimators/core.js';
import { isNamedPolicy, NAMED_POLICIES, POLICY_INFO } from '../core/bandits/policies/index.js';
import { parseArms, parsePolicies, parseRange, splitPolicyParams } from '../core/bandits/parse.js';
import { runSimulation, type SimulateRunResult } from '../core/bandits/workflow.js';

function num(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v)) throw new RecsysError('RECSYS_ERR_USAGE', `${flag} expects a number, got '${text}'`, { flag });
  return v;
}

export default class Simulate extends BaseCommand {
  static override summary = 'Evaluate bandit policies offline on logged data, or simulate them online against a synthetic bandit.';

  static override get description(): string {
    const policies = NAMED_POLICIES.map((p) => `  ${p}: ${POLICY_INFO[p].description}`).join('\n');
    return `Two modes, one report (reports/<run-id>/report.json, report.md, report.html with charts):

Logged (off-policy evaluation): --logged <file|dir> reads logged bandit feedback — an Open Bandit
Dataset campaign folder (e.g. ../shared/datasets/obd-small/random/men), or any CSV/TSV/JSONL with an
action, a reward and (for ips/snips/dr) a propensity column — and estimates how --policy would have
done with the estimators of --estimator (${ESTIMATORS.join(', ')}), each with a bootstrap 95% CI and
its effective sample size. Learning policies train on the first --train-fraction of the rows
(default 0.5) and are evaluated, frozen, on the rest; replay lets them keep learning on the rows
they match. --target-log <other log> evaluates that log's behaviour policy instead (its action
distribution estimated from its propensities) and compares every estimate with its observed CTR.

Synthetic (online simulation): --env synthetic runs --policies against a Bernoulli bandit with known
arm probabilities (--arms) for --horizon steps, --runs times with different seeds, and plots mean
cumulative regret and CTR with 95% bands. Unless the probabilities are given (--arms mf=0.03,…) or
--fixed-env is set, every run draws its own probabilities from --prob-range, so the curves average
over environments too. --write-log also writes a uniformly random log of the same
environment, which --logged can then evaluate against a known truth.

Policies (parameters with --param name=value or policy.name=value):
${policies}

Definitions and an A/B test over model arms: docs/bandits.md.`;
  }

  static override examples = [
    '<%= config.bin %> simulate --logged ../shared/datasets/obd-small/random/men --policy random --estimator ips,snips,dr',
    '<%= config.bin %> simulate --logged ../shared/datasets/obd-small/random/men --target-log ../shared/datasets/obd-small/bts/men --estimator ips,snips,dm,dr',
    '<%= config.bin %> simulate --logged ../shared/datasets/obd-small/random/women --policy ts --estimator replay,ips,dr --train-fraction 0.5',
    '<%= config.bin %> simulate --env synthetic --arms 5 --horizon 10000 --runs 20 --policies ts,ucb,egreedy',
    '<%= config.bin %> simulate --env synthetic --arms mf=0.031,content=0.027,two_tower=0.035 --write-log ab.csv --log-rows 30000',
    '<%= config.bin %> simulate --logged ab.csv --policy ts --estimator replay,ips,snips,dr --json',
  ];

  static override flags = {
    env: Flags.string({ description: 'Simulate online against a synthetic environment.', options: ['synthetic'], exclusive: ['logged'] }),
    logged: Flags.string({ char: 'l', description: 'Logged bandit data: an OBD campaign folder, or a CSV/TSV/JSONL file (optionally .gz).', exclusive: ['env'] }),
    // synthetic
    arms: Flags.string({ description: 'Synthetic arms: a count (5), names (mf,content,two_tower) or names with probabilities (mf=0.03,content=0.02).', default: '10' }),
    'fixed-env': Flags.boolean({ description: 'Keep the generated arm probabilities the same in every run (default: each run draws its own).', default: false }),
    'prob-range': Flags.string({ description: 'Range of the generated arm probabilities, lo,hi.', default: '0,1' }),
    segments: Flags.integer({ description: 'User segments of a contextual synthetic environment (arm probabilities per segment).', default: 1, min: 1 }),
    horizon: Flags.integer({ char: 't', description: 'Steps per synthetic run.', default: 10000, min: 10 }),
    runs: Flags.integer({ char: 'r', description: 'Seeded runs per policy (curves show mean ± 95% band).', default: 20, min: 1 }),
    policies: Flags.string({ description: 'Policies to simulate, comma-separated; inline params with colons (egreedy:epsilon=0.05).', default: 'ts,ucb,egreedy' }),
    'write-log': Flags.string({ description: 'Also write a uniformly random log of the synthetic environment to this CSV.' }),
    'log-rows': Flags.integer({ description: 'Rows of the --write-log log.', default: 10000, min: 1 }),
    // logged
    policy: Flags.string({ char: 'p', description: `Policy to evaluate on the log (${NAMED_POLICIES.join('|')}).` }),
    'target-log': Flags.string({ description: "Evaluate this log's behaviour policy (same campaign) and compare with its observed CTR." }),
    'target-method': Flags.string({ description: 'How the target log\'s action distribution is estimated.', options: ['harmonic', 'frequency'] }),
    estimator: Flags.string({ char: 'e', description: `Estimators, comma-separated (${ESTIMATORS.join(',')}).`, default: 'replay,ips,snips,dm,dr' }),
    'train-fraction': Flags.string({ description: 'Share of the log (from its start) used only to train a learning policy (default 0.5; 0 for random/target policies).' }),
    clip: Flags.string({ description: 'Clip importance weights at this value.' }),
    'reward-model': Flags.string({ description: 'Per-action reward model of DM and DR.', options: ['logistic', 'ridge'], default: 'logistic' }),
    'dm-lambda': Flags.string({ description: 'L2 penalty of the reward model.', default: '1' }),
    format: Flags.string({ description: 'Log format (default: detected from the path and columns).', options: ['obd', 'csv', 'tsv', 'jsonl'] }),
    'action-column': Flags.string({ description: 'Column with the action (arm) shown.' }),
    'reward-column': Flags.string({ description: 'Column with the reward.' }),
    'propensity-column': Flags.string({ description: "Column with the logging policy's probability of the action." }),
    'position-column': Flags.string({ description: 'Column with the slate position (1-based).' }),
    'context-columns': Flags.string({ description: 'Context columns, comma-separated (default: every other column).' }),
    'assume-uniform': Flags.boolean({ description: 'The log has no propensities but arms were assigned uniformly: use 1/arms.', default: false }),
    // shared
    param: Flags.string({ description: 'Policy parameter(s): name=value (all policies that have it) or policy.name=value.', multiple: true, default: [] }),
    bootstrap: Flags.integer({ description: 'Bootstrap resamples for the 95% confidence intervals.', default: 1000, min: 0 }),
    seed: Flags.integer({ description: 'Seed of environments, policies and the bootstrap.', default: 42 }),
    out: Flags.string({ char: 'o', description: 'Parent directory of report runs.', default: 'reports' }),
    label: Flags.string({ description: 'Label appended to the run id.' }),
  };

  async run(): Promise<SimulateRunResult> {
    const { flags } = await this.parse(Simulate);
    if (!flags.env && !flags.logged) {
      throw new RecsysError('RECSYS_ERR_USAGE', 'say what to simulate: --logged <file|dir> for off-policy evaluation of logged data, or --env synthetic for an online simulation', { flag: '--logged' });
    }
    const params = parseParamList(flags.param);
    const progress = this.progress(flags.quiet);
    let result: SimulateRunResult;
    if (flags.env === 'synthetic') {
      const arms = parseArms(flags.arms);
      result = await runSimulation({
        synthetic: {
          env: { arms: arms.arms, labels: arms.labels, probabilities: arms.probabilities, range: parseRange(flags['prob-range']), segments: flags.segments, seed: flags.seed },
          resampleEnv: !flags['fixed-env'],
          horizon: flags.horizon,
          runs: flags.runs,
          policies: parsePolicies(flags.policies, params),
          seed: flags.seed,
          writeLog: flags['write-log'] ? { path: flags['write-log'], rows: flags['log-rows'] } : undefined,
        },
        reportsDir: flags.out,
        label: flags.label,
        progress,
      });
    } else {
      const logged = flags.logged as string;
      const policyName = flags.policy;
      if (!flags['target-log'] && !policyName) {
        throw new RecsysError('RECSYS_ERR_USAGE', `give the policy to evaluate: --policy ${NAMED_POLICIES.join('|')} (or --target-log <log> for another log's behaviour policy)`, { flag: '--policy' });
      }
      if (policyName && !isNamedPolicy(policyName)) throw new RecsysError('RECSYS_ERR_USAGE', `unknown policy '${policyName}'. Policies: ${NAMED_POLICIES.join(', ')}.`, { flag: '--policy' });
      const policyParams = policyName ? (splitPolicyParams(params, [policyName]).get(policyName) ?? {}) : {};
      result = await runSimulation({
        logged: {
          path: logged,
          read: {
            format: flags.format as 'obd' | 'csv' | 'tsv' | 'jsonl' | undefined,
            actionColumn: flags['action-column'],
            rewardColumn: flags['reward-column'],
            propensityColumn: flags['propensity-column'],
            positionColumn: flags['position-column'],
            contextColumns: flags['context-columns']?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
          },
          policy: policyName && isNamedPolicy(policyName) ? { name: policyName, params: policyParams } : undefined,
          targetLog: flags['target-log'],
          targetMethod: flags['target-method'] as 'harmonic' | 'frequency' | undefined,
          estimators: parseEstimators(flags.estimator),
          trainFraction: num(flags['train-fraction'], '--train-fraction'),
          clip: num(flags.clip, '--clip'),
          rewardModel: flags['reward-model'] as 'logistic' | 'ridge',
          rewardLambda: num(flags['dm-lambda'], '--dm-lambda'),
          bootstrapSamples: flags.bootstrap,
          seed: flags.seed,
          assumeUniform: flags['assume-uniform'],
        },
        reportsDir: flags.out,
        label: flags.label,
        progress,
      });
    }
    if (!this.jsonEnabled()) this.printSummary(result);
    return result;
  }

  private printSummary(result: SimulateRunResult): void {
    const r = result.report;
    const f = (v: number, d = 5): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
    const table = (header: string[], rows: string[][]): void => {
      const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
      this.log(chalk.bold(header.map((h, c) => (c === 0 ? h.padEnd(widths[c]) : h.padStart(widths[c]))).join('  ')));
      for (const row of rows) this.log(row.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  '));
    };
    if (r.synthetic) {
      const s = r.synthetic;
      this.log(`env     ${s.env.arms} arms${s.env.segments > 1 ? ` × ${s.env.segments} segments` : ''}, best arm p* = ${f(s.env.optimalValue, 4)}; ${s.runs} runs × ${s.horizon.toLocaleString()} steps`);
      this.log('');
      table(
        ['policy', 'regret', '95% CI', 'growth exp', 'mean reward', 'steps/s'],
        s.policies.map((p) => [p.label, f(p.finalRegret.mean, 1), `[${f(p.finalRegret.ci95[0], 1)}, ${f(p.finalRegret.ci95[1], 1)}]`, f(p.growthExponent, 2), f(p.finalCtr, 4), Math.round(p.stepsPerSecond).toLocaleString()]),
      );
      if (result.writtenLog) this.log(`\nlog     ${result.writtenLog.path}: ${result.writtenLog.rows.toLocaleString()} rows of a uniformly random policy, mean reward ${f(result.writtenLog.meanReward, 4)}`);
    }
    if (r.logged) {
      const l = r.logged;
      this.log(`log     ${l.log.path}: ${l.log.rows.toLocaleString()} rows, ${l.log.arms} arms, ${l.log.positions} position(s)${l.log.uniform ? ', uniform logging' : ''}`);
      this.log(`policy  ${l.policy.label}; ${l.result.trainRows.toLocaleString()} rows to train, ${l.result.evalRows.toLocaleString()} evaluated`);
      this.log('');
      const rows = l.result.estimates.map((e) => [e.estimator, f(e.value), `[${f(e.ci95[0])}, ${f(e.ci95[1])}]`, Math.round(e.ess).toLocaleString()]);
      rows.push(['logging policy (observed)', f(l.result.logged.value), `[${f(l.result.logged.ci95[0])}, ${f(l.result.logged.ci95[1])}]`, '']);
      if (l.target) rows.push(['target policy (observed)', f(l.target.onPolicy.value), `[${f(l.target.onPolicy.ci95[0])}, ${f(l.target.onPolicy.ci95[1])}]`, '']);
      table(['estimator', 'value', '95% CI', 'ESS'], rows);
      for (const w of [...l.result.warnings, ...l.log.notes]) this.log(chalk.yellow(`\nwarning ${w}`));
    }
    if (result.paths) this.log(`\nreport  ${result.paths.html}`);
  }
}
