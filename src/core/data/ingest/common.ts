/**
 * The ingest engine shared by every file format. A format reader stages its file as a SQL relation
 * (a temp table or a table function) with a 0-based ordinal per record; this module maps the
 * relation's columns onto a store table, validates every row in one SQL pass (TRY_CAST, never a JS
 * loop per row), reports bad rows with their exact line and reason, and inserts the good rows in one
 * transaction together with an `ingests` record.
 *
 * Idempotency: an ingest is keyed by (table, content hash of the file, hash of the mapping options).
 * Ingesting the same file again with the same options is skipped; a changed file (or a changed
 * mapping) from the same path replaces that path's earlier interaction rows; `append: true` always
 * inserts. Products and users are upserted by id, so re-ingesting them never doubles either.
 *
 * Bad rows never vanish: every record read is either ingested or counted as rejected
 * (`rowsRead = rowsIngested + rowsRejected`), with the first `maxRejects` (default 10) listed as
 * {line, reason, column}. Blank lines are skipped and counted apart. `strict: true` turns the first
 * bad row into a RecsysError naming file, line and column, and nothing is written.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RecsysError } from '../../errors.js';
import type { Progress } from '../../models/recommender.js';
import { type Store, sqlIdent, sqlString } from '../store.js';

export type TableKind = 'interactions' | 'products' | 'users';
export type IngestFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet' | 'arrow';
export type TimeUnit = 'auto' | 's' | 'ms' | 'us';

export interface RejectedRow {
  /** 1-based file line (header included) for text files; 1-based row number for Parquet/Arrow. */
  line: number;
  reason: string;
  /** Source column at fault, when one is. */
  column?: string;
}

export interface IngestResult {
  file: string;
  table: TableKind;
  format: string;
  /** Records read (blank lines and the header excluded). */
  rowsRead: number;
  rowsIngested: number;
  rowsRejected: number;
  blankLines: number;
  /** The first `maxRejects` bad rows, in line order. */
  rejects: RejectedRow[];
  seconds: number;
  rowsPerSecond: number;
  /** True when the same content with the same options was already ingested (nothing written). */
  skipped: boolean;
  /** Rows of an earlier ingest of the same path that this one replaced. */
  replacedRows: number;
  contentHash: string;
  /** Which source column feeds which field, e.g. { user_id: 'userId', product_id: 'movieId' }. */
  columns: Record<string, string>;
  /** Things a user should know that are not row errors. */
  warnings: string[];
}

export interface CommonIngestOptions {
  /** Default: from the extension (.csv .tsv .txt .dat .data[.gz], .jsonl .ndjson, .parquet, .arrow .feather .ipc). */
  format?: IngestFormat;
  /** Delimited files: delimiter (sniffed when absent), quote ('"'; '' for none), escape (= quote). */
  delimiter?: string;
  quote?: string;
  escape?: string;
  /** Delimited files: whether the first record is a header (sniffed when absent). */
  header?: boolean;
  /** Column names for a headerless file (or to rename a header's). Default column0, column1, … */
  names?: readonly string[];
  encoding?: 'utf-8' | 'latin-1';
  /**
   * Ids must be integers (a non-integer id is a bad row) and are stored canonically ("007" → "7").
   * Default false: ids are free strings.
   */
  integerIds?: boolean;
  /** Any bad row fails the ingest (nothing written). */
  strict?: boolean;
  /** How many bad rows to list in detail (default 10). */
  maxRejects?: number;
  /** Insert even when this content was ingested before. */
  append?: boolean;
  progress?: Progress;
}

export interface InteractionIngestOptions extends CommonIngestOptions {
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  typeCol?: string;
  /** Extra columns stored as the `context` JSON object (device, session, …). */
  contextCols?: readonly string[];
  /** Interaction type when there is no type column (default: 'rating' with a value column, else 'interaction'). */
  type?: string;
  /** Numeric timestamps: seconds, ms or µs; 'auto' decides per value by magnitude. ISO strings always work. */
  timeUnit?: TimeUnit;
  /**
   * Event-type confidence weights to remember in the store for matrix building
   * (e.g. { view: 1, click: 2, cart: 4, purchase: 8 }). Stored values stay raw.
   */
  weights?: Record<string, number>;
}

export interface ProductIngestOptions extends CommonIngestOptions {
  idCol?: string;
  titleCol?: string;
  descriptionCol?: string;
  categoryCol?: string;
  brandCol?: string;
  priceCol?: string;
  createdCol?: string;
  /** Columns stored in `features` JSON (default: every column not mapped above). */
  featureCols?: readonly string[];
  timeUnit?: TimeUnit;
}

