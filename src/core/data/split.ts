/**
 * Train/test splits of an InteractionMatrix (the unit is the (user, item) pair, so a pair is never
 * in both sides). Four methods, all pure typed-array passes over the CSR:
 *
 * - `random`: per user with n ≥ minInteractions pairs, max(1, floor(testFraction·n)) pairs drawn
 *   uniformly without replacement go to test (the holdout of research/baselines.md; floor is the
 *   plain float product, as Python's int(f·n) computes it).
 * - `temporal`: one global cut time; pairs whose lastSeen ≥ cut go to test. Without `cutTime` the
 *   cut is the (1−testFraction) quantile of the pairs' lastSeen.
 * - `leave-last-out`: per user with more than k pairs, the k most recent pairs go to test.
 * - `strong`: strong generalization (Liang et al. 2018, "Variational Autoencoders for Collaborative
 *   Filtering", §4.1): a seeded set of held-out users is removed from train; each held-out user's
 *   pairs are split into fold-in (shown to the model at prediction time) and test.
 *
 * Determinism. Random choices are counter-based rather than drawn from a stream: the random key of a
 * pair is a hash of (seed, user external id, item external id), and a user takes its t smallest keys.
 * Sorting n i.i.d. uniform keys is a uniform random permutation, so this is uniform sampling without
 * replacement; and since a key depends only on the seed and the two external ids, a user's split
 * depends only on (seed, user id, that user's item ids). Adding unrelated users or items, or
 * re-ordering the id maps, leaves everyone else's split unchanged — which an Rng stream walked in
 * row order would not guarantee (row order is item-index order, which depends on the id map).
 * Held-out users of `strong` are chosen the same way, by ranking a hash of (seed, user id).
 *
 * The split's fingerprint is sha256 over its config, id maps and the train/test/fold-in CSR arrays
 * (indptr, indices, values, lastSeen): train and eval check they see the same split.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { canonicalJson, loadArtifact, saveArtifact, type Tensor } from '../artifacts.js';
import { RecsysError } from '../errors.js';
import { InteractionMatrix } from './matrix.js';
import type { Split, SplitConfig } from './split-types.js';

export type { Split, SplitConfig } from './split-types.js';

export const DEFAULT_SPLIT_SEED = 42;
export const DEFAULT_TEST_FRACTION = 0.2;
export const DEFAULT_MIN_INTERACTIONS = 2;
export const DEFAULT_HELD_OUT_USERS = 0.1;
export const DEFAULT_FOLD_IN_FRACTION = 0.8;

// Salts keep the different random choices of one seed independent of each other.
const SALT_RANDOM_PAIRS = 0x52414e44; // 'RAND'
const SALT_STRONG_USERS = 0x55534552; // 'USER'
const SALT_STRONG_PAIRS = 0x464f4c44; // 'FOLD'
const ITEM_HASH_SEED_A = 0x9747b28c;
const ITEM_HASH_SEED_B = 0x5bd1e995;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function usage(message: string, flag: string): RecsysError {
  return new RecsysError('RECSYS_ERR_USAGE', message, { flag });
}

function checkFraction(value: unknown, flag: string, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw usage(`${flag} must be a fraction strictly between 0 and 1 (${what}); got ${String(value)}`, flag);
  }
  return value;
}

function checkSeed(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw usage(`--seed must be a non-negative integer; got ${String(value)}`, '--seed');
  }
  return value;
}

/**
 * Checks a config and returns it normalized (defaults filled, no undefined fields), so that its
 * canonical JSON — part of the fingerprint — does not depend on how it was written.
 */
