/**
 * Splits as the CLI sees them: `--split` is either a saved split directory or a spec such as
 * `random:0.2` / `temporal:0.2` / `leave-last:1` / `strong:0.1:foldin=0.8`. A spec is cut from the
 * store's current matrix and saved under `splits/<spec>`; when that directory already holds the
 * same spec cut from the same data (same dataset fingerprint), it is reused, so `train` and
 * `eval` always see the same split.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import { canonicalJson } from '../artifacts.js';
import { openStore } from '../data/store.js';
import { loadInteractionMatrix, type MatrixOptions as LoadMatrixOptions } from '../data/load-matrix.js';
import { loadSplit, parseSplitSpec, saveSplit, splitMatrix } from '../data/split.js';
import type { Split } from '../data/split-types.js';
import type { Progress } from '../models/recommender.js';

export type MatrixOptions = Partial<LoadMatrixOptions>;

export interface ResolvedSplit {
  dir: string;
  split: Split;
  matrixOptions: MatrixOptions;
  reused: boolean;
  summary: { dir: string; config: unknown; fingerprint: string; trainPairs: number; testPairs: number; foldInPairs: number; users: number; items: number; reused: boolean };
}

export function isSavedSplitDir(path: string): boolean {
  return existsSync(join(path, 'manifest.json'));
}

/** A filesystem-safe directory name for a spec (and its matrix weighting). */
export function splitSlug(spec: string, matrix: MatrixOptions): string {
  const base = spec.replace(/[^A-Za-z0-9.=_-]+/g, '_');
  const w = matrix.weights ? '_w-' + Object.entries(matrix.weights).map(([k, v]) => `${k}${v}`).join('-') : '';
  const mode = matrix.valueMode ? `_${matrix.valueMode}` : '';
  return `${base}${w}${mode}`.replace(/[^A-Za-z0-9.=_-]+/g, '_');
}

export async function resolveSplit(opts: { store: string; split: string; splitsDir?: string; matrix?: MatrixOptions; progress?: Progress }): Promise<ResolvedSplit> {
  const matrixOptions = opts.matrix ?? {};
  if (isSavedSplitDir(opts.split)) {
    const dir = resolve(opts.split);
    return summarize(dir, await loadSplit(dir), matrixOptions, true);
  }
  const config = parseSplitSpec(opts.split);
  const dir = resolve(opts.splitsDir ?? 'splits', splitSlug(opts.split, matrixOptions));
  if (!existsSync(opts.store)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `store ${opts.store} does not exist. Ingest data first (recsys ingest …), or pass --store.`, { file: opts.store, flag: '--store' });
  }
  const store = await openStore(opts.store);
  try {
    const datasetFingerprint = await store.fingerprint();
    if (isSavedSplitDir(dir)) {
      const saved = await loadSplit(dir);
      if (saved.datasetFingerprint === datasetFingerprint && canonicalJson(saved.config) === canonicalJson(config)) {
        return summarize(dir, saved, matrixOptions, true);
      }
    }
    opts.progress?.start('matrix', 1);
    const matrix = await loadInteractionMatrix(store, matrixOptions);
    opts.progress?.tick(1);
    opts.progress?.stop();
    if (matrix.nnz === 0) {
      throw new RecsysError('RECSYS_ERR_STORE_EMPTY', `store ${opts.store} has no interactions. Ingest some first: recsys ingest <file>.`, { file: opts.store });
    }
    const split = splitMatrix(matrix, config, datasetFingerprint);
    await saveSplit(split, dir);
    return summarize(dir, split, matrixOptions, false);
  } finally {
    await store.close();
  }
}

function summarize(dir: string, split: Split, matrixOptions: MatrixOptions, reused: boolean): ResolvedSplit {
  return {
    dir,
    split,
    matrixOptions,
    reused,
    summary: {
      dir,
      config: split.config,
      fingerprint: split.fingerprint,
      trainPairs: split.train.nnz,
      testPairs: split.test.nnz,
      foldInPairs: split.foldIn?.nnz ?? 0,
      users: split.train.nUsers,
      items: split.train.nItems,
      reused,
    },
  };
}
