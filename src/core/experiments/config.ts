/**
 * The experiments file `recsys serve --experiments <file>` reads: one TypeBox schema holds every
 * field, its default and its bounds (schema first, defaults once), so validation, docs and code
 * cannot drift. `parseExperimentsConfig` fills defaults, validates, checks what a schema cannot
 * (arms are served models, shares sum to 1, at most one active experiment, …) and freezes the
 * result; every error names the file and the field (`experiments[0].allocation.shares.als`).
 *
 * {
 *   "experiments": [{
 *     "id": "models-2026-11",
 *     "arms": ["als", "popularity", "content"],    // names of models the server serves (?model=)
 *     "control": "popularity",
 *     "allocation": { "mode": "fixed", "shares": { "als": 0.4, "popularity": 0.4, "content": 0.2 } },
 *     //         or { "mode": "thompson", "assignment": "request" | "user", "stickySeconds": 3600 }
 *     "canary": { "arm": "content", "steps": [0.01, 0.05, 0.25, 0.5], "minImpressions": 1000 },
 *     "guardrail": { "maxRelativeDrop": 0.05, "alpha": 0.05 }
 *   }]
 * }
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import Value from 'typebox/value';
import { RecsysError } from '../errors.js';

const ArmName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\t\\n\\r|]+$', description: 'a served model name (`?model=`)' });

export const FixedAllocationSchema = Type.Object(
  {
    mode: Type.Literal('fixed'),
    shares: Type.Optional(
      Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), {
        description: 'Traffic share per arm (sum 1). Default: equal shares. Users are hashed with the salt into these shares: sticky per user, across requests, processes and restarts.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ThompsonAllocationSchema = Type.Object(
  {
    mode: Type.Literal('thompson'),
    assignment: Type.Enum(['request', 'user'], { default: 'request', description: 'request: a fresh posterior draw per request; user: one draw per user, kept for stickySeconds (shared by every server through Redis).' }),
    stickySeconds: Type.Integer({ default: 3600, minimum: 1, description: 'assignment=user: how long a user keeps the arm drawn for them.' }),
    alpha0: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'Beta prior successes.' }),
    beta0: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'Beta prior failures.' }),
    explore: Type.Number({
      default: 0.02,
      minimum: 0,
      maximum: 1,
      description: 'Share of decisions made uniformly at random over the live arms: keeps every propensity ≥ explore/arms, so IPS over the exported log stays finite for any target policy.',
    }),
    mcSamples: Type.Integer({ default: 10000, minimum: 100, description: 'Monte Carlo draws behind each logged propensity (re-estimated when the posterior is refreshed).' }),
    seed: Type.Optional(Type.Integer({ description: 'Seed of the posterior draws (default: random per process).' })),
  },
  { additionalProperties: false },
);

export const CanarySchema = Type.Object(
  {
    arm: ArmName,
    steps: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1 }), { minItems: 1, default: [0.01, 0.05, 0.25, 0.5], description: 'Traffic share of the canary arm at each step, increasing.' }),
    minImpressions: Type.Integer({ default: 1000, minimum: 1, description: 'Impressions of the canary arm at a step before it may advance.' }),
    minSeconds: Type.Number({ default: 0, minimum: 0, description: 'Seconds at a step before it may advance.' }),
  },
  { additionalProperties: false },
);

export const GuardrailSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    maxRelativeDrop: Type.Number({ default: 0.05, minimum: 0, maximum: 1, description: 'Roll an arm back when its CTR is, with evidence, more than this fraction below the control\'s.' }),
    alpha: Type.Number({ default: 0.05, exclusiveMinimum: 0, maximum: 0.5, description: 'Error rate of the always-valid sequential test (mSPRT): the chance of rolling back an arm that is not worse than the threshold, however often it is checked.' }),
    mixtureSd: Type.Number({ default: 0.01, exclusiveMinimum: 0, description: 'τ of the mSPRT normal mixture, in CTR units: the size of difference the test is most sensitive to.' }),
    minImpressions: Type.Integer({ default: 500, minimum: 1, description: 'Impressions each of the arm and the control needs before the test runs (the normal approximation needs them).' }),
  },
  { additionalProperties: false },
);

export const ExperimentSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable id: keys in Redis, metrics labels, `recsys experiments export --experiment`.' }),
    description: Type.String({ default: '' }),
    enabled: Type.Boolean({ default: true, description: 'At most one experiment is enabled at a time; it takes every recommendation request that names no ?model=.' }),
    salt: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Hash salt of the assignment (default: the id). A new salt reshuffles users.' })),
    arms: Type.Array(ArmName, { minItems: 2, maxItems: 32, uniqueItems: true }),
    control: ArmName,
    allocation: Type.Union([FixedAllocationSchema, ThompsonAllocationSchema], { default: { mode: 'fixed' } }),
    canary: Type.Optional(CanarySchema),
    guardrail: Type.Optional(GuardrailSchema),
    attributionWindowSeconds: Type.Integer({ default: 1800, minimum: 1, description: 'An event counts for an impression at most this long after it.' }),
    clickEvents: Type.Array(Type.Enum(['view', 'click', 'cart', 'purchase']), { default: ['click', 'cart', 'purchase'], minItems: 1, description: 'Event types that count as a click on the list (the reward).' }),
    conversionEvents: Type.Array(Type.Enum(['view', 'click', 'cart', 'purchase']), { default: ['purchase'], minItems: 1, description: 'Event types that count as a conversion.' }),
    refreshMs: Type.Integer({ default: 1000, minimum: 10, description: 'How often each server re-reads the shared counts, checks the guardrails and advances the canary.' }),
    bucketSeconds: Type.Integer({ default: 60, minimum: 1, description: 'Width of the time buckets of the CTR-over-time series.' }),
    recentImpressions: Type.Integer({ default: 50, minimum: 1, maximum: 1000, description: 'Impressions kept per user for attribution by user + item.' }),
    streamMaxLen: Type.Integer({ default: 10000000, minimum: 1, description: 'Approximate cap on the impression log stream.' }),
  },
  { additionalProperties: false },
);

export const ExperimentsFileSchema = Type.Object({ experiments: Type.Array(ExperimentSchema) }, { additionalProperties: false });

export type ExperimentConfigInput = Static<typeof ExperimentSchema>;
export type FixedAllocation = Static<typeof FixedAllocationSchema>;
export type ThompsonAllocation = Static<typeof ThompsonAllocationSchema>;

/** A validated experiment with every default filled. */
export interface ExperimentConfig {
  id: string;
  description: string;
  enabled: boolean;
  salt: string;
  arms: readonly string[];
  control: string;
  allocation: { mode: 'fixed'; shares: Readonly<Record<string, number>> } | (Required<Omit<ThompsonAllocation, 'seed'>> & { seed: number | null });
  canary: Static<typeof CanarySchema> | null;
  guardrail: Static<typeof GuardrailSchema>;
  attributionWindowSeconds: number;
  clickEvents: readonly string[];
  conversionEvents: readonly string[];
  refreshMs: number;
  bucketSeconds: number;
  recentImpressions: number;
  streamMaxLen: number;
}

