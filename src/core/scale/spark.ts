/**
 * Hand-off to Spark MLlib ALS, the engine for matrices past one machine.
 *
 * Export (`recsys export --for spark-als`): the store's interactions aggregated to one value per
 * (user, item) pair exactly as the matrix loader does (event weights, value mode), with dense int
 * ids, written by DuckDB as Parquet partitioned into `part=<user mod P>` folders:
 *   <out>/interactions/part=*​/*.parquet   user: int, item: int, rating: float
 *   <out>/user_ids.parquet                 user: int, user_id: varchar
 *   <out>/item_ids.parquet                 item: int, item_id: varchar
 *   <out>/spark-als.json                   counts, weights, value mode, the Spark snippet's settings
 * With a model artifact (`--model`), its id maps number the users and items (pairs of ids the
 * model does not know are left out and counted), so factors trained by Spark line up with it.
 *
 * Import (`recsys import-factors --from spark-als`): Spark's ALSModel.save writes
 * `<model>/userFactors` and `<model>/itemFactors`, Parquet folders with `id: int,
 * features: array<float>` (spark.ml, Spark 1.6 – 3.x and 4.x; mllib's MatrixFactorizationModel
 * writes `data/user`, `data/product` with array<double>, also accepted and cast to float). The
 * ints are mapped back to the external ids through the export's id maps, and the result is an
 * ordinary recsys ALS artifact (rows in id order), so `eval`, `serve` and `precompute` use it
 * like one trained here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBDataChunk, DuckDBInstance, FLOAT, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { DuckDBFloatVector, DuckDBIntegerVector, DuckDBListVector, DuckDBVarCharVector } from '@duckdb/node-api';
import { RecsysError } from '../errors.js';
import { IdMap } from '../data/matrix.js';
import { type Store, sqlString, validateWeights } from '../data/store.js';
import { ID_ORDER, pairValueSql, type ValueMode } from '../data/load-matrix.js';
import { AlsModel } from '../models/als/als.js';

export const SPARK_INTERACTIONS_DIR = 'interactions';
export const SPARK_USER_IDS = 'user_ids.parquet';
export const SPARK_ITEM_IDS = 'item_ids.parquet';

export interface SparkExportOptions {
  outDir: string;
  /** Event-type weights (default: the store's, else all 1). */
  weights?: Record<string, number>;
  valueMode?: ValueMode;
  /** Number of `part=` folders (users spread by user mod P; default 8). */
  partitions?: number;
  /** Number users and items with these id maps (a model artifact's) instead of the store's sorted ids. */
  idMaps?: { users: IdMap; items: IdMap } | null;
}

export interface SparkExportResult {
  outDir: string;
  pairs: number;
  users: number;
  items: number;
  partitions: number;
  /** Pairs left out because the given id maps do not know their user or item. */
  droppedPairs: number;
  files: { interactions: string; userIds: string; itemIds: string; manifest: string };
  bytes: number;
  seconds: number;
}

function dirBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of readdirSync(path)) total += dirBytes(join(path, e));
  return total;
}

