import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../../cli/base.js';
import { withExperimentStore } from '../../core/experiments/connect.js';
import { exportExperimentLog, type ExportResult } from '../../core/experiments/export.js';

export default class ExperimentsExport extends BaseCommand {
  static override summary = 'Write an experiment\'s impressions and rewards as a logged-bandit file for `recsys simulate --logged`.';

  static override description = `One row per served list: timestamp, request_id, arm (the model that served it), propensity
(the probability the assignment gave that arm for that request) and reward (1 when the list got a
click — or, with --reward conversion, a conversion — within the attribution window). This is the
generic format \`recsys simulate --logged\` reads, so the served policy and other allocations can be
evaluated offline with IPS/SNIPS/DR on the logged propensities. User ids are not exported.`;

  static override examples = [
    '<%= config.bin %> experiments export --experiment models-2026-11 --out logs/models.csv',
    '<%= config.bin %> simulate --logged logs/models.csv --target-log logs/models.csv --estimator ips,snips',
    '<%= config.bin %> simulate --logged logs/models.csv --policy ts --estimator ips,snips,dr',
  ];

  static override flags = {
    experiment: Flags.string({ char: 'e', description: 'Experiment id.', required: true }),
    out: Flags.string({ char: 'o', description: 'Output file (.csv, or .jsonl for JSON Lines).', required: true }),
    reward: Flags.string({ description: 'Which outcome is the reward.', options: ['click', 'conversion'], default: 'click' }),
    'redis-url': Flags.string({ description: 'Redis the servers use (redis://… or redis-cluster://…).', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379' }),
    prefix: Flags.string({ description: 'Key prefix of the servers (`recsys serve --prefix`).', default: 'recsys' }),
  };

  async run(): Promise<ExportResult> {
    const { flags } = await this.parse(ExperimentsExport);
    const out = resolve(flags.out);
    const result = await withExperimentStore(flags['redis-url'], flags.prefix, (store) => exportExperimentLog(store, flags.experiment, out, { reward: flags.reward as 'click' | 'conversion' }));
    this.say(`wrote ${result.rows.toLocaleString('en-US')} rows (${result.rewards.toLocaleString('en-US')} with reward=1, mean ${result.meanReward.toFixed(5)}) to ${result.path}`);
    for (const [arm, a] of Object.entries(result.perArm)) this.say(`  ${arm}: ${a.rows.toLocaleString('en-US')} rows, mean reward ${a.meanReward.toFixed(5)}`);
    if (result.orphanRewards > 0) this.say(`  ${result.orphanRewards} rewards skipped: their impressions are no longer in the log (trimmed or purged)`);
    this.say(`evaluate: recsys simulate --logged ${flags.out} --target-log ${flags.out} --estimator ips,snips`);
    return result;
  }
}
