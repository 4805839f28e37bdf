/**
 * Compact binary encoding of a recommendation list, the value stored in every cache tier
 * (in-process LRU, L1 and L2 in Redis). Little-endian, 4-byte aligned fields:
 *
 *   offset 0   u8   magic 0x52 ('R')
 *          1   u8   format version (1)
 *          2   u8   strategy code (STRATEGIES index)
 *          3   u8   flags: bit 0 = reasons present
 *          4   u32  createdAt, seconds since epoch (L1 entries older than their TTL are misses)
 *          8   u32  n, the number of items
 *         12   i32[n] item indexes (the model's, so a value is only valid for one model version)
 *   12 + 4n    f32[n] scores
 *   12 + 8n    i32[n] reasons (only with flag bit 0): ≥ 0 = "similar to this history item",
 *                     REASON_POPULAR, or REASON_NONE
 *
 * 100 items with reasons take 1,212 bytes (JSON with external ids would be about 4 kB).
 * ioredis `getBuffer` may hand back a Buffer at an unaligned offset inside its pool, where
 * `new Int32Array(buf.buffer, buf.byteOffset)` throws; decodeList copies in that case.
 */

export const STRATEGIES = ['personalized', 'realtime', 'cold-start-popularity', 'opted-out-popularity', 'item-similarity', 'co-occurrence'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const REASON_NONE = -1;
export const REASON_POPULAR = -2;

const MAGIC = 0x52;
const VERSION = 1;
const HEADER_BYTES = 12;

export interface EncodedList {
  strategy: Strategy;
  /** Seconds since epoch. */
  createdAt: number;
  items: Int32Array;
  scores: Float32Array;
  /** One per item, or null when the list carries no reasons. */
  reasons: Int32Array | null;
}

export function encodedSize(n: number, withReasons: boolean): number {
  return HEADER_BYTES + n * (withReasons ? 12 : 8);
}

export function encodeList(list: EncodedList): Buffer {
  const n = list.items.length;
  if (list.scores.length !== n || (list.reasons && list.reasons.length !== n)) {
    throw new RangeError(`encodeList: ${n} items but ${list.scores.length} scores and ${list.reasons?.length ?? 0} reasons`);
  }
  const code = STRATEGIES.indexOf(list.strategy);
  if (code < 0) throw new RangeError(`encodeList: unknown strategy '${list.strategy}'`);
  const withReasons = list.reasons !== null;
  // Buffer.alloc (not allocUnsafe from the pool) gives offset 0, so the typed views below are aligned.
  const buf = Buffer.alloc(encodedSize(n, withReasons));
  buf[0] = MAGIC;
  buf[1] = VERSION;
  buf[2] = code;
  buf[3] = withReasons ? 1 : 0;
  buf.writeUInt32LE(Math.max(0, Math.floor(list.createdAt)) >>> 0, 4);
  buf.writeUInt32LE(n, 8);
  new Int32Array(buf.buffer, buf.byteOffset + HEADER_BYTES, n).set(list.items);
  new Float32Array(buf.buffer, buf.byteOffset + HEADER_BYTES + 4 * n, n).set(list.scores);
  if (list.reasons) new Int32Array(buf.buffer, buf.byteOffset + HEADER_BYTES + 8 * n, n).set(list.reasons);
  return buf;
}

/** Decode a value written by encodeList; null when it is not one (corrupt or foreign value = cache miss). */
export function decodeList(value: Uint8Array | null | undefined): EncodedList | null {
  if (!value || value.byteLength < HEADER_BYTES || value[0] !== MAGIC || value[1] !== VERSION) return null;
  const code = value[2];
  if (code >= STRATEGIES.length) return null;
  const withReasons = (value[3] & 1) === 1;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const createdAt = view.getUint32(4, true);
  const n = view.getUint32(8, true);
  if (value.byteLength !== encodedSize(n, withReasons)) return null;
  // Typed-array views need a 4-byte aligned offset; pooled Buffers often are not.
  let bytes = value;
  if (value.byteOffset % 4 !== 0) {
    bytes = new Uint8Array(value.byteLength);
    bytes.set(value);
  }
  const base = bytes.byteOffset + HEADER_BYTES;
  const items = new Int32Array(bytes.buffer, base, n);
  const scores = new Float32Array(bytes.buffer, base + 4 * n, n);
  const reasons = withReasons ? new Int32Array(bytes.buffer, base + 8 * n, n) : null;
  return { strategy: STRATEGIES[code], createdAt, items, scores, reasons };
}
