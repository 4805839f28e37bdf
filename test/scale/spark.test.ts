/**
 * The Spark MLlib ALS hand-off: `recsys export --for spark-als` writes exactly Spark's input schema
 * (user: int, item: int, rating: float) with the matrix's values, and factors in Spark's
 * ALSModel layout (userFactors / itemFactors folders of part files, id: int, features:
 * array<float>), written here by DuckDB, import into an artifact that ranks identically to the one
 * they came from. Data: the synthetic quickstart shop (2,000 users × 500 products, 60k events).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateSynth, SYNTH_PRESETS } from '../../src/core/data/synth.js';
import { ingestSynth } from '../../src/core/data/ingest/synth.js';
import { loadInteractionMatrix } from '../../src/core/data/load-matrix.js';
import { openStore, type Store } from '../../src/core/data/store.js';
import type { InteractionMatrix } from '../../src/core/data/matrix.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { closeAlsPool } from '../../src/core/models/als/pool.js';
import { RecsysError } from '../../src/core/errors.js';
import { exportForSparkAls, importSparkAlsFactors, writeSparkAlsLayout } from '../../src/core/scale/spark.js';

const WEIGHTS = { view: 1, click: 2, cart: 4, purchase: 8 };
let dir: string;
let store: Store;
let matrix: InteractionMatrix;
let model: AlsModel;

async function query(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    return (await con.runAndReadAll(sql)).getRows() as unknown[][];
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recsys-spark-'));
  await generateSynth({ ...SYNTH_PRESETS.quickstart, seed: 7, outDir: join(dir, 'data') });
  store = await openStore(join(dir, 'store.duckdb'));
  await ingestSynth(store, join(dir, 'data'));
  matrix = await loadInteractionMatrix(store, { weights: WEIGHTS });
  model = new AlsModel({ factors: 8, iterations: 3, workers: 1, alpha: 1, regularization: 0.05 });
  await model.fit(matrix);
  await model.save(join(dir, 'als'));
});

after(async () => {
  store?.close();
  await closeAlsPool();
  rmSync(dir, { recursive: true, force: true });
});

test('export --for spark-als: Spark input schema, partitioned, the matrix values, id maps of the model', async () => {
  const out = join(dir, 'export');
  const res = await exportForSparkAls(store, { outDir: out, weights: WEIGHTS, partitions: 4, idMaps: { users: model.userIds!, items: model.itemIds! } });
  assert.equal(res.pairs, matrix.nnz);
  assert.equal(res.droppedPairs, 0);
  assert.deepEqual(readdirSync(join(out, 'interactions')).sort(), ['part=0', 'part=1', 'part=2', 'part=3']);
  const glob = `read_parquet('${join(out, 'interactions', '**', '*.parquet')}', hive_partitioning = false)`;
  const schema = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${glob})`);
  assert.deepEqual(schema, [['user', 'INTEGER'], ['item', 'INTEGER'], ['rating', 'FLOAT']]);
  // Every pair with the matrix's value, under the model's indexes.
  const rows = await query(`SELECT "user", item, rating FROM ${glob} ORDER BY "user", item`);
  assert.equal(rows.length, matrix.nnz);
  for (let p = 0; p < matrix.nnz; p += 97) {
    const [u, i, r] = rows[p] as [number, number, number];
    assert.ok(p >= matrix.indptr[u] && p < matrix.indptr[u + 1], `row ${p} belongs to user ${u}`);
    assert.equal(i, matrix.indices[p]);
    assert.equal(r, matrix.values[p]);
  }
  const users = await query(`SELECT "user", user_id FROM read_parquet('${join(out, 'user_ids.parquet')}') ORDER BY 1`);
  assert.equal(users.length, matrix.nUsers);
  assert.deepEqual(users[5], [5, model.userIds!.idOf(5)]);
  assert.ok(existsSync(join(out, 'spark-als.json')));
});

test('import-factors --from spark-als: an artifact from Spark-layout Parquet ranks exactly like the one exported', async () => {
  const exportDir = join(dir, 'export2');
  await exportForSparkAls(store, { outDir: exportDir, weights: WEIGHTS, idMaps: { users: model.userIds!, items: model.itemIds! } });
  const sparkModel = join(dir, 'spark-model');
  const written = await writeSparkAlsLayout(model, sparkModel, { filesPerSide: 3 });
  // Exactly Spark's layout: a folder of part files, id: int, features: array<float>.
  const parts = readdirSync(written.userFactors).filter((f) => f.endsWith('.parquet'));
  assert.equal(parts.length, 3);
  const schema = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${join(written.userFactors, '*.parquet')}'))`);
  assert.deepEqual(schema, [['id', 'INTEGER'], ['features', 'FLOAT[]']]);

  const imported = await importSparkAlsFactors({ userFactors: written.userFactors, itemFactors: written.itemFactors, maps: exportDir, params: { regularization: 0.05, alpha: 1 } });
  await imported.save(join(dir, 'imported'));
  const original = await AlsModel.load(join(dir, 'als'));
  const reloaded = await AlsModel.load(join(dir, 'imported'));
  assert.deepEqual(reloaded.userIds!.ids, original.userIds!.ids);
  assert.deepEqual(reloaded.itemIds!.ids, original.itemIds!.ids);
  const users = Int32Array.from({ length: original.nUsers }, (_, u) => u);
  const a = await original.recommend(users, 10, { exclude: matrix });
  const b = await reloaded.recommend(users, 10, { exclude: matrix });
  assert.deepEqual(b.items, a.items);
  assert.deepEqual(b.scores, a.scores);
});

test('import-factors: mllib-style double features are cast; unknown ids and bad layouts are named', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const u = join(dir, 'mllib-user.parquet');
  const i = join(dir, 'mllib-item.parquet');
  await con.run(`COPY (SELECT * FROM (VALUES (0, [1.0, 0.0]::DOUBLE[]), (1, [0.0, 1.0]::DOUBLE[])) t(id, features)) TO '${u}' (FORMAT parquet)`);
  await con.run(`COPY (SELECT * FROM (VALUES (0, [2.0, 0.0]::DOUBLE[]), (1, [0.0, 3.0]::DOUBLE[]), (2, [1.0, 1.0]::DOUBLE[])) t(id, features)) TO '${i}' (FORMAT parquet)`);
  const stray = join(dir, 'stray-user.parquet');
  await con.run(`COPY (SELECT * FROM (VALUES (0, [1.0, 0.0]::FLOAT[]), (99999, [0.0, 1.0]::FLOAT[])) t(id, features)) TO '${stray}' (FORMAT parquet)`);
  const bad = join(dir, 'bad.parquet');
  await con.run(`COPY (SELECT 1 AS id, [1.0]::FLOAT[] AS vec) TO '${bad}' (FORMAT parquet)`);
  con.closeSync();
  db.closeSync();
  const m = await importSparkAlsFactors({ userFactors: u, itemFactors: i });
  assert.deepEqual(m.userIds!.ids, ['0', '1']);
  assert.deepEqual(Array.from(m.itemFactors), [2, 0, 0, 3, 1, 1]);
  const r = await m.recommend(Int32Array.of(0, 1), 1);
  assert.deepEqual(Array.from(r.items), [0, 1]);
  // With the export's maps (2,000 users), a Spark id the export never wrote is refused with the --maps hint.
  const withMaps = await importSparkAlsFactors({ userFactors: u, itemFactors: i, maps: join(dir, 'export2') });
  assert.deepEqual(withMaps.userIds!.ids, [model.userIds!.idOf(0), model.userIds!.idOf(1)]);
  await assert.rejects(
    importSparkAlsFactors({ userFactors: stray, itemFactors: i, maps: join(dir, 'export2') }),
    (e: unknown) => e instanceof RecsysError && /1 user ids of .* are not in .*user_ids\.parquet.*--maps/.test(e.message),
  );
  await assert.rejects(importSparkAlsFactors({ userFactors: bad, itemFactors: i }), (e: unknown) => e instanceof RecsysError && /'id' \(int\) and 'features'/.test(e.message));
  await assert.rejects(importSparkAlsFactors({ userFactors: join(dir, 'nope'), itemFactors: i }), (e: unknown) => e instanceof RecsysError && e.code === 'RECSYS_ERR_FILE_NOT_FOUND');
});