export interface UserIngestOptions extends CommonIngestOptions {
  idCol?: string;
  createdCol?: string;
  /** Columns stored in `demographics` JSON (default: every column not mapped above). */
  demographicCols?: readonly string[];
  timeUnit?: TimeUnit;
}

/** What a format reader hands to the engine. */
export interface StagedSource {
  format: string;
  /** SQL FROM item exposing the columns below. */
  relation: string;
  /**
   * SQL expression (over `relation`) of the record's 0-based ordinal, or null when `relation` yields
   * records in file order (read_csv) and the ordinal is the rowid of the materialized parse.
   */
  ordinal: string | null;
  columns: ReadonlyArray<{ name: string; type: string }>;
  /** Conditions that make a row bad before any field is looked at (e.g. invalid JSON). */
  rowChecks?: ReadonlyArray<{ condition: string; reason: string }>;
  /** Parse into a temp table first (text sources, where parsing is the expensive part). */
  materialize: boolean;
  /** Whether rejects carry file lines ('line') or record numbers ('row'), for messages. */
  position: 'line' | 'row';
  /**
   * Called once the engine knows which staged ordinals are bad: returns their 1-based lines, the
   * reader's own rejects (rows it could not stage), blank lines and the records read.
   */
  finish(badOrdinals: readonly number[], maxRejects: number, stagedRows: number): Promise<StageFinish>;
  cleanup(): Promise<void>;
}

export interface StageFinish {
  ordinalLines: Map<number, number>;
  structural: RejectedRow[];
  structuralCount: number;
  blankLines: number;
  rowsRead: number;
  warnings: string[];
}

export type FieldKind = 'id' | 'text' | 'number' | 'timestamp' | 'type' | 'sql';

/** One column of the target table and where its value comes from. */
export interface FieldSpec {
  target: string;
  kind: FieldKind;
  /** Staged column feeding it (absent: `sql`, or NULL/default). */
  source?: string;
  /** For kind 'sql': an expression over the staged columns; for others with no source: a constant. */
  sql?: string;
  /** Missing value makes the row bad. */
  required?: boolean;
  /** Human name used in reasons ("user id", "rating"). */
  label: string;
  /** Smallest allowed number (e.g. price 0). */
  min?: number;
  /** For ids: must be an integer. */
  integer?: boolean;
  timeUnit?: TimeUnit;
}

export interface TargetTable {
  table: TableKind;
  fields: FieldSpec[];
  /** Primary key target (products/users): duplicates are reported and the last row wins. */
  key?: string;
}

export const DEFAULT_MAX_REJECTS = 10;

export function detectFormat(file: string, given?: IngestFormat): IngestFormat {
  if (given) return given;
  const lower = file.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (/\.(csv|txt|dat|data)$/.test(lower)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return 'jsonl';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(arrow|feather|ipc|arrows)$/.test(lower)) return 'arrow';
  throw new RecsysError(
    'RECSYS_ERR_INGEST_FORMAT',
    `cannot tell the format of ${file} from its extension; pass --format csv|tsv|jsonl|parquet|arrow`,
    { file, flag: '--format' },
  );
}

export function checkReadable(file: string): number {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    return st.size;
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { file }, { cause: e });
  }
}

/** SHA-256 of the file's bytes (streamed). */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('hex');
}

export function hashOptions(options: Record<string, unknown>): string {
  const keys = Object.keys(options).filter((k) => options[k] !== undefined).sort();
  const canon = keys.map((k) => [k, options[k]]);
  return createHash('sha256').update(JSON.stringify(canon)).digest('hex').slice(0, 16);
}

/** Lowercase and drop separators so userId, user_id and "User ID" compare equal. */
function normName(s: string): string {
  return s.toLowerCase().replace(/[\s_\-.]/g, '');
}

export const ALIASES = {
  user: ['user_id', 'userid', 'user', 'uid', 'customer_id', 'customerid', 'customer', 'visitor_id', 'visitorid', 'member_id', 'client_id'],
  item: ['product_id', 'productid', 'item_id', 'itemid', 'item', 'product', 'movie_id', 'movieid', 'sku', 'article_id', 'asin'],
  value: ['value', 'rating', 'score', 'weight', 'count', 'quantity', 'qty'],
  time: ['timestamp', 'ts', 'time', 'event_time', 'datetime', 'date', 'created_at', 'event_timestamp', 'unix_time'],
  type: ['interaction_type', 'event_type', 'event', 'type', 'action', 'behavior', 'behaviour'],
  productId: ['product_id', 'productid', 'item_id', 'itemid', 'id', 'movie_id', 'movieid', 'sku', 'asin', 'item', 'product'],
  userId: ['user_id', 'userid', 'id', 'uid', 'customer_id', 'customerid', 'user', 'visitor_id'],
  title: ['title', 'name', 'product_name', 'item_name'],
  description: ['description', 'desc', 'summary', 'text', 'body'],
  category: ['category', 'category_name', 'genre', 'department', 'category_id'],
  brand: ['brand', 'brand_name', 'manufacturer', 'vendor'],
  price: ['price', 'unit_price', 'amount'],
  created: ['created_at', 'created', 'signup_date', 'registered_at', 'added_at', 'release_date'],
} as const;

