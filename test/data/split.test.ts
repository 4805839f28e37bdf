import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import {
  exportSplitTsv,
  loadSplit,
  parseSplitSpec,
  saveSplit,
  splitMatrix,
  splitStats,
  validateSplitConfig,
} from '../../src/core/data/split.js';
import type { Split, SplitConfig } from '../../src/core/data/split-types.js';
import { RecsysError } from '../../src/core/errors.js';

const ML100K = new URL('../../../shared/datasets/ml-100k/u.data', import.meta.url).pathname;

/** One interaction: [userId, itemId, value, timestamp?]. */
type Row = [string, string, number, number?];

/** A matrix from external-id rows; id maps in the order given (or first appearance). */
function build(rows: Row[], opts: { userOrder?: string[]; itemOrder?: string[]; timestamps?: boolean } = {}): InteractionMatrix {
  const userIds = opts.userOrder ?? [...new Set(rows.map((r) => r[0]))];
  const itemIds = opts.itemOrder ?? [...new Set(rows.map((r) => r[1]))];
  const users = new IdMap(userIds);
  const items = new IdMap(itemIds);
  const withTs = opts.timestamps ?? rows.every((r) => r[3] !== undefined);
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(rows, (r) => users.indexOf(r[0])),
    items: Int32Array.from(rows, (r) => items.indexOf(r[1])),
    values: Float32Array.from(rows, (r) => r[2]),
    lastSeen: withTs ? Float64Array.from(rows, (r) => r[3] ?? NaN) : null,
    userIds: users,
    itemIds: items,
  });
}

/** userId → row length for each user in `sizes`; items i0.., value = item number, ts = 1000 + item number. */
function bySizes(sizes: number[], prefix = 'u'): Row[] {
  const rows: Row[] = [];
  sizes.forEach((n, u) => {
    for (let i = 0; i < n; i++) rows.push([`${prefix}${u}`, `i${i}`, i + 1, 1000 + i]);
  });
  return rows;
}

/** Pairs of a matrix as "user|item" keys, per external ids, with value and timestamp. */
function pairs(m: InteractionMatrix): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (let u = 0; u < m.nUsers; u++) {
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      out.set(`${m.users.idOf(u)}|${m.items.idOf(m.indices[p])}`, [m.values[p], m.lastSeen ? m.lastSeen[p] : NaN]);
    }
  }
  return out;
}

function testKeys(s: Split): string[] {
  return [...pairs(s.test).keys()].sort();
}

/** Asserts train ∪ test (∪ foldIn) = all pairs, disjoint, values and timestamps preserved. */
function assertPartition(all: InteractionMatrix, s: Split): void {
  const parts = [s.train, s.test, ...(s.foldIn ? [s.foldIn] : [])];
  const seen = new Map<string, [number, number]>();
  for (const m of parts) {
    assert.equal(m.users, all.users, 'parts share the user id map');
    assert.equal(m.items, all.items, 'parts share the item id map');
    for (const [k, v] of pairs(m)) {
      assert.ok(!seen.has(k), `pair ${k} is in two parts`);
      seen.set(k, v);
    }
  }
  const original = pairs(all);
  assert.equal(seen.size, original.size);
  for (const [k, v] of original) assert.deepEqual(seen.get(k), v, `pair ${k} kept its value and timestamp`);
}

function rowCount(m: InteractionMatrix, userId: string): number {
  return m.rowLength(m.users.indexOf(userId));
}

