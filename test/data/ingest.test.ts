/**
 * Ingest: exact bad-row reports (line, reason, column) on a hand-made malformed CSV, strict mode,
 * missing columns, JSONL errors, the same rows from CSV/TSV/JSONL/Parquet/Arrow/gzip, and
 * idempotency (re-ingest skips, append doubles, a changed file replaces its rows).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tableFromArrays, tableToIPC, TimestampMillisecond, vectorFromArray } from 'apache-arrow';
import { isRecsysError, RecsysError } from '../../src/core/errors.js';
import { ingestInteractions, ingestProducts, ingestUsers } from '../../src/core/data/ingest/index.js';
import { openStore, type Store } from '../../src/core/data/store.js';

const FIX = new URL('../fixtures/ingest/', import.meta.url).pathname;
let tmp: string;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'recsys-ingest-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(':memory:');
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

const EVENT_OPTS = { typeCol: 'event', timeCol: 'timestamp', contextCols: ['device'] } as const;

async function storedRows(store: Store): Promise<string[]> {
  const rows = await store.rows(
    `SELECT user_id, product_id, interaction_type, value, strftime(timestamp, '%Y-%m-%dT%H:%M:%S') AS ts, CAST(context AS VARCHAR) AS ctx
     FROM interactions ORDER BY ALL`,
  );
  return rows.map((r) => JSON.stringify(r));
}

describe('malformed CSV', () => {
  it('reports exact lines and reasons, skips blank lines, keeps quoted commas and newlines', async () => {
    await withStore(async (store) => {
      const r = await ingestInteractions(store, join(FIX, 'malformed.csv'));
      assert.deepEqual(r.rejects, [
        { line: 5, reason: 'value is not a number: "abc"', column: 'rating' },
        { line: 6, reason: 'expected 4 columns, found 3' },
        { line: 7, reason: 'missing user id', column: 'user_id' },
        { line: 8, reason: 'bad timestamp: "not-a-time"', column: 'timestamp' },
        { line: 13, reason: 'expected 4 columns, found 5' },
      ]);
      assert.equal(r.blankLines, 2);
      assert.equal(r.rowsRead, 11); // lines 11-12 are one record
      assert.equal(r.rowsRejected, 5);
      assert.equal(r.rowsIngested, 6);
      assert.equal(r.rowsRead, r.rowsIngested + r.rowsRejected);
      assert.deepEqual(r.warnings, []);
      assert.equal(r.skipped, false);
      assert.equal(Number(await store.scalar('SELECT count(*) FROM interactions')), 6);
      // The quoted comma and the quoted newline survive as item ids; timestamps in 3 formats parse.
      const rows = await store.rows(
        `SELECT user_id, product_id, value, strftime(timestamp, '%Y-%m-%dT%H:%M:%S') AS ts FROM interactions ORDER BY user_id`,
      );
      assert.deepEqual(
        rows.map((x) => [x.user_id, x.product_id, x.value, x.ts]),
        [
          ['1', '10', 4, '1997-12-04T15:55:49'],
          ['2', '20,A', 5, '1997-12-04T15:55:50'],
          ['6', 'multi\nline', 4, '2020-01-01T10:00:00'],
          ['8', '90', 4.5, '1997-12-04T15:55:49'],
          ['9', '100', 3, '1997-12-04T15:55:55'], // epoch milliseconds, detected by magnitude
          ['x7', '70', 1, '1997-12-04T15:55:53'],
        ],
      );
    });
  });

  it('CRLF line ends and a UTF-8 BOM give the same lines', async () => {
    const f = join(tmp, 'malformed-crlf.csv');
    writeFileSync(f, '\ufeff' + readFileSync(join(FIX, 'malformed.csv'), 'utf8').replaceAll('\n', '\r\n'));
    await withStore(async (store) => {
      const r = await ingestInteractions(store, f);
      assert.deepEqual(
        r.rejects.map((x) => [x.line, x.reason]),
        [
          [5, 'value is not a number: "abc"'],
          [6, 'expected 4 columns, found 3'],
          [7, 'missing user id'],
          [8, 'bad timestamp: "not-a-time"'],
          [13, 'expected 4 columns, found 5'],
        ],
      );
      assert.equal(r.blankLines, 2);
      assert.equal(r.rowsIngested, 6);
      assert.equal(await store.scalar(`SELECT product_id FROM interactions WHERE user_id = '6'`), 'multi\r\nline');
    });
  });

  it('a whitespace-only line is a row with too few columns, not a blank line', async () => {
    const f = join(tmp, 'spaces.csv');
    writeFileSync(f, 'user_id,item_id\na,b\n   \nc,d\n');
    await withStore(async (store) => {
      const r = await ingestInteractions(store, f);
      assert.deepEqual(r.rejects, [{ line: 3, reason: 'expected 2 columns, found 1' }]);
      assert.equal(r.blankLines, 0);
      assert.equal(r.rowsIngested, 2);
    });
  });

  it('timestamps: epoch seconds, milliseconds, microseconds, ISO with offset, date only', async () => {
    const f = join(tmp, 'times.csv');
    writeFileSync(
      f,
      'user_id,item_id,timestamp\n' +
        'a,1,881250949\n' +
        'b,1,881250949000\n' +
        'c,1,881250949000000\n' +
        'd,1,1997-12-04T17:55:49+02:00\n' +
        'e,1,1997-12-04\n' +
        'f,1,99999999999999999999\n',
    );
    await withStore(async (store) => {
      const r = await ingestInteractions(store, f);
      assert.deepEqual(r.rejects, [{ line: 7, reason: 'bad timestamp: "99999999999999999999"', column: 'timestamp' }]);
      const rows = await store.rows(`SELECT user_id, strftime(timestamp, '%Y-%m-%dT%H:%M:%S') AS t FROM interactions ORDER BY 1`);
      assert.deepEqual(
        rows.map((x) => x.t),
        ['1997-12-04T15:55:49', '1997-12-04T15:55:49', '1997-12-04T15:55:49', '1997-12-04T15:55:49', '1997-12-04T00:00:00'],
      );
    });
  });

  it('with integer ids, a non-integer id is a bad row too', async () => {
    await withStore(async (store) => {
      const r = await ingestInteractions(store, join(FIX, 'malformed.csv'), { integerIds: true });
      assert.deepEqual(
        r.rejects.map((x) => [x.line, x.reason]),
        [
          [3, 'item id is not an integer: "20,A"'],
          [5, 'value is not a number: "abc"'],
          [6, 'expected 4 columns, found 3'],
          [7, 'missing user id'],
          [8, 'bad timestamp: "not-a-time"'],
          [9, 'user id is not an integer: "x7"'],
          [11, 'item id is not an integer: "multi\nline"'],
          [13, 'expected 4 columns, found 5'],
        ],
      );
      assert.equal(r.rowsIngested, 3);
    });
  });

  it('lists only the first maxRejects but counts them all', async () => {
    await withStore(async (store) => {
      const r = await ingestInteractions(store, join(FIX, 'malformed.csv'), { maxRejects: 2 });
      assert.deepEqual(
        r.rejects.map((x) => x.line),
        [5, 6],
      );
      assert.equal(r.rowsRejected, 5);
    });
  });

  it('strict mode throws with file, line and column and writes nothing', async () => {
    await withStore(async (store) => {
      await assert.rejects(
        ingestInteractions(store, join(FIX, 'malformed.csv'), { strict: true }),
        (e: unknown) => {
          assert.ok(isRecsysError(e));
          assert.equal(e.code, 'RECSYS_ERR_INGEST_ROW');
          assert.equal(e.data.line, 5);
          assert.equal(e.data.column, 'rating');
          assert.match(String(e.data.file), /malformed\.csv$/);
          assert.match(e.message, /malformed\.csv:5: value is not a number: "abc"/);
          return true;
        },
      );
      assert.equal(Number(await store.scalar('SELECT count(*) FROM interactions')), 0);
      assert.equal(Number(await store.scalar('SELECT count(*) FROM ingests')), 0);
    });
  });

  it('a mapped column that is not in the header is an error listing the columns present', async () => {
    await withStore(async (store) => {
      await assert.rejects(ingestInteractions(store, join(FIX, 'malformed.csv'), { userCol: 'customer' }), (e: unknown) => {
        assert.ok(e instanceof RecsysError);
        assert.equal(e.code, 'RECSYS_ERR_INGEST_COLUMN');
        assert.equal(e.data.flag, '--user-col');
        assert.match(e.message, /no column "customer".*columns present: "user_id", "item_id", "rating", "timestamp"/);
        return true;
      });
    });
  });

  it('a file without any id column names what it looked for', async () => {
    const f = join(tmp, 'noid.csv');
    writeFileSync(f, 'a,b\nx,y\n');
    await withStore(async (store) => {
      await assert.rejects(ingestInteractions(store, f), /cannot find the user id column .*columns present: "a", "b"/);
    });
  });
});

describe('JSONL', () => {
  it('reports invalid JSON, non-objects, bad values and missing ids by line', async () => {
    await withStore(async (store) => {
      const r = await ingestInteractions(store, join(FIX, 'bad.jsonl'));
      assert.deepEqual(r.rejects, [
        { line: 2, reason: 'value is not a number: "x"', column: 'rating' },
        { line: 4, reason: 'invalid JSON' },
        { line: 5, reason: 'not a JSON object' },
        { line: 6, reason: 'missing user id', column: 'user_id' },
      ]);
      assert.equal(r.blankLines, 1);
      assert.equal(r.rowsRead, 6);
      assert.equal(r.rowsIngested, 2);
      const rows = await store.rows(`SELECT user_id, product_id, value, strftime(timestamp, '%Y-%m-%d') AS d FROM interactions ORDER BY user_id`);
      assert.deepEqual(
        rows.map((x) => [x.user_id, x.product_id, x.value, x.d]),
        [
          ['1', '10', 4, '1997-12-04'],
          ['4', '40', 5.5, '1997-12-04'],
        ],
      );
    });
  });
});

describe('formats give the same rows', () => {
  it('CSV, TSV, JSONL, Parquet, Arrow IPC (file and stream) and gzipped CSV', async () => {
    const expected = await withStore(async (store) => {
      const r = await ingestInteractions(store, join(FIX, 'events.csv'), EVENT_OPTS);
      assert.equal(r.rowsIngested, 8);
      assert.equal(r.format, 'csv');
      return storedRows(store);
    });
    assert.equal(expected.length, 8);
    assert.match(expected.join('\n'), /"ctx":"\{\\"device\\":\\"desktop, large\\"\}"/);
    assert.match(expected.join('\n'), /"interaction_type":"purchase"/);

    // Parquet written by DuckDB from the CSV (typed columns: TIMESTAMP WITH TIME ZONE, VARCHAR).
    const parquet = join(tmp, 'events.parquet');
    await withStore(async (s) => {
      await s.run(`COPY (SELECT * FROM read_csv('${join(FIX, 'events.csv')}')) TO '${parquet}' (FORMAT parquet)`);
    });
    // Arrow IPC built with apache-arrow (timestamps as TimestampMillisecond).
    const csvRows = readFileSync(join(FIX, 'events.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const table = tableFromArrays({
      user_id: csvRows.map((r) => r[0]),
      product_id: csvRows.map((r) => r[1]),
      event: csvRows.map((r) => r[2]),
      timestamp: vectorFromArray(csvRows.map((r) => new Date(r[3])), new TimestampMillisecond()),
      device: csvRows.map((r) => r[4]),
    });
    const arrowFile = join(tmp, 'events.arrow');
    writeFileSync(arrowFile, tableToIPC(table, 'file'));
    const arrowStream = join(tmp, 'events.arrows');
    writeFileSync(arrowStream, tableToIPC(table, 'stream'));
    const gz = join(tmp, 'events.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(FIX, 'events.csv'))));

    for (const [file, format] of [
      [join(FIX, 'events.tsv'), 'tsv'],
      [join(FIX, 'events.jsonl'), 'jsonl'],
      [parquet, 'parquet'],
      [arrowFile, 'arrow'],
      [arrowStream, 'arrow'],
      [gz, 'csv'],
    ]) {
      await withStore(async (store) => {
        const r = await ingestInteractions(store, file, EVENT_OPTS);
        assert.equal(r.format, format, file);
        assert.equal(r.rowsRead, 8, file);
        assert.equal(r.rowsRejected, 0, file);
        assert.deepEqual(await storedRows(store), expected, file);
      });
    }
  });

  it('a headerless file maps columns by position (user, item, value, time)', async () => {
    const f = join(tmp, 'noheader.csv');
    writeFileSync(f, '1,10,5,881250949\n2,20,3,881250950\n');
    await withStore(async (store) => {
      const r = await ingestInteractions(store, f);
      assert.deepEqual(r.columns, { user_id: 'column0', product_id: 'column1', value: 'column2', timestamp: 'column3' });
      assert.equal(r.rowsIngested, 2);
      assert.equal(await store.scalar(`SELECT interaction_type FROM interactions LIMIT 1`), 'rating');
    });
  });

  it('without a value column every event has value 1 and the given type', async () => {
    const f = join(tmp, 'pairs.csv');
    writeFileSync(f, 'customer_id;sku\nc1;s1\nc2;s2\n');
    await withStore(async (store) => {
      const r = await ingestInteractions(store, f, { type: 'purchase' });
      assert.equal(r.rowsIngested, 2);
      const rows = await store.rows('SELECT user_id, product_id, interaction_type, value FROM interactions ORDER BY 1');
      assert.deepEqual(
        rows.map((x) => [x.user_id, x.product_id, x.interaction_type, x.value]),
        [
          ['c1', 's1', 'purchase', 1],
          ['c2', 's2', 'purchase', 1],
        ],
      );
    });
  });
});

describe('idempotency', () => {
  it('re-ingesting skips, append doubles, a changed file replaces its rows', async () => {
    const f = join(tmp, 'log.csv');
    copyFileSync(join(FIX, 'events.csv'), f);
    await withStore(async (store) => {
      const count = async () => Number(await store.scalar('SELECT count(*) FROM interactions'));
      const first = await ingestInteractions(store, f, EVENT_OPTS);
      assert.equal(first.rowsIngested, 8);
      const again = await ingestInteractions(store, f, EVENT_OPTS);
      assert.equal(again.skipped, true);
      assert.equal(again.rowsIngested, 0);
      assert.equal(await count(), 8);
      const appended = await ingestInteractions(store, f, { ...EVENT_OPTS, append: true });
      assert.equal(appended.rowsIngested, 8);
      assert.equal(await count(), 16);
      // The file changes: its earlier rows (both copies) are replaced by the new content.
      writeFileSync(f, 'user_id,product_id,event,timestamp,device\nu9,p9,view,2024-02-01T00:00:00Z,mobile\n');
      const changed = await ingestInteractions(store, f, EVENT_OPTS);
      assert.equal(changed.replacedRows, 16);
      assert.equal(changed.rowsIngested, 1);
      assert.equal(await count(), 1);
      assert.equal(Number(await store.scalar('SELECT count(*) FROM ingests')), 3);
    });
  });
});

describe('products and users', () => {
  it('upserts by id, reports duplicates and bad prices, keeps extra columns as JSON', async () => {
    const f = join(tmp, 'products.csv');
    writeFileSync(
      f,
      'product_id,title,category,brand,price,color\n' +
        'p1,Red shirt,shirts,Acme,19.99,red\n' +
        'p2,Blue jeans,trousers,Denimco,abc,blue\n' +
        'p3,Old title,shoes,Stepper,49,black\n' +
        'p3,New title,shoes,Stepper,59,black\n' +
        'p4,Free sample,misc,,-1,\n',
    );
    await withStore(async (store) => {
      const r = await ingestProducts(store, f);
      assert.deepEqual(r.rejects, [
        { line: 3, reason: 'price is not a number: "abc"', column: 'price' },
        { line: 4, reason: 'duplicate product id "p3" (a later row with this id replaces it)', column: 'product_id' },
        { line: 6, reason: 'price below 0: -1', column: 'price' },
      ]);
      assert.equal(r.rowsIngested, 2);
      const rows = await store.rows('SELECT product_id, title, category, brand, price, CAST(features AS VARCHAR) AS f FROM products ORDER BY 1');
      assert.deepEqual(
        rows.map((x) => [x.product_id, x.title, x.category, x.brand, x.price, x.f]),
        [
          ['p1', 'Red shirt', 'shirts', 'Acme', 19.99, '{"color":"red"}'],
          ['p3', 'New title', 'shoes', 'Stepper', 59, '{"color":"black"}'],
        ],
      );
      // Upsert: a second file with p1 updates it, no duplicate rows.
      const g = join(tmp, 'products2.csv');
      writeFileSync(g, 'product_id,title,price\np1,Red shirt v2,21\n');
      await ingestProducts(store, g);
      assert.equal(Number(await store.scalar('SELECT count(*) FROM products')), 2);
      assert.equal(await store.scalar(`SELECT title FROM products WHERE product_id = 'p1'`), 'Red shirt v2');
    });
  });

  it('users: created_at parsed, other columns become demographics', async () => {
    const f = join(tmp, 'users.jsonl');
    writeFileSync(
      f,
      '{"user_id": "a", "signup_date": "2023-05-01", "country": "DE", "age_band": "25-34"}\n' +
        '{"user_id": "b", "signup_date": "yesterday", "country": "FR"}\n',
    );
    await withStore(async (store) => {
      const r = await ingestUsers(store, f);
      assert.deepEqual(r.rejects, [{ line: 2, reason: 'bad created_at: "yesterday"', column: 'signup_date' }]);
      const rows = await store.rows(`SELECT user_id, strftime(created_at, '%Y-%m-%d') AS c, CAST(demographics AS VARCHAR) AS d FROM users`);
      assert.deepEqual(rows, [{ user_id: 'a', c: '2023-05-01', d: '{"country":"DE","age_band":"25-34"}' }]);
    });
  });
});
