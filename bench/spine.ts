/**
 * Spine benchmark: the data path a user runs before any model, on real and synthetic data.
 *   ml-100k folder ingest (median of 3 fresh stores)                     target < 2 s
 *   synth peers preset (100k users × 20k products × 9.2M events ≈ 5M pairs) → Parquet
 *   ingest of that Parquet into a store, rows/s
 *   store → InteractionMatrix (≈ 5M pairs, weights view=1,click=2,cart=4,purchase=8)   target < 3 s
 *   random 80/20 split; popularity fit; evaluate every test user at k 1,5,10,20 with CIs  target < 10 s
 * Appends a dated section to BENCHMARKS.md (unless --no-append).
 *   node --import tsx bench/spine.ts
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/core/data/store.js';
import { ingestMovieLens } from '../src/core/data/ingest/movielens.js';
import { ingestSynth } from '../src/core/data/ingest/synth.js';
import { loadInteractionMatrix } from '../src/core/data/load-matrix.js';
import { generateSynth, SYNTH_PRESETS } from '../src/core/data/synth.js';
import { parseSplitSpec, splitMatrix } from '../src/core/data/split.js';
import { Popularity } from '../src/core/models/popularity.js';
import { evaluate } from '../src/core/eval/evaluate.js';

const ML100K = new URL('../../shared/datasets/ml-100k', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'recsys-bench-spine-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (t0: number): number => (performance.now() - t0) / 1000;
const rows: Array<[string, string, string]> = [];

try {
  const ml: number[] = [];
  let mlRate = 0;
  for (let r = 0; r < 3; r++) {
    const store = await openStore(join(work, `ml${r}.duckdb`));
    const t0 = performance.now();
    const res = await ingestMovieLens(store, ML100K, '100k');
    ml.push(secs(t0));
    mlRate = res.rowsPerSecond;
    await store.close();
  }
  rows.push(['ingest ml-100k folder (100,000 ratings + 1,682 movies + 943 users), median of 3', `${median(ml).toFixed(2)} s (${Math.round(mlRate).toLocaleString()} rows/s)`, '< 2 s']);

  let t0 = performance.now();
  const synth = await generateSynth({ ...SYNTH_PRESETS.peers, seed: 42, outDir: join(work, 'peers') });
  rows.push([`synth peers preset → Parquet (${synth.counts.interactions.toLocaleString()} events, ${synth.counts.distinctPairs.toLocaleString()} pairs)`, `${secs(t0).toFixed(2)} s`, '']);

  const store = await openStore(join(work, 'peers.duckdb'));
  t0 = performance.now();
  const ing = await ingestSynth(store, synth.outDir);
  rows.push(['ingest those Parquet files (3 tables)', `${secs(t0).toFixed(2)} s (${Math.round(ing.rowsPerSecond).toLocaleString()} rows/s)`, '']);
  await store.close();

  const store2 = await openStore(join(work, 'peers.duckdb')); // fresh process-like reopen
  const builds: number[] = [];
  let matrix = await loadInteractionMatrix(store2, { weights: { view: 1, click: 2, cart: 4, purchase: 8 } });
  for (let r = 0; r < 3; r++) {
    t0 = performance.now();
    matrix = await loadInteractionMatrix(store2, { weights: { view: 1, click: 2, cart: 4, purchase: 8 } });
    builds.push(secs(t0));
  }
  const fingerprint = await store2.fingerprint();
  await store2.close();
  rows.push([`store → InteractionMatrix (${matrix.nUsers.toLocaleString()} × ${matrix.nItems.toLocaleString()}, nnz ${matrix.nnz.toLocaleString()}), median of 3`, `${median(builds).toFixed(2)} s`, '< 3 s']);

  t0 = performance.now();
  const split = splitMatrix(matrix, parseSplitSpec('random:0.2'), fingerprint);
  rows.push([`random 80/20 split (${split.train.nnz.toLocaleString()} train / ${split.test.nnz.toLocaleString()} test pairs)`, `${secs(t0).toFixed(2)} s`, '']);

  const pop = new Popularity();
  await pop.fit(split.train);
  t0 = performance.now();
  const res = await evaluate(pop, split, { ks: [1, 5, 10, 20], bootstrapSamples: 1000 });
  const total = secs(t0);
  rows.push([
    `evaluate popularity: ${res.users.evaluated.toLocaleString()} users × top-20, all metrics at k 1,5,10,20 + 1000-resample CIs`,
    `${total.toFixed(2)} s (recommend ${res.timings.recommendSeconds.toFixed(2)} s, metrics ${res.timings.metricsSeconds.toFixed(2)} s)`,
    '< 10 s',
  ]);
  rows.push(['  popularity on that split: NDCG@10 / recall@10 / recall_capped@10 / MAP_capped@10', `${res.metrics['ndcg@10'].mean.toFixed(4)} / ${res.metrics['recall@10'].mean.toFixed(4)} / ${res.metrics['recall_capped@10'].mean.toFixed(4)} / ${res.metrics['map_capped@10'].mean.toFixed(4)}`, '']);
  rows.push(['peak RSS of this process', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`, '']);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const table = ['| step | time | target |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const section = `\n## Spine benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\nCommand: \`npm run bench:spine\` (bench/spine.ts). Machine: ${machine}.\n\n${table}\n`;
console.log(section);
if (!process.argv.includes('--no-append')) appendFileSync(join(process.cwd(), 'BENCHMARKS.md'), section);
