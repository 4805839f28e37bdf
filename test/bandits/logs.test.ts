import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ContextEncoder,
  estimateActionDistribution,
  readDelimited,
  readGenericLog,
  readLog,
  readObd,
  summarizeLog,
  validateLog,
  FeatureTableBuilder,
  type LoggedBandit,
} from '../../src/core/bandits/logs/index.js';
import { isRecsysError } from '../../src/core/errors.js';
import { SHARED_DATASETS } from '../helpers.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-bandit-logs-'));
after(() => rm(root, { recursive: true, force: true }));
const OBD = join(SHARED_DATASETS, 'obd-small');

async function records(text: string | Buffer, name = 'x.csv', delimiter = ','): Promise<Array<[string[], number]>> {
  const path = join(root, name);
  await writeFile(path, text);
  const out: Array<[string[], number]> = [];
  await readDelimited(path, delimiter, (fields, line) => out.push([[...fields], line]));
  return out;
}

test('CSV reader: quotes, doubled quotes, newlines inside quotes, CRLF, blank lines, no final newline', async () => {
  const text = 'a,b,c\r\n1,"x, y",3\r\n\r\n2,"say ""hi""","multi\nline"\n3,,\n4,"",last';
  assert.deepEqual(await records(text), [
    [['a', 'b', 'c'], 1],
    [['1', 'x, y', '3'], 2],
    [['2', 'say "hi"', 'multi\nline'], 4],
    [['3', '', ''], 6],
    [['4', '', 'last'], 7],
  ]);
  // The same bytes gzipped, read in one stream with node:zlib.
  assert.deepEqual(await records(gzipSync(Buffer.from(text)), 'x.csv.gz'), await records(text));
  assert.deepEqual(await records('a\tb\n1\t2\n', 'x.tsv', '\t'), [
    [['a', 'b'], 1],
    [['1', '2'], 2],
  ]);
  await assert.rejects(records('a,b\n1,"open\n'), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_INGEST_ROW' && /never closed/.test(e.message) && e.data.line === 2);
  await assert.rejects(records(Buffer.from('not gzip'), 'bad.csv.gz'), (e: unknown) => isRecsysError(e) && /really gzipped/.test(e.message));
  await assert.rejects(readDelimited(join(root, 'missing.csv'), ',', () => {}), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND');
});

test('OBD reader: obd-small random/men streams into typed arrays with the dataset’s facts', async () => {
  const log = await readObd(join(OBD, 'random', 'men'));
  assert.equal(log.source.format, 'obd');
  assert.equal(log.n, 10000);
  assert.equal(log.nArms, 34); // item_context.csv lists items 0..33
  assert.equal(log.nPositions, 3);
  assert.ok(log.actions instanceof Int32Array && log.rewards instanceof Float64Array && log.propensities instanceof Float64Array);
  let clicks = 0;
  for (const r of log.rewards) clicks += r;
  assert.equal(clicks, 46); // zcat men.csv.gz | awk -F, 'NR>1{s+=$5} END{print s}'
  // The uniform logging policy: every propensity is 1/34 at every position.
  assert.ok(log.propensities?.every((p) => p === 0.029411764705882353));
  // First row: item 14 at position 3, 2019-11-24 00:03:13.442536 UTC.
  assert.equal(log.actions[0], 14);
  assert.equal(log.positions[0], 2);
  assert.equal(log.timestamps?.[0], Date.UTC(2019, 10, 24, 0, 3, 13, 442) / 1000);
  assert.deepEqual(log.context.categoricalNames, ['user_feature_0', 'user_feature_1', 'user_feature_2', 'user_feature_3']);
  assert.deepEqual(log.context.vocab.map((v) => v.length), [3, 5, 9, 8]);
  assert.equal(log.context.numericNames.length, 34);
  assert.ok(log.armFeatures && log.armFeatures.rows === 34);
  const enc = new ContextEncoder(log.context, { bias: true });
  assert.equal(enc.dim, 1 + 25 + 34);
  const s = summarizeLog(log, enc.dim);
  assert.equal(s.uniform, true);
  assert.equal(s.meanReward, 0.0046);
  assert.equal(s.timeFrom?.slice(0, 10), '2019-11-24');
});

test('OBD reader: readLog detects the layout, and a folder of campaigns or a wrong file is an actionable error', async () => {
  const log = await readLog(join(OBD, 'bts', 'women', 'women.csv.gz'));
  assert.equal(log.source.format, 'obd');
  assert.equal(log.nArms, 46);
  await assert.rejects(readLog(join(OBD, 'random')), (e: unknown) => isRecsysError(e) && /pass one campaign folder/.test(e.message) && /random\/men/.test(e.message));
  await assert.rejects(readObd(join(OBD, 'random', 'men', 'item_context.csv')), (e: unknown) => {
    assert.ok(isRecsysError(e));
    assert.equal(e.code, 'RECSYS_ERR_INGEST_COLUMN');
    assert.match(e.message, /missing column\(s\) position, click, propensity_score/);
    assert.match(e.message, /It has: \(index\), item_id, item_feature_0/);
    assert.ok(e.data.file?.endsWith('item_context.csv'));
    return true;
  });
  await assert.rejects(readLog(join(root, 'nope.csv')), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && e.data.flag === '--logged');
});

test('OBD reader: a bad row names its file and line', async () => {
  const dir = join(root, 'obd-bad');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'c.csv'), ',timestamp,item_id,position,click,propensity_score,user_feature_0\n0,2019-11-24 00:00:00+00:00,1,1,0,0.5,a\n1,2019-11-24 00:00:01+00:00,0,1,1,0,b\n');
  await assert.rejects(readObd(dir), (e: unknown) => isRecsysError(e) && e.data.line === 3 && /propensity_score must be in \(0, 1\]/.test(e.message));
  await writeFile(join(dir, 'c.csv'), ',timestamp,item_id,position,click,propensity_score\n0,2019-11-24 00:00:00+00:00,4,2,0,0.5\n');
  const ok = await readObd(dir);
  assert.equal(ok.nArms, 5);
  assert.match(ok.notes[0] ?? '', /no item_context\.csv/);
});

