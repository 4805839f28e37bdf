/**
 * Logged bandit feedback in columnar typed arrays: one row per (decision, position) with the
 * action shown, its reward, the logging policy's propensity π_b(a | x, position) and the context
 * (categorical columns as index codes into a vocabulary, numeric columns as float32). Readers
 * (obd.ts, generic.ts) produce it; estimators and policies only read it.
 *
 * `ContextEncoder` turns a row's context into the dense vector that linear policies and reward
 * models use: [bias] [one-hot of each categorical column] [numeric columns] [one-hot position].
 */
import { RecsysError } from '../../errors.js';

/** Features of n rows: categorical columns as codes, numeric columns as values. */
export interface FeatureTable {
  rows: number;
  categoricalNames: string[];
  /** rows × categoricalNames.length, row-major; codes index `vocab[column]`. */
  codes: Int32Array;
  vocab: string[][];
  numericNames: string[];
  /** rows × numericNames.length, row-major. */
  numeric: Float32Array;
}

export type LogFormat = 'obd' | 'csv' | 'tsv' | 'jsonl';

export interface LoggedBandit {
  source: { path: string; format: LogFormat; files: string[] };
  /** Rows (one per decision and position). */
  n: number;
  nArms: number;
  /** External id of each arm (item id, model name), index = arm. */
  armIds: string[];
  /** Positions (slate slots); 1 when the log has none. */
  nPositions: number;
  actions: Int32Array;
  /** 0-based position of each row. */
  positions: Int32Array;
  rewards: Float64Array;
  /** π_b(action | context, position) per row, or null when the log has no propensities. */
  propensities: Float64Array | null;
  /** Seconds since the epoch, or null. */
  timestamps: Float64Array | null;
  context: FeatureTable;
  /** Per-arm features (OBD item_context.csv), or null. */
  armFeatures: FeatureTable | null;
  /** The columns each field came from (for messages and the report). */
  columns: { action: string; reward: string; propensity: string | null; position: string | null; timestamp: string | null; context: string[] };
  /** Things the reader decided that a user should know (ignored columns, inferred arm count). */
  notes: string[];
}

