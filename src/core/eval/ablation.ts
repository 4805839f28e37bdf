/**
 * Ablation of an ensemble in one run: the full ensemble, then the ensemble with each member removed
 * (its weight spread proportionally over the others) and with each enabled rule switched off, one at
 * a time, all evaluated on the same split and users; every variant is compared with the full
 * ensemble by the spine's paired tests (t-test and sign-flip randomization, bootstrap CI of the
 * mean difference) on NDCG, recall and MAP at the main k.
 *
 * Exclusion rules are not ablated: the evaluator always removes the user's training items, and the
 * ensemble's "bought" lists are restricted to training pairs, so switching them off cannot change an
 * offline list (they are listed under `skipped` with that reason).
 *
 * `diversityCurve` evaluates the diversity rule (MMR over categories) at a grid of λ, giving the
 * NDCG@k / intra-list diversity trade-off the report plots.
 */
import type { Split } from '../data/split-types.js';
import type { EnsembleModel } from '../models/ensemble/ensemble.js';
import type { Progress } from '../models/recommender.js';
import type { RuleName } from '../rerank/types.js';
import { enabledRuleNames, without } from '../rerank/pipeline.js';
import { compareEvaluations, evaluate } from './evaluate.js';
import type { AblationReport, AblationRow, DiversityCurve, EvalOptions, EvaluationResult, MetricSummary } from './types.js';

export interface AblationExtras {
  itemCategories?: Int32Array;
  progress?: Progress;
}

const COMPARED = ['ndcg', 'recall', 'map'] as const;
const NOT_ABLATED: Partial<Record<RuleName, string>> = {
  excludeBought: 'the evaluator always excludes the training items (and bought lists are training pairs), so the rule cannot change an offline list',
  excludeLists: 'explicit exclusion lists remove items by business decision; offline there is no ground truth for them',
};

function compact(e: EvaluationResult): Pick<AblationRow, 'metrics' | 'beyondAccuracy'> {
  const metrics: Record<string, MetricSummary> = {};
  for (const m of COMPARED) {
    const key = `${m}@${e.mainK}`;
    if (e.metrics[key]) metrics[key] = e.metrics[key];
  }
  const beyondAccuracy: Record<string, number> = {};
  for (const m of ['coverage', 'diversity', 'novelty']) {
    const key = `${m}@${e.mainK}`;
    if (e.beyondAccuracy[key] !== undefined) beyondAccuracy[key] = e.beyondAccuracy[key];
  }
  return { metrics, beyondAccuracy };
}

/** Full ensemble, minus each member, minus each enabled rule; paired tests against the full one. */
export async function runAblation(model: EnsembleModel, split: Split, evalOpts: Partial<EvalOptions> = {}, extras: AblationExtras = {}, label = model.name): Promise<AblationReport> {
  const variants: Array<{ name: string; removed: AblationRow['removed']; model: EnsembleModel }> = [{ name: 'full', removed: null, model }];
  const active = model.members.filter((_, j) => model.weights[j] > 0);
  if (active.length > 1) for (const m of active) variants.push({ name: `− ${m.name}`, removed: { kind: 'member', name: m.name }, model: model.variant({ dropMember: m.name }) });
  const skipped: AblationReport['skipped'] = [];
  for (const rule of enabledRuleNames(model.rules)) {
    const why = NOT_ABLATED[rule];
    if (why) {
      skipped.push({ name: rule, reason: why });
      continue;
    }
    variants.push({ name: `− ${rule}`, removed: { kind: 'rule', name: rule }, model: model.variant({ rules: without(model.rules, rule) }) });
  }
  let full: EvaluationResult | null = null;
  const rows: AblationRow[] = [];
  for (const v of variants) {
    extras.progress?.start(`ablation ${v.name}`, 1);
    const e = await evaluate(v.model, split, evalOpts, { itemCategories: extras.itemCategories });
    extras.progress?.tick(1);
    extras.progress?.stop();
    const named = { ...e, model: v.name };
    if (!full) full = named;
    const comparisons = v.removed ? compareEvaluations(full, named, { seed: evalOpts.seed ?? 42, metrics: COMPARED.map((m) => `${m}@${e.mainK}`).filter((k) => k in e.perUser) }) : [];
    rows.push({ variant: v.name, removed: v.removed, weights: v.model.weightsByName(), ...compact(e), comparisons });
  }
  return { model: label, mainK: full?.mainK ?? evalOpts.mainK ?? 10, rows, skipped };
}

export const DEFAULT_LAMBDAS = [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.25, 0];

/** NDCG@k and intra-list diversity of the ensemble with MMR diversity at each λ. */
export async function diversityCurve(model: EnsembleModel, split: Split, lambdas: readonly number[] = DEFAULT_LAMBDAS, evalOpts: Partial<EvalOptions> = {}, extras: AblationExtras = {}, label = model.name): Promise<DiversityCurve> {
  const points: DiversityCurve['points'] = [];
  let mainK = evalOpts.mainK ?? 10;
  extras.progress?.start('diversity curve', lambdas.length);
  for (const lambda of lambdas) {
    const rules = { ...model.rules, diversity: { ...model.rules.diversity, enabled: true, method: 'mmr' as const, lambda } };
    const e = await evaluate(model.variant({ rules }), split, { ...evalOpts, bootstrapSamples: evalOpts.bootstrapSamples ?? 200 }, { itemCategories: extras.itemCategories });
    mainK = e.mainK;
    const ndcg = e.metrics[`ndcg@${mainK}`];
    points.push({
      lambda,
      ndcg: ndcg.mean,
      ndcgCi95: ndcg.ci95,
      recall: e.metrics[`recall@${mainK}`]?.mean ?? NaN,
      diversity: e.beyondAccuracy[`diversity@${mainK}`] ?? null,
      coverage: e.beyondAccuracy[`coverage@${mainK}`] ?? 0,
    });
    extras.progress?.tick(1);
  }
  extras.progress?.stop();
  return { model: label, mainK, points };
}
