/**
 * The interaction matrix every model trains on: users × items in CSR (rows = users) with the CSC
 * transpose built on demand, plus the external id maps. Values are the aggregated confidence
 * weights of each (user, item) pair (e.g. sum of per-event-type weights, or a rating).
 *
 * Row `u` holds items `indices[indptr[u] .. indptr[u+1])`, sorted ascending, without duplicates.
 * `lastSeen` (optional, seconds since epoch) is the newest timestamp of each pair, aligned with
 * `indices`; temporal splits and the trending model read it.
 */
import { RecsysError } from '../errors.js';

export interface CsrRows {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
}

export interface CsrData extends CsrRows {
  readonly values: Float32Array;
}

export class IdMap {
  readonly ids: readonly string[];
  private readonly index: Map<string, number>;

  constructor(ids: readonly string[]) {
    this.ids = ids;
    this.index = new Map();
    for (let i = 0; i < ids.length; i++) this.index.set(ids[i], i);
    if (this.index.size !== ids.length) {
      throw new RecsysError('RECSYS_ERR_STORE', `id map has duplicate ids (${ids.length} ids, ${this.index.size} distinct)`);
    }
  }

  get size(): number {
    return this.ids.length;
  }

  /** Index of an external id, or -1 when unknown. */
  indexOf(id: string): number {
    return this.index.get(id) ?? -1;
  }

  idOf(index: number): string {
    return this.ids[index];
  }
}

export class InteractionMatrix implements CsrData {
  readonly nUsers: number;
  readonly nItems: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly lastSeen: Float64Array | null;
  readonly users: IdMap;
  readonly items: IdMap;
  private cscCache: (CsrData & { lastSeen: Float64Array | null }) | null = null;

  constructor(init: {
    indptr: Int32Array;
    indices: Int32Array;
    values: Float32Array;
    lastSeen?: Float64Array | null;
    users: IdMap;
    items: IdMap;
  }) {
    this.indptr = init.indptr;
    this.indices = init.indices;
    this.values = init.values;
    this.lastSeen = init.lastSeen ?? null;
    this.users = init.users;
    this.items = init.items;
    this.nUsers = init.users.size;
    this.nItems = init.items.size;
    if (this.indptr.length !== this.nUsers + 1) {
      throw new RecsysError('RECSYS_ERR_STORE', `indptr has length ${this.indptr.length}, expected nUsers+1 = ${this.nUsers + 1}`);
    }
    const nnz = this.indptr[this.nUsers];
    if (this.indices.length !== nnz || this.values.length !== nnz || (this.lastSeen && this.lastSeen.length !== nnz)) {
      throw new RecsysError('RECSYS_ERR_STORE', `CSR arrays disagree: indptr says ${nnz} entries, indices ${this.indices.length}, values ${this.values.length}`);
    }
  }

  get nnz(): number {
    return this.indptr[this.nUsers];
  }

  /** Bytes held by the CSR arrays (not the id maps). */
  get byteSize(): number {
    return this.indptr.byteLength + this.indices.byteLength + this.values.byteLength + (this.lastSeen?.byteLength ?? 0);
  }

  rowItems(user: number): Int32Array {
    return this.indices.subarray(this.indptr[user], this.indptr[user + 1]);
  }

  rowValues(user: number): Float32Array {
    return this.values.subarray(this.indptr[user], this.indptr[user + 1]);
  }

  rowLength(user: number): number {
    return this.indptr[user + 1] - this.indptr[user];
  }

  /** Items × users (CSC of this matrix), built once by a counting sort: O(nnz). */
  csc(): CsrData & { lastSeen: Float64Array | null } {
    if (this.cscCache) return this.cscCache;
    const t = transposeCsr(this, this.nItems, this.lastSeen);
    this.cscCache = t;
    return t;
  }

  /** Number of interactions per item. */
  itemCounts(): Int32Array {
    const counts = new Int32Array(this.nItems);
    for (let p = 0; p < this.indices.length; p++) counts[this.indices[p]]++;
    return counts;
  }