/** (idx INTEGER, id VARCHAR) temp table from an id map, appended in data chunks. */
async function idTable(conn: DuckDBConnection, name: string, ids: IdMap): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${name} (idx INTEGER, id VARCHAR)`);
  const app = await conn.createAppender(name, 'main', 'temp');
  const chunk = DuckDBDataChunk.create([INTEGER, VARCHAR]);
  for (let start = 0; start < ids.size; start += 2048) {
    const n = Math.min(2048, ids.size - start);
    chunk.rowCount = n;
    const iv = chunk.getColumnVector(0) as DuckDBIntegerVector;
    const sv = chunk.getColumnVector(1) as DuckDBVarCharVector;
    for (let j = 0; j < n; j++) {
      iv.setItem(j, start + j);
      sv.setItem(j, ids.idOf(start + j));
    }
    iv.flush();
    sv.flush();
    app.appendDataChunk(chunk);
  }
  app.closeSync();
}

/** Writes the store's interactions for Spark ALS (see the module comment). */
export async function exportForSparkAls(store: Store, opts: SparkExportOptions): Promise<SparkExportResult> {
  const t0 = performance.now();
  const out = resolve(opts.outDir);
  const partitions = opts.partitions ?? 8;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--partitions must be an integer in [1, 4096], got ${partitions}`, { flag: '--partitions' });
  }
  const weights = opts.weights ?? (await store.getWeights()) ?? {};
  validateWeights(weights);
  const mode = opts.valueMode ?? 'sum';
  const zero = Object.entries(weights).filter(([, w]) => w === 0).map(([t]) => t);
  const where = zero.length > 0 ? `WHERE interaction_type NOT IN (${zero.map(sqlString).join(', ')})` : '';
  const interDir = join(out, SPARK_INTERACTIONS_DIR);
  if (existsSync(interDir)) await rm(interDir, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const conn = store.connection;
  const usersT = store.tempName('spark_users');
  const itemsT = store.tempName('spark_items');
  try {
    if (opts.idMaps) {
      await idTable(conn, usersT, opts.idMaps.users);
      await idTable(conn, itemsT, opts.idMaps.items);
    } else {
      await store.run(`CREATE TEMP TABLE ${usersT} AS SELECT id, (row_number() OVER (ORDER BY ${ID_ORDER}) - 1)::INTEGER AS idx FROM (SELECT DISTINCT user_id AS id FROM interactions ${where})`);
      await store.run(`CREATE TEMP TABLE ${itemsT} AS SELECT id, (row_number() OVER (ORDER BY ${ID_ORDER}) - 1)::INTEGER AS idx FROM (SELECT DISTINCT product_id AS id FROM interactions ${where})`);
    }
    const nUsers = Number(await store.scalar(`SELECT count(*)::DOUBLE FROM ${usersT}`));
    const nItems = Number(await store.scalar(`SELECT count(*)::DOUBLE FROM ${itemsT}`));
    if (nUsers === 0) throw new RecsysError('RECSYS_ERR_STORE_EMPTY', `store ${store.path} has no interactions; run \`recsys ingest\` first`, { file: store.path });
    const pairsSql = `SELECT user_id, product_id, ${pairValueSql(mode, weights)} AS v FROM interactions ${where} GROUP BY user_id, product_id`;
    const allPairs = Number(await store.scalar(`SELECT count(*)::DOUBLE FROM (SELECT DISTINCT user_id, product_id FROM interactions ${where})`));
    await store.run(
      `COPY (
         SELECT u.idx AS "user", i.idx AS item, CAST(a.v AS FLOAT) AS rating, (u.idx % ${partitions})::INTEGER AS part
         FROM (${pairsSql}) a JOIN ${usersT} u ON u.id = a.user_id JOIN ${itemsT} i ON i.id = a.product_id
         ORDER BY "user", item
       ) TO ${sqlString(interDir)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (part))`,
    );
    const userIds = join(out, SPARK_USER_IDS);
    const itemIds = join(out, SPARK_ITEM_IDS);
    await store.run(`COPY (SELECT idx AS "user", id AS user_id FROM ${usersT} ORDER BY idx) TO ${sqlString(userIds)} (FORMAT parquet)`);
    await store.run(`COPY (SELECT idx AS item, id AS item_id FROM ${itemsT} ORDER BY idx) TO ${sqlString(itemIds)} (FORMAT parquet)`);
    const pairs = Number(await store.scalar(`SELECT count(*)::DOUBLE FROM read_parquet(${sqlString(join(interDir, '**', '*.parquet'))})`));
    const manifest = join(out, 'spark-als.json');
    const result: SparkExportResult = {
      outDir: out,
      pairs,
      users: nUsers,
      items: nItems,
      partitions,
      droppedPairs: allPairs - pairs,
      files: { interactions: interDir, userIds, itemIds, manifest },
      bytes: 0,
      seconds: 0,
    };
    await writeFile(
      manifest,
      JSON.stringify(
        {
          format: 'recsys-spark-als-export',
          version: 1,
          schema: { interactions: 'user: int, item: int, rating: float (partitioned by part = user mod partitions)', user_ids: 'user: int, user_id: string', item_ids: 'item: int, item_id: string' },
          weights,
          valueMode: mode,
          counts: { pairs, users: nUsers, items: nItems, droppedPairs: result.droppedPairs },
          partitions,
          idsFrom: opts.idMaps ? 'model artifact' : 'store (sorted: numeric ids numerically, then strings)',
          store: store.path,
          createdAt: new Date().toISOString(),
        },
        null,
        2,
      ) + '\n',
    );
    result.bytes = dirBytes(out);
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  } finally {
    await store.run(`DROP TABLE IF EXISTS ${usersT}; DROP TABLE IF EXISTS ${itemsT};`).catch(() => undefined);
  }
}

