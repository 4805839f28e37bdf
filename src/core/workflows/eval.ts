/**
 * The eval workflow behind `recsys eval`: load one or more trained models, find the split they
 * were trained on (training.json) or the one given, evaluate each, compare every candidate with the
 * first model (paired tests on the same users), write reports/<run-id>/ and, with a baseline,
 * gate: a regression beyond the allowed drop is a failure the CLI turns into a non-zero exit.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readManifest } from '../artifacts.js';
import { RecsysError } from '../errors.js';
import { loadSplit } from '../data/split.js';
import type { Split } from '../data/split-types.js';
import { openStore } from '../data/store.js';
import { loadItemMetadata } from '../data/load-matrix.js';
import { loadModel } from '../models/registry.js';
import type { Progress } from '../models/recommender.js';
import { compareEvaluations, evaluate, resolveEvalOptions } from '../eval/evaluate.js';
import { RankingRecorder, segmentMetrics } from '../eval/segments.js';
import { diversityCurve, runAblation } from '../eval/ablation.js';
import { EnsembleModel } from '../models/ensemble/ensemble.js';
import { defaultGateRules, gate, loadReport } from '../eval/gate.js';
import type { EvalOptions, GateResult, GateRule, PairedComparison, Report } from '../eval/types.js';
import { gitInfo, newRunId, writeReport, type ReportPaths } from '../report/index.js';
import type { TrainingRecord } from './train.js';

export interface EvalRunOptions {
  /** Model artifact directories; the first is the reference for paired comparisons. */
  models: string[];
  /** Saved split directory (default: the one recorded in the first model's training.json). */
  split?: string;
  /** Store for item categories (diversity) and dataset facts; optional. */
  store?: string;
  eval?: Partial<EvalOptions>;
  /** Parent directory of report runs (default reports/). */
  reportsDir?: string;
  label?: string;
  /** Baseline report.json to gate against. */
  gate?: { baseline: string; rules?: GateRule[] };
  progress?: Progress;
  /** Ensembles only: evaluate with each member and each rule removed, one at a time (`--ablation`). */
  ablation?: boolean;
  /** Ensembles only: NDCG@k against diversity over the MMR λ of the diversity rule (`--diversity-curve`). */
  diversityCurve?: boolean | number[];
}

export interface EvalRunResult {
  report: Report;
  paths: ReportPaths;
  gate: GateResult | null;
}

async function readTrainingRecord(modelDir: string): Promise<TrainingRecord | null> {
  const path = join(modelDir, 'training.json');
  if (!existsSync(path)) return null;
  return JSON.parse(await readFile(path, 'utf8')) as TrainingRecord;
}

