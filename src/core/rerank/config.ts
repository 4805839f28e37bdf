/**
 * The rules (and cold-start router) configuration: one TypeBox schema holds every option, its
 * default and its bounds (schema first, defaults once). `resolveRerankConfig` fills defaults,
 * validates, and names the offending key (`diversity.lamda`) with the keys it accepts; the same
 * object comes from `recsys train --model ensemble --rules rules.json`, from a library call, and from
 * the ensemble artifact's manifest.
 *
 * The pipeline order is fixed (filters, then boosts, then the sort, then diversity): a boost cannot
 * resurrect an excluded item and diversity always sees the final scores.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Type, type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { RecsysError } from '../errors.js';

const ExcludeBought = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Drop items the user already bought.' }),
    types: Type.Union([Type.Null(), Type.Array(Type.String({ minLength: 1 }))], {
      default: null,
      description: 'Interaction types that count as "bought" (e.g. ["purchase"]); null = the items the request excludes (every type in the user\'s history).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const ExcludeLists = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Drop the items of the explicit lists.' }),
    lists: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.Array(Type.String()), {
      default: {},
      description: 'Named lists of product ids never to show, e.g. {"outOfStock": ["p1"], "blocked": ["p9"]}.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const PopularityBoost = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Lift popular items slightly (the design: avoid a filter bubble of niche items).' }),
    beta: Type.Number({ default: 0.1, minimum: 0, maximum: 100, description: 'score × (1 + β·popularity), popularity = training count / max count ∈ [0, 1].' }),
  },
  { additionalProperties: false, default: {} },
);

const NewItemBoost = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Lift products during their first days after created_at.' }),
    days: Type.Number({ default: 7, exclusiveMinimum: 0, description: 'Length of the new-item window after created_at, in days.' }),
    boost: Type.Number({ default: 0.3, minimum: 0, maximum: 100, description: 'score + boost·unit inside the window (unit = the blend\'s natural scale: 1 for minmax, one standard deviation for zscore).' }),
    candidates: Type.Integer({ default: 20, minimum: 0, maximum: 10000, description: 'The ensemble adds up to this many of the newest in-window products to every candidate list, so that they can be reached at all.' }),
  },
  { additionalProperties: false, default: {} },
);

const TieBreak = Type.Object(
  {
    by: Type.Union([Type.Literal('index'), Type.Literal('popularity')], {
      default: 'index',
      description: 'Equal scores: smaller item index first, or more popular first (then smaller index).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Diversity = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Spread the top-k over categories (off by default: it trades accuracy for diversity; see the λ curve).' }),
    method: Type.Union([Type.Literal('mmr'), Type.Literal('cap')], { default: 'mmr', description: 'mmr = maximal marginal relevance with λ; cap = at most maxPerCategory items of one category in the top-k.' }),
    lambda: Type.Number({ default: 0.7, minimum: 0, maximum: 1, description: 'MMR: λ·relevance − (1−λ)·max same-category similarity; 1 = pure relevance.' }),
    maxPerCategory: Type.Integer({ default: 3, minimum: 1, description: 'cap: most items of one category in the top-k (relaxed when the list would be short).' }),
  },
  { additionalProperties: false, default: {} },
);

export const RulesSchema = Type.Object(
  {
    excludeBought: ExcludeBought,
    excludeLists: ExcludeLists,
    popularityBoost: PopularityBoost,
    newItemBoost: NewItemBoost,
    tieBreak: TieBreak,
    diversity: Diversity,
  },
  { additionalProperties: false, default: {} },
);

export const RouterSchema = Type.Object(
  {
    minHistory: Type.Integer({ default: 5, minimum: 1, description: 'Users with at least this many interactions get the full ensemble; 1..minHistory−1 the few-interactions blend.' }),
    fewInteractionMembers: Type.Array(Type.String(), {
      default: ['als', 'content', 'twotower'],
      description: 'Member kinds blended for users with few interactions (content profile, ALS fold-in, two-tower); all members when none of them is present.',
    }),
    segmentFields: Type.Array(Type.Array(Type.String(), { minItems: 1 }), {
      default: [['age', 'gender', 'occupation'], ['age', 'gender'], ['age', 'location'], ['age'], ['gender'], ['location'], ['occupation']],
      description: 'Demographic segment levels for users with no history, most specific first (fields: age, gender, occupation, location).',
    }),
    minSegmentUsers: Type.Integer({ default: 20, minimum: 1, description: 'A segment answers only with at least this many training users; otherwise the next level, then global popularity.' }),
    segmentItems: Type.Integer({ default: 200, minimum: 1, maximum: 100000, description: 'Most popular items kept per segment.' }),
    exploration: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Reserve slots for exploring categories (serving only).' }),
        policy: Type.Union([Type.Literal('ts'), Type.Literal('egreedy')], { default: 'ts', description: 'Thompson sampling or ε-greedy over categories (core/bandits).' }),
        slots: Type.Array(Type.Integer({ minimum: 0 }), { default: [9], description: '0-based positions given to exploration.' }),
        seed: Type.Integer({ default: 42, description: 'Seed of the policy.' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const RerankFileSchema = Type.Object({ rules: RulesSchema, router: RouterSchema }, { additionalProperties: false, default: {} });

export type RulesConfig = Static<typeof RulesSchema>;
export type RouterConfig = Static<typeof RouterSchema>;
export type RerankFile = Static<typeof RerankFileSchema>;

export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

interface SchemaNode {
  properties?: Record<string, TSchema>;
}

/** Unknown keys, with the keys the schema accepts at that place (walks nested objects). */
function unknownKey(schema: TSchema, value: unknown, path: string[]): { path: string[]; known: string[] } | null {
  const props = (schema as SchemaNode).properties;
  if (!props || value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  for (const key of Object.keys(value as Record<string, unknown>)) {
    if (!(key in props)) return { path: [...path, key], known: Object.keys(props) };
    const inner = unknownKey(props[key], (value as Record<string, unknown>)[key], [...path, key]);
    if (inner) return inner;
  }
  return null;
}

function resolve<S extends TSchema>(schema: S, given: unknown, source: string, flag: string): Static<S> {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${source} must be a JSON object, got ${Array.isArray(given) ? 'an array' : JSON.stringify(given)}`, { flag, file: source });
  }
  const unknown = unknownKey(schema, given ?? {}, []);
  if (unknown) {
    const where = unknown.path.join('.');
    throw new RecsysError(
      'RECSYS_ERR_USAGE',
      `${source}: unknown key '${where}'. Keys allowed ${unknown.path.length > 1 ? `in '${unknown.path.slice(0, -1).join('.')}'` : 'at the top level'}: ${unknown.known.join(', ')}.`,
      { flag, file: source, key: where },
    );
  }
  const value = Value.Default(schema, structuredClone(given ?? {})) as Static<S>;
  const errors = [...Value.Errors(schema, value)];
  if (errors.length > 0) {
    // The most specific error (anyOf reports each branch first, then itself).
    const e = errors.find((x) => x.keyword !== 'const' && x.keyword !== 'anyOf') ?? errors[errors.length - 1];
    const key = e.instancePath.replace(/^\//, '').split('/').join('.');
    let got: unknown = value;
    for (const part of key ? key.split('.') : []) got = (got as Record<string, unknown> | undefined)?.[part];
    const allowed = e.keyword === 'const' || e.keyword === 'anyOf' ? ` (allowed: ${errors.filter((x) => x.keyword === 'const').map((x) => JSON.stringify((x.params as { allowedValue?: unknown }).allowedValue)).join(', ')})` : '';
    throw new RecsysError('RECSYS_ERR_USAGE', `${source}: '${key || '(root)'}' ${e.message}${allowed}, got ${JSON.stringify(got)}`, { flag, file: source, key });
  }
  return value;
}

/** Rules with defaults filled in; throws naming the bad key. */
export function resolveRulesConfig(given: DeepPartial<RulesConfig> | undefined = {}, source = 'rules'): RulesConfig {
  return resolve(RulesSchema, given, source, '--rules');
}

export function resolveRouterConfig(given: DeepPartial<RouterConfig> | undefined = {}, source = 'router'): RouterConfig {
  return resolve(RouterSchema, given, source, '--rules');
}

/** The `--rules` file: `{ "rules": {...}, "router": {...} }`, both optional. */
export function resolveRerankFile(given: unknown, source = 'rules file'): RerankFile {
  return resolve(RerankFileSchema, given, source, '--rules');
}

export async function readRerankFile(path: string): Promise<RerankFile> {
  if (!existsSync(path)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `rules file ${path} does not exist. Write a JSON file such as {"rules": {"diversity": {"enabled": true, "lambda": 0.7}}} (see docs/ensemble.md).`, { flag: '--rules', file: path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_USAGE', `rules file ${path} is not valid JSON: ${(e as Error).message}`, { flag: '--rules', file: path });
  }
  return resolveRerankFile(parsed, path);
}

/** Every rule switched off except the exclusions (the evaluation baseline of a blend). */
export function blendOnlyRules(rules: RulesConfig): RulesConfig {
  return {
    ...rules,
    popularityBoost: { ...rules.popularityBoost, enabled: false },
    newItemBoost: { ...rules.newItemBoost, enabled: false },
    diversity: { ...rules.diversity, enabled: false },
  };
}
