/**
 * `recsys train --model ensemble` and `recsys eval --ablation --diversity-curve` as a user runs them:
 * the built bin/run.js on ml-100k (`npm test` builds first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_DATASETS } from '../helpers.js';
import type { Report } from '../../src/core/eval/types.js';
import { trainModel } from '../../src/core/workflows/train.js';
import { runEvaluation } from '../../src/core/workflows/eval.js';

const BIN = new URL('../../bin/run.js', import.meta.url).pathname;

function recsys(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: { stdout: string; stderr: string; code: number }): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

test('ml-100k: train an ensemble from member artifacts, evaluate it with segments, ablation and the λ curve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-ensemble-cli-'));
  const split = ['--split', 'random:0.2:seed=42'];
  assert.equal(recsys(['ingest', join(SHARED_DATASETS, 'ml-100k'), '--format', 'movielens-100k', '-q'], dir).code, 0);
  for (const args of [['--model', 'popularity'], ['--model', 'als', '--factors', '16', '--iterations', '5', '--regularization', '0.5', '--alpha', '1']]) {
    const r = recsys(['train', ...args, ...split, '-q'], dir);
    assert.equal(r.code, 0, r.stderr);
  }
  // Misuse, through the same workflow in-process (a subprocess each would only add start-up time).
  const store = join(dir, 'recsys.duckdb');
  const base = { store, model: 'ensemble', split: 'random:0.2:seed=42', splitsDir: join(dir, 'splits') };
  writeFileSync(join(dir, 'typo.json'), JSON.stringify({ rules: { diversity: { lamda: 0.5 } } }));
  await assert.rejects(trainModel({ ...base, ensemble: { members: [join(dir, 'models/als')], rulesFile: join(dir, 'typo.json') } }), /typo\.json: unknown key 'rules\.diversity\.lamda'/);
  await assert.rejects(trainModel({ ...base, model: 'als', ensemble: { members: [join(dir, 'models/als')] } }), /belong to --model ensemble/);
  await assert.rejects(trainModel({ ...base, split: 'random:0.1:seed=1', ensemble: { members: [join(dir, 'models/popularity')] } }), /models\/popularity was trained on split/);

  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: { excludeLists: { lists: { blocked: ['50'] } } }, router: { minSegmentUsers: 10 } }));
  const trained = recsys(['train', '--model', 'ensemble', '--members', 'models/als', '--members', 'models/popularity', '--member-weights', 'als=0.7,popularity=0.3', '--rules', 'rules.json', ...split, '--json'], dir);
  assert.equal(trained.code, 0, trained.stderr);
  const fit = json<{ fit: { weights: Record<string, number>; members: Array<{ name: string }>; segments: { levels: number } } }>(trained).fit;
  assert.deepEqual(fit.weights, { als: 0.7, popularity: 0.3 });
  assert.deepEqual(fit.members.map((m) => m.name), ['als', 'popularity']);
  assert.ok(fit.segments.levels > 0, 'demographics were loaded from the store');

  const ev = recsys(['eval', '--model', 'models/ensemble', '--ablation', '--diversity-curve', '1,0.5', '--bootstrap', '100', '--json'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  const report = json<{ report: Report }>(ev).report;
  const ens = report.models[0];
  assert.equal(ens.name, 'ensemble');
  assert.ok(ens.evaluation.metrics['ndcg@10'].mean > 0.2);
  assert.deepEqual(ens.evaluation.segments?.byUserHistory.map((r) => r.segment), ['0', '1–4', '5–19', '20+']);
  assert.deepEqual(ens.evaluation.segments?.byStrategy?.map((r) => [r.segment, r.users]), [['ensemble', 943]]);
  assert.deepEqual(report.ablation?.[0].rows.map((r) => r.variant), ['full', '− als', '− popularity', '− popularityBoost', '− newItemBoost']);
  assert.equal(report.diversityCurves?.[0].points.length, 2);
  assert.ok((report.diversityCurves?.[0].points[1].diversity ?? 0) > (report.diversityCurves?.[0].points[0].diversity ?? 1));
  assert.deepEqual(ens.evaluation.segments?.byItemPopularity.map((r) => r.segment), ['head', 'mid', 'tail', 'cold']);
  await assert.rejects(runEvaluation({ models: [join(dir, 'models/als')], ablation: true, reportsDir: join(dir, 'reports') }), /need an ensemble among the --model directories/);
});