export function validateSplitConfig(config: SplitConfig): SplitConfig {
  const method = (config as { method?: unknown }).method;
  switch (config.method) {
    case 'random': {
      const minInteractions = config.minInteractions ?? DEFAULT_MIN_INTERACTIONS;
      if (!Number.isInteger(minInteractions) || minInteractions < 1) {
        throw usage(`--min-interactions must be an integer ≥ 1; got ${String(minInteractions)}`, '--min-interactions');
      }
      return {
        method: 'random',
        testFraction: checkFraction(config.testFraction, '--test-fraction', 'share of each user\'s pairs that go to test, e.g. 0.2'),
        seed: checkSeed(config.seed ?? DEFAULT_SPLIT_SEED),
        minInteractions,
      };
    }
    case 'temporal': {
      const out: { method: 'temporal'; cutTime?: number; testFraction?: number } = { method: 'temporal' };
      if (config.cutTime !== undefined) {
        if (typeof config.cutTime !== 'number' || !Number.isFinite(config.cutTime)) {
          throw usage(`--cut must be a time (seconds since epoch or an ISO date); got ${String(config.cutTime)}`, '--cut');
        }
        out.cutTime = config.cutTime;
      }
      if (config.testFraction !== undefined) {
        out.testFraction = checkFraction(config.testFraction, '--test-fraction', 'share of the newest pairs that go to test, e.g. 0.2');
      }
      if (out.cutTime === undefined && out.testFraction === undefined) {
        throw usage('a temporal split needs a cut time (--cut 2024-01-01) or a test fraction (--test-fraction 0.2)', '--test-fraction');
      }
      return out;
    }
    case 'leave-last-out': {
      if (!Number.isInteger(config.k) || config.k < 1) {
        throw usage(`--leave-out must be an integer ≥ 1 (how many of each user's most recent pairs go to test); got ${String(config.k)}`, '--leave-out');
      }
      return { method: 'leave-last-out', k: config.k };
    }
    case 'strong': {
      const h = config.heldOutUsers;
      if (typeof h !== 'number' || !Number.isFinite(h) || h <= 0 || (h >= 1 && !Number.isInteger(h))) {
        throw usage(`--held-out-users must be a fraction in (0, 1) of the users or a whole number of users ≥ 1; got ${String(h)}`, '--held-out-users');
      }
      return {
        method: 'strong',
        heldOutUsers: h,
        foldInFraction: checkFraction(config.foldInFraction, '--fold-in', 'share of each held-out user\'s pairs shown to the model, e.g. 0.8'),
        seed: checkSeed(config.seed ?? DEFAULT_SPLIT_SEED),
      };
    }
    default:
      throw usage(`unknown split method ${JSON.stringify(method)}; use one of random, temporal, leave-last-out, strong`, '--split');
  }
}

// ---------------------------------------------------------------------------------------------
// Hashing (counter-based randomness)
// ---------------------------------------------------------------------------------------------

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3-style 32-bit hash of a string's UTF-16 code units. */
function hashString(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ s.length);
}

/** Two 32-bit words derived from (seed, salt); a seed may be any safe integer. */
function seedWords(seed: number, salt: number): [number, number] {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const a = fmix32(lo ^ fmix32(hi ^ salt));
  const b = fmix32(a ^ 0x27d4eb2f ^ fmix32(hi + salt));
  return [a, b];
}

/** Combines two 32-bit words into an integer in [0, 2^53): exact as a double, so keys compare exactly. */
function key53(a: number, b: number): number {
  return (a >>> 5) * 67108864 + (b >>> 6);
}

/** Per-item hash words from external ids, computed once per split. */
function itemHashes(ids: readonly string[]): { a: Uint32Array; b: Uint32Array } {
  const a = new Uint32Array(ids.length);
  const b = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    a[i] = hashString(ids[i], ITEM_HASH_SEED_A);
    b[i] = hashString(ids[i], ITEM_HASH_SEED_B);
  }
  return { a, b };
}

/**
 * Fills keys[p - start] for the pairs of user `u`: a 53-bit hash of (seed words, user id, item id).
 */
function pairKeys(
  matrix: InteractionMatrix,
  u: number,
  sa: number,
  sb: number,
  items: { a: Uint32Array; b: Uint32Array },
  keys: Float64Array,
): void {
  const userId = matrix.users.ids[u];
  const ua = hashString(userId, sa);
  const ub = hashString(userId, sb);
  const start = matrix.indptr[u];
  const end = matrix.indptr[u + 1];
  for (let p = start; p < end; p++) {
    const it = matrix.indices[p];
    const x = fmix32(fmix32(items.a[it] ^ ua) + ub);
    const y = fmix32(fmix32(items.b[it] ^ ub) + x);
    keys[p - start] = key53(x, y);
  }
}

// ---------------------------------------------------------------------------------------------
// Selection helpers
// ---------------------------------------------------------------------------------------------

