/**
 * POST /v1/events — a validated batch of view/click/cart/purchase events. Each is appended to the
 * Redis stream (for `recsys ingest --from-stream` and the next training), pushed onto the user's
 * recent history, and the user's cached lists are dropped: the user's next request is recomputed
 * in L3 with the new interactions. 202 even while Redis is down (`persisted: false`; the events
 * apply on this instance at once and are replayed to Redis when it returns).
 *
 * With an experiment running, each event is also attributed to an impression (by its requestId,
 * or the user's latest impression listing the item within the attribution window), which updates
 * the arm's shared counters (its posterior); `attributed` says how many counted.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServingContext } from '../context.js';
import type { LiveEvent } from '../cache/tiers.js';
import { ErrorBody, EventSchema, EventsResponse } from './schemas.js';

export const eventsRoute: FastifyPluginAsyncTypebox<{ ctx: ServingContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Record user events',
        tags: ['events'],
        body: Type.Object({ events: Type.Array(EventSchema, { minItems: 1, maxItems: ctx.config.maxEventsPerRequest }) }, { additionalProperties: false }),
        response: { 202: EventsResponse, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const now = Date.now() / 1000;
      const events: LiveEvent[] = req.body.events.map((e) => ({
        userId: e.userId,
        itemId: e.itemId,
        type: e.type,
        ts: e.timestamp ? Math.floor(Date.parse(e.timestamp) / 1000) : Math.floor(now),
      }));
      const result = await ctx.service.ingest(events);
      if (!ctx.experiments?.active) return reply.code(202).send(result);
      const attributed = await ctx.experiments.attribute(
        req.body.events.map((e) => ({ userId: e.userId, itemId: e.itemId, type: e.type, requestId: e.requestId ?? null, tsMs: e.timestamp ? Date.parse(e.timestamp) : Date.now() })),
      );
      return reply.code(202).send({ ...result, attributed });
    },
  );
};
