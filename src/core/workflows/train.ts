/**
 * The train workflow behind `recsys train`: store → matrix → split → fit → artifact.
 * The model is saved together with `training.json` (which split it was fit on, the matrix
 * weighting, the fit report), and both land atomically: written into a temp dir, then renamed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RecsysError } from '../errors.js';
import { modelFactory } from '../models/registry.js';
import { openStore } from '../data/store.js';
import { loadInteractionMatrix, loadProducts } from '../data/load-matrix.js';
import type { Store } from '../data/store.js';
import type { CsrRows, InteractionMatrix } from '../data/matrix.js';
import type { CatalogAware, FitReport, Progress, Recommender, UserFeatureAware } from '../models/recommender.js';
import { loadUserRows } from '../data/users.js';
import { EnsembleModel } from '../models/ensemble/ensemble.js';
import { ContentModel } from '../models/content.js';
import { readRerankFile } from '../rerank/config.js';
import type { Demographics } from '../router.js';
import { resolveSplit, type MatrixOptions, type ResolvedSplit } from './split.js';

export interface TrainOptions {
  store: string;
  model: string;
  params?: Record<string, unknown>;
  /** A saved split directory, or a split spec such as 'random:0.2' (cut and saved under splitsDir). */
  split: string;
  splitsDir?: string;
  matrix?: MatrixOptions;
  /** Model output directory (default models/<model>). */
  out?: string;
  progress?: Progress;
  /** `--model ensemble` only: members, weights, rules (see models/ensemble). */
  ensemble?: EnsembleTrainOptions;
  /** Continue training this saved artifact (models whose factory has `warmStart`: twotower) instead of a fresh model. */
  warmStart?: string;
}

export interface EnsembleTrainOptions {
  /** Member artifact directories (each trained on the same split); none = the ensemble trains popularity, ALS and content itself. */
  members?: string[];
  /** Blend weights by member name (`--member-weights als=0.4,content=0.2`). */
  weights?: Record<string, number>;
  /** Learn the weights on a validation split carved from train. */
  learnWeights?: boolean;
  /** JSON file with `{ "rules": {...}, "router": {...} }`. */
  rulesFile?: string;
}

export interface TrainingRecord {
  model: string;
  params: Record<string, unknown>;
  split: { dir: string; fingerprint: string; config: unknown; datasetFingerprint: string };
  matrix: MatrixOptions;
  fit: FitReport;
  trainedAt: string;
}

