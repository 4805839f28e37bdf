import { existsSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseWeights } from '../cli/flags.js';
import { RecsysError } from '../core/errors.js';
import { openStore } from '../core/data/store.js';
import { AlsModel } from '../core/models/als/als.js';
import { exportForSparkAls, type SparkExportResult } from '../core/scale/spark.js';

export default class Export extends BaseCommand {
  static override summary = 'Export interactions for training on another engine (Spark MLlib ALS).';

  static override description = `--for spark-als writes the store's interactions, aggregated to one value per (user, item)
pair exactly as \`recsys train\` builds its matrix (event weights, --value-mode), as Parquet that Spark's
ALS reads directly:
  <out>/interactions/part=<user mod P>/*.parquet   user: int, item: int, rating: float
  <out>/user_ids.parquet, <out>/item_ids.parquet   the int ↔ external id maps
  <out>/spark-als.json                             counts, weights, value mode
With --model, the users and items are numbered by that ALS artifact's id maps, so factors Spark trains
line up with it. Train on a cluster (docs/scale.md has the snippet), then bring the factors back with
\`recsys import-factors --from spark-als <model>/userFactors <model>/itemFactors --maps <out>\`.`;

  static override examples = [
    '<%= config.bin %> export --for spark-als --store shop.duckdb --out s3-staging/shop --weights view=1,click=2,cart=4,purchase=8',
    '<%= config.bin %> export --for spark-als --model models/als --out export/shop --partitions 64 --json',
  ];

  static override flags = {
    for: Flags.string({ description: 'Target engine.', options: ['spark-als'], required: true }),
    store: storeFlag,
    model: Flags.string({ char: 'm', description: 'ALS artifact whose id maps number the users and items (default: the store\'s sorted ids).' }),
    out: Flags.string({ char: 'o', description: 'Output folder.', required: true }),
    weights: Flags.string({ description: 'Event-type weights, e.g. view=1,click=2,cart=4,purchase=8 (default: the store\'s).' }),
    'value-mode': Flags.string({ description: 'How repeated events of a pair combine.', options: ['sum', 'max', 'last', 'binary'], default: 'sum' }),
    partitions: Flags.integer({ description: 'Number of part= folders (users spread by user mod P).', default: 8 }),
  };

  async run(): Promise<SparkExportResult> {
    const { flags } = await this.parse(Export);
    if (!existsSync(flags.store)) {
      throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `store ${flags.store} does not exist: pass --store <file> (or run \`recsys ingest\` first)`, { flag: '--store', file: flags.store });
    }
    let idMaps: { users: AlsModel['userIds'] & object; items: AlsModel['itemIds'] & object } | null = null;
    if (flags.model) {
      const model = await AlsModel.load(flags.model);
      idMaps = { users: model.userIds!, items: model.itemIds! };
    }
    const store = await openStore(flags.store);
    try {
      const result = await exportForSparkAls(store, {
        outDir: flags.out,
        weights: parseWeights(flags.weights),
        valueMode: flags['value-mode'] as 'sum' | 'max' | 'last' | 'binary',
        partitions: flags.partitions,
        idMaps,
      });
      this.say(`wrote   ${result.outDir} in ${result.seconds.toFixed(2)} s: ${result.pairs.toLocaleString()} pairs, ${result.users.toLocaleString()} users × ${result.items.toLocaleString()} items, ${result.partitions} partitions, ${(result.bytes / 2 ** 20).toFixed(1)} MiB`);
      if (result.droppedPairs > 0) this.say(`note    ${result.droppedPairs.toLocaleString()} pairs left out: their user or item is not in ${flags.model}'s id maps`);
      this.say(`next    train with Spark ALS (docs/scale.md), then: recsys import-factors --from spark-als <model>/userFactors <model>/itemFactors --maps ${result.outDir} --out models/spark-als`);
      return result;
    } finally {
      store.close();
    }
  }
}
