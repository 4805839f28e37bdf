/**
 * Store → InteractionMatrix. Everything heavy runs in DuckDB; JS only copies typed-array views.
 *
 * 1. Dense ids: the distinct users (items) of the selected interactions, sorted — numeric ids
 *    numerically, then the rest as strings — and numbered 0..n-1, so a store always gives the same
 *    indexes (MovieLens user "1" is index 0).
 * 2. One value per (user, item) pair, aggregated in SQL over its events:
 *      contribution of an event = weight(type) · value   (weight defaults to 1 for unlisted types;
 *                                                         an explicit 'rating' event thus counts its rating)
 *      sum    : Σ contributions                           (default: repeated views add up)
 *      max    : max contribution
 *      last   : the contribution of the newest event (ties: the later-ingested one)
 *      binary : 1
 *    Types with weight 0 are left out entirely (their pairs do not exist in the matrix);
 *    `types` restricts to a subset. lastSeen = newest event time of the pair (epoch seconds, NaN when
 *    no event has a timestamp; the array is null when none at all has one).
 * 3. The pairs come back ordered by (user index, item index), read chunk by chunk through
 *    `fetchChunk()` / vector `items` (typed-array views, no per-row objects), and fill the CSR arrays
 *    directly — no JS sort.
 */
import type { DuckDBDataChunk, DuckDBMaterializedResult, DuckDBResult, DuckDBVector } from '@duckdb/node-api';
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { IdMap, InteractionMatrix } from './matrix.js';
import { type Store, sqlString, validateWeights } from './store.js';

export type ValueMode = 'sum' | 'max' | 'last' | 'binary';

export interface MatrixOptions {
  /** Confidence weight per interaction type; default: the store's configured weights, else all 1. */
  weights?: Record<string, number>;
  /** How the events of one (user, item) pair combine (default 'sum'). */
  valueMode?: ValueMode;
  /** Only these interaction types (default: all). */
  types?: readonly string[];
  /** 'catalog' also gives every product of the products table an item index (cold items). */
  itemUniverse?: 'interactions' | 'catalog';
  progress?: Progress;
}

export interface ItemMetadata {
  /** Sorted distinct category names. */
  categories: string[];
  /** Category code (index into `categories`) per item index; -1 when unknown. */
  categoryOf: Int32Array;
}

export interface ProductRow {
  productId: string;
  title: string | null;
  description: string | null;
  category: string | null;
  brand: string | null;
  price: number | null;
  features: Record<string, unknown> | null;
  /** ISO-8601 UTC, or null. */
  createdAt: string | null;
}

/** Typed-array view of a fixed-width DuckDB vector (copy it before the next fetch). */
function vectorItems<T extends Int32Array | Float32Array | Float64Array>(
  vector: DuckDBVector,
  ctor: new (...args: never[]) => T,
  what: string,
): T {
  const items = (vector as unknown as { items?: unknown }).items;
  if (!(items instanceof ctor)) {
    throw new RecsysError('RECSYS_ERR_STORE', `internal: column ${what} did not come back as ${ctor.name}`);
  }
  return items;
}

async function* chunks(result: DuckDBResult): AsyncGenerator<DuckDBDataChunk> {
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) return;
    yield chunk;
  }
}

/** A materialized query result, with DuckDB errors turned into RecsysErrors. */
async function runQuery(store: Store, sql: string): Promise<DuckDBMaterializedResult> {
  try {
    return await store.connection.run(sql);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_STORE', `store query failed (${store.path}): ${e instanceof Error ? e.message : String(e)}`, { file: store.path }, { cause: e });
  }
}

/** Strings of column 0 of a (small to medium) query, in order. */
async function readStrings(store: Store, sql: string): Promise<string[]> {
  const result = await runQuery(store, sql);
  const out: string[] = new Array<string>(result.rowCount);
  let at = 0;
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const v = chunk.getColumnVector(0);
    const n = chunk.rowCount;
    for (let r = 0; r < n; r++) {
      const s = v.getItem(r);
      out[at++] = typeof s === 'string' ? s : String(s);
    }
  }
  return out;
}

/**
 * SQL for one (user, item) pair's matrix value: the event weights applied per row, then combined
 * by `mode`, over a GROUP BY user_id, product_id of the interactions table. Exported so that every
 * consumer of the interactions (the Spark export) computes exactly the matrix's values.
 */
export function pairValueSql(mode: ValueMode, weights: Record<string, number>): string {
  return aggregateSql(mode, weightSql(weights));
}

