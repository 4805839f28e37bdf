/**
 * The synthetic implicit-feedback matrix of ../shared/research/baselines.md, generated straight
 * into CSR (no coordinate arrays, so the generator's own memory stays small): user activity
 * ~ rank^-0.5, item popularity ~ rank^-0.8, `communities` hidden groups (each user draws half of
 * its items from its community, popularity-weighted inside it), value 1 per distinct pair.
 */
import { IdMap, InteractionMatrix } from '../src/core/data/matrix.js';
import { Rng } from '../src/core/rng.js';

export interface SynthSpec {
  users: number;
  items: number;
  pairs: number;
  communities: number;
  seed: number;
}

function cdf(weights: Float64Array): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i];
    out[i] = s;
  }
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return out;
}

function draw(c: Float64Array, u: number): number {
  let lo = 0;
  let hi = c.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function synthInteractions(spec: SynthSpec): InteractionMatrix {
  const { users, items, pairs, communities } = spec;
  const rng = new Rng(spec.seed);
  // Item popularity by a random item order; communities as a random partition of the items.
  const itemRank = rng.shuffle(Int32Array.from({ length: items }, (_, i) => i));
  const pop = new Float64Array(items);
  for (let r = 0; r < items; r++) pop[itemRank[r]] = Math.pow(r + 1, -0.8);
  const globalCdf = cdf(pop);
  const communityOf = new Int32Array(items);
  for (let i = 0; i < items; i++) communityOf[i] = rng.int(communities);
  const members: Int32Array[] = [];
  const communityCdf: Float64Array[] = [];
  for (let c = 0; c < communities; c++) {
    const m: number[] = [];
    for (let i = 0; i < items; i++) if (communityOf[i] === c) m.push(i);
    members.push(Int32Array.from(m));
    communityCdf.push(cdf(Float64Array.from(m, (i) => pop[i])));
  }
  // Activity ~ rank^-0.5 scaled to `pairs` distinct pairs in total (each user at least 1, at most items/2).
  const userRank = rng.shuffle(Int32Array.from({ length: users }, (_, i) => i));
  const raw = new Float64Array(users);
  let total = 0;
  for (let r = 0; r < users; r++) total += Math.pow(r + 1, -0.5);
  const cap = Math.floor(items / 2);
  const counts = new Int32Array(users);
  let assigned = 0;
  for (let r = 0; r < users; r++) {
    raw[r] = (pairs * Math.pow(r + 1, -0.5)) / total;
    const n = Math.min(cap, Math.max(1, Math.floor(raw[r])));
    counts[userRank[r]] = n;
    assigned += n;
  }
  // Hand out the rounding remainder one by one from the most active users down.
  for (let r = 0; assigned < pairs; r = (r + 1) % users) {
    const u = userRank[r];
    if (counts[u] < cap) {
      counts[u]++;
      assigned++;
    }
  }
  for (let r = users - 1; assigned > pairs; r--) {
    const u = userRank[r];
    if (counts[u] > 1) {
      counts[u]--;
      assigned--;
    }
  }
  const indptr = new Int32Array(users + 1);
  for (let u = 0; u < users; u++) indptr[u + 1] = indptr[u] + counts[u];
  const indices = new Int32Array(indptr[users]);
  const stamp = new Int32Array(items).fill(-1);
  for (let u = 0; u < users; u++) {
    const community = rng.int(communities);
    const base = indptr[u];
    const n = counts[u];
    let got = 0;
    while (got < n) {
      const fromCommunity = rng.next() < 0.5;
      const i = fromCommunity ? members[community][draw(communityCdf[community], rng.next())] : draw(globalCdf, rng.next());
      if (stamp[i] === u) continue;
      stamp[i] = u;
      indices[base + got++] = i;
    }
    indices.subarray(base, base + n).sort();
  }
  const values = new Float32Array(indices.length).fill(1);
  const userIds = new IdMap(Array.from({ length: users }, (_, u) => `u${u}`));
  const itemIds = new IdMap(Array.from({ length: items }, (_, i) => `i${i}`));
  return new InteractionMatrix({ indptr, indices, values, users: userIds, items: itemIds });
}
