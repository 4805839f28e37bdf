import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateRankings } from '../../src/core/eval/evaluate.js';
import { DEFAULT_MAX_DROP, formatGateTable, gate, gateFailure, loadReport, parseMaxDrop } from '../../src/core/eval/gate.js';
import type { EvaluationResult, Report } from '../../src/core/eval/types.js';
import type { Rankings } from '../../src/core/models/recommender.js';
import { isRecsysError } from '../../src/core/errors.js';
import { matrixFromRows } from '../helpers.js';

function usageError(flag: string, pattern: RegExp) {
  return (e: unknown): boolean => isRecsysError(e) && e.code === 'RECSYS_ERR_USAGE' && e.data.flag === flag && pattern.test(e.message) && e.message.includes(flag);
}

test('parseMaxDrop reads metric@k=drop pairs', () => {
  assert.deepEqual(parseMaxDrop('ndcg@10=0.01,recall@10=0.02'), [
    { metric: 'ndcg@10', maxDrop: 0.01 },
    { metric: 'recall@10', maxDrop: 0.02 },
  ]);
  assert.deepEqual(parseMaxDrop(' map_capped@5 = 0 , coverage@10=0.1, '), [
    { metric: 'map_capped@5', maxDrop: 0 },
    { metric: 'coverage@10', maxDrop: 0.1 },
  ]);
  assert.deepEqual(parseMaxDrop(''), []);
});

test('parseMaxDrop rejects malformed text naming --max-drop', () => {
  assert.throws(() => parseMaxDrop('ndcg@10'), usageError('--max-drop', /no "="/));
  assert.throws(() => parseMaxDrop('ndcg=0.01'), usageError('--max-drop', /not a metric@k key/));
  assert.throws(() => parseMaxDrop('ndcg@0=0.01'), usageError('--max-drop', /not a metric@k key/));
  assert.throws(() => parseMaxDrop('ndgc@10=0.01'), usageError('--max-drop', /unknown metric "ndgc"/));
  assert.throws(() => parseMaxDrop('ndcg@10=abc'), usageError('--max-drop', /must be a number ≥ 0/));
  assert.throws(() => parseMaxDrop('ndcg@10=-0.1'), usageError('--max-drop', /must be a number ≥ 0/));
  assert.throws(() => parseMaxDrop('ndcg@10='), usageError('--max-drop', /must be a number ≥ 0/));
  assert.throws(() => parseMaxDrop('ndcg@10=0.1,ndcg@10=0.2'), usageError('--max-drop', /given twice/));
});

// A tiny split and two models' rankings: "good" finds both test items of u0, "worse" only one, lower.
const train = matrixFromRows([[0], [1]], 6);
const testM = matrixFromRows([[2, 3], [4]], 6);
function rk(lists: number[][]): Rankings {
  const items = new Int32Array(lists.length * 3).fill(-1);
  lists.forEach((l, r) => items.set(l, r * 3));
  return { users: Int32Array.from(lists.keys()), k: 3, items, scores: new Float32Array(items.length) };
}
const evalOf = (lists: number[][], model: string): EvaluationResult =>
  evaluateRankings(rk(lists), { train, test: testM }, { ks: [1, 3], mainK: 3, bootstrapSamples: 20, model });

function report(evaluations: EvaluationResult[], splitFingerprint = 'split-a'): Report {
  return {
    format: 'recsys-report',
    version: 1,
    runId: 'run-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    git: { commit: null, dirty: null },
    dataset: { store: 'x.duckdb', fingerprint: 'data-a', nUsers: 2, nItems: 6, nnz: 5 },
    split: { config: {}, fingerprint: splitFingerprint, trainPairs: 2, testPairs: 3 },
    models: evaluations.map((e) => ({ name: e.model, artifact: null, params: {}, evaluation: e })),
    comparisons: [],
    timings: {},
  };
}

const good = evalOf([[2, 3, 5], [4, 0, 5]], 'popularity');
const worse = evalOf([[5, 2, 0], [5, 0, 4]], 'popularity');

test('gate passes on equal reports with the default rules (every ranking metric at main k)', () => {
  const result = gate(report([good]), report([good]), []);
  assert.equal(result.passed, true);
  assert.deepEqual(
    result.rows.map((r) => r.metric),
    ['precision@3', 'recall@3', 'recall_capped@3', 'ndcg@3', 'ndcg_graded@3', 'map@3', 'map_capped@3', 'mrr@3', 'hit_rate@3'],
  );
  assert.ok(result.rows.every((r) => r.passed && r.delta === 0 && r.maxDrop === DEFAULT_MAX_DROP));
  assert.deepEqual(result.warnings, []);
  assert.match(formatGateTable(result), /PASSED: all 9 metrics within their allowed drop/);
});

