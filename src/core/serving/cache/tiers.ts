/**
 * The Redis side of the serving tiers (L1 per-user lists, L2 precomputed lists, recent history,
 * opt-out flags, the event stream), wrapped so that Redis can never fail a request: every call
 * returns `undefined` when Redis is down, slow or erroring, and counts the error in /metrics; the
 * caller then answers from the next tier. While the client is not connected no command is even
 * issued (the client reconnects by itself; see redis.ts).
 */
import type { KeySpace } from './keys.js';
import type { RedisClient } from './redis.js';
import type { ServingMetrics } from '../metrics.js';
import type { EventType } from '../config.js';

export interface LiveEvent {
  userId: string;
  itemId: string;
  type: EventType;
  /** Seconds since epoch. */
  ts: number;
}

/** A history entry as stored in the Redis list: "type\titem\tts" (ids never hold tabs: the schema forbids them). */
export function encodeHistoryEntry(e: LiveEvent): string {
  return `${e.type}\t${e.itemId}\t${e.ts}`;
}

export function decodeHistoryEntry(userId: string, s: string): LiveEvent | null {
  const a = s.indexOf('\t');
  const b = s.lastIndexOf('\t');
  if (a <= 0 || b <= a) return null;
  const type = s.slice(0, a) as EventType;
  const ts = Number(s.slice(b + 1));
  return { userId, itemId: s.slice(a + 1, b), type, ts: Number.isFinite(ts) ? ts : 0 };
}

// KEYS: history, opt-out flag, precomputed list (ARGV[2] = '0': none); ARGV[1] = history length.
const MISS_LOOKUP = `
local hist = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local l2 = ''
if ARGV[2] == '1' then l2 = redis.call('GET', KEYS[3]) or '' end
return {hist, l2, redis.call('EXISTS', KEYS[2])}`;

interface MissScript {
  recsysMissLookupBuffer(history: string, optOut: string, l2: string, historyLength: string, hasL2: string): Promise<unknown>;
}

const scripted = new WeakSet<object>();

/** Register the Lua commands on a client once (ioredis sends EVALSHA, and EVAL after a Redis restart). */
function ensureScripts(r: RedisClient): void {
  if (scripted.has(r)) return;
  r.defineCommand('recsysMissLookup', { numberOfKeys: 3, lua: MISS_LOOKUP });
  scripted.add(r);
}

export interface MissLookup {
  /** Recent events, newest first. */
  history: LiveEvent[];
  l2: Buffer | null;
  optedOut: boolean;
}

export interface UserPurge {
  cachedLists: number;
  historyEntries: number;
  streamEntries: number;
  precomputedLists: number;
  optOutFlag: number;
}

export class RedisTiers {
  private readonly pointers = new Map<string, { run: string | null; readAt: number }>();

  constructor(
    readonly client: RedisClient | null,
    readonly keys: KeySpace,
    private readonly metrics: ServingMetrics,
    private readonly opts: { l1TtlSeconds: number; historyLength: number; historyTtlSeconds: number; streamMaxLen: number; similarTtlSeconds: number; pointerRefreshMs: number },
  ) {}

  get state(): 'ready' | 'down' | 'disabled' {
    if (!this.client) return 'disabled';
    return this.client.status === 'ready' ? 'ready' : 'down';
  }

  /** Run `fn` against Redis; undefined (and an error counted under `op`) if Redis is not usable. */
  async call<T>(op: string, fn: (r: RedisClient) => Promise<T>): Promise<T | undefined> {
    const r = this.client;
    if (!r) return undefined;
    if (r.status !== 'ready') {
      this.metrics.redisError(op);
      return undefined;
    }
    try {
      return await fn(r);
    } catch {
      this.metrics.redisError(op);
      return undefined;
    }
  }

  getL1(user: string, field: string): Promise<Buffer | null | undefined> {
    return this.call('l1_get', (r) => r.hgetBuffer(this.keys.l1(user), field));
  }

  /** Fire and forget: a failed cache write costs nothing but the next miss. */
  setL1(user: string, field: string, value: Buffer): void {
    const key = this.keys.l1(user);
    void this.call('l1_set', (r) => Promise.all([r.hset(key, field, value), r.expire(key, this.opts.l1TtlSeconds)]));
  }

  /**
   * Everything an L1 miss needs — recent history, the precomputed list, the opt-out flag — in one
   * command (a Lua script: one reply to parse instead of three; one slot, as all keys share the
   * user's hash tag).
   */
  async missLookup(user: string, l2Run: string | null): Promise<MissLookup | undefined> {
    return this.call('miss_lookup', async (r) => {
      ensureScripts(r);
      const histKey = this.keys.history(user);
      const reply = (await (r as unknown as MissScript).recsysMissLookupBuffer(histKey, this.keys.optOut(user), l2Run ? this.keys.l2(l2Run, user) : histKey, String(this.opts.historyLength), l2Run ? '1' : '0')) as [Buffer[], Buffer, number];
      const [hist, l2, opt] = reply;
      const history: LiveEvent[] = [];
      for (const b of hist) {
        const e = decodeHistoryEntry(user, b.toString());
        if (e) history.push(e);
      }
      return { history, l2: l2 && l2.byteLength > 0 ? l2 : null, optedOut: opt > 0 };
    });
  }

