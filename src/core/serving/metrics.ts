/**
 * Prometheus metrics of one app instance (its own prom-client Registry: no global state, so two
 * apps in one process, as in the tests, never mix their numbers). Served as text on GET /metrics.
 *
 *  - recsys_http_request_duration_seconds{route,method,status}  histogram per route
 *  - recsys_recommendation_duration_seconds{tier}                histogram per answering tier
 *  - recsys_cache_lookups_total{tier,result}                     hit / miss per cache tier
 *  - recsys_cache_hit_ratio{tier}                                hits / lookups since start
 *  - recsys_events_ingested_total{type}                          events accepted by POST /v1/events
 *  - recsys_model_info{model,version}                            1 per loaded model version
 *  - recsys_redis_errors_total{op}                               failed, timed-out or skipped (down) Redis calls
 *  - recsys_redis_up                                             1 while the client is connected
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Tier = 'lru' | 'l1' | 'l2' | 'l3';
export const CACHE_TIERS = ['lru', 'l1', 'l2'] as const;

// Sub-millisecond buckets: cache hits are answered in well under 1 ms of server time.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServingMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly tierDuration: Histogram<'tier'>;
  readonly cacheLookups: Counter<'tier' | 'result'>;
  readonly eventsIngested: Counter<'type'>;
  readonly modelInfo: Gauge<'model' | 'version'>;
  readonly redisErrors: Counter<'op'>;
  readonly redisUp: Gauge;
  private readonly hits = new Map<string, number>();
  private readonly lookups = new Map<string, number>();
  private readonly redisErrorCounts = new Map<string, number>();

  constructor(opts: { processMetrics?: boolean; redisState?: () => boolean } = {}) {
    const registers = [this.registry];
    this.httpDuration = new Histogram({ name: 'recsys_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route', 'method', 'status'], buckets: LATENCY_BUCKETS, registers });
    this.tierDuration = new Histogram({ name: 'recsys_recommendation_duration_seconds', help: 'Recommendation latency by the tier that answered', labelNames: ['tier'], buckets: LATENCY_BUCKETS, registers });
    this.cacheLookups = new Counter({ name: 'recsys_cache_lookups_total', help: 'Cache lookups by tier and result (hit or miss)', labelNames: ['tier', 'result'], registers });
    const hits = this.hits;
    const lookups = this.lookups;
    new Gauge({
      name: 'recsys_cache_hit_ratio',
      help: 'Cache hits / lookups per tier since start',
      labelNames: ['tier'],
      registers,
      collect() {
        for (const tier of CACHE_TIERS) {
          const n = lookups.get(tier) ?? 0;
          this.set({ tier }, n > 0 ? (hits.get(tier) ?? 0) / n : 0);
        }
      },
    });
    this.eventsIngested = new Counter({ name: 'recsys_events_ingested_total', help: 'Events accepted by POST /v1/events', labelNames: ['type'], registers });
    this.modelInfo = new Gauge({ name: 'recsys_model_info', help: 'Loaded model versions (value 1)', labelNames: ['model', 'version'], registers });
    this.redisErrors = new Counter({ name: 'recsys_redis_errors_total', help: 'Redis calls that failed, timed out or were skipped while Redis was down', labelNames: ['op'], registers });
    const redisState = opts.redisState;
    this.redisUp = new Gauge({
      name: 'recsys_redis_up',
      help: '1 while the Redis client is connected and ready',
      registers,
      collect() {
        this.set(redisState?.() ? 1 : 0);
      },
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'recsys_' });
  }

  cache(tier: (typeof CACHE_TIERS)[number], hit: boolean): void {
    this.cacheLookups.inc({ tier, result: hit ? 'hit' : 'miss' });
    this.lookups.set(tier, (this.lookups.get(tier) ?? 0) + 1);
    if (hit) this.hits.set(tier, (this.hits.get(tier) ?? 0) + 1);
  }

  redisError(op: string): void {
    this.redisErrors.inc({ op });
    this.redisErrorCounts.set(op, (this.redisErrorCounts.get(op) ?? 0) + 1);
  }

  /** Total Redis errors so far (all ops), for /readyz. */
  get redisErrorTotal(): number {
    let total = 0;
    for (const n of this.redisErrorCounts.values()) total += n;
    return total;
  }

  setModels(models: ReadonlyArray<{ name: string; version: string }>): void {
    this.modelInfo.reset();
    for (const m of models) this.modelInfo.set({ model: m.name, version: m.version }, 1);
  }
}
