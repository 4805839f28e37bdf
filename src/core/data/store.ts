/**
 * The project store: one embedded DuckDB file (default `./recsys.duckdb`) holding the raw data every
 * other step reads. Schema (after the design's Data Layer, with string ids so any catalogue fits):
 *
 *   users(user_id VARCHAR PK, created_at TIMESTAMP, demographics JSON)
 *   products(product_id VARCHAR PK, title, description, category, brand, price DOUBLE, features JSON, created_at TIMESTAMP)
 *   interactions(user_id, product_id, interaction_type, value DOUBLE, timestamp TIMESTAMP, context JSON, source)
 *   ingests(one row per ingest: kind, source path, content hash, options hash, row counts, time)
 *   meta(key, value): schema version and project settings such as the event-type weights
 *
 * Interactions are stored raw (one row per event, value = rating or 1); confidence weights are applied
 * only when the matrix is built (load-matrix.ts), so changing weights never needs a re-ingest.
 * Timestamps are UTC: the session time zone is pinned to UTC so ISO strings with offsets convert the
 * same way on every machine.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBValue } from '@duckdb/node-api';
import { RecsysError } from '../errors.js';

export const STORE_SCHEMA_VERSION = '1';
export const DEFAULT_STORE_PATH = './recsys.duckdb';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS users (
  user_id VARCHAR PRIMARY KEY,
  created_at TIMESTAMP,
  demographics JSON
);
CREATE TABLE IF NOT EXISTS products (
  product_id VARCHAR PRIMARY KEY,
  title VARCHAR,
  description VARCHAR,
  category VARCHAR,
  brand VARCHAR,
  price DOUBLE,
  features JSON,
  created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS interactions (
  user_id VARCHAR NOT NULL,
  product_id VARCHAR NOT NULL,
  interaction_type VARCHAR NOT NULL,
  value DOUBLE NOT NULL,
  timestamp TIMESTAMP,
  context JSON,
  source VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1;
CREATE TABLE IF NOT EXISTS ingests (
  ingest_id BIGINT DEFAULT nextval('ingest_id_seq'),
  kind VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  format VARCHAR NOT NULL,
  content_hash VARCHAR NOT NULL,
  options_hash VARCHAR NOT NULL,
  rows_read BIGINT,
  rows_ingested BIGINT,
  rows_rejected BIGINT,
  blank_lines BIGINT,
  append BOOLEAN,
  seconds DOUBLE,
  ingested_at TIMESTAMP,
  options JSON
);
`;

/** Counts a user (or `recsys store stats`) can read at a glance. */
export interface StoreStats {
  path: string;
  users: number;
  products: number;
  interactions: number;
  /** Distinct users / products that appear in interactions. */
  interactionUsers: number;
  interactionItems: number;
  /** Rows per interaction type, e.g. { rating: 100000 } or { view: 812, purchase: 31 }. */
  interactionTypes: Record<string, number>;
  /** ISO strings (UTC) of the oldest / newest interaction timestamp, null when none has one. */
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  ingests: number;
}

/** A plain JS value from a small query (BIGINT comes back as bigint; cast in SQL when a number is wanted). */
export type SqlRow = Record<string, unknown>;

/** SQL string literal: 'it''s'. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** SQL identifier: "my ""odd"" column". */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A finite number as a SQL literal (DOUBLE). */
export function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RecsysError('RECSYS_ERR_USAGE', `expected a finite number, got ${value}`);
  return `${value}::DOUBLE`;
}

let tempCounter = 0;

export class Store {
  readonly path: string;
  private readonly instance: DuckDBInstance;
  /** The one connection of this store; ingest and the matrix loader stream through it. */
  readonly connection: DuckDBConnection;
  private closed = false;

