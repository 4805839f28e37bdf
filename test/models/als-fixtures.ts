/** Shared fixtures for the ALS tests: a seeded random matrix and the ml-100k reader. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { Rng } from '../../src/core/rng.js';
import { SHARED_DATASETS } from '../helpers.js';

/** nUsers × nItems with up to maxPerUser distinct items per user (popular items more likely), values 1..5. */
export function randomMatrix(nUsers: number, nItems: number, maxPerUser: number, seed: number): InteractionMatrix {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const n = 1 + rng.int(maxPerUser);
    const seen = new Set<number>();
    for (let j = 0; j < n; j++) {
      // Squaring a uniform skews draws toward low item indexes (a popularity head).
      const i = Math.floor(rng.next() ** 2 * nItems);
      if (seen.has(i)) continue;
      seen.add(i);
      users.push(u);
      items.push(i);
      values.push(1 + rng.int(5));
    }
  }
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: Float32Array.from(values),
    userIds: new IdMap(Array.from({ length: nUsers }, (_, u) => `u${u}`)),
    itemIds: new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`)),
  });
}

/** ml-100k u.data (user \t item \t rating \t time) with ratings as values, ids in first-seen order. */
export function readMovieLens100k(): InteractionMatrix {
  const text = readFileSync(join(SHARED_DATASETS, 'ml-100k/u.data'), 'utf8');
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  const times: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [u, i, r, t] = line.split('\t');
    if (!userIndex.has(u)) userIndex.set(u, userIndex.size);
    if (!itemIndex.has(i)) itemIndex.set(i, itemIndex.size);
    users.push(userIndex.get(u)!);
    items.push(itemIndex.get(i)!);
    values.push(Number(r));
    times.push(Number(t));
  }
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: Float32Array.from(values),
    lastSeen: Float64Array.from(times),
    userIds: new IdMap([...userIndex.keys()]),
    itemIds: new IdMap([...itemIndex.keys()]),
  });
}
