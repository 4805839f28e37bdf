/**
 * Admin routes, behind `Authorization: Bearer <RECSYS_ADMIN_TOKEN>` (401 otherwise). buildApp
 * registers them only when a token is configured, so an empty token can never open them.
 *
 *   POST   /admin/reload                    load the served models again from disk, swap atomically
 *                                           (and re-read the experiments file, if any)
 *   POST   /admin/users/:userId/opt-out     {optOut: true|false}: lists become non-personalised
 *                                           (experiments: the control's list, not logged)
 *   DELETE /admin/users/:userId             purge cached lists, history, stream entries, precomputed lists,
 *                                           and the user's experiment impressions and rewards
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RecsysError } from '../../errors.js';
import type { ExperimentsReloadReport } from '../../experiments/manager.js';
import type { ServingContext } from '../context.js';
import { ErrorBody, ExternalId } from './schemas.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: ServingContext; reload: () => Promise<ReloadReport> }> = async (app, { ctx, reload }) => {
  const expected = digest(ctx.config.adminToken);
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Compare digests: constant time, whatever the lengths.
    if (!token || !timingSafeEqual(digest(token), expected)) {
      throw new RecsysError('RECSYS_ERR_UNAUTHORIZED', 'admin routes need the header `Authorization: Bearer <token>` with the RECSYS_ADMIN_TOKEN the server was started with');
    }
  });
  const security = [{ bearer: [] }];
  const errors = { 400: ErrorBody, 401: ErrorBody };

  app.post('/reload', { schema: { summary: 'Reload the served models from disk (atomic swap)', tags: ['admin'], security, response: { 200: ReloadBody, ...errors } } }, async () => reload());

  app.post(
    '/users/:userId/opt-out',
    {
      schema: {
        summary: 'Opt a user out of (or back into) personalisation',
        tags: ['admin'],
        security,
        params: Type.Object({ userId: ExternalId('the user\'s external id') }),
        body: Type.Object({ optOut: Type.Boolean({ default: true }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ userId: Type.String(), optedOut: Type.Boolean(), persisted: Type.Boolean() }), ...errors },
      },
    },
    async (req) => {
      const optOut = req.body.optOut ?? true;
      const { persisted } = await ctx.service.setOptOut(req.params.userId, optOut);
      return { userId: req.params.userId, optedOut: optOut, persisted };
    },
  );

  app.delete(
    '/users/:userId',
    {
      schema: {
        summary: 'Delete a user\'s data held by the serving layer',
        description: 'Purges the user\'s cached lists (L1), recent history, opt-out flag, precomputed lists (L2), event-stream entries and, with experiments, their impressions and rewards in the experiments log. The trained model still holds the user until the next training.',
        tags: ['admin'],
        security,
        params: Type.Object({ userId: ExternalId('the user\'s external id') }),
        response: {
          200: Type.Object({
            userId: Type.String(),
            persisted: Type.Boolean(),
            purged: Type.Object({
              cachedLists: Type.Optional(Type.Integer()),
              historyEntries: Type.Optional(Type.Integer()),
              streamEntries: Type.Optional(Type.Integer()),
              precomputedLists: Type.Optional(Type.Integer()),
              optOutFlag: Type.Optional(Type.Integer()),
              experimentLogEntries: Type.Optional(Type.Integer({ description: 'impression and reward entries of the experiments log' })),
              experimentKeys: Type.Optional(Type.Integer({ description: 'recent impressions, reward marks and sticky assignments' })),
            }),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const user = req.params.userId;
      const result = await ctx.service.deleteUser(user, ctx.models.list);
      if (ctx.experiments) {
        // Experiments log impressions per user: deletion purges them (aggregate counts stay).
        const x = await ctx.experiments.purgeUser(user);
        if (x) Object.assign(result.purged, { experimentLogEntries: x.logEntries, experimentKeys: x.keys });
        else result.persisted = false;
      }
      return { userId: user, ...result };
    },
  );
};

export const ReloadBody = Type.Object({
  models: Type.Array(Type.Object({ name: Type.String(), version: Type.String(), previousVersion: Type.Union([Type.String(), Type.Null()]) })),
  seconds: Type.Number(),
  experiments: Type.Optional(
    Type.Object({
      source: Type.Union([Type.String(), Type.Null()]),
      experiments: Type.Array(Type.String()),
      active: Type.Union([Type.String(), Type.Null()]),
      error: Type.Optional(Type.String({ description: 'why the experiments file was not reloaded (the previous experiments keep running)' })),
    }),
  ),
});

export interface ReloadReport {
  models: Array<{ name: string; version: string; previousVersion: string | null }>;
  seconds: number;
  experiments?: ExperimentsReloadReport;
}