/**
 * Finds the source column for a field: the requested name (exact, then case/separator-insensitive),
 * or the first alias present. A requested name that is not there is an error listing the columns.
 */
export function resolveColumn(
  columns: readonly string[],
  requested: string | undefined,
  aliases: readonly string[],
  ctx: { file: string; flag: string; label: string },
): string | undefined {
  if (requested !== undefined) {
    if (columns.includes(requested)) return requested;
    const n = normName(requested);
    const hit = columns.find((c) => normName(c) === n);
    if (hit !== undefined) return hit;
    throw missingColumn(requested, columns, ctx);
  }
  for (const a of aliases) {
    const n = normName(a);
    const hit = columns.find((c) => normName(c) === n);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

export function missingColumn(name: string, columns: readonly string[], ctx: { file: string; flag: string; label: string }): RecsysError {
  return new RecsysError(
    'RECSYS_ERR_INGEST_COLUMN',
    `${ctx.file}: no column "${name}" for the ${ctx.label} (${ctx.flag}); columns present: ${columns.map((c) => JSON.stringify(c)).join(', ')}. ` +
      `Pass ${ctx.flag} with one of them.`,
    { file: ctx.file, column: name, flag: ctx.flag, columns: [...columns] },
  );
}

export function requireColumn(
  columns: readonly string[],
  requested: string | undefined,
  aliases: readonly string[],
  ctx: { file: string; flag: string; label: string },
  positional?: string,
): string {
  const hit = resolveColumn(columns, requested, aliases, ctx);
  if (hit !== undefined) return hit;
  if (positional !== undefined && columns.includes(positional)) return positional;
  throw new RecsysError(
    'RECSYS_ERR_INGEST_COLUMN',
    `${ctx.file}: cannot find the ${ctx.label} column (looked for ${aliases.slice(0, 5).join(', ')}…); columns present: ` +
      `${columns.map((c) => JSON.stringify(c)).join(', ')}. Pass ${ctx.flag} <column>.`,
    { file: ctx.file, flag: ctx.flag, columns: [...columns] },
  );
}

// ---------------------------------------------------------------------------------------------
// SQL for parsing and checking one field

const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|REAL)$/i;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|REAL|DECIMAL.*)$/i;
const TIME_TYPES = /^(TIMESTAMP.*|DATE)$/i;

/** Seconds since epoch (DOUBLE expr) → TIMESTAMP, NULL when outside years 1–9999. */
function secondsToTimestamp(seconds: string): string {
  return `(CASE WHEN ${seconds} BETWEEN -62135596800 AND 253402300799 THEN make_timestamp(CAST(round(${seconds} * 1000000) AS BIGINT)) END)`;
}

/** A numeric epoch in the given unit → seconds. 'auto': ≥1e14 µs, ≥1e11 ms, else seconds (1e11 s is year 5138). */
function epochSeconds(d: string, unit: TimeUnit): string {
  switch (unit) {
    case 's':
      return d;
    case 'ms':
      return `(${d} / 1000.0)`;
    case 'us':
      return `(${d} / 1000000.0)`;
    default:
      return `(CASE WHEN abs(${d}) >= 1e14 THEN ${d} / 1000000.0 WHEN abs(${d}) >= 1e11 THEN ${d} / 1000.0 ELSE ${d} END)`;
  }
}

interface FieldSql {
  /** Parsed value. */
  parsed: string;
  /** TRUE when the source had something (non-null, non-blank). */
  present: string;
  /** Condition (over parsed/present) meaning "present but unparsable"; null when parsing cannot fail. */
  failed: string | null;
  /** Raw text, kept only for failed rows (for the message). */
  raw: string;
}