/**
 * Marks in `mask[start + j]` the `t` entries with the smallest keys[j] (j < n). Ties at the threshold
 * go to the lowest j first, or to the highest j first when `tiesFromEnd`. `sorted` is scratch space.
 */
function markSmallest(
  keys: Float64Array,
  n: number,
  t: number,
  sorted: Float64Array,
  mask: Uint8Array,
  start: number,
  tiesFromEnd: boolean,
): void {
  if (t <= 0) return;
  if (t >= n) {
    mask.fill(1, start, start + n);
    return;
  }
  const s = sorted.subarray(0, n);
  s.set(keys.subarray(0, n));
  s.sort();
  const threshold = s[t - 1];
  let count = 0;
  for (let j = 0; j < n; j++) {
    if (keys[j] < threshold) {
      mask[start + j] = 1;
      count++;
    }
  }
  if (tiesFromEnd) {
    for (let j = n - 1; j >= 0 && count < t; j--) {
      if (keys[j] === threshold) {
        mask[start + j] = 1;
        count++;
      }
    }
  } else {
    for (let j = 0; j < n && count < t; j++) {
      if (keys[j] === threshold) {
        mask[start + j] = 1;
        count++;
      }
    }
  }
}

/** The k-th smallest value (0-based) of `a`, which is reordered in place (Hoare quickselect). */
function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[lo];
}

function maxRowLength(matrix: InteractionMatrix): number {
  let m = 0;
  for (let u = 0; u < matrix.nUsers; u++) m = Math.max(m, matrix.indptr[u + 1] - matrix.indptr[u]);
  return m;
}

/** Test count for n pairs at fraction f: max(1, floor(f·n)). */
function testCount(f: number, n: number): number {
  return Math.max(1, Math.floor(f * n));
}

function noTimestamps(method: string): RecsysError {
  return new RecsysError(
    'RECSYS_ERR_SPLIT',
    `this dataset has no timestamps, which a ${method} split needs; use --split random (or ingest with --time-col)`,
    { flag: '--split' },
  );
}

function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : `${d.toISOString()} (${seconds})`;
}

// ---------------------------------------------------------------------------------------------
// The four methods: each returns the test mask (and fold-in / held-out masks for strong)
// ---------------------------------------------------------------------------------------------

function randomMask(matrix: InteractionMatrix, cfg: Extract<SplitConfig, { method: 'random' }>): Uint8Array {
  const test = new Uint8Array(matrix.nnz);
  const items = itemHashes(matrix.items.ids);
  const [sa, sb] = seedWords(cfg.seed, SALT_RANDOM_PAIRS);
  const maxLen = maxRowLength(matrix);
  const keys = new Float64Array(maxLen);
  const sorted = new Float64Array(maxLen);
  for (let u = 0; u < matrix.nUsers; u++) {
    const start = matrix.indptr[u];
    const n = matrix.indptr[u + 1] - start;
    if (n < cfg.minInteractions || n === 0) continue;
    pairKeys(matrix, u, sa, sb, items, keys);
    markSmallest(keys, n, testCount(cfg.testFraction, n), sorted, test, start, false);
  }
  return test;
}

/** Resolves the cut time: given, or the (1−f) quantile of the timestamped pairs' lastSeen. */
function temporalCut(lastSeen: Float64Array, cfg: Extract<SplitConfig, { method: 'temporal' }>): number {
  if (cfg.cutTime !== undefined) return cfg.cutTime;
  // Pairs without a timestamp (NaN) take no part in the quantile and stay in train.
  let n = 0;
  for (let p = 0; p < lastSeen.length; p++) if (!Number.isNaN(lastSeen[p])) n++;
  const copy = new Float64Array(n);
  let w = 0;
  for (let p = 0; p < lastSeen.length; p++) if (!Number.isNaN(lastSeen[p])) copy[w++] = lastSeen[p];
  if (n === 0) throw noTimestamps('temporal');
  const f = cfg.testFraction ?? DEFAULT_TEST_FRACTION;
  const index = Math.min(n - 1, Math.max(0, Math.floor((1 - f) * n)));
  return kthSmallest(copy, index);
}

