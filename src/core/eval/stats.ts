/**
 * The statistics of evaluation: mean, sample standard deviation, histograms, seeded percentile
 * bootstrap confidence intervals of a mean (Efron & Tibshirani 1993, ch. 13), the paired t-test
 * (two-sided p from the Student t CDF, via the regularized incomplete beta function computed with
 * the continued fraction of Numerical Recipes 3rd ed. §6.4 and the Lanczos log-gamma of §6.1), and
 * the paired randomization (sign-flip) test (exact when 2^n ≤ permutations, else Monte Carlo with
 * the (b+1)/(m+1) correction of Phipson & Smyth 2010).
 */
import { RecsysError } from '../errors.js';
import { Rng } from '../rng.js';
import type { Histogram, PairedComparison } from './types.js';

type Numbers = ArrayLike<number>;

export function mean(x: Numbers): number {
  if (x.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Sample standard deviation (denominator n − 1); 0 for fewer than 2 values. */
export function sampleStd(x: Numbers): number {
  const n = x.length;
  if (n < 2) return 0;
  const m = mean(x);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

/**
 * Equal-width histogram over [lo, hi] (default: the data's min and max). Bin b covers
 * [edges[b], edges[b+1]); the last bin also holds hi. Values outside [lo, hi] and NaN are dropped.
 */
export function histogram(x: Numbers, bins = 20, lo?: number, hi?: number): Histogram {
  let a = lo ?? Infinity;
  let b = hi ?? -Infinity;
  if (lo === undefined || hi === undefined) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (Number.isNaN(v)) continue;
      if (lo === undefined && v < a) a = v;
      if (hi === undefined && v > b) b = v;
    }
    if (!Number.isFinite(a)) a = 0;
    if (!Number.isFinite(b)) b = a;
  }
  if (b <= a) b = a + 1;
  const width = (b - a) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? b : a + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v >= a && v <= b)) continue;
    let bin = Math.floor((v - a) / width);
    if (bin >= bins) bin = bins - 1;
    counts[bin]++;
  }
  return { edges, counts };
}

