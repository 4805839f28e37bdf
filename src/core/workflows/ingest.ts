/**
 * The ingest workflow behind `recsys ingest`: open (or create) the store and route a path to the
 * right loader: a MovieLens folder, a synthetic-shop folder, or one file of interactions, products
 * or users in any supported format. Returns every table's IngestResult for printing and --json.
 */
import { existsSync, statSync } from 'node:fs';
import { RecsysError } from '../errors.js';
import { openStore, type StoreStats } from '../data/store.js';
import {
  ingestInteractions,
  ingestProducts,
  ingestUsers,
  type IngestResult,
  type InteractionIngestOptions,
  type ProductIngestOptions,
  type TableKind,
  type UserIngestOptions,
} from '../data/ingest/index.js';
import { ingestMovieLens, type MovieLensVariant } from '../data/ingest/movielens.js';
import { ingestSynth } from '../data/ingest/synth.js';

export const DATASET_FORMATS = ['movielens-100k', 'movielens-1m', 'movielens-20m', 'synth'] as const;
export const FILE_FORMATS = ['csv', 'tsv', 'jsonl', 'parquet', 'arrow'] as const;

export type IngestPathOptions = Omit<InteractionIngestOptions & ProductIngestOptions & UserIngestOptions, 'format'> & {
    store: string;
    /** A dataset folder format, or a file format (default: from the extension). */
    format?: (typeof DATASET_FORMATS)[number] | (typeof FILE_FORMATS)[number];
    /** Which table a single file feeds (default interactions). */
    kind?: TableKind;
  };

export interface IngestPathResult {
  store: string;
  path: string;
  format: string;
  tables: IngestResult[];
  rowsIngested: number;
  rowsRejected: number;
  seconds: number;
  rowsPerSecond: number;
  stats: StoreStats;
}

export async function ingestPath(path: string, opts: IngestPathOptions): Promise<IngestPathResult> {
  if (!existsSync(path)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${path} does not exist. Give a file (csv, tsv, jsonl, parquet, arrow) or a dataset folder with --format ${DATASET_FORMATS.join('|')}.`, { file: path });
  }
  const isDir = statSync(path).isDirectory();
  const { store: storePath, format, kind, ...rest } = opts;
  if (isDir && !(format && (DATASET_FORMATS as readonly string[]).includes(format))) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${path} is a folder: say what it holds with --format ${DATASET_FORMATS.join('|')} (or give one file).`, { file: path, flag: '--format' });
  }
  const t0 = performance.now();
  const store = await openStore(storePath);
  try {
    let tables: IngestResult[];
    if (format === 'synth') {
      const r = await ingestSynth(store, path, rest);
      tables = [r.interactions, r.products, r.users].filter((x): x is IngestResult => x !== null);
    } else if (format?.startsWith('movielens-')) {
      const r = await ingestMovieLens(store, path, format.slice('movielens-'.length) as MovieLensVariant, rest);
      tables = [r.interactions, r.products, r.users].filter((x): x is IngestResult => x !== null);
    } else {
      const fileOpts = { ...rest, format: format as (typeof FILE_FORMATS)[number] | undefined };
      const table = kind ?? 'interactions';
      tables = [table === 'products' ? await ingestProducts(store, path, fileOpts) : table === 'users' ? await ingestUsers(store, path, fileOpts) : await ingestInteractions(store, path, fileOpts)];
    }
    const seconds = (performance.now() - t0) / 1000;
    const rowsRead = tables.reduce((a, t) => a + t.rowsRead, 0);
    return {
      store: storePath,
      path,
      format: format ?? tables[0]?.format ?? 'unknown',
      tables,
      rowsIngested: tables.reduce((a, t) => a + t.rowsIngested, 0),
      rowsRejected: tables.reduce((a, t) => a + t.rowsRejected, 0),
      seconds,
      rowsPerSecond: seconds > 0 ? rowsRead / seconds : 0,
      stats: await store.stats(),
    };
  } finally {
    await store.close();
  }
}
