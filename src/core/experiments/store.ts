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
 *   <p>:x:{<exp>}:log                    stream: t=imp (rid arm p user items ts) and t=clk|conv (rid arm user item pos ts)
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

// KEYS: stats, series, log. ARGV: stream max length, n stats increments, (field, by)…, n series
// increments, (field, by)…, then per impression: rid, arm, p, user, items, ts. A batch of impressions
// in one call: the request path only queues (see ExperimentStore.recordImpression).
const COUNT_IMPRESSIONS = `
local i = 2
local n = tonumber(ARGV[i])
i = i + 1
for k = 1, n do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) i = i + 2 end
n = tonumber(ARGV[i])
i = i + 1
for k = 1, n do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) i = i + 2 end
while i + 5 <= #ARGV do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*', 't', 'imp', 'rid', ARGV[i], 'arm', ARGV[i + 1], 'p', ARGV[i + 2], 'user', ARGV[i + 3], 'items', ARGV[i + 4], 'ts', ARGV[i + 5])
  i = i + 6
end
return 1`;

// KEYS: recent lists of n users. ARGV: max entries, window ms, then one entry per key. Standalone
// Redis only (the keys live in different cluster slots).
const RECENT_MANY = `
for k = 1, #KEYS do
  redis.call('LPUSH', KEYS[k], ARGV[k + 2])
  redis.call('LTRIM', KEYS[k], 0, tonumber(ARGV[1]) - 1)
  redis.call('PEXPIRE', KEYS[k], ARGV[2])
end
return 1`;

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
const RECENT_MANY_SCRIPT = new Script(RECENT_MANY);
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
    if (this.queued > 0) await this.flush();
    return this.call('x_read', async (r) => {
      const [stats, state] = await Promise.all([r.hgetall(this.keys.stats(exp)), r.hgetall(this.keys.state(exp))]);
      return { stats, state };
    });
  }

  /**
   * Count an impression (stats, series, log) and remember it for the user's attribution. Queued:
   * impressions are written in batches (one script call per experiment for the counters and the
   * log, one per impression for the user's recent list) every `flushMs` or `maxBatch`
   * impressions, so a request pays for a push onto an array, not for Redis. Resolves when written
   * (true) or dropped because Redis was unavailable (false). Attribution and refreshes flush first.
   */
  recordImpression(exp: string, rec: ImpressionRecord, bucketSec: number, maxLen: number, recentMax: number, windowMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let q = this.queue.get(exp);
      if (!q) this.queue.set(exp, (q = { maxLen, entries: [] }));
      q.entries.push({ rec, bucketSec, recentMax, windowMs, resolve });
      this.queued++;
      if (this.queued >= this.maxBatch) void this.flush();
      else if (!this.timer) {
        this.timer = setTimeout(() => void this.flush(), this.flushMs);
        this.timer.unref?.();
      }
    });
  }

  private queue = new Map<string, { maxLen: number; entries: Array<{ rec: ImpressionRecord; bucketSec: number; recentMax: number; windowMs: number; resolve: (ok: boolean) => void }> }>();
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  flushMs = 10;
  maxBatch = 16;

  /** Write every queued impression now. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queued === 0) return;
    const batches = this.queue;
    this.queue = new Map();
    this.queued = 0;
    await Promise.all(
      [...batches].map(async ([exp, q]) => {
        const stats = new Map<string, number>();
        const series = new Map<string, number>();
        const entries: string[] = [];
        for (const { rec, bucketSec } of q.entries) {
          stats.set(`imp:${rec.arm}`, (stats.get(`imp:${rec.arm}`) ?? 0) + 1);
          const f = `${bucketSec}|imp|${rec.arm}`;
          series.set(f, (series.get(f) ?? 0) + 1);
          entries.push(rec.requestId, rec.arm, String(rec.propensity), rec.userId, rec.itemIds.join('\t'), String(rec.tsMs));
        }
        const argv = [String(q.maxLen), String(stats.size), ...[...stats].flatMap(([f, n]) => [f, String(n)]), String(series.size), ...[...series].flatMap(([f, n]) => [f, String(n)]), ...entries];
        const recentEntry = (rec: ImpressionRecord): string => {
          const items = rec.itemIds.join('\t');
          return `${rec.requestId}\t${rec.arm}\t${rec.tsMs}\t${rec.propensity}${items ? `\t${items}` : ''}`;
        };
        const ok = await this.call('x_impression', async (r) => {
          const counters = COUNT_IMPRESSIONS_SCRIPT.run(r, [this.keys.stats(exp), this.keys.series(exp), this.keys.log(exp)], argv);
          // One call for every user's list on a standalone Redis; one per user on a cluster (different slots).
          const first = q.entries[0];
          const recents = r instanceof Cluster
            ? q.entries.map(({ rec, recentMax, windowMs }) => RECENT_SCRIPT.run(r, [this.keys.recent(exp, rec.userId)], [recentEntry(rec), String(recentMax), String(windowMs)]))
            : [RECENT_MANY_SCRIPT.run(r, q.entries.map((e) => this.keys.recent(exp, e.rec.userId)), [String(first.recentMax), String(first.windowMs), ...q.entries.map((e) => recentEntry(e.rec))])];
          await Promise.all([counters, ...recents]);
          return true;
        });
        for (const e of q.entries) e.resolve(ok === true);
      }),
    );
  }

  /** Match an event to an impression of the user (by request id, or the newest listing the item). */
  async attribute(exp: string, userId: string, itemId: string, requestId: string | null, eventMs: number, windowMs: number, kind: 'clk' | 'conv'): Promise<Attribution | null | undefined> {
    if (this.queued > 0) await this.flush();
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

  /** A user's impressions and rewards: recent list, reward marks, sticky arm, log entries. Returns log entries deleted. */
  async purgeUser(exp: string, userId: string): Promise<{ logEntries: number; keys: number } | undefined> {
    if (this.queued > 0) await this.flush();
    return this.call('x_purge', async (r) => {
      const keys = await r.del(this.keys.recent(exp, userId), this.keys.rewarded(exp, userId), this.keys.assign(exp, userId));
      let logEntries = 0;
      await this.scanLog(r, exp, async (page) => {
        const mine = page.filter((e) => e.fields.user === userId).map((e) => e.id);
        if (mine.length > 0) logEntries += await r.xdel(this.keys.log(exp), ...mine);
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