export interface ExperimentsConfig {
  source: string;
  experiments: readonly ExperimentConfig[];
}

function fail(source: string, field: string, message: string): never {
  throw new RecsysError('RECSYS_ERR_USAGE', `${source}: ${field ? `${field} ` : ''}${message}`, { file: source, field });
}

/** JSON-pointer path (/experiments/0/arms/1) → experiments[0].arms[1]. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`))
    .join('');
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

/** The most useful of the validator's errors, as "field what-is-wrong". */
function describeError(errors: readonly SchemaError[]): string {
  // Unknown fields first (a typo explains everything after it), then mode errors, then the deepest path.
  const extra = errors.find((e) => e.keyword === 'boolean' && e.message === 'schema is false');
  if (extra) return `${fieldPath(extra.instancePath)} is not a known field (see docs/experiments.md for the fields)`;
  const mode = errors.find((e) => e.keyword === 'const' && e.instancePath.endsWith('/allocation/mode'));
  if (mode) return `${fieldPath(mode.instancePath)} must be "fixed" or "thompson"`;
  const e = errors.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
  return `${fieldPath(e.instancePath) || '(root)'} ${e.message}`;
}

/**
 * Validate an experiments document. `servedModels`: the names of the models the server serves
 * (arms must be among them); null skips that check (offline validation).
 */
