/**
 * `recsys ingest --from-stream`: fold the serving layer's event stream (the Redis Stream that
 * `POST /v1/events` appends to, the design's Kafka role) into the store, for the next training.
 *
 * Reading: XRANGE in batches from the consumer checkpoint (the id of the last entry already folded
 * in), exclusive, up to the stream's last entry as seen when the run starts — a stream that keeps
 * growing while we read cannot keep the run going forever; the next run picks the rest up.
 *
 * Exactly once: the checkpoint lives in the store's `meta` table (key `stream_checkpoint:<stream
 * key>`) and each batch's rows, the users/items it registers, its `ingests` record and the advanced
 * checkpoint commit in ONE DuckDB transaction. A crash before the commit leaves neither rows nor
 * checkpoint (the batch is read again next time); after it, both. Re-running therefore never
 * duplicates a row, and a killed run resumes where its last batch committed.
 *
 * Semantics are the event-log ingest's (ingest/common.ts with a type and a time column and no value
 * column): one interactions row per event, `interaction_type` = the event type (trimmed,
 * lower-cased), `value` = 1, `timestamp` = the event's time (UTC), `context` = {"stream_id": id} so
 * a row can be traced to its entry, `source` = `redis-stream:<stream key>`. Confidence weights are
 * applied when the matrix is built, as for files. Users and items the store has not seen are added
 * to `users` / `products` with empty attributes (counted). An entry that cannot be read (a missing
 * field, an unparsable time) is never dropped silently: it is counted as rejected and the first
 * `maxRejects` are listed with their stream id; the checkpoint moves past it (it cannot become
 * valid later), and `strict` turns the first one into an error with nothing of its batch written.
 *
 * `trim`: after the last commit, XTRIM MINID drops the entries up to the checkpoint — only when
 * this store is the stream's one consumer (another store's checkpoint would lose those entries).
 */
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { openStore, sqlString, type Store, type StoreStats } from '../data/store.js';
import { KeySpace } from '../serving/cache/keys.js';
import { closeRedis, createRedisClient, waitReady, type RedisClient } from '../serving/cache/redis.js';

export interface StreamIngestOptions {
  store: string;
  /** redis://host:port[/db] or redis-cluster://host:port,… (default redis://127.0.0.1:6379). */
  redisUrl?: string;
  /** An open client instead of redisUrl (tests, embedding); left open. */
  redis?: RedisClient;
  /** How long to wait for Redis to answer (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Key prefix of the serving deployment (`recsys serve --prefix`, default 'recsys'). */
  prefix?: string;
  /** Stream name after the prefix (the serving option streamKey, default 'events'). */
  streamKey?: string;
  /** Entries read and committed per batch (default 10,000). */
  batchSize?: number;
  /** Drop the folded-in entries from the stream afterwards (XTRIM MINID). */
  trim?: boolean;
  /** Fail on the first unreadable entry (its batch is not written). */
  strict?: boolean;
  /** How many unreadable entries to list in detail (default 10). */
  maxRejects?: number;
  progress?: Progress;
}

export interface StreamReject {
  /** Stream entry id. */
  id: string;
  reason: string;
}

export interface StreamIngestResult {
  store: string;
  /** The Redis URL without credentials. */
  redis: string;
  streamKey: string;
  /** Checkpoint before this run (null: the stream was never read into this store). */
  fromId: string | null;
  /** Checkpoint after this run (the last entry folded in). */
  toId: string | null;
  entriesRead: number;
  rowsIngested: number;
  rowsRejected: number;
  rejects: StreamReject[];
  /** Users / items added to the `users` / `products` tables because the store had not seen them. */
  newUsers: number;
  newItems: number;
  batches: number;
  /** Entries removed from the stream by --trim (null without it). */
  trimmed: number | null;
  /** Entries left in the stream after this run (including ones appended while it ran). */
  streamLength: number;
  seconds: number;
  rowsPerSecond: number;
  warnings: string[];
  stats: StoreStats;
}

export const STREAM_FORMAT = 'redis-stream';

/** The meta key holding a stream's checkpoint. */
export function streamCheckpointKey(streamKey: string): string {
  return `stream_checkpoint:${streamKey}`;
}

/** The checkpoint (last folded-in entry id) of `streamKey` in an open store, or null. */
export async function readStreamCheckpoint(store: Store, streamKey: string): Promise<string | null> {
  const raw = await store.getMeta(streamCheckpointKey(streamKey));
  if (raw === null) return null;
  const parsed = JSON.parse(raw) as { lastId?: unknown };
  return typeof parsed.lastId === 'string' ? parsed.lastId : null;
}

const ID_RE = /^(\d+)-(\d+)$/;

