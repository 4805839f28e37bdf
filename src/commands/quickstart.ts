import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base.js';
import { runQuickstart, type QuickstartResult } from '../core/workflows/quickstart.js';

export default class Quickstart extends BaseCommand {
  static override summary = 'Run the whole pipeline end to end on a generated shop: synth → ingest → split → train → eval → report.';

  static override description = `Needs no data and no network. It generates a small synthetic e-commerce dataset (2,000 users,
500 products, 60,000 view/click/cart/purchase events), ingests it into a DuckDB store, cuts a random
80/20 split (seed 42), trains popularity and ALS, evaluates them on the same users with confidence
intervals and a paired test, and writes reports/…/report.html. Everything lands in --dir, which is
replaced on each run. Then try the same steps one by one on your own data (see the README).`;

  static override examples = ['<%= config.bin %> quickstart', '<%= config.bin %> quickstart --dir /tmp/rs --scale 5', '<%= config.bin %> quickstart --json'];

  static override flags = {
    dir: Flags.string({ description: 'Working directory (replaced).', default: 'recsys-quickstart' }),
    seed: Flags.integer({ description: 'Seed for the data and the split.', default: 42 }),
    scale: Flags.string({ description: 'Multiply the dataset size.', default: '1' }),
  };

  async run(): Promise<QuickstartResult> {
    const { flags } = await this.parse(Quickstart);
    const result = await runQuickstart({ dir: flags.dir, seed: flags.seed, scale: Number(flags.scale), progress: this.progress(flags.quiet) });
    const c = result.data.counts;
    this.say(`${chalk.bold('1. data')}    ${c.users.toLocaleString()} users, ${c.products.toLocaleString()} products, ${c.interactions.toLocaleString()} events → ${result.data.outDir}`);
    this.say(`${chalk.bold('2. ingest')}  ${result.ingest.interactions.toLocaleString()} interactions in ${result.ingest.seconds.toFixed(2)} s`);
    for (const m of result.models) {
      this.say(`${chalk.bold('3. train')}   ${m.model.padEnd(10)} ${m.fit.seconds.toFixed(2)} s → ${m.modelDir}`);
    }
    const { report, paths } = result.evaluation;
    const k = report.models[0]?.evaluation.mainK ?? 10;
    this.say(`${chalk.bold('4. eval')}    on ${report.models[0]?.evaluation.users.evaluated.toLocaleString()} test users`);
    for (const m of report.models) {
      const e = m.evaluation.metrics;
      this.say(`            ${m.name.padEnd(10)} ndcg@${k} ${e[`ndcg@${k}`].mean.toFixed(4)}  recall@${k} ${e[`recall@${k}`].mean.toFixed(4)}  map@${k} ${e[`map@${k}`].mean.toFixed(4)}`);
    }
    this.say(`${chalk.bold('5. report')}  ${paths.html}`);
    this.say(`done in ${result.seconds.toFixed(1)} s`);
    return result;
  }
}