function temporalMask(matrix: InteractionMatrix, cut: number): Uint8Array {
  const ls = matrix.lastSeen;
  if (!ls) throw noTimestamps('temporal');
  const test = new Uint8Array(matrix.nnz);
  let nTest = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let p = 0; p < ls.length; p++) {
    const t = ls[p];
    if (t >= cut) {
      test[p] = 1;
      nTest++;
    }
    if (t < minTs) minTs = t;
    if (t > maxTs) maxTs = t;
  }
  if (nTest === 0 || nTest === matrix.nnz) {
    throw new RecsysError(
      'RECSYS_ERR_SPLIT',
      `the temporal cut ${formatTime(cut)} puts ${nTest === 0 ? 'no pair in test' : 'every pair in test'}; ` +
        `interactions run from ${formatTime(minTs)} to ${formatTime(maxTs)}: pick a cut inside that range or use --test-fraction`,
      { flag: '--cut', cutTime: cut, minTime: minTs, maxTime: maxTs },
    );
  }
  return test;
}

function leaveLastMask(matrix: InteractionMatrix, k: number): Uint8Array {
  const ls = matrix.lastSeen;
  if (!ls) throw noTimestamps('leave-last-out');
  const test = new Uint8Array(matrix.nnz);
  const maxLen = maxRowLength(matrix);
  const keys = new Float64Array(maxLen);
  const sorted = new Float64Array(maxLen);
  for (let u = 0; u < matrix.nUsers; u++) {
    const start = matrix.indptr[u];
    const n = matrix.indptr[u + 1] - start;
    if (n <= k) continue;
    // Most recent = smallest −lastSeen; a missing timestamp counts as oldest. Ties at the same
    // second go to the larger item index (the later entry of the row).
    for (let j = 0; j < n; j++) {
      const t = ls[start + j];
      keys[j] = Number.isNaN(t) ? Infinity : -t;
    }
    markSmallest(keys, n, k, sorted, test, start, true);
  }
  return test;
}

interface StrongMasks {
  train: Uint8Array;
  foldIn: Uint8Array;
  test: Uint8Array;
}

