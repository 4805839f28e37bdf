/**
 * CSV/TSV (and any single- or multi-byte delimiter such as MovieLens' '::'), optionally gzipped.
 *
 * 1. Sniff from the first 256 KiB: the delimiter (the candidate giving the most consistent field
 *    count ≥ 2), and whether the first record is a header (it names a known column, or holds text
 *    where the column below holds numbers).
 * 2. DuckDB parses the whole file with every column VARCHAR (`read_csv`, `auto_detect=false`,
 *    `store_rejects`), so values are checked afterwards by the engine with TRY_CAST and nothing is
 *    dropped by a type guess. Rows DuckDB cannot parse land in its reject table.
 * 3. A byte scan (csv-scan.ts) gives exact 1-based file lines for the bad rows, counts blank lines
 *    and finds records with the wrong number of fields.
 */
import { open } from 'node:fs/promises';
import { RecsysError } from '../../errors.js';
import { type Store, sqlString } from '../store.js';
import type { CommonIngestOptions, StagedSource, StageFinish } from './common.js';
import { openByteStream, scanDelimited, type ScanDialect } from './csv-scan.js';

export interface DelimitedDialect {
  delimiter: string;
  /** '' when quoting is off. */
  quote: string;
  escape: string;
  header: boolean;
  /** Column names (header's, `names`, or column0…). */
  columns: string[];
  encoding: 'utf-8' | 'latin-1';
  gzip: boolean;
}

const SAMPLE_BYTES = 256 * 1024;
const SAMPLE_RECORDS = 200;
const CANDIDATES = ['\t', ',', ';', '|', '::'];

function isGzip(file: string, head: Uint8Array): boolean {
  return /\.gz(ip)?$/i.test(file) || (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b);
}

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** First `n` bytes of the (decompressed) content, and whether that is the whole file. */
async function readSample(file: string, gzip: boolean, n: number): Promise<{ text: Buffer; complete: boolean }> {
  if (!gzip) {
    const head = await readHead(file, n + 1);
    return { text: head.subarray(0, Math.min(n, head.length)), complete: head.length <= n };
  }
  const parts: Buffer[] = [];
  let size = 0;
  const stream = openByteStream(file, true);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size > n) break;
    }
  } finally {
    stream.destroy();
  }
  const all = Buffer.concat(parts);
  return { text: all.subarray(0, Math.min(n, all.length)), complete: all.length <= n };
}

/**
 * Splits a sample into records of fields (RFC 4180 quoting). Only for sniffing the first few hundred
 * records; the real parse is DuckDB's.
 */
export function parseSample(text: string, delimiter: string, quote: string, maxRecords: number, complete: boolean): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let inQuote = false;
  let atStart = true;
  let i = 0;
  const n = text.length;
  const dl = delimiter.length;
  while (i < n && records.length < maxRecords) {
    const ch = text[i];
    if (inQuote) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
          continue;
        }
        inQuote = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '\n') {
      fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
      if (!(fields.length === 1 && fields[0] === '')) records.push(fields);
      fields = [];
      field = '';
      atStart = true;
      i++;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      atStart = true;
      i += dl;
      continue;
    }
    if (quote !== '' && ch === quote && atStart) {
      inQuote = true;
      atStart = false;
      i++;
      continue;
    }
    field += ch;
    atStart = false;
    i++;
  }
  // The sample may end mid-record: keep the tail only when it is the end of the file.
  if (complete && records.length < maxRecords && (field !== '' || fields.length > 0)) {
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    records.push(fields);
  }
  return records;
}

function mode(values: number[]): { value: number; share: number } {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v > best)) {
      best = v;
      bestCount = c;
    }
  }
  return { value: best, share: values.length === 0 ? 0 : bestCount / values.length };
}