test('gate fails on a worse model with the regressed rows marked', () => {
  // good: u0 hits at 1, 2 (precision 2/3), u1 hit at 1 → precision@3 mean (2/3 + 1/3)/2 = 0.5
  // worse: u0 hit at 2 (1/3), u1 hit at 3 (1/3) → 1/3; hit_rate@3 stays 1 for both
  const result = gate(report([good]), report([worse]), parseMaxDrop('precision@3=0.1,hit_rate@3=0,mrr@3=0.9'));
  assert.equal(result.passed, false);
  const byMetric = Object.fromEntries(result.rows.map((r) => [r.metric, r]));
  assert.equal(byMetric['precision@3'].passed, false);
  assert.ok(Math.abs(byMetric['precision@3'].delta - (1 / 3 - 0.5)) < 1e-12);
  assert.equal(byMetric['hit_rate@3'].passed, true); // no drop at all
  // mrr: good (1 + 1)/2 = 1, worse (1/2 + 1/3)/2 = 5/12: a drop of 7/12 ≈ 0.583 ≤ 0.9 allowed
  assert.equal(byMetric['mrr@3'].passed, true);
  const table = formatGateTable(result);
  assert.match(table, /precision@3\s+0\.5000\s+0\.3333\s+-0\.1667\s+0\.1000\s+FAIL/);
  assert.match(table, /hit_rate@3\s+1\.0000\s+1\.0000\s+\+0\.0000\s+0\.0000\s+PASS/);
  assert.match(table, /FAILED: 1 of 3 metrics failed; 1 regressed beyond their allowed drop: precision@3$/);
  assert.match(table, /^  precision@3: dropped by 0\.1667, more than the allowed 0\.1$/m);
  // every data line of the table has the same column layout (aligned)
  const lines = table.split('\n').filter((l) => /(PASS|FAIL)$/.test(l));
  assert.equal(lines.length, 3);
  assert.equal(new Set(lines.map((l) => l.search(/(PASS|FAIL)$/))).size, 1);
  const err = gateFailure(result);
  assert.equal(err.code, 'RECSYS_ERR_GATE_FAILED');
  assert.equal(err.exit, 10);
  assert.match(err.message, /precision@3/);
});

test('a drop exactly equal to the allowance passes (floating-point slack)', () => {
  const a = structuredClone(good);
  const b = structuredClone(good);
  a.metrics['ndcg@3'].mean = 0.1;
  b.metrics['ndcg@3'].mean = 0.09; // 0.09 − 0.1 = −0.010000000000000009 in doubles
  assert.equal(gate(report([a]), report([b]), parseMaxDrop('ndcg@3=0.01')).passed, true);
  b.metrics['ndcg@3'].mean = 0.0899;
  assert.equal(gate(report([a]), report([b]), parseMaxDrop('ndcg@3=0.01')).passed, false);
});

test('a metric missing in either report fails with a reason', () => {
  const result = gate(report([good]), report([good]), parseMaxDrop('ndcg@10=0.01,ndcg@3=0.01'));
  assert.equal(result.passed, false);
  const row = result.rows[0];
  assert.equal(row.metric, 'ndcg@10');
  assert.equal(row.passed, false);
  assert.match(row.reason ?? '', /missing in both reports \(evaluated at k = 1, 3\)/);
  assert.equal(result.rows[1].passed, true);
  assert.match(formatGateTable(result), /ndcg@10\s+missing\s+missing\s+-/);
  assert.match(formatGateTable(result), /FAILED: 1 of 2 metrics failed; 1 missing: ndcg@10$/);
});

test('popularity_bias is lower-is-better: a rise is the regression', () => {
  const a = structuredClone(good);
  const b = structuredClone(good);
  a.beyondAccuracy['popularity_bias@3'] = 0.5;
  b.beyondAccuracy['popularity_bias@3'] = 0.6;
  assert.equal(gate(report([a]), report([b]), parseMaxDrop('popularity_bias@3=0.05')).passed, false);
  assert.equal(gate(report([b]), report([a]), parseMaxDrop('popularity_bias@3=0.05')).passed, true);
});

test('model selection: several models need --model; different splits warn', () => {
  const als = { ...good, model: 'als' };
  assert.throws(() => gate(report([good, als]), report([good]), []), (e) => isRecsysError(e) && e.data.flag === '--model' && /pass --model/.test(e.message));
  const r = gate(report([good, als]), report([worse, als]), [], { model: 'popularity' });
  assert.equal(r.baselineModel, 'popularity');
  assert.equal(r.passed, false);
  assert.throws(() => gate(report([good]), report([good]), [], { model: 'nope' }), /has no model "nope"/);
  const warned = gate(report([good], 'split-a'), report([good], 'split-b'), []);
  assert.equal(warned.passed, true);
  assert.match(warned.warnings?.[0] ?? '', /different splits/);
  assert.match(formatGateTable(warned), /warning: the reports were evaluated on different splits/);
});

test('loadReport validates the file and says what to pass instead', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-gate-'));
  try {
    const ok = join(dir, 'report.json');
    writeFileSync(ok, JSON.stringify(report([good])));
    const loaded = await loadReport(ok);
    assert.equal(loaded.models[0].evaluation.metrics['ndcg@3'].mean, good.metrics['ndcg@3'].mean);
    assert.equal(gate(loaded, report([good]), []).passed, true);

    await assert.rejects(loadReport(join(dir, 'missing.json')), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && e.data.flag === '--gate');
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ "format": ');
    await assert.rejects(loadReport(notJson), (e) => isRecsysError(e) && e.code === 'RECSYS_ERR_REPORT' && /not valid JSON/.test(e.message));
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ format: 'recsys-artifact', version: 1 }));
    await assert.rejects(loadReport(other), (e) => isRecsysError(e) && /"format" is "recsys-artifact", expected "recsys-report"/.test(e.message) && /report\.json/.test(e.message));
    const future = join(dir, 'v2.json');
    writeFileSync(future, JSON.stringify({ ...report([good]), version: 2 }));
    await assert.rejects(loadReport(future), /version 2 recsys report/);
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, JSON.stringify({ ...report([]) }));
    await assert.rejects(loadReport(empty), /no evaluated models/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
