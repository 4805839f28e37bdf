/**
 * Ingests a directory written by the synthetic e-commerce generator (`recsys datasets synth`):
 *   interactions.parquet (user_id, product_id, interaction_type, value, timestamp)
 *   products.parquet     (product_id, title, description, category, brand, price)
 *   users.parquet        (user_id, created_at, age_band, country → demographics)
 *   dataset.json         (the generator's parameters; returned as is)
 * (or the same names as .csv when the generator ran with --format csv). Parquet is scanned by DuckDB
 * directly (no staging copy), so this scales to the generator's 100M-interaction outputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecsysError } from '../../errors.js';
import type { Progress } from '../../models/recommender.js';
import type { Store } from '../store.js';
import type { IngestResult } from './common.js';
import { ingestInteractions, ingestProducts, ingestUsers } from './index.js';

export interface SynthIngestResult {
  dir: string;
  interactions: IngestResult;
  products: IngestResult | null;
  users: IngestResult | null;
  /** Parsed dataset.json, or null when absent. */
  dataset: unknown;
  seconds: number;
  rowsPerSecond: number;
}

export interface SynthIngestOptions {
  strict?: boolean;
  append?: boolean;
  maxRejects?: number;
  progress?: Progress;
}

/** `<dir>/<name>.parquet`, else `<dir>/<name>.csv`, else null. */
function findTable(dir: string, name: string): { file: string; format: 'parquet' | 'csv' } | null {
  for (const format of ['parquet', 'csv'] as const) {
    const file = join(dir, `${name}.${format}`);
    if (existsSync(file)) return { file, format };
  }
  return null;
}

export async function ingestSynth(store: Store, dir: string, opts: SynthIngestOptions = {}): Promise<SynthIngestResult> {
  const started = performance.now();
  const inter = findTable(dir, 'interactions');
  if (inter === null) {
    throw new RecsysError(
      'RECSYS_ERR_FILE_NOT_FOUND',
      `${join(dir, 'interactions.parquet')} not found: pass a folder written by \`recsys datasets synth --out <dir>\``,
      { file: join(dir, 'interactions.parquet') },
    );
  }
  const prod = findTable(dir, 'products');
  const products = prod
    ? await ingestProducts(store, prod.file, {
        ...opts,
        format: prod.format,
        idCol: 'product_id',
      })
    : null;
  const usr = findTable(dir, 'users');
  const users = usr ? await ingestUsers(store, usr.file, { ...opts, format: usr.format, idCol: 'user_id' }) : null;
  const interactions = await ingestInteractions(store, inter.file, {
    ...opts,
    format: inter.format,
    userCol: 'user_id',
    itemCol: 'product_id',
    typeCol: 'interaction_type',
    valueCol: 'value',
    timeCol: 'timestamp',
  });
  const datasetFile = join(dir, 'dataset.json');
  let dataset: unknown = null;
  if (existsSync(datasetFile)) {
    try {
      dataset = JSON.parse(readFileSync(datasetFile, 'utf8'));
    } catch (e) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${datasetFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { file: datasetFile });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = interactions.rowsRead + (products?.rowsRead ?? 0) + (users?.rowsRead ?? 0);
  return { dir, interactions, products, users, dataset, seconds, rowsPerSecond: seconds > 0 ? rows / seconds : 0 };
}
