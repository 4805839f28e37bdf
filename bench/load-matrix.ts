/**
 * Timing script (not a test): builds a temp store with N synthetic interactions (default 5M events over
 * 200k users × 50k items, Zipf-ish item popularity, 4 event types; DuckDB range() + seeded random()),
 * reopens it (cold DuckDB buffers, as a fresh `recsys train` process would see it) and times
 * loadInteractionMatrix. Target: < 3 s for 5M.
 *   node --import tsx bench/load-matrix.ts [rows] [users] [items]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInteractionMatrix } from '../src/core/data/load-matrix.js';
import { openStore } from '../src/core/data/store.js';

const rows = Number(process.argv[2] ?? 5_000_000);
const users = Number(process.argv[3] ?? 200_000);
const items = Number(process.argv[4] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-'));
const path = join(dir, 'bench.duckdb');
try {
  let store = await openStore(path);
  let t = performance.now();
  await store.run('SELECT setseed(0.42)');
  await store.run(`
    INSERT INTO interactions (user_id, product_id, interaction_type, value, timestamp, source)
    SELECT CAST(floor(random() * ${users}) AS BIGINT)::VARCHAR,
           'p' || CAST(floor(pow(random(), 2) * ${items}) AS BIGINT)::VARCHAR,
           ['view', 'view', 'view', 'click', 'click', 'cart', 'purchase'][1 + CAST(floor(random() * 7) AS INTEGER)],
           1.0,
           make_timestamp(CAST((1.6e9 + random() * 3e7) * 1e6 AS BIGINT)),
           'bench'
    FROM range(${rows})`);
  await store.run('CHECKPOINT');
  store.close();
  console.log(`generated ${rows} interactions in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  store = await openStore(path);
  try {
    for (const valueMode of ['sum', 'sum', 'last'] as const) {
      t = performance.now();
      const m = await loadInteractionMatrix(store, { weights: { view: 1, click: 2, cart: 4, purchase: 8 }, valueMode });
      const s = (performance.now() - t) / 1000;
      console.log(`loadInteractionMatrix(${valueMode}): ${s.toFixed(2)} s — ${m.nUsers} users × ${m.nItems} items, nnz ${m.nnz}`);
    }
  } finally {
    store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