export interface TrainResult {
  modelDir: string;
  model: string;
  params: Record<string, unknown>;
  split: ResolvedSplit['summary'];
  fit: FitReport;
  seconds: { matrixAndSplit: number; fit: number; save: number; total: number };
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const factory = modelFactory(opts.model);
  const model = opts.warmStart ? await warmStartModel(opts.model, opts.warmStart, opts.params ?? {}) : factory.create(opts.params ?? {});
  if (opts.ensemble && !(model instanceof EnsembleModel)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--members, --member-weights, --learn-weights and --rules belong to --model ensemble, not --model ${opts.model}`, { flag: '--members' });
  }
  const resolved = await resolveSplit({ store: opts.store, split: opts.split, splitsDir: opts.splitsDir, matrix: opts.matrix, progress: opts.progress });
  if (model instanceof EnsembleModel) await prepareEnsemble(model, opts, resolved);
  if (factory.needsCatalog || factory.needsUsers) {
    const store = await openStore(opts.store);
    try {
      // The whole catalogue, not only items with interactions: vocabularies are learned from all of it.
      if (factory.needsCatalog) (model as Recommender & CatalogAware).setCatalog(await loadProducts(store));
      if (factory.needsUsers) (model as Recommender & UserFeatureAware).setUserFeatures(await loadUserRows(store));
    } finally {
      await store.close();
    }
  }
  const t1 = performance.now();
  const fit = await model.fit(resolved.split.train, { progress: opts.progress });
  const t2 = performance.now();
  const modelDir = resolve(opts.out ?? join('models', opts.model));
  const record: TrainingRecord = {
    model: model.name,
    params: { ...model.params },
    split: { dir: resolved.dir, fingerprint: resolved.split.fingerprint, config: resolved.split.config, datasetFingerprint: resolved.split.datasetFingerprint },
    matrix: resolved.matrixOptions,
    fit,
    trainedAt: new Date().toISOString(),
  };
  await saveModelWithRecord(model, modelDir, record);
  const t3 = performance.now();
  return {
    modelDir,
    model: model.name,
    params: record.params,
    split: resolved.summary,
    fit,
    seconds: { matrixAndSplit: (t1 - t0) / 1000, fit: (t2 - t1) / 1000, save: (t3 - t2) / 1000, total: (t3 - t0) / 1000 },
  };
}

/** `--warm-start DIR`: the saved model, ready to continue training (only models that support it). */
async function warmStartModel(name: string, dir: string, params: Record<string, unknown>): Promise<Recommender> {
  const factory = modelFactory(name);
  if (!factory.warmStart) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--warm-start continues training a saved model; --model ${name} does not support it (supported: twotower). Train a fresh model instead.`, { flag: '--warm-start' });
  }
  if (!existsSync(join(resolve(dir), 'manifest.json'))) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `--warm-start ${dir}: no saved model there (manifest.json missing); pass the --out directory of an earlier \`recsys train --model ${name}\``, { file: dir, flag: '--warm-start' });
  }
  return factory.warmStart(resolve(dir), params);
}

/** Save a model plus its training record so that both appear at once (temp dir + rename). */
export async function saveModelWithRecord(model: Recommender, dir: string, record: TrainingRecord): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await model.save(staging);
    await writeFile(join(staging, 'training.json'), JSON.stringify(record, null, 2));
    const old = existsSync(target) ? `${staging}.old` : null;
    if (old) await rename(target, old);
    await rename(staging, target);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (e instanceof RecsysError) throw e;
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `could not save the model to ${target}: ${(e as Error).message}`, { file: target }, { cause: e });
  }
}

/**
 * `--model ensemble`: load the members (checking they were trained on this very split), the rules
 * file, and the store-side inputs models never read themselves: users' demographics (segments for
 * cold users) and, when `excludeBought.types` is set, each user's items of those types (restricted to
 * training pairs, so test pairs never leak into the model).
 */
async function prepareEnsemble(model: EnsembleModel, opts: TrainOptions, resolved: ResolvedSplit): Promise<void> {
  const spec = opts.ensemble ?? {};
  for (const dir of spec.members ?? []) {
    const path = join(resolve(dir), 'training.json');
    if (!existsSync(path)) continue;
    const record = JSON.parse(await readFile(path, 'utf8')) as TrainingRecord;
    if (record.split.fingerprint !== resolved.split.fingerprint) {
      throw new RecsysError(
        'RECSYS_ERR_USAGE',
        `member ${dir} was trained on split ${record.split.fingerprint} (${record.split.dir}), the ensemble on ${resolved.split.fingerprint} (${resolved.dir}): retrain the member with --split ${resolved.dir}, or train the ensemble with --split ${record.split.dir}`,
        { flag: '--members' },
      );
    }
  }
  const file = spec.rulesFile ? await readRerankFile(spec.rulesFile) : null;
  await model.configure({
    ...(spec.members && spec.members.length > 0 ? { members: spec.members } : {}),
    ...(spec.weights ? { weights: spec.weights } : {}),
    ...(spec.learnWeights !== undefined ? { learnWeights: spec.learnWeights } : {}),
    ...(file ? { rules: file.rules, router: file.router } : {}),
  });
  if (!existsSync(opts.store)) return;
  const store = await openStore(opts.store);
  try {
    model.setDemographics(await loadDemographics(store));
    const types = model.rules.excludeBought.enabled ? model.rules.excludeBought.types : null;
    if (types && types.length > 0) model.setBought(await boughtRows(store, types, resolved.split.train));
  } finally {
    await store.close();
  }
}

