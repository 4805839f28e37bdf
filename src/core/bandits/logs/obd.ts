/**
 * Reader of the Open Bandit Dataset (Saito, Aihara, Matsutani & Narita 2020, "Open Bandit Dataset
 * and Pipeline", arXiv 2008.07146): `<campaign>.csv[.gz]` with columns
 *     (index), timestamp, item_id, position, click, propensity_score,
 *     user_feature_0..3 (hashed categorical), user-item_affinity_0..N−1 (numeric)
 * and, beside it, `item_context.csv` with item_id and item_feature_* per item. One row is one item
 * shown at one position (1 = left, 2 = centre, 3 = right) of an impression; propensity_score is
 * the behaviour policy's probability of that item at that position.
 *
 * Streams the gzipped CSV (node:zlib) straight into typed arrays: actions Int32Array, positions
 * (0-based) Int32Array, clicks and propensities Float64Array, timestamps Float64Array (seconds),
 * user features as categorical codes, affinities as float32.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError } from '../../errors.js';
import { readDelimited } from './csv.js';
import { FeatureTableBuilder, Growable, validateLog, type FeatureTable, type LoggedBandit } from './types.js';

export const OBD_REQUIRED = ['item_id', 'position', 'click', 'propensity_score'] as const;

/** The data file (and item_context.csv, when present) of an OBD path: a campaign folder or its CSV. */
export function resolveObdFiles(path: string): { data: string; itemContext: string | null } {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${path} does not exist`, { file: path });
  if (statSync(abs).isFile()) {
    const ctx = join(dirname(abs), 'item_context.csv');
    return { data: abs, itemContext: basename(abs) !== 'item_context.csv' && existsSync(ctx) ? ctx : null };
  }
  const entries = readdirSync(abs);
  const data = entries.filter((f) => /\.(csv|csv\.gz)$/.test(f) && f !== 'item_context.csv').sort();
  if (data.length === 1) {
    const ctx = join(abs, 'item_context.csv');
    return { data: join(abs, data[0]), itemContext: existsSync(ctx) ? ctx : null };
  }
  const subdirs = entries.filter((f) => statSync(join(abs, f)).isDirectory()).sort();
  const hint =
    data.length > 1
      ? `it holds several logs (${data.join(', ')}): pass one of them`
      : subdirs.length > 0
        ? `it has no log file but these folders: ${subdirs.map((d) => join(path, d)).join(', ')} — pass one campaign folder`
        : 'it holds no .csv or .csv.gz file';
  throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `cannot tell which log to read in ${path}: ${hint}`, { file: path });
}

/** Reads the header of a delimited file (first record). */
export async function readHeader(path: string, delimiter = ','): Promise<string[]> {
  let header: string[] | null = null;
  // readDelimited has no early exit; for a header-only read of a big file use a small wrapper.
  const stop = new Error('header read');
  try {
    await readDelimited(path, delimiter, (fields) => {
      header = fields;
      throw stop;
    });
  } catch (e) {
    if (e !== stop) throw e;
  }
  if (!header) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${path} is empty: expected a header row`, { file: path });
  return header;
}

