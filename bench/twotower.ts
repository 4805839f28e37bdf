/**
 * Two-tower benchmark (`npm run bench:twotower`, i.e. node --import tsx bench/twotower.ts [options]).
 *
 *  1. Quality on ../shared/datasets/ml-100k, ingested through the store (user demographics: age,
 *     gender, occupation; movies: title + genres), per-user random 80/20 split (seed 42): the two-tower
 *     with the `softmax` loss (defaults) and with `bce` (the design: sigmoid(cosine), 4 uniform
 *     negatives, batch 2048, Adam 1e-3; and bce with our training settings), against popularity and
 *     ALS (the tuned setting of bench/als.ts) on the same split: P/R/NDCG/MAP@10, hit rate.
 *  2. Cold start on ml-100k: (a) 10% of the movies (seeded) held out of training entirely, their
 *     catalogue rows added after fit: recall@10 on them over the whole catalogue and among the unseen
 *     movies only, against popularity and the content model; (b) 10% of the users held out entirely
 *     (strong generalization, seed 42): NDCG@10 / recall@10 over all their interactions from their
 *     demographics alone, against global popularity; plus the fold-in protocol (their first 80% as
 *     history, scored on the rest) for a history-pooling two-tower, ALS and popularity.
 *  3. Speed on the synthetic shop of research/baselines.md, made by `recsys datasets synth` (peers
 *     preset: 100k users × 20k products, 9.2M events ≈ 5M pairs, seed 42), ingested and split
 *     (random 80/20, seed 42): ms per step, CPU ms per step, examples/s and peak RSS of a fresh
 *     process at batch 2048 with the design's shape (ids only → Linear 256 → ReLU → Dropout 0.3 →
 *     Linear 128 → LayerNorm) for bce (4 negatives) and softmax, 1 and 2 threads; then a short
 *     training (`--quality-steps`) of each loss scored on the holdout against popularity.
 *
 *  4. With --synth-epochs N (default 0: skipped; about 11 min per epoch here): the default model (softmax,
 *     batch 1024, the shop's product and user features, early stopping) trained N epochs on that
 *     split and scored on its holdout against popularity.
 *
 * Prints a report and appends it as a dated block to BENCHMARKS.md (unless --no-append).
 * Options: --only ml100k|cold|synth  --steps N (timed steps, default 40; 0 skips)  --backends blas,wasm  --quality-steps N (default 300; 0 skips)
 *          --synth-epochs N (default 0)  --no-append
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingestMovieLens } from '../src/core/data/ingest/movielens.js';
import { ingestSynth } from '../src/core/data/ingest/synth.js';
import { loadInteractionMatrix, loadProducts } from '../src/core/data/load-matrix.js';
import { loadSplit, parseSplitSpec, saveSplit, splitMatrix } from '../src/core/data/split.js';
import { openStore } from '../src/core/data/store.js';
import { generateSynth, SYNTH_PRESETS } from '../src/core/data/synth.js';
import type { InteractionMatrix } from '../src/core/data/matrix.js';
import { evaluate, evaluateRankings } from '../src/core/eval/evaluate.js';
import type { EvaluationResult } from '../src/core/eval/types.js';
import { AlsModel } from '../src/core/models/als/als.js';
import { closeAlsPool } from '../src/core/models/als/pool.js';
import { ContentModel } from '../src/core/models/content.js';
import { Popularity } from '../src/core/models/popularity.js';
import type { Progress, Recommender } from '../src/core/models/recommender.js';
import { closeTwoTowerWorkers, loadBlas } from '../src/core/models/twotower/backend.js';
import { userRowsFromSql, type UserRow } from '../src/core/models/twotower/features.js';
import { TwoTowerModel, type TwoTowerFitReport } from '../src/core/models/twotower/model.js';
import { Rng } from '../src/core/rng.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const only = opt('only', 'all');
const timedSteps = Number(opt('steps', '40'));
/** Backends timed on the synthetic set (blas only where the native kernel was built). */
const backends = opt('backends', loadBlas() ? 'blas,wasm' : 'wasm').split(',');
const qualitySteps = Number(opt('quality-steps', '300'));
const synthEpochs = Number(opt('synth-epochs', '0'));
const append = !args.includes('--no-append');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ML100K = join(root, '..', 'shared', 'datasets', 'ml-100k');
const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};
const f4 = (x: number): string => x.toFixed(4);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

