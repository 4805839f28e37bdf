/**
 * Byte-level structure scan of a delimited file. DuckDB parses the values; this pass only finds
 * where each record starts (its 1-based file line, counting the header, blank lines and newlines
 * inside quoted fields) and how many fields it has, because DuckDB's reject table reports line
 * numbers that drift after quoted newlines and blank lines. It streams the file once (gunzip if
 * needed) with a small RFC 4180 state machine: a quote opens only at the start of a field, a doubled
 * quote (or the escape byte) inside quotes is literal, and a newline outside quotes ends the record.
 *
 * What it reports: blank lines (skipped, not errors), records with the wrong number of fields, the
 * records DuckDB rejected for other reasons (located by DuckDB's byte position), and the file line
 * of the requested ordinals — ordinal k being the k-th record DuckDB kept, i.e. the k-th row of the
 * staged table.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { RejectedRow } from './common.js';

export interface ScanDialect {
  /** Delimiter bytes (one byte, or a few such as '::'). */
  delimiter: Uint8Array;
  /** Quote byte or -1 for none. */
  quote: number;
  /** Escape byte inside quotes (equal to quote for RFC 4180 doubling) or -1. */
  escape: number;
  header: boolean;
  /** Fields every record must have (the header's count). */
  expectedFields: number;
  gzip: boolean;
}

export interface ScanRequest {
  /** Sorted ascending, distinct: 0-based ordinals of kept records whose lines are wanted. */
  ordinals: readonly number[];
  /** DuckDB rejects other than column-count ones, sorted by byte position. */
  otherRejects: ReadonlyArray<{ byte: number; reason: string; column?: string }>;
  /** How many structural rejects to keep in detail. */
  maxRejects: number;
}

export interface ScanResult {
  blankLines: number;
  /** Non-blank records after the header (kept + rejected). */
  records: number;
  /** Records rejected here (wrong field count, or a DuckDB reject located in them). */
  rejectedCount: number;
  /** The first `maxRejects` of them, in line order. */
  rejected: RejectedRow[];
  /** Records kept (should equal the staged table's row count). */
  kept: number;
  /** ordinal → 1-based line for the requested ordinals. */
  ordinalLines: Map<number, number>;
  /** Of the rejected ones, how many had the wrong field count. */
  wrongFieldCount: number;
  bytes: number;
}

const NL = 10;
const CR = 13;

export function openByteStream(file: string, gzip: boolean): Readable {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  return gzip ? raw.pipe(createGunzip()) : raw;
}

/** Per-record bookkeeping (touched once per record, so it can live in an object). */
interface RecordState {
  readonly expected: number;
  readonly want: readonly number[];
  readonly others: ScanRequest['otherRejects'];
  readonly maxRejects: number;
  readonly rejected: RejectedRow[];
  readonly ordinalLines: Map<number, number>;
  records: number;
  rejectedCount: number;
  wrongFieldCount: number;
  kept: number;
  wantIdx: number;
  nextWant: number;
  otherIdx: number;
  nextOther: number;
  headerPending: boolean;
}

/** A record with content spans bytes [startByte, endByte] and starts on `startLine`. */
function endRecord(st: RecordState, fields: number, startLine: number, startByte: number, endByte: number): void {
  if (st.headerPending) {
    st.headerPending = false;
    return;
  }
  st.records++;
  if (fields === st.expected && st.kept !== st.nextWant && st.nextOther > endByte) {
    st.kept++;
    return;
  }
  const others = st.others;
  let reason: string | null = null;
  let column: string | undefined;
  // A DuckDB reject whose byte position falls inside this record belongs to it.
  while (st.otherIdx < others.length && others[st.otherIdx].byte < startByte) st.otherIdx++;
  if (st.otherIdx < others.length && others[st.otherIdx].byte <= endByte) {
    reason = others[st.otherIdx].reason;
    column = others[st.otherIdx].column;
    while (st.otherIdx < others.length && others[st.otherIdx].byte <= endByte) st.otherIdx++;
  }
  st.nextOther = st.otherIdx < others.length ? others[st.otherIdx].byte : Number.POSITIVE_INFINITY;
  if (fields !== st.expected) {
    st.wrongFieldCount++;
    reason ??= `expected ${st.expected} columns, found ${fields}`;
  }
  if (reason !== null) {
    st.rejectedCount++;
    if (st.rejected.length < st.maxRejects) st.rejected.push(column === undefined ? { line: startLine, reason } : { line: startLine, reason, column });
    return;
  }
  if (st.kept === st.nextWant) {
    st.ordinalLines.set(st.kept, startLine);
    st.wantIdx++;
    st.nextWant = st.wantIdx < st.want.length ? st.want[st.wantIdx] : -1;
  }
  st.kept++;
}

