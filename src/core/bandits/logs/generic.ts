/**
 * Reader of generic logged bandit feedback: CSV, TSV (optionally gzipped) or JSON Lines with one
 * row per decision (and position), holding
 *     action      the arm shown: an item id, or a model name in an A/B test (mf, content, …)
 *     reward      the outcome (click 0/1, revenue, …)
 *     propensity  the logging policy's probability of that action (optional: replay and DM do
 *                 without; IPS, SNIPS and DR need it)
 *     position    optional slot of a slate (1-based; 0-based when a 0 appears)
 *     timestamp   optional (epoch seconds or milliseconds, or ISO 8601)
 *     context     any other columns: numeric when every value parses as a number, otherwise
 *                 categorical (one-hot); categorical columns with more than `maxCategories`
 *                 distinct values (ids) are left out, with a note.
 * Column names are found by the aliases below unless given. Two streaming passes: the first
 * settles column types and the arm labels, the second fills the typed arrays.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RecsysError } from '../../errors.js';
import { naturalCompare } from '../../report/json.js';
import { readDelimited, readJsonLines } from './csv.js';
import { FeatureTableBuilder, Growable, validateLog, type LogFormat, type LoggedBandit } from './types.js';

export const COLUMN_ALIASES = {
  action: ['action', 'arm', 'item_id', 'item', 'variant', 'model'],
  reward: ['reward', 'click', 'clicked', 'conversion', 'converted', 'outcome'],
  propensity: ['propensity', 'propensity_score', 'pscore', 'action_prob', 'probability'],
  position: ['position', 'slot', 'rank'],
  timestamp: ['timestamp', 'ts', 'time', 'event_time'],
} as const;

/** Columns never used as context unless named explicitly. */
const NEVER_CONTEXT = new Set(['', 'index', 'id', 'row', 'row_id', 'event_id', 'request_id', 'impression_id']);

export interface GenericLogOptions {
  format?: 'csv' | 'tsv' | 'jsonl';
  actionColumn?: string;
  rewardColumn?: string;
  propensityColumn?: string;
  positionColumn?: string;
  timestampColumn?: string;
  /** Context columns (default: every other column, see the module comment). */
  contextColumns?: string[];
  /** Categorical context columns with more distinct values are left out (default 1000). */
  maxCategories?: number;
}

type Raw = string | number | boolean | null | undefined;

export function detectLogFormat(path: string, given?: string): 'csv' | 'tsv' | 'jsonl' {
  if (given === 'csv' || given === 'tsv' || given === 'jsonl') return given;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  return 'csv';
}

/** Streams rows as arrays of raw values aligned with `columns` (set from the header / first pass). */
async function scanRows(path: string, format: 'csv' | 'tsv' | 'jsonl', onColumns: (cols: string[]) => void, onRow: (values: Raw[], line: number) => void, knownColumns?: string[]): Promise<void> {
  if (format === 'jsonl') {
    const cols = knownColumns ? [...knownColumns] : [];
    const index = new Map(cols.map((c, i) => [c, i]));
    const values: Raw[] = [];
    await readJsonLines(path, (obj, line) => {
      if (!knownColumns) {
        for (const k of Object.keys(obj)) {
          if (!index.has(k)) {
            index.set(k, cols.length);
            cols.push(k);
          }
        }
      }
      values.length = 0;
      for (let i = 0; i < cols.length; i++) values.push(undefined);
      for (const [k, v] of Object.entries(obj)) {
        const i = index.get(k);
        if (i === undefined) continue;
        values[i] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
      }
      onRow(values, line);
    });
    onColumns(cols);
    return;
  }
  let header: string[] | null = null;
  await readDelimited(path, format === 'tsv' ? '\t' : ',', (fields, line) => {
    if (!header) {
      header = fields.map((f) => f.trim());
      onColumns(header);
      return;
    }
    if (fields.length !== header.length) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line} has ${fields.length} fields, the header has ${header.length}`, { file: path, line });
    }
    onRow(fields, line);
  });
  if (!header) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path} is empty: expected a header row`, { file: path });
}

function asNumber(v: Raw): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return NaN;
    if (t === 'true') return 1;
    if (t === 'false') return 0;
    return Number(t);
  }
  return NaN;
}

function asText(v: Raw): string {
  return v === null || v === undefined ? '' : String(v);
}

function isMissing(v: Raw): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

