/**
 * Feature rows → the towers' sparse inputs (feature bags, towers.ts).
 *
 * Items (`ItemFeatureEncoder`): the content featurizer (features/featurizer.ts) gives each product
 * a sparse vector: TF-IDF of title + description, one-hot category and brand, price bucket, JSON
 * attributes (e.g. MovieLens genres, multi-hot). Its columns become rows of the item tower's
 * feature table. A block the product lacks (no category, no price, no catalogue row at all) sets
 * that block's learned "unknown" column instead, so a missing feature is information, not a crash.
 *
 * Users (`UserFeatureEncoder`): the store's `users.demographics` JSON. Per top-level key: when every
 * non-null value is a number (MovieLens `age`), quantile buckets (features/encode.ts PriceBuckets,
 * `numericBuckets` of them); otherwise one-hot over the values seen at least `minCount` times
 * (`gender`, `occupation`, synthetic `age_band`, `country`; arrays are multi-hot). Keys that look
 * like identifiers (more distinct values than `maxDistinctRatio` × the rows having the key, e.g.
 * `zip`) are dropped. Each kept key has an "unknown" column for rows without a usable value.
 *
 * Both sides reserve one more column, "unknown id" (`unknownIdColumn`): the tower adds its row for
 * a user or item without an id row (never seen in training, or its id dropped on purpose while
 * training, see model.ts), so such a row is embedded from its features alone: the cold-start path.
 */
import { BLOCK_NAMES, Featurizer, type BlockName, type CatalogItem, type DeepPartialConfig, type FeaturizerState } from '../../features/featurizer.js';
import { compareStrings, PriceBuckets, type AttributeSpec } from '../../features/encode.js';
import type { SparseMatrix } from '../../features/sparse.js';
import type { Bags } from './towers.js';
import type { UserFeatureRow } from '../recommender.js';

/** One row of the store's `users` table (data/users.ts loads them). */
export type UserRow = UserFeatureRow;
export { USER_ROWS_SQL, userRowsFromSql } from '../../data/users.js';

/** A bag builder with geometric growth. */
class BagBuilder {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  nnz = 0;
  rows = 0;

  constructor(expectedRows: number, expectedNnz: number) {
    this.indptr = new Int32Array(expectedRows + 1);
    this.indices = new Int32Array(Math.max(16, expectedNnz));
    this.values = new Float32Array(Math.max(16, expectedNnz));
  }

  push(col: number, value: number): void {
    if (this.nnz === this.indices.length) {
      const i = new Int32Array(this.indices.length * 2);
      i.set(this.indices);
      this.indices = i;
      const v = new Float32Array(this.values.length * 2);
      v.set(this.values);
      this.values = v;
    }
    this.indices[this.nnz] = col;
    this.values[this.nnz] = value;
    this.nnz++;
  }

  endRow(): void {
    this.rows++;
    if (this.rows >= this.indptr.length) {
      const p = new Int32Array(this.indptr.length * 2);
      p.set(this.indptr);
      this.indptr = p;
    }
    this.indptr[this.rows] = this.nnz;
  }

  build(): Bags {
    return { indptr: this.indptr.slice(0, this.rows + 1), indices: this.indices.slice(0, this.nnz), values: this.values.slice(0, this.nnz) };
  }
}

/** Concatenates bags row-wise (rows of `b` after rows of `a`). */
export function appendBags(a: Bags, b: Bags): Bags {
  const na = a.indptr.length - 1;
  const nb = b.indptr.length - 1;
  const nnzA = a.indptr[na];
  const indptr = new Int32Array(na + nb + 1);
  indptr.set(a.indptr);
  for (let r = 1; r <= nb; r++) indptr[na + r] = nnzA + b.indptr[r];
  const indices = new Int32Array(nnzA + b.indptr[nb]);
  indices.set(a.indices.subarray(0, nnzA));
  indices.set(b.indices.subarray(0, b.indptr[nb]), nnzA);
  const values = new Float32Array(indices.length);
  values.set(a.values.subarray(0, nnzA));
  values.set(b.values.subarray(0, b.indptr[nb]), nnzA);
  return { indptr, indices, values };
}

/** Replaces rows `rows` of `bags` with the rows of `replacement` (in order). */
export function replaceBagRows(bags: Bags, rows: Int32Array, replacement: Bags): Bags {
  const n = bags.indptr.length - 1;
  const with_ = new Int32Array(n).fill(-1);
  rows.forEach((r, j) => (with_[r] = j));
  const out = new BagBuilder(n, bags.indices.length + replacement.indices.length);
  for (let r = 0; r < n; r++) {
    const src = with_[r] >= 0 ? replacement : bags;
    const row = with_[r] >= 0 ? with_[r] : r;
    for (let p = src.indptr[row]; p < src.indptr[row + 1]; p++) out.push(src.indices[p], src.values[p]);
    out.endRow();
  }
  return out.build();
}