function fieldSql(f: FieldSpec, type: string | undefined): FieldSql {
  if (f.source === undefined) return { parsed: f.sql ?? 'NULL', present: 'TRUE', failed: null, raw: 'NULL' };
  const col = sqlIdent(f.source);
  const t = (type ?? 'VARCHAR').toUpperCase();
  const isText = t === 'VARCHAR' || t === 'JSON' || t.startsWith('VARCHAR');
  const txt = isText ? `nullif(trim(${col}), '')` : `nullif(trim(CAST(${col} AS VARCHAR)), '')`;
  const raw = isText ? col : `CAST(${col} AS VARCHAR)`;
  const present = isText ? `(${txt} IS NOT NULL)` : `(${col} IS NOT NULL)`;
  switch (f.kind) {
    case 'id': {
      if (f.integer) {
        const parsed = NUMERIC_TYPES.test(t)
          ? `(CASE WHEN isfinite(${col}::DOUBLE) AND ${col} = trunc(${col}) THEN CAST(CAST(${col} AS HUGEINT) AS VARCHAR) END)`
          : `(CASE WHEN regexp_full_match(${txt}, '[+-]?[0-9]{1,38}') THEN CAST(CAST(${txt} AS HUGEINT) AS VARCHAR) END)`;
        return { parsed, present: `(${txt} IS NOT NULL)`, failed: `(${txt} IS NOT NULL) AND ${parsed} IS NULL`, raw };
      }
      // Integral floats (1.0) become "1": numeric ids are their decimal strings.
      const parsed = FLOAT_TYPES.test(t)
        ? `(CASE WHEN isfinite(${col}::DOUBLE) AND ${col} = trunc(${col}) AND abs(${col}) < 9e15 THEN CAST(CAST(${col} AS BIGINT) AS VARCHAR) ELSE ${txt} END)`
        : txt;
      return { parsed, present: `(${txt} IS NOT NULL)`, failed: null, raw };
    }
    case 'text':
      return { parsed: isText ? `nullif(${col}, '')` : `CAST(${col} AS VARCHAR)`, present, failed: null, raw };
    case 'type':
      return { parsed: `lower(${txt})`, present: `(${txt} IS NOT NULL)`, failed: null, raw };
    case 'number': {
      const parsed = NUMERIC_TYPES.test(t) ? `CAST(${col} AS DOUBLE)` : `TRY_CAST(${txt} AS DOUBLE)`;
      return { parsed, present, failed: `${present} AND NOT coalesce(isfinite(${parsed}), FALSE)`, raw };
    }
    case 'timestamp': {
      const unit = f.timeUnit ?? 'auto';
      let parsed: string;
      if (TIME_TYPES.test(t)) parsed = `CAST(${col} AS TIMESTAMP)`;
      else if (NUMERIC_TYPES.test(t)) parsed = secondsToTimestamp(epochSeconds(`CAST(${col} AS DOUBLE)`, unit));
      else if (!isText) parsed = `TRY_CAST(${col} AS TIMESTAMP)`;
      else {
        // A number is an epoch (unit by magnitude unless given); anything else must be an ISO-8601
        // date/time, with or without an offset (converted to UTC).
        const d = `TRY_CAST(${txt} AS DOUBLE)`;
        parsed = `(CASE WHEN ${d} IS NOT NULL THEN ${secondsToTimestamp(epochSeconds(d, unit))} ELSE CAST(TRY_CAST(${txt} AS TIMESTAMPTZ) AS TIMESTAMP) END)`;
      }
      return { parsed, present, failed: `${present} AND ${parsed} IS NULL`, raw };
    }
    default:
      return { parsed: f.sql ?? 'NULL', present: 'TRUE', failed: null, raw: 'NULL' };
  }
}

/** SQL that shortens a raw value for a message: "abc" or "abcdefgh…". */
function quoted(raw: string): string {
  return `'"' || (CASE WHEN length(${raw}) > 40 THEN left(${raw}, 40) || '…' ELSE ${raw} END) || '"'`;
}

interface CheckSql {
  condition: string;
  reason: string;
  column: string | null;
}