const HEADER = ['| model | P@10 | R@10 | NDCG@10 | MAP@10 | hit rate | fit |', '| --- | --- | --- | --- | --- | --- | --- |'];
function row(name: string, r: EvaluationResult, fit: string): string {
  const m = (k: string): string => f4(r.metrics[k]?.mean ?? NaN);
  return `| ${name} | ${m('precision@10')} | ${m('recall@10')} | ${m('ndcg@10')} | ${m('map@10')} | ${m('hit_rate@10')} | ${fit} |`;
}
const fitText = (r: TwoTowerFitReport): string => `${r.seconds.toFixed(0)} s, ${r.epochs} epochs (best ${r.bestEpoch}), ${r.msPerStep.toFixed(0)} ms/step`;

interface Ml100k {
  matrix: InteractionMatrix;
  products: Awaited<ReturnType<typeof loadProducts>>;
  users: UserRow[];
  fingerprint: string;
}

async function loadMl100k(): Promise<Ml100k> {
  const store = await openStore(':memory:');
  try {
    await ingestMovieLens(store, ML100K, '100k');
    return {
      matrix: await loadInteractionMatrix(store),
      products: await loadProducts(store),
      users: userRowsFromSql(await store.rows('SELECT user_id, CAST(demographics AS VARCHAR) AS demographics FROM users')),
      fingerprint: await store.fingerprint(),
    };
  } finally {
    store.close();
  }
}

function twoTower(data: Ml100k, params: Record<string, unknown>, catalog = data.products): TwoTowerModel {
  const m = new TwoTowerModel(params);
  m.setCatalog(catalog);
  m.setUserFeatures(data.users);
  return m;
}

const ALS_TUNED = { factors: 64, iterations: 15, alpha: 1, regularization: 0.5, regularizationScaling: 'als-wr' };
/** The design as written: BCE on sigmoid(cosine), 4 uniform negatives, batch 2048, Adam 1e-3 everywhere. */
const DESIGN_BCE = { loss: 'bce', batchSize: 2048, learningRate: 0.001, embeddingLearningRate: 0.001, optimizer: 'adam' };

async function ml100kQuality(data: Ml100k): Promise<void> {
  say('### ml-100k: warm users (random 80/20 per user, seed 42; features: demographics, titles, genres)');
  say('');
  const split = splitMatrix(data.matrix, parseSplitSpec('random:0.2'), data.fingerprint);
  const ev = (m: Recommender): Promise<EvaluationResult> => evaluate(m, split, { bootstrapSamples: 200 });
  const pop = new Popularity();
  await pop.fit(split.train);
  const als = new AlsModel(ALS_TUNED);
  const alsFit = await als.fit(split.train);
  const rows: string[] = [row('popularity', await ev(pop), '-'), row('ALS (64 factors, α 1, λ 0.5 als-wr)', await ev(als), `${alsFit.seconds.toFixed(1)} s`)];
  const variants: Array<[string, Record<string, unknown>]> = [
    ['two-tower softmax (defaults)', {}],
    ['two-tower softmax, no log-Q', { logQ: false }],
    ['two-tower bce, the design (batch 2048, Adam 1e-3)', DESIGN_BCE],
    ['two-tower bce, our training settings', { loss: 'bce' }],
    ['two-tower bce, logit scale 10', { loss: 'bce', bceLogitScale: 10 }],
  ];
  const results: Record<string, EvaluationResult> = {};
  for (const [name, params] of variants) {
    const m = twoTower(data, params);
    const fit = await m.fit(split.train);
    const r = await ev(m);
    results[name] = r;
    rows.push(row(name, r, fitText(fit)));
    process.stderr.write(`  ${name}: ndcg ${f4(r.metrics['ndcg@10'].mean)}\n`);
  }
  for (const h of HEADER) say(h);
  for (const r of rows) say(r);
  say('');
  const popN = (await ev(pop)).metrics['ndcg@10'].mean;
  const sm = results['two-tower softmax (defaults)'].metrics['ndcg@10'].mean;
  const bce = results['two-tower bce, the design (batch 2048, Adam 1e-3)'].metrics['ndcg@10'].mean;
  say(`Default loss softmax / popularity: NDCG@10 ×${(sm / popN).toFixed(2)}; the design's bce / popularity: ×${(bce / popN).toFixed(2)}.`);
  say('');
}