// ---------------------------------------------------------------------------------------------
// Items

export interface ItemEncoderState {
  featurizer: Omit<FeaturizerState, 'idf' | 'priceEdges' | 'vocabulary' | 'categories' | 'brands'>;
  vocabulary: readonly string[];
  idf: Float32Array;
  categories: readonly string[];
  brands: readonly string[];
  priceEdges: Float64Array;
}

export class ItemFeatureEncoder {
  readonly featurizer: Featurizer;
  /** Blocks that can be present (weight > 0 and at least one column), each with an unknown column. */
  private readonly blocks: Array<{ name: BlockName; offset: number; size: number; unknownColumn: number }>;
  readonly nColumns: number;
  readonly unknownIdColumn: number;

  constructor(featurizer: Featurizer) {
    this.featurizer = featurizer;
    let col = featurizer.dimensions;
    this.blocks = featurizer.layout().filter((b) => b.weight > 0 && b.size > 0).map((b) => ({ name: b.name, offset: b.offset, size: b.size, unknownColumn: col++ }));
    this.unknownIdColumn = col++;
    this.nColumns = col;
  }

  static fit(rows: readonly CatalogItem[], config: DeepPartialConfig = {}): ItemFeatureEncoder {
    const { featurizer } = Featurizer.fit(rows, config);
    return new ItemFeatureEncoder(featurizer);
  }

  /** Column names, for inspection ("text:leather", "category:?", "id:?"). */
  columnName(column: number): string {
    if (column === this.unknownIdColumn) return 'id:?';
    const b = this.blocks.find((x) => x.unknownColumn === column);
    if (b) return `${b.name}:?`;
    return this.featurizer.columnName(column);
  }

  /** Bags for `rows` (null = no catalogue row). */
  encode(rows: ReadonlyArray<CatalogItem | null>): Bags {
    const present = rows.filter((r): r is CatalogItem => r !== null);
    const vectors: SparseMatrix = this.featurizer.transform(present);
    const out = new BagBuilder(rows.length, vectors.indices.length + rows.length * (this.blocks.length + 1));
    let v = 0;
    const has = new Uint8Array(BLOCK_NAMES.length);
    for (let r = 0; r < rows.length; r++) {
      has.fill(0);
      if (rows[r] !== null) {
        for (let p = vectors.indptr[v]; p < vectors.indptr[v + 1]; p++) {
          const c = vectors.indices[p];
          out.push(c, vectors.values[p]);
          for (let b = 0; b < this.blocks.length; b++) {
            const blk = this.blocks[b];
            if (c >= blk.offset && c < blk.offset + blk.size) has[b] = 1;
          }
        }
        v++;
      }
      for (let b = 0; b < this.blocks.length; b++) if (!has[b]) out.push(this.blocks[b].unknownColumn, 1);
      out.endRow();
    }
    return out.build();
  }

  state(): ItemEncoderState {
    const s = this.featurizer.state();
    const { idf, priceEdges, vocabulary, categories, brands, ...rest } = s;
    return { featurizer: rest, vocabulary, idf, categories, brands, priceEdges };
  }