/** A Parquet source for DuckDB: a file as is, a folder as every .parquet below it (Spark's part files). */
export function parquetSource(path: string, what: string, flag: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${what} ${p} does not exist: pass the folder Spark wrote (e.g. <model>/userFactors)`, { file: p, flag });
  return statSync(p).isDirectory() ? `read_parquet(${sqlString(join(p, '**', '*.parquet'))})` : `read_parquet(${sqlString(p)})`;
}

async function readSparkSide(
  conn: DuckDBConnection,
  path: string,
  mapFile: string | null,
  mapCols: { int: string; id: string },
  what: 'user' | 'item',
  flag: string,
): Promise<{ ids: IdMap; factors: Float32Array; k: number }> {
  const src = parquetSource(path, `${what} factors`, flag);
  const cols = (await (await conn.run(`DESCRIBE SELECT * FROM ${src}`)).getRows()).map((r) => [String(r[0]), String(r[1])] as const);
  const names = cols.map((c) => c[0]);
  if (!names.includes('id') || !names.includes('features')) {
    throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${resolve(path)} has columns ${names.join(', ')}; Spark ALS factors have 'id' (int) and 'features' (array<float>)`, { file: resolve(path), flag });
  }
  const [n, kmin, kmax, distinct] = (await (await conn.run(`SELECT count(*)::BIGINT, min(len(features))::BIGINT, max(len(features))::BIGINT, count(DISTINCT id)::BIGINT FROM ${src}`)).getRows())[0].map(Number);
  if (n === 0) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${resolve(path)} has no rows`, { file: resolve(path) });
  if (kmin !== kmax || kmin < 1) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${resolve(path)}: features have between ${kmin} and ${kmax} values; every vector must have the rank's length`, { file: resolve(path), column: 'features' });
  if (distinct !== n) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${resolve(path)}: ${n} rows but ${distinct} distinct ids`, { file: resolve(path), column: 'id' });
  let select: string;
  if (mapFile) {
    const map = `read_parquet(${sqlString(mapFile)})`;
    const missing = Number((await (await conn.run(`SELECT count(*)::BIGINT FROM ${src} f ANTI JOIN ${map} m ON m.${mapCols.int} = f.id`)).getRows())[0][0]);
    if (missing > 0) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${missing} ${what} ids of ${resolve(path)} are not in ${mapFile}: pass the --maps folder written by the \`recsys export --for spark-als\` the model was trained on`, { file: mapFile, flag: '--maps' });
    }
    select = `SELECT CAST(m.${mapCols.id} AS VARCHAR) AS id, CAST(f.features AS FLOAT[]) AS v FROM ${src} f JOIN ${map} m ON m.${mapCols.int} = f.id ORDER BY f.id`;
  } else {
    select = `SELECT CAST(f.id AS VARCHAR) AS id, CAST(f.features AS FLOAT[]) AS v FROM ${src} f ORDER BY f.id`;
  }
  const k = kmin;
  const ids: string[] = new Array<string>(n);
  const factors = new Float32Array(n * k);
  const result = await conn.stream(select);
  let row = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const idv = chunk.getColumnVector(0) as DuckDBVarCharVector;
    const lv = chunk.getColumnVector(1) as DuckDBListVector;
    const child = lv.childVector as DuckDBFloatVector;
    for (let j = 0; j < chunk.rowCount; j++) {
      ids[row] = String(idv.getItem(j));
      const off = lv.getEntryOffset(j);
      for (let d = 0; d < k; d++) {
        const v = child.getItem(off + d);
        if (v === null || !Number.isFinite(v)) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${resolve(path)}: ${what} ${ids[row]} has a null or non-finite value at position ${d}`, { file: resolve(path) });
        factors[row * k + d] = v;
      }
      row++;
    }
  }
  return { ids: new IdMap(ids), factors, k };
}

export interface SparkImportOptions {
  userFactors: string;
  itemFactors: string;
  /** Folder of a `recsys export --for spark-als` (its user_ids / item_ids map ints to external ids); null: ids stay the ints. */
  maps?: string | null;
  /** Kept in the artifact's params (e.g. Spark's regParam → regularization, alpha) for fold-in. */
  params?: Record<string, unknown>;
}

/** Spark ALS factor folders → an AlsModel (save it with model.save(dir)). */
export async function importSparkAlsFactors(opts: SparkImportOptions): Promise<AlsModel> {
  let userMap: string | null = null;
  let itemMap: string | null = null;
  if (opts.maps) {
    userMap = join(resolve(opts.maps), SPARK_USER_IDS);
    itemMap = join(resolve(opts.maps), SPARK_ITEM_IDS);
    for (const f of [userMap, itemMap]) {
      if (!existsSync(f)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${f} does not exist: --maps must be the folder \`recsys export --for spark-als --out <dir>\` wrote`, { file: f, flag: '--maps' });
    }
  }
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const users = await readSparkSide(conn, opts.userFactors, userMap, { int: '"user"', id: 'user_id' }, 'user', '<userFactors>');
    const items = await readSparkSide(conn, opts.itemFactors, itemMap, { int: 'item', id: 'item_id' }, 'item', '<itemFactors>');
    if (users.k !== items.k) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `user features have ${users.k} values but item features ${items.k}: both folders must come from one Spark ALSModel`, { file: resolve(opts.itemFactors) });
    }
    return AlsModel.fromFactors({ userIds: users.ids, itemIds: items.ids, userFactors: users.factors, itemFactors: items.factors, params: opts.params ?? {} });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes a model's factors in exactly Spark's ALSModel layout (`<dir>/userFactors`,
 * `<dir>/itemFactors`: Parquet part files with id: int, features: array<float>), numbering rows
 * by the model's own indexes, plus the matching id maps (so `importSparkAlsFactors` with
 * `maps = dir` round-trips). For tests and for handing our factors to Spark as a warm start.
 */
