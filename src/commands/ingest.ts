import { Args, Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseWeights } from '../cli/flags.js';
import { RecsysError } from '../core/errors.js';
import { DATASET_FORMATS, FILE_FORMATS, ingestPath, type IngestPathResult } from '../core/workflows/ingest.js';
import { ingestStream, type StreamIngestResult } from '../core/workflows/ingest-stream.js';

export default class Ingest extends BaseCommand {
  static override summary = 'Load interactions, products or users into the store (CSV/TSV/JSONL/Parquet/Arrow, MovieLens, synthetic).';

  static override description = `A file feeds one table (--kind, default interactions); its format comes from the extension
unless --format says otherwise, and the delimiter of CSV/TSV is sniffed. Columns are found by
common names (user_id/userId/customer_id…, item_id/product_id/movieId…, rating/value, timestamp/time,
event/type) or mapped with --user-col, --item-col, --value-col, --time-col, --type-col.
A folder is a known dataset: --format movielens-100k|movielens-1m|movielens-20m reads ratings,
movie titles/genres and user demographics; --format synth reads \`recsys datasets synth\` output.

Bad rows (missing ids, unparsable numbers or timestamps, wrong field count) are never dropped
silently: they are counted and the first --max-rejects are listed with their line numbers and
reasons. --strict fails on any bad row and writes nothing. Ingesting the same file again changes
nothing (a changed file replaces its earlier rows); --append adds it again.
Event-type weights (--weights view=1,click=2,cart=4,purchase=8) are remembered in the store and used
when the confidence matrix is built; the stored events stay raw.

--from-stream (no path) folds the events \`recsys serve\` received (POST /v1/events appends them to the
Redis Stream <prefix>:<stream-key>) into the interactions table, one row per event (value 1, the event
type, its time), for the next \`recsys train\`. It reads from the store's checkpoint for that stream in
batches and commits each batch together with the advanced checkpoint, so running it again (or after a
crash) never adds an event twice; users and items the store has not seen are registered. --trim then
drops the folded-in entries from the stream (only when this store is the stream's one consumer).`;

  static override examples = [
    '<%= config.bin %> ingest ../shared/datasets/ml-100k --format movielens-100k',
    '<%= config.bin %> ingest events.csv --type-col event --weights view=1,click=2,cart=4,purchase=8',
    '<%= config.bin %> ingest clicks.tsv --user-col visitor --item-col sku --time-col ts --strict',
    '<%= config.bin %> ingest catalog.parquet --kind products',
    '<%= config.bin %> ingest data/quick --format synth --json',
    '<%= config.bin %> ingest --from-stream --redis-url redis://127.0.0.1:6379 --prefix recsys',
    '<%= config.bin %> ingest --from-stream --trim --json',
  ];

  static override args = {
    path: Args.string({ description: 'File or dataset folder to ingest (none with --from-stream).', required: false }),
  };

