import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { buildGroupedAlias, generateSynth, sampleGroup, SYNTH_PRESETS, SYNTH_SCHEMA } from '../../src/core/data/synth.js';
import type { SynthResult } from '../../src/core/data/synth.js';
import { CATEGORY_VOCAB } from '../../src/core/data/synth-vocab.js';
import { RecsysError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

const SMALL = { users: 300, products: 120, interactions: 6000, seed: 11 };

let root = '';
let con: DuckDBConnection;
let instance: DuckDBInstance;
/** The quickstart-sized dataset most tests read. */
let qs: SynthResult;
let qsMs = 0;

async function sha(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function rows(sql: string): Promise<Array<Record<string, unknown>>> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
}

async function scalar(sql: string): Promise<number> {
  const r = await rows(sql);
  return Number(Object.values(r[0])[0]);
}

const pq = (file: string): string => `read_parquet('${file}')`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'recsys-synth-test-'));
  instance = await DuckDBInstance.create(':memory:');
  con = await instance.connect();
  const t0 = performance.now();
  qs = await generateSynth({ ...SYNTH_PRESETS.quickstart, seed: 42, outDir: join(root, 'qs') });
  qsMs = performance.now() - t0;
});

after(async () => {
  con.closeSync();
  instance.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('alias sampling', () => {
  it('builds the exact Vose table for weights [1, 3]', () => {
    const t = buildGroupedAlias(new Int32Array([0, 0]), 1, new Float64Array([1, 3]));
    // scaled = [0.5, 1.5]: slot 0 keeps item 0 with p 0.5, else aliases item 1; slot 1 is full.
    assert.deepEqual([...t.prob], [0.5, 1]);
    assert.deepEqual([...t.alias], [1, 0]);
    assert.deepEqual([...t.offsets], [0, 2]);
  });

  it('samples each group in proportion to its weights and leaves out group -1', () => {
    const groupOf = new Int32Array([1, 0, 1, -1, 1, 0]);
    const weights = new Float64Array([1, 5, 2, 100, 1, 5]);
    const t = buildGroupedAlias(groupOf, 3, weights);
    assert.deepEqual([...t.offsets], [0, 2, 5, 5]);
    assert.deepEqual([...t.items], [1, 5, 0, 2, 4]);
    const rng = new Rng(3);
    const counts = new Float64Array(6);
    const n = 200_000;
    for (let d = 0; d < n; d++) counts[sampleGroup(t, 1, rng)]++;
    // Group 1 = items 0, 2, 4 with weights 1:2:1.
    assert.equal(counts[1] + counts[3] + counts[5], 0);
    assert.ok(Math.abs(counts[0] / n - 0.25) < 0.01, `item 0 share ${counts[0] / n}`);
    assert.ok(Math.abs(counts[2] / n - 0.5) < 0.01, `item 2 share ${counts[2] / n}`);
    assert.equal(sampleGroup(t, 2, rng), -1, 'an empty group yields -1');
  });
});

describe('generateSynth: files, schema and counts', () => {
  it('writes the quickstart size in under 2 s', () => {
    assert.ok(qsMs < 2000, `quickstart generation took ${qsMs.toFixed(0)} ms`);
  });

  it('writes exactly the requested rows and reports them in dataset.json', async () => {
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(qs.files.users)}`), 2000);
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(qs.files.products)}`), 500);
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(qs.files.interactions)}`), 60_000);
    const pairs = await scalar(`SELECT count(*) FROM (SELECT DISTINCT user_id, product_id FROM ${pq(qs.files.interactions)})`);
    assert.equal(qs.counts.distinctPairs, pairs);
    assert.ok(pairs > 10_000 && pairs < 60_000, `distinct pairs ${pairs}`);
    const byType = await rows(`SELECT interaction_type t, count(*)::INTEGER n FROM ${pq(qs.files.interactions)} GROUP BY 1`);
    for (const r of byType) assert.equal(qs.counts.byType[r.t as 'view'], r.n, `count of ${String(r.t)}`);
    const ds = JSON.parse(await readFile(qs.files.dataset, 'utf8')) as {
      seed: number;
      params: { users: number };
      counts: { interactions: number; distinctPairs: number };
      schema: typeof SYNTH_SCHEMA;
      description: string;
    };
    assert.equal(ds.seed, 42);
    assert.equal(ds.params.users, 2000);
    assert.equal(ds.counts.interactions, 60_000);
    assert.equal(ds.counts.distinctPairs, pairs);
    assert.deepEqual(ds.schema, JSON.parse(JSON.stringify(SYNTH_SCHEMA)));
    assert.ok(ds.description.length > 50);
  });

  it('has exactly the documented column names and types', async () => {
    for (const table of ['users', 'products', 'interactions'] as const) {
      const cols = await rows(`DESCRIBE SELECT * FROM ${pq(qs.files[table])}`);
      assert.deepEqual(
        cols.map((c) => [c.column_name, c.column_type]),
        SYNTH_SCHEMA[table].map((c) => [c.name, c.type]),
        table,
      );
    }
  });

  it('formats ids one-based with six digits and keeps all references valid', async () => {
    const first = await rows(`SELECT min(user_id) lo, max(user_id) hi FROM ${pq(qs.files.users)}`);
    assert.deepEqual(first[0], { lo: 'u000001', hi: 'u002000' });
    const p = await rows(`SELECT min(product_id) lo, max(product_id) hi FROM ${pq(qs.files.products)}`);
    assert.deepEqual(p[0], { lo: 'p000001', hi: 'p000500' });
    const dangling = await scalar(
      `SELECT count(*) FROM ${pq(qs.files.interactions)} e
       WHERE e.user_id NOT IN (SELECT user_id FROM ${pq(qs.files.users)})
          OR e.product_id NOT IN (SELECT product_id FROM ${pq(qs.files.products)})`,
    );
    assert.equal(dangling, 0);
  });

  it('gives every product a title, description, category, brand and a positive price', async () => {
    const bad = await scalar(
      `SELECT count(*) FROM ${pq(qs.files.products)}
       WHERE coalesce(title, '') = '' OR coalesce(description, '') = '' OR coalesce(category, '') = ''
          OR coalesce(brand, '') = '' OR price IS NULL OR price <= 0 OR created_at IS NULL`,
    );
    assert.equal(bad, 0);
    assert.equal(await scalar(`SELECT count(DISTINCT category) FROM ${pq(qs.files.products)}`), 20);
    // Titles start with the brand and use the category's words.
    const shoes = await rows(`SELECT title, brand FROM ${pq(qs.files.products)} WHERE category = 'running shoes' LIMIT 5`);
    assert.ok(shoes.length > 0);
    for (const s of shoes) assert.ok(String(s.title).startsWith(String(s.brand) + ' '), String(s.title));
    assert.ok(shoes.some((s) => /Shoe|Trainer|Flat/.test(String(s.title))));
  });

  it('fills user demographics from the documented lists', async () => {
    const bands = await rows(`SELECT DISTINCT age_band FROM ${pq(qs.files.users)} ORDER BY 1`);
    assert.deepEqual(bands.map((b) => b.age_band), ['18-24', '25-34', '35-44', '45-54', '55-64', '65+']);
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(qs.files.users)} WHERE length(country) <> 2 OR created_at IS NULL`), 0);
  });
});

