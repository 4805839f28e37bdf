/**
 * The train workflow behind `recsys train`: store → matrix → split → fit → artifact.
 * The model is saved together with `training.json` (which split it was fit on, the matrix
 * weighting, the fit report), and both land atomically: written into a temp dir, then renamed.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RecsysError } from '../errors.js';
import { modelFactory } from '../models/registry.js';
import { openStore } from '../data/store.js';
import { loadProducts } from '../data/load-matrix.js';
import type { CatalogAware, FitReport, Progress, Recommender } from '../models/recommender.js';
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
  const model = factory.create(opts.params ?? {});
  const resolved = await resolveSplit({ store: opts.store, split: opts.split, splitsDir: opts.splitsDir, matrix: opts.matrix, progress: opts.progress });
  if (factory.needsCatalog) {
    // The whole catalogue, not only items with interactions: vocabularies are learned from all of it.
    const store = await openStore(opts.store);
    try {
      (model as Recommender & CatalogAware).setCatalog(await loadProducts(store));
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
