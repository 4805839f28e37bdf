import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { RecsysError } from '../core/errors.js';
import { importSparkAlsFactors } from '../core/scale/spark.js';

export interface ImportFactorsResult {
  out: string;
  users: number;
  items: number;
  factors: number;
  seconds: number;
}

export default class ImportFactors extends BaseCommand {
  static override summary = 'Turn factors trained elsewhere (Spark MLlib ALS) into a recsys ALS artifact.';

  static override description = `Reads Spark's ALSModel factor folders (written by model.save(path) as <path>/userFactors and
<path>/itemFactors: Parquet part files with id: int, features: array<float>; spark.ml 1.6 onwards), maps
the int ids back to your user and product ids through the maps \`recsys export --for spark-als\` wrote
(--maps), and saves an ALS artifact that \`recsys eval\`, \`recsys serve\` and \`recsys precompute\` use like
one trained here. Pass Spark's regParam and alpha so real-time fold-in uses the same settings.`;

  static override examples = [
    '<%= config.bin %> import-factors --from spark-als spark-model/userFactors spark-model/itemFactors --maps export/shop --out models/spark-als',
    '<%= config.bin %> import-factors --from spark-als u/ i/ --maps export/shop --out models/spark-als --regularization 0.05 --alpha 40 --als-wr',
  ];

  static override args = {
    userFactors: Args.string({ description: 'Spark\'s userFactors folder (or one Parquet file).', required: true }),
    itemFactors: Args.string({ description: 'Spark\'s itemFactors folder (or one Parquet file).', required: true }),
  };

  static override flags = {
    from: Flags.string({ description: 'Where the factors come from.', options: ['spark-als'], required: true }),
    maps: Flags.string({ description: 'Folder written by `recsys export --for spark-als` (user_ids / item_ids); without it, ids stay Spark\'s ints.' }),
    out: Flags.string({ char: 'o', description: 'Artifact directory to write.', required: true }),
    regularization: Flags.string({ description: 'Spark\'s regParam (kept for fold-in).' }),
    alpha: Flags.string({ description: 'Spark\'s alpha (kept for fold-in).' }),
    'als-wr': Flags.boolean({ description: 'Spark scales λ by each row\'s interaction count (ALS-WR); keep that for fold-in.', default: true, allowNo: true }),
  };

  async run(): Promise<ImportFactorsResult> {
    const { args, flags } = await this.parse(ImportFactors);
    const t0 = performance.now();
    const params: Record<string, unknown> = { regularizationScaling: flags['als-wr'] ? 'als-wr' : 'plain' };
    for (const name of ['regularization', 'alpha'] as const) {
      const text = flags[name];
      if (text === undefined) continue;
      const x = Number(text);
      if (!Number.isFinite(x) || x < 0) throw new RecsysError('RECSYS_ERR_USAGE', `--${name} must be a non-negative number, got '${text}'`, { flag: `--${name}` });
      params[name] = x;
    }
    const model = await importSparkAlsFactors({ userFactors: args.userFactors, itemFactors: args.itemFactors, maps: flags.maps ?? null, params });
    await model.save(flags.out);
    const result = { out: flags.out, users: model.nUsers, items: model.nItems, factors: model.factors, seconds: (performance.now() - t0) / 1000 };
    this.say(`wrote   ${flags.out}: ${result.users.toLocaleString()} users × ${result.items.toLocaleString()} items × ${result.factors} factors in ${result.seconds.toFixed(2)} s`);
    this.say(`next    recsys eval --model ${flags.out} --split <split dir>   ·   recsys serve --model ${flags.out}`);
    return result;
  }
}
