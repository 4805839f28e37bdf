/**
 * The serving configuration: one TypeBox schema holds every option, its default and its bounds
 * (schema first, defaults once), so `buildApp`, `recsys serve --help` and docs/serving.md cannot
 * drift. `resolveServingConfig` fills the defaults, validates, and freezes the result.
 */
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';
import { RecsysError } from '../errors.js';

export const EVENT_TYPES = ['view', 'click', 'cart', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Weights used when an artifact carries none (the quickstart's view=1, click=2, cart=4, purchase=8). */
export const DEFAULT_EVENT_WEIGHTS: Readonly<Record<EventType, number>> = { view: 1, click: 2, cart: 4, purchase: 8 };

export const ServingConfigSchema = Type.Object({
  keyPrefix: Type.String({ default: 'recsys', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'Prefix of every Redis key (a namespace per deployment or test).' }),
  defaultK: Type.Integer({ default: 10, minimum: 1, maximum: 1000, description: 'List length when a request gives no k.' }),
  maxK: Type.Integer({ default: 200, minimum: 1, maximum: 10000, description: 'Largest k a request may ask for.' }),
  l1Enabled: Type.Boolean({ default: true, description: 'Cache computed lists per user in Redis (L1). Off: every miss goes to L2/L3 (benchmarks of L2).' }),
  l1TtlSeconds: Type.Integer({ default: 3600, minimum: 1, description: 'Lifetime of a per-user list in the L1 Redis cache.' }),
  lruEntries: Type.Integer({ default: 10000, minimum: 0, description: 'Users kept in the in-process LRU in front of L1 (0 turns it off).' }),
  lruTtlMs: Type.Integer({ default: 2000, minimum: 0, description: 'Lifetime of an in-process LRU entry: bounds how stale another instance can be after an event.' }),
  similarTtlSeconds: Type.Integer({ default: 3600, minimum: 1, description: 'Lifetime of a cached similar-items list in Redis.' }),
  historyLength: Type.Integer({ default: 100, minimum: 1, maximum: 10000, description: 'Recent events kept per user (Redis list and in-process fallback).' }),
  historyTtlSeconds: Type.Integer({ default: 30 * 86400, minimum: 1, description: 'Lifetime of a user\'s recent-event history after the last event.' }),
  localHistoryUsers: Type.Integer({ default: 100000, minimum: 0, description: 'Users whose recent events are also kept in process, to stay real time while Redis is down.' }),
  streamKey: Type.String({ default: 'events', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'Stream (after the prefix) that POST /v1/events appends to.' }),
  streamMaxLen: Type.Integer({ default: 1000000, minimum: 1, description: 'Approximate cap on the event stream (XADD MAXLEN ~).' }),
  maxEventsPerRequest: Type.Integer({ default: 1000, minimum: 1, maximum: 100000, description: 'Largest batch POST /v1/events accepts.' }),
  reasonItems: Type.Integer({ default: 10, minimum: 0, maximum: 1000, description: 'How many list items get a "because of" reason.' }),
  ann: Type.Enum(['auto', 'on', 'off'], { default: 'auto', description: 'L3 through an IVF index (approximate): auto = for catalogues of at least annMinItems items, for models with item and user vectors.' }),
  annMinItems: Type.Integer({ default: 200000, minimum: 1, description: 'Catalogue size from which ann=auto builds the index.' }),
  annLists: Type.Integer({ default: 0, minimum: 0, description: 'IVF lists (0 = round(√items)).' }),
  annProbes: Type.Integer({ default: 0, minimum: 0, description: 'Lists scanned per query (0 = max(8, lists/32)); more = better recall, slower.' }),
  annQuantize: Type.Enum(['none', 'int8'], { default: 'none', description: 'int8: list vectors in int8 (a quarter of the memory), candidates re-scored in float32.' }),
  l2PointerRefreshMs: Type.Integer({ default: 5000, minimum: 0, description: 'How often the current precompute version is re-read from Redis.' }),
  redisCommandTimeoutMs: Type.Integer({ default: 200, minimum: 1, description: 'A Redis command slower than this counts as an error and the next tier answers.' }),
  adminToken: Type.String({ default: '', description: 'Bearer token for /admin routes; empty = admin routes are not registered.' }),
  processMetrics: Type.Boolean({ default: true, description: 'Export Node process metrics (heap, event-loop lag) on /metrics.' }),
  logger: Type.Boolean({ default: false, description: 'fastify request logging (pino, JSON on stdout).' }),
  experimentsFile: Type.String({ default: '', description: 'JSON file of online experiments (A/B, Thompson sampling over the served models, canary, guardrails; docs/experiments.md); empty = none.' }),
  experimentsWatch: Type.Boolean({ default: true, description: 'Reload the experiments file when it changes (it is also reloaded by POST /admin/reload).' }),
});

export type ServingConfig = Static<typeof ServingConfigSchema>;

/** Defaults filled, validated, frozen. Errors name the option. */
export function resolveServingConfig(partial: Partial<ServingConfig> = {}): Readonly<ServingConfig> {
  const known = new Set(Object.keys(ServingConfigSchema.properties));
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) {
      throw new RecsysError('RECSYS_ERR_USAGE', `unknown serving option '${key}'. Known options: ${[...known].join(', ')}.`, { option: key });
    }
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const value = Value.Default(ServingConfigSchema, structuredClone(defined)) as ServingConfig;
  const errors = [...Value.Errors(ServingConfigSchema, value)];
  if (errors.length > 0) {
    const e = errors[0];
    const field = e.instancePath.replace(/^\//, '');
    throw new RecsysError('RECSYS_ERR_USAGE', `serving option '${field || '(root)'}' ${e.message} (got ${JSON.stringify(field ? (value as Record<string, unknown>)[field] : value)})`, { option: field });
  }
  if (value.defaultK > value.maxK) {
    throw new RecsysError('RECSYS_ERR_USAGE', `serving option 'defaultK' (${value.defaultK}) is larger than 'maxK' (${value.maxK})`, { option: 'defaultK' });
  }
  return Object.freeze(value);
}
