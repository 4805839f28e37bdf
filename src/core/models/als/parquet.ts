/**
 * Factor exchange as Parquet through DuckDB: one file per side with columns
 * (id VARCHAR, vector FLOAT[]), one row per user/item, rows in id-map order. That is the shape
 * Spark MLlib's ALSModel keeps (`userFactors`/`itemFactors`: id, features array<float>), so
 * factors trained on a cluster can be evaluated and served here and ours used there.
 *
 * Export streams the float32 factors into DuckDB as a flat column (data chunks filled value by
 * value, no per-row objects), regroups them into lists by position in SQL, and COPYs to Parquet
 * (zstd). Import accepts `vector` or Spark's `features` as the vector column, any id type (cast to
 * VARCHAR) and FLOAT[] or DOUBLE[] vectors (cast to FLOAT), and checks every row has the same length.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBDataChunk, DuckDBInstance, FLOAT, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { DuckDBFloatVector, DuckDBIntegerVector, DuckDBListVector, DuckDBVarCharVector } from '@duckdb/node-api';
import { RecsysError } from '../../errors.js';
import { IdMap } from '../../data/matrix.js';
import { AlsModel } from './als.js';

export const USER_FACTORS_FILE = 'user_factors.parquet';
export const ITEM_FACTORS_FILE = 'item_factors.parquet';

const CHUNK_ROWS = 2048;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function writeSide(conn: DuckDBConnection, ids: IdMap, factors: Float32Array, k: number, file: string): Promise<void> {
  await conn.run('CREATE OR REPLACE TEMP TABLE ids (r INTEGER, id VARCHAR)');
  await conn.run('CREATE OR REPLACE TEMP TABLE vals (g INTEGER, v FLOAT)');
  const idApp = await conn.createAppender('ids');
  const idChunk = DuckDBDataChunk.create([INTEGER, VARCHAR]);
  for (let start = 0; start < ids.size; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, ids.size - start);
    idChunk.rowCount = n;
    const rv = idChunk.getColumnVector(0) as DuckDBIntegerVector;
    const iv = idChunk.getColumnVector(1) as DuckDBVarCharVector;
    for (let j = 0; j < n; j++) {
      rv.setItem(j, start + j);
      iv.setItem(j, ids.idOf(start + j));
    }
    rv.flush();
    iv.flush();
    idApp.appendDataChunk(idChunk);
  }
  idApp.closeSync();
  const valApp = await conn.createAppender('vals');
  const chunk = DuckDBDataChunk.create([INTEGER, FLOAT]);
  const total = ids.size * k;
  for (let start = 0; start < total; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, total - start);
    chunk.rowCount = n;
    const gv = chunk.getColumnVector(0) as DuckDBIntegerVector;
    const vv = chunk.getColumnVector(1) as DuckDBFloatVector;
    for (let j = 0; j < n; j++) {
      gv.setItem(j, start + j);
      vv.setItem(j, factors[start + j]);
    }
    gv.flush();
    vv.flush();
    valApp.appendDataChunk(chunk);
  }
  valApp.closeSync();
  await conn.run(
    `COPY (
       SELECT ids.id AS id, l.vector AS vector
       FROM ids JOIN (SELECT g // ${k} AS r, list(v ORDER BY g) AS vector FROM vals GROUP BY g // ${k}) l USING (r)
       ORDER BY ids.r
     ) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  await conn.run('DROP TABLE ids');
  await conn.run('DROP TABLE vals');
}

/**
 * Write `dir/user_factors.parquet` and `dir/item_factors.parquet` (id VARCHAR, vector FLOAT[]).
 * Returns the two paths.
 */
export async function exportFactorsParquet(model: AlsModel, dir: string): Promise<{ users: string; items: string }> {
  if (!model.userIds || !model.itemIds) throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot export the factors of an unfitted ALS model: call fit() or load a model first');
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const users = join(root, USER_FACTORS_FILE);
  const items = join(root, ITEM_FACTORS_FILE);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await writeSide(conn, model.userIds, model.userFactors, model.factors, users);
    await writeSide(conn, model.itemIds, model.itemFactors, model.factors, items);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `could not write factor Parquet files into ${root}: ${(e as Error).message}`, { file: root }, { cause: e });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return { users, items };
}

async function readSide(conn: DuckDBConnection, file: string): Promise<{ ids: IdMap; factors: Float32Array; k: number }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `factor file ${path} does not exist`, { file: path });
  const src = `read_parquet(${sqlString(path)})`;
  const cols = (await (await conn.run(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${src})`)).getRows()).map((r) => String(r[0]));
  const vectorCol = cols.includes('vector') ? 'vector' : cols.includes('features') ? 'features' : null;
  if (!cols.includes('id') || !vectorCol) {
    throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path} has columns ${cols.join(', ')}; factor files need an 'id' column and a 'vector' (or Spark's 'features') list column`, { file: path });
  }
  const stats = (await (await conn.run(`SELECT count(*)::BIGINT, min(len(${vectorCol}))::BIGINT, max(len(${vectorCol}))::BIGINT, count(DISTINCT id)::BIGINT FROM ${src}`)).getRows())[0];
  const [n, kmin, kmax, distinct] = stats.map((v) => Number(v));
  if (n === 0) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path} has no rows`, { file: path });
  if (kmin !== kmax || kmin < 1) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path}: vectors have between ${kmin} and ${kmax} values; every vector must have the same length`, { file: path, column: vectorCol });
  if (distinct !== n) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path}: ${n} rows but ${distinct} distinct ids; ids must be unique`, { file: path, column: 'id' });
  const k = kmin;
  const ids: string[] = new Array<string>(n);
  const factors = new Float32Array(n * k);
  const result = await conn.stream(`SELECT CAST(id AS VARCHAR) AS id, CAST(${vectorCol} AS FLOAT[]) AS vector FROM ${src}`);
  let row = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const idv = chunk.getColumnVector(0) as DuckDBVarCharVector;
    const lv = chunk.getColumnVector(1) as DuckDBListVector;
    const child = lv.childVector as DuckDBFloatVector;
    for (let j = 0; j < chunk.rowCount; j++) {
      const id = idv.getItem(j);
      if (id === null) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path}: row ${row + 1} has a null id`, { file: path, line: row + 1 });
      ids[row] = id;
      const off = lv.getEntryOffset(j);
      for (let d = 0; d < k; d++) {
        const v = child.getItem(off + d);
        if (v === null || !Number.isFinite(v)) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path}: row ${row + 1} (id ${id}) has a null or non-finite value at position ${d}`, { file: path, line: row + 1 });
        factors[row * k + d] = v;
      }
      row++;
    }
  }
  return { ids: new IdMap(ids), factors, k };
}

/**
 * An ALS model from two factor files (e.g. written by `exportFactorsParquet` or by Spark's
 * ALSModel). Extra `params` (alpha, regularization, …) are kept for fold-in and explanations.
 */
export async function importFactorsParquet(userFile: string, itemFile: string, params: Record<string, unknown> = {}): Promise<AlsModel> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const users = await readSide(conn, userFile);
    const items = await readSide(conn, itemFile);
    if (users.k !== items.k) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `user vectors have ${users.k} values but item vectors ${items.k}; both files must come from one model`, { file: resolve(itemFile) });
    }
    return AlsModel.fromFactors({ userIds: users.ids, itemIds: items.ids, userFactors: users.factors, itemFactors: items.factors, params });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