test('generic reader: A/B log over model names, aliases, labels in natural order, context types', async () => {
  const path = join(root, 'ab.csv');
  await writeFile(
    path,
    'request_id,arm,device,price,click,propensity\n' +
      'r1,mf,mobile,10.5,1,0.3333333333\n' +
      'r2,two_tower,desktop,3,0,0.3333333333\n' +
      'r3,content,mobile,7,0,0.3333333333\n' +
      'r4,mf,tablet,1,1,0.3333333333\n',
  );
  const log = await readLog(path);
  assert.equal(log.source.format, 'csv');
  assert.deepEqual(log.armIds, ['content', 'mf', 'two_tower']);
  assert.deepEqual([...log.actions], [1, 2, 0, 1]);
  assert.deepEqual([...log.rewards], [1, 0, 0, 1]);
  assert.deepEqual(log.columns.action, 'arm');
  assert.deepEqual(log.columns.reward, 'click');
  assert.deepEqual(log.context.categoricalNames, ['device']);
  assert.deepEqual(log.context.numericNames, ['price']);
  assert.deepEqual([...log.context.numeric], [10.5, 3, 7, 1]);
  assert.equal(log.nPositions, 1);

  // JSON Lines with booleans, 0-based positions and an explicit context list.
  const jl = join(root, 'log.jsonl');
  await writeFile(jl, ['{"item":"b","reward":true,"pscore":0.5,"slot":0,"u":"x"}', '', '{"item":"a","reward":false,"pscore":0.25,"slot":1,"u":"y","extra":1}'].join('\n'));
  const j = await readGenericLog(jl, { contextColumns: ['u'] });
  assert.deepEqual(j.armIds, ['a', 'b']);
  assert.deepEqual([...j.rewards], [1, 0]);
  assert.deepEqual([...(j.propensities ?? [])], [0.5, 0.25]);
  assert.deepEqual([...j.positions], [0, 1]);
  assert.equal(j.nPositions, 2);
  assert.match(j.notes.join(' '), /start at 0/);
});