  static fromState(s: ItemEncoderState): ItemFeatureEncoder {
    return new ItemFeatureEncoder(
      Featurizer.fromState({ ...s.featurizer, vocabulary: s.vocabulary, idf: s.idf, categories: s.categories, brands: s.brands, priceEdges: s.priceEdges, attributes: s.featurizer.attributes as AttributeSpec }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Users

export interface UserEncoderOptions {
  numericBuckets: number;
  minCount: number;
  maxDistinctRatio: number;
}

export const DEFAULT_USER_ENCODER_OPTIONS: Readonly<UserEncoderOptions> = Object.freeze({ numericBuckets: 8, minCount: 2, maxDistinctRatio: 0.5 });

export type UserKeySpec =
  | { key: string; kind: 'categorical'; values: string[]; offset: number; unknownColumn: number }
  | { key: string; kind: 'numeric'; edges: number[]; offset: number; unknownColumn: number };

export interface UserEncoderState {
  keys: UserKeySpec[];
  nColumns: number;
  unknownIdColumn: number;
}

type Scalar = string | number | boolean;

function scalars(v: unknown): Scalar[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.filter((x): x is Scalar => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [v];
  return [];
}

export class UserFeatureEncoder {
  readonly keys: UserKeySpec[];
  readonly nColumns: number;
  readonly unknownIdColumn: number;
  private readonly index: Map<string, Map<string, number>>;

  constructor(state: UserEncoderState) {
    this.keys = state.keys;
    this.nColumns = state.nColumns;
    this.unknownIdColumn = state.unknownIdColumn;
    this.index = new Map();
    for (const k of this.keys) if (k.kind === 'categorical') this.index.set(k.key, new Map(k.values.map((v, i) => [v, i])));
  }

  /** Learns the columns from `rows` (an empty list gives an encoder with only the unknown-id column). */
  static fit(rows: readonly UserRow[], opts: Partial<UserEncoderOptions> = {}): UserFeatureEncoder {
    const o = { ...DEFAULT_USER_ENCODER_OPTIONS, ...opts };
    const stats = new Map<string, { rows: number; numbers: number[]; nonNumeric: boolean; counts: Map<string, number> }>();
    for (const row of rows) {
      if (!row.demographics) continue;
      for (const [key, raw] of Object.entries(row.demographics)) {
        const vals = scalars(raw);
        if (vals.length === 0) continue;
        let s = stats.get(key);
        if (!s) {
          s = { rows: 0, numbers: [], nonNumeric: false, counts: new Map() };
          stats.set(key, s);
        }
        s.rows++;
        for (const v of vals) {
          if (typeof v === 'number' && Number.isFinite(v) && !Array.isArray(raw)) s.numbers.push(v);
          else s.nonNumeric = true;
          const text = String(v);
          s.counts.set(text, (s.counts.get(text) ?? 0) + 1);
        }
      }
    }
    const keys: UserKeySpec[] = [];
    let col = 0;
    for (const key of [...stats.keys()].sort(compareStrings)) {
      const s = stats.get(key)!;
      if (!s.nonNumeric && s.numbers.length > 0) {
        const edges = Array.from(PriceBuckets.fit(s.numbers, o.numericBuckets).edges);
        keys.push({ key, kind: 'numeric', edges, offset: col, unknownColumn: col + edges.length + 1 });
        col += edges.length + 2;
        continue;
      }
      const distinct = s.counts.size;
      if (distinct > 1 && distinct > o.maxDistinctRatio * s.rows) continue;
      const values = [...s.counts.entries()].filter(([, c]) => c >= o.minCount).map(([v]) => v).sort(compareStrings);
      if (values.length === 0) continue;
      keys.push({ key, kind: 'categorical', values, offset: col, unknownColumn: col + values.length });
      col += values.length + 1;
    }
    return new UserFeatureEncoder({ keys, nColumns: col + 1, unknownIdColumn: col });
  }

  /** Column names, for inspection ("gender=F", "age:2", "occupation:?", "id:?"). */
  columnName(column: number): string {
    if (column === this.unknownIdColumn) return 'id:?';
    for (const k of this.keys) {
      if (column === k.unknownColumn) return `${k.key}:?`;
      if (k.kind === 'categorical' && column >= k.offset && column < k.offset + k.values.length) return `${k.key}=${k.values[column - k.offset]}`;
      if (k.kind === 'numeric' && column >= k.offset && column <= k.offset + k.edges.length) return `${k.key}:${column - k.offset}`;
    }
    return `column:${column}`;
  }

  /** Bags for `rows` (null = no users-table row). */
  encode(rows: ReadonlyArray<UserRow | null>): Bags {
    const out = new BagBuilder(rows.length, rows.length * (this.keys.length + 1));
    const cols: number[] = [];
    for (let r = 0; r < rows.length; r++) {
      const demo = rows[r]?.demographics ?? null;
      for (const k of this.keys) {
        cols.length = 0;
        const vals = demo ? scalars(demo[k.key]) : [];
        if (k.kind === 'numeric') {
          const v = vals.length === 1 && typeof vals[0] === 'number' && Number.isFinite(vals[0]) ? vals[0] : null;
          if (v !== null) cols.push(k.offset + bucketOf(k.edges, v));
        } else {
          const index = this.index.get(k.key)!;
          for (const v of vals) {
            const c = index.get(String(v));
            if (c !== undefined && !cols.includes(k.offset + c)) cols.push(k.offset + c);
          }
        }
        if (cols.length === 0) out.push(k.unknownColumn, 1);
        else {
          cols.sort((a, b) => a - b);
          for (const c of cols) out.push(c, 1);
        }
      }
      out.endRow();
    }
    return out.build();
  }

  state(): UserEncoderState {
    return { keys: this.keys, nColumns: this.nColumns, unknownIdColumn: this.unknownIdColumn };
  }
}

/** Number of edges ≤ v (the bucket index, 0 .. edges.length). */
function bucketOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
