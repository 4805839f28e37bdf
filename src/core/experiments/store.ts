/**
 * The Redis side of experiments: shared counters (the Beta posteriors and live statistics), the
 * impression/reward log stream, per-user recent impressions for attribution, sticky per-user
 * assignments, and the guardrail/canary state. Every update is atomic (HINCRBY inside Lua
 * scripts), so any number of server processes share one posterior.
 *
 * Keys (p = the serving key prefix; `{…}` is the Redis Cluster hash tag):
 *   <p>:x:registry                       set of experiment ids ever loaded (for `experiments status`)
 *   <p>:x:{<exp>}:config                 the validated config, JSON (status and export read it)
 *   <p>:x:{<exp>}:stats                  hash: imp:<arm>, clk:<arm>, conv:<arm> → counts
 *   <p>:x:{<exp>}:series                 hash: <bucketStartSec>|imp|<arm> (and clk, conv) → counts
 *   <p>:x:{<exp>}:state                  hash: rollback:<arm> → JSON reason; canary:<arm>:step/since/base
 *   <p>:x:{<exp>}:log                    stream: t=imp n=<count> b=<batch> (one entry per flushed batch of impressions,
 *                                        b = lines "user\trid\tarm\tts\tp\titem1\titem2…" joined by "\n"; see
 *                                        impressionsOf, which also reads the earlier one-impression entries
 *                                        t=imp rid arm p user items ts), t=clk|conv (rid arm user item pos ts),
 *                                        t=rollback (arm reason ts)
 *   <p>:x:<exp>:recent:{<user>}          list: "rid\tarm\tts\tp\titem1\titem2…", newest first, TTL = window
 *   <p>:x:<exp>:rewarded:{<user>}        set: "rid|clk", "rid|conv" already counted (one reward per impression)
 *   <p>:x:<exp>:assign:{<user>}          "arm\tpropensity" (thompson, assignment=user), TTL = stickySeconds
 * The experiment-wide keys share the experiment's tag (one script touches them together); a user's
 * keys share the user's tag.
 */
import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { tag } from '../serving/cache/keys.js';
import type { RedisClient } from '../serving/cache/redis.js';

/** Run a Redis call; undefined when Redis is down or the call fails (the serving tiers count it). */
export type RedisCall = <T>(op: string, fn: (r: RedisClient) => Promise<T>) => Promise<T | undefined>;

/** A RedisCall over a plain client that lets errors through (CLI commands want them). */
export function directCall(client: RedisClient): RedisCall {
  return <T>(_op: string, fn: (r: RedisClient) => Promise<T>) => fn(client);
}

export class ExperimentKeys {
  constructor(readonly prefix: string) {}
  get registry(): string {
    return `${this.prefix}:x:registry`;
  }
  config(exp: string): string {
    return `${this.prefix}:x:{${tag(exp)}}:config`;
  }
  stats(exp: string): string {
    return `${this.prefix}:x:{${tag(exp)}}:stats`;
  }
  series(exp: string): string {
    return `${this.prefix}:x:{${tag(exp)}}:series`;
  }
  state(exp: string): string {
    return `${this.prefix}:x:{${tag(exp)}}:state`;
  }
  log(exp: string): string {
    return `${this.prefix}:x:{${tag(exp)}}:log`;
  }
  recent(exp: string, user: string): string {
    return `${this.prefix}:x:${exp}:recent:{${tag(user)}}`;
  }
  rewarded(exp: string, user: string): string {
    return `${this.prefix}:x:${exp}:rewarded:{${tag(user)}}`;
  }
  assign(exp: string, user: string): string {
    return `${this.prefix}:x:${exp}:assign:{${tag(user)}}`;
  }
}

