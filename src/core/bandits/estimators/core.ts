/**
 * Off-policy estimators of a target policy π_e's value V(π_e) = E_x[Σ_a π_e(a|x) q(x, a)] from
 * rows logged by a behaviour policy π_b, as pure functions of per-row arrays (row i: reward r_i,
 * importance weight w_i = π_e(a_i|x_i)/π_b(a_i|x_i), reward-model predictions q̂):
 *
 *   IPS   (Horvitz & Thompson 1952)   V̂ = 1/n Σ w_i r_i
 *   SNIPS (Swaminathan & Joachims 2015, self-normalised)  V̂ = Σ w_i r_i / Σ w_i
 *   DM    (direct method)             V̂ = 1/n Σ_i Σ_a π_e(a|x_i) q̂(x_i, a)          (= 1/n Σ q̂_π,i)
 *   DR    (Dudík, Langford & Li 2011) V̂ = 1/n Σ [q̂_π,i + w_i (r_i − q̂(x_i, a_i))]
 *
 * so DR = DM when every w_i = 0, and DR = IPS when q̂ ≡ 0. With positions, x includes the position
 * and π(a|x) is the probability of a at that position.
 *
 * Each estimate carries a percentile-bootstrap 95% CI over rows (`bootstrapMeanCI` of the per-row
 * terms; for SNIPS, rows are resampled and the ratio recomputed) and the effective sample size
 * (Kish 1965) ESS = (Σ w)² / Σ w², the number of on-policy rows the weighted sample is worth.
 * Weights may be clipped at M (w ← min(w, M)): less variance, bias towards lower values.
 */
import { RecsysError } from '../../errors.js';
import { bootstrapMeanCI, mean, quantileSorted } from '../../eval/stats.js';
import { Rng } from '../../rng.js';
import { Sampler } from '../sampling.js';

export const ESTIMATORS = ['replay', 'ips', 'snips', 'dm', 'dr'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

export const ESTIMATOR_DESCRIPTIONS: Record<EstimatorName, string> = {
  replay: 'replay (Li et al. 2011): mean reward over rows where the policy picks the logged action; uniform logs only',
  ips: 'inverse propensity scoring: mean of w·r, w = π(a|x)/p',
  snips: 'self-normalised IPS: Σ w·r / Σ w',
  dm: 'direct method: mean over rows of Σ_a π(a|x)·q̂(x,a), q̂ a per-action reward model',
  dr: 'doubly robust: DM plus the IPS-weighted residual r − q̂(x,a)',
};

export interface Estimate {
  estimator: EstimatorName;
  value: number;
  /** Percentile-bootstrap 95% confidence interval. */
  ci95: [number, number];
  /** Rows averaged over (replay: matched rows). */
  n: number;
  /** Effective sample size (Σw)²/Σw² (replay: matched rows; DM: n). */
  ess: number;
  /** Extra facts: weight statistics, clipped rows, matched share, … */
  details: Record<string, number>;
}

export interface EstimateOptions {
  /** Bootstrap resamples (default 1000; 0 skips the CI). */
  bootstrapSamples?: number;
  seed?: number;
}

function ciOf(values: Float64Array, opts: EstimateOptions): [number, number] {
  const samples = opts.bootstrapSamples ?? 1000;
  if (samples === 0 || values.length === 0) return [NaN, NaN];
  return bootstrapMeanCI(values, { samples, seed: opts.seed ?? 42 });
}

function checkLengths(what: string, ...arrays: ArrayLike<number>[]): number {
  const n = arrays[0].length;
  for (const a of arrays) {
    if (a.length !== n) throw new RecsysError('RECSYS_ERR_EVAL', `${what}: per-row arrays have different lengths (${arrays.map((x) => x.length).join(', ')})`);
  }
  return n;
}

/** (Σw)² / Σw²; 0 when every weight is 0. */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/**
 * w_i = π_e(a_i|x_i) / p_i, clipped at `clip` when given. Returns the weights and how many were
 * clipped.
 */
export function importanceWeights(targetProb: ArrayLike<number>, propensity: ArrayLike<number>, clip?: number): { w: Float64Array; clipped: number } {
  const n = checkLengths('importance weights', targetProb, propensity);
  const w = new Float64Array(n);
  let clipped = 0;
  const max = clip !== undefined && clip > 0 ? clip : Infinity;
  for (let i = 0; i < n; i++) {
    const p = propensity[i];
    if (!(p > 0)) throw new RecsysError('RECSYS_ERR_EVAL', `row ${i + 1} has propensity ${p}: importance weights need the logging probability of the shown action, > 0`);
    let v = targetProb[i] / p;
    if (v > max) {
      v = max;
      clipped++;
    }
    w[i] = v;
  }
  return { w, clipped };
}

function weightDetails(w: Float64Array, clipped: number): Record<string, number> {
  let max = 0;
  let zero = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] > max) max = w[i];
    if (w[i] === 0) zero++;
  }
  return { meanWeight: mean(w), maxWeight: max, zeroWeightRows: zero, clippedRows: clipped };
}

