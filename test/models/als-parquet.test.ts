/** Factor exchange as Parquet (id VARCHAR, vector FLOAT[]): round trip, Spark-style files, bad files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AlsModel } from '../../src/core/models/als/als.js';
import { exportFactorsParquet, importFactorsParquet } from '../../src/core/models/als/parquet.js';
import { isRecsysError } from '../../src/core/errors.js';
import { randomMatrix } from './als-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-als-parquet-'));

async function sql(statements: string[]): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  let rows: unknown[][] = [];
  try {
    for (const s of statements) rows = (await (await conn.run(s)).getRows()) as unknown[][];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return rows;
}

test('export → import round trip keeps ids, order and every float bit; rankings agree', async () => {
  const data = randomMatrix(150, 70, 12, 2);
  const model = new AlsModel({ factors: 6, iterations: 3, alpha: 2, workers: 1 });
  await model.fit(data);
  const files = await exportFactorsParquet(model, join(dir, 'rt'));
  // The files are plain (id VARCHAR, vector FLOAT[]) tables.
  const schema = await sql([`DESCRIBE SELECT * FROM read_parquet('${files.users}')`]);
  assert.deepEqual(schema.map((r) => [r[0], r[1]]), [['id', 'VARCHAR'], ['vector', 'FLOAT[]']]);
  const first = await sql([`SELECT id, len(vector) FROM read_parquet('${files.items}') LIMIT 1`]);
  assert.deepEqual(first, [['i0', 6n]]);
  const back = await importFactorsParquet(files.users, files.items, { alpha: 2 });
  assert.deepEqual(back.userIds?.ids, model.userIds?.ids);
  assert.deepEqual(back.itemIds?.ids, model.itemIds?.ids);
  assert.deepEqual(back.userFactors, model.userFactors);
  assert.deepEqual(back.itemFactors, model.itemFactors);
  assert.equal(back.factors, 6);
  assert.equal(back.params.alpha, 2);
  const users = Int32Array.from({ length: 30 }, (_, u) => u);
  assert.deepEqual((await back.recommend(users, 5, { exclude: data })).items, (await model.recommend(users, 5, { exclude: data })).items);
});

test('imports Spark-style factor files: integer ids, `features` DOUBLE[] column', async () => {
  const users = join(dir, 'spark_users.parquet');
  const items = join(dir, 'spark_items.parquet');
  await sql([
    `COPY (SELECT * FROM (VALUES (7, [1.0, 0.5]::DOUBLE[]), (3, [0.0, 2.0]::DOUBLE[])) t(id, features)) TO '${users}' (FORMAT parquet)`,
    `COPY (SELECT * FROM (VALUES (10, [1.0, 0.0]::DOUBLE[]), (11, [0.0, 1.0]::DOUBLE[]), (12, [1.0, 1.0]::DOUBLE[])) t(id, features)) TO '${items}' (FORMAT parquet)`,
  ]);
  const m = await importFactorsParquet(users, items);
  assert.deepEqual(m.userIds?.ids, ['7', '3']);
  assert.deepEqual(m.itemIds?.ids, ['10', '11', '12']);
  assert.deepEqual([...m.userFactors], [1, 0.5, 0, 2]);
  // user '7' = (1, 0.5): scores 1, 0.5, 1.5 → item '12' first, then '10', then '11'.
  const r = await m.recommend(Int32Array.of(0), 3);
  assert.deepEqual([...r.items], [2, 0, 1]);
  assert.deepEqual([...r.scores], [1.5, 1, 0.5]);
});

test('bad factor files fail with the file and the problem named', async () => {
  const ragged = join(dir, 'ragged.parquet');
  const noVector = join(dir, 'novector.parquet');
  const dupes = join(dir, 'dupes.parquet');
  await sql([
    `COPY (SELECT * FROM (VALUES ('a', [1.0, 2.0]::FLOAT[]), ('b', [1.0]::FLOAT[])) t(id, vector)) TO '${ragged}' (FORMAT parquet)`,
    `COPY (SELECT 'a' AS id, 1.0 AS score) TO '${noVector}' (FORMAT parquet)`,
    `COPY (SELECT * FROM (VALUES ('a', [1.0]::FLOAT[]), ('a', [2.0]::FLOAT[])) t(id, vector)) TO '${dupes}' (FORMAT parquet)`,
  ]);
  const good = join(dir, 'rt', 'item_factors.parquet');
  await assert.rejects(importFactorsParquet(ragged, good), (e) => isRecsysError(e) && /same length/.test(e.message) && e.data.file === ragged);
  await assert.rejects(importFactorsParquet(noVector, good), (e) => isRecsysError(e) && /'vector'/.test(e.message));
  await assert.rejects(importFactorsParquet(dupes, good), (e) => isRecsysError(e) && /distinct ids/.test(e.message));
  await assert.rejects(importFactorsParquet(join(dir, 'missing.parquet'), good), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND');
  await assert.rejects(exportFactorsParquet(new AlsModel(), join(dir, 'x')), /unfitted/);
  // Mismatched ranks between the two files.
  const k3 = join(dir, 'k3.parquet');
  await sql([`COPY (SELECT 'z' AS id, [1.0, 2.0, 3.0]::FLOAT[] AS vector) TO '${k3}' (FORMAT parquet)`]);
  await assert.rejects(importFactorsParquet(k3, good), /one model/);
});
