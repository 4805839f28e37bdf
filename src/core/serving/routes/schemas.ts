/**
 * TypeBox schemas shared by the route plugins: request validation (fastify's Ajv, which applies
 * the defaults and coerces query strings), response serialisation, and the OpenAPI document.
 */
import { Type, type Static } from 'typebox';
import { EVENT_TYPES } from '../config.js';
import { STRATEGIES } from '../cache/codec.js';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'FST_ERR_VALIDATION for schema errors, RECSYS_ERR_* otherwise' }),
    error: Type.String(),
    message: Type.String({ description: 'What is wrong, naming the field (e.g. querystring/k must be <= 200)' }),
  },
  { $id: 'ErrorBody' },
);

/** External ids: no control characters (they are stored tab-separated in the history lists). */
export const ExternalId = (description: string) => Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\t\\n\\r]+$', description });

export const Strategy = Type.Enum([...STRATEGIES], {
  description: 'Who produced the list: personalized (stored user state), realtime (recomputed with live events), cold-start-popularity (unknown user), opted-out-popularity, item-similarity / co-occurrence (similar items)',
});

export const TierSchema = Type.Enum(['lru', 'l1', 'l2', 'l3'], {
  description: 'Which tier answered: lru (in process), l1 (per-user Redis cache), l2 (precomputed), l3 (computed now)',
});

export const ReasonSchema = Type.Object({
  kind: Type.Enum(['similar-to', 'popular']),
  itemId: Type.Optional(Type.String({ description: 'similar-to: the item from the user\'s history closest to this one' })),
});

export const RecommendationsResponse = Type.Object({
  userId: Type.String(),
  model: Type.String(),
  modelVersion: Type.String(),
  strategy: Strategy,
  tier: TierSchema,
  k: Type.Integer(),
  items: Type.Array(Type.Object({ itemId: Type.String(), score: Type.Number(), reasons: Type.Array(ReasonSchema) })),
  requestId: Type.Optional(Type.String({ description: 'With an experiment running: the impression\'s id; send it back with the user\'s events (requestId) to attribute them' })),
  experiment: Type.Optional(
    Type.Object({
      id: Type.String(),
      arm: Type.String({ description: 'the arm (served model) this request was assigned to' }),
      propensity: Type.Number({ description: 'the probability the assignment gave this arm (logged for off-policy evaluation)' }),
    }),
  ),
});

export const SimilarResponse = Type.Object({
  itemId: Type.String(),
  model: Type.String(),
  modelVersion: Type.String(),
  strategy: Strategy,
  tier: Type.Enum(['lru', 'l1', 'l3']),
  k: Type.Integer(),
  items: Type.Array(Type.Object({ itemId: Type.String(), score: Type.Number() })),
});

export const EventSchema = Type.Object(
  {
    userId: ExternalId('the user\'s external id'),
    itemId: ExternalId('the item\'s external id'),
    type: Type.Enum([...EVENT_TYPES], { description: 'view | click | cart | purchase' }),
    timestamp: Type.Optional(Type.String({ format: 'date-time', description: 'when it happened (ISO 8601); default: when received' })),
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\t\\n\\r|]+$', description: 'the requestId of the recommendation response the item was shown in (experiments: attributes the event to that impression; without it, to the user\'s latest impression listing the item within the attribution window)' })),
  },
  { additionalProperties: false },
);

export type EventBody = Static<typeof EventSchema>;

export const EventsResponse = Type.Object({
  accepted: Type.Integer(),
  persisted: Type.Boolean({ description: 'false when Redis was unavailable: the events apply on this instance now and are replayed to Redis when it is back' }),
  users: Type.Integer(),
  attributed: Type.Optional(Type.Integer({ description: 'With an experiment running: clicks and conversions attributed to its impressions' })),
});
