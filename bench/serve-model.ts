/**
 * The serving benchmark's synthetic models, shared by bench/serve.ts and the server child process
 * (bench/serve-server.ts): both build the same seeded model, so lists precomputed by the parent are
 * the ones the child's model version serves.
 */
import { IdMap } from '../src/core/data/matrix.js';
import { AlsModel } from '../src/core/models/als/als.js';
import { Rng } from '../src/core/rng.js';
import { ServingModel } from '../src/core/serving/model.js';

export const FACTORS = 64;
export const HISTORY = 20;
export const REQUEST_USERS = 1000;

/**
 * Seeded synthetic ALS model: N(0, 1/√k) user factors; item factors N(0, 1/√k), or (clusters > 0)
 * around that many N(0, 1/√k) centres with noise of half that spread — the grouped shape trained
 * item factors have (the IVF index relies on it); HISTORY random training items per user.
 */
export function syntheticModel(nUsers: number, nItems: number, seed: number, version: string, clusters = 0): ServingModel {
  const rng = new Rng(seed);
  const scale = 1 / Math.sqrt(FACTORS);
  const userFactors = new Float32Array(nUsers * FACTORS);
  const itemFactors = new Float32Array(nItems * FACTORS);
  for (let j = 0; j < userFactors.length; j++) userFactors[j] = rng.normal() * scale;
  if (clusters > 0) {
    const centres = Float32Array.from({ length: clusters * FACTORS }, () => rng.normal() * scale);
    for (let i = 0; i < nItems; i++) {
      const c = rng.int(clusters) * FACTORS;
      for (let d = 0; d < FACTORS; d++) itemFactors[i * FACTORS + d] = centres[c + d] + 0.5 * scale * rng.normal();
    }
  } else {
    for (let j = 0; j < itemFactors.length; j++) itemFactors[j] = rng.normal() * scale;
  }
  const indptr = new Int32Array(nUsers + 1);
  const indices = new Int32Array(nUsers * HISTORY);
  for (let u = 0; u < nUsers; u++) {
    const row = new Set<number>();
    while (row.size < HISTORY) row.add(rng.int(nItems));
    indices.set([...row].sort((a, b) => a - b), u * HISTORY);
    indptr[u + 1] = (u + 1) * HISTORY;
  }
  const userIds = new IdMap(Array.from({ length: nUsers }, (_, u) => `u${u}`));
  const itemIds = new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`));
  const recommender = AlsModel.fromFactors({ userIds, itemIds, userFactors, itemFactors, params: { alpha: 1, regularization: 0.05 } });
  return new ServingModel({ recommender, history: { indptr, indices, values: new Float32Array(indices.length).fill(1) }, version });
}

/** The benchmark's models by name: the same seeds and versions wherever they are built. */
export const MODELS = {
  '20k': (users: number) => syntheticModel(users, 20000, 2026, 'bench-20k'),
  '1m': () => syntheticModel(10000, 1000000, 2027, 'bench-1m', 1000),
} as const;

export function userPaths(nUsers: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: REQUEST_USERS }, () => `/v1/users/u${rng.int(nUsers)}/recommendations?k=10`);
}
