/**
 * Non-text product features, each learned on the catalogue and then applied to any row:
 *
 *  - `CategoricalEncoder`: one-hot over the values seen at least `minCount` times (sorted, so the
 *    columns do not depend on row order); unknown or missing values encode to nothing.
 *  - `PriceBuckets`: quantile buckets. With the finite catalogue prices sorted ascending as
 *    s[0..n), the candidate edges are s[⌊j·n/B⌋] for j = 1..B−1, de-duplicated; a price's bucket is
 *    the number of edges ≤ price (0 .. edges), so each bucket holds about n/B products and a price
 *    equal to an edge starts the upper bucket. One-hot on the bucket, optionally with
 *    `neighbourWeight` on the two adjacent buckets so that €19.99 and €20.01 are not unrelated.
 *  - `AttributeEncoder`: arbitrary JSON attributes (the products' `features` column). Nested
 *    objects are flattened to dotted keys (depth ≤ 3). Per key: when every non-null scalar value is a
 *    number the key is numeric and encodes to one column, the z-score (x − mean)/std clipped to
 *    [−3, 3] (missing = 0 = the mean; constant keys are dropped); otherwise it is categorical and
 *    each value (strings, booleans, numbers as text, and every element of an array: multi-hot)
 *    is a "key=value" column. Categorical values seen fewer than `minCount` times are dropped, and
 *    so are scalar keys that look like identifiers (more distinct values than `maxDistinctRatio` ×
 *    the rows having the key, e.g. URLs; array keys such as tags are exempt).
 */
import { RecsysError } from '../errors.js';

/** Code-unit order: deterministic and locale-independent. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Categorical
// ---------------------------------------------------------------------------------------------

export class CategoricalEncoder {
  readonly values: readonly string[];
  private readonly index: Map<string, number>;

  constructor(values: readonly string[]) {
    this.values = values;
    this.index = new Map();
    for (let i = 0; i < values.length; i++) this.index.set(values[i], i);
  }

  get size(): number {
    return this.values.length;
  }

  static fit(values: Iterable<string | null | undefined>, minCount = 1): CategoricalEncoder {
    const counts = new Map<string, number>();
    for (const v of values) if (v !== null && v !== undefined && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
    const kept = [...counts.entries()].filter(([, c]) => c >= minCount).map(([v]) => v);
    kept.sort(compareStrings);
    return new CategoricalEncoder(kept);
  }

  /** Column of a value, or -1 when missing or unseen. */
  encode(value: string | null | undefined): number {
    if (value === null || value === undefined) return -1;
    return this.index.get(value) ?? -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Price buckets
// ---------------------------------------------------------------------------------------------

export class PriceBuckets {
  /** Ascending distinct bucket edges; there are edges.length + 1 buckets. */
  readonly edges: Float64Array;

  constructor(edges: Float64Array) {
    this.edges = edges;
  }

  get buckets(): number {
    return this.edges.length + 1;
  }

  static fit(prices: Iterable<number | null | undefined>, nBuckets: number): PriceBuckets {
    if (!Number.isInteger(nBuckets) || nBuckets < 1) {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `price buckets must be an integer ≥ 1 (got ${nBuckets})`, { param: 'priceBuckets' });
    }
    const finite: number[] = [];
    for (const p of prices) if (typeof p === 'number' && Number.isFinite(p)) finite.push(p);
    if (finite.length === 0) return new PriceBuckets(new Float64Array(0));
    const sorted = Float64Array.from(finite).sort();
    const n = sorted.length;
    const edges: number[] = [];
    for (let j = 1; j < nBuckets; j++) {
      const e = sorted[Math.floor((j * n) / nBuckets)];
      // An edge equal to the minimum would leave bucket 0 empty.
      if (e > sorted[0] && (edges.length === 0 || e > edges[edges.length - 1])) edges.push(e);
    }
    return new PriceBuckets(Float64Array.from(edges));
  }

  /** Bucket of a price (0 .. edges.length), or -1 for a missing / non-finite price. */
  bucket(price: number | null | undefined): number {
    if (typeof price !== 'number' || !Number.isFinite(price)) return -1;
    const e = this.edges;
    // Upper bound: the number of edges ≤ price.
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid] <= price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON attributes
// ---------------------------------------------------------------------------------------------

export interface AttributeOptions {
  /** Fewest rows a categorical value must appear in (default 2). */
  minCount: number;
  /** A scalar categorical key with more distinct values than this share of its rows is dropped (default 0.5). */
  maxDistinctRatio: number;
  /** Only these keys (dotted paths); empty = all. */
  include: readonly string[];
  /** Never these keys (dotted paths). */
  exclude: readonly string[];
}

export const DEFAULT_ATTRIBUTE_OPTIONS: Readonly<AttributeOptions> = Object.freeze({
  minCount: 2,
  maxDistinctRatio: 0.5,
  include: [],
  exclude: [],
});

/** The learned columns, JSON-serialisable (stored in the model manifest). */
export interface AttributeSpec {
  /** Categorical columns: key → its kept values, in column order. */
  categorical: Array<{ key: string; values: string[] }>;
  numeric: Array<{ key: string; mean: number; std: number }>;
}

const MAX_DEPTH = 3;
const Z_CLIP = 3;

type Scalar = string | number | boolean;

/** Calls `visit(key, value)` for each scalar (or array element) of a flattened attribute object. */
function walk(obj: Record<string, unknown>, visit: (key: string, value: Scalar, inArray: boolean) => void, prefix = '', depth = 1): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) {
      for (const el of v) if (typeof el === 'string' || typeof el === 'number' || typeof el === 'boolean') visit(key, el, true);
    } else if (typeof v === 'object') {
      if (depth < MAX_DEPTH) walk(v as Record<string, unknown>, visit, key, depth + 1);
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      visit(key, v, false);
    }
  }
}

