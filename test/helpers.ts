/** Small builders shared by tests. */
import { IdMap, InteractionMatrix } from '../src/core/data/matrix.js';

/** A matrix from rows of item indexes (value 1 unless given): rows[u] = [[item, value?], ...]. */
export function matrixFromRows(rows: Array<Array<number | [number, number]>>, nItems: number): InteractionMatrix {
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  rows.forEach((row, u) => {
    for (const cell of row) {
      const [item, value] = Array.isArray(cell) ? cell : [cell, 1];
      users.push(u);
      items.push(item);
      values.push(value);
    }
  });
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: Float32Array.from(values),
    userIds: new IdMap(rows.map((_, u) => `u${u}`)),
    itemIds: new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`)),
  });
}

export const SHARED_DATASETS = new URL('../../shared/datasets/', import.meta.url).pathname;