/** Quantile of an ascending array by linear interpolation between order statistics (R type 7). */
export function quantileSorted(sorted: Numbers, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  samples?: number;
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/**
 * Percentile bootstrap CIs of the means of m columns at once, all columns sharing the same
 * resamples: `values` is row-major n × m (row = user). Each resample draws n rows with replacement;
 * the interval is the (1−level)/2 and (1+level)/2 quantiles (type 7) of the resampled means.
 * Returns [lo0, hi0, lo1, hi1, ...]. Deterministic for a given seed, n and sample count.
 *
 * Exact, but organised for speed (100k users × 36 columns × 1000 resamples is 3.6e9 naive adds):
 * identical rows are merged first (all-zero rows, the users without a hit, drop out entirely), each
 * block of resamples only counts how often each distinct row was drawn, and the means are then
 * Σ_distinct count × row / n — one sequential pass over the distinct rows' non-zero entries per block.
 */
export function bootstrapMeanCIs(values: Float64Array, n: number, m: number, opts: BootstrapOptions = {}): Float64Array {
  const samples = opts.samples ?? 1000;
  const level = opts.level ?? 0.95;
  const out = new Float64Array(2 * m);
  if (n === 0) return out.fill(NaN);
  if (values.length !== n * m) throw new RecsysError('RECSYS_ERR_EVAL', `bootstrap: values has ${values.length} entries, expected ${n}×${m}`);
  if (!(Number.isInteger(samples) && samples >= 1)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `bootstrap samples must be a positive integer (got ${samples})`, { flag: '--bootstrap' });
  }
  const { groupOf, nDistinct, rowPtr, entryColumn, entryValue } = mergeIdenticalRows(values, n, m);

  // xoshiro128** inlined (the Rng class's per-call overhead dominates 1e8 draws), seeded from Rng.
  const seeder = new Rng(opts.seed ?? 42);
  let s0 = seeder.nextUint32() | 0;
  let s1 = seeder.nextUint32() | 0;
  let s2 = seeder.nextUint32() | 0;
  let s3 = seeder.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const BLOCK = 8;
  // counts[b*nDistinct + g]: one resample's counts are contiguous, so the random increments stay in cache.
  const counts = new Uint32Array(Math.max(nDistinct, 1) * BLOCK);
  const sums = new Float64Array(BLOCK * m);
  const means = new Float64Array(samples * m); // column-major: means[c*samples + b]
  for (let b0 = 0; b0 < samples; b0 += BLOCK) {
    const nb = Math.min(BLOCK, samples - b0);
    counts.fill(0);
    sums.fill(0);
    for (let b = 0; b < nb; b++) {
      const cb = b * nDistinct;
      for (let i = 0; i < n; i++) {
        const x = Math.imul(s1, 5);
        const word = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        // Multiply-shift map of a 32-bit word to a row in [0, n) (bias < n/2^32).
        const g = groupOf[(word * n * 2.3283064365386963e-10) | 0];
        if (g >= 0) counts[cb + g]++;
      }
    }
    // sums[c*BLOCK + b] += count(b, g) · value(g, c), over the non-zero entries of each distinct row
    // (BLOCK = 8 unrolled; counts of resamples past nb are 0).
    for (let g = 0; g < nDistinct; g++) {
      const w0 = counts[g];
      const w1 = counts[nDistinct + g];
      const w2 = counts[2 * nDistinct + g];
      const w3 = counts[3 * nDistinct + g];
      const w4 = counts[4 * nDistinct + g];
      const w5 = counts[5 * nDistinct + g];
      const w6 = counts[6 * nDistinct + g];
      const w7 = counts[7 * nDistinct + g];
      if (w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7 === 0) continue;
      for (let p = rowPtr[g]; p < rowPtr[g + 1]; p++) {
        const v = entryValue[p];
        const sc = entryColumn[p] * BLOCK;
        sums[sc] += w0 * v;
        sums[sc + 1] += w1 * v;
        sums[sc + 2] += w2 * v;
        sums[sc + 3] += w3 * v;
        sums[sc + 4] += w4 * v;
        sums[sc + 5] += w5 * v;
        sums[sc + 6] += w6 * v;
        sums[sc + 7] += w7 * v;
      }
    }
    for (let b = 0; b < nb; b++) for (let c = 0; c < m; c++) means[c * samples + b0 + b] = sums[c * BLOCK + b] / n;
  }
  const lowQ = (1 - level) / 2;
  const highQ = 1 - lowQ;
  for (let c = 0; c < m; c++) {
    const col = means.subarray(c * samples, (c + 1) * samples).sort();
    out[2 * c] = quantileSorted(col, lowQ);
    out[2 * c + 1] = quantileSorted(col, highQ);
  }
  return out;
}

/**
 * Groups identical rows of a row-major n × m matrix (open-addressing hash over the rows' bits).
 * groupOf[i] is the distinct-row index of row i, or -1 for an all-zero row (it adds nothing to a
 * sum); the distinct non-zero rows come back in CSR form (rowPtr, entryColumn, entryValue).
 */