/** A growable typed array (amortised doubling) for streaming readers. */
export class Growable<T extends Float64Array | Float32Array | Int32Array> {
  private data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T, initial = 1024) {
    this.data = make(initial);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  /** The values pushed so far, as an exactly sized array. */
  finish(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Builds a FeatureTable row by row from strings. */
export class FeatureTableBuilder {
  private readonly codes = new Growable((n) => new Int32Array(n));
  private readonly numeric = new Growable((n) => new Float32Array(n));
  private readonly maps: Array<Map<string, number>>;
  private readonly vocab: string[][];
  rows = 0;

  constructor(
    readonly categoricalNames: string[],
    readonly numericNames: string[],
  ) {
    this.maps = categoricalNames.map(() => new Map());
    this.vocab = categoricalNames.map(() => []);
  }

  /** Adds one row: categorical values as strings, numeric values as numbers (NaN for missing → 0). */
  add(categorical: readonly string[], numeric: readonly number[]): void {
    for (let c = 0; c < this.maps.length; c++) {
      const v = categorical[c] ?? '';
      const map = this.maps[c];
      let code = map.get(v);
      if (code === undefined) {
        code = map.size;
        map.set(v, code);
        this.vocab[c].push(v);
      }
      this.codes.push(code);
    }
    for (let j = 0; j < this.numericNames.length; j++) {
      const v = numeric[j];
      this.numeric.push(Number.isFinite(v) ? v : 0);
    }
    this.rows++;
  }

  finish(): FeatureTable {
    return {
      rows: this.rows,
      categoricalNames: this.categoricalNames,
      codes: this.codes.finish(),
      vocab: this.vocab,
      numericNames: this.numericNames,
      numeric: this.numeric.finish(),
    };
  }
}

export function emptyFeatureTable(rows: number): FeatureTable {
  return { rows, categoricalNames: [], codes: new Int32Array(0), vocab: [], numericNames: [], numeric: new Float32Array(0) };
}

export interface EncoderOptions {
  /** Leading constant 1 (default true). */
  bias?: boolean;
  /** One-hot of the row's position when the log has more than one (reward models; default false). */
  positions?: number;
}

/**
 * Dense encoding of a row's context: [1] [one-hot per categorical column] [numeric] [position].
 * `sparse` gives the same vector as (index, value) pairs without its zeros, for models whose cost
 * should grow with the non-zeros (a one-hot row of 60 features has ~6).
 */
export class ContextEncoder {
  readonly dim: number;
  readonly names: string[];
  private readonly bias: number;
  private readonly catOffset: Int32Array;
  private readonly numOffset: number;
  private readonly posOffset: number;
  private readonly nPositions: number;

  constructor(
    private readonly table: FeatureTable,
    opts: EncoderOptions = {},
  ) {
    this.bias = opts.bias === false ? 0 : 1;
    this.nPositions = opts.positions && opts.positions > 1 ? opts.positions : 0;
    const names: string[] = this.bias ? ['bias'] : [];
    this.catOffset = new Int32Array(table.categoricalNames.length);
    let offset = this.bias;
    table.categoricalNames.forEach((name, c) => {
      this.catOffset[c] = offset;
      for (const v of table.vocab[c]) names.push(`${name}=${v}`);
      offset += table.vocab[c].length;
    });
    this.numOffset = offset;
    names.push(...table.numericNames);
    offset += table.numericNames.length;
    this.posOffset = offset;
    for (let p = 0; p < this.nPositions; p++) names.push(`position=${p + 1}`);
    offset += this.nPositions;
    this.dim = offset;
    this.names = names;
  }

  /** Writes row `row`'s vector into out[0..dim) (position: 0-based, used when positions > 1). */
  encode(row: number, out: Float64Array, position = 0): Float64Array {
    out.fill(0, 0, this.dim);
    if (this.bias) out[0] = 1;
    const t = this.table;
    const nc = t.categoricalNames.length;
    for (let c = 0; c < nc; c++) out[this.catOffset[c] + t.codes[row * nc + c]] = 1;
    const nn = t.numericNames.length;
    for (let j = 0; j < nn; j++) out[this.numOffset + j] = t.numeric[row * nn + j];
    if (this.nPositions) out[this.posOffset + position] = 1;
    return out;
  }

  /** Non-zero entries of row `row`'s vector: writes idx/val, returns how many. */
  sparse(row: number, idx: Int32Array, val: Float64Array, position = 0): number {
    let k = 0;
    if (this.bias) {
      idx[k] = 0;
      val[k++] = 1;
    }
    const t = this.table;
    const nc = t.categoricalNames.length;
    for (let c = 0; c < nc; c++) {
      idx[k] = this.catOffset[c] + t.codes[row * nc + c];
      val[k++] = 1;
    }
    const nn = t.numericNames.length;
    for (let j = 0; j < nn; j++) {
      const v = t.numeric[row * nn + j];
      if (v === 0) continue;
      idx[k] = this.numOffset + j;
      val[k++] = v;
    }
    if (this.nPositions) {
      idx[k] = this.posOffset + position;
      val[k++] = 1;
    }
    return k;
  }

  /** Most non-zeros a row can have (scratch size for `sparse`). */
  get maxNonZeros(): number {
    return this.bias + this.table.categoricalNames.length + this.table.numericNames.length + (this.nPositions ? 1 : 0);
  }
}

/** Checks the arrays of a log agree (used by readers and by hand-built logs in tests). */
export function validateLog(log: LoggedBandit): LoggedBandit {
  const n = log.n;
  const where = log.source.path;
  const bad = (what: string): never => {
    throw new RecsysError('RECSYS_ERR_INGEST_FORMAT', `${where}: ${what}`, { file: where });
  };
  if (log.actions.length !== n || log.rewards.length !== n || log.positions.length !== n) bad(`actions, rewards and positions must have ${n} entries`);
  if (log.propensities && log.propensities.length !== n) bad(`propensities must have ${n} entries`);
  if (log.context.rows !== n) bad(`the context has ${log.context.rows} rows, the log ${n}`);
  for (let i = 0; i < n; i++) {
    const a = log.actions[i];
    if (a < 0 || a >= log.nArms) bad(`row ${i + 1}: action index ${a} is outside 0..${log.nArms - 1}`);
    const p = log.positions[i];
    if (p < 0 || p >= log.nPositions) bad(`row ${i + 1}: position ${p + 1} is outside 1..${log.nPositions}`);
  }
  return log;
}