const NUMBER_RE = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Header when the first record names a known column, or has text above a mostly numeric column. */
function looksLikeHeader(records: string[][], knownNames: readonly string[]): boolean {
  if (records.length === 0) return false;
  const first = records[0];
  const known = new Set(knownNames.map((s) => s.toLowerCase().replace(/[\s_\-.]/g, '')));
  if (first.some((f) => known.has(f.toLowerCase().replace(/[\s_\-.]/g, '')))) return true;
  if (first.every((f) => NUMBER_RE.test(f))) return false;
  const rest = records.slice(1);
  if (rest.length === 0) return true;
  for (let c = 0; c < first.length; c++) {
    if (NUMBER_RE.test(first[c]) || first[c] === '') continue;
    const numeric = rest.filter((r) => r[c] !== undefined && NUMBER_RE.test(r[c])).length;
    if (numeric >= 0.8 * rest.length) return true;
  }
  // All text everywhere: most real exports have a header; a wrong guess shows up as a clear
  // "column not found" error listing the first row, never as silently shifted data.
  return true;
}

function decode(buf: Buffer, encoding: 'utf-8' | 'latin-1'): string {
  const text = buf.toString(encoding === 'latin-1' ? 'latin1' : 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function sniffDelimited(file: string, opts: CommonIngestOptions, knownNames: readonly string[]): Promise<DelimitedDialect> {
  const head = await readHead(file, 4);
  const gzip = isGzip(file, head);
  const encoding = opts.encoding ?? 'utf-8';
  const { text: sample, complete } = await readSample(file, gzip, SAMPLE_BYTES);
  const text = decode(sample, encoding);
  const quote = opts.quote ?? '"';
  const escape = opts.escape ?? quote;
  if (quote.length > 1 || escape.length > 1) {
    throw new RecsysError('RECSYS_ERR_USAGE', `quote and escape must be one character (got ${JSON.stringify(quote)}, ${JSON.stringify(escape)})`, { file, flag: '--quote' });
  }
  let delimiter = opts.delimiter;
  if (delimiter === '\\t' || delimiter === 'tab') delimiter = '\t';
  if (delimiter === undefined) {
    if (opts.format === 'tsv') delimiter = '\t';
    else {
      let best = { delim: ',', score: -1, fields: 1 };
      for (const cand of CANDIDATES) {
        const recs = parseSample(text, cand, quote, SAMPLE_RECORDS, complete);
        const m = mode(recs.map((r) => r.length));
        if (m.value < 2) continue;
        const score = m.share;
        if (score > best.score + 1e-9 || (Math.abs(score - best.score) <= 1e-9 && m.value > best.fields)) {
          best = { delim: cand, score, fields: m.value };
        }
      }
      delimiter = best.delim;
    }
  }
  if (delimiter.length === 0 || Buffer.byteLength(delimiter) > 4) {
    throw new RecsysError('RECSYS_ERR_USAGE', `delimiter must be 1 to 4 bytes, got ${JSON.stringify(delimiter)}`, { file, flag: '--delimiter' });
  }
  const records = parseSample(text, delimiter, quote, SAMPLE_RECORDS, complete);
  const header = opts.header ?? looksLikeHeader(records, knownNames);
  const width = records.length > 0 ? (header ? records[0].length : mode(records.map((r) => r.length)).value) : 0;
  if (width === 0) {
    throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file} has no records (empty file or only blank lines)`, { file });
  }
  let columns: string[];
  if (opts.names && opts.names.length > 0) {
    if (opts.names.length !== width) {
      throw new RecsysError(
        'RECSYS_ERR_USAGE',
        `${file}: ${opts.names.length} column names given but the file has ${width} columns (delimiter ${JSON.stringify(delimiter)})`,
        { file, flag: '--names' },
      );
    }
    columns = [...opts.names];
  } else if (header) {
    columns = records[0].map((c, i) => (c.trim() === '' ? `column${i}` : c.trim()));
  } else {
    columns = Array.from({ length: width }, (_, i) => `column${i}`);
  }
  // DuckDB needs distinct names.
  const seen = new Map<string, number>();
  columns = columns.map((c) => {
    const k = c.toLowerCase();
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return n === 0 ? c : `${c}_${n + 1}`;
  });
  return { delimiter, quote, escape, header, columns, encoding, gzip };
}

/** DuckDB reject types that the byte scan finds by itself (field counts). */
const COLUMN_COUNT_ERRORS = new Set(['MISSING COLUMNS', 'TOO MANY COLUMNS']);

function rejectReason(type: string, message: string, encoding: string): string {
  switch (type) {
    case 'INVALID ENCODING':
    case 'INVALID UNICODE':
      return encoding === 'utf-8' ? 'invalid UTF-8 bytes (if the file is latin-1, pass encoding latin-1)' : `invalid ${encoding} bytes`;
    case 'UNQUOTED VALUE':
      return 'unterminated or misplaced quote';
    case 'LINE SIZE OVER MAXIMUM':
      return 'line longer than the 2 MB limit';
    default:
      return message;
  }
}

/**
 * The engine's view of a delimited file: DuckDB's read_csv with every column VARCHAR (the engine
 * parses it straight into its own temp table, whose rowid is then the record ordinal), plus the
 * byte scan that turns ordinals and DuckDB's rejects into file lines.
 */
export function stageDelimited(store: Store, file: string, dialect: DelimitedDialect, format: string): StagedSource {
  const rejectsTable = store.tempName('rj');
  const rejectsScan = store.tempName('rs');
  const columnsSql = `{${dialect.columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`;
  const params = [
    `columns=${columnsSql}`,
    `header=${dialect.header ? 'true' : 'false'}`,
    `delim=${sqlString(dialect.delimiter)}`,
    `quote=${sqlString(dialect.quote)}`,
    `escape=${sqlString(dialect.quote === '' ? '' : dialect.escape)}`,
    `encoding=${sqlString(dialect.encoding)}`,
    `compression=${sqlString(dialect.gzip ? 'gzip' : 'none')}`,
    'auto_detect=false',
    'store_rejects=true',
    `rejects_table=${sqlString(rejectsTable)}`,
    `rejects_scan=${sqlString(rejectsScan)}`,
  ];
  const scanDialect: ScanDialect = {
    delimiter: new Uint8Array(Buffer.from(dialect.delimiter, dialect.encoding === 'latin-1' ? 'latin1' : 'utf8')),
    quote: dialect.quote === '' ? -1 : dialect.quote.charCodeAt(0),
    escape: dialect.quote === '' ? -1 : dialect.escape.charCodeAt(0),
    header: dialect.header,
    expectedFields: dialect.columns.length,
    gzip: dialect.gzip,
  };

  return {
    format,
    relation: `read_csv(${sqlString(file)}, ${params.join(', ')})`,
    ordinal: null,
    columns: dialect.columns.map((name) => ({ name, type: 'VARCHAR' })),
    materialize: true,
    position: 'line',
    async finish(badOrdinals: readonly number[], maxRejects: number, stagedRows: number): Promise<StageFinish> {
      const rejects = await store.rows(
        `SELECT byte_position::DOUBLE AS byte, error_type AS type, column_name AS col, error_message AS msg FROM ${rejectsTable} ORDER BY byte_position`,
      );
      const duckColumnCount = rejects.filter((r) => COLUMN_COUNT_ERRORS.has(String(r.type))).length;
      const otherRejects = rejects
        .filter((r) => !COLUMN_COUNT_ERRORS.has(String(r.type)))
        .map((r) => {
          const o: { byte: number; reason: string; column?: string } = {
            byte: Number(r.byte),
            reason: rejectReason(String(r.type), String(r.msg), dialect.encoding),
          };
          if (r.col !== null && r.col !== undefined) o.column = String(r.col);
          return o;
        });
      const scan = await scanDelimited(file, scanDialect, { ordinals: [...badOrdinals].sort((a, b) => a - b), otherRejects, maxRejects });
      const warnings: string[] = [];
      if (scan.kept !== stagedRows || scan.wrongFieldCount < duckColumnCount) {
        warnings.push(
          `line numbers may be inexact: the line scan kept ${scan.kept} records where DuckDB kept ${stagedRows} ` +
            `(${scan.wrongFieldCount} vs ${duckColumnCount} column-count rejects)`,
        );
      }
      return {
        ordinalLines: scan.ordinalLines,
        structural: scan.rejected,
        structuralCount: scan.rejectedCount,
        blankLines: scan.blankLines,
        rowsRead: scan.records,
        warnings,
      };
    },
    async cleanup(): Promise<void> {
      await store.run(`DROP TABLE IF EXISTS ${rejectsTable}; DROP TABLE IF EXISTS ${rejectsScan};`);
    },
  };
}