  /**
   * The precompute run currently served for a model version, re-read at most every
   * pointerRefreshMs (a flip by `recsys precompute` is seen within that time).
   */
  async currentRun(version: string, nowMs = Date.now()): Promise<string | null> {
    const cached = this.pointers.get(version);
    if (cached && nowMs - cached.readAt < this.opts.pointerRefreshMs) return cached.run;
    const run = await this.call('l2_pointer', (r) => r.get(this.keys.l2Current(version)));
    if (run === undefined) return cached?.run ?? null; // Redis down: keep the last known pointer
    this.pointers.set(version, { run, readAt: nowMs });
    return run;
  }

  /** Forget cached pointers (tests, reload). */
  resetPointers(): void {
    this.pointers.clear();
  }

  /**
   * Append events to the stream and each user's recent history, and drop the users' L1 lists.
   * Returns false when Redis did not take them (the caller still applies them in process).
   */
  async appendEvents(events: readonly LiveEvent[]): Promise<boolean> {
    const ok = await this.call('events', async (r) => {
      const ops: Array<Promise<unknown>> = [];
      const users = new Set<string>();
      for (const e of events) {
        ops.push(r.xadd(this.keys.stream, 'MAXLEN', '~', this.opts.streamMaxLen, '*', 'user', e.userId, 'item', e.itemId, 'type', e.type, 'ts', String(e.ts)));
        ops.push(r.lpush(this.keys.history(e.userId), encodeHistoryEntry(e)));
        users.add(e.userId);
      }
      for (const u of users) {
        const h = this.keys.history(u);
        ops.push(r.ltrim(h, 0, this.opts.historyLength - 1), r.expire(h, this.opts.historyTtlSeconds), r.del(this.keys.l1(u)));
      }
      await Promise.all(ops);
      return true;
    });
    return ok === true;
  }

  async invalidateUser(user: string): Promise<boolean> {
    return (await this.call('invalidate', (r) => r.del(this.keys.l1(user)))) !== undefined;
  }

  async setOptOut(user: string, optedOut: boolean): Promise<boolean> {
    const done = await this.call('opt_out', async (r) => {
      await Promise.all([optedOut ? r.set(this.keys.optOut(user), '1') : r.del(this.keys.optOut(user)), r.del(this.keys.l1(user))]);
      return true;
    });
    return done !== undefined;
  }

  /** Purge a user: cached lists, history, opt-out flag, precomputed lists of `runs`, stream entries. */
  async deleteUser(user: string, runs: readonly string[]): Promise<UserPurge | undefined> {
    return this.call('delete_user', async (r) => {
      const [cachedLists, historyEntries, optOutFlag] = await Promise.all([r.hlen(this.keys.l1(user)), r.llen(this.keys.history(user)), r.exists(this.keys.optOut(user))]);
      await r.del(this.keys.l1(user), this.keys.history(user), this.keys.optOut(user));
      let precomputedLists = 0;
      for (const run of runs) precomputedLists += await r.del(this.keys.l2(run, user));
      // The stream has no index by user: walk it in pages and delete the user's entries.
      let streamEntries = 0;
      let start = '-';
      for (;;) {
        const page = (await r.xrange(this.keys.stream, start, '+', 'COUNT', 1000)) as Array<[string, string[]]>;
        if (page.length === 0) break;
        const mine: string[] = [];
        for (const [id, fields] of page) {
          for (let f = 0; f + 1 < fields.length; f += 2) {
            if (fields[f] === 'user' && fields[f + 1] === user) {
              mine.push(id);
              break;
            }
          }
        }
        if (mine.length > 0) streamEntries += await r.xdel(this.keys.stream, ...mine);
        if (page.length < 1000) break;
        start = `(${page[page.length - 1][0]}`;
      }
      return { cachedLists, historyEntries, streamEntries, precomputedLists, optOutFlag };
    });
  }

  getSimilar(version: string, item: string, field: string): Promise<Buffer | null | undefined> {
    return this.call('similar_get', (r) => r.hgetBuffer(this.keys.similar(version, item), field));
  }

  setSimilar(version: string, item: string, field: string, value: Buffer): void {
    const key = this.keys.similar(version, item);
    void this.call('similar_set', (r) => Promise.all([r.hset(key, field, value), r.expire(key, this.opts.similarTtlSeconds)]));
  }
}
