/**
 * JSON Lines (one JSON object per line, optionally gzipped). DuckDB reads the file as raw lines
 * (one VARCHAR column, no quoting), so row k of the staged table is file line k+1 and blank lines
 * stay visible; each line is then cast to JSON (TRY_CAST: invalid JSON becomes a reported bad row,
 * never an aborted ingest) and the mapped keys are pulled out with json_extract_string. Keys are
 * discovered from the first 1,000 objects.
 */
import { RecsysError } from '../../errors.js';
import { type Store, sqlIdent, sqlString } from '../store.js';
import type { CommonIngestOptions, RejectedRow, StagedSource, StageFinish } from './common.js';

const KEY_SAMPLE = 1000;

export async function stageJsonl(store: Store, file: string, opts: CommonIngestOptions): Promise<StagedSource> {
  const lines = store.tempName('stage_jsonl');
  const rejectsTable = store.tempName('rj');
  const rejectsScan = store.tempName('rs');
  await store.run(
    `CREATE TEMP TABLE ${lines} AS SELECT * FROM read_csv(${sqlString(file)}, columns={'l': 'VARCHAR'}, header=false, delim=E'\\x01', ` +
      `quote='', escape='', auto_detect=false, encoding=${sqlString(opts.encoding ?? 'utf-8')}, ` +
      `store_rejects=true, rejects_table=${sqlString(rejectsTable)}, rejects_scan=${sqlString(rejectsScan)})`,
  );
  // A raw \x01 in a line splits it into two fields; DuckDB rejects it, with its line number.
  const rej = await store.rows(`SELECT line::DOUBLE AS line FROM ${rejectsTable} ORDER BY line`);
  const rejectedLines = rej.map((r) => Number(r.line));

  const keyRows = await store.rows(
    `SELECT json_keys(j) AS k FROM (SELECT TRY_CAST(l AS JSON) AS j FROM ${lines} WHERE l IS NOT NULL) WHERE json_type(j) = 'OBJECT' LIMIT ${KEY_SAMPLE}`,
  );
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of keyRows) {
    for (const k of (r.k as string[] | null) ?? []) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  if (keys.length === 0) {
    throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file}: no JSON object found in the first lines; expected one object per line (JSONL). ` +
        `A file holding one JSON array is not JSONL: convert it with \`jq -c '.[]' in.json > out.jsonl\``, { file });
  }
  const extract = keys
    .map((k) => `json_extract_string(_j, ${sqlString(`$."${k.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)}) AS ${sqlIdent(k)}`)
    .join(', ');
  const relation = `(SELECT _o, _j, ${extract} FROM (SELECT rowid AS _o, TRY_CAST(l AS JSON) AS _j FROM ${lines} WHERE l IS NOT NULL AND trim(l) <> ''))`;
  const [counts] = await store.rows(
    `SELECT count(*)::DOUBLE AS total, (count(*) FILTER (WHERE l IS NULL OR trim(l) = ''))::DOUBLE AS blank FROM ${lines}`,
  );

  return {
    format: 'jsonl',
    relation,
    ordinal: '_o',
    columns: keys.map((name) => ({ name, type: 'VARCHAR' })),
    rowChecks: [
      { condition: '_j IS NULL', reason: 'invalid JSON' },
      { condition: "json_type(_j) <> 'OBJECT'", reason: 'not a JSON object' },
    ],
    materialize: true,
    position: 'line',
    async finish(badOrdinals: readonly number[]): Promise<StageFinish> {
      // Staged row k is line k+1, shifted by every DuckDB-rejected line before it.
      const ordinalLines = new Map<number, number>();
      for (const ord of badOrdinals) {
        let line = ord + 1;
        for (const r of rejectedLines) if (r <= line) line++;
        ordinalLines.set(ord, line);
      }
      const structural: RejectedRow[] = rejectedLines.map((line) => ({ line, reason: 'control character \\x01 in the line' }));
      return {
        ordinalLines,
        structural,
        structuralCount: rejectedLines.length,
        blankLines: Number(counts.blank),
        rowsRead: Number(counts.total) - Number(counts.blank) + rejectedLines.length,
        warnings: [],
      };
    },
    async cleanup(): Promise<void> {
      await store.run(`DROP TABLE IF EXISTS ${lines}; DROP TABLE IF EXISTS ${rejectsTable}; DROP TABLE IF EXISTS ${rejectsScan};`);
    },
  };
}