export function parseExperimentsConfig(doc: unknown, source: string, servedModels: readonly string[] | null = null): ExperimentsConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(source, '', 'must be a JSON object with an "experiments" array');
  const value = Value.Default(ExperimentsFileSchema, structuredClone(doc)) as Static<typeof ExperimentsFileSchema>;
  const errors = [...Value.Errors(ExperimentsFileSchema, value)];
  if (errors.length > 0) fail(source, '', describeError(errors));
  const out: ExperimentConfig[] = [];
  const ids = new Set<string>();
  let enabled: string | null = null;
  value.experiments.forEach((x, i) => {
    const at = `experiments[${i}]`;
    if (ids.has(x.id)) fail(source, `${at}.id`, `'${x.id}' is used by two experiments: ids must be unique`);
    ids.add(x.id);
    if (!x.arms.includes(x.control)) fail(source, `${at}.control`, `'${x.control}' is not one of the arms (${x.arms.join(', ')})`);
    if (servedModels) {
      for (const [j, arm] of x.arms.entries()) {
        if (!servedModels.includes(arm)) fail(source, `${at}.arms[${j}]`, `'${arm}' is not a served model. Served: ${servedModels.join(', ')} (start the server with --model ${arm}=DIR)`);
      }
    }
    if (x.canary) {
      const c = x.canary;
      if (!x.arms.includes(c.arm)) fail(source, `${at}.canary.arm`, `'${c.arm}' is not one of the arms (${x.arms.join(', ')})`);
      if (c.arm === x.control) fail(source, `${at}.canary.arm`, `'${c.arm}' is the control: the canary is a new arm ramped up against the control`);
      for (let s = 1; s < c.steps.length; s++) {
        if (c.steps[s] <= c.steps[s - 1]) fail(source, `${at}.canary.steps[${s}]`, `(${c.steps[s]}) must be larger than the step before (${c.steps[s - 1]})`);
      }
      if (c.steps[c.steps.length - 1] >= 1 && x.arms.length > 1) fail(source, `${at}.canary.steps`, 'the last step must stay below 1 (the control keeps some traffic)');
    }
    let allocation: ExperimentConfig['allocation'];
    const a = x.allocation;
    if (a.mode === 'fixed') {
      const plain = x.arms.filter((arm) => arm !== x.canary?.arm);
      const given = a.shares ?? Object.fromEntries(plain.map((arm) => [arm, 1 / plain.length]));
      for (const name of Object.keys(given)) {
        if (!x.arms.includes(name)) fail(source, `${at}.allocation.shares.${name}`, `is not an arm of the experiment (${x.arms.join(', ')})`);
      }
      const shares: Record<string, number> = {};
      let sum = 0;
      for (const arm of x.arms) {
        if (arm === x.canary?.arm) continue;
        shares[arm] = given[arm] ?? 0;
        sum += shares[arm];
      }
      if (x.canary && given[x.canary.arm] !== undefined && given[x.canary.arm] !== 0) {
        fail(source, `${at}.allocation.shares.${x.canary.arm}`, 'is the canary arm: its share comes from canary.steps; leave it out of shares');
      }
      if (Math.abs(sum - 1) > 1e-6) fail(source, `${at}.allocation.shares`, `sum to ${+sum.toFixed(6)}, not 1 (the canary arm's share is taken from the others in proportion)`);
      allocation = { mode: 'fixed', shares };
    } else {
      allocation = { mode: 'thompson', assignment: a.assignment, stickySeconds: a.stickySeconds, alpha0: a.alpha0, beta0: a.beta0, explore: a.explore, mcSamples: a.mcSamples, seed: a.seed ?? null };
    }
    if (x.enabled) {
      if (enabled !== null) fail(source, `${at}.enabled`, `experiment '${x.id}' and '${enabled}' are both enabled: at most one experiment takes traffic at a time`);
      enabled = x.id;
    }
    out.push(
      Object.freeze({
        id: x.id,
        description: x.description,
        enabled: x.enabled,
        salt: x.salt ?? x.id,
        arms: Object.freeze([...x.arms]),
        control: x.control,
        allocation: Object.freeze(allocation),
        canary: x.canary ? Object.freeze({ ...x.canary, steps: [...x.canary.steps] }) : null,
        guardrail: Object.freeze(Value.Default(GuardrailSchema, structuredClone(x.guardrail ?? {})) as Static<typeof GuardrailSchema>),
        attributionWindowSeconds: x.attributionWindowSeconds,
        clickEvents: Object.freeze([...x.clickEvents]),
        conversionEvents: Object.freeze([...x.conversionEvents]),
        refreshMs: x.refreshMs,
        bucketSeconds: x.bucketSeconds,
        recentImpressions: x.recentImpressions,
        streamMaxLen: x.streamMaxLen,
      }),
    );
  });
  return Object.freeze({ source, experiments: Object.freeze(out) });
}

/** Read and validate an experiments file (JSON). */
export function loadExperimentsFile(path: string, servedModels: readonly string[] | null = null): ExperimentsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `no experiments file at ${path}: pass the JSON file with --experiments (see docs/experiments.md)`, { file: path, flag: '--experiments' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${path} is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  return parseExperimentsConfig(doc, path, servedModels);
}
