/**
 * Sorted, duplicate-free Int32Array index sets: the exclusion lists of serving (history, live
 * events, `exclude=`, items outside a category) merged in O(n) and probed by binary search,
 * without building a JavaScript Set of up to a whole catalogue per request.
 */

/** Sorted unique copy of `xs`. */
export function sortedUnique(xs: ArrayLike<number>): Int32Array {
  const a = Int32Array.from(xs).sort();
  let w = 0;
  for (let r = 0; r < a.length; r++) if (r === 0 || a[r] !== a[w - 1]) a[w++] = a[r];
  return w === a.length ? a : a.slice(0, w);
}

/** Union of sorted unique arrays (the result is sorted and unique). */
export function unionSorted(parts: readonly Int32Array[]): Int32Array {
  const nonEmpty = parts.filter((p) => p.length > 0);
  if (nonEmpty.length === 0) return new Int32Array(0);
  if (nonEmpty.length === 1) return nonEmpty[0];
  let acc = nonEmpty[0];
  for (let p = 1; p < nonEmpty.length; p++) {
    const b = nonEmpty[p];
    const out = new Int32Array(acc.length + b.length);
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < acc.length || j < b.length) {
      const x = j >= b.length || (i < acc.length && acc[i] <= b[j]) ? acc[i++] : b[j++];
      if (w === 0 || out[w - 1] !== x) out[w++] = x;
    }
    acc = out.subarray(0, w);
  }
  return acc;
}

export function containsSorted(sorted: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** A ReadonlySet view of a sorted unique Int32Array (for RecommendOptions.excludeSets). */
export class SortedIndexSet implements ReadonlySet<number> {
  constructor(readonly sorted: Int32Array) {}

  get size(): number {
    return this.sorted.length;
  }

  has(x: number): boolean {
    return containsSorted(this.sorted, x);
  }

  forEach(fn: (value: number, key: number, set: ReadonlySet<number>) => void, thisArg?: unknown): void {
    for (const x of this.sorted) fn.call(thisArg, x, x, this);
  }

  *entries(): SetIterator<[number, number]> {
    for (const x of this.sorted) yield [x, x];
  }

  keys(): SetIterator<number> {
    return this.values();
  }

  *values(): SetIterator<number> {
    yield* this.sorted;
  }

  [Symbol.iterator](): SetIterator<number> {
    return this.values();
  }
}
