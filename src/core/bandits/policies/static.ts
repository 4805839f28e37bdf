/**
 * Policies that do not learn: the uniformly random policy (what a randomised A/B test or the
 * Open Bandit Dataset's "random" campaign logs) and a fixed action distribution given per
 * position (e.g. a behaviour policy's distribution estimated from its logged propensities, see
 * `estimateActionDistribution` in ../logs/index.ts).
 *
 * - random: π(a | position) = 1/K; a slate is k distinct arms in uniformly random order.
 * - fixed: π(a | position p) = probs[p][a] as given (each row normalised to sum 1; positions past
 *   the last row use the last row). `selectSlate` fills positions in order, drawing position p
 *   from its row restricted to the arms not placed yet (renormalised): its marginals equal the
 *   rows exactly only when the rows do not compete for the same arms, so offline estimators use
 *   `actionProbabilities` (the rows), never the sampled slates.
 */
import { RecsysError } from '../../errors.js';
import { resolveParams, type ParamsOf } from '../../models/params.js';
import { Rng } from '../../rng.js';
import { Sampler } from '../sampling.js';
import { randomSlate } from './egreedy.js';
import {
  checkArms,
  checkSlate,
  checkState,
  probabilityBuffer,
  stateArray,
  toNumbers,
  type BanditPolicy,
  type Context,
  type PolicyState,
} from './types.js';

export const RANDOM_PARAMS = {
  seed: { type: 'int', default: 42, description: 'seed of the random choices' },
} as const;

export type RandomParams = ParamsOf<typeof RANDOM_PARAMS>;

export class UniformRandom implements BanditPolicy {
  readonly kind = 'random' as const;
  readonly nArms: number;
  readonly contextDim = 0;
  readonly contextual = false;
  readonly learns = false;
  readonly params: RandomParams;
  private readonly perm: Int32Array;
  private sampler: Sampler;

  constructor(nArms: number, params: Partial<Record<keyof RandomParams, unknown>> = {}) {
    checkArms(nArms, 'random policy');
    this.nArms = nArms;
    this.params = resolveParams('random (bandit policy)', RANDOM_PARAMS, params);
    this.perm = new Int32Array(nArms);
    this.sampler = new Sampler(new Rng(this.params.seed));
  }

  select(_context: Context): number {
    return this.sampler.int(this.nArms);
  }

  selectSlate(_context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'random policy');
    return randomSlate(this.sampler, this.perm, this.nArms, k, out ?? new Int32Array(k));
  }

  actionProbabilities(_context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'random policy');
    const probs = probabilityBuffer(out, positions * this.nArms);
    return probs.fill(1 / this.nArms, 0, positions * this.nArms);
  }

  update(): void {}

  toJSON(): PolicyState {
    return {
      format: 'recsys-bandit-policy',
      version: 1,
      kind: this.kind,
      nArms: this.nArms,
      contextDim: 0,
      params: { ...this.params },
      arrays: {},
      scalars: {},
      sampler: this.sampler.state(),
    };
  }

  static fromJSON(state: PolicyState): UniformRandom {
    checkState(state, 'random');
    const p = new UniformRandom(state.nArms, state.params);
    if (state.sampler) p.sampler = Sampler.fromState(state.sampler);
    return p;
  }
}

export class FixedDistribution implements BanditPolicy {
  readonly kind = 'fixed' as const;
  readonly nArms: number;
  readonly contextDim = 0;
  readonly contextual = false;
  readonly learns = false;
  readonly params: RandomParams;
  /** positions × nArms, each row summing to 1. */
  readonly probs: Float64Array;
  readonly positions: number;
  private readonly used: Uint8Array;
  private sampler: Sampler;

  /** `probs` holds one row of nArms non-negative weights per position (normalised here). */
  constructor(nArms: number, probs: ArrayLike<number>, params: Partial<Record<keyof RandomParams, unknown>> = {}, normalized = false) {
    checkArms(nArms, 'fixed-distribution policy');
    if (probs.length === 0 || probs.length % nArms !== 0) {
      throw new RecsysError('RECSYS_ERR_USAGE', `fixed-distribution policy: expected one row of ${nArms} probabilities per position, got ${probs.length} numbers`);
    }
    this.nArms = nArms;
    this.positions = probs.length / nArms;
    this.params = resolveParams('fixed (bandit policy)', RANDOM_PARAMS, params);
    this.probs = Float64Array.from(probs);
    for (let p = 0; p < this.positions; p++) {
      let sum = 0;
      for (let a = 0; a < nArms; a++) {
        const v = this.probs[p * nArms + a];
        if (!(v >= 0) || !Number.isFinite(v)) {
          throw new RecsysError('RECSYS_ERR_USAGE', `fixed-distribution policy: probability of arm ${a} at position ${p + 1} is ${v}; probabilities must be finite and ≥ 0`);
        }
        sum += v;
      }
      if (!(sum > 0)) throw new RecsysError('RECSYS_ERR_USAGE', `fixed-distribution policy: position ${p + 1} has no probability mass`);
      // A restored state is already normalised: dividing again would drift in the last bits.
      if (!normalized) for (let a = 0; a < nArms; a++) this.probs[p * nArms + a] /= sum;
    }
    this.used = new Uint8Array(nArms);
    this.sampler = new Sampler(new Rng(this.params.seed));
  }

  private row(position: number): number {
    return Math.min(position, this.positions - 1) * this.nArms;
  }

  private draw(position: number, exclude: boolean): number {
    const base = this.row(position);
    let total = 0;
    for (let a = 0; a < this.nArms; a++) if (!exclude || !this.used[a]) total += this.probs[base + a];
    let u = this.sampler.uniform53() * total;
    let last = -1;
    for (let a = 0; a < this.nArms; a++) {
      if (exclude && this.used[a]) continue;
      const p = this.probs[base + a];
      if (p > 0) last = a;
      if (u < p) return a;
      u -= p;
    }
    if (last >= 0) return last;
    // Every remaining arm has zero mass at this position: take the first unused one.
    for (let a = 0; a < this.nArms; a++) if (!this.used[a]) return a;
    return 0;
  }

  select(_context: Context): number {
    return this.draw(0, false);
  }

  selectSlate(_context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'fixed-distribution policy');
    const slate = out ?? new Int32Array(k);
    this.used.fill(0);
    for (let p = 0; p < k; p++) {
      const a = this.draw(p, true);
      slate[p] = a;
      this.used[a] = 1;
    }
    return slate;
  }

  actionProbabilities(_context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'fixed-distribution policy');
    const n = this.nArms;
    const probs = probabilityBuffer(out, positions * n);
    for (let p = 0; p < positions; p++) probs.set(this.probs.subarray(this.row(p), this.row(p) + n), p * n);
    return probs;
  }

  update(): void {}

  toJSON(): PolicyState {
    return {
      format: 'recsys-bandit-policy',
      version: 1,
      kind: this.kind,
      nArms: this.nArms,
      contextDim: 0,
      params: { ...this.params },
      arrays: { probs: toNumbers(this.probs) },
      scalars: { positions: this.positions },
      sampler: this.sampler.state(),
    };
  }

  static fromJSON(state: PolicyState): FixedDistribution {
    checkState(state, 'fixed');
    const positions = state.scalars.positions ?? 1;
    const p = new FixedDistribution(state.nArms, stateArray(state, 'probs', positions * state.nArms), state.params, true);
    if (state.sampler) p.sampler = Sampler.fromState(state.sampler);
    return p;
  }
}