describe('generateSynth: event invariants', () => {
  it('every purchase, cart and click has an earlier view of the same pair (purchases also an earlier click)', async () => {
    const broken = await scalar(
      `WITH e AS (SELECT * FROM ${pq(qs.files.interactions)})
       SELECT count(*) FROM e p
       WHERE p.interaction_type <> 'view' AND NOT EXISTS (
         SELECT 1 FROM e v WHERE v.user_id = p.user_id AND v.product_id = p.product_id
           AND v.interaction_type = 'view' AND v.timestamp < p.timestamp)`,
    );
    assert.equal(broken, 0);
    const noClick = await scalar(
      `WITH e AS (SELECT * FROM ${pq(qs.files.interactions)})
       SELECT count(*) FROM e p
       WHERE p.interaction_type = 'purchase' AND NOT EXISTS (
         SELECT 1 FROM e c WHERE c.user_id = p.user_id AND c.product_id = p.product_id
           AND c.interaction_type = 'click' AND c.timestamp < p.timestamp)`,
    );
    assert.equal(noClick, 0);
    // The funnel narrows.
    const t = qs.counts.byType;
    assert.ok(t.view > t.click && t.click > t.cart && t.cart > t.purchase && t.purchase > 0, JSON.stringify(t));
  });

  it('orders rows by user, with timestamps strictly increasing per user inside the span', async () => {
    const bad = await scalar(
      `SELECT count(*) FROM (
         SELECT user_id, timestamp, file_row_number,
                lag(timestamp) OVER (PARTITION BY user_id ORDER BY file_row_number) prev,
                lag(user_id) OVER (ORDER BY file_row_number) prev_user
         FROM read_parquet('${qs.files.interactions}', file_row_number = true))
       WHERE prev >= timestamp OR prev_user > user_id`,
    );
    assert.equal(bad, 0);
    const span = await rows(`SELECT min(timestamp)::VARCHAR lo, max(timestamp)::VARCHAR hi FROM ${pq(qs.files.interactions)}`);
    assert.ok(String(span[0].lo) >= '2025-01-01', String(span[0].lo));
    assert.ok(String(span[0].hi) < '2025-06-30', String(span[0].hi));
  });

  it('never has an event before the user signed up or the product launched', async () => {
    const early = await scalar(
      `SELECT count(*) FROM ${pq(qs.files.interactions)} e
       JOIN ${pq(qs.files.users)} u USING (user_id) JOIN ${pq(qs.files.products)} p USING (product_id)
       WHERE e.timestamp <= u.created_at OR e.timestamp < p.created_at`,
    );
    assert.equal(early, 0);
    // Some products launch inside the span, so temporal splits see new items.
    assert.ok((await scalar(`SELECT count(*) FROM ${pq(qs.files.products)} WHERE created_at >= TIMESTAMP '2025-01-01'`)) > 20);
  });

  it('skews popularity and activity (top 10% of items and users take a large share)', async () => {
    const itemShare = await scalar(
      `WITH c AS (SELECT product_id, count(*) n FROM ${pq(qs.files.interactions)} GROUP BY 1),
            r AS (SELECT n, row_number() OVER (ORDER BY n DESC) rk FROM c)
       SELECT sum(n) FILTER (WHERE rk <= 50) / sum(n) FROM r`,
    );
    assert.ok(itemShare > 0.35 && itemShare < 0.9, `top-10% item share ${itemShare}`);
    const userShare = await scalar(
      `WITH c AS (SELECT user_id, count(*) n FROM ${pq(qs.files.interactions)} GROUP BY 1),
            r AS (SELECT n, row_number() OVER (ORDER BY n DESC) rk FROM c)
       SELECT sum(n) FILTER (WHERE rk <= 200) / sum(n) FROM r`,
    );
    assert.ok(userShare > 0.25 && userShare < 0.6, `top-10% user share ${userShare}`);
    assert.equal(qs.counts.activeUsers, 2000, 'every user has at least one event');
  });
});

