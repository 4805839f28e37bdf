/**
 * ingestSynth on a tiny directory in the generator's layout, written here with DuckDB COPY
 * (interactions/products/users.parquet + dataset.json).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestSynth } from '../../src/core/data/ingest/synth.js';
import { loadInteractionMatrix, loadItemMetadata } from '../../src/core/data/load-matrix.js';
import { openStore } from '../../src/core/data/store.js';

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recsys-synth-ingest-'));
  const s = await openStore(':memory:');
  try {
    await s.run(`COPY (SELECT * FROM (VALUES
        ('u1', 'p1', 'view', 1.0, TIMESTAMP '2024-03-01 10:00:00'),
        ('u1', 'p1', 'purchase', 1.0, TIMESTAMP '2024-03-01 10:05:00'),
        ('u2', 'p2', 'click', 1.0, TIMESTAMP '2024-03-02 11:00:00'),
        ('u2', 'p1', 'cart', 1.0, TIMESTAMP '2024-03-02 11:30:00')
      ) t(user_id, product_id, interaction_type, value, timestamp)) TO '${join(dir, 'interactions.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
    await s.run(`COPY (SELECT * FROM (VALUES
        ('p1', 'Trail runner 2', 'Light trail running shoe', 'shoes', 'Stepper', 89.5, TIMESTAMP '2023-01-01'),
        ('p2', 'Linen shirt', 'Breathable summer shirt', 'shirts', 'Acme', 39.0, TIMESTAMP '2023-02-01')
      ) t(product_id, title, description, category, brand, price, created_at)) TO '${join(dir, 'products.parquet')}' (FORMAT parquet)`);
    await s.run(`COPY (SELECT * FROM (VALUES
        ('u1', TIMESTAMP '2022-05-05', '25-34', 'DE'),
        ('u2', TIMESTAMP '2022-06-06', '35-44', 'FR')
      ) t(user_id, created_at, age_band, country)) TO '${join(dir, 'users.parquet')}' (FORMAT parquet)`);
  } finally {
    s.close();
  }
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ users: 2, products: 2, interactions: 4, seed: 7 }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ingestSynth', () => {
  it('loads all three tables and the dataset descriptor; weights apply at matrix time', async () => {
    const store = await openStore(':memory:');
    try {
      const r = await ingestSynth(store, dir);
      assert.equal(r.interactions.rowsIngested, 4);
      assert.equal(r.interactions.format, 'parquet');
      assert.equal(r.products?.rowsIngested, 2);
      assert.equal(r.users?.rowsIngested, 2);
      assert.deepEqual(r.dataset, { users: 2, products: 2, interactions: 4, seed: 7 });
      const p = await store.rows(`SELECT product_id, title, description, category, brand, price, strftime(created_at, '%Y-%m-%d') AS c FROM products ORDER BY 1`);
      assert.deepEqual(p[0], { product_id: 'p1', title: 'Trail runner 2', description: 'Light trail running shoe', category: 'shoes', brand: 'Stepper', price: 89.5, c: '2023-01-01' });
      const u = await store.rows(`SELECT user_id, strftime(created_at, '%Y-%m-%d') AS c, CAST(demographics AS VARCHAR) AS d FROM users ORDER BY 1`);
      assert.deepEqual(u, [
        { user_id: 'u1', c: '2022-05-05', d: '{"age_band":"25-34","country":"DE"}' },
        { user_id: 'u2', c: '2022-06-06', d: '{"age_band":"35-44","country":"FR"}' },
      ]);
      // Raw events stored; weights applied when building the matrix: u1p1 = 1 + 8, u2p1 = 4, u2p2 = 2.
      const m = await loadInteractionMatrix(store, { weights: { view: 1, click: 2, cart: 4, purchase: 8 } });
      assert.deepEqual([...m.values], [9, 4, 2]);
      assert.deepEqual([...(await loadItemMetadata(store, m.items)).categoryOf], [1, 0]);
      // Idempotent.
      const again = await ingestSynth(store, dir);
      assert.equal(again.interactions.skipped, true);
      assert.equal((await store.stats()).interactions, 4);
    } finally {
      store.close();
    }
  });

  it('a folder without interactions says what it expected', async () => {
    const store = await openStore(':memory:');
    try {
      await assert.rejects(ingestSynth(store, join(dir, 'nope')), /interactions\.parquet not found: pass a folder written by `recsys datasets synth/);
    } finally {
      store.close();
    }
  });
});