  static override flags = {
    store: storeFlag,
    format: Flags.string({ char: 'f', description: 'Dataset folder format, or file format (default: from the extension).', options: [...DATASET_FORMATS, ...FILE_FORMATS] }),
    kind: Flags.string({ char: 'k', description: 'Which table a single file feeds.', options: ['interactions', 'products', 'users'], default: 'interactions' }),
    'user-col': Flags.string({ description: 'Column holding the user id.' }),
    'item-col': Flags.string({ description: 'Column holding the item/product id.' }),
    'value-col': Flags.string({ description: 'Column holding the value (rating, quantity…).' }),
    'time-col': Flags.string({ description: 'Column holding the timestamp (unix s/ms/µs or ISO-8601).' }),
    'type-col': Flags.string({ description: 'Column holding the event type (view, click, cart, purchase…).' }),
    type: Flags.string({ description: 'Event type for every row when there is no type column.' }),
    'id-col': Flags.string({ description: 'Products/users: column holding the id.' }),
    delimiter: Flags.string({ char: 'd', description: 'Delimiter of CSV/TSV files (sniffed by default), e.g. "," "\\t" ";" "|".' }),
    'no-header': Flags.boolean({ description: 'The delimited file has no header row.' }),
    names: Flags.string({ description: 'Column names for a headerless file, comma-separated.' }),
    encoding: Flags.string({ description: 'Text encoding.', options: ['utf-8', 'latin-1'] }),
    weights: Flags.string({ description: 'Event-type weights for the confidence matrix, e.g. view=1,click=2,cart=4,purchase=8.' }),
    strict: Flags.boolean({ description: 'Fail on the first bad row; write nothing.', default: false }),
    append: Flags.boolean({ description: 'Insert even if this file was ingested before.', default: false }),
    'max-rejects': Flags.integer({ description: 'How many bad rows to list in detail.', default: 10, min: 0 }),
    'from-stream': Flags.boolean({ description: 'Read the event stream `recsys serve` writes (Redis) instead of a file.', default: false, helpGroup: 'STREAM' }),
    'redis-url': Flags.string({ description: 'Redis of the serving deployment: redis://host:port[/db] or redis-cluster://host:port,…', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379', helpGroup: 'STREAM' }),
    prefix: Flags.string({ description: 'Key prefix of the serving deployment (the same as `recsys serve --prefix`).', default: 'recsys', helpGroup: 'STREAM' }),
    'stream-key': Flags.string({ description: 'Stream name after the prefix (serving option streamKey).', default: 'events', helpGroup: 'STREAM' }),
    'batch-size': Flags.integer({ description: 'Stream entries read and committed per batch.', default: 10000, min: 1, helpGroup: 'STREAM' }),
    trim: Flags.boolean({ description: 'Afterwards drop the ingested entries from the stream (XTRIM MINID).', default: false, helpGroup: 'STREAM' }),
  };

  async run(): Promise<IngestPathResult | StreamIngestResult> {
    const { args, flags } = await this.parse(Ingest);
    if (flags['from-stream']) {
      if (args.path !== undefined) {
        throw new RecsysError('RECSYS_ERR_USAGE', `--from-stream reads the Redis stream, not a file: drop the path '${args.path}' (or drop --from-stream to ingest the file)`, { flag: '--from-stream' });
      }
      return this.fromStream(flags);
    }
    if (flags.trim) throw new RecsysError('RECSYS_ERR_USAGE', '--trim belongs to --from-stream', { flag: '--trim' });
    if (args.path === undefined) {
      throw new RecsysError('RECSYS_ERR_USAGE', 'give a file or dataset folder to ingest (e.g. recsys ingest events.csv), or --from-stream to read the serving event stream', { flag: 'path' });
    }
    const delimiter = flags.delimiter === '\\t' ? '\t' : flags.delimiter;
    const result = await ingestPath(args.path, {
      store: flags.store,
      format: flags.format as IngestPathResultFormat,
      kind: flags.kind as 'interactions' | 'products' | 'users',
      userCol: flags['user-col'],
      itemCol: flags['item-col'],
      valueCol: flags['value-col'],
      timeCol: flags['time-col'],
      typeCol: flags['type-col'],
      type: flags.type,
      idCol: flags['id-col'],
      delimiter,
      header: flags['no-header'] ? false : undefined,
      names: flags.names ? flags.names.split(',').map((s) => s.trim()) : undefined,
      encoding: flags.encoding as 'utf-8' | 'latin-1' | undefined,
      weights: parseWeights(flags.weights),
      strict: flags.strict,
      append: flags.append,
      maxRejects: flags['max-rejects'],
      progress: this.progress(flags.quiet),
    });
    for (const t of result.tables) {
      const status = t.skipped ? chalk.dim('unchanged, skipped (use --append to add again)') : `${t.rowsIngested.toLocaleString()} rows`;
      this.say(`${t.table.padEnd(12)} ${status}  ${chalk.dim(`${t.file} (${t.format}, ${Math.round(t.rowsPerSecond).toLocaleString()} rows/s)`)}`);
      if (t.blankLines > 0) this.say(chalk.dim(`             ${t.blankLines} blank lines skipped`));
      if (t.rowsRejected > 0) {
        this.say(chalk.yellow(`             ${t.rowsRejected.toLocaleString()} bad rows not ingested; first ${t.rejects.length}:`));
        for (const r of t.rejects) this.say(chalk.yellow(`               line ${r.line}: ${r.reason}`));
      }
      for (const w of t.warnings) this.say(chalk.yellow(`             warning: ${w}`));
    }
    const s = result.stats;
    const types = Object.entries(s.interactionTypes).map(([t, n]) => `${t} ${n.toLocaleString()}`).join(', ');
    this.say(`store        ${result.store}: ${s.interactions.toLocaleString()} interactions (${types}), ${s.interactionUsers.toLocaleString()} users × ${s.interactionItems.toLocaleString()} items; ${s.products.toLocaleString()} products, ${s.users.toLocaleString()} user profiles`);
    this.say(`done in ${result.seconds.toFixed(2)} s`);
    return result;
  }

  private async fromStream(flags: { store: string; quiet: boolean; 'redis-url': string; prefix: string; 'stream-key': string; 'batch-size': number; trim: boolean; strict: boolean; 'max-rejects': number }): Promise<StreamIngestResult> {
    const r = await ingestStream({
      store: flags.store,
      redisUrl: flags['redis-url'],
      prefix: flags.prefix,
      streamKey: flags['stream-key'],
      batchSize: flags['batch-size'],
      trim: flags.trim,
      strict: flags.strict,
      maxRejects: flags['max-rejects'],
      progress: this.progress(flags.quiet),
    });
    const range = r.entriesRead > 0 ? `entries after ${r.fromId ?? 'the start'} up to ${r.toId}` : `nothing new after ${r.fromId ?? 'the start'}`;
    this.say(`stream       ${r.streamKey} (${r.redis}): ${range}`);
    this.say(`interactions ${r.rowsIngested.toLocaleString()} rows from ${r.entriesRead.toLocaleString()} entries in ${r.batches} batches; ${r.newUsers.toLocaleString()} new users, ${r.newItems.toLocaleString()} new items`);
    if (r.rowsRejected > 0) {
      this.say(chalk.yellow(`             ${r.rowsRejected.toLocaleString()} unreadable entries not ingested; first ${r.rejects.length}:`));
      for (const x of r.rejects) this.say(chalk.yellow(`               ${x.id}: ${x.reason}`));
    }
    if (r.trimmed !== null) this.say(`trimmed      ${r.trimmed.toLocaleString()} entries; ${r.streamLength.toLocaleString()} left in the stream`);
    for (const w of r.warnings) this.say(chalk.yellow(`warning: ${w}`));
    const s = r.stats;
    this.say(`store        ${r.store}: ${s.interactions.toLocaleString()} interactions, ${s.interactionUsers.toLocaleString()} users × ${s.interactionItems.toLocaleString()} items`);
    this.say(`done in ${r.seconds.toFixed(2)} s`);
    return r;
  }
}

type IngestPathResultFormat = Parameters<typeof ingestPath>[1]['format'];
