import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtP, fmtSeconds, fmtSigned, fmtSummary, mdText, parseMetricKey, renderMarkdown } from '../../src/core/report/markdown.js';
import { fixtureReport, tinyReport } from './fixture.js';

test('report.md for the tiny fixture, line by line', () => {
  const expected = [
    '# recsys report 20261125-104512-tiny',
    '',
    '- **Created:** 2026-11-25T10:45:12.000Z',
    '- **Git commit:** not a git checkout',
    '- **Dataset:** `tiny.duckdb`: 3 users × 4 items, 6 interactions (fingerprint `abc123`)',
    '- **Split:** `{"kind":"leave-last-k","k":1}`: 4 train pairs, 2 test pairs (fingerprint `def456`)',
    '- **Models:** pop\\|ular; cut-offs k = 2 (main k = 2)',
    '',
    '## Ranking metrics',
    '',
    'Mean over evaluated users with a bootstrap 95% confidence interval in brackets.',
    '',
    '### pop\\|ular',
    '',
    '| metric | @2 (main) |',
    '|---|---:|',
    '| precision | 0.2500 [0.0000, 0.5000] |',
    '| recall | 0.2500 [0.0000, 0.5000] |',
    '| ndcg | 0.5000 [0.0000, 1.0000] |',
    '',
    'Metric names: precision = hits in the top k ÷ k; recall = hits in the top k ÷ \\|R\\| (all relevant test items); ndcg = NDCG with binary gain.',
    '',
    '## Beyond accuracy',
    '',
    '| metric | model | @2 (main) |',
    '|---|---|---:|',
    '| coverage | pop\\|ular | 0.5000 |',
    '| novelty | pop\\|ular | 1.5000 |',
    '',
    'Metric names: coverage = share of the catalogue recommended to anyone; novelty = mean self-information −log2(popularity) in bits.',
    '',
    '## Paired comparisons',
    '',
    'No paired comparisons (they need two or more models on the same split).',
    '',
    '## Users',
    '',
    '| model | evaluated | skipped (no test items) | empty lists (scored 0) |',
    '|---|---:|---:|---:|',
    '| pop\\|ular | 2 | 1 | 1 |',
    '',
    '## Timings',
    '',
    '| step | time |',
    '|---|---:|',
    '| evaluate | 500 ms |',
    '| pop\\|ular: recommend | 2 ms |',
    '| pop\\|ular: metrics | 1.25 s |',
    '',
    '## Models',
    '',
    '### pop\\|ular',
    '',
    '- **Artifact:** none (not saved)',
    '',
    '```json',
    '{',
    '  "variant": "count"',
    '}',
    '```',
    '',
    '---',
    '',
    'Charts (metric@k curves, per-user distributions, long tail) are in `report.html` next to this file.',
    '',
  ];
  assert.deepEqual(renderMarkdown(tinyReport()).split('\n'), expected);
});

test('report.md for two models: side-by-side table at the main k, per-k tables, comparisons, users, git', () => {
  const md = renderMarkdown(fixtureReport());
  const lines = md.split('\n');
  const has = (line: string): void => assert.ok(lines.includes(line), `missing line: ${line}`);
  has('- **Git commit:** `0123456789ab (with uncommitted changes)`');
  has('### All models at k = 10');
  has('| metric | popularity | als |');
  has('| ndcg | 0.3637 [0.3406, 0.3869] | 0.3431 [0.3199, 0.3663] |');
  has('| metric | @1 | @5 | @10 (main) | @20 |');
  has('| metric | model | @10 (main) |');
  // One row per metric and model; decimals per metric so a column lines up.
  has('| novelty | popularity | 10.00 |');
  has('| novelty | als | 8.96 |');
  has('| popularity_bias | als | 311.1 |');
  has('| ndcg@10 | popularity | als | +0.0843 | [+0.0412, +0.1301] | 0.0004 | 0.0006 | 40 |');
  has('| recall@10 | popularity | als | +0.0121 | [−0.0213, +0.0455] | 0.4731 | 0.4812 | 40 |');
  has('| als | 40 | 3 | 1 |');
  has('| load | 210 ms |');
  // Every ranking metric appears once per model table and once in the side-by-side table.
  assert.equal(lines.filter((l) => l.startsWith('| map_capped |')).length, 3);
  // The same report always renders to the same text.
  assert.equal(renderMarkdown(fixtureReport()), md);
});

test('report.md escapes user-supplied names: no markup, no HTML, no broken table cells', () => {
  const r = tinyReport();
  const m = r.models[0];
  assert.ok(m);
  m.name = '*bold* <script>x</script> a|b [link](http://x) `code`\nnext';
  const md = renderMarkdown(r);
  assert.ok(!md.includes('<script>'), 'raw HTML must not pass through');
  assert.ok(md.includes('\\*bold\\* \\<script\\>x\\</script\\> a\\|b \\[link\\](http://x) \\`code\\` next'));
  // A table row still has exactly its 4 unescaped cell separators + edges.
  const row = md.split('\n').find((l) => l.startsWith('| \\*bold') && l.endsWith('| 2 | 1 | 1 |'));
  assert.ok(row, 'users row present');
  assert.equal(row.split(/(?<!\\)\|/).length - 2, 4);
});

test('markdown helpers: metric keys and number formats', () => {
  assert.deepEqual(parseMetricKey('ndcg_graded@10'), { name: 'ndcg_graded', k: 10 });
  assert.equal(parseMetricKey('coverage'), null);
  assert.equal(parseMetricKey('x@0'), null);
  assert.equal(mdText('recall_capped _x_ a_'), 'recall_capped \\_x\\_ a\\_');
  assert.equal(fmtSummary({ mean: 0.12345, ci95: [0.1, 0.15], std: 0.1, n: 3 }), '0.1235 [0.1000, 0.1500]');
  // A missing CI (null after a JSON round trip) shows just the mean.
  assert.equal(fmtSummary({ mean: 0.5, ci95: [null, null] as unknown as [number, number], std: 0, n: 1 }), '0.5000');
  assert.equal(fmtP(0.00001), '< 0.0001');
  assert.equal(fmtP(null), '–');
  assert.equal(fmtSigned(-0.01), '−0.0100');
  assert.equal(fmtSeconds(0.0004), '0 ms');
  assert.equal(fmtSeconds(75), '1 min 15 s');
});
