/**
 * ε-greedy (Sutton & Barto 2018, §2.2–2.3) with an optional decay: at step t (t = updates so far)
 * ε_t = max(ε_min, ε₀ / (1 + decay·t)); with probability ε_t play a uniformly random arm (a slate:
 * k distinct arms in random order), otherwise the arm with the highest mean reward (a slate: the k
 * highest). decay = 0 keeps ε fixed, which gives regret linear in t (ε_t·Δ per step forever);
 * decay > 0 gives the ~1/t schedule of Auer et al. 2002 (ε-greedy with ε_t = min(1, cK/(d²t))).
 *
 * Arms never played score +∞, so every arm is tried once before the means are trusted (ties go
 * to the smaller index). π(a | position) = ε_t/K + (1 − ε_t)·[a is the greedy arm at that position]
 * exactly (a uniformly random slate puts each arm at each position with probability 1/K).
 */
import { resolveParams, type ParamsOf } from '../../models/params.js';
import { Rng } from '../../rng.js';
import { Sampler } from '../sampling.js';
import {
  argmax,
  checkAction,
  checkArms,
  checkSlate,
  checkState,
  probabilityBuffer,
  stateArray,
  toNumbers,
  topK,
  type BanditPolicy,
  type Context,
  type PolicyState,
} from './types.js';

export const EGREEDY_PARAMS = {
  epsilon: { type: 'number', default: 0.1, min: 0, max: 1, description: 'exploration probability ε₀' },
  decay: { type: 'number', default: 0, min: 0, description: 'ε_t = ε₀/(1 + decay·t); 0 keeps ε fixed' },
  minEpsilon: { type: 'number', default: 0, min: 0, max: 1, description: 'floor of the decayed ε' },
  seed: { type: 'int', default: 42, description: 'seed of the exploration draws' },
} as const;

export type EpsilonGreedyParams = ParamsOf<typeof EGREEDY_PARAMS>;

/** Writes k distinct uniformly random arms into out[0..k) (partial Fisher–Yates over `perm`). */
export function randomSlate(s: Sampler, perm: Int32Array, n: number, k: number, out: Int32Array): Int32Array {
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let j = 0; j < k; j++) {
    const r = j + s.int(n - j);
    const tmp = perm[j];
    perm[j] = perm[r];
    perm[r] = tmp;
    out[j] = perm[j];
  }
  return out;
}

export class EpsilonGreedy implements BanditPolicy {
  readonly kind = 'egreedy' as const;
  readonly nArms: number;
  readonly contextDim = 0;
  readonly contextual = false;
  readonly learns = true;
  readonly params: EpsilonGreedyParams;
  /** Plays and summed rewards per arm. */
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  private readonly values: Float64Array;
  private readonly perm: Int32Array;
  private readonly slate: Int32Array;
  private sampler: Sampler;
  private steps = 0;

  constructor(nArms: number, params: Partial<Record<keyof EpsilonGreedyParams, unknown>> = {}) {
    checkArms(nArms, 'ε-greedy');
    this.nArms = nArms;
    this.params = resolveParams('egreedy (bandit policy)', EGREEDY_PARAMS, params);
    this.counts = new Float64Array(nArms);
    this.sums = new Float64Array(nArms);
    this.values = new Float64Array(nArms).fill(Infinity);
    this.perm = new Int32Array(nArms);
    this.slate = new Int32Array(nArms);
    this.sampler = new Sampler(new Rng(this.params.seed));
  }

  /** The current exploration probability ε_t. */
  epsilon(): number {
    const p = this.params;
    return Math.max(p.minEpsilon, p.epsilon / (1 + p.decay * this.steps));
  }

  select(_context: Context): number {
    if (this.sampler.uniform53() < this.epsilon()) return this.sampler.int(this.nArms);
    return argmax(this.values, this.nArms);
  }

  selectSlate(_context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'ε-greedy');
    const slate = out ?? new Int32Array(k);
    if (this.sampler.uniform53() < this.epsilon()) return randomSlate(this.sampler, this.perm, this.nArms, k, slate);
    return topK(this.values, this.nArms, k, slate);
  }

  actionProbabilities(_context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'ε-greedy');
    const n = this.nArms;
    const eps = this.epsilon();
    const probs = probabilityBuffer(out, positions * n);
    probs.fill(eps / n, 0, positions * n);
    topK(this.values, n, positions, this.slate);
    for (let p = 0; p < positions; p++) probs[p * n + this.slate[p]] += 1 - eps;
    return probs;
  }

  update(_context: Context, action: number, reward: number): void {
    checkAction(action, this.nArms, 'ε-greedy update');
    this.counts[action] += 1;
    this.sums[action] += reward;
    this.values[action] = this.sums[action] / this.counts[action];
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
      sampler: this.sampler.state(),
    };
  }

  static fromJSON(state: PolicyState): EpsilonGreedy {
    checkState(state, 'egreedy');
    const p = new EpsilonGreedy(state.nArms, state.params);
    p.counts.set(stateArray(state, 'counts', state.nArms));
    p.sums.set(stateArray(state, 'sums', state.nArms));
    for (let a = 0; a < p.nArms; a++) p.values[a] = p.counts[a] > 0 ? p.sums[a] / p.counts[a] : Infinity;
    p.steps = state.scalars.steps ?? 0;
    if (state.sampler) p.sampler = Sampler.fromState(state.sampler);
    return p;
  }
}