function throwsRecsys(fn: () => unknown, code: string, pattern: RegExp, flag?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RecsysError, `expected RecsysError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    if (flag) assert.equal(e.data.flag, flag);
    return true;
  });
}

const random = (testFraction: number, seed = 42, minInteractions = 2): SplitConfig => ({ method: 'random', testFraction, seed, minInteractions });

// ---------------------------------------------------------------------------------------------
// random
// ---------------------------------------------------------------------------------------------

test('random: per-user test counts are max(1, floor(f·n)); users below min are untouched', () => {
  const sizes = [1, 2, 3, 4, 5, 9, 10, 11, 14, 15, 0];
  const m = build(bySizes(sizes.filter((n) => n > 0)));
  const s = splitMatrix(m, random(0.2), 'ds');
  assertPartition(m, s);
  const expected = [0, 1, 1, 1, 1, 1, 2, 2, 2, 3]; // f=0.2: n=1 untouched, floor(0.2·15)=3
  sizes.filter((n) => n > 0).forEach((n, u) => {
    assert.equal(rowCount(s.test, `u${u}`), expected[u], `user with ${n} pairs`);
    assert.equal(rowCount(s.train, `u${u}`), n - expected[u]);
  });
  assert.equal(s.test.nnz, 14);

  const half = splitMatrix(m, random(0.5), 'ds');
  assert.deepEqual([1, 2, 3, 4, 5, 9, 10, 11, 14, 15].map((n, u) => rowCount(half.test, `u${u}`)), [0, 1, 1, 2, 2, 4, 5, 5, 7, 7]);

  // minInteractions 5: users with 1..4 pairs stay whole in train.
  const min5 = splitMatrix(m, random(0.2, 42, 5), 'ds');
  assert.deepEqual([1, 2, 3, 4, 5, 9, 10, 11, 14, 15].map((n, u) => rowCount(min5.test, `u${u}`)), [0, 0, 0, 0, 1, 1, 2, 2, 2, 3]);
});

test('random: deterministic for a seed, different across seeds', () => {
  const m = build(bySizes(Array.from({ length: 40 }, (_, u) => 10 + (u % 13))));
  const a = splitMatrix(m, random(0.2, 42), 'ds');
  const b = splitMatrix(m, random(0.2, 42), 'ds');
  const c = splitMatrix(m, random(0.2, 7), 'ds');
  assert.deepEqual(testKeys(a), testKeys(b));
  assert.equal(a.fingerprint, b.fingerprint);
  assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
  assert.notDeepEqual(testKeys(a), testKeys(c));
  assert.notEqual(a.fingerprint, c.fingerprint);
  assert.equal(a.test.nnz, c.test.nnz, 'counts do not depend on the seed');
  // Not a fixed pattern: the chosen positions differ between users with the same items.
  const chosen = new Set<string>();
  for (let u = 0; u < m.nUsers; u++) if (m.rowLength(u) === 10) chosen.add(Array.from(a.test.rowItems(u)).join(','));
  assert.ok(chosen.size > 1, 'users with identical rows get different test items');
});

test('random: every item of a row is equally likely to be held out', () => {
  // 5000 users with the same 10 items, 2 in test each: every item expects 1000 draws (sd ≈ 28).
  const rows: Row[] = [];
  for (let u = 0; u < 5000; u++) for (let i = 0; i < 10; i++) rows.push([`user-${u}`, `i${i}`, 1, 0]);
  const s = splitMatrix(build(rows), random(0.2, 42), 'ds');
  const counts = Array.from(s.test.itemCounts());
  assert.equal(counts.reduce((a, b) => a + b, 0), 10000);
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 150, `item drawn ${c} times, expected ≈ 1000 (${counts.join(', ')})`);
});

test('random: adding unrelated users and items, or reordering id maps, does not change anyone else\'s split', () => {
  const base = bySizes(Array.from({ length: 30 }, (_, u) => 5 + (u % 11)));
  const a = splitMatrix(build(base), random(0.3, 11), 'ds');
  const extra: Row[] = [['new-user', 'new-item', 1, 0], ['new-user', 'i3', 1, 0], ['new-user', 'i4', 1, 0]];
  const rows = [...extra, ...base];
  const userOrder = [...new Set(rows.map((r) => r[0]))].reverse();
  const itemOrder = [...new Set(rows.map((r) => r[1]))].reverse(); // shifts every item index
  const b = splitMatrix(build(rows, { userOrder, itemOrder }), random(0.3, 11), 'ds');
  assert.deepEqual(testKeys(b).filter((k) => !k.startsWith('new-user|')), testKeys(a));
  assert.equal(rowCount(b.test, 'new-user'), 1);
});

test('random: validation names the flag', () => {
  const m = build(bySizes([3, 4]));
  throwsRecsys(() => splitMatrix(m, random(0), 'ds'), 'RECSYS_ERR_USAGE', /--test-fraction.*between 0 and 1/, '--test-fraction');
  throwsRecsys(() => splitMatrix(m, random(1), 'ds'), 'RECSYS_ERR_USAGE', /--test-fraction/, '--test-fraction');
  throwsRecsys(() => splitMatrix(m, random(Number.NaN), 'ds'), 'RECSYS_ERR_USAGE', /--test-fraction/);
  throwsRecsys(() => splitMatrix(m, random(0.2, -1), 'ds'), 'RECSYS_ERR_USAGE', /--seed/, '--seed');
  throwsRecsys(() => splitMatrix(m, random(0.2, 42, 0), 'ds'), 'RECSYS_ERR_USAGE', /--min-interactions/, '--min-interactions');
  throwsRecsys(() => splitMatrix(m, random(0.2, 42, 10), 'ds'), 'RECSYS_ERR_SPLIT', /no user has at least 10 interactions/);
  throwsRecsys(() => splitMatrix(m, { method: 'nope' } as unknown as SplitConfig, 'ds'), 'RECSYS_ERR_USAGE', /unknown split method "nope"/);
});

// ---------------------------------------------------------------------------------------------
// temporal
// ---------------------------------------------------------------------------------------------

// Timestamps 1..10 over three users; user c only acts late (a cold user of the test side).
const temporalRows: Row[] = [
  ['a', 'x', 1, 1], ['a', 'y', 1, 4], ['a', 'z', 2, 8],
  ['b', 'x', 1, 2], ['b', 'w', 1, 3], ['b', 'y', 1, 5], ['b', 'v', 1, 6], ['b', 'z', 1, 7],
  ['c', 'x', 3, 9], ['c', 'v', 1, 10],
];

test('temporal: an explicit cut puts pairs last seen at or after it in test', () => {
  const m = build(temporalRows);
  const s = splitMatrix(m, { method: 'temporal', cutTime: 7 }, 'ds');
  assertPartition(m, s);
  assert.deepEqual(testKeys(s), ['a|z', 'b|z', 'c|v', 'c|x']);
  assert.equal(s.cutTime, 7);
  assert.deepEqual(s.config, { method: 'temporal', cutTime: 7 });
  const st = splitStats(s);
  assert.deepEqual(st, { trainPairs: 6, testPairs: 4, foldInPairs: 0, testUsers: 3, coldTestUsers: 1, heldOutUsers: 0 });
});

test('temporal: without a cut, the (1−f) quantile of lastSeen is the cut', () => {
  const m = build(temporalRows);
  // 10 pairs, f=0.3: sorted[floor(0.7·10)] = sorted[7] = 8 → pairs at 8, 9, 10.
  const s = splitMatrix(m, { method: 'temporal', testFraction: 0.3 }, 'ds');
  assert.equal(s.cutTime, 8);
  assert.deepEqual(testKeys(s), ['a|z', 'c|v', 'c|x']);
  assert.deepEqual(s.config, { method: 'temporal', testFraction: 0.3 }, 'config stays as given');
  // f=0.25: sorted[floor(0.75·10)] = sorted[7] = 8 as well (the cut is a pair's timestamp).
  assert.equal(splitMatrix(m, { method: 'temporal', testFraction: 0.25 }, 'ds').cutTime, 8);
  // Ties at the cut all go to test: five pairs at t=5 and f=0.1 → cut 5, all five in test.
  const tied = build([['a', 'x', 1, 1], ['a', 'y', 1, 5], ['b', 'x', 1, 5], ['b', 'y', 1, 5], ['c', 'x', 1, 5], ['c', 'y', 1, 5]]);
  const t = splitMatrix(tied, { method: 'temporal', testFraction: 0.1 }, 'ds');
  assert.equal(t.cutTime, 5);
  assert.equal(t.test.nnz, 5);
});

test('temporal: clear errors without timestamps or with a cut outside the data', () => {
  const noTs = build([['a', 'x', 1], ['a', 'y', 1]], { timestamps: false });
  throwsRecsys(() => splitMatrix(noTs, { method: 'temporal', testFraction: 0.2 }, 'ds'), 'RECSYS_ERR_SPLIT', /no timestamps.*use --split random/);
  throwsRecsys(() => splitMatrix(noTs, { method: 'leave-last-out', k: 1 }, 'ds'), 'RECSYS_ERR_SPLIT', /no timestamps.*use --split random/);
  const m = build(temporalRows);
  throwsRecsys(() => splitMatrix(m, { method: 'temporal', cutTime: 11 }, 'ds'), 'RECSYS_ERR_SPLIT', /puts no pair in test.*from 1970-01-01T00:00:01.000Z \(1\) to 1970-01-01T00:00:10.000Z \(10\)/, '--cut');
  throwsRecsys(() => splitMatrix(m, { method: 'temporal', cutTime: 1 }, 'ds'), 'RECSYS_ERR_SPLIT', /every pair in test/);
  throwsRecsys(() => splitMatrix(m, { method: 'temporal' }, 'ds'), 'RECSYS_ERR_USAGE', /needs a cut time/);
});

// ---------------------------------------------------------------------------------------------
// leave-last-out
// ---------------------------------------------------------------------------------------------

test('leave-last-out: the k most recent pairs go to test; ties go to the larger item index', () => {
  const rows: Row[] = [
    ['a', 'i0', 1, 50], ['a', 'i1', 1, 10], ['a', 'i2', 1, 30], ['a', 'i3', 1, 20],
    ['b', 'i0', 1, 7], ['b', 'i1', 1, 9], ['b', 'i2', 1, 9], ['b', 'i3', 1, 1],
    ['c', 'i2', 1, 5],
  ];
  const m = build(rows, { itemOrder: ['i0', 'i1', 'i2', 'i3'] });
  const one = splitMatrix(m, { method: 'leave-last-out', k: 1 }, 'ds');
  assertPartition(m, one);
  assert.deepEqual(testKeys(one), ['a|i0', 'b|i2'], 'a: newest is i0 (50); b: i1 and i2 tie at 9 → larger index i2; c has only one pair');
  const two = splitMatrix(m, { method: 'leave-last-out', k: 2 }, 'ds');
  assert.deepEqual(testKeys(two), ['a|i0', 'a|i2', 'b|i1', 'b|i2']);
  const three = splitMatrix(m, { method: 'leave-last-out', k: 3 }, 'ds');
  assert.deepEqual(testKeys(three), ['a|i0', 'a|i2', 'a|i3', 'b|i0', 'b|i1', 'b|i2']);
  throwsRecsys(() => splitMatrix(m, { method: 'leave-last-out', k: 0 }, 'ds'), 'RECSYS_ERR_USAGE', /--leave-out/, '--leave-out');
  throwsRecsys(() => splitMatrix(m, { method: 'leave-last-out', k: 1.5 }, 'ds'), 'RECSYS_ERR_USAGE', /--leave-out/);
  throwsRecsys(() => splitMatrix(m, { method: 'leave-last-out', k: 4 }, 'ds'), 'RECSYS_ERR_SPLIT', /more than 4 interactions/);
});

// ---------------------------------------------------------------------------------------------
// strong generalization
// ---------------------------------------------------------------------------------------------

test('strong: held-out users are disjoint from training users; fold-in/test counts per user', () => {
  // 20 users with 10 pairs, 5 users with 1 pair (never held out: they cannot have both sides).
  const sizes = [...Array.from({ length: 20 }, () => 10), 1, 1, 1, 1, 1];
  const m = build(bySizes(sizes));
  const s = splitMatrix(m, { method: 'strong', heldOutUsers: 4, foldInFraction: 0.8, seed: 42 }, 'ds');
  assertPartition(m, s);
  assert.ok(s.foldIn);
  let held = 0;
  for (let u = 0; u < m.nUsers; u++) {
    const inTrain = s.train.rowLength(u);
    const inTest = s.test.rowLength(u);
    const inFold = s.foldIn.rowLength(u);
    if (inTrain > 0) {
      assert.equal(inTest + inFold, 0, `training user ${m.users.idOf(u)} has no test or fold-in pairs`);
      assert.equal(inTrain, m.rowLength(u));
    } else {
      held++;
      assert.equal(m.rowLength(u), 10, 'only users with ≥ 2 pairs are held out');
      assert.equal(inTest, 2, 'test = max(1, floor(0.2·10)) = 2 (1 − 0.8 rounded before the floor)');
      assert.equal(inFold, 8);
    }
  }
  assert.equal(held, 4);
  assert.deepEqual(splitStats(s), { trainPairs: 16 * 10 + 5, testPairs: 8, foldInPairs: 32, testUsers: 4, coldTestUsers: 4, heldOutUsers: 4 });

  // A fraction of the eligible users (20 · 0.25 = 5), deterministic per seed, different across seeds.
  const f = splitMatrix(m, { method: 'strong', heldOutUsers: 0.25, foldInFraction: 0.5, seed: 42 }, 'ds');
  assert.equal(splitStats(f).heldOutUsers, 5);
  assert.equal(f.test.nnz, 25);
  const heldIds = (x: Split): string[] => x.train.users.ids.filter((_, u) => x.test.rowLength(u) > 0);
  assert.deepEqual(heldIds(splitMatrix(m, { method: 'strong', heldOutUsers: 0.25, foldInFraction: 0.5, seed: 42 }, 'ds')), heldIds(f));
  assert.notDeepEqual(heldIds(splitMatrix(m, { method: 'strong', heldOutUsers: 0.25, foldInFraction: 0.5, seed: 43 }, 'ds')), heldIds(f));

  // A user with 2 pairs held out: one fold-in, one test.
  const small = splitMatrix(build(bySizes([2, 2, 2])), { method: 'strong', heldOutUsers: 2, foldInFraction: 0.8, seed: 1 }, 'ds');
  assert.equal(small.test.nnz, 2);
  assert.equal(small.foldIn?.nnz, 2);
  assert.equal(small.train.nnz, 2);

  throwsRecsys(() => splitMatrix(m, { method: 'strong', heldOutUsers: 20, foldInFraction: 0.8, seed: 1 }, 'ds'), 'RECSYS_ERR_USAGE', /only 20 users have ≥ 2/, '--held-out-users');
  throwsRecsys(() => splitMatrix(m, { method: 'strong', heldOutUsers: 2.5, foldInFraction: 0.8, seed: 1 }, 'ds'), 'RECSYS_ERR_USAGE', /--held-out-users/);
  throwsRecsys(() => splitMatrix(m, { method: 'strong', heldOutUsers: 2, foldInFraction: 1, seed: 1 }, 'ds'), 'RECSYS_ERR_USAGE', /--fold-in/, '--fold-in');
});

// ---------------------------------------------------------------------------------------------
// save / load / export
// ---------------------------------------------------------------------------------------------

test('saveSplit / loadSplit round trip (random, temporal, strong) and tamper detection', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'recsys-split-'));
  try {
    const m = build(bySizes(Array.from({ length: 12 }, (_, u) => 3 + u)));
    const splits = [
      splitMatrix(m, random(0.2), 'dataset-abc'),
      splitMatrix(m, { method: 'temporal', testFraction: 0.2 }, 'dataset-abc'),
      splitMatrix(m, { method: 'strong', heldOutUsers: 3, foldInFraction: 0.8, seed: 5 }, 'dataset-abc'),
    ];
    for (const [i, s] of splits.entries()) {
      const at = join(dir, `s${i}`);
      await saveSplit(s, at);
      const back = await loadSplit(at);
      assert.equal(back.fingerprint, s.fingerprint);
      assert.equal(back.datasetFingerprint, 'dataset-abc');
      assert.deepEqual(back.config, s.config);
      assert.equal(back.cutTime, s.cutTime);
      assert.deepEqual(back.train.users.ids, m.users.ids);
      assert.deepEqual(back.train.items.ids, m.items.ids);
      assert.equal(back.test.users, back.train.users, 'loaded parts share one id map');
      for (const part of ['train', 'test', 'foldIn'] as const) {
        const a = s[part];
        const b = back[part];
        if (!a) {
          assert.equal(b, null);
          continue;
        }
        assert.ok(b);
        assert.deepEqual(b.indptr, a.indptr);
        assert.deepEqual(b.indices, a.indices);
        assert.deepEqual(b.values, a.values);
        assert.deepEqual(b.lastSeen, a.lastSeen);
      }
    }
    // Flip one test item: the fingerprint no longer matches.
    const file = join(dir, 's0', 'test_indices.i32');
    const buf = await readFile(file);
    buf.writeInt32LE((buf.readInt32LE(0) + 1) % m.nItems, 0);
    await writeFile(file, buf);
    await assert.rejects(loadSplit(join(dir, 's0')), (e: unknown) => e instanceof RecsysError && e.code === 'RECSYS_ERR_ARTIFACT' && /corrupt or was modified/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('exportSplitTsv writes exactly the split with external ids', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'recsys-tsv-'));
  try {
    const rows: Row[] = [
      ['alice', 'sku-1', 0.3, 1700000000], ['alice', 'sku-2', 2.5, 1700000100], ['alice', 'sku-3', 1, 1700000050],
      ['bob', 'sku-2', 4, 1600000000.5], ['bob', 'sku-3', 1e-7, 1600000001],
      ['carol', 'sku-1', 5, 1],
    ];
    const s = splitMatrix(build(rows), { method: 'leave-last-out', k: 1 }, 'ds');
    const files = await exportSplitTsv(s, join(dir, 'out'));
    assert.deepEqual(files, [join(dir, 'out', 'train.tsv'), join(dir, 'out', 'test.tsv')]);
    assert.equal(
      await readFile(files[0], 'utf8'),
      'user_id\titem_id\tvalue\ttimestamp\n' +
        'alice\tsku-1\t0.3\t1700000000\n' +
        'alice\tsku-3\t1\t1700000050\n' +
        'bob\tsku-2\t4\t1600000000.5\n' +
        'carol\tsku-1\t5\t1\n',
    );
    assert.equal(
      await readFile(files[1], 'utf8'),
      'user_id\titem_id\tvalue\ttimestamp\n' + 'alice\tsku-2\t2.5\t1700000100\n' + 'bob\tsku-3\t1e-7\t1600000001\n',
    );

    // No timestamps → empty column; strong → foldin.tsv as well.
    const noTs = build(bySizes([2, 2, 2]).map((r) => [r[0], r[1], r[2]] as Row), { timestamps: false });
    const strong = splitMatrix(noTs, { method: 'strong', heldOutUsers: 1, foldInFraction: 0.5, seed: 3 }, 'ds');
    const sf = await exportSplitTsv(strong, join(dir, 'strong'));
    assert.equal(sf.length, 3);
    const [train, test, fold] = await Promise.all(sf.map((f) => readFile(f, 'utf8')));
    assert.equal(train.split('\n').length - 2, 4);
    assert.equal(test.split('\n').length - 2, 1);
    assert.equal(fold.split('\n').length - 2, 1);
    assert.match(test, /^user_id\titem_id\tvalue\ttimestamp\nu\d\ti\d\t\d\t\n$/);

    const bad = splitMatrix(build([['a\tb', 'x', 1, 1], ['a\tb', 'y', 1, 2]]), { method: 'leave-last-out', k: 1 }, 'ds');
    await assert.rejects(exportSplitTsv(bad, join(dir, 'bad')), /contains a tab or line break/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// spec parsing
// ---------------------------------------------------------------------------------------------

test('parseSplitSpec: the compact forms', () => {
  assert.deepEqual(parseSplitSpec('random:0.2'), { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 });
  assert.deepEqual(parseSplitSpec('random'), { method: 'random', testFraction: 0.2, seed: 42, minInteractions: 2 });
  assert.deepEqual(parseSplitSpec('random:0.1:seed=7:min=5'), { method: 'random', testFraction: 0.1, seed: 7, minInteractions: 5 });
  assert.deepEqual(parseSplitSpec('temporal:0.2'), { method: 'temporal', testFraction: 0.2 });
  assert.deepEqual(parseSplitSpec('temporal:2024-01-01'), { method: 'temporal', cutTime: 1704067200 });
  assert.deepEqual(parseSplitSpec('temporal:2024-01-01T12:00:00Z'), { method: 'temporal', cutTime: 1704110400 });
  assert.deepEqual(parseSplitSpec('temporal:@1700000000'), { method: 'temporal', cutTime: 1700000000 });
  assert.deepEqual(parseSplitSpec('leave-last:1'), { method: 'leave-last-out', k: 1 });
  assert.deepEqual(parseSplitSpec('leave-last-out:3'), { method: 'leave-last-out', k: 3 });
  assert.deepEqual(parseSplitSpec('leave-last'), { method: 'leave-last-out', k: 1 });
  assert.deepEqual(parseSplitSpec('strong:0.1:foldin=0.8'), { method: 'strong', heldOutUsers: 0.1, foldInFraction: 0.8, seed: 42 });
  assert.deepEqual(parseSplitSpec('strong:500:seed=1'), { method: 'strong', heldOutUsers: 500, foldInFraction: 0.8, seed: 1 });
  assert.deepEqual(validateSplitConfig(parseSplitSpec(' Random:0.3 ')), { method: 'random', testFraction: 0.3, seed: 42, minInteractions: 2 });
});

test('parseSplitSpec: actionable errors listing the valid forms', () => {
  const forms = /Valid forms:[\s\S]*random\[:FRACTION\][\s\S]*temporal[\s\S]*leave-last\[:K\][\s\S]*strong/;
  throwsRecsys(() => parseSplitSpec('shuffle:0.2'), 'RECSYS_ERR_USAGE', forms, '--split');
  throwsRecsys(() => parseSplitSpec('random:abc'), 'RECSYS_ERR_USAGE', /test fraction "abc" is not a number/);
  throwsRecsys(() => parseSplitSpec('random:0.2:sede=7'), 'RECSYS_ERR_USAGE', /unknown option 'sede'/);
  throwsRecsys(() => parseSplitSpec('random:0.2:0.3'), 'RECSYS_ERR_USAGE', /too many/);
  throwsRecsys(() => parseSplitSpec('random:1.5'), 'RECSYS_ERR_USAGE', /--test-fraction/, '--test-fraction');
  throwsRecsys(() => parseSplitSpec('temporal:1700000000'), 'RECSYS_ERR_USAGE', /write seconds since epoch as @1700000000/);
  throwsRecsys(() => parseSplitSpec('temporal:2024-13-45'), 'RECSYS_ERR_USAGE', /not a valid ISO date/);
  throwsRecsys(() => parseSplitSpec('temporal:yesterday'), 'RECSYS_ERR_USAGE', /neither a fraction nor an ISO date/);
  throwsRecsys(() => parseSplitSpec('leave-last:0'), 'RECSYS_ERR_USAGE', /--leave-out/, '--leave-out');
  throwsRecsys(() => parseSplitSpec('strong:0.1:foldin=1.2'), 'RECSYS_ERR_USAGE', /--fold-in/, '--fold-in');
  throwsRecsys(() => parseSplitSpec('strong:0'), 'RECSYS_ERR_USAGE', /--held-out-users/, '--held-out-users');
});

// ---------------------------------------------------------------------------------------------
// real data and speed
// ---------------------------------------------------------------------------------------------

async function readMl100k(): Promise<InteractionMatrix> {
  const text = await readFile(ML100K, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const users = new Int32Array(lines.length);
  const items = new Int32Array(lines.length);
  const values = new Float32Array(lines.length);
  const ts = new Float64Array(lines.length);
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  lines.forEach((line, i) => {
    const [u, it, r, t] = line.split('\t');
    if (!userIndex.has(u)) userIndex.set(u, userIndex.size);
    if (!itemIndex.has(it)) itemIndex.set(it, itemIndex.size);
    users[i] = userIndex.get(u)!;
    items[i] = itemIndex.get(it)!;
    values[i] = Number(r);
    ts[i] = Number(t);
  });
  return InteractionMatrix.fromCoo({ users, items, values, lastSeen: ts, userIds: new IdMap([...userIndex.keys()]), itemIds: new IdMap([...itemIndex.keys()]) });
}

test('ml-100k: random 80/20 seed 42 proportions and speed', { skip: !existsSync(ML100K) && `${ML100K} not found` }, async () => {
  const m = await readMl100k();
  assert.equal(m.nnz, 100000);
  const t0 = performance.now();
  const s = splitMatrix(m, random(0.2, 42), 'ml-100k');
  const ms = performance.now() - t0;
  assertPartition(m, s);
  // Σ_u max(1, floor(0.2·n_u)) over the 943 users (all have ≥ 20 ratings); the count does not depend
  // on the seed, the chosen pairs do. Measured with seed 42 (and checked with Python: sum(max(1, int(0.2*n)))): 19,633 test / 80,367 train.
  assert.equal(s.test.nnz, 19633);
  assert.equal(s.train.nnz, 80367);
  let expected = 0;
  for (let u = 0; u < m.nUsers; u++) {
    expected += Math.max(1, Math.floor(0.2 * m.rowLength(u)));
    assert.equal(s.test.rowLength(u), Math.max(1, Math.floor(0.2 * m.rowLength(u))));
  }
  assert.equal(expected, 19633);
  assert.deepEqual(splitStats(s), { trainPairs: 80367, testPairs: 19633, foldInPairs: 0, testUsers: 943, coldTestUsers: 0, heldOutUsers: 0 });
  assert.ok(ms < 1000, `random split of ml-100k took ${ms.toFixed(0)} ms (limit 1000)`);

  // The other methods run on real data too.
  const temporal = splitMatrix(m, { method: 'temporal', testFraction: 0.2 }, 'ml-100k');
  assert.ok(Math.abs(temporal.test.nnz - 20000) < 200, `temporal test ${temporal.test.nnz}`);
  const last = splitMatrix(m, { method: 'leave-last-out', k: 1 }, 'ml-100k');
  assert.equal(last.test.nnz, 943);
  const strong = splitMatrix(m, { method: 'strong', heldOutUsers: 0.1, foldInFraction: 0.8, seed: 42 }, 'ml-100k');
  assert.equal(splitStats(strong).heldOutUsers, 94);
  assertPartition(m, strong);
});

// Opt-in: RECSYS_BENCH_SPLIT=1 node --import tsx --test test/data/split.test.ts
test('bench: 5M pairs, 100k users × 20k items', { skip: process.env.RECSYS_BENCH_SPLIT !== '1' && 'set RECSYS_BENCH_SPLIT=1' }, async () => {
  const nUsers = 100_000;
  const nItems = 20_000;
  const perUser = 50;
  const n = nUsers * perUser;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const values = new Float32Array(n).fill(1);
  const ts = new Float64Array(n);
  let x = 12345;
  for (let u = 0, p = 0; u < nUsers; u++) {
    const start = (Math.imul(u, 2654435761) >>> 0) % nItems;
    for (let j = 0; j < perUser; j++, p++) {
      users[p] = u;
      items[p] = (start + j * 7) % nItems;
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      ts[p] = 1.6e9 + (x % 1e7);
    }
  }
  const m = InteractionMatrix.fromCoo({
    users, items, values, lastSeen: ts,
    userIds: new IdMap(Array.from({ length: nUsers }, (_, u) => `user${u}`)),
    itemIds: new IdMap(Array.from({ length: nItems }, (_, i) => `item${i}`)),
  });
  const timings: Record<string, number> = {};
  const time = <T>(name: string, fn: () => T): T => {
    const t0 = performance.now();
    const r = fn();
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };
  const r = time('random', () => splitMatrix(m, random(0.2, 42), 'bench'));
  assert.equal(r.test.nnz, nUsers * 10);
  time('temporal', () => splitMatrix(m, { method: 'temporal', testFraction: 0.2 }, 'bench'));
  time('leave-last-out', () => splitMatrix(m, { method: 'leave-last-out', k: 1 }, 'bench'));
  time('strong', () => splitMatrix(m, { method: 'strong', heldOutUsers: 0.1, foldInFraction: 0.8, seed: 42 }, 'bench'));
  const dir = await mkdtemp(join(tmpdir(), 'recsys-bench-'));
  try {
    let t0 = performance.now();
    await saveSplit(r, join(dir, 'split'));
    timings.save = Math.round(performance.now() - t0);
    t0 = performance.now();
    await loadSplit(join(dir, 'split'));
    timings.load = Math.round(performance.now() - t0);
    t0 = performance.now();
    await exportSplitTsv(r, join(dir, 'tsv'));
    timings.exportTsv = Math.round(performance.now() - t0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('split bench (ms):', JSON.stringify(timings));
});