  private constructor(path: string, instance: DuckDBInstance, connection: DuckDBConnection) {
    this.path = path;
    this.instance = instance;
    this.connection = connection;
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' gives a throw-away store. */
  static async open(path: string): Promise<Store> {
    const resolved = path === ':memory:' ? path : resolve(path);
    if (resolved !== ':memory:') mkdirSync(dirname(resolved), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(resolved);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const hint = /lock/i.test(msg)
        ? 'another process (a running `recsys serve` or ingest?) holds it; stop it or pass --store with another path'
        : 'check that the path is a DuckDB file written by recsys, or pass --store with a new path';
      throw new RecsysError('RECSYS_ERR_STORE', `cannot open store ${resolved}: ${msg}. ${hint}`, { file: resolved }, { cause: e });
    }
    const connection = await instance.connect();
    const store = new Store(resolved, instance, connection);
    try {
      await store.run("SET TimeZone = 'UTC'");
      await store.run(SCHEMA_SQL);
      const version = await store.getMeta('schema_version');
      if (version === null) await store.setMeta('schema_version', STORE_SCHEMA_VERSION);
      else if (version !== STORE_SCHEMA_VERSION) {
        throw new RecsysError(
          'RECSYS_ERR_STORE',
          `store ${resolved} has schema version ${version}, this recsys expects ${STORE_SCHEMA_VERSION}; re-ingest into a new store (--store new.duckdb)`,
          { file: resolved },
        );
      }
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  private check(): void {
    if (this.closed) throw new RecsysError('RECSYS_ERR_STORE', `store ${this.path} is closed`);
  }

  /** Runs SQL (one or more statements), discarding any result; returns rows changed by the last one. */
  async run(sql: string, params?: DuckDBValue[]): Promise<number> {
    this.check();
    try {
      const result = await this.connection.run(sql, params);
      return result.rowsChanged;
    } catch (e) {
      throw wrapSqlError(e, sql, this.path);
    }
  }

  /** Small result as row objects (use only for metadata-sized results; stream big ones via `connection`). */
  async rows(sql: string, params?: DuckDBValue[]): Promise<SqlRow[]> {
    this.check();
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      return reader.getRowObjectsJS() as SqlRow[];
    } catch (e) {
      throw wrapSqlError(e, sql, this.path);
    }
  }

  /** First column of the first row (or null). */
  async scalar(sql: string, params?: DuckDBValue[]): Promise<unknown> {
    const rows = await this.rows(sql, params);
    if (rows.length === 0) return null;
    const first = rows[0];
    const key = Object.keys(first)[0];
    return key === undefined ? null : first[key];
  }

  /** Runs `fn` inside BEGIN/COMMIT; any throw rolls back, so the store never keeps half an ingest. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.run('COMMIT');
      return out;
    } catch (e) {
      try {
        await this.run('ROLLBACK');
      } catch {
        // The transaction may already be aborted by the failing statement; the original error matters.
      }
      throw e;
    }
  }

  /** A fresh name for a connection-local temp table or view. */
  tempName(prefix: string): string {
    tempCounter++;
    return `${prefix}_${process.pid}_${tempCounter}`;
  }

  async getMeta(key: string): Promise<string | null> {
    const v = await this.scalar(`SELECT value FROM meta WHERE key = ${sqlString(key)}`);
    return typeof v === 'string' ? v : null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.run(`INSERT OR REPLACE INTO meta (key, value) VALUES (${sqlString(key)}, ${sqlString(value)})`);
  }

  /** Event-type confidence weights configured for this project (e.g. by `recsys ingest --weights`). */
  async getWeights(): Promise<Record<string, number> | null> {
    const raw = await this.getMeta('weights');
    if (raw === null) return null;
    return JSON.parse(raw) as Record<string, number>;
  }

  async setWeights(weights: Record<string, number>): Promise<void> {
    validateWeights(weights);
    await this.setMeta('weights', JSON.stringify(weights));
  }

  async stats(): Promise<StoreStats> {
    const [counts] = await this.rows(`
      SELECT
        (SELECT count(*) FROM users)::DOUBLE AS users,
        (SELECT count(*) FROM products)::DOUBLE AS products,
        (SELECT count(*) FROM interactions)::DOUBLE AS interactions,
        (SELECT count(DISTINCT user_id) FROM interactions)::DOUBLE AS iu,
        (SELECT count(DISTINCT product_id) FROM interactions)::DOUBLE AS ii,
        (SELECT strftime(min(timestamp), '%Y-%m-%dT%H:%M:%SZ') FROM interactions) AS first_ts,
        (SELECT strftime(max(timestamp), '%Y-%m-%dT%H:%M:%SZ') FROM interactions) AS last_ts,
        (SELECT count(*) FROM ingests)::DOUBLE AS ingests`);
    const types = await this.rows(
      'SELECT interaction_type AS t, count(*)::DOUBLE AS n FROM interactions GROUP BY 1 ORDER BY 2 DESC, 1',
    );
    const interactionTypes: Record<string, number> = {};
    for (const r of types) interactionTypes[String(r.t)] = Number(r.n);
    return {
      path: this.path,
      users: Number(counts.users),
      products: Number(counts.products),
      interactions: Number(counts.interactions),
      interactionUsers: Number(counts.iu),
      interactionItems: Number(counts.ii),
      interactionTypes,
      firstTimestamp: (counts.first_ts as string | null) ?? null,
      lastTimestamp: (counts.last_ts as string | null) ?? null,
      ingests: Number(counts.ingests),
    };
  }

  /**
   * Stable fingerprint of the interactions' content (not their order, not the source paths):
   * row count plus the wrapping sum of DuckDB's per-row hash, digested with SHA-256. One pass over the
   * table, so it is cheap even for 100M rows. Duplicated rows change it (a sum, not an xor). The row hash
   * is DuckDB's, so the fingerprint is stable for a given DuckDB version (pinned in package-lock).
   */
  async fingerprint(): Promise<string> {
    const [r] = await this.rows(`
      SELECT count(*)::VARCHAR AS n,
             coalesce(sum(hash(user_id, product_id, interaction_type, value, timestamp, context::VARCHAR)), 0)::VARCHAR AS h
      FROM interactions`);
    return createHash('sha256').update(`recsys-interactions-v1:${String(r.n)}:${String(r.h)}`).digest('hex').slice(0, 16);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Opens (creating if needed) the store file at `path` (the CLI's default is ./recsys.duckdb). */
export function openStore(path: string = DEFAULT_STORE_PATH): Promise<Store> {
  return Store.open(path);
}

export function validateWeights(weights: Record<string, number>): void {
  for (const [type, w] of Object.entries(weights)) {
    if (!Number.isFinite(w) || w < 0) {
      throw new RecsysError(
        'RECSYS_ERR_USAGE',
        `weight for interaction type "${type}" must be a finite number >= 0, got ${w} (e.g. --weights view=1,click=2,cart=4,purchase=8)`,
        { flag: '--weights' },
      );
    }
  }
}

function wrapSqlError(e: unknown, sql: string, path: string): unknown {
  if (e instanceof RecsysError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const head = sql.trim().split('\n')[0].slice(0, 120);
  return new RecsysError('RECSYS_ERR_STORE', `store query failed (${path}): ${msg}\n  in: ${head}`, { file: path }, { cause: e });
}
