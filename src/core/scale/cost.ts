/**
 * The cost model read off the scaling runs: per stage, a power law cost = c · size^b fitted by
 * least squares on log(cost) against log(size) (b = 1 is linear; b < 1 means fixed overheads
 * still weigh at the small end). Projections to the design's size use the fitted law from the
 * largest measured point: cost(x) = cost(x_max) · (x / x_max)^b, so a poor fit at the small end
 * does not move the projection's anchor.
 */
import { RecsysError } from '../errors.js';
import type { ScaleSizeResult, StageName } from './size-run.js';

export interface PowerFit {
  /** Exponent b of cost ∝ size^b. */
  exponent: number;
  /** c in cost = c · size^b. */
  coefficient: number;
  /** R² of the fit in log space (1 when two points). */
  r2: number;
  points: number;
  /** Range of sizes the fit used. */
  from: number;
  to: number;
}

/** Least squares of log y on log x. Needs ≥ 2 points with x, y > 0 and at least two distinct x. */
export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerFit {
  if (xs.length !== ys.length) throw new RecsysError('RECSYS_ERR_USAGE', `fitPowerLaw: ${xs.length} sizes but ${ys.length} costs`);
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < xs.length; i++) if (xs[i] > 0 && ys[i] > 0 && Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push([Math.log(xs[i]), Math.log(ys[i])]);
  if (pts.length < 2) throw new RecsysError('RECSYS_ERR_USAGE', `fitPowerLaw needs at least 2 positive points, got ${pts.length}: run the benchmark with at least two sizes`);
  const n = pts.length;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) throw new RecsysError('RECSYS_ERR_USAGE', 'fitPowerLaw needs at least two different sizes');
  const b = sxy / sxx;
  const a = my - b * mx;
  let sse = 0;
  for (const [x, y] of pts) sse += (y - (a + b * x)) ** 2;
  const valid = xs.filter((x, i) => x > 0 && ys[i] > 0);
  return { exponent: b, coefficient: Math.exp(a), r2: syy > 0 ? 1 - sse / syy : 1, points: n, from: Math.min(...valid), to: Math.max(...valid) };
}

export interface StageFit extends PowerFit {
  /** What was fitted, e.g. 'als s/iteration vs nnz'. */
  what: string;
  stage: StageName | 'als-iteration';
  x: 'events' | 'nnz' | 'users+items';
  y: 'seconds' | 'cpu seconds' | 'peak RSS';
}

const X_OF = {
  events: (r: ScaleSizeResult) => r.events,
  nnz: (r: ScaleSizeResult) => r.matrix.nnz,
  'users+items': (r: ScaleSizeResult) => r.matrix.users + r.matrix.items,
};

/** CPU seconds scaled like the stage's projection (sampled stages: × all users ÷ sample). */
function cpuProjected(s: { seconds: number; projectedSeconds: number; cpuSeconds: number }): number {
  return s.seconds > 0 ? s.cpuSeconds * (s.projectedSeconds / s.seconds) : s.cpuSeconds;
}

function stageOf(r: ScaleSizeResult, stage: StageName) {
  return r.stages.find((s) => s.stage === stage) ?? null;
}

/**
 * The fits the report and the capacity plan use: every stage's (projected) seconds and peak RSS
 * against events; ALS seconds/iteration against nnz and against users + items, over the sizes
 * with at least `alsFrom` events (default 5M: below that, per-iteration fixed costs dominate).
 */
export function fitStages(results: readonly ScaleSizeResult[], alsFrom = 5_000_000): StageFit[] {
  const out: StageFit[] = [];
  const stages = new Set(results.flatMap((r) => r.stages.map((s) => s.stage)));
  for (const stage of stages) {
    const rs = results.filter((r) => stageOf(r, stage) !== null);
    if (new Set(rs.map((r) => r.events)).size < 2) continue;
    out.push({ what: `${stage} seconds vs events`, stage, x: 'events', y: 'seconds', ...fitPowerLaw(rs.map(X_OF.events), rs.map((r) => stageOf(r, stage)!.projectedSeconds)) });
    out.push({ what: `${stage} CPU seconds vs events`, stage, x: 'events', y: 'cpu seconds', ...fitPowerLaw(rs.map(X_OF.events), rs.map((r) => cpuProjected(stageOf(r, stage)!))) });
    out.push({ what: `${stage} peak RSS vs events`, stage, x: 'events', y: 'peak RSS', ...fitPowerLaw(rs.map(X_OF.events), rs.map((r) => stageOf(r, stage)!.peakRssBytes)) });
  }
  let big = results.filter((r) => r.events >= alsFrom && r.als.secondsPerIteration > 0);
  if (new Set(big.map((r) => r.matrix.nnz)).size < 2) big = results.filter((r) => r.als.secondsPerIteration > 0);
  if (new Set(big.map((r) => r.matrix.nnz)).size >= 2) {
    for (const x of ['nnz', 'users+items'] as const) {
      out.push({ what: `ALS seconds/iteration vs ${x}`, stage: 'als-iteration', x, y: 'seconds', ...fitPowerLaw(big.map(X_OF[x]), big.map((r) => r.als.secondsPerIteration)) });
      out.push({ what: `ALS CPU seconds/iteration vs ${x}`, stage: 'als-iteration', x, y: 'cpu seconds', ...fitPowerLaw(big.map(X_OF[x]), big.map((r) => r.als.cpuSecondsPerIteration)) });
    }
  }
  return out;
}

export function findFit(fits: readonly StageFit[], stage: StageFit['stage'], x: StageFit['x'], y: StageFit['y'] = 'seconds'): StageFit | null {
  return fits.find((f) => f.stage === stage && f.x === x && f.y === y) ?? null;
}

/** cost at `x` from the law through the largest measured point: y_max · (x / x_max)^b. */
export function project(fit: PowerFit, anchor: { x: number; y: number }, x: number): number {
  return anchor.y * (x / anchor.x) ** fit.exponent;
}
