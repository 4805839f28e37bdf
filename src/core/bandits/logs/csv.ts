/**
 * Streaming reader of delimited text (CSV/TSV, optionally gzipped, decompressed with node:zlib
 * as it streams): an RFC 4180 state machine over decoded chunks — a quote opens only at the start
 * of a field, a doubled quote inside quotes is a literal quote, a newline outside quotes ends the
 * record (CRLF or LF) — handing each record's fields and 1-based file line to a callback, so a
 * million-row log never sits in memory as text. Blank lines are skipped. Also reads JSON Lines.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { RecsysError } from '../../errors.js';

/** Called once per record with its fields and the file line where it starts (1-based). */
export type RecordHandler = (fields: string[], line: number) => void;

function openText(path: string): AsyncIterable<string> {
  const raw = createReadStream(path);
  if (!path.endsWith('.gz')) {
    raw.setEncoding('utf8');
    return raw as AsyncIterable<string>;
  }
  const gunzip = createGunzip();
  // pipe() does not forward errors: a missing file must still reject the iteration.
  raw.on('error', (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  gunzip.setEncoding('utf8');
  return gunzip as AsyncIterable<string>;
}

function readError(path: string, e: unknown): RecsysError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${path} does not exist`, { file: path });
  const gz = path.endsWith('.gz') ? ' (is it really gzipped? the name ends in .gz)' : '';
  return new RecsysError('RECSYS_ERR_INGEST_FORMAT', `could not read ${path}${gz}: ${err.message}`, { file: path }, { cause: e });
}

/**
 * Streams the records of a delimited file (the header is the first record, line 1; callers tell
 * it apart). Returns the number of records.
 */
export async function readDelimited(path: string, delimiter: string, onRecord: RecordHandler): Promise<number> {
  if (delimiter.length !== 1) throw new RecsysError('RECSYS_ERR_USAGE', `delimiter must be one character, got '${delimiter}'`);
  const DELIM = delimiter.charCodeAt(0);
  const QUOTE = 34;
  const NL = 10;
  const CR = 13;
  const START = 0; // at the start of a field
  const PLAIN = 1; // inside an unquoted field
  const QUOTED = 2; // inside a quoted field
  const QUOTED_QUOTE = 3; // just saw a quote inside a quoted field: an escaped quote or the closing one
  let state = START;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let records = 0;
  let callbackFailed = false;

  const endField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    if (field.endsWith('\r')) field = field.slice(0, -1);
    endField();
    // A record that is one empty field is a blank line.
    if (!(fields.length === 1 && fields[0] === '')) {
      records++;
      callbackFailed = true;
      onRecord(fields, recordLine);
      callbackFailed = false;
    }
    fields = [];
  };

  try {
    for await (const chunk of openText(path)) {
      const text = chunk as string;
      let run = 0; // start of the characters not yet copied into `field` (PLAIN and QUOTED)
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        switch (state) {
          case START:
            if (c === QUOTE) {
              state = QUOTED;
              run = i + 1;
            } else if (c === DELIM) endField();
            else if (c === NL) {
              endRecord();
              recordLine = ++line;
            } else {
              state = PLAIN;
              run = i;
            }
            break;
          case PLAIN:
            if (c === DELIM) {
              field += text.slice(run, i);
              endField();
              state = START;
            } else if (c === NL) {
              field += text.slice(run, i);
              endRecord();
              recordLine = ++line;
              state = START;
            }
            break;
          case QUOTED:
            if (c === QUOTE) {
              field += text.slice(run, i);
              state = QUOTED_QUOTE;
            } else if (c === NL) line++;
            break;
          default: // QUOTED_QUOTE
            if (c === QUOTE) {
              field += '"';
              state = QUOTED;
              run = i + 1;
            } else if (c === DELIM) {
              endField();
              state = START;
            } else if (c === NL) {
              endRecord();
              recordLine = ++line;
              state = START;
            } else if (c !== CR) {
              // Text after a closing quote ("ab"c): keep it, as most CSV readers do.
              state = PLAIN;
              run = i;
            }
        }
      }
      if (state === PLAIN || state === QUOTED) field += text.slice(run);
    }
  } catch (e) {
    // Errors of the callback pass through unchanged; only read/decompress errors are wrapped.
    if (e instanceof RecsysError || callbackFailed) throw e;
    throw readError(path, e);
  }
  if (state === QUOTED) {
    throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path}: the quoted field that opens on line ${recordLine} is never closed`, { file: path, line: recordLine });
  }
  if (state !== START || fields.length > 0) endRecord();
  return records;
}

/** Streams the lines of a JSON Lines file as parsed objects (blank lines skipped). */
export async function readJsonLines(path: string, onObject: (obj: Record<string, unknown>, line: number) => void): Promise<number> {
  let rest = '';
  let line = 0;
  let count = 0;
  let callbackFailed = false;
  const handle = (text: string): void => {
    line++;
    const t = text.trim();
    if (t === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line} is not valid JSON: ${(e as Error).message}`, { file: path, line });
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line} must be a JSON object ({"action": …, "reward": …}), got ${t.slice(0, 60)}`, { file: path, line });
    }
    count++;
    callbackFailed = true;
    onObject(obj as Record<string, unknown>, line);
    callbackFailed = false;
  };
  try {
    for await (const chunk of openText(path)) {
      const text = rest + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        handle(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (e) {
    if (e instanceof RecsysError || callbackFailed) throw e;
    throw readError(path, e);
  }
  if (rest.trim() !== '') handle(rest);
  return count;
}