function strongMasks(matrix: InteractionMatrix, cfg: Extract<SplitConfig, { method: 'strong' }>): StrongMasks {
  // Only users with ≥ 2 pairs can be held out: each needs at least one fold-in and one test pair.
  let nEligible = 0;
  for (let u = 0; u < matrix.nUsers; u++) if (matrix.indptr[u + 1] - matrix.indptr[u] >= 2) nEligible++;
  const nHeld = cfg.heldOutUsers < 1 ? Math.max(1, Math.round(cfg.heldOutUsers * nEligible)) : cfg.heldOutUsers;
  if (nEligible === 0 || nHeld >= nEligible) {
    throw usage(
      `--held-out-users asks for ${nHeld} held-out users but only ${nEligible} users have ≥ 2 interactions ` +
        `(and some must remain to train on); use a smaller count or a fraction such as 0.1`,
      '--held-out-users',
    );
  }
  // Rank eligible users by a hash of (seed, user id); the nHeld smallest are held out.
  const [ua, ub] = seedWords(cfg.seed, SALT_STRONG_USERS);
  const eligible = new Int32Array(nEligible);
  const userKeys = new Float64Array(nEligible);
  let w = 0;
  for (let u = 0; u < matrix.nUsers; u++) {
    if (matrix.indptr[u + 1] - matrix.indptr[u] < 2) continue;
    const id = matrix.users.ids[u];
    eligible[w] = u;
    userKeys[w] = key53(hashString(id, ua), hashString(id, ub));
    w++;
  }
  const heldMask = new Uint8Array(nEligible);
  markSmallest(userKeys, nEligible, nHeld, new Float64Array(nEligible), heldMask, 0, false);

  const train = new Uint8Array(matrix.nnz).fill(1);
  const foldIn = new Uint8Array(matrix.nnz);
  const test = new Uint8Array(matrix.nnz);
  const items = itemHashes(matrix.items.ids);
  const [pa, pb] = seedWords(cfg.seed, SALT_STRONG_PAIRS);
  const maxLen = maxRowLength(matrix);
  const keys = new Float64Array(maxLen);
  const sorted = new Float64Array(maxLen);
  // 1 − 0.8 is 0.19999999999999996 in floating point, which would floor 0.2·10 to 1: round it.
  const testFraction = Number((1 - cfg.foldInFraction).toPrecision(12));
  for (let e = 0; e < nEligible; e++) {
    if (!heldMask[e]) continue;
    const u = eligible[e];
    const start = matrix.indptr[u];
    const n = matrix.indptr[u + 1] - start;
    train.fill(0, start, start + n);
    pairKeys(matrix, u, pa, pb, items, keys);
    markSmallest(keys, n, testCount(testFraction, n), sorted, test, start, false);
    for (let p = start; p < start + n; p++) foldIn[p] = test[p] ? 0 : 1;
  }
  return { train, foldIn, test };
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Splits `matrix` by `config`. train, test (and foldIn for `strong`) share the matrix's id maps.
 * `config` is the validated config as given (so a re-run of the same spec compares equal); a
 * temporal split also reports the cut it used in `cutTime` (resolved from testFraction if absent).
 * Throws RecsysError RECSYS_ERR_USAGE for a bad config (naming the flag) and RECSYS_ERR_SPLIT when
 * the data cannot be split that way (no timestamps, empty test side).
 */
export function splitMatrix(matrix: InteractionMatrix, config: SplitConfig, datasetFingerprint: string): Split {
  const cfg = validateSplitConfig(config);
  let train: InteractionMatrix;
  let test: InteractionMatrix;
  let foldIn: InteractionMatrix | null = null;
  let cutTime: number | undefined;
  switch (cfg.method) {
    case 'random':
    case 'leave-last-out': {
      const mask = cfg.method === 'random' ? randomMask(matrix, cfg) : leaveLastMask(matrix, cfg.k);
      let nTest = 0;
      for (let p = 0; p < mask.length; p++) nTest += mask[p];
      if (nTest === 0) {
        throw new RecsysError(
          'RECSYS_ERR_SPLIT',
          cfg.method === 'random'
            ? `no user has at least ${cfg.minInteractions} interactions, so the test side would be empty; lower --min-interactions or ingest more data`
            : `no user has more than ${cfg.k} interactions, so the test side would be empty; lower --leave-out`,
          { flag: cfg.method === 'random' ? '--min-interactions' : '--leave-out' },
        );
      }
      test = matrix.select(mask);
      for (let p = 0; p < mask.length; p++) mask[p] ^= 1;
      train = matrix.select(mask);
      break;
    }
    case 'temporal': {
      if (!matrix.lastSeen) throw noTimestamps('temporal');
      const cut = temporalCut(matrix.lastSeen, cfg);
      cutTime = cut;
      const mask = temporalMask(matrix, cut);
      test = matrix.select(mask);
      for (let p = 0; p < mask.length; p++) mask[p] ^= 1;
      train = matrix.select(mask);
      break;
    }
    case 'strong': {
      const m = strongMasks(matrix, cfg);
      train = matrix.select(m.train);
      test = matrix.select(m.test);
      foldIn = matrix.select(m.foldIn);
      break;
    }
  }
  const fingerprint = splitFingerprint(cfg, train, test, foldIn);
  return cutTime === undefined
    ? { config: cfg, train, test, foldIn, fingerprint, datasetFingerprint }
    : { config: cfg, train, test, foldIn, fingerprint, datasetFingerprint, cutTime };
}

function hashTensor(h: ReturnType<typeof createHash>, t: Tensor): void {
  h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
}

/** sha256 (16 hex chars) of the config, the id maps and every CSR array of the split. */
export function splitFingerprint(
  config: SplitConfig,
  train: InteractionMatrix,
  test: InteractionMatrix,
  foldIn: InteractionMatrix | null,
): string {
  const h = createHash('sha256');
  h.update(canonicalJson(config));
  h.update(JSON.stringify(train.users.ids));
  h.update(JSON.stringify(train.items.ids));
  for (const m of foldIn ? [train, test, foldIn] : [train, test]) {
    hashTensor(h, m.indptr);
    hashTensor(h, m.indices);
    hashTensor(h, m.values);
    if (m.lastSeen) hashTensor(h, m.lastSeen);
    else h.update('no-lastSeen');
  }
  return h.digest('hex').slice(0, 16);
}

/** Pair and user counts of a split (for `recsys split --json` and reports). */
export interface SplitStats {
  trainPairs: number;
  testPairs: number;
  foldInPairs: number;
  /** Users with at least one test pair. */
  testUsers: number;
  /** Test users with no training pair (temporal cold users, or strong held-out users). */
  coldTestUsers: number;
  /** Strong generalization: users with fold-in or test pairs. */
  heldOutUsers: number;
}

export function splitStats(split: Split): SplitStats {
  let testUsers = 0;
  let coldTestUsers = 0;
  let heldOutUsers = 0;
  const { train, test, foldIn } = split;
  for (let u = 0; u < test.nUsers; u++) {
    const hasTest = test.indptr[u + 1] > test.indptr[u];
    if (hasTest) {
      testUsers++;
      if (train.indptr[u + 1] === train.indptr[u]) coldTestUsers++;
    }
    if (foldIn && (hasTest || foldIn.indptr[u + 1] > foldIn.indptr[u])) heldOutUsers++;
  }
  return {
    trainPairs: train.nnz,
    testPairs: test.nnz,
    foldInPairs: foldIn?.nnz ?? 0,
    testUsers,
    coldTestUsers,
    heldOutUsers,
  };
}

// ---------------------------------------------------------------------------------------------
// Save / load
// ---------------------------------------------------------------------------------------------

const PARTS = ['train', 'test', 'foldIn'] as const;

/** Writes the split atomically as an artifact of kind 'split' (see artifacts.ts). */
export async function saveSplit(split: Split, dir: string): Promise<void> {
  const tensors: Record<string, { data: Tensor }> = {};
  for (const part of PARTS) {
    const m = split[part];
    if (!m) continue;
    tensors[`${part}_indptr`] = { data: m.indptr };
    tensors[`${part}_indices`] = { data: m.indices };
    tensors[`${part}_values`] = { data: m.values };
    if (m.lastSeen) tensors[`${part}_lastSeen`] = { data: m.lastSeen };
  }
  await saveArtifact(dir, {
    kind: 'split',
    params: { ...split.config },
    tensors,
    idMaps: { users: split.train.users, items: split.train.items },
    meta: {
      fingerprint: split.fingerprint,
      datasetFingerprint: split.datasetFingerprint,
      hasFoldIn: split.foldIn !== null,
      ...(split.cutTime !== undefined ? { cutTime: split.cutTime } : {}),
      stats: splitStats(split),
    },
  });
}

/**
 * Reads a split written by saveSplit and checks that its contents still hash to the stored
 * fingerprint (a modified or truncated split fails loudly instead of skewing an evaluation).
 */
export async function loadSplit(dir: string): Promise<Split> {
  const art = await loadArtifact(dir);
  const { manifest } = art;
  if (manifest.kind !== 'split') {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `${art.dir} holds a '${manifest.kind}' artifact, not a split; pass the directory written by recsys split`, { file: art.dir });
  }
  let config: SplitConfig;
  try {
    config = validateSplitConfig(manifest.params as unknown as SplitConfig);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `${join(art.dir, 'manifest.json')} has an invalid split config: ${(e as Error).message}`, { file: art.dir }, { cause: e });
  }
  const users = art.idMap('users');
  const items = art.idMap('items');
  const part = (name: string): InteractionMatrix =>
    new InteractionMatrix({
      indptr: art.int32(`${name}_indptr`),
      indices: art.int32(`${name}_indices`),
      values: art.float32(`${name}_values`),
      lastSeen: manifest.tensors[`${name}_lastSeen`] ? art.float64(`${name}_lastSeen`) : null,
      users,
      items,
    });
  const train = part('train');
  const test = part('test');
  const foldIn = manifest.meta.hasFoldIn === true ? part('foldIn') : null;
  const stored = manifest.meta.fingerprint;
  const fingerprint = splitFingerprint(config, train, test, foldIn);
  if (fingerprint !== stored) {
    throw new RecsysError(
      'RECSYS_ERR_ARTIFACT',
      `split at ${art.dir} is corrupt or was modified: its contents hash to ${fingerprint} but the manifest says ${String(stored)}; re-create it with recsys split`,
      { file: art.dir, expected: stored, actual: fingerprint },
    );
  }
  const datasetFingerprint = typeof manifest.meta.datasetFingerprint === 'string' ? manifest.meta.datasetFingerprint : '';
  const cutTime = manifest.meta.cutTime;
  return typeof cutTime === 'number'
    ? { config, train, test, foldIn, fingerprint, datasetFingerprint, cutTime }
    : { config, train, test, foldIn, fingerprint, datasetFingerprint };
}