function parseTime(v: Raw): number {
  if (typeof v === 'number' || (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v))) {
    const x = Number(v);
    return x > 1e11 ? x / 1000 : x; // epoch milliseconds → seconds
  }
  const t = Date.parse(asText(v));
  return Number.isFinite(t) ? t / 1000 : NaN;
}

function pick(columns: string[], given: string | undefined, aliases: readonly string[], role: string, flag: string, path: string, required: boolean): number {
  if (given !== undefined) {
    const i = columns.indexOf(given);
    if (i < 0) {
      throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path} has no column '${given}' (given by ${flag}). Its columns: ${columns.map((c) => c || '(unnamed)').join(', ')}.`, { file: path, column: given, flag, columns });
    }
    return i;
  }
  for (const a of aliases) {
    const i = columns.findIndex((c) => c.toLowerCase() === a);
    if (i >= 0) return i;
  }
  if (required) {
    throw new RecsysError(
      'RECSYS_ERR_INGEST_COLUMN',
      `${path} has no ${role} column: looked for ${aliases.join(', ')}. Its columns: ${columns.map((c) => c || '(unnamed)').join(', ')}. Name it with ${flag} <column>.`,
      { file: path, column: role, flag, columns },
    );
  }
  return -1;
}

export async function readGenericLog(path: string, opts: GenericLogOptions = {}): Promise<LoggedBandit> {
  const file = resolve(path);
  if (!existsSync(file)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${path} does not exist`, { file: path });
  if (statSync(file).isDirectory()) {
    throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path} is a folder: pass the log file itself (folders are read only in the Open Bandit Dataset layout)`, { file: path });
  }
  const format = detectLogFormat(file, opts.format);
  const maxCategories = opts.maxCategories ?? 1000;

  // Pass 1: columns, which are numeric, distinct counts (capped), arm labels, position base.
  let columns: string[] = [];
  let numeric: boolean[] = [];
  let seen: boolean[] = [];
  let distinct: Array<Set<string> | null> = [];
  let rows = 0;
  const grow = (n: number): void => {
    while (numeric.length < n) {
      numeric.push(true);
      seen.push(false);
      distinct.push(new Set());
    }
  };
  await scanRows(
    file,
    format,
    (cols) => {
      columns = cols;
      grow(cols.length);
    },
    (values) => {
      grow(values.length);
      rows++;
      for (let c = 0; c < values.length; c++) {
        const v = values[c];
        if (isMissing(v)) continue;
        seen[c] = true;
        if (numeric[c] && !Number.isFinite(asNumber(v))) numeric[c] = false;
        const set = distinct[c];
        if (set) {
          set.add(asText(v));
          if (set.size > maxCategories) distinct[c] = null;
        }
      }
    },
  );
  numeric = numeric.slice(0, columns.length);
  seen = seen.slice(0, columns.length);
  distinct = distinct.slice(0, columns.length);
  if (rows === 0) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path} has no rows`, { file: path });

  const iAction = pick(columns, opts.actionColumn, COLUMN_ALIASES.action, 'action', '--action-column', path, true);
  const iReward = pick(columns, opts.rewardColumn, COLUMN_ALIASES.reward, 'reward', '--reward-column', path, true);
  const iProp = pick(columns, opts.propensityColumn, COLUMN_ALIASES.propensity, 'propensity', '--propensity-column', path, false);
  const iPos = pick(columns, opts.positionColumn, COLUMN_ALIASES.position, 'position', '--position-column', path, false);
  const iTime = pick(columns, opts.timestampColumn, COLUMN_ALIASES.timestamp, 'timestamp', '--timestamp-column', path, false);
  const roles = new Set([iAction, iReward, iProp, iPos, iTime].filter((i) => i >= 0));
  if (!numeric[iReward]) {
    throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path}: the reward column '${columns[iReward]}' has values that are not numbers (rewards must be numeric: clicks 0/1, revenue, …)`, { file: path, column: columns[iReward] });
  }
  if (iProp >= 0 && !numeric[iProp]) {
    throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path}: the propensity column '${columns[iProp]}' has values that are not numbers`, { file: path, column: columns[iProp] });
  }

  const notes: string[] = [];
  let contextCols: number[];
  if (opts.contextColumns) {
    contextCols = opts.contextColumns.map((name) => {
      const i = columns.indexOf(name);
      if (i < 0) {
        throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path} has no context column '${name}' (given by --context-columns). Its columns: ${columns.join(', ')}.`, { file: path, column: name, flag: '--context-columns', columns });
      }
      return i;
    });
  } else {
    contextCols = [];
    columns.forEach((name, i) => {
      if (roles.has(i) || NEVER_CONTEXT.has(name.toLowerCase()) || !seen[i]) return;
      if (!numeric[i] && distinct[i] === null) {
        notes.push(`column '${name}' left out of the context: more than ${maxCategories} distinct values (an id?); name it in --context-columns to keep it`);
        return;
      }
      contextCols.push(i);
    });
  }
  const catCols = contextCols.filter((i) => !numeric[i]);
  const numCols = contextCols.filter((i) => numeric[i]);

  // Arms: distinct action labels in natural order (so 0, 1, 2, … or content, mf, two_tower).
  const labels = new Set<string>();
  let minPosition = Infinity;
  await scanRows(
    file,
    format,
    () => {},
    (values, line) => {
      const a = values[iAction];
      if (isMissing(a)) throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line}: the action ('${columns[iAction]}') is empty`, { file: path, line, column: columns[iAction] });
      labels.add(asText(a).trim());
      if (iPos >= 0) minPosition = Math.min(minPosition, asNumber(values[iPos]));
    },
    format === 'jsonl' ? columns : undefined,
  );
  const armIds = [...labels].sort(naturalCompare);
  const armIndex = new Map(armIds.map((id, i) => [id, i]));
  const positionBase = iPos >= 0 && minPosition === 0 ? 0 : 1;
  if (iPos >= 0 && positionBase === 0) notes.push(`positions in '${columns[iPos]}' start at 0: read as 0-based`);

  // Pass 2: typed arrays.
  const builder = new FeatureTableBuilder(
    catCols.map((i) => columns[i]),
    numCols.map((i) => columns[i]),
  );
  const actions = new Growable((n) => new Int32Array(n));
  const positions = new Growable((n) => new Int32Array(n));
  const rewards = new Growable((n) => new Float64Array(n));
  const propensities = new Growable((n) => new Float64Array(n));
  const timestamps = new Growable((n) => new Float64Array(n));
  let nPositions = 1;
  const catScratch: string[] = [];
  const numScratch: number[] = [];
  await scanRows(
    file,
    format,
    () => {},
    (values, line) => {
      actions.push(armIndex.get(asText(values[iAction]).trim()) ?? 0);
      const r = asNumber(values[iReward]);
      if (!Number.isFinite(r)) throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line}: reward '${asText(values[iReward])}' is not a number`, { file: path, line, column: columns[iReward] });
      rewards.push(r);
      if (iProp >= 0) {
        const p = asNumber(values[iProp]);
        if (!(p > 0 && p <= 1)) {
          throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line}: propensity '${asText(values[iProp])}' must be in (0, 1] (the logging policy's probability of the action shown)`, { file: path, line, column: columns[iProp] });
        }
        propensities.push(p);
      }
      if (iPos >= 0) {
        const p = asNumber(values[iPos]) - positionBase;
        if (!Number.isInteger(p) || p < 0) {
          throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${path} line ${line}: position '${asText(values[iPos])}' must be an integer ≥ ${positionBase}`, { file: path, line, column: columns[iPos] });
        }
        positions.push(p);
        if (p + 1 > nPositions) nPositions = p + 1;
      } else positions.push(0);
      if (iTime >= 0) timestamps.push(parseTime(values[iTime]));
      catScratch.length = 0;
      for (const i of catCols) catScratch.push(asText(values[i]));
      numScratch.length = 0;
      for (const i of numCols) numScratch.push(asNumber(values[i]));
      builder.add(catScratch, numScratch);
    },
    format === 'jsonl' ? columns : undefined,
  );

  const context = builder.finish();
  return validateLog({
    source: { path: file, format: format as LogFormat, files: [file] },
    n: actions.length,
    nArms: armIds.length,
    armIds,
    nPositions,
    actions: actions.finish(),
    positions: positions.finish(),
    rewards: rewards.finish(),
    propensities: iProp >= 0 ? propensities.finish() : null,
    timestamps: iTime >= 0 ? timestamps.finish() : null,
    context,
    armFeatures: null,
    columns: {
      action: columns[iAction],
      reward: columns[iReward],
      propensity: iProp >= 0 ? columns[iProp] : null,
      position: iPos >= 0 ? columns[iPos] : null,
      timestamp: iTime >= 0 ? columns[iTime] : null,
      context: [...context.categoricalNames, ...context.numericNames],
    },
    notes,
  });
}
