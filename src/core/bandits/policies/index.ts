/**
 * The policy registry: create a policy by name with validated parameters (one schema per policy,
 * defaults written once), and restore any policy from its JSON state.
 */
import { RecsysError } from '../../errors.js';
import type { ParamSchema } from '../../models/params.js';
import { EGREEDY_PARAMS, EpsilonGreedy } from './egreedy.js';
import { LINTS_PARAMS, LinearThompson } from './lints.js';
import { LINUCB_PARAMS, LinUcb } from './linucb.js';
import { FixedDistribution, RANDOM_PARAMS, UniformRandom } from './static.js';
import { BernoulliThompson, THOMPSON_PARAMS } from './thompson.js';
import { POLICY_KINDS, type BanditPolicy, type PolicyKind, type PolicyState } from './types.js';
import { UCB_PARAMS, Ucb1 } from './ucb.js';

export * from './types.js';
export { BernoulliThompson, THOMPSON_PARAMS } from './thompson.js';
export { EpsilonGreedy, EGREEDY_PARAMS, randomSlate } from './egreedy.js';
export { Ucb1, UCB_PARAMS } from './ucb.js';
export { LinUcb, LINUCB_PARAMS } from './linucb.js';
export { LinearThompson, LINTS_PARAMS } from './lints.js';
export { LinearArms } from './linear.js';
export { UniformRandom, FixedDistribution, RANDOM_PARAMS } from './static.js';

/** Policies a user can name on the command line (`fixed` is built from data, not by name). */
export const NAMED_POLICIES = ['ts', 'egreedy', 'ucb', 'linucb', 'lints', 'random'] as const;
export type NamedPolicy = (typeof NAMED_POLICIES)[number];

export const POLICY_INFO: Record<NamedPolicy, { description: string; schema: ParamSchema; contextual: boolean }> = {
  ts: { description: 'Bernoulli Thompson sampling (Beta posteriors)', schema: THOMPSON_PARAMS, contextual: false },
  egreedy: { description: 'ε-greedy, optionally with decaying ε', schema: EGREEDY_PARAMS, contextual: false },
  ucb: { description: 'UCB1 (Auer et al. 2002)', schema: UCB_PARAMS, contextual: false },
  linucb: { description: 'LinUCB, disjoint per-arm ridge models (Li et al. 2010)', schema: LINUCB_PARAMS, contextual: true },
  lints: { description: 'linear Thompson sampling, disjoint per-arm models', schema: LINTS_PARAMS, contextual: true },
  random: { description: 'uniformly random arms (the logging policy of an A/B test)', schema: RANDOM_PARAMS, contextual: false },
};

export function isNamedPolicy(name: string): name is NamedPolicy {
  return (NAMED_POLICIES as readonly string[]).includes(name);
}

export interface CreatePolicyOptions {
  nArms: number;
  /** Context features (linear policies only). */
  contextDim?: number;
  params?: Record<string, unknown>;
}

export function createPolicy(name: string, opts: CreatePolicyOptions): BanditPolicy {
  const params = opts.params ?? {};
  switch (name) {
    case 'ts':
      return new BernoulliThompson(opts.nArms, params);
    case 'egreedy':
      return new EpsilonGreedy(opts.nArms, params);
    case 'ucb':
      return new Ucb1(opts.nArms, params);
    case 'linucb':
      return new LinUcb(opts.nArms, opts.contextDim ?? 0, params);
    case 'lints':
      return new LinearThompson(opts.nArms, opts.contextDim ?? 0, params);
    case 'random':
      return new UniformRandom(opts.nArms, params);
    default:
      throw new RecsysError('RECSYS_ERR_USAGE', `unknown bandit policy '${name}'. Policies: ${NAMED_POLICIES.join(', ')}.`, { flag: '--policy' });
  }
}

export function policyFromJSON(state: PolicyState): BanditPolicy {
  const kind = state?.kind as PolicyKind | undefined;
  if (!kind || !(POLICY_KINDS as readonly string[]).includes(kind)) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `unknown bandit policy kind '${String(kind)}' in the state; known kinds: ${POLICY_KINDS.join(', ')}`);
  }
  switch (kind) {
    case 'ts':
      return BernoulliThompson.fromJSON(state);
    case 'egreedy':
      return EpsilonGreedy.fromJSON(state);
    case 'ucb':
      return Ucb1.fromJSON(state);
    case 'linucb':
      return LinUcb.fromJSON(state);
    case 'lints':
      return LinearThompson.fromJSON(state);
    case 'random':
      return UniformRandom.fromJSON(state);
    case 'fixed':
      return FixedDistribution.fromJSON(state);
  }
}