// ---------------------------------------------------------------------------------------------
// TSV export
// ---------------------------------------------------------------------------------------------

/** Shortest decimal that reads back as the same float32 (0.3f prints as 0.3, not 0.30000001192…). */
function formatFloat32(v: number): string {
  if (Number.isInteger(v)) return String(v);
  for (let precision = 1; precision <= 9; precision++) {
    const s = Number(v.toPrecision(precision));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function checkTsvIds(ids: readonly string[], what: string): void {
  for (const id of ids) {
    if (/[\t\n\r]/.test(id)) {
      throw new RecsysError(
        'RECSYS_ERR_SPLIT',
        `${what} id ${JSON.stringify(id)} contains a tab or line break and cannot be written to TSV; clean the ids at ingest`,
        { [what === 'user' ? 'userId' : 'itemId']: id },
      );
    }
  }
}

const CHUNK_BYTES = 1 << 20;

/**
 * Streams one matrix to `path` through a reused 1 MB buffer (temp file + rename, so no
 * half-written file). Encoding each line into the buffer is ~30% faster than string chunks.
 */
async function writeMatrixTsv(m: InteractionMatrix, path: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let off = buf.write('user_id\titem_id\tvalue\ttimestamp\n', 0);
    const userIds = m.users.ids;
    const itemIds = m.items.ids;
    const ls = m.lastSeen;
    for (let u = 0; u < m.nUsers; u++) {
      const start = m.indptr[u];
      const end = m.indptr[u + 1];
      if (start === end) continue;
      const prefix = `${userIds[u]}\t`;
      for (let p = start; p < end; p++) {
        const t = ls ? ls[p] : NaN;
        const line = `${prefix}${itemIds[m.indices[p]]}\t${formatFloat32(m.values[p])}\t${Number.isNaN(t) ? '' : String(t)}\n`;
        // UTF-8 needs at most 3 bytes per UTF-16 code unit.
        if (off + line.length * 3 > CHUNK_BYTES) {
          await fh.write(buf, 0, off);
          off = 0;
        }
        if (line.length * 3 > CHUNK_BYTES) await fh.write(line);
        else off += buf.write(line, off);
      }
    }
    if (off > 0) await fh.write(buf, 0, off);
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw new RecsysError('RECSYS_ERR_SPLIT', `could not write ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  await rename(tmp, path);
}

/**
 * Writes train.tsv, test.tsv (and foldin.tsv for strong splits) into `dir` with header
 * `user_id\titem_id\tvalue\ttimestamp`, external ids, rows grouped by user in matrix order and
 * items in index order; timestamp is lastSeen in seconds (empty when the dataset has none).
 * Other tools (implicit, RecBole) can then be run on exactly the same split.
 * Returns the absolute paths written (row counts are the matrices' nnz).
 */
export async function exportSplitTsv(split: Split, dir: string): Promise<string[]> {
  const root = resolve(dir);
  checkTsvIds(split.train.users.ids, 'user');
  checkTsvIds(split.train.items.ids, 'item');
  await mkdir(root, { recursive: true });
  const written: string[] = [];
  const parts: Array<[InteractionMatrix | null, string]> = [
    [split.train, 'train.tsv'],
    [split.test, 'test.tsv'],
    [split.foldIn, 'foldin.tsv'],
  ];
  for (const [m, name] of parts) {
    if (!m) continue;
    const path = join(root, name);
    await writeMatrixTsv(m, path);
    written.push(path);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// CLI spec
// ---------------------------------------------------------------------------------------------

const SPEC_FORMS = [
  'random[:FRACTION][:seed=N][:min=N]      e.g. random:0.2, random:0.2:seed=7',
  'temporal[:FRACTION | :DATE | :@SECONDS] e.g. temporal:0.2, temporal:2024-01-01, temporal:@1700000000',
  'leave-last[:K]                          e.g. leave-last:1',
  'strong[:USERS][:foldin=F][:seed=N]      e.g. strong:0.1:foldin=0.8, strong:500',
];

function specError(text: string, why: string): RecsysError {
  return new RecsysError('RECSYS_ERR_USAGE', `invalid --split ${JSON.stringify(text)}: ${why}. Valid forms:\n  ${SPEC_FORMS.join('\n  ')}`, {
    flag: '--split',
  });
}

function parseNumber(text: string, raw: string, what: string): number {
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(v)) throw specError(text, `${what} ${JSON.stringify(raw)} is not a number`);
  return v;
}

/**
 * Parses a compact split spec (the `--split` flag) into a validated SplitConfig.
 * Defaults: fraction 0.2, seed 42, min 2, k 1, strong 0.1 of users with fold-in 0.8.
 */
export function parseSplitSpec(text: string): SplitConfig {
  const parts = text.trim().split(':');
  const method = parts[0].toLowerCase();
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq >= 0) options.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    else positional.push(part.trim());
  }
  const allowOptions = (names: string[]): void => {
    for (const key of options.keys()) {
      if (!names.includes(key)) throw specError(text, `unknown option '${key}' for ${method}${names.length ? ` (known: ${names.join(', ')})` : ''}`);
    }
  };
  const maxPositional = (n: number): void => {
    if (positional.length > n) throw specError(text, `too many ':'-separated values for ${method}`);
  };
  const seedOf = (): number => (options.has('seed') ? parseNumber(text, options.get('seed')!, 'seed') : DEFAULT_SPLIT_SEED);

  switch (method) {
    case 'random': {
      allowOptions(['seed', 'min']);
      maxPositional(1);
      return validateSplitConfig({
        method: 'random',
        testFraction: positional[0] !== undefined ? parseNumber(text, positional[0], 'test fraction') : DEFAULT_TEST_FRACTION,
        seed: seedOf(),
        minInteractions: options.has('min') ? parseNumber(text, options.get('min')!, 'min') : DEFAULT_MIN_INTERACTIONS,
      });
    }
    case 'temporal': {
      allowOptions([]);
      // A date contains ':' in its time part (2024-01-01T12:00:00Z), so re-join the rest.
      const rest = parts.slice(1).join(':').trim();
      if (rest === '') return validateSplitConfig({ method: 'temporal', testFraction: DEFAULT_TEST_FRACTION });
      if (rest.startsWith('@')) return validateSplitConfig({ method: 'temporal', cutTime: parseNumber(text, rest.slice(1), 'cut time') });
      if (/^[0-9.]+$/.test(rest)) {
        const f = parseNumber(text, rest, 'test fraction');
        if (!(f > 0 && f < 1)) throw specError(text, `${rest} is neither a fraction in (0, 1) nor a date; write seconds since epoch as @${rest}`);
        return validateSplitConfig({ method: 'temporal', testFraction: f });
      }
      if (/^\d{4}-\d{2}-\d{2}/.test(rest)) {
        // A bare date means midnight UTC (Date.parse's rule for date-only ISO strings).
        const ms = Date.parse(rest);
        if (Number.isNaN(ms)) throw specError(text, `${JSON.stringify(rest)} is not a valid ISO date`);
        return validateSplitConfig({ method: 'temporal', cutTime: ms / 1000 });
      }
      throw specError(text, `${JSON.stringify(rest)} is neither a fraction nor an ISO date`);
    }
    case 'leave-last':
    case 'leave-last-out': {
      allowOptions([]);
      maxPositional(1);
      return validateSplitConfig({ method: 'leave-last-out', k: positional[0] !== undefined ? parseNumber(text, positional[0], 'k') : 1 });
    }
    case 'strong': {
      allowOptions(['foldin', 'fold-in', 'seed']);
      maxPositional(1);
      const foldIn = options.get('foldin') ?? options.get('fold-in');
      return validateSplitConfig({
        method: 'strong',
        heldOutUsers: positional[0] !== undefined ? parseNumber(text, positional[0], 'held-out users') : DEFAULT_HELD_OUT_USERS,
        foldInFraction: foldIn !== undefined ? parseNumber(text, foldIn, 'fold-in fraction') : DEFAULT_FOLD_IN_FRACTION,
        seed: seedOf(),
      });
    }
    default:
      throw specError(text, `unknown method ${JSON.stringify(parts[0])}`);
  }
}