export async function writeSparkAlsLayout(model: AlsModel, dir: string, opts: { filesPerSide?: number } = {}): Promise<{ userFactors: string; itemFactors: string }> {
  if (!model.userIds || !model.itemIds) throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot write the factors of an unfitted ALS model');
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const k = model.factors;
  const files = Math.max(1, opts.filesPerSide ?? 2);
  try {
    const sides = [
      { name: 'userFactors', ids: model.userIds, f: model.userFactors, map: SPARK_USER_IDS, intCol: '"user"', idCol: 'user_id' },
      { name: 'itemFactors', ids: model.itemIds, f: model.itemFactors, map: SPARK_ITEM_IDS, intCol: 'item', idCol: 'item_id' },
    ];
    for (const side of sides) {
      await idTable(conn, 'ids', side.ids);
      await conn.run('CREATE OR REPLACE TEMP TABLE vals (g INTEGER, v FLOAT)');
      const app = await conn.createAppender('vals', 'main', 'temp');
      const chunk = DuckDBDataChunk.create([INTEGER, FLOAT]);
      const total = side.ids.size * k;
      for (let start = 0; start < total; start += 2048) {
        const n = Math.min(2048, total - start);
        chunk.rowCount = n;
        const gv = chunk.getColumnVector(0) as DuckDBIntegerVector;
        const vv = chunk.getColumnVector(1) as DuckDBFloatVector;
        for (let j = 0; j < n; j++) {
          gv.setItem(j, start + j);
          vv.setItem(j, side.f[start + j]);
        }
        gv.flush();
        vv.flush();
        app.appendDataChunk(chunk);
      }
      app.closeSync();
      const sideDir = join(root, side.name);
      await rm(sideDir, { recursive: true, force: true });
      await mkdir(sideDir, { recursive: true });
      // Spark writes one part file per partition, rows in no particular order: mimic both.
      for (let p = 0; p < files; p++) {
        await conn.run(
          `COPY (SELECT (g // ${k})::INTEGER AS id, list(v ORDER BY g) AS features FROM vals WHERE (g // ${k}) % ${files} = ${p} GROUP BY g // ${k} ORDER BY hash(g // ${k}))
           TO ${sqlString(join(sideDir, `part-${String(p).padStart(5, '0')}-recsys.snappy.parquet`))} (FORMAT parquet, COMPRESSION snappy)`,
        );
      }
      await writeFile(join(sideDir, '_SUCCESS'), '');
      await conn.run(`COPY (SELECT idx AS ${side.intCol}, id AS ${side.idCol} FROM ids ORDER BY idx) TO ${sqlString(join(root, side.map))} (FORMAT parquet)`);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return { userFactors: join(root, 'userFactors'), itemFactors: join(root, 'itemFactors') };
}
