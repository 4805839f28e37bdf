/**
 * Scaling benchmark: synth → Parquet, ingest, matrix, ALS fit, recommend-all (sampled, projected),
 * precompute into Redis (sampled, projected) at 1M / 5M / 25M / 100M events, each size in a fresh
 * child process; then `precompute --shard i/N` with N = 1 and 2 processes; then power-law fits.
 * Writes reports/scale/{scale.json,index.html,*.svg}, copies the charts to docs/scale/ and appends
 * a dated section to BENCHMARKS.md (unless --no-append).
 *
 *   node --import tsx bench/scale.ts [--sizes 1m,5m,25m,100m] [--iterations 3] [--work /tmp/x]
 *        [--memory-limit 6GB] [--no-redis] [--no-shards] [--no-append]
 *        [--render reports/scale/scale.json [--command 'what ran it']] [--merge earlier/scale.json]
 * Redis: REDIS_URL (default redis://127.0.0.1:6379). Data goes under --work (default /tmp), never
 * into the repository, and each size's data is deleted once it is measured.
 */
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeScaleReports, parseSizes, runScaleBenchmark, type ScaleReport } from '../src/core/scale/benchmark.js';
import { scaleMarkdown, writeScaleReport } from '../src/core/scale/report.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const flag = (name: string): boolean => argv.includes(`--${name}`);
// --command "<text>": the command to record when re-rendering (--render) a run started elsewhere.
const command = arg('command', '') || `npm run bench:scale${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'reports/scale');

let report: ScaleReport;
const render = arg('render', '');
if (render) {
  report = JSON.parse(readFileSync(render, 'utf8')) as ScaleReport;
} else {
  report = await runScaleBenchmark({
    sizes: parseSizes(arg('sizes', '1m,5m,25m,100m')),
    workDir: arg('work', join(tmpdir(), `recsys-scale-${process.pid}`)),
    iterations: Number(arg('iterations', '3')),
    factors: Number(arg('factors', '64')),
    duckdbMemoryLimit: arg('memory-limit', '6GB'),
    redisUrl: flag('no-redis') ? null : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    shardUsers: Number(arg('shard-users', '20000')),
    shardSize: flag('no-shards') ? null : undefined,
    log: (line) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`),
  });
}
// --merge earlier.json: keep that run's other sizes (e.g. after re-running only the largest size).
const merge = arg('merge', '');
if (merge) report = mergeScaleReports(report, JSON.parse(readFileSync(merge, 'utf8')) as ScaleReport);
const written = await writeScaleReport(report, outDir, command);
const docsDir = join(root, 'docs/scale');
mkdirSync(docsDir, { recursive: true });
const chartPaths = { time: 'docs/scale/time.svg', memory: 'docs/scale/memory.svg', als: 'docs/scale/als.svg' };
copyFileSync(written.charts.time, join(root, chartPaths.time));
copyFileSync(written.charts.memory, join(root, chartPaths.memory));
copyFileSync(written.charts.als, join(root, chartPaths.als));
const section = scaleMarkdown(report, { command, chartPaths });
console.log(section);
console.log(`\nreport: ${written.html}\njson:   ${written.json}`);
if (!flag('no-append')) appendFileSync(join(root, 'BENCHMARKS.md'), section);
if (report.failures.length > 0) process.exitCode = 1;