async function coldStart(data: Ml100k): Promise<void> {
  const { matrix, products } = data;
  say('### ml-100k: cold start');
  say('');
  // (a) items
  const rng = new Rng(42);
  const order = rng.shuffle(Int32Array.from({ length: matrix.nItems }, (_, i) => i));
  const held = new Uint8Array(matrix.nItems);
  for (let j = 0; j < Math.round(0.1 * matrix.nItems); j++) held[order[j]] = 1;
  const toTrain = new Uint8Array(matrix.nnz);
  const toTest = new Uint8Array(matrix.nnz);
  for (let q = 0; q < matrix.nnz; q++) (held[matrix.indices[q]] ? toTest : toTrain)[q] = 1;
  const train = matrix.select(toTrain);
  const test = matrix.select(toTest);
  const heldIds = new Set(matrix.items.ids.filter((_, i) => held[i]));
  const heldRows = products.filter((r) => heldIds.has(r.productId));
  const seenRows = products.filter((r) => !heldIds.has(r.productId));
  const users = Int32Array.from({ length: matrix.nUsers }, (_, u) => u).filter((u) => test.rowLength(u) > 0);
  const warm = new Set(Array.from({ length: matrix.nItems }, (_, i) => i).filter((i) => !held[i]));
  const recall = async (m: Recommender, onlyCold: boolean): Promise<number> => {
    const r = await m.recommend(users, 10, { exclude: train, excludeSets: onlyCold ? Array.from(users, () => warm) : undefined });
    return evaluateRankings(r, { train, test, exclude: train }, { ks: [10], mainK: 10, bootstrapSamples: 50 }).metrics['recall@10'].mean;
  };
  const pop = new Popularity();
  await pop.fit(train);
  const content = new ContentModel();
  content.setCatalog(seenRows);
  await content.fit(train);
  await content.addItems(heldRows);
  const tt = twoTower(data, {}, seenRows);
  const fit = await tt.fit(train);
  await tt.addItems(heldRows);
  say(`(a) ${heldIds.size} movies (10%, seed 42) never seen in training (${test.nnz} of their ratings by ${users.length} users are the test set); their catalogue rows are added after fit. recall@10:`);
  say('');
  say('| model | over the whole catalogue | among the unseen movies only |');
  say('| --- | --- | --- |');
  say(`| popularity | ${f4(await recall(pop, false))} | ${f4(await recall(pop, true))} (count 0 for all: index order) |`);
  say(`| content (TF-IDF + genres) | ${f4(await recall(content, false))} | ${f4(await recall(content, true))} |`);
  say(`| two-tower softmax (defaults; item tower from features) | ${f4(await recall(tt, false))} | ${f4(await recall(tt, true))} |`);
  say('');
  say(`Two-tower fit: ${fitText(fit)}; ${fit.coldItems} cold items embedded through the unknown-id row + features.`);
  say('');

  // (b) users
  const strong = splitMatrix(matrix, parseSplitSpec('strong:0.1'), data.fingerprint);
  const heldUsers: number[] = [];
  const foldIn = strong.foldIn as InteractionMatrix;
  for (let u = 0; u < matrix.nUsers; u++) if (foldIn.rowLength(u) > 0 || strong.test.rowLength(u) > 0) heldUsers.push(u);
  const heldSet = new Set(heldUsers);
  const keep = new Uint8Array(matrix.nnz);
  for (let u = 0; u < matrix.nUsers; u++) if (heldSet.has(u)) keep.fill(1, matrix.indptr[u], matrix.indptr[u + 1]);
  const all = matrix.select(keep);
  const none = { indptr: new Int32Array(matrix.nUsers + 1), indices: new Int32Array(0) };
  const hu = Int32Array.from(heldUsers);
  const demoOnly = async (m: Recommender): Promise<EvaluationResult> => evaluateRankings(await m.recommend(hu, 10), { train: strong.train, test: all, exclude: none }, { ks: [10], mainK: 10, bootstrapSamples: 200 });
  const popS = new Popularity();
  await popS.fit(strong.train);
  const ttS = twoTower(data, {});
  const fitS = await ttS.fit(strong.train);
  const rp = await demoOnly(popS);
  const rt = await demoOnly(ttS);
  say(`(b) ${heldUsers.length} users (10%, seed 42) held out of training entirely (strong generalization split); the model knows only their demographics. Relevant = all their ${all.nnz} ratings, nothing excluded:`);
  say('');
  say('| model | NDCG@10 | recall@10 | P@10 |');
  say('| --- | --- | --- | --- |');
  say(`| global popularity | ${f4(rp.metrics['ndcg@10'].mean)} | ${f4(rp.metrics['recall@10'].mean)} | ${f4(rp.metrics['precision@10'].mean)} |`);
  say(`| two-tower (age, gender, occupation) | ${f4(rt.metrics['ndcg@10'].mean)} | ${f4(rt.metrics['recall@10'].mean)} | ${f4(rt.metrics['precision@10'].mean)} |`);
  say('');
  say(`Two-tower fit on the other users: ${fitText(fitS)}; ${fitS.coldUsers} cold users.`);
  say('');
  const ttH = twoTower(data, { historyLength: 50 });
  const fitH = await ttH.fit(strong.train);
  const alsS = new AlsModel(ALS_TUNED);
  await alsS.fit(strong.train);
  const evS = (m: Recommender): Promise<EvaluationResult> => evaluate(m, strong, { bootstrapSamples: 200 });
  const [ep, ea, eh] = [await evS(popS), await evS(alsS), await evS(ttH)];
  say('Same held-out users with the fold-in protocol (their first 80% of ratings shown at prediction time, the rest scored; `evaluate` calls `foldIn`):');
  say('');
  say('| model | NDCG@10 | recall@10 |');
  say('| --- | --- | --- |');
  say(`| popularity | ${f4(ep.metrics['ndcg@10'].mean)} | ${f4(ep.metrics['recall@10'].mean)} |`);
  say(`| ALS (fold-in: one least-squares half-step) | ${f4(ea.metrics['ndcg@10'].mean)} | ${f4(ea.metrics['recall@10'].mean)} |`);
  say(`| two-tower, historyLength 50 (fold-in = history bag + demographics) | ${f4(eh.metrics['ndcg@10'].mean)} | ${f4(eh.metrics['recall@10'].mean)} |`);
  say('');
  say(`History two-tower fit: ${fitText(fitH)}.`);
  say('');
}

