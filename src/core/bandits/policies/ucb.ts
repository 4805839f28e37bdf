/**
 * UCB1 (Auer, Cesa-Bianchi & Fischer 2002, "Finite-time Analysis of the Multiarmed Bandit
 * Problem", Fig. 1): play each arm once, then the arm maximising
 *     x̄_a + c·√(2·ln t / n_a),
 * with x̄_a the mean reward of arm a, n_a its plays and t the total plays; c = 1 is UCB1 as
 * published (expected regret ≤ Σ_a 8·ln t/Δ_a + (1 + π²/3)·Σ_a Δ_a for rewards in [0, 1]).
 * A slate takes the k largest indexes. Deterministic given its state, so π(a | position) is one-hot
 * (ties: the smaller index).
 */
import { resolveParams, type ParamsOf } from '../../models/params.js';
import {
  argmax,
  checkAction,
  checkArms,
  checkSlate,
  checkState,
  oneHotProbabilities,
  probabilityBuffer,
  stateArray,
  toNumbers,
  topK,
  type BanditPolicy,
  type Context,
  type PolicyState,
} from './types.js';

export const UCB_PARAMS = {
  c: { type: 'number', default: 1, min: 0, description: 'multiplier of the exploration bonus √(2 ln t / n_a); 1 is UCB1' },
} as const;

export type UcbParams = ParamsOf<typeof UCB_PARAMS>;

export class Ucb1 implements BanditPolicy {
  readonly kind = 'ucb' as const;
  readonly nArms: number;
  readonly contextDim = 0;
  readonly contextual = false;
  readonly learns = true;
  readonly params: UcbParams;
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  private readonly index: Float64Array;
  private readonly slate: Int32Array;
  private steps = 0;

  constructor(nArms: number, params: Partial<Record<keyof UcbParams, unknown>> = {}) {
    checkArms(nArms, 'UCB1');
    this.nArms = nArms;
    this.params = resolveParams('ucb (bandit policy)', UCB_PARAMS, params);
    this.counts = new Float64Array(nArms);
    this.sums = new Float64Array(nArms);
    this.index = new Float64Array(nArms);
    this.slate = new Int32Array(nArms);
  }

  /** UCB indexes for the current state (+∞ for arms not played yet). */
  indexes(): Float64Array {
    const logT2 = 2 * Math.log(Math.max(1, this.steps));
    const c = this.params.c;
    for (let a = 0; a < this.nArms; a++) {
      const n = this.counts[a];
      this.index[a] = n === 0 ? Infinity : this.sums[a] / n + c * Math.sqrt(logT2 / n);
    }
    return this.index;
  }

  select(_context: Context): number {
    return argmax(this.indexes(), this.nArms);
  }

  selectSlate(_context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'UCB1');
    return topK(this.indexes(), this.nArms, k, out ?? new Int32Array(k));
  }

  actionProbabilities(_context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'UCB1');
    topK(this.indexes(), this.nArms, positions, this.slate);
    return oneHotProbabilities(this.slate, this.nArms, positions, probabilityBuffer(out, positions * this.nArms));
  }

  update(_context: Context, action: number, reward: number): void {
    checkAction(action, this.nArms, 'UCB1 update');
    this.counts[action] += 1;
    this.sums[action] += reward;
    this.steps++;
  }

  toJSON(): PolicyState {
    return {
      format: 'recsys-bandit-policy',
      version: 1,
      kind: this.kind,
      nArms: this.nArms,
      contextDim: 0,
      params: { ...this.params },
      arrays: { counts: toNumbers(this.counts), sums: toNumbers(this.sums) },
      scalars: { steps: this.steps },
    };
  }

  static fromJSON(state: PolicyState): Ucb1 {
    checkState(state, 'ucb');
    const p = new Ucb1(state.nArms, state.params);
    p.counts.set(stateArray(state, 'counts', state.nArms));
    p.sums.set(stateArray(state, 'sums', state.nArms));
    p.steps = state.scalars.steps ?? 0;
    return p;
  }
}
