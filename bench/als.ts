/**
 * ALS benchmark (`npm run bench:als`, i.e. node --import tsx bench/als.ts [options]).
 *
 *  1. Quality on ../shared/datasets/ml-100k: per-user random 80/20 split (seed 42, src/core/data/split.ts),
 *     ratings as the confidence values, factors 64, 15 iterations. Hyper-parameters (alpha,
 *     regularization, scaling) are picked on a validation split cut from the training side only
 *     (seed 7), then the model is refit on the whole training side and scored on the test side
 *     against popularity: P/R/NDCG/MAP@10 (src/core/eval/metrics.ts; R and MAP capped by min(10, |R|)).
 *  2. Speed and memory on the synthetic matrix of research/baselines.md (100k users × 20k items,
 *     5M distinct pairs, 50 communities, value 1), holdout split as there: factors 64, 15
 *     iterations, 3 CG steps, alpha 1, regularization 0.05, `--workers` threads (default 2): seconds
 *     per iteration (median), total fit time, recommend-all top-10 (train items excluded), peak RSS
 *     against CSR + factor bytes, and the holdout metrics. Fit and recommend run in a fresh child
 *     process. `--child compiled` (the default once `npm run build` has compiled the current
 *     sources) runs it as plain Node on dist/, as the CLI runs, so its RSS is the product's;
 *     `--child tsx` runs the TypeScript sources through tsx (≈ 25 MiB more RSS for tsx itself).
 *
 * Prints a report and appends it as a dated block to BENCHMARKS.md (unless --no-append).
 * Options: --only ml100k|synth  --workers N  --users N --items N --pairs N  --iterations N
 *          --child compiled|tsx  --no-append
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSplit, saveSplit, splitMatrix } from '../src/core/data/split.js';
import type { InteractionMatrix } from '../src/core/data/matrix.js';
import { hitRateAtK, mapCappedAtK, ndcgAtK, precisionAtK, recallCappedAtK } from '../src/core/eval/metrics.js';
import { AlsModel, type AlsFitReport } from '../src/core/models/als/als.js';
import { closeAlsPool } from '../src/core/models/als/pool.js';
import { Popularity } from '../src/core/models/popularity.js';
import type { Progress, Recommender } from '../src/core/models/recommender.js';
import { readMovieLens100k } from '../test/models/als-fixtures.js';
import { synthInteractions } from './synth-als.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const only = opt('only', 'all');
const workers = Number(opt('workers', '2'));
const iterations = Number(opt('iterations', '15'));
const append = !args.includes('--no-append');
const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};

interface Metrics {
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  hitRate: number;
  users: number;
}

async function metricsAt10(model: Recommender, train: InteractionMatrix, test: InteractionMatrix): Promise<{ metrics: Metrics; recommendSeconds: number }> {
  const users = Int32Array.from({ length: train.nUsers }, (_, u) => u);
  const t0 = performance.now();
  const r = await model.recommend(users, 10, { exclude: train });
  const recommendSeconds = (performance.now() - t0) / 1000;
  const m: Metrics = { precision: 0, recall: 0, ndcg: 0, map: 0, hitRate: 0, users: 0 };
  for (let u = 0; u < train.nUsers; u++) {
    const rel = test.rowItems(u);
    if (rel.length === 0) continue;
    const row = r.items.subarray(u * 10, u * 10 + 10);
    m.users++;
    m.precision += precisionAtK(row, rel, 10);
    m.recall += recallCappedAtK(row, rel, 10);
    m.ndcg += ndcgAtK(row, rel, 10);
    m.map += mapCappedAtK(row, rel, 10);
    m.hitRate += hitRateAtK(row, rel, 10);
  }
  for (const key of ['precision', 'recall', 'ndcg', 'map', 'hitRate'] as const) m[key] /= Math.max(1, m.users);
  return { metrics: m, recommendSeconds };
}

const f4 = (x: number): string => x.toFixed(4);
const row = (name: string, m: Metrics): string => `| ${name} | ${f4(m.precision)} | ${f4(m.recall)} | ${f4(m.ndcg)} | ${f4(m.map)} | ${f4(m.hitRate)} |`;
const HEADER = ['| model | P@10 | R@10 (÷min(10,\\|R\\|)) | NDCG@10 | MAP@10 (÷min(10,\\|R\\|)) | hit rate |', '| --- | --- | --- | --- | --- | --- |'];
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function movielens(): Promise<void> {
  const data = readMovieLens100k();
  const split = splitMatrix(data, { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 }, 'ml-100k');
  // Tuning never sees the test side: a validation split of the training side.
  const inner = splitMatrix(split.train, { method: 'random', testFraction: 0.2, seed: 7, minInteractions: 2 }, 'ml-100k-train');
  const grid: Array<Record<string, unknown>> = [];
  for (const alpha of [0.5, 1, 3]) for (const regularization of [5, 20, 50, 100]) grid.push({ alpha, regularization, regularizationScaling: 'plain' });
  for (const alpha of [0.5, 1, 3]) for (const regularization of [0.1, 0.3, 0.5, 1]) grid.push({ alpha, regularization, regularizationScaling: 'als-wr' });
  let best: { params: Record<string, unknown>; ndcg: number } = { params: {}, ndcg: -1 };
  const t0 = performance.now();
  for (const g of grid) {
    const m = new AlsModel({ factors: 64, iterations, workers, ...g });
    await m.fit(inner.train);
    const { metrics } = await metricsAt10(m, inner.train, inner.test);
    if (metrics.ndcg > best.ndcg) best = { params: g, ndcg: metrics.ndcg };
  }
  const tuneSeconds = (performance.now() - t0) / 1000;
  const pop = new Popularity();
  await pop.fit(split.train);
  const popM = (await metricsAt10(pop, split.train, split.test)).metrics;
  const als = new AlsModel({ factors: 64, iterations, workers, ...best.params });
  const fit = await als.fit(split.train);
  const alsM = (await metricsAt10(als, split.train, split.test)).metrics;
  // The default hyper-parameters, for reference (alpha 40 on 1–5 ratings over-weights the observed pairs).
  const def = new AlsModel({ factors: 64, iterations, workers });
  await def.fit(split.train);
  const defM = (await metricsAt10(def, split.train, split.test)).metrics;
  say(`### ml-100k (random 80/20 per user, seed 42; ${split.train.nnz} train / ${split.test.nnz} test pairs; ratings as values)`);
  say('');
  say(`Hyper-parameters chosen on a validation split of the training side (seed 7) from ${grid.length} settings in ${tuneSeconds.toFixed(1)} s: ` +
    `factors 64, iterations ${iterations}, ${Object.entries(best.params).map(([k, v]) => `${k} ${v}`).join(', ')}, CG 3 steps (validation NDCG@10 ${f4(best.ndcg)}).`);
  say('');
  for (const h of HEADER) say(h);
  say(row('popularity', popM));
  say(row(`ALS (${Object.values(best.params).join(', ')})`, alsM));
  say(row('ALS defaults (alpha 40, reg 0.01)', defM));
  say('');
  say(`ALS / popularity: NDCG@10 ×${(alsM.ndcg / popM.ndcg).toFixed(2)}, R@10 ×${(alsM.recall / popM.recall).toFixed(2)}, MAP@10 ×${(alsM.map / popM.map).toFixed(2)}; fit ${fit.seconds.toFixed(2)} s (${fit.backend}, ${fit.threads} threads).`);
  say('');
}

interface SynthFitResult {
  threads: number;
  backend: string;
  secondsPerIteration: number;
  iterationSeconds: number[];
  cpuSecondsPerIteration: number;
  fitSeconds: number;
  recommendSeconds: number;
  recommendCpuSeconds: number;
  rssAfterLoad: number;
  rssPeak: number;
  maxRss: number;
  csrBytes: number;
  factorBytes: number;
  arenaBytes: number;
  metrics: Metrics;
  trainPairs: number;
  testPairs: number;
  users: number;
}

/**
 * Child process: load the split written by the parent, fit, recommend for every user, and report
 * JSON on stdout. A fresh process, so its peak RSS is that of a `train` run (load + fit + scoring),
 * not of the data generation.
 */
