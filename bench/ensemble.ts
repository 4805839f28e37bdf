/**
 * Ensemble acceptance numbers (issue 8), in one script:
 *
 *  1. ml100k: per-user random 80/20 split, seed 42. NDCG@10, recall@10, MAP@10 (bootstrap 95% CIs),
 *     coverage@10 and category diversity@10 for each member (ALS as tuned in the README tour,
 *     content, popularity), the design's raw weighted sum (als 0.4, content 0.2, popularity in the
 *     two-tower's 0.4 slot), the same weights normalised (minmax, zscore, rank), and learned weights;
 *     paired tests of each against the best single member.
 *  2. cold: strong generalization on ml-100k: 20% of the users (seeded) held out entirely; each
 *     reveals 0, 1 or 3 random interactions (fold-in), the rest is test. The router (segment
 *     popularity at 0; content + ALS fold-in at 1 and 3) against global popularity, with paired tests.
 *  3. newitem: a synthetic shop (generateSynth, products with created_at), temporal cut at day 150:
 *     share of top-10 slots given to products younger than 7 days, with and without the new-item
 *     rule, and what it costs on the post-cut test.
 *  4. latency: 100,000 users × 20,000 items (generateSynth), ALS + content + popularity: one user's
 *     full ensemble recommendation (3 members' candidates, scoring, every rule incl. MMR diversity)
 *     — median / p95 / p99 over 1,000 users; also through the Router (reasons included).
 *
 * Run: node --import tsx bench/ensemble.ts [--only ml100k|cold|newitem|latency] [--als-backend auto|js|wasm] [--no-append]
 * (not part of `npm test`; appends a dated section to BENCHMARKS.md).
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/core/data/store.js';
import { ingestMovieLens } from '../src/core/data/ingest/movielens.js';
import { ingestSynth } from '../src/core/data/ingest/synth.js';
import { generateSynth } from '../src/core/data/synth.js';
import { loadInteractionMatrix, loadItemMetadata, loadProducts, type ProductRow } from '../src/core/data/load-matrix.js';
import { parseSplitSpec, splitMatrix } from '../src/core/data/split.js';
import type { Split } from '../src/core/data/split-types.js';
import type { InteractionMatrix } from '../src/core/data/matrix.js';
import { compareEvaluations, evaluate } from '../src/core/eval/evaluate.js';
import type { EvaluationResult } from '../src/core/eval/types.js';
import { AlsModel } from '../src/core/models/als/als.js';
import { closeAlsPool } from '../src/core/models/als/pool.js';
import { ContentModel } from '../src/core/models/content.js';
import { Popularity } from '../src/core/models/popularity.js';
import type { Recommender } from '../src/core/models/recommender.js';
import { EnsembleModel } from '../src/core/models/ensemble/ensemble.js';
import { isNewItem } from '../src/core/rerank/rules.js';
import { Router, type Demographics } from '../src/core/router.js';
import { Rng } from '../src/core/rng.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : 'all';
const append = !args.includes('--no-append');
const ML100K = new URL('../../shared/datasets/ml-100k', import.meta.url).pathname;
const lines: string[] = [];
const say = (s = ''): void => {
  lines.push(s);
  console.log(s);
};
const f4 = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4));
const fp = (p: number): string => (p < 0.0001 ? '< 0.0001' : p.toFixed(4));
const DAY = 86400;
const alsBackend = args.includes('--als-backend') ? args[args.indexOf('--als-backend') + 1] : 'auto';
const ALS_TUNED = { factors: 64, iterations: 15, regularization: 0.5, alpha: 1, regularizationScaling: 'als-wr', backend: alsBackend };

async function demographicsOf(store: Store): Promise<Map<string, Demographics>> {
  const rows = await store.rows('SELECT user_id, CAST(demographics AS VARCHAR) AS d FROM users WHERE demographics IS NOT NULL');
  return new Map(rows.map((r) => [String(r.user_id), JSON.parse(String(r.d)) as Demographics]));
}

async function ml100kStore(): Promise<{ store: Store; matrix: InteractionMatrix; products: ProductRow[]; fingerprint: string }> {
  const store = await openStore(':memory:');
  await ingestMovieLens(store, ML100K, '100k');
  return { store, matrix: await loadInteractionMatrix(store), products: await loadProducts(store), fingerprint: await store.fingerprint() };
}

async function members(train: InteractionMatrix, products: ProductRow[]): Promise<{ als: AlsModel; content: ContentModel; popularity: Popularity }> {
  const als = new AlsModel(ALS_TUNED);
  await als.fit(train);
  const content = new ContentModel();
  content.setCatalog(products);
  await content.fit(train);
  const popularity = new Popularity();
  await popularity.fit(train);
  return { als, content, popularity };
}

function row(name: string, e: EvaluationResult, best: EvaluationResult | null): string {
  const m = (k: string): string => {
    const s = e.metrics[k];
    return `${f4(s.mean)} [${f4(s.ci95[0])}, ${f4(s.ci95[1])}]`;
  };
  let cmp = '| – | – |';
  if (best && best !== e) {
    const c = compareEvaluations(best, e, { metrics: ['ndcg@10'] })[0];
    cmp = `| ${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(4)} [${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}] | ${fp(c.tTestP)} / ${fp(c.randomizationP)} |`;
  }
  return `| ${name} | ${m('ndcg@10')} | ${m('recall@10')} | ${m('map@10')} | ${f4(e.beyondAccuracy['coverage@10'])} | ${f4(e.beyondAccuracy['diversity@10'])} ${cmp}`;
}

async function ml100k(): Promise<void> {
  const { store, matrix, products, fingerprint } = await ml100kStore();
  const split = splitMatrix(matrix, parseSplitSpec('random:0.2:seed=42'), fingerprint);
  const categories = (await loadItemMetadata(store, split.train.items)).categoryOf;
  await store.close();
  const t0 = performance.now();
  const m = await members(split.train, products);
  const fitSeconds = (performance.now() - t0) / 1000;
  const ev = (model: Recommender): Promise<EvaluationResult> => evaluate(model, split, {}, { itemCategories: categories });
  const results: Array<[string, EvaluationResult]> = [];
  for (const [name, model] of Object.entries(m)) results.push([name, await ev(model)]);
  const best = results.reduce((a, b) => (b[1].metrics['ndcg@10'].mean > a[1].metrics['ndcg@10'].mean ? b : a));
  const design = { als: 0.4, content: 0.2, popularity: 0.4 };
  const build = async (params: Record<string, unknown>, weights?: Record<string, number>): Promise<EnsembleModel> => {
    const e = new EnsembleModel(params);
    await e.configure({ models: [{ model: m.als }, { model: m.content }, { model: m.popularity }], ...(weights ? { weights } : {}) });
    e.setCatalog(products);
    await e.fit(split.train);
    return e;
  };
  const variants: Array<[string, Record<string, unknown>, Record<string, number> | undefined]> = [
    ['design weights, raw sum (normalization=none)', { normalization: 'none' }, design],
    ['design weights, minmax (default)', {}, design],
    ['design weights, zscore', { normalization: 'zscore' }, design],
    ['design weights, rank (RRF)', { normalization: 'rank' }, design],
    ['als + content only, raw (0.4/0.2)', { normalization: 'none' }, { als: 0.4, content: 0.2 }],
    ['als + content only, minmax (0.4/0.2)', {}, { als: 0.4, content: 0.2 }],
  ];
  for (const [name, params, weights] of variants) results.push([name, await ev(await build(params, weights))]);
  const learnedInfo: string[] = [];
  for (const norm of ['minmax', 'rank', 'none']) {
    const t = performance.now();
    const e = await build({ normalization: norm, learnWeights: true });
    const secs = (performance.now() - t) / 1000;
    const w = Object.entries(e.weightsByName()).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    learnedInfo.push(`learned (${norm}): ${w}; validation NDCG@10 ${f4(e.learned?.ndcg)} vs equal weights ${f4(e.learned?.uniformNdcg)}; ${e.learned?.evaluations} blends evaluated, fit incl. member refits ${secs.toFixed(1)} s`);
    results.push([`learned weights, ${norm}${norm === 'minmax' ? ' (default)' : ''}`, await ev(e)]);
  }
  say(`### ml-100k, per-user random 80/20 (seed 42): ${split.train.nnz} train / ${split.test.nnz} test pairs`);
  say('');
  say(`Members fitted in ${fitSeconds.toFixed(1)} s (ALS factors 64, 15 iterations, reg 0.5 als-wr, alpha 1; content and popularity defaults). Ensembles keep the default rules (popularity boost β = 0.1, new-item boost; diversity off). Comparisons: paired t-test / randomization p against the best single member (${best[0]}).`);
  say('');
  say('| model | NDCG@10 [95% CI] | recall@10 | MAP@10 | coverage@10 | diversity@10 | Δ NDCG@10 vs best member [95% CI] | p (t / rand.) |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, e] of results) say(row(name, e, best[1]));
  say('');
  for (const l of learnedInfo) say(`- ${l}`);
  say('');
}

/** Held-out users reveal `reveal` random interactions; the rest of their pairs is test. */
function coldSplit(matrix: InteractionMatrix, held: Uint8Array, reveal: number, seed: number, fingerprint: string): Split {
  const rng = new Rng(seed + reveal);
  const train = new Uint8Array(matrix.nnz);
  const fold = new Uint8Array(matrix.nnz);
  const test = new Uint8Array(matrix.nnz);
  for (let u = 0; u < matrix.nUsers; u++) {
    const b = matrix.indptr[u];
    const e = matrix.indptr[u + 1];
    if (!held[u]) {
      train.fill(1, b, e);
      continue;
    }
    const order = rng.shuffle(Int32Array.from({ length: e - b }, (_, j) => b + j));
    order.forEach((p, j) => (j < reveal ? (fold[p] = 1) : (test[p] = 1)));
  }
  return {
    config: { method: 'strong', heldOutUsers: held.reduce((a, x) => a + x, 0), foldInFraction: 0, seed },
    train: matrix.select(train),
    test: matrix.select(test),
    foldIn: matrix.select(fold),
    fingerprint: `cold-${reveal}`,
    datasetFingerprint: fingerprint,
  };
}