function valueText(v: Scalar): string {
  return typeof v === 'string' ? v : String(v);
}

export class AttributeEncoder {
  readonly spec: AttributeSpec;
  /** Total columns: all categorical values, then one per numeric key. */
  readonly size: number;
  private readonly categoricalOffset = new Map<string, { offset: number; index: Map<string, number> }>();
  private readonly numericColumn = new Map<string, { column: number; mean: number; std: number }>();

  constructor(spec: AttributeSpec) {
    this.spec = spec;
    let offset = 0;
    for (const { key, values } of spec.categorical) {
      const index = new Map<string, number>();
      values.forEach((v, i) => index.set(v, i));
      this.categoricalOffset.set(key, { offset, index });
      offset += values.length;
    }
    for (const { key, mean, std } of spec.numeric) this.numericColumn.set(key, { column: offset++, mean, std });
    this.size = offset;
  }

  /** Column names ("genres=Comedy", "weight_kg"), for inspection. */
  columnNames(): string[] {
    const names: string[] = [];
    for (const { key, values } of this.spec.categorical) for (const v of values) names.push(`${key}=${v}`);
    for (const { key } of this.spec.numeric) names.push(key);
    return names;
  }

  static fit(rows: Iterable<Record<string, unknown> | null | undefined>, opts: Partial<AttributeOptions> = {}): AttributeEncoder {
    const o: AttributeOptions = { ...DEFAULT_ATTRIBUTE_OPTIONS, ...opts };
    const include = new Set(o.include);
    const exclude = new Set(o.exclude);
    const allowed = (key: string): boolean => !exclude.has(key) && (include.size === 0 || include.has(key));
    interface KeyStats {
      rows: number;
      nonNumeric: boolean;
      values: Map<string, number>;
      sum: number;
      sumSq: number;
      count: number;
      /** Seen as an array (tags, genres): many distinct values are normal there. */
      array: boolean;
    }
    const stats = new Map<string, KeyStats>();
    let rowNo = 0;
    const seenInRow = new Map<string, number>();
    for (const row of rows) {
      rowNo++;
      if (!row) continue;
      walk(row, (key, value, inArray) => {
        if (!allowed(key)) return;
        let s = stats.get(key);
        if (!s) {
          s = { rows: 0, nonNumeric: false, values: new Map(), sum: 0, sumSq: 0, count: 0, array: false };
          stats.set(key, s);
        }
        // Count a key once per row, and a categorical value once per row (multi-hot).
        if (seenInRow.get(key) !== rowNo) {
          seenInRow.set(key, rowNo);
          s.rows++;
        }
        if (inArray) s.array = true;
        if (typeof value === 'number' && !inArray && Number.isFinite(value)) {
          s.sum += value;
          s.sumSq += value * value;
          s.count++;
        } else {
          s.nonNumeric = true;
        }
        const text = valueText(value);
        const marker = `${key}\u0000${text}`;
        if (seenInRow.get(marker) !== rowNo) {
          seenInRow.set(marker, rowNo);
          s.values.set(text, (s.values.get(text) ?? 0) + 1);
        }
      });
      seenInRow.clear();
    }
    const categorical: AttributeSpec['categorical'] = [];
    const numeric: AttributeSpec['numeric'] = [];
    for (const key of [...stats.keys()].sort(compareStrings)) {
      const s = stats.get(key)!;
      if (!s.nonNumeric && s.count > 0) {
        const mean = s.sum / s.count;
        const variance = Math.max(0, s.sumSq / s.count - mean * mean);
        const std = Math.sqrt(variance);
        if (std > 1e-12 * Math.max(1, Math.abs(mean))) numeric.push({ key, mean, std });
        continue;
      }
      if (!s.array && s.values.size > o.maxDistinctRatio * s.rows) continue;
      const values = [...s.values.entries()].filter(([, c]) => c >= o.minCount).map(([v]) => v).sort(compareStrings);
      if (values.length > 0) categorical.push({ key, values });
    }
    return new AttributeEncoder({ categorical, numeric });
  }

  /**
   * Encodes one attribute object into (column, value) pairs, appended to `cols`/`vals`
   * (unsorted; duplicates of one multi-hot value are written once).
   */
  encodeInto(row: Record<string, unknown> | null | undefined, cols: number[], vals: number[]): void {
    if (!row || this.size === 0) return;
    const start = cols.length;
    walk(row, (key, value, inArray) => {
      const num = this.numericColumn.get(key);
      if (num) {
        if (typeof value === 'number' && !inArray && Number.isFinite(value)) {
          const z = Math.max(-Z_CLIP, Math.min(Z_CLIP, (value - num.mean) / num.std));
          if (z !== 0) {
            cols.push(num.column);
            vals.push(z);
          }
        }
        return;
      }
      const cat = this.categoricalOffset.get(key);
      if (!cat) return;
      const i = cat.index.get(valueText(value));
      if (i === undefined) return;
      const c = cat.offset + i;
      for (let j = start; j < cols.length; j++) if (cols[j] === c) return;
      cols.push(c);
      vals.push(1);
    });
  }
}
