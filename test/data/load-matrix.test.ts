/**
 * Store → InteractionMatrix on a hand-written event log (test/fixtures/ingest/events.csv):
 *
 *   u1 p1 view  01-01 10:00 | u1 p1 click 01-01 10:01 | u1 p2 view 01-01 10:02 | u2 p1 purchase 01-02 09:00
 *   u2 p3 cart  01-02 09:05 | u2 p3 view  01-02 09:04 | u3 p2 view 01-03 12:00 | u1 p1 view     01-04 08:00
 *
 * With weights view 1, click 2, cart 4, purchase 8 (value 1 per event), by hand:
 *   sum : u1p1 = 1+2+1 = 4, u1p2 = 1, u2p1 = 8, u2p3 = 4+1 = 5, u3p2 = 1
 *   max : u1p1 = 2, u2p3 = 4          last: u1p1 = 1 (the 01-04 view), u2p3 = 4 (cart is newer than view)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestInteractions, ingestProducts } from '../../src/core/data/ingest/index.js';
import { loadInteractionMatrix, loadItemMetadata, loadProducts } from '../../src/core/data/load-matrix.js';
import { openStore, type Store } from '../../src/core/data/store.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const FIX = new URL('../fixtures/ingest/', import.meta.url).pathname;
const W = { view: 1, click: 2, cart: 4, purchase: 8 };
const sec = (iso: string): number => Date.parse(iso) / 1000;

let store: Store;
let tmp: string;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'recsys-matrix-'));
  store = await openStore(':memory:');
  await ingestInteractions(store, join(FIX, 'events.csv'), { typeCol: 'event', timeCol: 'timestamp' });
});
after(() => {
  store.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('loadInteractionMatrix', () => {
  it('sum of weighted events per pair, CSR in sorted id order, lastSeen = newest event', async () => {
    const m = await loadInteractionMatrix(store, { weights: W, valueMode: 'sum' });
    assert.deepEqual(m.users.ids, ['u1', 'u2', 'u3']);
    assert.deepEqual(m.items.ids, ['p1', 'p2', 'p3']);
    assert.deepEqual([...m.indptr], [0, 2, 4, 5]);
    assert.deepEqual([...m.indices], [0, 1, 0, 2, 1]);
    assert.deepEqual([...m.values], [4, 1, 8, 5, 1]);
    assert.deepEqual(
      [...(m.lastSeen ?? [])],
      [sec('2024-01-04T08:00:00Z'), sec('2024-01-01T10:02:00Z'), sec('2024-01-02T09:00:00Z'), sec('2024-01-02T09:05:00Z'), sec('2024-01-03T12:00:00Z')],
    );
  });

  it('max, last and binary modes', async () => {
    assert.deepEqual([...(await loadInteractionMatrix(store, { weights: W, valueMode: 'max' })).values], [2, 1, 8, 4, 1]);
    assert.deepEqual([...(await loadInteractionMatrix(store, { weights: W, valueMode: 'last' })).values], [1, 1, 8, 4, 1]);
    assert.deepEqual([...(await loadInteractionMatrix(store, { weights: W, valueMode: 'binary' })).values], [1, 1, 1, 1, 1]);
  });

  it('no weights: every event counts 1; the store’s configured weights are the default', async () => {
    assert.deepEqual([...(await loadInteractionMatrix(store)).values], [3, 1, 1, 2, 1]);
    await store.setWeights(W);
    try {
      assert.deepEqual([...(await loadInteractionMatrix(store)).values], [4, 1, 8, 5, 1]);
    } finally {
      await store.run(`DELETE FROM meta WHERE key = 'weights'`);
    }
  });

  it('types filter and zero weights drop events (and users/items left without any)', async () => {
    const views = await loadInteractionMatrix(store, { weights: W, types: ['view'] });
    assert.deepEqual(views.users.ids, ['u1', 'u2', 'u3']);
    assert.deepEqual([...views.indptr], [0, 2, 3, 4]);
    assert.deepEqual([...views.indices], [0, 1, 2, 1]);
    assert.deepEqual([...views.values], [2, 1, 1, 1]);

    const noViews = await loadInteractionMatrix(store, { weights: { ...W, view: 0 } });
    assert.deepEqual(noViews.users.ids, ['u1', 'u2']);
    assert.deepEqual(noViews.items.ids, ['p1', 'p3']);
    assert.deepEqual([...noViews.indptr], [0, 1, 3]);
    assert.deepEqual([...noViews.indices], [0, 0, 1]);
    assert.deepEqual([...noViews.values], [2, 8, 4]);
  });

  it('explicit ratings: the value is the rating; numeric ids sort numerically; no timestamps → lastSeen null', async () => {
    const s = await openStore(':memory:');
    try {
      const f = join(tmp, 'ratings.csv');
      writeFileSync(f, 'user_id,item_id,rating\n10,7,4.5\n9,7,2\n10,100,5\n2,x,1\n');
      await ingestInteractions(s, f);
      const m = await loadInteractionMatrix(s, { weights: W });
      assert.deepEqual(m.users.ids, ['2', '9', '10']);
      assert.deepEqual(m.items.ids, ['7', '100', 'x']);
      assert.deepEqual([...m.indptr], [0, 1, 2, 4]);
      assert.deepEqual([...m.indices], [2, 0, 0, 1]);
      assert.deepEqual([...m.values], [1, 2, 4.5, 5]);
      assert.equal(m.lastSeen, null);
    } finally {
      s.close();
    }
  });

  it('catalog universe gives cold products an item index', async () => {
    const s = await openStore(':memory:');
    try {
      await ingestInteractions(s, join(FIX, 'events.csv'), { typeCol: 'event', timeCol: 'timestamp' });
      const f = join(tmp, 'catalog.csv');
      writeFileSync(f, 'product_id,title,category\np1,One,shoes\np2,Two,shirts\np9,Cold,shoes\n');
      await ingestProducts(s, f);
      const m = await loadInteractionMatrix(s, { itemUniverse: 'catalog' });
      assert.deepEqual(m.items.ids, ['p1', 'p2', 'p3', 'p9']);
      assert.equal(m.nnz, 5);

      const meta = await loadItemMetadata(s, m.items);
      assert.deepEqual(meta.categories, ['shirts', 'shoes']);
      assert.deepEqual([...meta.categoryOf], [1, 0, -1, 1]);

      const products = await loadProducts(s, { ids: ['p9', 'nope', 'p1'] });
      assert.deepEqual(
        products.map((p) => [p.productId, p.title, p.category, p.features]),
        [
          ['p9', 'Cold', 'shoes', null],
          ['p1', 'One', 'shoes', null],
        ],
      );
      assert.equal((await loadProducts(s)).length, 3);
    } finally {
      s.close();
    }
  });

  it('an empty store is an actionable error', async () => {
    const s = await openStore(':memory:');
    try {
      await assert.rejects(loadInteractionMatrix(s), /has no interactions; run `recsys ingest` first/);
    } finally {
      s.close();
    }
  });
});