/** Compare two stream ids ("ms-seq") numerically. */
export function compareStreamIds(a: string, b: string): number {
  const ma = ID_RE.exec(a);
  const mb = ID_RE.exec(b);
  if (!ma || !mb) throw new RecsysError('RECSYS_ERR_USAGE', `not a stream id: '${ma ? b : a}' (expected <ms>-<seq>)`);
  const ms = BigInt(ma[1]) - BigInt(mb[1]);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(ma[2]) - BigInt(mb[2]);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The smallest id after `id` (XTRIM MINID keeps ids >= its argument). */
function nextStreamId(id: string): string {
  const m = ID_RE.exec(id);
  if (!m) throw new RecsysError('RECSYS_ERR_USAGE', `not a stream id: '${id}'`);
  return `${m[1]}-${(BigInt(m[2]) + 1n).toString()}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

interface ParsedEvent {
  id: string;
  user: string;
  item: string;
  type: string;
  tsMs: number;
}

/** One stream entry → an event, or the reason it cannot be one. Fields as RedisTiers.appendEvents writes them. */
export function parseStreamEntry(id: string, fields: readonly string[]): ParsedEvent | StreamReject {
  let user: string | undefined;
  let item: string | undefined;
  let type: string | undefined;
  let ts: string | undefined;
  for (let f = 0; f + 1 < fields.length; f += 2) {
    const v = fields[f + 1];
    switch (fields[f]) {
      case 'user':
        user = v;
        break;
      case 'item':
        item = v;
        break;
      case 'type':
        type = v;
        break;
      case 'ts':
        ts = v;
        break;
      default:
        break;
    }
  }
  if (user === undefined || user.trim() === '') return { id, reason: "missing field 'user'" };
  if (item === undefined || item.trim() === '') return { id, reason: "missing field 'item'" };
  if (type === undefined || type.trim() === '') return { id, reason: "missing field 'type'" };
  if (ts === undefined) return { id, reason: "missing field 'ts'" };
  const seconds = Number(ts);
  // The event-log ingest's range check: 1970 … 9999 as seconds since the epoch.
  if (ts.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 253402300799) {
    return { id, reason: `field 'ts' is not a time in seconds since the epoch: '${ts}'` };
  }
  return { id, user: user.trim(), item: item.trim(), type: type.trim().toLowerCase(), tsMs: Math.round(seconds * 1000) };
}

interface XInfo {
  length: number;
  lastId: string | null;
  maxDeletedId: string | null;
}

async function streamInfo(redis: RedisClient, key: string): Promise<XInfo> {
  let reply: unknown[];
  try {
    reply = (await redis.xinfo('STREAM', key)) as unknown[];
  } catch (e) {
    if (/no such key/i.test((e as Error).message)) return { length: 0, lastId: null, maxDeletedId: null };
    throw e;
  }
  const get = (name: string): unknown => {
    for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
    return undefined;
  };
  const lastId = get('last-generated-id');
  const maxDeleted = get('max-deleted-entry-id'); // Redis >= 7
  return {
    length: Number(get('length') ?? 0),
    lastId: typeof lastId === 'string' && lastId !== '0-0' ? lastId : null,
    maxDeletedId: typeof maxDeleted === 'string' && maxDeleted !== '0-0' ? maxDeleted : null,
  };
}

/**
 * Read the stream into the store from the checkpoint on (see the module comment). Opens the store
 * and (unless `redis` is given) a Redis connection, and closes what it opened.
 */
export async function ingestStream(opts: StreamIngestOptions): Promise<StreamIngestResult> {
  const t0 = performance.now();
  const batchSize = opts.batchSize ?? 10000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--batch-size must be a positive integer, got ${batchSize}`, { flag: '--batch-size' });
  }
  const maxRejects = opts.maxRejects ?? 10;
  const prefix = opts.prefix ?? 'recsys';
  const streamKey = new KeySpace(prefix, opts.streamKey ?? 'events').stream;
  const redisUrl = opts.redisUrl ?? 'redis://127.0.0.1:6379';
  const ownRedis = opts.redis === undefined;
  const redis = opts.redis ?? createRedisClient(redisUrl, { commandTimeoutMs: 30000 });
  let store: Store | null = null;
  try {
    const waitMs = opts.connectTimeoutMs ?? 5000;
    if (!(await waitReady(redis, waitMs))) {
      throw new RecsysError('RECSYS_ERR_REDIS', `cannot reach Redis at ${redactUrl(redisUrl)} within ${waitMs / 1000} s: start it, or point --redis-url (or REDIS_URL) at the server \`recsys serve\` writes events to`, { flag: '--redis-url' });
    }
    store = await openStore(opts.store);
    const fromId = await readStreamCheckpoint(store, streamKey);
    const info = await streamInfo(redis, streamKey);
    const warnings: string[] = [];
    if (info.lastId === null && info.length === 0) {
      warnings.push(`stream ${streamKey} does not exist or is empty: check --prefix and --stream-key against \`recsys serve\`'s (prefix '${prefix}')`);
    }
    if (fromId !== null && info.maxDeletedId !== null && compareStreamIds(info.maxDeletedId, fromId) > 0) {
      warnings.push(
        `entries after the checkpoint ${fromId} (up to ${info.maxDeletedId}) were deleted from the stream before this ingest read them — by the stream's length cap (serving option streamMaxLen) or a user deletion; run the ingest more often or raise streamMaxLen`,
      );
    }
    // Up to the last entry that exists now; later ones are the next run's.
    const endId = info.lastId;
    const source = `${STREAM_FORMAT}:${streamKey}`;
    const staging = store.tempName('stream_batch');
    await store.run(`CREATE TEMP TABLE ${staging} (stream_id VARCHAR, user_id VARCHAR, product_id VARCHAR, interaction_type VARCHAR, ts_ms BIGINT)`);
    let cursor = fromId;
    let entriesRead = 0;
    let rowsIngested = 0;
    let rowsRejected = 0;
    let newUsers = 0;
    let newItems = 0;
    let batches = 0;
    const rejects: StreamReject[] = [];
    const approxTotal = Math.max(1, info.length);
    opts.progress?.start(`read ${streamKey}`, approxTotal);
    try {
      while (endId !== null && (cursor === null || compareStreamIds(cursor, endId) < 0)) {
        const page = (await redis.xrange(streamKey, cursor === null ? '-' : `(${cursor}`, endId, 'COUNT', batchSize)) as Array<[string, string[]]>;
        if (page.length === 0) break;
        const batchStarted = performance.now();
        const good: ParsedEvent[] = [];
        let batchRejected = 0;
        for (const [id, fields] of page) {
          const parsed = parseStreamEntry(id, fields);
          if ('reason' in parsed) {
            if (opts.strict) {
              throw new RecsysError(
                'RECSYS_ERR_INGEST_ROW',
                `stream ${streamKey}, entry ${id}: ${parsed.reason}; nothing of this batch was written (checkpoint stays at ${cursor ?? 'the start'}). Drop --strict to count and skip such entries, or XDEL the entry.`,
                { streamKey, entry: id, flag: '--strict' },
              );
            }
            batchRejected++;
            if (rejects.length < maxRejects) rejects.push(parsed);
          } else {
            good.push(parsed);
          }
        }
        const lastId = page[page.length - 1][0];
        await store.run(`DELETE FROM ${staging}`);
        if (good.length > 0) {
          const app = await store.connection.createAppender(staging, 'main', 'temp');
          try {
            for (const e of good) {
              app.appendVarchar(e.id);
              app.appendVarchar(e.user);
              app.appendVarchar(e.item);
              app.appendVarchar(e.type);
              app.appendBigInt(BigInt(e.tsMs));
              app.endRow();
            }
            app.flushSync();
          } finally {
            app.closeSync();
          }
        }
        const s = store;
        const committed = await s.transaction(async () => {
          const users = await s.run(`INSERT OR IGNORE INTO users (user_id) SELECT DISTINCT user_id FROM ${staging}`);
          const items = await s.run(`INSERT OR IGNORE INTO products (product_id) SELECT DISTINCT product_id FROM ${staging}`);
          const inserted = await s.run(
            `INSERT INTO interactions (user_id, product_id, interaction_type, value, timestamp, context, source)
             SELECT user_id, product_id, interaction_type, 1.0::DOUBLE, epoch_ms(ts_ms), json_object('stream_id', stream_id), ${sqlString(source)}
             FROM ${staging} ORDER BY stream_id`,
          );
          const seconds = (performance.now() - batchStarted) / 1000;
          await s.run(
            `INSERT INTO ingests (kind, source, format, content_hash, options_hash, rows_read, rows_ingested, rows_rejected, blank_lines, append, seconds, ingested_at, options)
             VALUES ('interactions', ${sqlString(source)}, '${STREAM_FORMAT}', ${sqlString(`${page[0][0]}..${lastId}`)}, '', ${page.length}, ${inserted}, ${batchRejected}, 0, TRUE, ${seconds},
                     now()::TIMESTAMP, ${sqlString(JSON.stringify({ streamKey, from: cursor, to: lastId }))})`,
          );
          await s.setMeta(streamCheckpointKey(streamKey), JSON.stringify({ lastId, updatedAt: new Date().toISOString() }));
          return { users, items, inserted };
        });
        cursor = lastId;
        entriesRead += page.length;
        rowsIngested += committed.inserted;
        rowsRejected += batchRejected;
        newUsers += committed.users;
        newItems += committed.items;
        batches++;
        opts.progress?.tick(entriesRead, { rows: rowsIngested });
        if (page.length < batchSize) break;
      }
    } finally {
      opts.progress?.stop();
      await store.run(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
    let trimmed: number | null = null;
    if (opts.trim) trimmed = cursor === null ? 0 : Number(await redis.xtrim(streamKey, 'MINID', nextStreamId(cursor)));
    const streamLength = Number(await redis.xlen(streamKey));
    const seconds = (performance.now() - t0) / 1000;
    return {
      store: store.path,
      redis: ownRedis ? redactUrl(redisUrl) : '(client given by the caller)',
      streamKey,
      fromId,
      toId: cursor,
      entriesRead,
      rowsIngested,
      rowsRejected,
      rejects,
      newUsers,
      newItems,
      batches,
      trimmed,
      streamLength,
      seconds,
      rowsPerSecond: seconds > 0 ? entriesRead / seconds : 0,
      warnings,
      stats: await store.stats(),
    };
  } finally {
    store?.close();
    if (ownRedis) await closeRedis(redis);
  }
}
