/**
 * GET /healthz (the process is up) and GET /readyz (models loaded; Redis state). With Redis down
 * /readyz says `degraded` but stays 200: the service still answers from the in-process tier and
 * L3, so a load balancer should keep sending traffic.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServingContext } from '../context.js';

const ReadyBody = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')]),
  redis: Type.Union([Type.Literal('ready'), Type.Literal('down'), Type.Literal('disabled')]),
  redisErrors: Type.Integer({ description: 'Redis errors since start (see recsys_redis_errors_total)' }),
  pendingEvents: Type.Integer({ description: 'events waiting to be replayed to Redis' }),
  models: Type.Array(Type.Object({ name: Type.String(), version: Type.String(), kind: Type.String(), users: Type.Integer(), items: Type.Integer(), loadedAt: Type.String() })),
});

export const healthRoute: FastifyPluginAsyncTypebox<{ ctx: ServingContext }> = async (app, { ctx }) => {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }) } } }, async () => ({
    status: 'ok' as const,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
  }));

  app.get('/readyz', { schema: { summary: 'Readiness: models loaded, Redis state', tags: ['operations'], response: { 200: ReadyBody } } }, async () => {
    const redis = ctx.tiers.state;
    return {
      status: redis === 'down' ? ('degraded' as const) : ('ready' as const),
      redis,
      redisErrors: ctx.metrics.redisErrorTotal,
      pendingEvents: ctx.service.pendingEvents,
      models: ctx.models.list.map((m) => ({ name: m.name, version: m.version, kind: m.recommender.name, users: m.userIds.size, items: m.itemIds.size, loadedAt: m.loadedAt })),
    };
  });
};