export async function scanDelimited(file: string, dialect: ScanDialect, request: ScanRequest): Promise<ScanResult> {
  const delim = dialect.delimiter;
  const d0 = delim[0];
  const dLen = delim.length;
  const quote = dialect.quote;
  const escape = dialect.escape;
  const escapeIsQuote = escape === quote;
  const st: RecordState = {
    expected: dialect.expectedFields,
    want: request.ordinals,
    others: request.otherRejects,
    maxRejects: request.maxRejects,
    rejected: [],
    ordinalLines: new Map(),
    records: 0,
    rejectedCount: 0,
    wrongFieldCount: 0,
    kept: 0,
    wantIdx: 0,
    nextWant: request.ordinals.length > 0 ? request.ordinals[0] : -1,
    otherIdx: 0,
    nextOther: request.otherRejects.length > 0 ? request.otherRejects[0].byte : Number.POSITIVE_INFINITY,
    headerPending: dialect.header,
  };
  // Per-byte state stays in plain locals that no closure captures, so V8 keeps them in registers
  // (capturing them cost 2-4x).
  let line = 1;
  let pos = 0;
  let inQuote = false;
  let quoteJustClosed = false;
  let escapePending = false;
  let atFieldStart = true;
  let delimMatched = 0;
  let fields = 1;
  let contentBytes = 0;
  let recStartLine = 1;
  let recStartByte = 0;
  let blankLines = 0;

  const stream = openByteStream(file, dialect.gzip);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i];
      if (inQuote) {
        contentBytes++;
        if (escapePending) {
          escapePending = false;
          if (b === NL) line++;
        } else if (b === quote) {
          inQuote = false;
          quoteJustClosed = escapeIsQuote;
        } else if (b === escape) {
          escapePending = true;
        } else if (b === NL) {
          line++;
        }
        continue;
      }
      if (quoteJustClosed) {
        quoteJustClosed = false;
        if (b === quote) {
          // "" inside a quoted field: a literal quote, still inside the field.
          inQuote = true;
          contentBytes++;
          continue;
        }
      }
      if (b === NL) {
        // An empty line (possibly "\r") is skipped by DuckDB too: counted apart, not a record.
        if (contentBytes === 0) blankLines++;
        else endRecord(st, fields, recStartLine, recStartByte, pos + i);
        line++;
        recStartLine = line;
        recStartByte = pos + i + 1;
        fields = 1;
        contentBytes = 0;
        atFieldStart = true;
        delimMatched = 0;
        continue;
      }
      if (b === CR) continue;
      contentBytes++;
      if (dLen === 1) {
        if (b === d0) {
          fields++;
          atFieldStart = true;
          continue;
        }
      } else if (b === delim[delimMatched]) {
        delimMatched++;
        if (delimMatched === dLen) {
          fields++;
          delimMatched = 0;
          atFieldStart = true;
        }
        continue;
      } else {
        delimMatched = b === d0 ? 1 : 0;
        if (delimMatched === 1) continue;
      }
      if (b === quote && atFieldStart) inQuote = true;
      atFieldStart = false;
    }
    pos += n;
  }
  // A last record without a trailing newline (or an unterminated quoted field running to EOF).
  if (contentBytes > 0 || inQuote) endRecord(st, fields, recStartLine, recStartByte, pos);

  return {
    blankLines,
    records: st.records,
    rejectedCount: st.rejectedCount,
    rejected: st.rejected,
    kept: st.kept,
    ordinalLines: st.ordinalLines,
    wrongFieldCount: st.wrongFieldCount,
    bytes: pos,
  };
}
