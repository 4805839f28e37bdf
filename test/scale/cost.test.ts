/** The scaling benchmark's arithmetic: power-law fits, projections, size parsing, sampling, reports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPowerLaw, fitStages, findFit } from '../../src/core/scale/cost.js';
import { formatCount, parseCount } from '../../src/core/scale/measure.js';
import { parseSizes, sizeSpec, type ScaleReport } from '../../src/core/scale/benchmark.js';
import { projectScale } from '../../src/core/scale/projection.js';
import { scaleMarkdown, scaleCharts } from '../../src/core/scale/report.js';
import { sampleUsers, type ScaleSizeResult, type StageName } from '../../src/core/scale/size-run.js';
import { RecsysError } from '../../src/core/errors.js';

test('fitPowerLaw: exact exponent and coefficient on y = 3·x^0.8; R² 1', () => {
  const xs = [1e6, 5e6, 25e6, 1e8];
  const f = fitPowerLaw(xs, xs.map((x) => 3 * x ** 0.8));
  assert.ok(Math.abs(f.exponent - 0.8) < 1e-12);
  assert.ok(Math.abs(f.coefficient - 3) < 1e-9);
  assert.ok(Math.abs(f.r2 - 1) < 1e-12);
  assert.deepEqual([f.points, f.from, f.to], [4, 1e6, 1e8]);
});

test('fitPowerLaw: least squares in log space (hand-computed: slope of (0,0), (1,1), (2,3) in log10 → 1.5)', () => {
  const f = fitPowerLaw([1, 10, 100], [1, 10, 1000]);
  assert.ok(Math.abs(f.exponent - 1.5) < 1e-12);
  // Line −1/6 + 1.5·x in log10 units; residuals (1/6, −1/3, 1/6) → SSE = 1/6, SYY = 14/3 (units cancel).
  assert.ok(Math.abs(f.r2 - (1 - 1 / 28)) < 1e-12);
  assert.throws(() => fitPowerLaw([5], [1]), RecsysError);
  assert.throws(() => fitPowerLaw([5, 5], [1, 2]), /two different sizes/);
});

test('parseCount / formatCount / parseSizes / sizeSpec', () => {
  assert.equal(parseCount('1m'), 1_000_000);
  assert.equal(parseCount('25M'), 25_000_000);
  assert.equal(parseCount('500k'), 500_000);
  assert.equal(parseCount('1.5b'), 1_500_000_000);
  assert.ok(Number.isNaN(parseCount('ten')));
  assert.equal(formatCount(100_000_000), '100M');
  assert.equal(formatCount(250_000), '250k');
  assert.equal(formatCount(575_989), '575,989');
  assert.deepEqual(parseSizes('100m, 1m,5m,1m'), [1e6, 5e6, 1e8]);
  assert.throws(() => parseSizes('1m,lots'), (e: unknown) => e instanceof RecsysError && /--sizes: 'lots'/.test(e.message));
  assert.deepEqual(sizeSpec(100_000_000), { label: '100M', interactions: 1e8, users: 5_000_000, products: 500_000 });
});

test('sampleUsers: evenly spaced, distinct, capped at all users', () => {
  assert.deepEqual(Array.from(sampleUsers(10, 4)), [0, 2, 5, 7]);
  assert.deepEqual(Array.from(sampleUsers(3, 10)), [0, 1, 2]);
});

/** A size result with costs from exact power laws (events^1 for stages, nnz^1 for ALS). */
function fakeSize(events: number): ScaleSizeResult {
  const nnz = events / 2;
  const users = events / 20;
  const items = events / 200;
  const stage = (name: StageName, seconds: number, projected = seconds) => ({ stage: name, seconds, cpuSeconds: 2 * seconds, projectedSeconds: projected, peakRssBytes: events * 100, peakIsPerStage: true, duckdbBytes: null, diskBytes: null });
  return {
    size: sizeSpec(events),
    events,
    distinctPairs: nnz,
    matrix: { users, items, nnz, csrBytes: nnz * 8 },
    als: { factors: 64, iterations: 3, threads: 2, backend: 'wasm', secondsPerIteration: nnz * 1e-6, perIteration: [], fitSeconds: 3 * nnz * 1e-6, cpuSecondsPerIteration: nnz * 2e-6, factorBytes: (users + items) * 256 },
    recommend: { sampleUsers: 1000, seconds: items * 1e-4, usersPerSecond: 1000 / (items * 1e-4), projectedSeconds: users * items * 1e-7 },
    precompute: null,
    stages: [stage('synth', events * 1e-6), stage('als', 3 * nnz * 1e-6)],
    duckdbMemoryLimit: '6GB',
    processPeakRssBytes: events * 100,
    totalSeconds: 1,
    machine: { cpus: 2, loadAverage: [0, 0, 0] },
  };
}

