import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRecsysError } from '../../src/core/errors.js';
import { naturalCompare, parseReport, reportToJson, stableJson } from '../../src/core/report/json.js';
import { fixtureReport, tinyReport } from './fixture.js';

test('report.json round-trips: parse(reportToJson(r)) deep-equals r', () => {
  for (const report of [fixtureReport(), tinyReport()]) {
    const text = reportToJson(report);
    assert.deepEqual(parseReport(text), report);
    assert.deepEqual(JSON.parse(text), report);
  }
});

test('report.json does not depend on key insertion order (stable layout)', () => {
  const a = fixtureReport();
  // The same report built with keys in reverse order at every level.
  const reverse = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reverse);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)]));
    return v;
  };
  assert.equal(reportToJson(reverse(a) as typeof a), reportToJson(a));
});

test('stableJson: identifying keys first, natural order, primitive arrays inline, non-finite as null', () => {
  const text = stableJson({ 'ndcg@10': 1, 'ndcg@5': 2, format: 'f', list: [1, 'a', null], nested: [{ b: 1, a: Number.NaN }], inf: Infinity });
  assert.equal(
    text,
    [
      '{',
      '  "format": "f",',
      '  "inf": null,',
      '  "list": [1, "a", null],',
      '  "ndcg@5": 2,',
      '  "ndcg@10": 1,',
      '  "nested": [',
      '    {',
      '      "a": null,',
      '      "b": 1',
      '    }',
      '  ]',
      '}',
      '',
    ].join('\n'),
  );
  assert.equal(stableJson({ t: new Float32Array([0.5, 2]), e: [], o: {} }), '{\n  "e": [],\n  "o": {},\n  "t": [0.5, 2]\n}\n');
});

test('report.json starts with format, version, runId and lists models before bulky data', () => {
  const lines = reportToJson(fixtureReport()).split('\n');
  assert.deepEqual(lines.slice(0, 5), ['{', '  "format": "recsys-report",', '  "version": 1,', '  "runId": "20261125-104512-popularity-vs-als",', '  "createdAt": "2026-11-25T10:45:12.000Z",']);
  const text = lines.join('\n');
  assert.ok(text.indexOf('"params"') < text.indexOf('"evaluation"'), 'params before evaluation');
  assert.ok(text.indexOf('"metrics"') < text.indexOf('"perUser"'), 'metrics before perUser');
  // Per-user arrays are one line each, not one line per user.
  assert.match(text, /"ndcg@10": \[0, 0\.9016, 0\.42,/);
});

test('naturalCompare orders digit runs numerically and is locale-free', () => {
  assert.deepEqual(['ndcg@20', 'ndcg@5', 'map@10', 'ndcg@10', 'map_capped@10', 'map@1'].sort(naturalCompare), ['map@1', 'map@10', 'map_capped@10', 'ndcg@5', 'ndcg@10', 'ndcg@20']);
  assert.ok(naturalCompare('B', 'a') < 0, 'code-unit order: uppercase first');
});

test('parseReport rejects non-reports with RECSYS_ERR_REPORT and the file name', () => {
  const cases: Array<[string, RegExp]> = [
    ['{not json', /bad\.json is not valid JSON/],
    ['{"format":"other"}', /bad\.json is not a recsys report/],
    ['{"format":"recsys-report","version":2,"models":[]}', /report version 2; this recsys reads version 1/],
    ['{"format":"recsys-report","version":1}', /no "models" array/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseReport(text, 'bad.json'),
      (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_REPORT' && message.test(e.message) && e.data.file === 'bad.json',
    );
  }
});
