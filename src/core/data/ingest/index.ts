/**
 * Public ingest API: one function per store table, any supported file format.
 *
 *   ingestInteractions(store, 'events.csv', { userCol: 'visitorid', itemCol: 'itemid', typeCol: 'event', timeCol: 'timestamp' })
 *   ingestProducts(store, 'catalog.jsonl')
 *   ingestUsers(store, 'users.parquet')
 *
 * The format comes from the extension unless `format` is given; columns are found by common names
 * (user_id/userId/customer_id…, product_id/item_id/movieId…) unless mapped explicitly. See common.ts
 * for validation, bad-row reporting and idempotency.
 */
import { RecsysError } from '../../errors.js';
import { type Store, validateWeights } from '../store.js';
import { stageArrow } from './arrow.js';
import {
  ALIASES,
  type CommonIngestOptions,
  detectFormat,
  type IngestContext,
  type IngestResult,
  type InteractionIngestOptions,
  interactionTarget,
  prepareIngest,
  type ProductIngestOptions,
  productTarget,
  runIngest,
  type StagedSource,
  type TableKind,
  type TargetTable,
  type UserIngestOptions,
  userTarget,
} from './common.js';
import { sniffDelimited, stageDelimited } from './delimited.js';
import { stageJsonl } from './jsonl.js';
import { stageParquet } from './parquet.js';

export type {
  CommonIngestOptions,
  IngestFormat,
  IngestResult,
  InteractionIngestOptions,
  ProductIngestOptions,
  RejectedRow,
  TableKind,
  TimeUnit,
  UserIngestOptions,
} from './common.js';

type TargetBuilder = (file: string, columns: readonly string[], positional: boolean) => TargetTable;

/** Options that define what lands in the store (hashed for idempotency); run-time knobs left out. */
function contentOptions(opts: CommonIngestOptions): Record<string, unknown> {
  const { strict: _s, maxRejects: _m, append: _a, progress: _p, ...rest } = opts as CommonIngestOptions & Record<string, unknown>;
  return rest;
}

async function ingestFile(
  store: Store,
  file: string,
  table: TableKind,
  opts: CommonIngestOptions,
  knownNames: readonly string[],
  build: TargetBuilder,
  source?: string,
): Promise<IngestResult> {
  const format = detectFormat(file, opts.format);
  const ctx: IngestContext = { store, file, table, optionsForHash: contentOptions(opts), opts, source };
  const prep = await prepareIngest(ctx, format);
  if (prep.skipped) return prep.skipped;
  opts.progress?.start(`parse ${file}`, 1);
  let staged: StagedSource;
  let positional = false;
  switch (format) {
    case 'csv':
    case 'tsv': {
      const dialect = await sniffDelimited(prep.absFile, opts, knownNames);
      positional = !dialect.header && !(opts.names && opts.names.length > 0);
      staged = stageDelimited(store, prep.absFile, dialect, format);
      break;
    }
    case 'jsonl':
      staged = await stageJsonl(store, prep.absFile, opts);
      break;
    case 'parquet':
      staged = await stageParquet(store, prep.absFile);
      break;
    case 'arrow':
      staged = await stageArrow(store, prep.absFile);
      break;
    default:
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `unsupported format ${String(format)}`, { file, flag: '--format' });
  }
  let target: TargetTable;
  try {
    target = build(prep.absFile, staged.columns.map((c) => c.name), positional);
  } catch (e) {
    await staged.cleanup().catch(() => undefined);
    throw e;
  }
  return runIngest(ctx, prep, staged, target);
}

const interactionNames = [...ALIASES.user, ...ALIASES.item, ...ALIASES.value, ...ALIASES.time, ...ALIASES.type];
const productNames = [...ALIASES.productId, ...ALIASES.title, ...ALIASES.category, ...ALIASES.price, ...ALIASES.brand];
const userNames = [...ALIASES.userId, ...ALIASES.created, 'age', 'gender', 'country', 'occupation'];

/**
 * Loads an interaction log (ratings or events) into `interactions`. Without a value column each row
 * has value 1; without a type column the type is `opts.type` ('rating' when there is a value column,
 * else 'interaction'). Weights given here are only remembered for matrix building.
 */
export async function ingestInteractions(store: Store, file: string, opts: InteractionIngestOptions = {}): Promise<IngestResult> {
  const { weights, ...rest } = opts;
  if (weights) validateWeights(weights);
  const result = await ingestFile(store, file, 'interactions', rest, interactionNames, (f, cols, pos) => interactionTarget(f, cols, rest, pos));
  if (weights) await store.setWeights(weights);
  return result;
}

/** Loads a product catalogue into `products` (upsert by product id; unmapped columns go to `features`). */
export async function ingestProducts(store: Store, file: string, opts: ProductIngestOptions = {}): Promise<IngestResult> {
  return ingestFile(store, file, 'products', opts, productNames, (f, cols, pos) => productTarget(f, cols, opts, pos));
}

/** Loads users into `users` (upsert by user id; unmapped columns go to `demographics`). */
export async function ingestUsers(store: Store, file: string, opts: UserIngestOptions = {}): Promise<IngestResult> {
  return ingestFile(store, file, 'users', opts, userNames, (f, cols, pos) => userTarget(f, cols, opts, pos));
}

/** Lower-level entry used by the MovieLens and synthetic loaders: a custom target over a staged file. */
export async function ingestWithTarget(
  store: Store,
  file: string,
  table: TableKind,
  opts: CommonIngestOptions,
  build: TargetBuilder,
  hashExtra: Record<string, unknown> = {},
): Promise<IngestResult> {
  const merged = { ...opts, ...hashExtra } as CommonIngestOptions;
  return ingestFile(store, file, table, merged, [], build);
}