describe('generateSynth: signal for personal models', () => {
  /** Per event: user index, product index, category index (file order). */
  async function events(): Promise<{ user: Int32Array; item: Int32Array; category: Int32Array }> {
    const r = await con.runAndReadAll(
      `SELECT (substr(e.user_id, 2)::INTEGER - 1)::INTEGER u, (substr(e.product_id, 2)::INTEGER - 1)::INTEGER i,
              (dense_rank() OVER (ORDER BY p.category) - 1)::INTEGER c
       FROM read_parquet('${qs.files.interactions}', file_row_number = true) e JOIN ${pq(qs.files.products)} p USING (product_id)
       ORDER BY e.file_row_number`,
    );
    const cols = r.getColumnsJS() as number[][];
    return { user: Int32Array.from(cols[0]), item: Int32Array.from(cols[1]), category: Int32Array.from(cols[2]) };
  }

  it("concentrates each user's events in a few categories far more than shuffled events do", async () => {
    const ev = await events();
    const nUsers = SYNTH_PRESETS.quickstart.users;
    // Mean share of each user's events in their top 3 categories (users with >= 30 events).
    const top3Share = (category: Int32Array): number => {
      const counts = new Float64Array(nUsers * 20);
      const total = new Float64Array(nUsers);
      for (let e = 0; e < ev.user.length; e++) {
        counts[ev.user[e] * 20 + category[e]]++;
        total[ev.user[e]]++;
      }
      let sum = 0;
      let n = 0;
      for (let u = 0; u < nUsers; u++) {
        if (total[u] < 30) continue;
        const row = Array.from(counts.subarray(u * 20, u * 20 + 20)).sort((a, b) => b - a);
        sum += (row[0] + row[1] + row[2]) / total[u];
        n++;
      }
      assert.ok(n > 200, `only ${n} users with >= 30 events`);
      return sum / n;
    };
    const actual = top3Share(ev.category);
    // Same per-user counts and global category mix, but no taste: categories shuffled across all events.
    const shuffled = top3Share(new Rng(5).shuffle(Int32Array.from(ev.category)));
    assert.ok(actual > shuffled + 0.2, `top-3 category share ${actual.toFixed(3)} vs shuffled ${shuffled.toFixed(3)}`);
  });

  it('lets a small item-kNN beat popularity by a wide margin on a random 80/20 pair holdout', async () => {
    const ev = await events();
    const nUsers = SYNTH_PRESETS.quickstart.users;
    const nItems = SYNTH_PRESETS.quickstart.products;
    // Distinct pairs per user, then 20% of each user's pairs (at least 1, users with >= 2) to test.
    const pairs = Array.from({ length: nUsers }, () => new Set<number>());
    for (let e = 0; e < ev.user.length; e++) pairs[ev.user[e]].add(ev.item[e]);
    const rng = new Rng(9);
    const train: number[][] = [];
    const test: Array<Set<number>> = [];
    for (let u = 0; u < nUsers; u++) {
      const items = rng.shuffle([...pairs[u]].sort((a, b) => a - b));
      const nTest = items.length >= 2 ? Math.max(1, Math.floor(0.2 * items.length)) : 0;
      test.push(new Set(items.slice(0, nTest)));
      train.push(items.slice(nTest));
    }
    const pop = new Float64Array(nItems);
    const cooc = new Float64Array(nItems * nItems);
    for (const items of train) {
      for (const i of items) {
        pop[i]++;
        for (const j of items) if (i !== j) cooc[i * nItems + j]++;
      }
    }
    const recallAt10 = (score: (u: number, out: Float64Array) => void): number => {
      const s = new Float64Array(nItems);
      let sum = 0;
      let n = 0;
      for (let u = 0; u < nUsers; u++) {
        if (test[u].size === 0) continue;
        score(u, s);
        for (const i of train[u]) s[i] = -Infinity;
        const order = Array.from({ length: nItems }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b);
        let hits = 0;
        for (let r = 0; r < 10; r++) if (test[u].has(order[r])) hits++;
        sum += hits / Math.min(10, test[u].size);
        n++;
      }
      return sum / n;
    };
    const popularity = recallAt10((_, out) => out.set(pop));
    const knn = recallAt10((u, out) => {
      out.fill(0);
      for (const j of train[u]) {
        for (let i = 0; i < nItems; i++) out[i] += cooc[j * nItems + i] / Math.sqrt((pop[i] + 1) * (pop[j] + 1));
      }
    });
    assert.ok(knn > 1.5 * popularity, `item-kNN recall@10 ${knn.toFixed(4)} vs popularity ${popularity.toFixed(4)}`);
  });

  it('shifts taste by age band (video games skew young, gardening tools older)', async () => {
    const shares = await rows(
      `SELECT u.age_band band,
              avg((p.category = 'video games')::INTEGER) games, avg((p.category = 'gardening tools')::INTEGER) garden
       FROM ${pq(qs.files.interactions)} e JOIN ${pq(qs.files.users)} u USING (user_id) JOIN ${pq(qs.files.products)} p USING (product_id)
       WHERE u.age_band IN ('18-24', '55-64', '65+') GROUP BY 1`,
    );
    const by = new Map(shares.map((s) => [String(s.band), s]));
    const young = by.get('18-24');
    const old55 = by.get('55-64');
    assert.ok(young && old55);
    assert.ok(Number(young.games) > 1.5 * Number(old55.games), `games ${Number(young.games)} vs ${Number(old55.games)}`);
    assert.ok(Number(old55.garden) > 1.5 * Number(young.garden), `garden ${Number(old55.garden)} vs ${Number(young.garden)}`);
  });
});