interface SpeedResult {
  label: string;
  report: TwoTowerFitReport;
  maxRssMiB: number;
  rssAfterLoadMiB: number;
  ndcg?: number;
  recall?: number;
  popNdcg?: number;
}

/** Child process: load the split, train `steps` steps with `params`, optionally evaluate; JSON on stdout. */
async function speedChild(dir: string, label: string, params: Record<string, unknown>, evaluateAfter: boolean, storePath: string | null): Promise<void> {
  const split = await loadSplit(dir);
  let features: { products: Awaited<ReturnType<typeof loadProducts>>; users: UserRow[] } | null = null;
  if (storePath) {
    const store = await openStore(storePath);
    try {
      features = { products: await loadProducts(store), users: userRowsFromSql(await store.rows('SELECT user_id, CAST(demographics AS VARCHAR) AS demographics FROM users')) };
    } finally {
      store.close();
    }
  }
  const rssAfterLoad = process.memoryUsage().rss;
  let peak = rssAfterLoad;
  const progress: Progress = { start() {}, tick: () => void (peak = Math.max(peak, process.memoryUsage().rss)), stop() {} };
  const model = new TwoTowerModel(features ? params : { patience: 0, idDropout: 0, ...params });
  if (features) {
    model.setCatalog(features.products);
    model.setUserFeatures(features.users);
  }
  const report = await model.fit(split.train, { progress });
  const out: SpeedResult = { label, report: { ...report, history: undefined }, maxRssMiB: 0, rssAfterLoadMiB: rssAfterLoad / 2 ** 20 };
  if (evaluateAfter) {
    const r = await evaluate(model, split, { bootstrapSamples: 20, ks: [10], mainK: 10 });
    const pop = new Popularity();
    await pop.fit(split.train);
    const p = await evaluate(pop, split, { bootstrapSamples: 20, ks: [10], mainK: 10 });
    out.ndcg = r.metrics['ndcg@10'].mean;
    out.recall = r.metrics['recall@10'].mean;
    out.popNdcg = p.metrics['ndcg@10'].mean;
  }
  out.maxRssMiB = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
  await closeTwoTowerWorkers();
  await closeAlsPool();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(dir: string, label: string, params: Record<string, unknown>, evaluateAfter = false, storePath = ''): SpeedResult {
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/twotower.ts'), '--child', dir, label, JSON.stringify(params), evaluateAfter ? '1' : '0', storePath], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`child ${label} failed (${res.status}): ${res.stderr}`);
  const line = res.stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as SpeedResult;
}

/** The design's shape on ids only. */
const DESIGN_SHAPE = { dimensions: 128, hidden: 256, depth: 1, dropout: 0.3, batchSize: 2048, userFeatures: false, itemFeatures: false };

async function synthSpeed(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'recsys-bench-twotower-'));
  try {
    const t0 = performance.now();
    const synth = await generateSynth({ ...SYNTH_PRESETS.peers, seed: 42, outDir: join(work, 'peers') });
    const store = await openStore(join(work, 'peers.duckdb'));
    let matrix: InteractionMatrix;
    let fingerprint: string;
    try {
      await ingestSynth(store, synth.outDir);
      matrix = await loadInteractionMatrix(store, { valueMode: 'binary' });
      fingerprint = await store.fingerprint();
    } finally {
      store.close();
    }
    const split = splitMatrix(matrix, parseSplitSpec('random:0.2'), fingerprint);
    const dir = join(work, 'split');
    await saveSplit(split, dir);
    const prep = (performance.now() - t0) / 1000;
    say(`### Synthetic shop: \`recsys datasets synth\` peers preset (seed 42): ${matrix.nUsers.toLocaleString()} users × ${matrix.nItems.toLocaleString()} products, ${matrix.nnz.toLocaleString()} pairs (binary)`);
    say('');
    say(`Random 80/20 split (seed 42): ${split.train.nnz.toLocaleString()} train / ${split.test.nnz.toLocaleString()} test pairs; generate + ingest + split ${prep.toFixed(1)} s.`);
    if (timedSteps > 0) {
      say(`Each row below is a fresh process (tsx) that loads the split and trains ${timedSteps} steps; ms/step and CPU ms/step are medians over the steps.`);
      say(`Shape: ids only → Linear(·, 256) as an embedding bag → ReLU → Dropout(0.3) → Linear(256, 128) → LayerNorm, per tower; batch 2048 positives; sparse lazy Adam on the tables, Adam on the dense layers; products on the native OpenBLAS kernel (\`blas\`, the default where built) or tfjs wasm (XNNPACK SIMD). Load average before: ${load()}.`);
      say('');
      say('| loss | backend | threads | ms/step | CPU ms/step | positives/s | scored pairs/step | peak RSS | PyTorch 1.13 CPU anchor (baselines.md) |');
      say('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      const anchor = '784 ms dense Adam / 96 ms sparse (2 threads)';
      const runs: Array<[string, Record<string, unknown>, string]> = [];
      for (const backend of backends) {
        runs.push(['bce (4 negatives)', { ...DESIGN_SHAPE, ...DESIGN_BCE, backend, threads: 2, steps: timedSteps }, anchor]);
        runs.push(['bce (4 negatives)', { ...DESIGN_SHAPE, ...DESIGN_BCE, backend, threads: 1, steps: timedSteps }, '']);
        runs.push(['softmax (in-batch)', { ...DESIGN_SHAPE, backend, threads: 2, steps: timedSteps }, '']);
      }
      for (const [label, params, anc] of runs) {
        const r = runChild(dir, label, params);
        const rep = r.report;
        const pairs = label.startsWith('bce') ? 2048 * 5 : '2048 × batch items';
        say(`| ${label} | ${rep.backend} | ${rep.threads} | ${rep.msPerStep.toFixed(0)} | ${rep.cpuMsPerStep.toFixed(0)} | ${Math.round(rep.examplesPerSecond).toLocaleString()} | ${pairs} | ${r.maxRssMiB.toFixed(0)} MiB | ${anc} |`);
        process.stderr.write(`  ${label} ${rep.backend} threads ${rep.threads}: ${rep.msPerStep.toFixed(0)} ms/step (load ${load()})\n`);
      }
      say('');
    }
    if (qualitySteps > 0) {
      say(`Short training, ${qualitySteps} steps at batch 2048 (${((qualitySteps * 2048) / split.train.nnz).toFixed(2)} epochs), scored on the holdout (train items excluded; NDCG@10 / recall@10 over all ${split.test.nUsers.toLocaleString()} users with test pairs):`);
      say('');
      say('| model | NDCG@10 | recall@10 | fit |');
      say('| --- | --- | --- | --- |');
      let popNdcg = 0;
      for (const [label, params] of [
        ['two-tower softmax', { ...DESIGN_SHAPE, threads: 2, steps: qualitySteps }],
        ['two-tower bce (the design)', { ...DESIGN_SHAPE, ...DESIGN_BCE, threads: 2, steps: qualitySteps }],
      ] as Array<[string, Record<string, unknown>]>) {
        const r = runChild(dir, label, params, true);
        popNdcg = r.popNdcg ?? popNdcg;
        say(`| ${label} | ${f4(r.ndcg ?? NaN)} | ${f4(r.recall ?? NaN)} | ${r.report.seconds.toFixed(0)} s |`);
      }
      say(`| popularity | ${f4(popNdcg)} | | |`);
      say('');
      say('Reference on the baselines.md recipe (other rows, same shape): PyTorch design after 200 steps NDCG@10 0.0595, popularity 0.0848, implicit ALS 0.1359.');
      say('');
    }
    if (synthEpochs > 0) {
      const r = runChild(dir, 'defaults', { epochs: synthEpochs }, true, join(work, 'peers.duckdb'));
      const rep = r.report;
      say(`The default model (softmax, batch 1024, d 128, the shop's product features and users' age band + country, early stopping on 2,000 held-out pairs) trained at most ${synthEpochs} epochs:`);
      say('');
      say('| model | NDCG@10 | recall@10 | fit | ms/step | peak RSS |');
      say('| --- | --- | --- | --- | --- | --- |');
      say(`| two-tower softmax (defaults) | ${f4(r.ndcg ?? NaN)} | ${f4(r.recall ?? NaN)} | ${rep.seconds.toFixed(0)} s, ${rep.steps} steps, ${rep.epochs} epochs (best ${rep.bestEpoch}) | ${rep.msPerStep.toFixed(0)} | ${r.maxRssMiB.toFixed(0)} MiB |`);
      say(`| popularity | ${f4(r.popNdcg ?? NaN)} | | | | |`);
      say('');
      say('ALS on the same split (BENCHMARKS.md, spine/ALS sections): NDCG@10 0.1627.');
      say('');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (args[0] === '--child') {
    await speedChild(args[1], args[2], JSON.parse(args[3]) as Record<string, unknown>, args[4] === '1', args[5] ? args[5] : null);
    return;
  }
  const started = new Date();
  say(`## Two-tower benchmark — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  say('');
  say(`Command: \`node --import tsx bench/twotower.ts${args.length ? ' ' + args.join(' ') : ''}\`. Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; no GPU (the webgpu backend was not measured; docs/twotower.md). Load average at start: ${load()}.`);
  say('');
  if (only === 'all' || only === 'ml100k' || only === 'cold') {
    const data = await loadMl100k();
    if (only !== 'cold') await ml100kQuality(data);
    if (only !== 'ml100k') await coldStart(data);
  }
  if (only === 'all' || only === 'synth') await synthSpeed();
  await closeTwoTowerWorkers();
  await closeAlsPool();
  if (append) appendFileSync(join(root, 'BENCHMARKS.md'), `\n${lines.join('\n')}\n`);
}

await main();
