/**
 * Timing of evaluateRankings on synthetic rankings of 100,000 users × top-10 (20,000 items, ~2.1M
 * train / 0.5M test pairs), all metrics at ks [1, 5, 10, 20] with 1000-resample bootstrap CIs, for
 * a popularity-like model (hit rate ≈ 0.2) and a strong one (hit rate ≈ 0.99, almost every user's
 * metric row distinct: the bootstrap's worst realistic case). The model's recommend time is not in it.
 * Run: node --import tsx test/eval/bench-evaluate.ts   (not part of `npm test`; budget: < 10 s)
 */
import { IdMap, InteractionMatrix } from '../src/core/data/matrix.js';
import { Rng } from '../src/core/rng.js';
import { evaluateRankings } from '../src/core/eval/evaluate.js';
import type { Rankings } from '../src/core/models/recommender.js';

const nUsers = 100_000;
const nItems = 20_000;
const K = 10;
const rng = new Rng(7);
const users = new IdMap(Array.from({ length: nUsers }, (_, i) => `u${i}`));
const items = new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`));
const zipf = (): number => Math.min(nItems - 1, Math.floor(Math.pow(rng.next(), 2.5) * nItems));

const pairs = { tu: [] as number[], ti: [] as number[], tv: [] as number[], eu: [] as number[], ei: [] as number[], ev: [] as number[] };
for (let u = 0; u < nUsers; u++) {
  const n = 2 + Math.floor(100 * Math.pow(rng.next(), 3));
  for (let j = 0; j < n; j++) {
    const it = zipf();
    const toTest = j === 0 || rng.next() < 0.2; // every user gets at least one test pair
    (toTest ? pairs.eu : pairs.tu).push(u);
    (toTest ? pairs.ei : pairs.ti).push(it);
    (toTest ? pairs.ev : pairs.tv).push(1 + rng.int(5));
  }
}
const build = (u: number[], i: number[], v: number[]): InteractionMatrix =>
  InteractionMatrix.fromCoo({ users: Int32Array.from(u), items: Int32Array.from(i), values: Float32Array.from(v), userIds: users, itemIds: items });
// Every user keeps at least one test pair; a pair drawn for both sides stays in test only.
const test = build(pairs.eu, pairs.ei, pairs.ev);
const keep = pairs.tu.map((u, x) => !test.rowItems(u).includes(pairs.ti[x]));
const train = build(
  pairs.tu.filter((_, x) => keep[x]),
  pairs.ti.filter((_, x) => keep[x]),
  pairs.tv.filter((_, x) => keep[x]),
);

// Popularity-like rankings: most popular training items the user has not seen.
const counts = train.itemCounts();
const order = Array.from({ length: nItems }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
const ranked: Rankings = { users: Int32Array.from({ length: nUsers }, (_, i) => i), k: K, items: new Int32Array(nUsers * K).fill(-1), scores: new Float32Array(nUsers * K) };
for (let u = 0; u < nUsers; u++) {
  const row = train.rowItems(u);
  let w = 0;
  for (let j = 0; j < order.length && w < K; j++) if (!row.includes(order[j])) ranked.items[u * K + w++] = order[j];
}
const strong: Rankings = { ...ranked, items: ranked.items.slice() };
for (let u = 0; u < nUsers; u++) {
  const row = test.rowItems(u);
  if (row.length === 0) continue;
  const list = strong.items.subarray(u * K, u * K + K);
  for (let p = 0; p < K; p++) {
    if (rng.next() >= 0.35) continue;
    const it = row[rng.int(row.length)];
    if (!list.includes(it)) list[p] = it;
  }
}
const categories = Int32Array.from({ length: nItems }, (_, i) => (i * 7919) % 23);

for (const [name, rk] of [['popularity-like', ranked], ['strong', strong]] as const) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let summary = '';
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = evaluateRankings(rk, { train, test, exclude: train, itemCategories: categories }, { ks: [1, 5, 10, 20], mainK: 10, bootstrapSamples: 1000 });
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    summary = `users ${r.users.evaluated}, ndcg@10 ${r.metrics['ndcg@10'].mean.toFixed(4)}, hit_rate@10 ${r.metrics['hit_rate@10'].mean.toFixed(3)}`;
  }
  const median = (x: number[]): number => [...x].sort((a, b) => a - b)[1];
  console.log(`${name}: ${summary}; wall median ${median(wall).toFixed(2)} s (${wall.map((x) => x.toFixed(2)).join(', ')}), cpu median ${median(cpu).toFixed(2)} s`);
}
