import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isRecsysError } from '../../src/core/errors.js';
import { newRunId, readReport, writeReport } from '../../src/core/report/index.js';
import { fixtureReport, tinyReport } from './fixture.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-report-'));
after(() => rm(root, { recursive: true, force: true }));

test('newRunId: sortable UTC stamp plus a filesystem-safe label', () => {
  const d = new Date(Date.UTC(2026, 10, 25, 10, 45, 12));
  assert.equal(newRunId(d, 'popularity'), '20261125-104512-popularity');
  assert.equal(newRunId(d, 'ALS vs Popularity / k=10'), '20261125-104512-als-vs-popularity-k-10');
  assert.equal(newRunId(d, '../../etc/passwd'), '20261125-104512-etc-passwd');
  assert.equal(newRunId(d, 'Café'), '20261125-104512-cafe');
  assert.equal(newRunId(d, ''), '20261125-104512');
  assert.equal(newRunId(d, '***'), '20261125-104512');
  assert.equal(newRunId(d, 'x'.repeat(100)).length, '20261125-104512-'.length + 60);
  assert.ok(newRunId(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 'b') < newRunId(d, 'a'), 'ids sort by time');
  assert.throws(() => newRunId(new Date('nope'), 'x'), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_USAGE');
});

test('writeReport creates the folder with report.json, report.md and report.html and returns their paths', async () => {
  const dir = join(root, 'reports', newRunId(new Date(Date.UTC(2026, 10, 25, 10, 45, 12)), 'popularity'));
  const paths = await writeReport(fixtureReport(), dir);
  assert.deepEqual(paths, { dir, json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') });
  assert.deepEqual((await readdir(dir)).sort(), ['report.html', 'report.json', 'report.md']);
  assert.deepEqual(await readReport(paths.json), fixtureReport());
  assert.match(await readFile(paths.markdown, 'utf8'), /^# recsys report 20261125-104512-popularity-vs-als\n/);
  assert.match(await readFile(paths.html, 'utf8'), /^<!DOCTYPE html>/);
  // No temp folder is left beside it.
  assert.deepEqual(await readdir(join(root, 'reports')), [dir.split('/').pop()]);
});

test('writeReport into an existing folder replaces the report files and keeps the rest', async () => {
  const dir = join(root, 'baseline');
  await writeReport(fixtureReport(), dir);
  await writeFile(join(dir, 'README.txt'), 'keep me');
  await writeReport(tinyReport(), dir);
  assert.deepEqual((await readdir(dir)).sort(), ['README.txt', 'report.html', 'report.json', 'report.md']);
  assert.equal((await readReport(join(dir, 'report.json'))).runId, tinyReport().runId);
  assert.equal(await readFile(join(dir, 'README.txt'), 'utf8'), 'keep me');
});

test('writeReport fails with RECSYS_ERR_REPORT naming the folder when it cannot write', async () => {
  const blocker = join(root, 'a-file');
  await writeFile(blocker, 'x');
  const dir = join(blocker, 'run');
  await assert.rejects(writeReport(tinyReport(), dir), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_REPORT' && e.message.includes(dir) && e.data.file === dir);
  assert.equal(existsSync(dir), false);
});

test('readReport on a missing file says how to get one', async () => {
  await assert.rejects(readReport(join(root, 'nope', 'report.json')), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && /recsys eval/.test(e.message));
});
