/**
 * Logged bandit data: `readLog` picks the reader (Open Bandit Dataset folders and files by their
 * columns, anything else through the generic CSV/TSV/JSONL reader), `summarizeLog` gives the facts
 * a report shows, and `estimateActionDistribution` recovers a behaviour policy's action
 * distribution per position from its own logged propensities.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RecsysError } from '../../errors.js';
import { detectLogFormat, readGenericLog, type GenericLogOptions } from './generic.js';
import { OBD_REQUIRED, readHeader, readObd } from './obd.js';
import type { LoggedBandit } from './types.js';

export * from './types.js';
export { readObd, readItemContext, resolveObdFiles, OBD_REQUIRED } from './obd.js';
export { readGenericLog, detectLogFormat, COLUMN_ALIASES, type GenericLogOptions } from './generic.js';
export { readDelimited, readJsonLines } from './csv.js';

export interface ReadLogOptions extends Omit<GenericLogOptions, 'format'> {
  /** 'obd' forces the Open Bandit Dataset reader; default: detected. */
  format?: 'obd' | 'csv' | 'tsv' | 'jsonl';
}

/** Reads a logged-bandit file or OBD campaign folder. */
export async function readLog(path: string, opts: ReadLogOptions = {}): Promise<LoggedBandit> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${path} does not exist`, { file: path, flag: '--logged' });
  if (opts.format === 'obd' || (opts.format === undefined && statSync(abs).isDirectory())) return readObd(path);
  const generic: GenericLogOptions = { ...opts, format: opts.format };
  const format = detectLogFormat(abs, opts.format);
  const explicitColumns = opts.actionColumn || opts.rewardColumn || opts.propensityColumn || opts.positionColumn || opts.contextColumns;
  if (format === 'csv' && !explicitColumns) {
    const header = await readHeader(abs);
    if (OBD_REQUIRED.every((c) => header.includes(c))) return readObd(path);
  }
  return readGenericLog(path, generic);
}

export interface LogSummary {
  path: string;
  format: string;
  rows: number;
  arms: number;
  positions: number;
  /** Mean reward over the log (the logging policy's on-policy value). */
  meanReward: number;
  rewardSum: number;
  hasPropensities: boolean;
  propensityMin: number | null;
  propensityMax: number | null;
  /** Whether every propensity equals 1/arms (a uniformly random logging policy). */
  uniform: boolean;
  timeFrom: string | null;
  timeTo: string | null;
  contextColumns: string[];
  contextDim: number;
  notes: string[];
}

export function summarizeLog(log: LoggedBandit, contextDim: number): LogSummary {
  let sum = 0;
  for (let i = 0; i < log.n; i++) sum += log.rewards[i];
  let pMin = Infinity;
  let pMax = -Infinity;
  let uniform = log.propensities !== null;
  if (log.propensities) {
    const u = 1 / log.nArms;
    for (let i = 0; i < log.n; i++) {
      const p = log.propensities[i];
      if (p < pMin) pMin = p;
      if (p > pMax) pMax = p;
      if (Math.abs(p - u) > 1e-9 * u) uniform = false;
    }
  }
  let tMin = Infinity;
  let tMax = -Infinity;
  if (log.timestamps) {
    for (let i = 0; i < log.n; i++) {
      const t = log.timestamps[i];
      if (t < tMin) tMin = t;
      if (t > tMax) tMax = t;
    }
  }
  const iso = (t: number): string | null => (Number.isFinite(t) ? new Date(t * 1000).toISOString() : null);
  return {
    path: log.source.path,
    format: log.source.format,
    rows: log.n,
    arms: log.nArms,
    positions: log.nPositions,
    meanReward: sum / log.n,
    rewardSum: sum,
    hasPropensities: log.propensities !== null,
    propensityMin: log.propensities ? pMin : null,
    propensityMax: log.propensities ? pMax : null,
    uniform,
    timeFrom: iso(tMin),
    timeTo: iso(tMax),
    contextColumns: log.columns.context,
    contextDim,
    notes: log.notes,
  };
}

export type DistributionMethod = 'harmonic' | 'frequency';

/**
 * The behaviour policy's action distribution per position, π(a | position), from its own log:
 * positions × nArms, each row summing to 1.
 *
 * - 'harmonic' (default): n_{a,k} / Σ_{rows with a at k} 1/p_i, the harmonic mean of the logged
 *   propensities. When the policy changes over time (a batch-updated Thompson sampler does), a row
 *   with arm a at position k is drawn with probability p_t(a|k), so E[1/p | a shown at k] =
 *   T / Σ_t p_t(a|k) = 1/mean_t p_t(a|k): the harmonic mean estimates the time-averaged
 *   probability, which is what the policy's on-policy value averages over. (The plain mean of the
 *   logged propensities is biased upwards: large p_t are over-represented among the rows.)
 * - 'frequency': n_{a,k} / n_k, the share of position-k rows showing a (no propensities needed).
 *
 * Arms never shown at a position get probability 0 there; rows are renormalised to sum 1.
 */
export function estimateActionDistribution(log: LoggedBandit, method: DistributionMethod = 'harmonic'): Float64Array {
  const n = log.nArms;
  const k = log.nPositions;
  if (method === 'harmonic' && !log.propensities) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${log.source.path} has no propensities: its action distribution can only be estimated by frequency`, { file: log.source.path });
  }
  const count = new Float64Array(k * n);
  const inverse = new Float64Array(k * n);
  for (let i = 0; i < log.n; i++) {
    const cell = log.positions[i] * n + log.actions[i];
    count[cell] += 1;
    if (log.propensities) inverse[cell] += 1 / log.propensities[i];
  }
  const probs = new Float64Array(k * n);
  for (let p = 0; p < k; p++) {
    let total = 0;
    for (let a = 0; a < n; a++) {
      const cell = p * n + a;
      const v = method === 'harmonic' ? (count[cell] > 0 ? count[cell] / inverse[cell] : 0) : count[cell];
      probs[cell] = v;
      total += v;
    }
    if (total > 0) for (let a = 0; a < n; a++) probs[p * n + a] /= total;
    else for (let a = 0; a < n; a++) probs[p * n + a] = 1 / n;
  }
  return probs;
}
