/**
 * The rerank pipeline: the configured rules in their fixed order (excludeBought, excludeLists,
 * popularityBoost, newItemBoost, tieBreak, diversity), applied one after the other to one user's
 * candidate list, then cut at k. Each rule leaves a RuleEffect when asked to record, so a serving
 * response can say which rule moved or removed an item, and `--ablation` can drop one rule at a time
 * (`without`).
 */
import type { RulesConfig } from './config.js';
import { diversifyCap, diversifyMmr, excludeBought, excludeLists, newItemBoost, popularityBoost, sortByScore } from './rules.js';
import type { CandidateList, RerankContext, Rule, RuleEffect, RuleName } from './types.js';

export const RULE_ORDER: readonly RuleName[] = ['excludeBought', 'excludeLists', 'popularityBoost', 'newItemBoost', 'tieBreak', 'diversity'];

/** The enabled rules of `config`, in pipeline order. tieBreak is always there (lists must be sorted). */
export function buildRules(config: RulesConfig): Rule[] {
  const rules: Rule[] = [];
  if (config.excludeBought.enabled) rules.push({ name: 'excludeBought', apply: (l, c, r) => excludeBought(l, c.bought, r) });
  if (config.excludeLists.enabled) rules.push({ name: 'excludeLists', apply: (l, c, r) => excludeLists(l, c.excludeLists, r) });
  if (config.popularityBoost.enabled) {
    const beta = config.popularityBoost.beta;
    rules.push({ name: 'popularityBoost', apply: (l, c, r) => popularityBoost(l, c.popularity, beta, r) });
  }
  if (config.newItemBoost.enabled) {
    const { days, boost } = config.newItemBoost;
    rules.push({ name: 'newItemBoost', apply: (l, c, r) => newItemBoost(l, c.createdAt, c.now, days, boost, c.scoreScale ?? 1, r) });
  }
  const by = config.tieBreak.by;
  rules.push({ name: 'tieBreak', apply: (l, c, r) => sortByScore(l, by, c.popularity, r) });
  if (config.diversity.enabled) {
    const d = config.diversity;
    rules.push({
      name: 'diversity',
      apply: d.method === 'mmr' ? (l, c, r) => diversifyMmr(l, c.categories, d.lambda, c.k, r) : (l, c, r) => diversifyCap(l, c.categories, d.maxPerCategory, c.k, r),
    });
  }
  return rules;
}

/** The names of the rules that are switched on in `config` (tieBreak excluded: it cannot be removed). */
export function enabledRuleNames(config: RulesConfig): RuleName[] {
  return buildRules(config)
    .map((r) => r.name)
    .filter((n) => n !== 'tieBreak');
}

/** The config with one rule switched off (the ablation of that rule). */
export function without(config: RulesConfig, rule: RuleName): RulesConfig {
  switch (rule) {
    case 'tieBreak':
      return config;
    case 'excludeBought':
    case 'excludeLists':
    case 'popularityBoost':
    case 'newItemBoost':
    case 'diversity':
      return { ...config, [rule]: { ...config[rule], enabled: false } };
  }
}

export interface RerankResult {
  /** The list after every rule, cut at k. */
  list: CandidateList;
  /** One entry per rule that ran (only when recording). */
  effects: RuleEffect[];
}

/** Run the rules in order and cut the result at `ctx.k`. */
export function rerank(list: CandidateList, rules: readonly Rule[], ctx: RerankContext, record = false): RerankResult {
  let current = list;
  const effects: RuleEffect[] = [];
  for (const rule of rules) {
    const res = rule.apply(current, ctx, record);
    current = res.list;
    if (record && res.effect) effects.push(res.effect);
  }
  const k = Math.max(0, Math.floor(ctx.k));
  if (current.items.length > k) {
    current = current.proposers
      ? { items: current.items.slice(0, k), scores: current.scores.slice(0, k), proposers: current.proposers.slice(0, k) }
      : { items: current.items.slice(0, k), scores: current.scores.slice(0, k) };
  }
  return { list: current, effects };
}
