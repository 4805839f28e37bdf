/**
 * `recsys train --model twotower` as a user runs it on ml-100k: train → eval, a warm start on new
 * interactions (a new user and a new movie get rows; known rows are kept), and the errors for
 * --backend webgpu without a GPU and --warm-start on a model that cannot continue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_DATASETS } from '../helpers.js';
import { TwoTowerModel, type TwoTowerFitReport } from '../../src/core/models/twotower/model.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/run.js');
const ML100K = join(SHARED_DATASETS, 'ml-100k');

function recsys(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = 'dimensions=32,hidden=64,epochs=2,patience=0,batchSize=2048,validationUsers=0';

test('twotower through the CLI: train → eval, warm start grows the tables, clear errors', { skip: !existsSync(join(ML100K, 'u.data')) && 'ml-100k not found' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-tt-cli-'));
  assert.equal(recsys(['ingest', ML100K, '--format', 'movielens-100k', '--store', 's.duckdb', '--quiet'], dir).code, 0);

  const train = recsys(['train', '--model', 'twotower', '--store', 's.duckdb', '--split', 'random:0.2:seed=42', '--param', SMALL, '--out', 'models/tt', '--json'], dir);
  assert.equal(train.code, 0, train.stderr);
  const fit = (JSON.parse(train.stdout) as { fit: TwoTowerFitReport }).fit;
  assert.equal(fit.loss, 'softmax');
  assert.equal(fit.epochs, 2);
  assert.equal(fit.steps, 2 * Math.ceil(80367 / 2048));
  assert.ok(fit.examplesPerSecond > 0);

  const ev = recsys(['eval', '--model', 'models/tt', '--store', 's.duckdb', '--json'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  const report = JSON.parse(ev.stdout) as { report: { models: Array<{ evaluation: { metrics: Record<string, { mean: number }> } }> } };
  const ndcg = report.report.models[0].evaluation.metrics['ndcg@10'].mean;
  assert.ok(ndcg > 0.1 && ndcg < 1, `ndcg@10 ${ndcg}`);

  // New interactions: a new user, a new movie (also rated by known user 196).
  writeFileSync(
    join(dir, 'extra.csv'),
    'user_id,item_id,event_type,timestamp\nnewbie,1,purchase,2024-01-01T00:00:00Z\nnewbie,50,click,2024-01-01T00:01:00Z\nnewbie,NEWMOVIE,click,2024-01-01T00:02:00Z\nnewbie,181,click,2024-01-01T00:03:00Z\n196,NEWMOVIE,click,2024-01-01T00:04:00Z\n',
  );
  assert.equal(recsys(['ingest', 'extra.csv', '--store', 's.duckdb', '--quiet'], dir).code, 0);
  const warm = recsys(['train', '--model', 'twotower', '--store', 's.duckdb', '--split', 'random:0.2:seed=42', '--warm-start', 'models/tt', '--param', 'steps=5', '--out', 'models/tt2', '--json'], dir);
  assert.equal(warm.code, 0, warm.stderr);
  const wfit = (JSON.parse(warm.stdout) as { fit: TwoTowerFitReport }).fit;
  assert.deepEqual(wfit.warmStart, { newUsers: 1, newItems: 1 });
  assert.equal(wfit.steps, 5);
  const before = await TwoTowerModel.load(join(dir, 'models/tt'));
  const after = await TwoTowerModel.load(join(dir, 'models/tt2'));
  assert.equal(after.userIds?.size, (before.userIds?.size ?? 0) + 1);
  assert.equal(after.itemIds?.size, (before.itemIds?.size ?? 0) + 1);
  assert.ok((after.userIds?.indexOf('newbie') ?? -1) >= 0);
  assert.ok((after.itemIds?.indexOf('NEWMOVIE') ?? -1) >= 0);
  // Known ids keep their index.
  for (const id of ['1', '196', '943']) assert.equal(after.userIds?.indexOf(id), before.userIds?.indexOf(id));

  const gpu = recsys(['train', '--model', 'twotower', '--store', 's.duckdb', '--backend', 'webgpu', '--param', SMALL, '--out', 'models/gpu'], dir);
  assert.equal(gpu.code, 13);
  assert.match(gpu.stderr, /RECSYS_ERR_BACKEND_UNAVAILABLE/);
  assert.match(gpu.stderr, /backend webgpu is not available: Dawn found no GPU adapter/);
  assert.ok(!existsSync(join(dir, 'models/gpu')), 'no model is written when the backend is unavailable');

  const als = recsys(['train', '--model', 'als', '--store', 's.duckdb', '--warm-start', 'models/tt'], dir);
  assert.notEqual(als.code, 0);
  assert.match(als.stderr, /--warm-start .*--model als does not support it/);
});
