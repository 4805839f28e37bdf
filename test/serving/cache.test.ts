/** The compact list codec, the in-process LRU, the key space and the sorted index sets, on exact tiny inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeList, encodeList, encodedSize, REASON_NONE, REASON_POPULAR } from '../../src/core/serving/cache/codec.js';
import { LruCache } from '../../src/core/serving/cache/lru.js';
import { KeySpace, tag } from '../../src/core/serving/cache/keys.js';
import { SortedIndexSet, containsSorted, sortedUnique, unionSorted } from '../../src/core/serving/sorted-set.js';
import { parseShard } from '../../src/core/serving/precompute.js';

test('codec: byte layout is header + i32 items + f32 scores + i32 reasons, little-endian', () => {
  const buf = encodeList({ strategy: 'realtime', createdAt: 1700000000, items: Int32Array.of(7, 3), scores: Float32Array.of(1.5, -2), reasons: Int32Array.of(4, REASON_POPULAR) });
  assert.equal(buf.byteLength, 12 + 2 * 12);
  assert.equal(encodedSize(100, true), 1212);
  assert.deepEqual([...buf.subarray(0, 4)], [0x52, 1, 1, 1]); // magic, version, strategy 'realtime' = 1, reasons flag
  assert.equal(buf.readUInt32LE(4), 1700000000);
  assert.equal(buf.readUInt32LE(8), 2);
  assert.equal(buf.readInt32LE(12), 7);
  assert.equal(buf.readInt32LE(16), 3);
  assert.equal(buf.readFloatLE(20), 1.5);
  assert.equal(buf.readFloatLE(24), -2);
  assert.equal(buf.readInt32LE(28), 4);
  assert.equal(buf.readInt32LE(32), REASON_POPULAR);
  const back = decodeList(buf)!;
  assert.deepEqual(back, { strategy: 'realtime', createdAt: 1700000000, items: Int32Array.of(7, 3), scores: Float32Array.of(1.5, -2), reasons: Int32Array.of(4, REASON_POPULAR) });
});

test('codec: a value at an unaligned offset (as ioredis getBuffer can return) decodes by copying', () => {
  const value = encodeList({ strategy: 'personalized', createdAt: 5, items: Int32Array.of(1, 2, 3), scores: Float32Array.of(0.25, 0.5, 0.75), reasons: null });
  const pool = new Uint8Array(value.byteLength + 3);
  pool.set(value, 3);
  const unaligned = Buffer.from(pool.buffer, 3, value.byteLength);
  assert.equal(unaligned.byteOffset % 4, 3);
  assert.throws(() => new Int32Array(unaligned.buffer, unaligned.byteOffset + 12, 3), RangeError); // the pitfall itself
  const back = decodeList(unaligned)!;
  assert.deepEqual(back.items, Int32Array.of(1, 2, 3));
  assert.deepEqual(back.scores, Float32Array.of(0.25, 0.5, 0.75));
  assert.equal(back.reasons, null);
  assert.equal(back.strategy, 'personalized');
});

test('codec: foreign, truncated or empty values are misses (null), never exceptions', () => {
  const good = encodeList({ strategy: 'personalized', createdAt: 0, items: Int32Array.of(1), scores: Float32Array.of(1), reasons: Int32Array.of(REASON_NONE) });
  assert.equal(decodeList(null), null);
  assert.equal(decodeList(Buffer.from('{"items":[1]}')), null);
  assert.equal(decodeList(good.subarray(0, good.byteLength - 1)), null);
  const badStrategy = Buffer.from(good);
  badStrategy[2] = 99;
  assert.equal(decodeList(badStrategy), null);
  const empty = encodeList({ strategy: 'cold-start-popularity', createdAt: 1, items: new Int32Array(0), scores: new Float32Array(0), reasons: null });
  assert.deepEqual(decodeList(empty)!.items, new Int32Array(0));
  assert.throws(() => encodeList({ strategy: 'personalized', createdAt: 0, items: Int32Array.of(1, 2), scores: Float32Array.of(1), reasons: null }), /2 items but 1 scores/);
});

test('lru: evicts the least recently used, honours the TTL, refreshes on hit', () => {
  const lru = new LruCache<number>(2, 100);
  lru.set('a', 1, 0);
  lru.set('b', 2, 0);
  assert.equal(lru.get('a', 10), 1); // a is now the most recent
  lru.set('c', 3, 10); // evicts b
  assert.equal(lru.get('b', 10), undefined);
  assert.equal(lru.get('a', 10), 1);
  assert.equal(lru.get('c', 10), 3);
  assert.equal(lru.get('a', 100), undefined, 'expired at 0 + 100 ms');
  assert.equal(lru.size, 1);
  assert.equal(lru.delete('c'), true);
  const off = new LruCache<number>(0, 100);
  off.set('a', 1, 0);
  assert.equal(off.get('a', 0), undefined);
  assert.equal(off.enabled, false);
});

test('keys: a user\'s keys share one hash tag; braces in ids cannot break it', () => {
  const k = new KeySpace('rs');
  assert.equal(k.l1('u1'), 'rs:l1:{u1}');
  assert.equal(k.history('u1'), 'rs:hist:{u1}');
  assert.equal(k.optOut('u1'), 'rs:optout:{u1}');
  assert.equal(k.l2('als-1.x', 'u1'), 'rs:l2:als-1.x:{u1}');
  assert.equal(k.l2Current('als-1'), 'rs:l2:{als-1}:current');
  assert.equal(k.l2Done('als-1', 'r1'), 'rs:l2:{als-1}:done:r1');
  assert.equal(k.stream, 'rs:events');
  assert.equal(tag('a{b}%c'), 'a%7Bb%7D%25c');
  assert.equal(k.l1('a}b'), 'rs:l1:{a%7Db}');
});

test('sorted index sets: unique, union, membership, ReadonlySet view', () => {
  assert.deepEqual(sortedUnique([5, 1, 5, 3, 1]), Int32Array.of(1, 3, 5));
  assert.deepEqual(unionSorted([Int32Array.of(1, 4, 9), Int32Array.of(2, 4, 10), new Int32Array(0)]), Int32Array.of(1, 2, 4, 9, 10));
  assert.deepEqual(unionSorted([]), new Int32Array(0));
  assert.equal(containsSorted(Int32Array.of(1, 4, 9), 4), true);
  assert.equal(containsSorted(Int32Array.of(1, 4, 9), 5), false);
  const set = new SortedIndexSet(Int32Array.of(2, 7));
  assert.equal(set.size, 2);
  assert.equal(set.has(7), true);
  assert.equal(set.has(3), false);
  assert.deepEqual([...set], [2, 7]);
  assert.deepEqual(Int32Array.from(set), Int32Array.of(2, 7));
});

test('--shard i/N parsing', () => {
  assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
  assert.throws(() => parseShard('4/4'), /--shard expects i\/N/);
  assert.throws(() => parseShard('1-4'), /--shard/);
});