export async function runEvaluation(opts: EvalRunOptions): Promise<EvalRunResult> {
  const t0 = performance.now();
  if (opts.models.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', 'give at least one model directory: --model models/popularity', { flag: '--model' });
  const records = await Promise.all(opts.models.map((m) => readTrainingRecord(resolve(m))));
  let splitDir = opts.split ? resolve(opts.split) : records[0]?.split.dir;
  if (!splitDir) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${opts.models[0]} has no training.json saying which split it was trained on: pass --split <split dir>`, { flag: '--split' });
  }
  splitDir = resolve(splitDir);
  const split: Split = await loadSplit(splitDir);
  records.forEach((r, i) => {
    if (r && r.split.fingerprint !== split.fingerprint) {
      throw new RecsysError(
        'RECSYS_ERR_EVAL',
        `${opts.models[i]} was trained on split ${r.split.fingerprint} (${r.split.dir}), not on ${split.fingerprint} (${splitDir}). Evaluating it there would leak test data into training: retrain it with --split ${splitDir}.`,
        { flag: '--split' },
      );
    }
  });

  let itemCategories: Int32Array | undefined;
  let storeFacts: { store: string } = { store: opts.store ?? '' };
  if (opts.store && existsSync(opts.store)) {
    const store = await openStore(opts.store);
    try {
      itemCategories = (await loadItemMetadata(store, split.train.items)).categoryOf;
      storeFacts = { store: resolve(opts.store) };
    } finally {
      await store.close();
    }
  }

  const tLoad = performance.now();
  const entries: Report['models'] = [];
  const ablation: NonNullable<Report['ablation']> = [];
  const curves: NonNullable<Report['diversityCurves']> = [];
  const evalOptions = resolveEvalOptions(opts.eval ?? {});
  let extraSeconds = 0;
  const { names: displayNames, kinds } = await modelDisplayNames(opts.models.map((m) => resolve(m)));
  if ((opts.ablation || opts.diversityCurve) && !kinds.includes('ensemble')) {
    throw new RecsysError('RECSYS_ERR_USAGE', '--ablation and --diversity-curve need an ensemble among the --model directories (recsys train --model ensemble …)', { flag: opts.ablation ? '--ablation' : '--diversity-curve' });
  }
  for (let i = 0; i < opts.models.length; i++) {
    const dir = resolve(opts.models[i]);
    const model = await loadModel(dir);
    // Recording each user's top k gives the per-segment metrics from the very lists evaluated.
    const recorder = new RankingRecorder(model, split.test.nUsers, evalOptions.mainK);
    const evaluation = await evaluate(recorder, split, opts.eval ?? {}, { itemCategories, progress: opts.progress });
    const n = Math.max(1, evaluation.users.evaluated);
    evaluation.segments = segmentMetrics(split, evaluation, recorder, {
      itemCategories,
      relevanceThreshold: evalOptions.relevanceThreshold,
      bootstrapSamples: Math.min(evalOptions.bootstrapSamples, Math.max(100, Math.floor(2e7 / n))),
      seed: evalOptions.seed,
    });
    const name = uniqueName(displayNames[i] ?? model.name, entries);
    entries.push({ name, artifact: dir, params: { ...model.params }, evaluation: { ...evaluation, model: name } });
    if (model instanceof EnsembleModel && (opts.ablation || opts.diversityCurve)) {
      const t = performance.now();
      if (opts.ablation) ablation.push(await runAblation(model, split, opts.eval ?? {}, { itemCategories, progress: opts.progress }, name));
      if (opts.diversityCurve) {
        const lambdas = Array.isArray(opts.diversityCurve) ? opts.diversityCurve : undefined;
        curves.push(await diversityCurve(model, split, lambdas, opts.eval ?? {}, { itemCategories, progress: opts.progress }, name));
      }
      extraSeconds += (performance.now() - t) / 1000;
    }
  }
  const tEval = performance.now();

  const comparisons: PairedComparison[] = [];
  for (let i = 1; i < entries.length; i++) comparisons.push(...compareEvaluations(entries[0].evaluation, entries[i].evaluation, { seed: opts.eval?.seed ?? 42 }));

  const createdAt = new Date();
  const report: Report = {
    format: 'recsys-report',
    version: 1,
    runId: newRunId(createdAt, opts.label ?? entries.map((e) => e.name).join('-vs-')),
    createdAt: createdAt.toISOString(),
    git: await gitInfo(),
    dataset: { store: storeFacts.store, fingerprint: split.datasetFingerprint, nUsers: split.train.nUsers, nItems: split.train.nItems, nnz: split.train.nnz + split.test.nnz + (split.foldIn?.nnz ?? 0) },
    split: { config: split.config, fingerprint: split.fingerprint, trainPairs: split.train.nnz, testPairs: split.test.nnz },
    models: entries,
    comparisons,
    timings: { loadSeconds: (tLoad - t0) / 1000, evaluateSeconds: (tEval - tLoad) / 1000 - extraSeconds, ...(extraSeconds > 0 ? { ablationSeconds: extraSeconds } : {}) },
    ...(ablation.length > 0 ? { ablation } : {}),
    ...(curves.length > 0 ? { diversityCurves: curves } : {}),
  };

  let gateResult: GateResult | null = null;
  if (opts.gate) {
    const baseline = await loadReport(opts.gate.baseline);
    const rules = opts.gate.rules && opts.gate.rules.length > 0 ? opts.gate.rules : defaultGateRules(baseline.models[0]?.evaluation.mainK ?? 10);
    gateResult = gate(baseline, report, rules);
  }
  const paths = await writeReport(report, join(resolve(opts.reportsDir ?? 'reports'), report.runId));
  report.timings.totalSeconds = (performance.now() - t0) / 1000;
  return { report, paths, gate: gateResult };
}

/**
 * Report names: the model kind, or, when several artifacts of one kind are compared (three
 * ensembles), their directory names so that tables say which is which.
 */
async function modelDisplayNames(dirs: string[]): Promise<{ names: string[]; kinds: string[] }> {
  const kinds = await Promise.all(dirs.map(async (d) => (await readManifest(d)).kind));
  const bases = dirs.map((d) => basename(d));
  const names = kinds.map((kind, i) => (kinds.filter((k) => k === kind).length > 1 && bases.filter((b) => b === bases[i]).length === 1 ? bases[i] : kind));
  return { names, kinds };
}

function uniqueName(name: string, taken: Report['models']): string {
  if (!taken.some((e) => e.name === name)) return name;
  let i = 2;
  while (taken.some((e) => e.name === `${name}-${i}`)) i++;
  return `${name}-${i}`;
}
