/**
 * The bandit policy contract, shared by offline evaluation (`recsys simulate`) and, later, online
 * serving: no I/O, no clock, randomness only from the policy's own seeded sampler, state as plain
 * typed arrays that serialise to JSON.
 *
 * A policy chooses one of `nArms` actions (items, or model names in an A/B test) for a context
 * (a Float64Array of features; context-free policies ignore it), or a slate of k distinct actions
 * for k positions. `actionProbabilities` gives π(a | x, position) — exactly where the policy is
 * deterministic or ε-mixed, by Monte Carlo with a separate seeded sampler for Thompson sampling —
 * which importance-weighted estimators need. `update` feeds back one (context, action, reward).
 *
 * Ties between equal scores go to the smaller arm index, so `select` and `actionProbabilities`
 * agree exactly for deterministic policies.
 */
import { RecsysError } from '../../errors.js';
import type { SamplerState } from '../sampling.js';

/** Context features of one decision; context-free policies accept `NO_CONTEXT`. */
export type Context = Float64Array;
export const NO_CONTEXT: Context = new Float64Array(0);

export const POLICY_KINDS = ['ts', 'egreedy', 'ucb', 'linucb', 'lints', 'random', 'fixed'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** JSON form of a policy: enough to resume it exactly (including its random stream). */
export interface PolicyState {
  format: 'recsys-bandit-policy';
  version: 1;
  kind: PolicyKind;
  nArms: number;
  contextDim: number;
  params: Record<string, number | string | boolean>;
  /** Typed-array state, written as plain number arrays. */
  arrays: Record<string, number[]>;
  /** Scalars such as the step counter. */
  scalars: Record<string, number>;
  sampler?: SamplerState;
  mcSampler?: SamplerState;
}

export interface BanditPolicy {
  readonly kind: PolicyKind;
  readonly nArms: number;
  /** Features a contextual policy expects (0 for context-free policies). */
  readonly contextDim: number;
  /** Whether π(a | x) depends on x. */
  readonly contextual: boolean;
  /** Whether `update` changes the policy (false for random and fixed distributions). */
  readonly learns: boolean;
  readonly params: Readonly<Record<string, number | string | boolean>>;

  /** One action for this context. */
  select(context: Context): number;
  /** k distinct actions, position 0 first (k ≤ nArms). */
  selectSlate(context: Context, k: number, out?: Int32Array): Int32Array;
  /**
   * π(a | x, position) for positions 0..positions−1: out[p·nArms + a]; each position sums to 1.
   * Position p is the p-th slot of `selectSlate(context, positions)`.
   */
  actionProbabilities(context: Context, positions?: number, out?: Float64Array): Float64Array;
  update(context: Context, action: number, reward: number): void;
  toJSON(): PolicyState;
}

export function checkArms(nArms: number, what: string): void {
  if (!Number.isInteger(nArms) || nArms < 1) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${what}: the number of arms must be a positive integer, got ${nArms}`, { flag: '--arms' });
  }
}

export function checkSlate(k: number, nArms: number, what: string): void {
  if (!Number.isInteger(k) || k < 1 || k > nArms) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${what}: a slate needs 1 ≤ k ≤ ${nArms} positions (one distinct arm per position), got ${k}`);
  }
}

export function checkAction(action: number, nArms: number, what: string): void {
  if (!Number.isInteger(action) || action < 0 || action >= nArms) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${what}: action ${action} is outside 0..${nArms - 1}`);
  }
}

export function checkContext(context: Context, dim: number, what: string): void {
  if (context.length !== dim) {
    throw new RecsysError('RECSYS_ERR_USAGE', `${what}: the context has ${context.length} features, the policy was built for ${dim}`);
  }
}

/** Index of the largest score (ties: the smaller index). */
export function argmax(scores: ArrayLike<number>, n: number): number {
  let best = 0;
  let bestScore = scores[0];
  for (let a = 1; a < n; a++) {
    const s = scores[a];
    if (s > bestScore) {
      bestScore = s;
      best = a;
    }
  }
  return best;
}

let topScores = new Float64Array(16);

/**
 * The k highest scores' indexes, best first (ties: smaller index first): one pass keeping the best
 * k so far in a small sorted buffer, so O(n) when most scores do not enter it (k is a slate size,
 * 1–10 in recommendation UIs).
 */
export function topK(scores: ArrayLike<number>, n: number, k: number, out: Int32Array): Int32Array {
  if (topScores.length < k) topScores = new Float64Array(k);
  const best = topScores;
  let filled = 0;
  for (let a = 0; a < n; a++) {
    const s = scores[a];
    // Enters when the buffer is not full or s beats the current k-th (strictly: ties keep the earlier arm).
    if (filled === k && !(s > best[k - 1])) continue;
    let j = filled < k ? filled++ : k - 1;
    while (j > 0 && s > best[j - 1]) {
      best[j] = best[j - 1];
      out[j] = out[j - 1];
      j--;
    }
    best[j] = s;
    out[j] = a;
  }
  return out;
}

/** One-hot rows for a deterministic ranking: out[p·n + ranking[p]] = 1. */
export function oneHotProbabilities(ranking: Int32Array, n: number, positions: number, out: Float64Array): Float64Array {
  out.fill(0, 0, positions * n);
  for (let p = 0; p < positions; p++) out[p * n + ranking[p]] = 1;
  return out;
}

export function probabilityBuffer(out: Float64Array | undefined, size: number): Float64Array {
  if (out && out.length >= size) return out;
  return new Float64Array(size);
}

export function toNumbers(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

/** Typed array from a state field, with a clear error when it is missing or the wrong size. */
export function stateArray(state: PolicyState, key: string, length: number): Float64Array {
  const v = state.arrays[key];
  if (!Array.isArray(v) || v.length !== length) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `bandit policy state (${state.kind}): '${key}' should hold ${length} numbers, found ${Array.isArray(v) ? v.length : 'none'}. The state file is damaged or from another version.`);
  }
  return Float64Array.from(v);
}

export function checkState(state: PolicyState, kind: PolicyKind): void {
  if (state?.format !== 'recsys-bandit-policy' || state.version !== 1) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `not a recsys bandit policy state (format ${String(state?.format)}, version ${String(state?.version)}); expected format 'recsys-bandit-policy' version 1`);
  }
  if (state.kind !== kind) throw new RecsysError('RECSYS_ERR_ARTIFACT', `policy state is of kind '${state.kind}', not '${kind}'`);
}