// KEYS: stats, series, log. ARGV: stats field, series field, stream max length, then XADD field/value pairs.
const COUNT = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local f = {}
for i = 4, #ARGV do f[#f + 1] = ARGV[i] end
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(f))`;

// KEYS: stats, series, log, then (standalone Redis) the recent lists of the batch's n impressions.
// ARGV: stream max length, packed batch, n impressions, recent max entries, window ms, n stats
// increments, (field, by)…, n series increments, (field, by)…, then (standalone) one recent entry
// per recent key. One call per flushed batch: the counters, ONE stream entry holding the whole
// batch (t=imp n=<count> b=<lines>, see impressionsOf) and the users' recent lists. On a Redis
// Cluster the recent lists live in other slots: the caller passes none and writes them per user.
const COUNT_IMPRESSIONS = `
local i = 6
local n = tonumber(ARGV[i])
i = i + 1
for k = 1, n do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) i = i + 2 end
n = tonumber(ARGV[i])
i = i + 1
for k = 1, n do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) i = i + 2 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*', 't', 'imp', 'n', ARGV[3], 'b', ARGV[2])
local max = tonumber(ARGV[4])
for k = 4, #KEYS do
  if redis.call('LPUSH', KEYS[k], ARGV[i]) > max then redis.call('LTRIM', KEYS[k], 0, max - 1) end
  redis.call('PEXPIRE', KEYS[k], ARGV[5])
  i = i + 1
