/** GET /v1/items/:itemId/similar?k=&model= — items like this one (item factors, or training co-occurrence). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServingContext } from '../context.js';
import { ErrorBody, ExternalId, SimilarResponse } from './schemas.js';

export const similarRoute: FastifyPluginAsyncTypebox<{ ctx: ServingContext }> = async (app, { ctx }) => {
  const { config } = ctx;
  app.get(
    '/v1/items/:itemId/similar',
    {
      schema: {
        summary: 'Items similar to an item',
        description: 'Cosine similarity of item factors when the model has them (ALS), otherwise co-occurrence in the training interactions. 404 for an item the model does not know.',
        tags: ['recommendations'],
        params: Type.Object({ itemId: ExternalId('the item\'s external id') }),
        querystring: Type.Object(
          {
            k: Type.Optional(Type.Integer({ minimum: 1, maximum: config.maxK, default: config.defaultK })),
            model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SimilarResponse, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => ctx.service.similar(ctx.models.pick(req.query.model), req.params.itemId, req.query.k ?? config.defaultK),
  );
};