function weightSql(weights: Record<string, number>): string {
  const entries = Object.entries(weights).filter(([, w]) => w !== 1);
  if (entries.length === 0) return '1.0';
  return `(CASE interaction_type ${entries.map(([t, w]) => `WHEN ${sqlString(t)} THEN ${w}::DOUBLE`).join(' ')} ELSE 1.0 END)`;
}

function aggregateSql(mode: ValueMode, w: string): string {
  switch (mode) {
    case 'sum':
      return `sum(${w} * value)`;
    case 'max':
      return `max(${w} * value)`;
    case 'last':
      return `arg_max(${w} * value, {'t': coalesce(timestamp, '-infinity'::TIMESTAMP), 'r': rowid})`;
    case 'binary':
      return '1.0';
    default:
      throw new RecsysError('RECSYS_ERR_USAGE', `unknown value mode ${String(mode)}; use sum, max, last or binary`, { flag: '--value-mode' });
  }
}

/** ORDER BY for deterministic dense ids: numeric ids numerically, then strings (shared by the Spark export). */
export const ID_ORDER = 'TRY_CAST(id AS HUGEINT) NULLS LAST, id';

/** Builds the users × items matrix from the store's interactions (see the module comment). */
export async function loadInteractionMatrix(store: Store, opts: MatrixOptions = {}): Promise<InteractionMatrix> {
  const weights = opts.weights ?? (await store.getWeights()) ?? {};
  validateWeights(weights);
  const mode = opts.valueMode ?? 'sum';
  const conds: string[] = [];
  if (opts.types !== undefined) {
    if (opts.types.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', 'types filter is empty; omit it to use every interaction type', { flag: '--types' });
    conds.push(`interaction_type IN (${opts.types.map(sqlString).join(', ')})`);
  }
  const zero = Object.entries(weights).filter(([, w]) => w === 0).map(([t]) => t);
  if (zero.length > 0) conds.push(`interaction_type NOT IN (${zero.map(sqlString).join(', ')})`);
  const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
  const w = weightSql(weights);
  const usersT = store.tempName('mx_users');
  const itemsT = store.tempName('mx_items');
  const progress = opts.progress;
  progress?.start('matrix: ids', 1);
  try {
    await store.run(
      `CREATE TEMP TABLE ${usersT} AS SELECT id, (row_number() OVER (ORDER BY ${ID_ORDER}) - 1)::INTEGER AS idx ` +
        `FROM (SELECT DISTINCT user_id AS id FROM interactions ${where})`,
    );
    const itemSource =
      opts.itemUniverse === 'catalog'
        ? `SELECT product_id AS id FROM interactions ${where} UNION SELECT product_id AS id FROM products`
        : `SELECT DISTINCT product_id AS id FROM interactions ${where}`;
    await store.run(`CREATE TEMP TABLE ${itemsT} AS SELECT id, (row_number() OVER (ORDER BY ${ID_ORDER}) - 1)::INTEGER AS idx FROM (${itemSource})`);
    const userIds = await readStrings(store, `SELECT id FROM ${usersT} ORDER BY idx`);
    const itemIds = await readStrings(store, `SELECT id FROM ${itemsT} ORDER BY idx`);
    const nUsers = userIds.length;
    if (nUsers === 0) {
      throw new RecsysError(
        'RECSYS_ERR_STORE_EMPTY',
        `store ${store.path} has no interactions${where ? ` matching ${where.slice(6)}` : ''}; run \`recsys ingest\` first`,
        { file: store.path },
      );
    }

    progress?.start('matrix: aggregate', 1);
    // Materialized (not streamed): DuckDB runs the aggregate, joins and sort on all threads and the
    // exact nnz is known before allocating.
    const result = await runQuery(
      store,
      `SELECT u.idx AS ui, i.idx AS ii, CAST(a.v AS FLOAT) AS v, coalesce(epoch_ms(a.ts) / 1000.0, 'NaN'::DOUBLE) AS ts
       FROM (SELECT user_id, product_id, ${aggregateSql(mode, w)} AS v, max(timestamp) AS ts FROM interactions ${where} GROUP BY user_id, product_id) a
       JOIN ${usersT} u ON u.id = a.user_id
       JOIN ${itemsT} i ON i.id = a.product_id
       ORDER BY ui, ii`,
    );
    const nnz = result.rowCount;
    const indices = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    const lastSeen = new Float64Array(nnz);
    const rowCounts = new Int32Array(nUsers + 1);
    let at = 0;
    let anyTime = false;
    const nChunks = result.chunkCount;
    progress?.start('matrix: read', nnz);
    for (let c = 0; c < nChunks; c++) {
      const chunk = result.getChunk(c);
      const n = chunk.rowCount;
      const ui = vectorItems(chunk.getColumnVector(0), Int32Array, 'user index');
      const ii = vectorItems(chunk.getColumnVector(1), Int32Array, 'item index');
      const vv = vectorItems(chunk.getColumnVector(2), Float32Array, 'value');
      const ts = vectorItems(chunk.getColumnVector(3), Float64Array, 'lastSeen');
      indices.set(n === ii.length ? ii : ii.subarray(0, n), at);
      values.set(n === vv.length ? vv : vv.subarray(0, n), at);
      lastSeen.set(n === ts.length ? ts : ts.subarray(0, n), at);
      for (let r = 0; r < n; r++) rowCounts[ui[r] + 1]++;
      if (!anyTime) for (let r = 0; r < n && !anyTime; r++) anyTime = ts[r] === ts[r];
      at += n;
      progress?.tick(n);
    }
    if (at !== nnz) throw new RecsysError('RECSYS_ERR_STORE', `internal: read ${at} matrix entries, expected ${nnz}`);
    const indptr = rowCounts;
    for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
    progress?.stop();
    return new InteractionMatrix({
      indptr,
      indices,
      values,
      lastSeen: anyTime ? lastSeen : null,
      users: new IdMap(userIds),
      items: new IdMap(itemIds),
    });
  } finally {
    await store.run(`DROP TABLE IF EXISTS ${usersT}; DROP TABLE IF EXISTS ${itemsT};`).catch(() => undefined);
  }
}

/** Item ids → temp table (idx, id) for joins; returns its name. */
async function itemIndexTable(store: Store, ids: readonly string[]): Promise<string> {
  const name = store.tempName('item_ids');
  await store.run(`CREATE TEMP TABLE ${name} (idx INTEGER, id VARCHAR)`);
  const app = await store.connection.createAppender(name, 'main', 'temp');
  try {
    for (let i = 0; i < ids.length; i++) {
      app.appendInteger(i);
      app.appendVarchar(ids[i]);
      app.endRow();
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
  return name;
}

/** Category per item index (for intra-list diversity), from the products table. */
export async function loadItemMetadata(store: Store, items: IdMap | readonly string[]): Promise<ItemMetadata> {
  const ids = items instanceof IdMap ? items.ids : items;
  const table = await itemIndexTable(store, ids);
  try {
    const categories = await readStrings(
      store,
      `SELECT DISTINCT p.category FROM ${table} t JOIN products p ON p.product_id = t.id WHERE p.category IS NOT NULL ORDER BY 1`,
    );
    const code = new Map(categories.map((c, i) => [c, i]));
    const categoryOf = new Int32Array(ids.length).fill(-1);
    const result = await store.connection.stream(
      `SELECT t.idx, p.category FROM ${table} t JOIN products p ON p.product_id = t.id WHERE p.category IS NOT NULL`,
    );
    for await (const chunk of chunks(result)) {
      const idx = vectorItems(chunk.getColumnVector(0), Int32Array, 'idx');
      const cat = chunk.getColumnVector(1);
      for (let r = 0; r < chunk.rowCount; r++) categoryOf[idx[r]] = code.get(String(cat.getItem(r))) ?? -1;
    }
    return { categories, categoryOf };
  } finally {
    await store.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  }
}

/** Product rows (all, or those with the given ids, in that order; unknown ids are skipped). */
export async function loadProducts(store: Store, opts: { ids?: readonly string[] } = {}): Promise<ProductRow[]> {
  const cols = `p.product_id, p.title, p.description, p.category, p.brand, p.price, CAST(p.features AS VARCHAR) AS features,
                strftime(p.created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at`;
  let rows;
  let table: string | null = null;
  try {
    if (opts.ids) {
      table = await itemIndexTable(store, opts.ids);
      rows = await store.rows(`SELECT ${cols} FROM ${table} t JOIN products p ON p.product_id = t.id ORDER BY t.idx`);
    } else {
      rows = await store.rows(`SELECT ${cols} FROM products p ORDER BY TRY_CAST(p.product_id AS HUGEINT) NULLS LAST, p.product_id`);
    }
  } finally {
    if (table !== null) await store.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  }
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    productId: String(r.product_id),
    title: str(r.title),
    description: str(r.description),
    category: str(r.category),
    brand: str(r.brand),
    price: r.price === null || r.price === undefined ? null : Number(r.price),
    features: r.features === null || r.features === undefined ? null : (JSON.parse(String(r.features)) as Record<string, unknown>),
    createdAt: str(r.created_at),
  }));
}