describe('generateSynth: determinism and options', () => {
  it('gives byte-identical files for the same seed, whatever the chunk size', async () => {
    const a = await generateSynth({ ...SMALL, outDir: join(root, 'a') });
    const b = await generateSynth({ ...SMALL, outDir: join(root, 'b'), chunkRows: 1024 });
    for (const f of ['users', 'products', 'interactions'] as const) {
      assert.equal(await sha(a.files[f]), await sha(b.files[f]), `${f} differs`);
    }
    assert.deepEqual(a.counts, b.counts);
    const c = await generateSynth({ ...SMALL, seed: 12, outDir: join(root, 'c') });
    assert.notEqual(await sha(a.files.interactions), await sha(c.files.interactions));
    assert.notEqual(await sha(a.files.products), await sha(c.files.products));
  });

  it('writes CSV with the same rows as Parquet', async () => {
    const p = await generateSynth({ ...SMALL, outDir: join(root, 'a-pq') });
    const c = await generateSynth({ ...SMALL, format: 'csv', outDir: join(root, 'a-csv') });
    assert.ok(c.files.interactions.endsWith('interactions.csv'));
    const header = (await readFile(c.files.interactions, 'utf8')).split('\n', 1)[0];
    assert.equal(header, 'user_id,product_id,interaction_type,value,timestamp');
    const diff = await scalar(
      `SELECT count(*) FROM (
         (SELECT * FROM ${pq(p.files.interactions)} EXCEPT ALL SELECT * FROM read_csv('${c.files.interactions}'))
         UNION ALL
         (SELECT * FROM read_csv('${c.files.interactions}') EXCEPT ALL SELECT * FROM ${pq(p.files.interactions)}))`,
    );
    assert.equal(diff, 0);
    const products = await scalar(
      `SELECT count(*) FROM (SELECT * FROM ${pq(p.files.products)} EXCEPT ALL SELECT * FROM read_csv('${c.files.products}'))`,
    );
    assert.equal(products, 0);
  });

  it('handles fewer events than users, and more categories than the vocabulary', async () => {
    const nCategories = CATEGORY_VOCAB.length + 4;
    const r = await generateSynth({ users: 50, products: 30, interactions: 20, seed: 1, categories: nCategories, communities: 3, outDir: join(root, 'tiny') });
    assert.equal(r.counts.interactions, 20);
    assert.equal(r.counts.activeUsers, 20);
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(r.files.interactions)}`), 20);
    const ds = JSON.parse(await readFile(r.files.dataset, 'utf8')) as { categories: string[] };
    assert.equal(ds.categories.length, nCategories);
    assert.equal(ds.categories[CATEGORY_VOCAB.length], 'running shoes II');
    assert.equal(new Set(ds.categories).size, nCategories);
    const zero = await generateSynth({ users: 5, products: 5, interactions: 0, seed: 1, outDir: join(root, 'zero') });
    assert.equal(await scalar(`SELECT count(*) FROM ${pq(zero.files.interactions)}`), 0);
  });

  it('rejects bad options with a usage error naming the flag', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ users: 0 }, '--users'],
      [{ products: 1.5 }, '--products'],
      [{ interactions: -1 }, '--interactions'],
      [{ categories: 0 }, '--categories'],
      [{ format: 'xlsx' }, '--format'],
      [{ startDate: '2025/01/01' }, '--start-date'],
      [{ users: 1, interactions: 50_000_000 }, '--users'],
    ];
    const notAFolder = join(root, 'plain-file');
    await writeFile(notAFolder, 'x');
    cases.push([{ outDir: join(notAFolder, 'sub') }, '--out']);
    for (const [patch, flag] of cases) {
      await assert.rejects(
        generateSynth({ ...SMALL, outDir: join(root, 'bad'), ...patch } as Parameters<typeof generateSynth>[0]),
        (e: unknown) => e instanceof RecsysError && e.code === 'RECSYS_ERR_USAGE' && e.data.flag === flag,
        JSON.stringify(patch),
      );
    }
  });
});