function mergeIdenticalRows(
  values: Float64Array,
  n: number,
  m: number,
): { groupOf: Int32Array; nDistinct: number; rowPtr: Int32Array; entryColumn: Int32Array; entryValue: Float64Array } {
  const words = new Uint32Array(values.buffer, values.byteOffset, n * m * 2);
  let size = 1024;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1); // → distinct-row index
  const firstRow = new Int32Array(n); // distinct-row index → a row holding it
  const groupOf = new Int32Array(n);
  let nDistinct = 0;
  for (let i = 0; i < n; i++) {
    const base = i * m;
    let h = 0x811c9dc5;
    let zero = true;
    for (let c = 0; c < 2 * m; c++) {
      const w = words[2 * base + c];
      h = Math.imul(h ^ w, 0x01000193);
      // +0 and -0 both count as zero (a -0 cannot arise from the metrics, but be safe).
      if (w !== 0 && w !== 0x80000000) zero = false;
    }
    if (zero) {
      groupOf[i] = -1;
      continue;
    }
    let slot = (h ^ (h >>> 15)) & (size - 1);
    for (;;) {
      const g = table[slot];
      if (g < 0) {
        table[slot] = nDistinct;
        firstRow[nDistinct] = i;
        groupOf[i] = nDistinct++;
        break;
      }
      const other = firstRow[g] * m;
      let same = true;
      for (let c = 0; c < m && same; c++) same = values[base + c] === values[other + c];
      if (same) {
        groupOf[i] = g;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
  }
  // Distinct rows in CSR form without their zeros (a row's columns at small k are often 0).
  const rowPtr = new Int32Array(nDistinct + 1);
  for (let g = 0; g < nDistinct; g++) {
    let nz = 0;
    for (let c = 0; c < m; c++) if (values[firstRow[g] * m + c] !== 0) nz++;
    rowPtr[g + 1] = rowPtr[g] + nz;
  }
  const entryColumn = new Int32Array(rowPtr[nDistinct]);
  const entryValue = new Float64Array(rowPtr[nDistinct]);
  for (let g = 0, w = 0; g < nDistinct; g++) {
    for (let c = 0; c < m; c++) {
      const v = values[firstRow[g] * m + c];
      if (v === 0) continue;
      entryColumn[w] = c;
      entryValue[w++] = v;
    }
  }
  return { groupOf, nDistinct, rowPtr, entryColumn, entryValue };
}

/** Percentile bootstrap CI of the mean of `x` (the one-column case of `bootstrapMeanCIs`). */
export function bootstrapMeanCI(x: Numbers, opts: BootstrapOptions = {}): [number, number] {
  const ci = bootstrapMeanCIs(Float64Array.from(x), x.length, 1, opts);
  return [ci[0], ci[1]];
}

// ---------------------------------------------------------------------------------------------
// Student t distribution.

const LANCZOS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4,
  0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3,
  0.217439618115212643e-3, -0.16431810653676389e-3, 0.844182239838527433e-4, -0.261908384015814087e-4,
  0.368991826595316234e-5,
];

/** ln Γ(x) for x > 0 (Lanczos, Numerical Recipes 3rd ed. `gammln`; ~1e-15 relative). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RecsysError('RECSYS_ERR_EVAL', `logGamma needs x > 0 (got ${x})`);
  let y = x;
  let tmp = x + 5.2421875;
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.999999999999997092;
  for (let j = 0; j < 14; j++) ser += LANCZOS[j] / ++y;
  return tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction for I_x(a, b) by the modified Lentz method (NR `betacf`). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const FPMIN = 1e-300;
  const EPS = 1e-15;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h;
  }
  return h; // converged to within double precision for every (a, b) the t-test uses
}

/** Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1] (NR `betai`). */
export function regularizedIncompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom: tail = ½·I_{df/(df+t²)}(df/2, ½). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, ½). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
}

/** The p-quantile of Student's t (bisection on the CDF to ~1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) return p <= 0 ? -Infinity : Infinity;
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface TTestResult {
  /** mean of x − y. */
  meanDifference: number;
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** t-based 95% CI of the mean difference. */
  ci95: [number, number];
}

function checkPaired(x: Numbers, y: Numbers, what: string): void {
  if (x.length !== y.length) {
    throw new RecsysError(
      'RECSYS_ERR_EVAL',
      `${what}: the two samples have ${x.length} and ${y.length} values; a paired test needs the same users in the same order (evaluate both models on the same split)`,
    );
  }
}

/**
 * Paired t-test of x against y (as R's `t.test(x, y, paired = TRUE)`): d = x − y,
 * t = mean(d) / (sd(d)/√n), df = n − 1, p two-sided. When every difference is equal (sd = 0) the
 * test is degenerate: p = 1 if the mean difference is 0, else 0. With n < 2, p = 1 (no evidence).
 */