test('generic reader: missing columns and bad values are errors that say what to pass', async () => {
  const path = join(root, 'nocol.csv');
  await writeFile(path, 'who,what\n1,2\n');
  await assert.rejects(readGenericLog(path), (e: unknown) => {
    assert.ok(isRecsysError(e));
    assert.equal(e.code, 'RECSYS_ERR_INGEST_COLUMN');
    assert.match(e.message, /no action column: looked for action, arm, item_id/);
    assert.match(e.message, /Its columns: who, what/);
    assert.equal(e.data.flag, '--action-column');
    return true;
  });
  await assert.rejects(readGenericLog(path, { actionColumn: 'who', rewardColumn: 'nope' }), (e: unknown) => isRecsysError(e) && /no column 'nope' \(given by --reward-column\)/.test(e.message));
  const bad = join(root, 'badp.csv');
  await writeFile(bad, 'arm,reward,propensity\na,1,0.5\nb,0,1.5\n');
  await assert.rejects(readGenericLog(bad), (e: unknown) => isRecsysError(e) && e.data.line === 3 && /must be in \(0, 1\]/.test(e.message));
  const ids = join(root, 'ids.csv');
  await writeFile(ids, 'arm,reward,user\n' + Array.from({ length: 30 }, (_, i) => `a${i % 2},${i % 3 === 0 ? 1 : 0},u${i}`).join('\n'));
  const log = await readGenericLog(ids, { maxCategories: 10 });
  assert.deepEqual(log.columns.context, []);
  assert.match(log.notes[0] ?? '', /'user' left out of the context: more than 10 distinct values/);
});

function tinyLog(actions: number[], positions: number[], propensities: number[], nArms: number, nPositions: number): LoggedBandit {
  const b = new FeatureTableBuilder([], []);
  for (let i = 0; i < actions.length; i++) b.add([], []);
  return validateLog({
    source: { path: 'tiny', format: 'csv', files: [] },
    n: actions.length,
    nArms,
    armIds: Array.from({ length: nArms }, (_, i) => String(i)),
    nPositions,
    actions: Int32Array.from(actions),
    positions: Int32Array.from(positions),
    rewards: new Float64Array(actions.length),
    propensities: Float64Array.from(propensities),
    timestamps: null,
    context: b.finish(),
    armFeatures: null,
    columns: { action: 'a', reward: 'r', propensity: 'p', position: 'k', timestamp: null, context: [] },
    notes: [],
  });
}

test('behaviour distribution from propensities: harmonic mean per (arm, position), then renormalised', () => {
  // Position 1: arm 0 shown twice with p = 0.5 and 0.25 (harmonic mean 1/3), arm 1 once with p = 0.5.
  // Position 2: arm 2 once with p = 0.8.
  const log = tinyLog([0, 0, 1, 2], [0, 0, 0, 1], [0.5, 0.25, 0.5, 0.8], 3, 2);
  const h = estimateActionDistribution(log, 'harmonic');
  // Row 1 before normalising: [1/3, 1/2, 0] → [0.4, 0.6, 0]; row 2: [0, 0, 0.8] → [0, 0, 1].
  [0.4, 0.6, 0, 0, 0, 1].forEach((v, i) => assert.ok(Math.abs(h[i] - v) < 1e-12, `harmonic[${i}] = ${h[i]}`));
  const f = estimateActionDistribution(log, 'frequency');
  [2 / 3, 1 / 3, 0, 0, 0, 1].forEach((v, i) => assert.ok(Math.abs(f[i] - v) < 1e-12, `frequency[${i}] = ${f[i]}`));
});

test('behaviour distribution of the obd-small Bernoulli TS logs: a distribution per position, item 13 leading for men', async () => {
  const bts = await readLog(join(OBD, 'bts', 'men'));
  const d = estimateActionDistribution(bts);
  for (let p = 0; p < 3; p++) {
    let s = 0;
    for (let a = 0; a < 34; a++) s += d[p * 34 + a];
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  // Item 13 is the TS policy's favourite at the left position (~22% of bts rows there).
  let best = 0;
  for (let a = 1; a < 34; a++) if (d[a] > d[best]) best = a;
  assert.equal(best, 13);
  assert.ok(d[13] > 0.2 && d[13] < 0.3, `π(13 | left) = ${d[13]}`);
});