function fakeReport(): ScaleReport {
  const results = [1e6, 5e6, 25e6, 1e8].map(fakeSize);
  return {
    startedAt: '2026-11-25T14:00:00.000Z',
    finishedAt: '2026-11-25T15:00:00.000Z',
    machine: { cpus: 2, cpu: 'test cpu', memoryGiB: 24, node: 'v20', loadAverageStart: [1, 1, 1], loadAverageEnd: [1, 1, 1] },
    settings: { factors: 64, iterations: 3, duckdbMemoryLimit: '6GB', redis: false },
    results,
    failures: [],
    shards: null,
    fits: fitStages(results),
  };
}

test('fitStages: linear stages fit exponent 1; ALS against nnz and users + items from 5M up', () => {
  const report = fakeReport();
  const als = findFit(report.fits, 'als-iteration', 'nnz');
  assert.ok(als && Math.abs(als.exponent - 1) < 1e-9);
  assert.equal(als.from, 2.5e6); // the 5M size's nnz: 1M is left out
  assert.equal(als.points, 3);
  const cpu = findFit(report.fits, 'als-iteration', 'users+items', 'cpu seconds');
  assert.ok(cpu && Math.abs(cpu.exponent - 1) < 1e-9);
  const synth = findFit(report.fits, 'synth', 'events');
  assert.ok(synth && Math.abs(synth.exponent - 1) < 1e-9);
});

test('projectScale: 1B interactions from the 100M anchor with linear laws (hand-computed)', () => {
  const p = projectScale(fakeReport(), { users: 100e6, items: 10e6, interactions: 1e9, factors: 64, clusterCores: 100, boxMemoryGiB: 256 });
  assert.equal(p.anchor, '100M');
  assert.equal(p.nnz, 5e8); // 0.5 pairs per event, measured
  // CPU s/iter at the anchor 5e7 × 2e-6 = 100; by nnz ×10 = 1000; by rows (110M / 5.5M = 20) = 2000.
  assert.ok(Math.abs(p.alsCoreSecondsPerIteration - 2000) < 1e-6);
  // recommend: 2 cores ÷ (1000 / 50) users/s = 0.1 core-s per user at 500k items; × 1e8 users × 20 = 2e8 core-s.
  assert.ok(Math.abs(p.recommendAllCoreHours - 2e8 / 3600) < 1e-6);
  // ALS memory: (5e8·16 + 110e6·256 B) × (peak 1e10 ÷ (csr 4e8 + factors 5.5e6·256)).
  const ratio = 1e10 / (4e8 + 5.5e6 * 256);
  assert.ok(Math.abs(p.alsMemoryBytes - (8e9 + 110e6 * 256) * ratio) < 1);
  assert.equal(p.fitsOneBox, false); // factors exceed the 4 GiB wasm arena
  assert.ok(p.rows.some((r) => r.what === 'ALS core-seconds / iteration' && r.value === '2,000'));
});

test('report: the Markdown section has the tables, the exponent and the chart links; charts are SVG', () => {
  const report = fakeReport();
  const md = scaleMarkdown(report, { command: 'npm run bench:scale', chartPaths: { time: 't.svg', memory: 'm.svg', als: 'a.svg' } });
  assert.match(md, /## Scaling benchmark — 2026-11-25 14:00 UTC/);
  assert.match(md, /\| 100M \| 5,000,000 × 500,000 \| 50,000,000 \|/);
  assert.match(md, /ALS seconds\/iteration against nnz from 2.5M to 50M nnz: exponent \*\*1.00\*\* wall, \*\*1.00\*\* CPU/);
  assert.match(md, /!\[ALS seconds per iteration\]\(a.svg\)/);
  const charts = scaleCharts(report);
  for (const svg of Object.values(charts)) assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});