/** Checks over the parsed columns f<i> (value), p<i> (present), r<i> (raw text, set only when unparsable). */
function fieldChecks(f: FieldSpec, i: number, canFail: boolean): CheckSql[] {
  const col = f.source ?? null;
  const out: CheckSql[] = [];
  if (f.source === undefined) return out;
  if (f.required) out.push({ condition: `NOT p${i}`, reason: sqlString(`missing ${f.label}`), column: col });
  if (canFail) {
    const what = f.kind === 'number' ? `${f.label} is not a number: ` : f.kind === 'id' ? `${f.label} is not an integer: ` : `bad ${f.label}: `;
    out.push({ condition: `r${i} IS NOT NULL`, reason: `${sqlString(what)} || ${quoted(`r${i}`)}`, column: col });
  }
  if (f.kind === 'number' && f.min !== undefined) {
    out.push({ condition: `f${i} < ${f.min}`, reason: `${sqlString(`${f.label} below ${f.min}: `)} || m${i}`, column: col });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The engine

export interface IngestContext {
  store: Store;
  file: string;
  table: TableKind;
  /** Mapping options that define the content (hashed for idempotency). */
  optionsForHash: Record<string, unknown>;
  opts: CommonIngestOptions;
  /** Source path recorded on interaction rows (default: the resolved file path). */
  source?: string;
}

export interface PreparedIngest {
  absFile: string;
  contentHash: string;
  optionsHash: string;
  started: number;
  skipped: IngestResult | null;
}

/** Hashes the file and checks the `ingests` table; returns a ready `skipped` result when nothing is to do. */
export async function prepareIngest(ctx: IngestContext, format: string): Promise<PreparedIngest> {
  const started = performance.now();
  const absFile = resolve(ctx.file);
  checkReadable(absFile);
  ctx.opts.progress?.start(`hash ${ctx.file}`, 1);
  const contentHash = await hashFile(absFile);
  const optionsHash = hashOptions({ ...ctx.optionsForHash, table: ctx.table });
  if (!ctx.opts.append) {
    const prev = await ctx.store.rows(
      `SELECT rows_read::DOUBLE AS rows_read, source FROM ingests WHERE kind = ${sqlString(ctx.table)} AND content_hash = ${sqlString(contentHash)} AND options_hash = ${sqlString(optionsHash)} ORDER BY ingest_id DESC LIMIT 1`,
    );
    if (prev.length > 0) {
      ctx.opts.progress?.stop();
      const seconds = (performance.now() - started) / 1000;
      return {
        absFile,
        contentHash,
        optionsHash,
        started,
        skipped: {
          file: absFile,
          table: ctx.table,
          format,
          rowsRead: 0,
          rowsIngested: 0,
          rowsRejected: 0,
          blankLines: 0,
          rejects: [],
          seconds,
          rowsPerSecond: 0,
          skipped: true,
          replacedRows: 0,
          contentHash,
          columns: {},
          warnings: [`already ingested from ${String(prev[0].source)} (same content and options); pass append to insert again`],
        },
      };
    }
  }
  return { absFile, contentHash, optionsHash, started, skipped: null };
}

/**
 * Validates the staged rows against `target`, reports bad rows, and writes the good ones.
 * Always calls `staged.cleanup()`.
 */
export async function runIngest(ctx: IngestContext, prep: PreparedIngest, staged: StagedSource, target: TargetTable): Promise<IngestResult> {
  const { store } = ctx;
  const maxRejects = ctx.opts.maxRejects ?? DEFAULT_MAX_REJECTS;
  const view = store.tempName('chk');
  const parsedTable = store.tempName('parsed');
  try {
    const types = new Map(staged.columns.map((c) => [c.name, c.type]));
    // Inner projection: everything read from the source (parsed values, presence, raw text of
    // unparsable values). Constants (no source, not an expression over columns) stay outside.
    const inner: string[] = staged.ordinal === null ? [] : [`${staged.ordinal} AS _ord`];
    const outerConst: string[] = [];
    const checks: CheckSql[] = [];
    (staged.rowChecks ?? []).forEach((rc, j) => {
      inner.push(`(${rc.condition}) AS _rc${j}`);
      checks.push({ condition: `_rc${j}`, reason: sqlString(rc.reason), column: null });
    });
    target.fields.forEach((f, i) => {
      if (f.source === undefined && f.kind !== 'sql') {
        outerConst.push(`${f.sql ?? 'NULL'} AS f${i}`);
        return;
      }
      const s = fieldSql(f, f.source === undefined ? undefined : types.get(f.source));
      inner.push(`${s.parsed} AS f${i}`);
      if (f.source !== undefined) inner.push(`${s.present} AS p${i}`);
      if (s.failed !== null) inner.push(`CASE WHEN ${s.failed} THEN ${s.raw} END AS r${i}`);
      if (f.kind === 'number' && f.min !== undefined && f.source !== undefined) {
        inner.push(`CASE WHEN ${s.parsed} < ${f.min} THEN trim(${s.raw}) END AS m${i}`);
      }
      checks.push(...fieldChecks(f, i, s.failed !== null));
    });
    const reasonSql = checks.length === 0 ? 'NULL' : `CASE ${checks.map((c) => `WHEN ${c.condition} THEN ${c.reason}`).join(' ')} END`;
    const columnSql =
      checks.length === 0 ? 'NULL' : `CASE ${checks.map((c) => `WHEN ${c.condition} THEN ${c.column === null ? 'NULL' : sqlString(c.column)}`).join(' ')} END`;
    // Text sources parse every field once into a temp table: DuckDB inlines subquery projections into
    // filters, so without it the timestamp parse would run several times per row. Created outside any
    // transaction, its rowid is the record ordinal in source order (DuckDB keeps insertion order).
    let parsedFrom: string;
    let ordSql = '_ord';
    if (staged.materialize) {
      await store.run(`CREATE TEMP TABLE ${parsedTable} AS SELECT ${inner.join(', ')} FROM ${staged.relation}`);
      parsedFrom = parsedTable;
      if (staged.ordinal === null) ordSql = 'rowid';
    } else {
      if (staged.ordinal === null) throw new RecsysError('RECSYS_ERR_STORE', 'internal: a streamed source needs an ordinal column');
      parsedFrom = `(SELECT ${inner.join(', ')} FROM ${staged.relation})`;
    }
    const consts = outerConst.length > 0 ? `, ${outerConst.join(', ')}` : '';
    let body = `SELECT *${ordSql === 'rowid' ? ', rowid AS _ord' : ''}${consts}, ${reasonSql} AS _reason, ${columnSql} AS _col FROM ${parsedFrom}`;
    if (target.key !== undefined) {
      const k = target.fields.findIndex((f) => f.target === target.key);
      const label = target.fields[k].label;
      // Among good rows with the same id the last one wins; the earlier ones are reported.
      body =
        `SELECT * REPLACE (coalesce(_reason, CASE WHEN _dup > 1 THEN ${sqlString(`duplicate ${label} `)} || '"' || f${k} || '"' || ' (a later row with this id replaces it)' END) AS _reason), ` +
        `CASE WHEN _reason IS NULL AND _dup > 1 THEN ${sqlString(target.fields[k].source ?? target.key)} ELSE _col END AS _col2 ` +
        `FROM (SELECT *, row_number() OVER (PARTITION BY f${k}, _reason IS NULL ORDER BY _ord DESC) AS _dup FROM (${body}))`;
      body = `SELECT * EXCLUDE (_col, _col2), _col2 AS _col FROM (${body})`;
    }
    await store.run(`CREATE TEMP VIEW ${view} AS ${body}`);

    ctx.opts.progress?.start(`validate ${ctx.file}`, 1);
    const [counts] = await store.rows(`SELECT count(*)::DOUBLE AS n, (count(*) FILTER (WHERE _reason IS NOT NULL))::DOUBLE AS bad FROM ${view}`);
    const stagedRows = Number(counts.n);
    const badCount = Number(counts.bad);
    const badRows =
      badCount === 0
        ? []
        : await store.rows(`SELECT _ord::DOUBLE AS ord, _reason AS reason, _col AS col FROM ${view} WHERE _reason IS NOT NULL ORDER BY _ord LIMIT ${maxRejects}`);
    const badOrdinals = badRows.map((r) => Number(r.ord));
    const fin = await staged.finish(badOrdinals, maxRejects, stagedRows);

    const valueRejects: RejectedRow[] = badRows.map((r) => {
      const line = fin.ordinalLines.get(Number(r.ord)) ?? Number(r.ord) + 1;
      const rej: RejectedRow = { line, reason: String(r.reason) };
      if (r.col !== null && r.col !== undefined) rej.column = String(r.col);
      return rej;
    });
    const rejects = [...fin.structural, ...valueRejects].sort((a, b) => a.line - b.line).slice(0, maxRejects);
    const rowsRejected = fin.structuralCount + badCount;
    const warnings = [...fin.warnings];

    if (ctx.opts.strict && rowsRejected > 0) {
      const first = rejects[0];
      const where = staged.position === 'line' ? `${prep.absFile}:${first.line}` : `${prep.absFile} row ${first.line}`;
      throw new RecsysError(
        'RECSYS_ERR_INGEST_ROW',
        `${where}: ${first.reason}${first.column ? ` (column "${first.column}")` : ''}; ` +
          `${rowsRejected} bad row(s) in all, nothing was ingested (strict mode). Fix the file or drop --strict to skip bad rows.`,
        { file: prep.absFile, line: first.line, column: first.column, rowsRejected, rejects },
      );
    }

    ctx.opts.progress?.start(`insert ${ctx.file}`, 1);
    const source = ctx.source ?? prep.absFile;
    const targets = target.fields.map((f) => sqlIdent(f.target)).join(', ');
    const values = target.fields.map((_, i) => `f${i}`).join(', ');
    let replacedRows = 0;
    const rowsIngested = await store.transaction(async () => {
      let inserted: number;
      if (target.table === 'interactions') {
        if (!ctx.opts.append) replacedRows = await store.run(`DELETE FROM interactions WHERE source = ${sqlString(source)}`);
        inserted = await store.run(
          `INSERT INTO interactions (${targets}, source) SELECT ${values}, ${sqlString(source)} FROM ${view} WHERE _reason IS NULL`,
        );
      } else {
        inserted = await store.run(`INSERT OR REPLACE INTO ${target.table} (${targets}) SELECT ${values} FROM ${view} WHERE _reason IS NULL`);
      }
      const seconds = (performance.now() - prep.started) / 1000;
      await store.run(
        `INSERT INTO ingests (kind, source, format, content_hash, options_hash, rows_read, rows_ingested, rows_rejected, blank_lines, append, seconds, ingested_at, options)
         VALUES (${sqlString(target.table)}, ${sqlString(source)}, ${sqlString(staged.format)}, ${sqlString(prep.contentHash)}, ${sqlString(prep.optionsHash)},
                 ${fin.rowsRead}, ${inserted}, ${rowsRejected}, ${fin.blankLines}, ${ctx.opts.append ? 'TRUE' : 'FALSE'}, ${seconds},
                 now()::TIMESTAMP, ${sqlString(JSON.stringify(ctx.optionsForHash))})`,
      );
      return inserted;
    });
    if (fin.rowsRead !== rowsIngested + rowsRejected) {
      warnings.push(
        `row accounting mismatch: read ${fin.rowsRead}, ingested ${rowsIngested}, rejected ${rowsRejected} (staged ${stagedRows}); line numbers may be off`,
      );
    }
    const seconds = (performance.now() - prep.started) / 1000;
    ctx.opts.progress?.stop();
    const columns: Record<string, string> = {};
    for (const f of target.fields) if (f.source !== undefined) columns[f.target] = f.source;
    return {
      file: prep.absFile,
      table: target.table,
      format: staged.format,
      rowsRead: fin.rowsRead,
      rowsIngested,
      rowsRejected,
      blankLines: fin.blankLines,
      rejects,
      seconds,
      rowsPerSecond: seconds > 0 ? fin.rowsRead / seconds : 0,
      skipped: false,
      replacedRows,
      contentHash: prep.contentHash,
      columns,
      warnings,
    };
  } finally {
    await store.run(`DROP VIEW IF EXISTS ${view}; DROP TABLE IF EXISTS ${parsedTable}`).catch(() => undefined);
    await staged.cleanup().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Column mapping → target tables (shared by every format)

/** Interactions: user, item, type, value, timestamp, context. */
export function interactionTarget(file: string, columns: readonly string[], opts: InteractionIngestOptions, positional: boolean): TargetTable {
  const ctx = (flag: string, label: string) => ({ file, flag, label });
  const user = requireColumn(columns, opts.userCol, ALIASES.user, ctx('--user-col', 'user id'), positional ? columns[0] : undefined);
  const item = requireColumn(columns, opts.itemCol, ALIASES.item, ctx('--item-col', 'item id'), positional ? columns[1] : undefined);
  const used = new Set([user, item]);
  const pick = (requested: string | undefined, aliases: readonly string[], flag: string, label: string, pos: number): string | undefined => {
    const hit = resolveColumn(columns, requested, aliases, ctx(flag, label));
    if (hit !== undefined && !used.has(hit)) {
      used.add(hit);
      return hit;
    }
    if (requested === undefined && positional && columns.length > pos && !used.has(columns[pos])) {
      used.add(columns[pos]);
      return columns[pos];
    }
    return undefined;
  };
  const type = pick(opts.typeCol, ALIASES.type, '--type-col', 'interaction type', Number.POSITIVE_INFINITY);
  const value = pick(opts.valueCol, ALIASES.value, '--value-col', 'value', 2);
  const time = pick(opts.timeCol, ALIASES.time, '--time-col', 'timestamp', 3);
  const context = (opts.contextCols ?? []).map((c) => requireColumn(columns, c, [], ctx('--context-cols', 'context')));
  const defaultType = (opts.type ?? (value !== undefined ? 'rating' : 'interaction')).trim().toLowerCase();
  const fields: FieldSpec[] = [
    { target: 'user_id', kind: 'id', source: user, required: true, label: 'user id', integer: opts.integerIds },
    { target: 'product_id', kind: 'id', source: item, required: true, label: 'item id', integer: opts.integerIds },
    type !== undefined
      ? { target: 'interaction_type', kind: 'type', source: type, required: true, label: 'interaction type' }
      : { target: 'interaction_type', kind: 'type', sql: sqlString(defaultType), label: 'interaction type' },
    value !== undefined
      ? { target: 'value', kind: 'number', source: value, required: true, label: 'value' }
      : { target: 'value', kind: 'number', sql: '1.0::DOUBLE', label: 'value' },
    time !== undefined
      ? { target: 'timestamp', kind: 'timestamp', source: time, required: true, label: 'timestamp', timeUnit: opts.timeUnit }
      : { target: 'timestamp', kind: 'timestamp', sql: 'NULL::TIMESTAMP', label: 'timestamp' },
    {
      target: 'context',
      kind: 'sql',
      sql: context.length === 0 ? 'NULL::JSON' : jsonObjectSql(context),
      label: 'context',
    },
  ];
  return { table: 'interactions', fields };
}

/** json_object('a', "a", 'b', "b") over staged columns. */
export function jsonObjectSql(cols: readonly string[]): string {
  if (cols.length === 0) return 'NULL::JSON';
  return `json_object(${cols.map((c) => `${sqlString(c)}, ${sqlIdent(c)}`).join(', ')})`;
}

export function productTarget(file: string, columns: readonly string[], opts: ProductIngestOptions, positional: boolean): TargetTable {
  const ctx = (flag: string, label: string) => ({ file, flag, label });
  const id = requireColumn(columns, opts.idCol, ALIASES.productId, ctx('--id-col', 'product id'), positional ? columns[0] : undefined);
  const used = new Set([id]);
  const pick = (requested: string | undefined, aliases: readonly string[], flag: string, label: string): string | undefined => {
    const hit = resolveColumn(columns, requested, aliases, ctx(flag, label));
    if (hit === undefined || used.has(hit)) return undefined;
    used.add(hit);
    return hit;
  };
  const title = pick(opts.titleCol, ALIASES.title, '--title-col', 'title');
  const description = pick(opts.descriptionCol, ALIASES.description, '--description-col', 'description');
  const category = pick(opts.categoryCol, ALIASES.category, '--category-col', 'category');
  const brand = pick(opts.brandCol, ALIASES.brand, '--brand-col', 'brand');
  const price = pick(opts.priceCol, ALIASES.price, '--price-col', 'price');
  const created = pick(opts.createdCol, ALIASES.created, '--created-col', 'created_at');
  const features = opts.featureCols
    ? opts.featureCols.map((c) => requireColumn(columns, c, [], ctx('--feature-cols', 'feature')))
    : columns.filter((c) => !used.has(c));
  const opt = (target: string, kind: FieldKind, source: string | undefined, label: string, extra: Partial<FieldSpec> = {}): FieldSpec =>
    source !== undefined ? { target, kind, source, label, ...extra } : { target, kind, label, sql: 'NULL' };
  return {
    table: 'products',
    key: 'product_id',
    fields: [
      { target: 'product_id', kind: 'id', source: id, required: true, label: 'product id', integer: opts.integerIds },
      opt('title', 'text', title, 'title'),
      opt('description', 'text', description, 'description'),
      opt('category', 'text', category, 'category'),
      opt('brand', 'text', brand, 'brand'),
      opt('price', 'number', price, 'price', { min: 0 }),
      { target: 'features', kind: 'sql', sql: jsonObjectSql(features), label: 'features' },
      opt('created_at', 'timestamp', created, 'created_at', { timeUnit: opts.timeUnit }),
    ],
  };
}

export function userTarget(file: string, columns: readonly string[], opts: UserIngestOptions, positional: boolean): TargetTable {
  const ctx = (flag: string, label: string) => ({ file, flag, label });
  const id = requireColumn(columns, opts.idCol, ALIASES.userId, ctx('--id-col', 'user id'), positional ? columns[0] : undefined);
  let created = resolveColumn(columns, opts.createdCol, ALIASES.created, ctx('--created-col', 'created_at'));
  if (created === id) created = undefined;
  const used = new Set([id, ...(created !== undefined ? [created] : [])]);
  const demo = opts.demographicCols
    ? opts.demographicCols.map((c) => requireColumn(columns, c, [], ctx('--demographic-cols', 'demographics')))
    : columns.filter((c) => !used.has(c));
  return {
    table: 'users',
    key: 'user_id',
    fields: [
      { target: 'user_id', kind: 'id', source: id, required: true, label: 'user id', integer: opts.integerIds },
      created !== undefined
        ? { target: 'created_at', kind: 'timestamp', source: created, label: 'created_at', timeUnit: opts.timeUnit }
        : { target: 'created_at', kind: 'timestamp', sql: 'NULL::TIMESTAMP', label: 'created_at' },
      { target: 'demographics', kind: 'sql', sql: jsonObjectSql(demo), label: 'demographics' },
    ],
  };
}
