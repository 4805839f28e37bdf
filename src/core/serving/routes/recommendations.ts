/**
 * GET /v1/users/:userId/recommendations?k=&exclude=&category=&model= — a user's list in raw
 * external ids, with scores, the strategy and tier that produced it, the model version and
 * per-item reasons. An unknown user is a cold-start user (popularity), never a 404.
 *
 * With an experiment running and no ?model=, the experiment picks the arm (a served model), the
 * response carries `requestId` and `experiment: {id, arm, propensity}`, and the impression is
 * logged (without waiting for Redis). A user who opted out of personalisation gets the control's
 * unpersonalised list and is not logged.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServingContext } from '../context.js';
import { ErrorBody, ExternalId, RecommendationsResponse } from './schemas.js';

export const recommendationsRoute: FastifyPluginAsyncTypebox<{ ctx: ServingContext }> = async (app, { ctx }) => {
  const { config } = ctx;
  // Impression ids: random per app instance + a counter — unique across processes and restarts, and cheap.
  const bootId = randomBytes(6).toString('base64url');
  let counter = 0;
  app.get(
    '/v1/users/:userId/recommendations',
    {
      schema: {
        summary: 'Top-k items for a user',
        description: 'Answered by the first tier that has the list: in-process LRU, L1 (per-user Redis cache), L2 (precomputed by `recsys precompute`), L3 (computed now, with the user\'s live events folded in). Unknown users get the cold-start list.',
        tags: ['recommendations'],
        params: Type.Object({ userId: ExternalId('the user\'s external id (unknown ids are cold-start users)') }),
        querystring: Type.Object(
          {
            k: Type.Optional(Type.Integer({ minimum: 1, maximum: config.maxK, default: config.defaultK, description: 'list length' })),
            exclude: Type.Optional(Type.String({ maxLength: 16384, pattern: '^[^\\t\\n\\r]*$', description: 'comma-separated item ids never to return' })),
            category: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'only items of this catalogue category (needs the server started with --store)' })),
            model: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'which served model (default: the first)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: RecommendationsResponse, 400: ErrorBody },
      },
    },
    async (req) => {
      const exclude = req.query.exclude ? req.query.exclude.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
      const query = { userId: req.params.userId, k: req.query.k ?? config.defaultK, exclude, category: req.query.category ?? null };
      const experiment = req.query.model === undefined ? ctx.experiments?.active : null;
      if (!experiment) return ctx.service.recommend(ctx.models.pick(req.query.model), query);

      const assignment = await experiment.assign(query.userId);
      const armModel = ctx.models.list.find((m) => m.name === assignment.arm);
      // A reload dropped the arm's model (the experiments file then failed to reload): serve, do not log.
      if (!armModel) return ctx.service.recommend(ctx.models.default, query);
      const result = await ctx.service.recommend(armModel, query);
      if (result.strategy === 'opted-out-popularity') {
        // Opted out: the control, unpersonalised, and nothing logged.
        const control = experiment.config.control;
        return assignment.arm === control ? result : ctx.service.recommend(ctx.models.pick(control), query);
      }
      const requestId = `${bootId}-${(++counter).toString(36)}`;
      ctx.experiments!.recordImpression(assignment, query.userId, requestId, result.items.map((i) => i.itemId));
      return { ...result, requestId, experiment: { id: assignment.experiment, arm: assignment.arm, propensity: assignment.propensity } };
    },
  );
};
