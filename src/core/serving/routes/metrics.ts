/** GET /metrics — Prometheus text exposition of this app's registry. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServingContext } from '../context.js';

export const metricsRoute: FastifyPluginAsyncTypebox<{ ctx: ServingContext }> = async (app, { ctx }) => {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], hide: false } }, async (_req, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
};