  /**
   * Build from coordinate triples. Duplicate (user, item) pairs are summed (their lastSeen is the max).
   * `users`/`items` are row/column indexes into the given id maps.
   */
  static fromCoo(init: {
    users: Int32Array;
    items: Int32Array;
    values: Float32Array;
    lastSeen?: Float64Array | null;
    userIds: IdMap;
    itemIds: IdMap;
  }): InteractionMatrix {
    const { users, items, values, userIds, itemIds } = init;
    const ts = init.lastSeen ?? null;
    const nUsers = userIds.size;
    const n = users.length;
    if (items.length !== n || values.length !== n || (ts && ts.length !== n)) {
      throw new RecsysError('RECSYS_ERR_STORE', 'coordinate arrays must have equal lengths');
    }
    // Counting sort by user, then sort each row by item and merge duplicates.
    const rowCounts = new Int32Array(nUsers + 1);
    for (let i = 0; i < n; i++) {
      const u = users[i];
      if (u < 0 || u >= nUsers) throw new RecsysError('RECSYS_ERR_STORE', `user index ${u} out of range [0, ${nUsers})`);
      const it = items[i];
      if (it < 0 || it >= itemIds.size) throw new RecsysError('RECSYS_ERR_STORE', `item index ${it} out of range [0, ${itemIds.size})`);
      rowCounts[u + 1]++;
    }
    for (let u = 0; u < nUsers; u++) rowCounts[u + 1] += rowCounts[u];
    const cursor = rowCounts.slice(0, nUsers);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[cursor[users[i]]++] = i;

    const indptr = new Int32Array(nUsers + 1);
    const outItems = new Int32Array(n);
    const outValues = new Float32Array(n);
    const outTs = ts ? new Float64Array(n) : null;
    let w = 0;
    let scratch = new Int32Array(16);
    for (let u = 0; u < nUsers; u++) {
      const start = rowCounts[u];
      const end = rowCounts[u + 1];
      const len = end - start;
      if (scratch.length < len) scratch = new Int32Array(len * 2);
      const row = scratch.subarray(0, len);
      row.set(order.subarray(start, end));
      let sorted = true;
      for (let j = 1; j < len && sorted; j++) if (items[row[j - 1]] > items[row[j]]) sorted = false;
      if (!sorted) {
        const tmp = Array.from(row).sort((a, b) => items[a] - items[b] || a - b);
        row.set(tmp);
      }
      for (let j = 0; j < len; j++) {
        const src = row[j];
        if (w > indptr[u] && outItems[w - 1] === items[src]) {
          outValues[w - 1] += values[src];
          if (outTs && ts![src] > outTs[w - 1]) outTs[w - 1] = ts![src];
        } else {
          outItems[w] = items[src];
          outValues[w] = values[src];
          if (outTs) outTs[w] = ts![src];
          w++;
        }
      }
      indptr[u + 1] = w;
    }
    return new InteractionMatrix({
      indptr,
      indices: w === n ? outItems : outItems.slice(0, w),
      values: w === n ? outValues : outValues.slice(0, w),
      lastSeen: outTs ? (w === n ? outTs : outTs.slice(0, w)) : null,
      users: userIds,
      items: itemIds,
    });
  }

  /** A matrix with the same id maps holding only the selected entries (mask over nnz positions). */
  select(keep: Uint8Array): InteractionMatrix {
    if (keep.length !== this.nnz) throw new RecsysError('RECSYS_ERR_STORE', 'selection mask length must equal nnz');
    let count = 0;
    for (let p = 0; p < keep.length; p++) count += keep[p] ? 1 : 0;
    const indptr = new Int32Array(this.nUsers + 1);
    const indices = new Int32Array(count);
    const values = new Float32Array(count);
    const lastSeen = this.lastSeen ? new Float64Array(count) : null;
    let w = 0;
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.indptr[u]; p < this.indptr[u + 1]; p++) {
        if (!keep[p]) continue;
        indices[w] = this.indices[p];
        values[w] = this.values[p];
        if (lastSeen) lastSeen[w] = this.lastSeen![p];
        w++;
      }
      indptr[u + 1] = w;
    }
    return new InteractionMatrix({ indptr, indices, values, lastSeen, users: this.users, items: this.items });
  }
}

/** Transpose of a CSR block with `nCols` columns (counting sort; columns of the result are sorted). */
export function transposeCsr(m: CsrData, nCols: number, lastSeen: Float64Array | null = null): CsrData & { lastSeen: Float64Array | null } {
  const nRows = m.indptr.length - 1;
  const nnz = m.indptr[nRows];
  const indptr = new Int32Array(nCols + 1);
  for (let p = 0; p < nnz; p++) indptr[m.indices[p] + 1]++;
  for (let c = 0; c < nCols; c++) indptr[c + 1] += indptr[c];
  const cursor = indptr.slice(0, nCols);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const ts = lastSeen ? new Float64Array(nnz) : null;
  for (let r = 0; r < nRows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      const dst = cursor[m.indices[p]]++;
      indices[dst] = r;
      values[dst] = m.values[p];
      if (ts) ts[dst] = lastSeen![p];
    }
  }
  return { indptr, indices, values, lastSeen: ts };
}
