/** GET /docs/json — the OpenAPI 3 document @fastify/swagger builds from the route schemas. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const docsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
};