async function synthFitChild(dir: string): Promise<void> {
  const { train, test } = await loadSplit(dir);
  global.gc?.();
  const rssAfterLoad = process.memoryUsage().rss;
  let rssPeak = rssAfterLoad;
  const sample = (): void => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 20);
  const progress: Progress = { start() {}, tick: sample, stop() {} };
  const model = new AlsModel({ factors: 64, iterations, regularization: 0.05, alpha: 1, cgSteps: 3, workers, backend: 'auto' });
  const c0 = process.cpuUsage();
  const fit: AlsFitReport = await model.fit(train, { progress });
  const fitCpu = process.cpuUsage(c0);
  sample();
  const c1 = process.cpuUsage();
  const rec = await metricsAt10(model, train, test);
  const recCpu = process.cpuUsage(c1);
  sample();
  clearInterval(timer);
  const result: SynthFitResult = {
    threads: fit.threads,
    backend: fit.backend,
    secondsPerIteration: fit.secondsPerIteration,
    iterationSeconds: fit.history!.map((h) => h.seconds),
    cpuSecondsPerIteration: (fitCpu.user + fitCpu.system) / 1e6 / fit.history!.length,
    fitSeconds: fit.seconds,
    recommendSeconds: rec.recommendSeconds,
    recommendCpuSeconds: (recCpu.user + recCpu.system) / 1e6,
    rssAfterLoad,
    rssPeak,
    maxRss: process.resourceUsage().maxRSS * 1024,
    csrBytes: train.indptr.byteLength + train.indices.byteLength + train.values.byteLength,
    factorBytes: model.userFactors.byteLength + model.itemFactors.byteLength,
    arenaBytes: model.arenaBytes,
    metrics: rec.metrics,
    trainPairs: train.nnz,
    testPairs: test.nnz,
    users: train.nUsers,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The same child as `synthFitChild`, in plain JavaScript on the compiled package (dist/): no tsx in
 * the process, so the RSS is what `recsys train` + `recsys eval` would use. argv: split dir,
 * workers, iterations, dist URL.
 */
const COMPILED_CHILD = `
const [dir, workers, iterations, dist] = process.argv.slice(1);
const { loadSplit } = await import(dist + '/core/data/split.js');
const { AlsModel } = await import(dist + '/core/models/als/als.js');
const { closeAlsPool } = await import(dist + '/core/models/als/pool.js');
const M = await import(dist + '/core/eval/metrics.js');
const { train, test } = await loadSplit(dir);
global.gc?.();
const rssAfterLoad = process.memoryUsage().rss;
let rssPeak = rssAfterLoad;
const sample = () => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); };
const timer = setInterval(sample, 20);
const model = new AlsModel({ factors: 64, iterations: Number(iterations), regularization: 0.05, alpha: 1, cgSteps: 3, workers: Number(workers), backend: 'auto' });
const c0 = process.cpuUsage();
const fit = await model.fit(train, { progress: { start() {}, tick: sample, stop() {} } });
const fitCpu = process.cpuUsage(c0);
sample();
const users = Int32Array.from({ length: train.nUsers }, (_, u) => u);
const c1 = process.cpuUsage();
const t0 = performance.now();
const r = await model.recommend(users, 10, { exclude: train });
const recommendSeconds = (performance.now() - t0) / 1000;
const recCpu = process.cpuUsage(c1);
const m = { precision: 0, recall: 0, ndcg: 0, map: 0, hitRate: 0, users: 0 };
for (let u = 0; u < train.nUsers; u++) {
  const rel = test.rowItems(u);
  if (rel.length === 0) continue;
  const row = r.items.subarray(u * 10, u * 10 + 10);
  m.users++;
  m.precision += M.precisionAtK(row, rel, 10);
  m.recall += M.recallCappedAtK(row, rel, 10);
  m.ndcg += M.ndcgAtK(row, rel, 10);
  m.map += M.mapCappedAtK(row, rel, 10);
  m.hitRate += M.hitRateAtK(row, rel, 10);
}
for (const key of ['precision', 'recall', 'ndcg', 'map', 'hitRate']) m[key] /= Math.max(1, m.users);
sample();
clearInterval(timer);
process.stdout.write(JSON.stringify({
  threads: fit.threads, backend: fit.backend, secondsPerIteration: fit.secondsPerIteration,
  iterationSeconds: fit.history.map((h) => h.seconds),
  cpuSecondsPerIteration: (fitCpu.user + fitCpu.system) / 1e6 / fit.history.length,
  fitSeconds: fit.seconds, recommendSeconds, recommendCpuSeconds: (recCpu.user + recCpu.system) / 1e6,
  rssAfterLoad, rssPeak, maxRss: process.resourceUsage().maxRSS * 1024,
  csrBytes: train.indptr.byteLength + train.indices.byteLength + train.values.byteLength,
  factorBytes: model.userFactors.byteLength + model.itemFactors.byteLength,
  arenaBytes: model.arenaBytes, metrics: m, trainPairs: train.nnz, testPairs: test.nnz, users: train.nUsers,
}) + '\\n');
await closeAlsPool();
process.exit(0);
`;

/** Newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** 'compiled' when dist/ was built after the last change to src/ (or when asked for), else 'tsx'. */
function childKind(): 'compiled' | 'tsx' {
  const asked = opt('child', '');
  const built = join(root, 'dist/core/models/als/als.js');
  const fresh = existsSync(built) && existsSync(join(root, 'dist/core/kernels/als.wasm')) && statSync(built).mtimeMs >= newestSource(join(root, 'src'));
  if (asked === 'tsx') return 'tsx';
  if (asked === 'compiled') {
    if (!fresh) throw new Error('--child compiled: dist/ is missing or older than src/; run `npm run build` first');
    return 'compiled';
  }
  return fresh ? 'compiled' : 'tsx';
}

async function synthetic(): Promise<void> {
  const nUsers = Number(opt('users', '100000'));
  const nItems = Number(opt('items', '20000'));
  const pairs = Number(opt('pairs', '5000000'));
  let t = performance.now();
  const full = synthInteractions({ users: nUsers, items: nItems, pairs, communities: 50, seed: 2026 });
  const genSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const split = splitMatrix(full, { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 }, 'synth');
  const splitSeconds = (performance.now() - t) / 1000;
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-bench-als-')), 'split');
  await saveSplit(split, dir);
  const loadAvgBefore = loadavg();
  const kind = childKind();
  const childArgs = kind === 'compiled'
    ? ['--expose-gc', '--input-type=module', '-e', COMPILED_CHILD, dir, String(workers), String(iterations), pathToFileURL(join(root, 'dist')).href]
    : [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--phase', 'synth-fit', '--split', dir, '--workers', String(workers), '--iterations', String(iterations)];
  const child = spawnSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 1 << 24 });
  rmSync(dirname(dir), { recursive: true, force: true });
  if (child.status !== 0) throw new Error(`benchmark child failed (${child.status}): ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as SynthFitResult;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const base = r.csrBytes + r.factorBytes;
  say(`### Synthetic ${nUsers.toLocaleString('en')} users × ${nItems.toLocaleString('en')} items × ${pairs.toLocaleString('en')} pairs (baselines.md recipe, seed 2026)`);
  say('');
  say(`Holdout split (random, seed 42): ${r.trainPairs.toLocaleString('en')} train / ${r.testPairs.toLocaleString('en')} test pairs. Generated in ${genSeconds.toFixed(1)} s, split in ${splitSeconds.toFixed(1)} s; ` +
    `fit and recommend run in a fresh child process that loads the saved split (${kind === 'compiled' ? 'plain node on the compiled dist/, as the CLI' : 'TypeScript sources through tsx'}).`);
  say(`ALS factors 64, ${iterations} iterations, CG 3 steps, alpha 1 (c = 1 + r = 2 on the observed pairs), regularization 0.05, backend ${r.backend}, ${r.threads} threads.`);
  say('');
  say('| figure | value | implicit 0.7.3 (baselines.md) |');
  say('| --- | --- | --- |');
  say(`| seconds per iteration (median) | ${r.secondsPerIteration.toFixed(3)} s | 0.963 s |`);
  say(`| CPU seconds per iteration (all threads) | ${r.cpuSecondsPerIteration.toFixed(3)} s | |`);
  say(`| per-iteration seconds | ${r.iterationSeconds.map((x) => x.toFixed(2)).join(', ')} | |`);
  say(`| full fit, ${iterations} iterations (incl. setup) | ${r.fitSeconds.toFixed(1)} s | 14.7 s |`);
  say(`| recommend-all, ${r.users.toLocaleString('en')} users, top-10, train items excluded | ${r.recommendSeconds.toFixed(2)} s (CPU ${r.recommendCpuSeconds.toFixed(1)} s) | 6.0 s |`);
  say(`| RSS after loading the split | ${mb(r.rssAfterLoad)} | |`);
  say(`| peak RSS, fit + recommend-all (sampled every 20 ms) | ${mb(r.rssPeak)}; process max RSS ${mb(r.maxRss)} | |`);
  say(`| model's wasm arena (factors, then training state / scoring scratch; capacity, not all resident) | ${mb(r.arenaBytes)} | |`);
  say(`| CSR (train) + factors | ${mb(r.csrBytes)} + ${mb(r.factorBytes)} = ${mb(base)} | |`);
  say(`| peak RSS ÷ (CSR + factors) | ${(r.rssPeak / base).toFixed(2)}× (added by training and scoring: ${((r.rssPeak - r.rssAfterLoad) / base).toFixed(2)}×) | |`);
  say('');
  for (const h of HEADER) say(h);
  say(row('ALS', r.metrics));
  say('| implicit ALS (baselines.md: same recipe, other rows) | 0.0883 | 0.1140 | 0.1359 | 0.0656 | 0.578 |');
  say('');
  say(`Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}. Load average before the timed child: ${loadAvgBefore.map((x) => x.toFixed(2)).join(' ')} ` +
    `(other processes on the 2 cores stretch wall time; compare CPU seconds).`);
  say('');
}

const started = new Date();
if (opt('phase', '') === '') say(`## ALS benchmark — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
if (opt('phase', '') === '') {
  say('');
  say(`Command: \`node --import tsx bench/als.ts ${args.join(' ')}\`.`.replace(' `.', '`.'));
  say('');
}
const phase = opt('phase', '');
if (phase === 'synth-fit') {
  await synthFitChild(opt('split', ''));
  await closeAlsPool();
  process.exit(0);
}
if (only === 'all' || only === 'ml100k') await movielens();
if (only === 'all' || only === 'synth') await synthetic();
await closeAlsPool();
if (append) {
  const file = join(process.cwd(), 'BENCHMARKS.md');
  if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n\nDated results appended by the bench scripts (newest last). Numbers from a shared 2-core machine vary ±10–15 % between runs.\n\n');
  const before = readFileSync(file, 'utf8');
  appendFileSync(file, `${before.endsWith('\n\n') ? '' : '\n'}${lines.join('\n')}\n`);
}
