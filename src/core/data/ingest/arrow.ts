/**
 * Arrow IPC (file or stream format; DuckDB's arrow extension cannot be installed offline, so the
 * file is read with apache-arrow's tableFromIPC and appended into a temp staging table).
 * Integers and floats keep their type, strings stay strings, timestamps and dates become ISO-8601
 * UTC strings, anything nested becomes JSON text. The staging table's rowid is the record ordinal,
 * so bad rows are reported by 1-based row number.
 */
import { readFileSync } from 'node:fs';
import { DataType, tableFromIPC, type Field, type Table } from 'apache-arrow';
import type { DuckDBAppender } from '@duckdb/node-api';
import { RecsysError } from '../../errors.js';
import { type Store, sqlIdent } from '../store.js';
import type { StagedSource, StageFinish } from './common.js';

type Kind = 'int' | 'bigint' | 'double' | 'bool' | 'text' | 'time' | 'json';

function kindOf(field: Field): Kind {
  const t = field.type;
  if (DataType.isInt(t)) return t.bitWidth === 64 || (!t.isSigned && t.bitWidth === 32) ? 'bigint' : 'int';
  if (DataType.isFloat(t) || DataType.isDecimal(t)) return 'double';
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isDictionary(t)) return 'text';
  if (DataType.isTimestamp(t) || DataType.isDate(t)) return 'time';
  return 'json';
}

const SQL_TYPE: Record<Kind, string> = {
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  bool: 'BOOLEAN',
  text: 'VARCHAR',
  time: 'VARCHAR',
  json: 'VARCHAR',
};

function toIso(v: unknown): string {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : Number(v);
  const d = new Date(ms);
  // An out-of-range instant stays as its raw number, which the engine then reports as a bad timestamp.
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(v);
}

function toJson(v: unknown): string {
  const plain = typeof v === 'object' && v !== null && 'toJSON' in v && typeof v.toJSON === 'function' ? (v.toJSON as () => unknown)() : v;
  return JSON.stringify(plain, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function append(app: DuckDBAppender, kind: Kind, v: unknown): void {
  if (v === null || v === undefined) {
    app.appendNull();
    return;
  }
  switch (kind) {
    case 'int':
      app.appendInteger(Number(v));
      return;
    case 'bigint':
      app.appendBigInt(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))));
      return;
    case 'double':
      app.appendDouble(Number(v));
      return;
    case 'bool':
      app.appendBoolean(Boolean(v));
      return;
    case 'text':
      app.appendVarchar(String(v));
      return;
    case 'time':
      app.appendVarchar(toIso(v));
      return;
    default:
      app.appendVarchar(toJson(v));
  }
}

function readTable(file: string): Table {
  try {
    return tableFromIPC(readFileSync(file));
  } catch (e) {
    throw new RecsysError(
      'RECSYS_ERR_INGEST_FORMAT',
      `${file} is not an Arrow IPC file or stream: ${e instanceof Error ? e.message : String(e)}`,
      { file },
      { cause: e },
    );
  }
}

export async function stageArrow(store: Store, file: string): Promise<StagedSource> {
  const table = readTable(file);
  const fields = table.schema.fields;
  if (fields.length === 0) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file}: Arrow table has no columns`, { file });
  const kinds = fields.map(kindOf);
  const name = store.tempName('stage_arrow');
  await store.run(`CREATE TEMP TABLE ${name} (${fields.map((f, i) => `${sqlIdent(f.name)} ${SQL_TYPE[kinds[i]]}`).join(', ')})`);
  const app = await store.connection.createAppender(name, 'main', 'temp');
  try {
    for (const batch of table.batches) {
      const cols = fields.map((_, i) => batch.getChildAt(i));
      const n = batch.numRows;
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < cols.length; c++) append(app, kinds[c], cols[c]?.get(r));
        app.endRow();
      }
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
  const total = table.numRows;
  return {
    format: 'arrow',
    relation: name,
    ordinal: 'rowid',
    columns: fields.map((f, i) => ({ name: f.name, type: SQL_TYPE[kinds[i]] })),
    materialize: true,
    position: 'row',
    async finish(badOrdinals: readonly number[]): Promise<StageFinish> {
      return {
        ordinalLines: new Map(badOrdinals.map((o) => [o, o + 1])),
        structural: [],
        structuralCount: 0,
        blankLines: 0,
        rowsRead: total,
        warnings: [],
      };
    },
    async cleanup(): Promise<void> {
      await store.run(`DROP TABLE IF EXISTS ${name}`);
    },
  };
}