function parseNumber(text: string, file: string, line: number, column: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${file} line ${line}: column '${column}' should be a number, got '${text}'`, { file, line, column });
  }
  return v;
}

/** item_context.csv: item_id plus features (numeric when every value parses, else categorical). */
export async function readItemContext(path: string): Promise<{ ids: string[]; features: FeatureTable }> {
  const rows: string[][] = [];
  let header: string[] = [];
  await readDelimited(path, ',', (fields, line) => {
    if (line === 1 && header.length === 0) header = fields;
    else rows.push(fields);
  });
  const idCol = header.indexOf('item_id');
  if (idCol < 0) {
    throw new RecsysError('RECSYS_ERR_INGEST_COLUMN', `${path} has no item_id column (columns: ${header.map((h) => h || '(index)').join(', ')})`, { file: path, column: 'item_id' });
  }
  const featureCols = header.map((h, i) => ({ h, i })).filter(({ h, i }) => i !== idCol && h !== '' && h !== 'index');
  const isNumeric = featureCols.map(({ i }) => rows.every((r) => r[i] !== undefined && r[i].trim() !== '' && Number.isFinite(Number(r[i]))));
  const cat = featureCols.filter((_, j) => !isNumeric[j]);
  const num = featureCols.filter((_, j) => isNumeric[j]);
  const b = new FeatureTableBuilder(
    cat.map((c) => c.h),
    num.map((c) => c.h),
  );
  const ids: string[] = [];
  for (const r of rows) {
    ids.push(r[idCol]);
    b.add(
      cat.map((c) => r[c.i] ?? ''),
      num.map((c) => Number(r[c.i])),
    );
  }
  return { ids, features: b.finish() };
}

interface ObdColumns {
  item: number;
  position: number;
  click: number;
  propensity: number;
  timestamp: number;
}

export async function readObd(path: string): Promise<LoggedBandit> {
  const files = resolveObdFiles(path);
  const file = files.data;
  const notes: string[] = [];

  let col: ObdColumns | null = null;
  let userCols: number[] = [];
  let affinityCols: number[] = [];
  let header: string[] = [];
  let builder: FeatureTableBuilder | null = null;
  const actions = new Growable((n) => new Int32Array(n));
  const positions = new Growable((n) => new Int32Array(n));
  const rewards = new Growable((n) => new Float64Array(n));
  const propensities = new Growable((n) => new Float64Array(n));
  const timestamps = new Growable((n) => new Float64Array(n));
  let maxItem = -1;
  let maxPosition = 0;
  const catScratch: string[] = [];
  const numScratch: number[] = [];

  await readDelimited(file, ',', (fields, line) => {
    if (!col) {
      header = fields;
      const missing = OBD_REQUIRED.filter((c) => !fields.includes(c));
      if (missing.length > 0) {
        throw new RecsysError(
          'RECSYS_ERR_INGEST_COLUMN',
          `${file} is not an Open Bandit Dataset log: missing column(s) ${missing.join(', ')}. It has: ${fields.map((h) => h || '(index)').join(', ')}. ` +
            'For other logs use the generic reader (--format csv|jsonl with --action-column, --reward-column, --propensity-column).',
          { file, column: missing[0], columns: fields },
        );
      }
      col = {
        item: fields.indexOf('item_id'),
        position: fields.indexOf('position'),
        click: fields.indexOf('click'),
        propensity: fields.indexOf('propensity_score'),
        timestamp: fields.indexOf('timestamp'),
      };
      userCols = fields.map((h, i) => (h.startsWith('user_feature_') ? i : -1)).filter((i) => i >= 0);
      affinityCols = fields.map((h, i) => (h.startsWith('user-item_affinity_') ? i : -1)).filter((i) => i >= 0);
      builder = new FeatureTableBuilder(
        userCols.map((i) => fields[i]),
        affinityCols.map((i) => fields[i]),
      );
      return;
    }
    if (fields.length !== header.length) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${file} line ${line} has ${fields.length} fields, the header has ${header.length}`, { file, line });
    }
    const item = parseNumber(fields[col.item], file, line, 'item_id');
    if (!Number.isInteger(item) || item < 0) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${file} line ${line}: item_id must be an integer ≥ 0, got '${fields[col.item]}'`, { file, line, column: 'item_id' });
    }
    const position = parseNumber(fields[col.position], file, line, 'position');
    if (!Number.isInteger(position) || position < 1) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${file} line ${line}: position must be an integer ≥ 1 (1 = left), got '${fields[col.position]}'`, { file, line, column: 'position' });
    }
    const click = parseNumber(fields[col.click], file, line, 'click');
    const propensity = parseNumber(fields[col.propensity], file, line, 'propensity_score');
    if (!(propensity > 0 && propensity <= 1)) {
      throw new RecsysError('RECSYS_ERR_INGEST_ROW', `${file} line ${line}: propensity_score must be in (0, 1], got '${fields[col.propensity]}'`, { file, line, column: 'propensity_score' });
    }
    actions.push(item);
    positions.push(position - 1);
    rewards.push(click);
    propensities.push(propensity);
    if (col.timestamp >= 0) {
      const t = Date.parse(fields[col.timestamp]);
      timestamps.push(Number.isFinite(t) ? t / 1000 : NaN);
    }
    if (item > maxItem) maxItem = item;
    if (position > maxPosition) maxPosition = position;
    catScratch.length = 0;
    for (const i of userCols) catScratch.push(fields[i]);
    numScratch.length = 0;
    for (const i of affinityCols) numScratch.push(Number(fields[i]));
    builder?.add(catScratch, numScratch);
  });
  // (TypeScript does not see the callback's assignments: restate the types.)
  const columns = col as ObdColumns | null;
  const table = builder as FeatureTableBuilder | null;
  if (!columns || !table) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file} is empty: expected an Open Bandit Dataset header`, { file });
  const n = actions.length;
  if (n === 0) throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file} has a header but no rows`, { file });

  let armIds: string[];
  let armFeatures: FeatureTable | null = null;
  if (files.itemContext) {
    const items = await readItemContext(files.itemContext);
    armIds = items.ids;
    armFeatures = items.features;
    const expected = armIds.map((_, i) => String(i));
    if (armIds.some((id, i) => id !== expected[i])) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${files.itemContext}: item_id should run 0, 1, 2, … in order (found ${armIds.slice(0, 5).join(', ')}…)`, { file: files.itemContext });
    }
    if (maxItem >= armIds.length) {
      throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${file} shows item_id ${maxItem}, but ${files.itemContext} lists only ${armIds.length} items`, { file });
    }
  } else {
    armIds = Array.from({ length: maxItem + 1 }, (_, i) => String(i));
    notes.push(`no item_context.csv beside ${basename(file)}: assuming ${maxItem + 1} items (0..${maxItem}), the largest item_id seen`);
  }
  const context = table.finish();
  return validateLog({
    source: { path: resolve(path), format: 'obd', files: files.itemContext ? [file, files.itemContext] : [file] },
    n,
    nArms: armIds.length,
    armIds,
    nPositions: maxPosition,
    actions: actions.finish(),
    positions: positions.finish(),
    rewards: rewards.finish(),
    propensities: propensities.finish(),
    timestamps: columns.timestamp >= 0 ? timestamps.finish() : null,
    context,
    armFeatures,
    columns: {
      action: 'item_id',
      reward: 'click',
      propensity: 'propensity_score',
      position: 'position',
      timestamp: columns.timestamp >= 0 ? 'timestamp' : null,
      context: [...context.categoricalNames, ...context.numericNames],
    },
    notes,
  });
}
