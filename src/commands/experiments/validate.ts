import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { loadExperimentsFile, type ExperimentsConfig } from '../../core/experiments/config.js';

export default class ExperimentsValidate extends BaseCommand {
  static override summary = 'Check an experiments file (schema, arms, shares, canary) without starting a server.';

  static override examples = ['<%= config.bin %> experiments validate experiments.json --models als,popularity,content'];

  static override args = { file: Args.string({ description: 'The experiments JSON file.', required: true }) };

  static override flags = {
    models: Flags.string({ description: 'Comma-separated names of the models the server will serve (arms must be among them).' }),
  };

  async run(): Promise<ExperimentsConfig> {
    const { args, flags } = await this.parse(ExperimentsValidate);
    const models = flags.models ? flags.models.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;
    const config = loadExperimentsFile(args.file, models);
    for (const x of config.experiments) {
      this.say(`${x.id}: ${x.enabled ? 'enabled' : 'disabled'}, ${x.allocation.mode} over ${x.arms.join(', ')} (control ${x.control})${x.canary ? `, canary ${x.canary.arm} ${x.canary.steps.map((s) => `${s * 100}%`).join(' → ')}` : ''}`);
    }
    this.say(`${args.file} is valid`);
    return config;
  }
}
