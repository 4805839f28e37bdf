/**
 * Learning the blend weights of an ensemble: maximise mean NDCG@k on a validation split over the
 * probability simplex {w ≥ 0, Σ w = 1} (only the ratios matter for a ranking).
 *
 * NDCG@k of a blend is piecewise constant in w, so no gradient exists: (1) evaluate every point of
 * a regular grid over the simplex with step 1/g (C(g+M−1, M−1) points: 231 for three members at
 * g = 20; g is lowered for many members to stay under MAX_GRID_POINTS), then (2) coordinate ascent:
 * move δ of weight from one member to another, accept strict improvements, halve δ down to
 * 1/(8g). Among points with equal NDCG the one nearest the uniform weights wins (the least committed
 * blend). The member scores are precomputed once per (user, candidate), so one evaluation is a pass
 * over the candidates: O(Σ candidates · M).
 *
 * NDCG here matches the evaluator (eval/metrics.ts): binary gain, rank discount 1/log2(rank + 1),
 * ideal DCG over min(k, |relevant|) where |relevant| counts every held-out item of the user (also
 * those no member proposed), ties by the smaller item index.
 */
import { RecsysError } from '../../errors.js';
import { blendInto } from './normalize.js';

/** Most simplex grid points evaluated before refinement. */
export const MAX_GRID_POINTS = 5000;

/** Candidates of many users with their normalised member scores (NaN = missing under 'skip'). */
export interface BlendProblem {
  nMembers: number;
  /** Candidate range of user r: [offsets[r], offsets[r+1]). */
  offsets: Int32Array;
  /** Candidate item indexes (ties are broken by the smaller index). */
  items: Int32Array;
  /** Row-major [total candidates × nMembers]. */
  scores: Float64Array;
  /** 1 where the candidate is a held-out (relevant) item of its user. */
  relevant: Uint8Array;
  /** Number of relevant items of each user (also those not among the candidates). */
  nRelevant: Int32Array;
}

export interface LearnOptions {
  k?: number;
  /** Grid resolution g: weights are multiples of 1/g (default 20). */
  gridSteps?: number;
  /** Run coordinate ascent after the grid (default true). */
  refine?: boolean;
}

export interface LearnResult {
  weights: number[];
  /** Mean NDCG@k at the learned weights, over every user of the problem. */
  ndcg: number;
  /** Mean NDCG@k at uniform weights (for the printout). */
  uniformNdcg: number;
  /** Blends evaluated (grid + refinement). */
  evaluations: number;
  gridSteps: number;
  users: number;
}

/** Mean NDCG@k of the blend with `weights` over every user of `problem`. */
export function blendNdcg(problem: BlendProblem, weights: ArrayLike<number>, k = 10): number {
  const users = problem.offsets.length - 1;
  if (users <= 0) return 0;
  return sumNdcg(problem, weights, k, null) / users;
}

function dcgDiscounts(k: number): Float64Array {
  const d = new Float64Array(k);
  for (let p = 0; p < k; p++) d[p] = 1 / Math.log2(p + 2);
  return d;
}

let blendScratch = new Float64Array(64);
const topIdx: number[] = [];

/** Σ over users of NDCG@k; `active` (optional) lists the users worth computing (others score 0). */
function sumNdcg(problem: BlendProblem, weights: ArrayLike<number>, k: number, active: Int32Array | null): number {
  const { offsets, items, scores, relevant, nRelevant, nMembers } = problem;
  const disc = dcgDiscounts(k);
  const idealPrefix = new Float64Array(k + 1);
  for (let p = 0; p < k; p++) idealPrefix[p + 1] = idealPrefix[p] + disc[p];
  let total = 0;
  const nUsers = active ? active.length : offsets.length - 1;
  for (let a = 0; a < nUsers; a++) {
    const r = active ? active[a] : a;
    const start = offsets[r];
    const n = offsets[r + 1] - start;
    if (n === 0 || nRelevant[r] === 0) continue;
    if (blendScratch.length < n) blendScratch = new Float64Array(n * 2);
    blendInto(scores.subarray(start * nMembers, (start + n) * nMembers), n, weights, blendScratch);
    // Top-k by (score desc, item asc): insertion into a small sorted buffer.
    topIdx.length = 0;
    for (let j = 0; j < n; j++) {
      const s = blendScratch[j];
      const it = items[start + j];
      if (topIdx.length === k) {
        const last = topIdx[k - 1];
        const ls = blendScratch[last];
        if (s < ls || (s === ls && it > items[start + last])) continue;
      }
      let pos = topIdx.length < k ? topIdx.length : k - 1;
      if (topIdx.length < k) topIdx.push(j);
      while (pos > 0) {
        const prev = topIdx[pos - 1];
        const ps = blendScratch[prev];
        if (ps > s || (ps === s && items[start + prev] < it)) break;
        topIdx[pos] = prev;
        pos--;
      }
      topIdx[pos] = j;
    }
    let dcg = 0;
    for (let p = 0; p < topIdx.length; p++) if (relevant[start + topIdx[p]]) dcg += disc[p];
    total += dcg / idealPrefix[Math.min(k, nRelevant[r])];
  }
  return total;
}

