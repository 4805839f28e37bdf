import { Flags } from '@oclif/core';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseWeights } from '../cli/flags.js';
import { parseParamList, describeParams } from '../core/models/params.js';
import { modelFactory, modelNames } from '../core/models/registry.js';
import { trainModel, type TrainResult } from '../core/workflows/train.js';

export default class Train extends BaseCommand {
  static override summary = 'Fit a model on the training part of a split and save it as an artifact.';

  static override get description(): string {
    const models = modelNames()
      .map((name) => {
        const f = modelFactory(name);
        return `  ${name}: ${f.description}\n${describeParams(f.schema).map((l) => `      ${l}`).join('\n')}`;
      })
      .join('\n');
    return `Reads interactions from the store, cuts (or reuses) the split given by --split, fits the model on
its training part and writes the artifact (manifest.json + binary tensors + training.json) to --out,
atomically: a crash never leaves a half-written model. \`recsys eval\` then finds the same split
through training.json.

Models and their parameters (set with --param name=value):
${models}`;
  }

  static override examples = [
    '<%= config.bin %> train --model popularity --split random:0.2',
    '<%= config.bin %> train --model popularity --param mode=trending,halfLifeDays=14 --split temporal:0.1',
    '<%= config.bin %> train --model als --param factors=64,iterations=15,alpha=1 --split splits/random_0.2',
    '<%= config.bin %> train --model popularity --weights view=1,click=2,cart=4,purchase=8 --split leave-last:1 --json',
  ];

  static override flags = {
    store: storeFlag,
    model: Flags.string({ char: 'm', description: 'Model to train (see the list above).', required: true }),
    param: Flags.string({ char: 'p', description: 'Model parameter(s) as name=value, comma-separated or repeated.', multiple: true, default: [] }),
    split: Flags.string({
      char: 's',
      description: 'A saved split directory, or a spec: random:FRACTION[:seed=N] | temporal:FRACTION|DATE | leave-last:K | strong:USERS[:foldin=F]. A spec is cut once and saved under --splits-dir.',
      default: 'random:0.2',
    }),
    'splits-dir': Flags.string({ description: 'Where split specs are saved.', default: 'splits' }),
    weights: Flags.string({ description: 'Per-event-type weights for the confidence matrix, e.g. view=1,click=2,cart=4,purchase=8.' }),
    'value-mode': Flags.string({ description: 'How repeated events of a (user, item) pair combine.', options: ['sum', 'max', 'last', 'binary'] }),
    out: Flags.string({ char: 'o', description: 'Output directory for the model (default models/<model>).' }),
    factors: Flags.integer({ description: 'Shorthand for --param factors=N (als, twotower).', helpGroup: 'MODEL' }),
    iterations: Flags.integer({ description: 'Shorthand for --param iterations=N (als).', helpGroup: 'MODEL' }),
    regularization: Flags.string({ description: 'Shorthand for --param regularization=X (als).', helpGroup: 'MODEL' }),
    alpha: Flags.string({ description: 'Shorthand for --param alpha=X (als confidence 1 + alpha·r).', helpGroup: 'MODEL' }),
  };

  async run(): Promise<TrainResult> {
    const { flags } = await this.parse(Train);
    const progress = this.progress(flags.quiet);
    const result = await trainModel({
      store: flags.store,
      model: flags.model,
      params: {
        ...parseParamList(flags.param),
        ...(flags.factors !== undefined ? { factors: flags.factors } : {}),
        ...(flags.iterations !== undefined ? { iterations: flags.iterations } : {}),
        ...(flags.regularization !== undefined ? { regularization: flags.regularization } : {}),
        ...(flags.alpha !== undefined ? { alpha: flags.alpha } : {}),
      },
      split: flags.split,
      splitsDir: flags['splits-dir'],
      matrix: {
        ...(flags.weights ? { weights: parseWeights(flags.weights) } : {}),
        ...(flags['value-mode'] ? { valueMode: flags['value-mode'] as 'sum' | 'max' | 'last' | 'binary' } : {}),
      },
      out: flags.out,
      progress,
    });
    if (!flags.quiet) {
      const s = result.split;
      this.say(`split   ${s.dir}${s.reused ? ' (reused)' : ''}: ${s.trainPairs.toLocaleString()} train / ${s.testPairs.toLocaleString()} test pairs, ${s.users.toLocaleString()} users × ${s.items.toLocaleString()} items`);
      this.say(`fit     ${result.model} in ${result.fit.seconds.toFixed(2)} s`);
      this.say(`saved   ${result.modelDir}`);
      this.say(`next    recsys eval --model ${result.modelDir}`);
    }
    return result;
  }
}
