/** The DuckDB store: schema, persistence, stats, fingerprint, meta/weights. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRecsysError } from '../../src/core/errors.js';
import { ingestInteractions } from '../../src/core/data/ingest/index.js';
import { openStore } from '../../src/core/data/store.js';

const FIX = new URL('../fixtures/ingest/', import.meta.url).pathname;
const EVENT_OPTS = { typeCol: 'event', timeCol: 'timestamp', contextCols: ['device'] } as const;
let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'recsys-store-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('store', () => {
  it('creates the schema, persists across reopen, reports stats', async () => {
    const path = join(tmp, 'sub', 'dir', 'recsys.duckdb');
    const store = await openStore(path);
    const tables = await store.rows(`SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1`);
    assert.deepEqual(
      tables.map((t) => t.table_name),
      ['ingests', 'interactions', 'meta', 'products', 'users'],
    );
    const empty = await store.stats();
    assert.equal(empty.interactions, 0);
    assert.equal(empty.firstTimestamp, null);
    await ingestInteractions(store, join(FIX, 'events.csv'), EVENT_OPTS);
    const fp = await store.fingerprint();
    store.close();

    const again = await openStore(path);
    try {
      const s = await again.stats();
      assert.equal(s.interactions, 8);
      assert.equal(s.interactionUsers, 3);
      assert.equal(s.interactionItems, 3);
      assert.deepEqual(s.interactionTypes, { view: 5, cart: 1, click: 1, purchase: 1 });
      assert.equal(s.firstTimestamp, '2024-01-01T10:00:00Z');
      assert.equal(s.lastTimestamp, '2024-01-04T08:00:00Z');
      assert.equal(s.ingests, 1);
      assert.equal(await again.fingerprint(), fp);
    } finally {
      again.close();
    }
  });

  it('fingerprint depends on content, not on row order or source path', async () => {
    const a = await openStore(':memory:');
    const b = await openStore(':memory:');
    try {
      await ingestInteractions(a, join(FIX, 'events.csv'), EVENT_OPTS);
      // Same events from another file and format (TSV) → same content.
      await ingestInteractions(b, join(FIX, 'events.tsv'), EVENT_OPTS);
      assert.equal(await a.fingerprint(), await b.fingerprint());
      assert.match(await a.fingerprint(), /^[0-9a-f]{16}$/);
      // Same rows in another order.
      await b.run('CREATE TABLE tmp_copy AS SELECT * FROM interactions ORDER BY user_id DESC, timestamp DESC; DELETE FROM interactions; INSERT INTO interactions SELECT * FROM tmp_copy');
      assert.equal(await a.fingerprint(), await b.fingerprint());
      // One duplicated row changes it (a sum of row hashes, not an xor).
      await b.run('INSERT INTO interactions SELECT * FROM tmp_copy LIMIT 1');
      assert.notEqual(await a.fingerprint(), await b.fingerprint());
    } finally {
      a.close();
      b.close();
    }
  });

  it('remembers weights and rejects negative ones', async () => {
    const store = await openStore(':memory:');
    try {
      assert.equal(await store.getWeights(), null);
      await ingestInteractions(store, join(FIX, 'events.csv'), { ...EVENT_OPTS, weights: { view: 1, click: 2, cart: 4, purchase: 8 } });
      assert.deepEqual(await store.getWeights(), { view: 1, click: 2, cart: 4, purchase: 8 });
      await assert.rejects(store.setWeights({ view: -1 }), /weight for interaction type "view" must be a finite number >= 0/);
    } finally {
      store.close();
    }
  });

  it('a store held by another process or a non-DuckDB file gives an actionable error', async () => {
    const bogus = join(tmp, 'not-a-db.duckdb');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bogus, 'hello, I am not a database file '.repeat(200));
    await assert.rejects(openStore(bogus), (e: unknown) => {
      assert.ok(isRecsysError(e));
      assert.equal(e.code, 'RECSYS_ERR_STORE');
      assert.match(e.message, /cannot open store .*not-a-db\.duckdb/);
      return true;
    });
  });

  it('a closed store refuses queries', async () => {
    const store = await openStore(':memory:');
    store.close();
    await assert.rejects(store.stats(), /is closed/);
  });
});
