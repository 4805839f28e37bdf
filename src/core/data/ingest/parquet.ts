/**
 * Parquet via DuckDB's read_parquet (statically linked, no extension download). Typed columns stay
 * typed (a DOUBLE rating is not re-parsed, a TIMESTAMP is used as is); `file_row_number` gives the
 * record ordinal, so bad rows are reported by 1-based row number. Nothing is staged: the engine scans
 * the file directly (once to validate, once to insert), which keeps 100M-row files out of memory.
 */
import { type Store, sqlString } from '../store.js';
import type { StagedSource, StageFinish } from './common.js';

/** Column names and DuckDB types of a Parquet file. */
export async function parquetColumns(store: Store, file: string): Promise<Array<{ name: string; type: string }>> {
  const rows = await store.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

export async function stageParquet(store: Store, file: string): Promise<StagedSource> {
  const columns = await parquetColumns(store, file);
  const total = Number(await store.scalar(`SELECT count(*)::DOUBLE FROM read_parquet(${sqlString(file)})`));
  return {
    format: 'parquet',
    relation: `read_parquet(${sqlString(file)}, file_row_number=true)`,
    ordinal: 'file_row_number',
    columns,
    materialize: false,
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
    async cleanup(): Promise<void> {},
  };
}