async function cold(): Promise<void> {
  const { store, matrix, products, fingerprint } = await ml100kStore();
  const demographics = await demographicsOf(store);
  const categories = (await loadItemMetadata(store, matrix.items)).categoryOf;
  await store.close();
  const users = new Rng(42).shuffle(Int32Array.from({ length: matrix.nUsers }, (_, u) => u));
  const held = new Uint8Array(matrix.nUsers);
  const nHeld = Math.round(matrix.nUsers * 0.2);
  for (let j = 0; j < nHeld; j++) held[users[j]] = 1;
  const base = coldSplit(matrix, held, 0, 42, fingerprint);
  const m = await members(base.train, products);
  const ens = new EnsembleModel({ learnWeights: true });
  await ens.configure({ models: [{ model: m.als }, { model: m.content }, { model: m.popularity }] });
  ens.setCatalog(products);
  ens.setDemographics(demographics);
  await ens.fit(base.train);
  // The same router without separately learned few-interactions weights (coldFraction = 0): the warm weights over ALS + content.
  const warmWeights = ens.variant({});
  warmWeights.fewWeights = null;
  say(`### Cold start on ml-100k: ${nHeld} users held out entirely (strong generalization, seed 42)`);
  say('');
  say(`Members and the ensemble are trained on the other ${matrix.nUsers - nHeld} users' ratings (${base.train.nnz} pairs); learned weights ${Object.entries(ens.weightsByName()).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}; few-interactions weights, learned on ${ens.learned?.cold?.users ?? 0} simulated cold users (each revealing 1–4 ratings), ${ens.fewWeights ? Object.entries(ens.weightsByName(ens.fewWeights)).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') : 'none'}. Each held-out user reveals r random ratings (fold-in: ALS solves the user's vector, content builds the profile); the rest is test. Segments: ${ens.segments?.levels.map((l) => l.fields.join('+')).join(' → ')} (≥ ${ens.router.minSegmentUsers} training users), then global popularity.`);
  say('');
  say('| revealed | model | answered by | NDCG@10 [95% CI] | recall@10 | Δ NDCG@10 vs popularity [95% CI] | p (t / rand.) |');
  say('| --- | --- | --- | --- | --- | --- | --- |');
  for (const reveal of [0, 1, 3]) {
    const split = reveal === 0 ? base : coldSplit(matrix, held, reveal, 42, fingerprint);
    const ev = (model: Recommender): Promise<EvaluationResult> => evaluate(model, split, {}, { itemCategories: categories });
    const pop = await ev(m.popularity);
    const rows: Array<[string, string, EvaluationResult]> = [['global popularity', 'popularity', pop]];
    const strategies = async (e: EnsembleModel): Promise<string> => {
      const heldUsers = Int32Array.from({ length: matrix.nUsers }, (_, u) => u).filter((u) => held[u] === 1);
      const r = await e.recommendDetailed(heldUsers, 10, { exclude: split.foldIn as InteractionMatrix });
      const counts = new Map<string, number>();
      for (const s of r.strategy) counts.set(['ensemble', 'few-interactions', 'demographic', 'popularity'][s], (counts.get(['ensemble', 'few-interactions', 'demographic', 'popularity'][s]) ?? 0) + 1);
      return [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
    };
    const routed = await ev(ens);
    rows.push(['router (ensemble)', await strategies(ens), routed]);
    if (reveal > 0) {
      rows.push(['router with the warm weights over ALS + content', await strategies(warmWeights), await ev(warmWeights)]);
      rows.push(['ALS fold-in alone', 'als', await ev(m.als)]);
      rows.push(['content profile alone', 'content', await ev(m.content)]);
    }
    for (const [name, by, e] of rows) {
      const s = e.metrics['ndcg@10'];
      let cmp = '| – | – |';
      if (e !== pop) {
        const c = compareEvaluations(pop, e, { metrics: ['ndcg@10'] })[0];
        cmp = `| ${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(4)} [${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}] | ${fp(c.tTestP)} / ${fp(c.randomizationP)} |`;
      }
      say(`| ${reveal} | ${name} | ${by} | ${f4(s.mean)} [${f4(s.ci95[0])}, ${f4(s.ci95[1])}] | ${f4(e.metrics['recall@10'].mean)} ${cmp}`);
    }
  }
  say('');
}

async function newItems(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-ensemble-newitem-'));
  try {
    const spec = { users: 4000, products: 2000, interactions: 240_000, seed: 42 };
    await generateSynth({ ...spec, outDir: dir });
    const store = await openStore(':memory:');
    await ingestSynth(store, dir);
    const weights = { view: 1, click: 2, cart: 3, purchase: 5 };
    const matrix = await loadInteractionMatrix(store, { weights });
    const products = await loadProducts(store);
    const fingerprint = await store.fingerprint();
    const categories = (await loadItemMetadata(store, matrix.items)).categoryOf;
    await store.close();
    const start = Date.parse('2025-01-01T00:00:00Z') / 1000;
    const cut = start + 150 * DAY;
    const split = splitMatrix(matrix, { method: 'temporal', cutTime: cut }, fingerprint);
    const m = await members(split.train, products);
    const build = async (boost: number | null): Promise<EnsembleModel> => {
      const e = new EnsembleModel({ rules: boost === null ? { newItemBoost: { enabled: false } } : { newItemBoost: { boost } } });
      await e.configure({ models: [{ model: m.als }, { model: m.content }, { model: m.popularity }], weights: { als: 0.5, content: 0.2, popularity: 0.3 } });
      e.setCatalog(products);
      await e.fit(split.train);
      return e;
    };
    const without = await build(null);
    const now = without.effectiveNow();
    const created = without.createdAt as Float64Array;
    const fresh = Array.from({ length: matrix.nItems }, (_, i) => i).filter((i) => isNewItem(created, i, now, 7));
    const activeUsers = Int32Array.from({ length: matrix.nUsers }, (_, u) => u).filter((u) => split.train.rowLength(u) > 0);
    const share = async (e: Recommender): Promise<{ slots: number; users: number }> => {
      const r = await e.recommend(activeUsers, 10, { exclude: split.train });
      let slots = 0;
      let total = 0;
      let users = 0;
      for (let row = 0; row < activeUsers.length; row++) {
        let any = false;
        for (let j = 0; j < 10; j++) {
          const i = r.items[row * 10 + j];
          if (i < 0) continue;
          total++;
          if (isNewItem(created, i, now, 7)) {
            slots++;
            any = true;
          }
        }
        if (any) users++;
      }
      return { slots: slots / Math.max(1, total), users: users / activeUsers.length };
    };
    const eb = await evaluate(without, split, {}, { itemCategories: categories });
    const b = await share(without);
    say(`### New-item boost on a synthetic shop (generateSynth ${spec.users} users × ${spec.products} products × ${spec.interactions} events, seed 42; events weighted view 1 / click 2 / cart 3 / purchase 5)`);
    say('');
    say(`Temporal cut at day 150 (${new Date(cut * 1000).toISOString().slice(0, 10)}): ${split.train.nnz} train / ${split.test.nnz} test pairs; "now" = newest training event (${new Date(now * 1000).toISOString().slice(0, 16)}). ${fresh.length} of ${matrix.nItems} products (${((100 * fresh.length) / matrix.nItems).toFixed(2)}%) were created in the 7 days before now. Ensemble: als 0.5, content 0.2, popularity 0.3 (minmax), other rules default; the new-item rule adds boost × the blend's unit (1 for minmax) to products inside the 7-day window and adds up to 20 in-window products as candidates. Top-10 lists of the ${activeUsers.length} users with training events; Δ and p against the ensemble without the rule (paired, post-cut test).`);
    say('');
    say('| ensemble | share of top-10 slots to products < 7 days old | users shown ≥ 1 such product | NDCG@10 on the post-cut test | Δ NDCG@10 [95% CI] | p (t / rand.) |');
    say('| --- | --- | --- | --- | --- | --- |');
    say(`| without the new-item rule | ${(100 * b.slots).toFixed(2)}% | ${(100 * b.users).toFixed(1)}% | ${f4(eb.metrics['ndcg@10'].mean)} | – | – |`);
    for (const boost of [0.3, 0.6, 1]) {
      const e = await build(boost);
      const a = await share(e);
      const ea = await evaluate(e, split, {}, { itemCategories: categories });
      const c = compareEvaluations(eb, ea, { metrics: ['ndcg@10'] })[0];
      say(`| with the rule, boost ${boost}${boost === 0.3 ? ' (default)' : ''} | ${(100 * a.slots).toFixed(2)}% | ${(100 * a.users).toFixed(1)}% | ${f4(ea.metrics['ndcg@10'].mean)} | ${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(4)} [${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}] | ${fp(c.tTestP)} / ${fp(c.randomizationP)} |`);
    }
    say('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function latency(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-ensemble-latency-'));
  try {
    const spec = { users: 100_000, products: 20_000, interactions: 2_000_000, seed: 42 };
    const g0 = performance.now();
    await generateSynth({ ...spec, outDir: dir });
    const store = await openStore(':memory:');
    await ingestSynth(store, dir);
    const weights = { view: 1, click: 2, cart: 3, purchase: 5 };
    const matrix = await loadInteractionMatrix(store, { weights, itemUniverse: 'catalog' });
    const purchases = await loadInteractionMatrix(store, { types: ['purchase'], valueMode: 'binary' });
    const products = await loadProducts(store);
    await store.close();
    const genSeconds = (performance.now() - g0) / 1000;
    const t0 = performance.now();
    const als = new AlsModel({ factors: 64, iterations: 5, regularization: 0.05, alpha: 1, backend: alsBackend });
    await als.fit(matrix);
    const t1 = performance.now();
    const content = new ContentModel();
    content.setCatalog(products);
    await content.fit(matrix);
    const t2 = performance.now();
    const popularity = new Popularity();
    await popularity.fit(matrix);
    // Bought lists (purchases), in the matrix's indexes.
    const rows: number[][] = Array.from({ length: matrix.nUsers }, () => []);
    for (let pu = 0; pu < purchases.nUsers; pu++) {
      const u = matrix.users.indexOf(purchases.users.idOf(pu));
      for (const pi of purchases.rowItems(pu)) rows[u].push(matrix.items.indexOf(purchases.items.idOf(pi)));
    }
    const indptr = new Int32Array(matrix.nUsers + 1);
    rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
    const indices = new Int32Array(indptr[matrix.nUsers]);
    rows.forEach((r, u) => indices.set(r.sort((a, b) => a - b), indptr[u]));
    const ens = new EnsembleModel({
      rules: {
        excludeBought: { types: ['purchase'] },
        excludeLists: { lists: { outOfStock: products.slice(0, 200).map((p) => p.productId), blocked: products.slice(500, 550).map((p) => p.productId) } },
        diversity: { enabled: true, method: 'mmr', lambda: 0.7 },
      },
    });
    await ens.configure({ models: [{ model: als }, { model: content }, { model: popularity }], weights: { als: 0.5, content: 0.2, popularity: 0.3 } });
    ens.setCatalog(products);
    ens.setBought({ indptr, indices });
    await ens.fit(matrix);
    const router = new Router(ens);
    const loadBefore = loadavg();
    const sample = new Rng(7).shuffle(Int32Array.from({ length: matrix.nUsers }, (_, u) => u)).slice(0, 1050);
    const strategies = new Map<string, number>();
    const timeIt = async (fn: (u: number) => Promise<unknown>): Promise<number[]> => {
      const ms: number[] = [];
      for (let j = 0; j < sample.length; j++) {
        const s = performance.now();
        await fn(sample[j]);
        if (j >= 50) ms.push(performance.now() - s);
      }
      return ms.sort((a, b) => a - b);
    };
    const direct = await timeIt(async (u) => {
      const r = await ens.recommendDetailed(Int32Array.of(u), 10, { exclude: matrix });
      const s = ['ensemble', 'few-interactions', 'demographic', 'popularity'][r.strategy[0]];
      strategies.set(s, (strategies.get(s) ?? 0) + 1);
    });
    const routed = await timeIt((u) => router.recommend({ userId: matrix.users.idOf(u), k: 10 }));
    const members = await timeIt(async (u) => {
      const one = Int32Array.of(u);
      await Promise.all([als.recommend(one, 50, { exclude: matrix }), content.recommend(one, 50, { exclude: matrix }), popularity.recommend(one, 50, { exclude: matrix })]);
    });
    let historySum = 0;
    for (const u of sample) historySum += matrix.rowLength(u);
    say(`### Latency: one user's full ensemble recommendation on ${matrix.nUsers.toLocaleString()} users × ${matrix.nItems.toLocaleString()} items`);
    say('');
    say(`generateSynth ${spec.users.toLocaleString()} users × ${spec.products.toLocaleString()} products × ${spec.interactions.toLocaleString()} events (seed 42) → ${matrix.nnz.toLocaleString()} pairs, generated and ingested in ${genSeconds.toFixed(1)} s. ALS factors 64 (5 iterations, ${((t1 - t0) / 1000).toFixed(1)} s; latency does not depend on iterations), content (${((t2 - t1) / 1000).toFixed(1)} s, sparse TF-IDF + category/brand/price), popularity. Rules: exclude purchases (types ["purchase"]), two explicit lists (250 products), popularity boost β 0.1, new-item boost (+ up to 20 new candidates), deterministic sort, MMR diversity λ 0.7. Sampled users (seeded) have ${(historySum / sample.length).toFixed(1)} interactions on average; strategies: ${[...strategies].map(([k, v]) => `${k} ${v}`).join(', ')}. 1,000 timed calls each after 50 warm-up calls, one at a time, k = 10.`);
    say('');
    say('| path | median ms | p95 ms | p99 ms |');
    say('| --- | --- | --- | --- |');
    say(`| ensemble.recommend for one user (3 members × top-50, union scored by every member, normalise, blend, all rules) | ${quantile(direct, 0.5).toFixed(2)} | ${quantile(direct, 0.95).toFixed(2)} | ${quantile(direct, 0.99).toFixed(2)} |`);
    say(`| Router.recommend (the same, plus rule records and per-item reasons in external ids) | ${quantile(routed, 0.5).toFixed(2)} | ${quantile(routed, 0.95).toFixed(2)} | ${quantile(routed, 0.99).toFixed(2)} |`);
    say(`| of which: the three members' top-50 alone | ${quantile(members, 0.5).toFixed(2)} | ${quantile(members, 0.95).toFixed(2)} | ${quantile(members, 0.99).toFixed(2)} |`);
    say('');
    say(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average before timing ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (other processes on the 2 cores stretch every figure, the tail most).`);
    say('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

say(`## Ensemble benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
say('');
say(`Command: \`node --import tsx bench/ensemble.ts${args.length > 0 ? ` ${args.join(' ')}` : ''}\`.`);
say('');
if (only === 'all' || only === 'ml100k') await ml100k();
if (only === 'all' || only === 'cold') await cold();
if (only === 'all' || only === 'newitem') await newItems();
if (only === 'all' || only === 'latency') await latency();
await closeAlsPool();
if (append) {
  const file = join(process.cwd(), 'BENCHMARKS.md');
  if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n\nDated results appended by the bench scripts (newest last).\n\n');
  const before = readFileSync(file, 'utf8');
  appendFileSync(file, `${before.endsWith('\n\n') ? '' : '\n'}${lines.join('\n')}\n`);
}
