import { Flags } from '@oclif/core';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseWeights } from '../cli/flags.js';
import { parseParamList, describeParams } from '../core/models/params.js';
import { modelFactory, modelNames } from '../core/models/registry.js';
import { addNewItemsToContentModel, trainModel, type IncrementalResult, type TrainResult } from '../core/workflows/train.js';
import { RecsysError } from '../core/errors.js';
import { parseMemberWeights, type EnsembleFitReport } from '../core/models/ensemble/ensemble.js';
import type { TwoTowerFitReport } from '../core/models/twotower/model.js';

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
    '<%= config.bin %> train --model twotower --split random:0.2 --out models/twotower',
    '<%= config.bin %> train --model twotower --param loss=bce,batchSize=2048,learningRate=0.001 --split random:0.2 --out models/twotower-bce',
    '<%= config.bin %> train --model twotower --warm-start models/twotower --param steps=500 --split random:0.2 --out models/twotower',
    '<%= config.bin %> train --model ensemble --members models/als,models/content,models/popularity --member-weights als=0.4,content=0.2,popularity=0.4 --split random:0.2',
    '<%= config.bin %> train --model ensemble --members models/als,models/content,models/popularity --learn-weights --rules rules.json --split random:0.2 --out models/ensemble-learned',
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
    incremental: Flags.boolean({ description: 'content only: add products ingested since training to the model in --out, without refitting (cold-start items become recommendable).', default: false }),
    factors: Flags.integer({ description: 'Shorthand for --param factors=N (als).', helpGroup: 'MODEL' }),
    iterations: Flags.integer({ description: 'Shorthand for --param iterations=N (als).', helpGroup: 'MODEL' }),
    regularization: Flags.string({ description: 'Shorthand for --param regularization=X (als).', helpGroup: 'MODEL' }),
    alpha: Flags.string({ description: 'Shorthand for --param alpha=X (als confidence 1 + alpha·r).', helpGroup: 'MODEL' }),
    members: Flags.string({
      description: 'ensemble: member artifact directories, comma-separated or repeated, each trained on the same --split (default: the ensemble trains popularity, als and content itself).',
      multiple: true,
      helpGroup: 'ENSEMBLE',
    }),
    'member-weights': Flags.string({
      description: 'ensemble: blend weights by member name, e.g. als=0.4,content=0.2,popularity=0.4 (normalised to sum 1; default: equal). Named --member-weights because --weights sets event-type weights.',
      helpGroup: 'ENSEMBLE',
      exclusive: ['learn-weights'],
    }),
    'learn-weights': Flags.boolean({ description: 'ensemble: learn the weights on a validation split carved from train (maximises NDCG@10); they are saved and printed.', helpGroup: 'ENSEMBLE' }),
    'warm-start': Flags.string({
      description: 'twotower: continue training this saved model on the current interactions (new users/items get new rows; old rows are kept). Bound the work with --param steps=N.',
      helpGroup: 'MODEL',
    }),
    backend: Flags.string({
      description: 'twotower: where the dense layers run: auto (blas, else wasm, else cpu), blas (native OpenBLAS kernel, built when libopenblas-dev is installed), wasm (tfjs SIMD), cpu (pure JS), webgpu (needs a GPU; fails clearly without one).',
      options: ['auto', 'blas', 'wasm', 'cpu', 'webgpu'],
      helpGroup: 'MODEL',
    }),
    rules: Flags.string({ description: 'ensemble: JSON file {"rules": {...}, "router": {...}} with the business rules and cold-start router settings (docs/ensemble.md).', helpGroup: 'ENSEMBLE' }),
  };

  async run(): Promise<TrainResult | IncrementalResult> {
    const { flags } = await this.parse(Train);
    const progress = this.progress(flags.quiet);
    if (flags.incremental) {
      if (flags.model !== 'content') {
        throw new RecsysError('RECSYS_ERR_USAGE', `--incremental adds new products to a trained content model without refitting; --model ${flags.model} does not support it (retrain instead).`, { flag: '--incremental' });
      }
      const inc = await addNewItemsToContentModel({ store: flags.store, modelDir: flags.out ?? 'models/content', progress });
      this.say(`added   ${inc.added.toLocaleString()} new products (${inc.itemsBefore.toLocaleString()} → ${inc.itemsAfter.toLocaleString()} items) in ${inc.seconds.toFixed(2)} s`);
      this.say(`saved   ${inc.modelDir}`);
      return inc;
    }
    const result = await trainModel({
      store: flags.store,
      model: flags.model,
      params: {
        ...parseParamList(flags.param),
        ...(flags.factors !== undefined ? { factors: flags.factors } : {}),
        ...(flags.iterations !== undefined ? { iterations: flags.iterations } : {}),
        ...(flags.regularization !== undefined ? { regularization: flags.regularization } : {}),
        ...(flags.alpha !== undefined ? { alpha: flags.alpha } : {}),
        ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
      },
      ...(flags['warm-start'] ? { warmStart: flags['warm-start'] } : {}),
      split: flags.split,
      splitsDir: flags['splits-dir'],
      matrix: {
        ...(flags.weights ? { weights: parseWeights(flags.weights) } : {}),
        ...(flags['value-mode'] ? { valueMode: flags['value-mode'] as 'sum' | 'max' | 'last' | 'binary' } : {}),
      },
      out: flags.out,
      progress,
      ...(flags.members || flags['member-weights'] || flags['learn-weights'] || flags.rules
        ? {
            ensemble: {
              members: (flags.members ?? []).flatMap((m) => m.split(',')).map((m) => m.trim()).filter((m) => m !== ''),
              ...(flags['member-weights'] ? { weights: parseMemberWeights(flags['member-weights']) } : {}),
              ...(flags['learn-weights'] ? { learnWeights: true } : {}),
              ...(flags.rules ? { rulesFile: flags.rules } : {}),
            },
          }
        : {}),
    });
    if (!flags.quiet) {
      const s = result.split;
      this.say(`split   ${s.dir}${s.reused ? ' (reused)' : ''}: ${s.trainPairs.toLocaleString()} train / ${s.testPairs.toLocaleString()} test pairs, ${s.users.toLocaleString()} users × ${s.items.toLocaleString()} items`);
      this.say(`fit     ${result.model} in ${result.fit.seconds.toFixed(2)} s`);
      if (result.model === 'ensemble') {
        const f = result.fit as EnsembleFitReport;
        const w = Object.entries(f.weights).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' ');
        const how = f.learned ? `learned on ${f.learned.users.toLocaleString()} validation users: ndcg@10 ${f.learned.ndcg.toFixed(4)} (equal weights ${f.learned.uniformNdcg.toFixed(4)})` : 'given';
        this.say(`weights ${w} (${f.normalization}; ${how})`);
      }
      if (result.model === 'twotower') {
        const f = result.fit as TwoTowerFitReport;
        const val = f.validation ? `, validation ndcg@10 ${f.validation.best.toFixed(4)} (best epoch ${f.bestEpoch})` : '';
        this.say(`towers  ${f.loss} loss on ${f.backend}${f.threads > 1 ? ` × ${f.threads} threads` : ''}: ${f.steps.toLocaleString()} steps, ${f.epochs} epochs, ${Math.round(f.examplesPerSecond).toLocaleString()} examples/s, ${f.msPerStep.toFixed(0)} ms/step${val}`);
        if (f.fallbackReason) this.say(`note    ${f.fallbackReason}`);
        if (f.warmStart) this.say(`warm    continued from ${flags['warm-start']}: +${f.warmStart.newUsers.toLocaleString()} users, +${f.warmStart.newItems.toLocaleString()} items`);
      }
      this.say(`saved   ${result.modelDir}`);
      this.say(`next    recsys eval --model ${result.modelDir}`);
    }
    return result;
  }
}