export function pairedTTest(x: Numbers, y: Numbers): TTestResult {
  checkPaired(x, y, 'paired t-test');
  const n = x.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i] - y[i];
  const md = n > 0 ? mean(d) : 0;
  const df = n - 1;
  if (n < 2) return { meanDifference: md, t: 0, df: Math.max(df, 0), p: 1, ci95: [md, md] };
  const se = sampleStd(d) / Math.sqrt(n);
  if (se === 0) {
    return { meanDifference: md, t: md === 0 ? 0 : Math.sign(md) * Infinity, df, p: md === 0 ? 1 : 0, ci95: [md, md] };
  }
  const t = md / se;
  const q = studentTQuantile(0.975, df);
  return { meanDifference: md, t, df, p: studentTTwoSidedP(t, df), ci95: [md - q * se, md + q * se] };
}

export interface RandomizationResult {
  /** Two-sided p-value. */
  p: number;
  /** Sign patterns evaluated (2^n when exact). */
  permutations: number;
  exact: boolean;
}

/**
 * Paired randomization (sign-flip) test of x against y: under H0 each difference d_i = x_i − y_i is
 * equally likely to have either sign. Statistic |Σ d_i|; p = share of sign patterns with
 * |Σ ±d_i| ≥ |Σ d_i| (a relative tolerance of 1e-9 absorbs floating-point rounding).
 * When 2^n ≤ permutations every pattern is enumerated (exact p); otherwise `permutations` random
 * patterns from a seeded Rng, p = (b + 1)/(permutations + 1).
 */
export function randomizationTest(x: Numbers, y: Numbers, opts: { permutations?: number; seed?: number } = {}): RandomizationResult {
  checkPaired(x, y, 'randomization test');
  const permutations = opts.permutations ?? 1000;
  const n = x.length;
  const d = new Float64Array(n);
  let observed = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    d[i] = x[i] - y[i];
    observed += d[i];
    scale += Math.abs(d[i]);
  }
  if (n === 0 || scale === 0) return { p: 1, permutations: 0, exact: true };
  const threshold = Math.abs(observed) - 1e-9 * scale;

  if (n <= 30 && 2 ** n <= permutations) {
    const total = 2 ** n;
    let extreme = 0;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (mask >>> i) & 1 ? -d[i] : d[i];
      if (Math.abs(s) >= threshold) extreme++;
    }
    return { p: extreme / total, permutations: total, exact: true };
  }

  const rng = new Rng(opts.seed ?? 42);
  let extreme = 0;
  for (let b = 0; b < permutations; b++) {
    let s = 0;
    let word = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 31) === 0) word = rng.nextUint32();
      s += (word >>> (i & 31)) & 1 ? -d[i] : d[i];
    }
    if (Math.abs(s) >= threshold) extreme++;
  }
  return { p: (extreme + 1) / (permutations + 1), permutations, exact: false };
}

export interface CompareOptions {
  baseline?: string;
  candidate?: string;
  seed?: number;
  /** Bootstrap resamples for the CI of the mean difference (default 1000). */
  bootstrapSamples?: number;
  /** Sign patterns for the randomization test (default 1000). */
  permutations?: number;
}

/**
 * Paired comparison of one metric between a baseline (a) and a candidate (b) evaluated on the same
 * users in the same order. meanDifference = mean(b − a) (positive: the candidate is better on a
 * higher-is-better metric); ci95 = percentile bootstrap CI of that mean; tTestP and randomizationP
 * are two-sided p-values of the paired t and sign-flip tests.
 */
export function comparePaired(metric: string, a: Numbers, b: Numbers, opts: CompareOptions = {}): PairedComparison {
  checkPaired(a, b, `comparing ${metric}`);
  const n = a.length;
  const diff = new Float64Array(n);
  for (let i = 0; i < n; i++) diff[i] = b[i] - a[i];
  const seed = opts.seed ?? 42;
  const t = pairedTTest(b, a);
  const r = randomizationTest(b, a, { permutations: opts.permutations, seed });
  const ci = n > 0 ? bootstrapMeanCI(diff, { samples: opts.bootstrapSamples, seed }) : ([0, 0] as [number, number]);
  return {
    metric,
    baseline: opts.baseline ?? 'baseline',
    candidate: opts.candidate ?? 'candidate',
    meanDifference: n > 0 ? t.meanDifference : 0,
    ci95: ci,
    tTestP: t.p,
    randomizationP: r.p,
    n,
  };
}