function binomial(n: number, r: number): number {
  let c = 1;
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
  return Math.round(c);
}

/** Every composition of g into m non-negative parts, as weights (multiples of 1/g). */
function* simplexGrid(m: number, g: number): Generator<Float64Array> {
  const parts = new Int32Array(m);
  function* rec(i: number, left: number): Generator<Float64Array> {
    if (i === m - 1) {
      parts[i] = left;
      yield Float64Array.from(parts, (p) => p / g);
      return;
    }
    for (let v = left; v >= 0; v--) {
      parts[i] = v;
      yield* rec(i + 1, left - v);
    }
  }
  yield* rec(0, g);
}

function distanceToUniform(w: ArrayLike<number>): number {
  const u = 1 / w.length;
  let d = 0;
  for (let j = 0; j < w.length; j++) d += (w[j] - u) * (w[j] - u);
  return d;
}

/** Learn simplex weights maximising mean NDCG@k (see the module comment). */
export function learnWeights(problem: BlendProblem, opts: LearnOptions = {}): LearnResult {
  const m = problem.nMembers;
  const k = opts.k ?? 10;
  if (m < 1) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'cannot learn weights for an ensemble without members');
  const users = problem.offsets.length - 1;
  if (users === 0) {
    throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'no validation user has a held-out item: the training data is too small to carve a validation split from; give the weights with --member-weights instead of --learn-weights', { flag: '--learn-weights' });
  }
  // Only users with a relevant candidate can score above 0.
  const act: number[] = [];
  for (let r = 0; r < users; r++) {
    let any = false;
    for (let c = problem.offsets[r]; c < problem.offsets[r + 1] && !any; c++) any = problem.relevant[c] === 1;
    if (any && problem.nRelevant[r] > 0) act.push(r);
  }
  const active = Int32Array.from(act);
  let g = Math.max(1, Math.floor(opts.gridSteps ?? 20));
  while (g > 1 && binomial(g + m - 1, m - 1) > MAX_GRID_POINTS) g--;
  let evaluations = 0;
  const objective = (w: ArrayLike<number>): number => {
    evaluations++;
    return sumNdcg(problem, w, k, active) / users;
  };
  const uniform = new Float64Array(m).fill(1 / m);
  const uniformNdcg = objective(uniform);
  let best = Float64Array.from(uniform);
  let bestValue = uniformNdcg;
  let bestDist = 0;
  const EPS = 1e-12;
  const consider = (w: Float64Array, value: number): void => {
    const d = distanceToUniform(w);
    if (value > bestValue + EPS || (Math.abs(value - bestValue) <= EPS && d < bestDist - EPS)) {
      best = Float64Array.from(w);
      bestValue = value;
      bestDist = d;
    }
  };
  if (m > 1) {
    for (const w of simplexGrid(m, g)) consider(w, objective(w));
    if (opts.refine ?? true) {
      for (let delta = 1 / (2 * g); delta >= 1 / (8 * g) - 1e-15; delta /= 2) {
        let improved = true;
        while (improved) {
          improved = false;
          for (let from = 0; from < m; from++) {
            for (let to = 0; to < m; to++) {
              if (from === to || best[from] < delta - 1e-15) continue;
              const w = Float64Array.from(best);
              w[from] = Math.max(0, w[from] - delta);
              w[to] += delta;
              const v = objective(w);
              if (v > bestValue + EPS) {
                best = w;
                bestValue = v;
                bestDist = distanceToUniform(w);
                improved = true;
              }
            }
          }
        }
      }
    }
  }
  return { weights: Array.from(best, (x) => Math.round(x * 1e6) / 1e6), ndcg: bestValue, uniformNdcg, evaluations, gridSteps: g, users };
}
