/**
 * The eval workflow behind `recsys eval`: load one or more trained models, find the split they
 * were trained on (training.json) or the one given, evaluate each, compare every candidate with the
 * first model (paired tests on the same users), write reports/<run-id>/ and, with a baseline,
 * gate: a regression beyond the allowed drop is a failure the CLI turns into a non-zero exit.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import { loadSplit } from '../data/split.js';
import type { Split } from '../data/split-types.js';
import { openStore } from '../data/store.js';
import { loadItemMetadata } from '../data/load-matrix.js';
import { loadModel } from '../models/registry.js';
import type { Progress } from '../models/recommender.js';
import { compareEvaluations, evaluate } from '../eval/evaluate.js';
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
  for (let i = 0; i < opts.models.length; i++) {
    const dir = resolve(opts.models[i]);
    const model = await loadModel(dir);
    const evaluation = await evaluate(model, split, opts.eval ?? {}, { itemCategories, progress: opts.progress });
    entries.push({ name: uniqueName(model.name, entries), artifact: dir, params: { ...model.params }, evaluation: { ...evaluation, model: uniqueName(model.name, entries) } });
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
    timings: { loadSeconds: (tLoad - t0) / 1000, evaluateSeconds: (tEval - tLoad) / 1000 },
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

function uniqueName(name: string, taken: Report['models']): string {
  if (!taken.some((e) => e.name === name)) return name;
  let i = 2;
  while (taken.some((e) => e.name === `${name}-${i}`)) i++;
  return `${name}-${i}`;
}
