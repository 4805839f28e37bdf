/**
 * The HTTP server: `buildApp({models, redis, config})` returns a fastify 5 instance with every
 * route registered as its own plugin (routes/), TypeBox schemas for input and output, the
 * OpenAPI document at /docs/json, Prometheus metrics at /metrics, and one error handler that maps
 * RecsysError codes to HTTP statuses. Nothing lives at module level: two apps in one process
 * (tests, blue/green reloads) share nothing.
 *
 * The caller owns the Redis client (buildApp never connects or closes it) and calls
 * `app.listen()` / `app.close()`.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isRecsysError } from '../errors.js';
import type { ExperimentsConfig } from '../experiments/config.js';
import { ExperimentManager } from '../experiments/manager.js';
import { KeySpace } from './cache/keys.js';
import type { RedisClient } from './cache/redis.js';
import { RedisTiers } from './cache/tiers.js';
import { resolveServingConfig, type ServingConfig } from './config.js';
import { ModelSet, type ServingContext } from './context.js';
import { ServingMetrics } from './metrics.js';
import { ServingModel } from './model.js';
import { RecommendationService } from './recommend.js';
import { adminRoutes, type ReloadReport } from './routes/admin.js';
import { docsRoute } from './routes/docs.js';
import { eventsRoute } from './routes/events.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { recommendationsRoute } from './routes/recommendations.js';
import { similarRoute } from './routes/similar.js';

export interface BuildAppOptions {
  models: readonly ServingModel[];
  /** A connected (or connecting) ioredis client; null/absent = in-process tiers and L3 only. */
  redis?: RedisClient | null;
  config?: Partial<ServingConfig>;
  /** How /admin/reload and `reload()` get fresh models (default: ServingModel.load of each model's dir). */
  loadModels?: () => Promise<ServingModel[]>;
  /** Package version shown in the OpenAPI document. */
  version?: string;
  /** Experiments given in memory (tests, benchmarks); otherwise config.experimentsFile is read. */
  experiments?: ExperimentsConfig | null;
  /** Experiments: run the refresh timers (default true); off, the caller ticks the engines. */
  experimentTimers?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    recsys: ServingContext & { reloadModels: () => Promise<ReloadReport> };
  }
}

const HTTP_NAMES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const config = resolveServingConfig(opts.config);
  const redis = opts.redis ?? null;
  const metrics = new ServingMetrics({ processMetrics: config.processMetrics, redisState: () => redis !== null && redis.status === 'ready' });
  const tiers = new RedisTiers(redis, new KeySpace(config.keyPrefix, config.streamKey), metrics, {
    l1TtlSeconds: config.l1TtlSeconds,
    historyLength: config.historyLength,
    historyTtlSeconds: config.historyTtlSeconds,
    streamMaxLen: config.streamMaxLen,
    similarTtlSeconds: config.similarTtlSeconds,
    pointerRefreshMs: config.l2PointerRefreshMs,
  });
  const service = new RecommendationService(config, tiers, metrics);
  const annOptions = { mode: config.ann, minItems: config.annMinItems, lists: config.annLists, probes: config.annProbes, quantize: config.annQuantize };
  for (const m of opts.models) await m.prepareAnn(annOptions);
  const models = new ModelSet(opts.models);
  metrics.setModels(models.list);

  const loadModels =
    opts.loadModels ??
    (async () => {
      const current = models.list;
      return Promise.all(current.map((m) => (m.dir ? ServingModel.load(m.dir, { name: m.name, catalog: m.catalog }) : Promise.resolve(m))));
    });

  // Reloads run one at a time; requests keep using the set they picked up.
  let reloading: Promise<unknown> = Promise.resolve();
  const reloadModels = (): Promise<ReloadReport> => {
    const run = reloading.then(async () => {
      const t0 = performance.now();
      const fresh = await loadModels();
      for (const m of fresh) await m.prepareAnn(annOptions);
      const previous = models.swap(fresh);
      const before = new Map(previous.map((m) => [m.name, m.version]));
      service.clearLocalCaches();
      metrics.setModels(models.list);
      // The experiments file is re-read too (its arms are checked against the reloaded models).
      const exp = experiments ? await experiments.reload().catch((e: Error) => ({ ...experiments!.summary(), error: `${e.message} (still running the previous experiments)` })) : undefined;
      return { models: fresh.map((m) => ({ name: m.name, version: m.version, previousVersion: before.get(m.name) ?? null })), seconds: (performance.now() - t0) / 1000, ...(exp ? { experiments: exp } : {}) };
    });
    reloading = run.catch(() => undefined);
    return run;
  };

  const app = Fastify({ logger: config.logger }).withTypeProvider<TypeBoxTypeProvider>();
  let experiments: ExperimentManager | null = null;
  if (opts.experiments || config.experimentsFile) {
    experiments = await ExperimentManager.start({
      file: opts.experiments ? null : config.experimentsFile,
      config: opts.experiments ?? null,
      call: (op, fn) => tiers.call(op, fn),
      keyPrefix: config.keyPrefix,
      servedModels: () => models.list.map((m) => m.name),
      registry: metrics.registry,
      watch: config.experimentsWatch,
      timers: opts.experimentTimers ?? true,
      // Rollbacks and reload errors must be seen even with request logging off.
      log: (level, message, data) => {
        if (config.logger) app.log[level]({ ...data }, message);
        else process.stderr.write(`[experiments] ${level}: ${message}\n`);
      },
    });
  }
  const ctx: ServingContext = { config, models, service, tiers, metrics, reload: loadModels, startedAt: Date.now(), experiments };
  app.decorate('recsys', { ...ctx, reloadModels });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isRecsysError(err)) {
      return reply.status(err.status).send({ statusCode: err.status, code: err.code, error: HTTP_NAMES[err.status] ?? 'Error', message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error(err);
    return reply.status(status).send({ statusCode: status, code: err.code ?? 'RECSYS_ERR_SERVING', error: HTTP_NAMES[status] ?? 'Error', message: status === 500 ? 'internal error' : err.message });
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // Redis came back: replay events it missed and drop the L1 lists they made stale.
  const onReady = (): void => {
    void service.flushPending();
  };
  redis?.on('ready', onReady);
  app.addHook('onClose', async () => {
    redis?.off('ready', onReady);
    await experiments?.close();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'recsys serving API', version: opts.version ?? '0.1.0', description: 'Recommendations over HTTP with a three-tier Redis cache. See docs/serving.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(healthRoute, { ctx });
  await app.register(metricsRoute, { ctx });
  await app.register(recommendationsRoute, { ctx });
  await app.register(similarRoute, { ctx });
  await app.register(eventsRoute, { ctx });
  if (config.adminToken) await app.register(adminRoutes, { ctx, reload: reloadModels, prefix: '/admin' });
  await app.register(docsRoute);
  return app;
}