end
return 1`;

// KEYS: log. ARGV: entry id, rewritten batch ('' = none left), its impression count. Deletion of a
// user from one batched entry: the entry is removed and (when other users' impressions remain)
// appended again without the user's lines. Atomic: of two concurrent purges only one rewrites.
const REWRITE = `
local d = redis.call('XDEL', KEYS[1], ARGV[1])
if d == 1 and ARGV[2] ~= '' then redis.call('XADD', KEYS[1], '*', 't', 'imp', 'n', ARGV[3], 'b', ARGV[2]) end
return d`;

// KEYS: recent list. ARGV: entry, max entries, window ms.
const RECENT = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// KEYS: recent list, rewarded set. ARGV: request id ('' = any), item, event ms, window ms, kind.
// Finds the newest impression within the window that listed the item (and has the request id,
// when given); counts it once per kind. Returns {rid, arm, position, propensity, impression ms}
// (position negated when that impression was already rewarded), or false.
const ATTRIBUTE = `
local now = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
for _, e in ipairs(entries) do
  local parts = {}
  for s in string.gmatch(e, '[^\\t]+') do parts[#parts + 1] = s end
  local rid = parts[1]
  local ts = tonumber(parts[3])
  if ts and now >= ts - 1000 and now - ts <= window and (ARGV[1] == '' or ARGV[1] == rid) then
    local pos = 0
    for j = 5, #parts do
      if parts[j] == ARGV[2] then pos = j - 4 break end
    end
    if pos > 0 then
      if redis.call('SADD', KEYS[2], rid .. '|' .. ARGV[5]) == 1 then
        redis.call('PEXPIRE', KEYS[2], window)
        return {rid, parts[2], pos, parts[4], parts[3]}
      end
      return {rid, parts[2], -pos, parts[4], parts[3]}
    end
    if ARGV[1] ~= '' then return false end
  end
end
return false`;

// KEYS: assignment key. ARGV: value to set when absent, TTL ms. Returns {value, remaining ms}.
const STICKY = `
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {ARGV[1], tonumber(ARGV[2])}`;

// KEYS: state. ARGV: arm, expected step, new step, now ms, arm impressions now.
const ADVANCE = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'canary:' .. ARGV[1] .. ':step') or '0')
if cur ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'canary:' .. ARGV[1] .. ':step', ARGV[3], 'canary:' .. ARGV[1] .. ':since', ARGV[4], 'canary:' .. ARGV[1] .. ':base', ARGV[5])
return 1`;

/**
 * A Lua script run by EVALSHA, falling back to EVAL when the server does not have it (first use,
 * or after a Redis restart). Not ioredis `defineCommand`: its script loading inside auto-pipelines
 * loses replies when several scripted calls share one pipeline (ioredis 6), which is exactly what
 * concurrent requests produce.
 */
class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
  async run<T>(r: RedisClient, keys: readonly string[], args: readonly string[]): Promise<T> {
    try {
      return (await r.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (e) {
      if (!/NOSCRIPT/.test((e as Error).message)) throw e;
      return (await r.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }
}

const COUNT_SCRIPT = new Script(COUNT);
const COUNT_IMPRESSIONS_SCRIPT = new Script(COUNT_IMPRESSIONS);
const RECENT_SCRIPT = new Script(RECENT);
const REWRITE_SCRIPT = new Script(REWRITE);
const ATTRIBUTE_SCRIPT = new Script(ATTRIBUTE);
const STICKY_SCRIPT = new Script(STICKY);
const ADVANCE_SCRIPT = new Script(ADVANCE);

export interface ImpressionRecord {
  requestId: string;
  arm: string;
  propensity: number;
  userId: string;
  itemIds: readonly string[];
  tsMs: number;
}

export interface Attribution {
  requestId: string;
  arm: string;
  position: number;
  propensity: number;
  impressionMs: number;
  /** False when the impression had already been rewarded with this kind. */
  counted: boolean;
}

export interface SharedState {
  stats: Record<string, string>;
  state: Record<string, string>;
}

/** One log stream entry, as read back for export and status. */
export interface LogEntry {
  id: string;
  fields: Record<string, string>;
}

/** One open (or sealed) batch of queued impressions of one experiment: one stream entry once written. */
interface ImpressionBatch {
  exp: string;
  maxLen: number;
  recentMax: number;
  windowMs: number;
  n: number;
  /** The stream entry's `b` field: one line per impression, see impressionsOf. */
  log: string;
  users: string[];
  /** Per impression, the recent-list entry "rid\tarm\tts\tp\titem1\titem2…". */
  entries: string[];
  stats: Map<string, number>;
  series: Map<number, Map<string, number>>;
  done: Array<((ok: boolean) => void) | undefined> | null;
}

function newBatch(exp: string, maxLen: number, recentMax: number, windowMs: number): ImpressionBatch {
  return { exp, maxLen, recentMax, windowMs, n: 0, log: '', users: [], entries: [], stats: new Map(), series: new Map(), done: null };
}

/**
 * The impressions of one log entry: a batched entry (t=imp n=<count> b=<lines>, one line per
 * impression "user\trid\tarm\tts\tp\titem1\titem2…", lines joined by "\n"; ids never hold tabs
 * or newlines: the routes' schemas refuse them), or a single one (t=imp rid arm p user items ts,
 * the earlier layout).
 */
export function impressionsOf(fields: Record<string, string>): ImpressionRecord[] {
  if (fields.t !== 'imp') return [];
  if (fields.b === undefined) {
    return [{ requestId: fields.rid, arm: fields.arm, propensity: Number(fields.p), userId: fields.user, itemIds: fields.items ? fields.items.split('\t') : [], tsMs: Number(fields.ts) }];
  }
  if (fields.b === '') return [];
  return fields.b.split('\n').map((line) => {
    const [userId, requestId, arm, ts, p, ...itemIds] = line.split('\t');
    return { requestId, arm, propensity: Number(p), userId, itemIds, tsMs: Number(ts) };
  });
}

export class ExperimentStore {
  readonly keys: ExperimentKeys;

  constructor(
    readonly call: RedisCall,
    prefix: string,
  ) {
    this.keys = new ExperimentKeys(prefix);
  }

  /** Publish the config (status/export read it) and initialise a canary's state once. */
  async register(exp: string, configJson: string, canaryArm: string | null, nowMs: number): Promise<boolean> {
    const ok = await this.call('x_register', async (r) => {
      const ops: Array<Promise<unknown>> = [r.sadd(this.keys.registry, exp), r.set(this.keys.config(exp), configJson)];
      if (canaryArm) ops.push(r.hsetnx(this.keys.state(exp), `canary:${canaryArm}:since`, String(nowMs)));
      await Promise.all(ops);
      return true;
    });
    return ok === true;
  }

  async read(exp: string): Promise<SharedState | undefined> {
    await this.flush();
    return this.call('x_read', async (r) => {
      const [stats, state] = await Promise.all([r.hgetall(this.keys.stats(exp)), r.hgetall(this.keys.state(exp))]);
      return { stats, state };
    });
  }

  /**
   * Count an impression (stats, series, log) and remember it for the user's attribution. Queued:
   * the request path appends the impression to the experiment's open batch (string appends and a
   * few counter bumps, no Redis, no promise); `flushMs` after the first queued impression, or as
   * soon as a batch holds `maxBatch`, the batches are written, one Lua call (one round trip, one
   * stream entry) per batch, yielding to the event loop (setImmediate) between batches.
   * `done`, when given, is called with whether Redis took the impression. Attribution, refreshes,
   * purges and close() flush first.
   */
  queueImpression(exp: string, rec: ImpressionRecord, bucketSec: number, maxLen: number, recentMax: number, windowMs: number, done?: (ok: boolean) => void): void {
    let b = this.open.get(exp);
    if (!b) this.open.set(exp, (b = newBatch(exp, maxLen, recentMax, windowMs)));
    const items = rec.itemIds;
    let entry = `${rec.requestId}\t${rec.arm}\t${rec.tsMs}\t${rec.propensity}`;
    for (let j = 0; j < items.length; j++) entry += `\t${items[j]}`;
    b.log += b.n === 0 ? `${rec.userId}\t${entry}` : `\n${rec.userId}\t${entry}`;
    b.n++;
    b.users.push(rec.userId);
    b.entries.push(entry);
    b.stats.set(rec.arm, (b.stats.get(rec.arm) ?? 0) + 1);
    let sb = b.series.get(bucketSec);
    if (!sb) b.series.set(bucketSec, (sb = new Map()));
    sb.set(rec.arm, (sb.get(rec.arm) ?? 0) + 1);
    if (done) (b.done ??= new Array<((ok: boolean) => void) | undefined>(b.n - 1)).push(done);
    else b.done?.push(undefined);
    this.queued++;
    if (b.n >= this.maxBatch) {
      this.sealed.push(b);
      this.open.delete(exp);
      if (!this.immediate) this.immediate = setImmediate(() => void this.flush().catch(() => undefined));
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.flushMs);
      this.timer.unref?.();
    }
  }

  /** queueImpression, resolving when written (true) or dropped because Redis was unavailable (false). */
  recordImpression(exp: string, rec: ImpressionRecord, bucketSec: number, maxLen: number, recentMax: number, windowMs: number): Promise<boolean> {
    return new Promise((resolve) => this.queueImpression(exp, rec, bucketSec, maxLen, recentMax, windowMs, resolve));
  }

  /** Called after each batch write with the impressions per arm it held (metrics). */
  onWritten: ((exp: string, perArm: ReadonlyMap<string, number>, ok: boolean) => void) | null = null;

  private open = new Map<string, ImpressionBatch>();
  private sealed: ImpressionBatch[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** The writes in flight, in order: a flush waits for the earlier ones (attribution sees them). */
  private tail: Promise<void> = Promise.resolve();
  flushMs = 10;
  /**
   * Impressions per stream entry (and per Lua call). A script holds Redis for ~10 µs per impression
   * (mostly the users' recent lists), so 64 keeps one under a millisecond for the other clients.
   */
  maxBatch = 64;

  /** Impressions queued and not yet handed to Redis. */
  get pending(): number {
    return this.queued;
  }

  /** Write every queued impression now; resolves when they (and any earlier writes) are written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.queued === 0) return this.tail;
    const batches = this.sealed;
    for (const b of this.open.values()) batches.push(b);
    this.sealed = [];
    this.open = new Map();
    this.queued = 0;
    const run = this.tail.then(() => this.writeBatches(batches));
    // The chain goes on after a failed write (its impressions are reported failed; the caller of
    // this flush gets the error, a timer's flush drops it).
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeBatches(batches: ImpressionBatch[]): Promise<void> {
    let error: unknown = null;
    for (let k = 0; k < batches.length; k++) {
      // Let requests in between two batches: a flush never holds the event loop for more than one.
      if (k > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await this.writeBatch(batches[k]);
      } catch (e) {
        error ??= e;
        this.finish(batches[k], false);
      }
    }
    if (error !== null) throw error;
  }

  private finish(b: ImpressionBatch, ok: boolean): void {
    this.onWritten?.(b.exp, b.stats, ok);
    if (b.done) for (const d of b.done) d?.(ok);
  }

  private async writeBatch(b: ImpressionBatch): Promise<void> {
    const exp = b.exp;
    const argv: string[] = [String(Math.max(1, Math.ceil(b.maxLen / b.n))), b.log, String(b.n), String(b.recentMax), String(b.windowMs), String(b.stats.size)];
    for (const [arm, n] of b.stats) argv.push(`imp:${arm}`, String(n));
    let nSeries = 0;
    for (const m of b.series.values()) nSeries += m.size;
    argv.push(String(nSeries));
    for (const [bucket, m] of b.series) for (const [arm, n] of m) argv.push(`${bucket}|imp|${arm}`, String(n));
    const ok = await this.call('x_impression', async (r) => {
      const keys = [this.keys.stats(exp), this.keys.series(exp), this.keys.log(exp)];
      if (r instanceof Cluster) {
        // The users' recent lists are in other slots: one call per user, pipelined with the batch's.
        await Promise.all([
          COUNT_IMPRESSIONS_SCRIPT.run(r, keys, argv),
          ...b.users.map((u, j) => RECENT_SCRIPT.run(r, [this.keys.recent(exp, u)], [b.entries[j], String(b.recentMax), String(b.windowMs)])),
        ]);
      } else {
        for (const u of b.users) keys.push(this.keys.recent(exp, u));
        for (const e of b.entries) argv.push(e);
        await COUNT_IMPRESSIONS_SCRIPT.run(r, keys, argv);
      }
      return true;
    });
    this.finish(b, ok === true);
  }

  /** Match an event to an impression of the user (by request id, or the newest listing the item). */
  async attribute(exp: string, userId: string, itemId: string, requestId: string | null, eventMs: number, windowMs: number, kind: 'clk' | 'conv'): Promise<Attribution | null | undefined> {
    await this.flush();
    return this.call('x_attribute', async (r) => {
      const reply = await ATTRIBUTE_SCRIPT.run<[string, string, number, string, string] | null>(r, [this.keys.recent(exp, userId), this.keys.rewarded(exp, userId)], [requestId ?? '', itemId, String(eventMs), String(windowMs), kind]);
      if (!reply) return null;
      const [rid, arm, pos, p, ts] = reply;
      return { requestId: String(rid), arm: String(arm), position: Math.abs(Number(pos)), propensity: Number(p), impressionMs: Number(ts), counted: Number(pos) > 0 };
    });
  }

  async recordReward(exp: string, kind: 'clk' | 'conv', a: Attribution, userId: string, itemId: string, bucketSec: number, maxLen: number, eventMs: number): Promise<boolean> {
    const ok = await this.call('x_reward', async (r) => {
      await COUNT_SCRIPT.run(r, [this.keys.stats(exp), this.keys.series(exp), this.keys.log(exp)], [`${kind}:${a.arm}`, `${bucketSec}|${kind}|${a.arm}`, String(maxLen), 't', kind, 'rid', a.requestId, 'arm', a.arm, 'user', userId, 'item', itemId, 'pos', String(a.position), 'ts', String(eventMs)]);
      return true;
    });
    return ok === true;
  }

  /** The user's sticky arm: the stored one, or `value` stored now. */
  async sticky(exp: string, userId: string, value: string, ttlMs: number): Promise<{ value: string; ttlMs: number } | undefined> {
    return this.call('x_sticky', async (r) => {
      const [v, ttl] = await STICKY_SCRIPT.run<[string, number]>(r, [this.keys.assign(exp, userId)], [value, String(ttlMs)]);
      return { value: String(v), ttlMs: Number(ttl) };
    });
  }

  async overwriteSticky(exp: string, userId: string, value: string, ttlMs: number): Promise<void> {
    await this.call('x_sticky', (r) => r.set(this.keys.assign(exp, userId), value, 'PX', ttlMs));
  }

  /** Roll an arm back; true when this call did it (the first of all processes). */
  async rollback(exp: string, arm: string, reasonJson: string, logMaxLen: number, nowMs: number): Promise<boolean> {
    const done = await this.call('x_rollback', async (r) => {
      const first = await r.hsetnx(this.keys.state(exp), `rollback:${arm}`, reasonJson);
      if (first === 1) await r.xadd(this.keys.log(exp), 'MAXLEN', '~', logMaxLen, '*', 't', 'rollback', 'arm', arm, 'reason', reasonJson, 'ts', String(nowMs));
      return first === 1;
    });
    return done === true;
  }

  async advanceCanary(exp: string, arm: string, expectedStep: number, nowMs: number, armImpressions: number): Promise<boolean> {
    const done = await this.call('x_canary', async (r) => (await ADVANCE_SCRIPT.run<number>(r, [this.keys.state(exp)], [arm, String(expectedStep), String(expectedStep + 1), String(nowMs), String(armImpressions)])) === 1);
    return done === true;
  }

  /** Forget an experiment's shared state (counts, series, log, rollbacks, canary). */
  async reset(exp: string): Promise<void> {
    await this.call('x_reset', (r) => r.del(this.keys.stats(exp), this.keys.series(exp), this.keys.state(exp), this.keys.log(exp)));
  }

  /**
   * A user's impressions and rewards: recent list, reward marks, sticky arm, and the log: reward
   * entries of the user are deleted; a batched impression entry holding the user's impressions is
   * rewritten without them (deleted, and appended again when other users' impressions remain — so
   * the export orders impressions by their timestamp, not by stream position). Returns the user's
   * log records removed (impressions + rewards) and the keys deleted.
   */
  async purgeUser(exp: string, userId: string): Promise<{ logEntries: number; keys: number } | undefined> {
    await this.flush();
    return this.call('x_purge', async (r) => {
      const keys = await r.del(this.keys.recent(exp, userId), this.keys.rewarded(exp, userId), this.keys.assign(exp, userId));
      const log = this.keys.log(exp);
      let logEntries = 0;
      await this.scanLog(r, exp, async (page) => {
        const whole: string[] = [];
        const rewrites: Array<{ id: string; batch: string; n: number; removed: number }> = [];
        for (const e of page) {
          const f = e.fields;
          if (f.t === 'imp' && f.b !== undefined) {
            const lines = f.b.split('\n');
            const kept = lines.filter((line) => line.slice(0, line.indexOf('\t')) !== userId);
            if (kept.length < lines.length) rewrites.push({ id: e.id, batch: kept.join('\n'), n: kept.length, removed: lines.length - kept.length });
          } else if (f.user === userId) {
            whole.push(e.id);
          }
        }
        if (whole.length > 0) logEntries += await r.xdel(log, ...whole);
        for (const w of rewrites) {
          if ((await REWRITE_SCRIPT.run<number>(r, [log], [w.id, w.batch, String(w.n)])) === 1) logEntries += w.removed;
        }
      });
      return { logEntries, keys };
    });
  }

  /** Walk the log stream in pages of `count`. */
  async scanLog(r: RedisClient, exp: string, onPage: (page: LogEntry[]) => Promise<void> | void, count = 2000): Promise<void> {
    let start = '-';
    for (;;) {
      const raw = (await r.xrange(this.keys.log(exp), start, '+', 'COUNT', count)) as Array<[string, string[]]>;
      if (raw.length === 0) break;
      const page: LogEntry[] = raw.map(([id, list]) => {
        const fields: Record<string, string> = {};
        for (let f = 0; f + 1 < list.length; f += 2) fields[list[f]] = list[f + 1];
        return { id, fields };
      });
      await onPage(page);
      if (raw.length < count) break;
      start = `(${raw[raw.length - 1][0]}`;
    }
  }

  async registered(): Promise<string[]> {
    return (await this.call('x_registry', (r) => r.smembers(this.keys.registry))) ?? [];
  }

  async storedConfig(exp: string): Promise<string | null> {
    return (await this.call('x_config', (r) => r.get(this.keys.config(exp)))) ?? null;
  }

  async series(exp: string): Promise<Record<string, string>> {
    return (await this.call('x_series', (r) => r.hgetall(this.keys.series(exp)))) ?? {};
  }
}