/** users.demographics by user id (rows without demographics are left out). */
async function loadDemographics(store: Store): Promise<Map<string, Demographics>> {
  const rows = await store.rows('SELECT user_id, CAST(demographics AS VARCHAR) AS d FROM users WHERE demographics IS NOT NULL');
  const out = new Map<string, Demographics>();
  for (const row of rows) {
    try {
      const d = JSON.parse(String(row.d)) as unknown;
      if (d && typeof d === 'object' && !Array.isArray(d)) out.set(String(row.user_id), d as Demographics);
    } catch {
      // A malformed demographics value only costs that user its segment.
    }
  }
  return out;
}

/** Items of the given interaction types per training user, restricted to the training pairs. */
async function boughtRows(store: Store, types: readonly string[], train: InteractionMatrix): Promise<CsrRows> {
  const typed = await loadInteractionMatrix(store, { types, valueMode: 'binary' });
  const rows: number[][] = Array.from({ length: train.nUsers }, () => []);
  for (let tu = 0; tu < typed.nUsers; tu++) {
    const u = train.users.indexOf(typed.users.idOf(tu));
    if (u < 0) continue;
    const own = train.rowItems(u);
    for (const ti of typed.rowItems(tu)) {
      const i = train.items.indexOf(typed.items.idOf(ti));
      if (i >= 0 && binaryHas(own, i)) rows[u].push(i);
    }
  }
  const indptr = new Int32Array(train.nUsers + 1);
  rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
  const indices = new Int32Array(indptr[train.nUsers]);
  rows.forEach((r, u) => indices.set(r.sort((a, b) => a - b), indptr[u]));
  return { indptr, indices };
}

function binaryHas(sorted: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return true;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export interface IncrementalResult {
  modelDir: string;
  model: string;
  /** Products featurized and made recommendable by this run. */
  added: number;
  itemsBefore: number;
  itemsAfter: number;
  seconds: number;
}

/**
 * `recsys train --model content --incremental`: add the store's products that the saved content
 * model does not know yet (new items, no interactions needed) without refitting, and save it in
 * place. Its training record is kept and marks the added count, so `eval` can tell the model now
 * knows more items than its split (and will say so rather than evaluate it there).
 */
export async function addNewItemsToContentModel(opts: { store: string; modelDir: string; progress?: Progress }): Promise<IncrementalResult> {
  const t0 = performance.now();
  const dir = resolve(opts.modelDir);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `--incremental needs a trained content model at ${dir}: train one first (recsys train --model content), or pass --out <its dir>.`, { file: dir, flag: '--incremental' });
  }
  const model = await ContentModel.load(dir);
  const before = model.itemIds?.size ?? 0;
  const store = await openStore(opts.store);
  let added = 0;
  try {
    added = (await model.addItems(await loadProducts(store), { onlyNew: true, progress: opts.progress })).added;
  } finally {
    await store.close();
  }
  const recordPath = join(dir, 'training.json');
  const record = existsSync(recordPath) ? (JSON.parse(await readFile(recordPath, 'utf8')) as TrainingRecord & { incremental?: unknown[] }) : null;
  if (!record) throw new RecsysError('RECSYS_ERR_ARTIFACT', `${recordPath} is missing: this model was not saved by recsys train`, { file: recordPath });
  const incremental = [...(record.incremental ?? []), { at: new Date().toISOString(), added }];
  await saveModelWithRecord(model, dir, { ...record, incremental } as TrainingRecord);
  return { modelDir: dir, model: 'content', added, itemsBefore: before, itemsAfter: model.itemIds?.size ?? before, seconds: (performance.now() - t0) / 1000 };
}