export function ipsEstimate(w: Float64Array, r: ArrayLike<number>, opts: EstimateOptions = {}, clipped = 0): Estimate {
  const n = checkLengths('IPS', w, r);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = w[i] * r[i];
  return { estimator: 'ips', value: mean(terms), ci95: ciOf(terms, opts), n, ess: effectiveSampleSize(w), details: weightDetails(w, clipped) };
}

/**
 * Percentile bootstrap CI of Σ num / Σ den over rows resampled with replacement (a Sampler seeded
 * from an Rng; the same resamples for numerator and denominator). Resamples with Σ den = 0 are dropped.
 */
export function bootstrapRatioCI(num: ArrayLike<number>, den: ArrayLike<number>, opts: EstimateOptions & { level?: number } = {}): [number, number] {
  const n = checkLengths('ratio bootstrap', num, den);
  const samples = opts.bootstrapSamples ?? 1000;
  if (samples === 0 || n === 0) return [NaN, NaN];
  const rng = new Sampler(new Rng(opts.seed ?? 42));
  const ratios: number[] = [];
  for (let b = 0; b < samples; b++) {
    let sn = 0;
    let sd = 0;
    for (let j = 0; j < n; j++) {
      const i = rng.int(n);
      sn += num[i];
      sd += den[i];
    }
    if (sd > 0) ratios.push(sn / sd);
  }
  if (ratios.length === 0) return [NaN, NaN];
  const sorted = Float64Array.from(ratios).sort();
  const level = opts.level ?? 0.95;
  return [quantileSorted(sorted, (1 - level) / 2), quantileSorted(sorted, (1 + level) / 2)];
}

export function snipsEstimate(w: Float64Array, r: ArrayLike<number>, opts: EstimateOptions = {}, clipped = 0): Estimate {
  const n = checkLengths('SNIPS', w, r);
  const terms = new Float64Array(n);
  let sw = 0;
  let swr = 0;
  for (let i = 0; i < n; i++) {
    terms[i] = w[i] * r[i];
    sw += w[i];
    swr += terms[i];
  }
  return {
    estimator: 'snips',
    value: sw > 0 ? swr / sw : NaN,
    ci95: bootstrapRatioCI(terms, w, opts),
    n,
    ess: effectiveSampleSize(w),
    details: weightDetails(w, clipped),
  };
}

/** qTarget[i] = Σ_a π_e(a|x_i) q̂(x_i, a). */
export function dmEstimate(qTarget: Float64Array, opts: EstimateOptions = {}): Estimate {
  const n = qTarget.length;
  return { estimator: 'dm', value: mean(qTarget), ci95: ciOf(qTarget, opts), n, ess: n, details: {} };
}

/** qLogged[i] = q̂(x_i, a_i); qTarget[i] = Σ_a π_e(a|x_i) q̂(x_i, a). */
export function drEstimate(w: Float64Array, r: ArrayLike<number>, qLogged: ArrayLike<number>, qTarget: ArrayLike<number>, opts: EstimateOptions = {}, clipped = 0): Estimate {
  const n = checkLengths('DR', w, r, qLogged, qTarget);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = qTarget[i] + w[i] * (r[i] - qLogged[i]);
  return { estimator: 'dr', value: mean(terms), ci95: ciOf(terms, opts), n, ess: effectiveSampleSize(w), details: weightDetails(w, clipped) };
}

/** Mean reward with a bootstrap CI (the on-policy value of whatever policy produced `r`). */
export function meanEstimate(r: Float64Array, opts: EstimateOptions = {}): { value: number; ci95: [number, number]; n: number } {
  return { value: mean(r), ci95: ciOf(r, opts), n: r.length };
}

export function parseEstimators(text: string): EstimatorName[] {
  const names = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (names.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', `--estimator expects a list such as replay,ips,snips,dm,dr`, { flag: '--estimator' });
  for (const n of names) {
    if (!(ESTIMATORS as readonly string[]).includes(n)) {
      throw new RecsysError('RECSYS_ERR_USAGE', `unknown estimator '${n}'. Estimators: ${ESTIMATORS.join(', ')}.`, { flag: '--estimator' });
    }
  }
  return [...new Set(names)] as EstimatorName[];
}
