/**
 * Bernoulli Thompson sampling (Thompson 1933; Chapelle & Li 2011, "An Empirical Evaluation of
 * Thompson Sampling"). Each arm a has a Beta(α_a, β_a) posterior over its click probability,
 * starting from the prior Beta(α₀, β₀); a decision draws θ_a ~ Beta(α_a, β_a) for every arm and
 * plays the argmax (a slate: the k largest draws, best first). A reward r ∈ [0, 1] adds r to α and
 * 1 − r to β (fractional pseudo-counts; exactly the conjugate update for clicks r ∈ {0, 1}).
 *
 * π(a | position) has no closed form for many arms, so `actionProbabilities` estimates it by Monte
 * Carlo: `mcSamples` independent posterior draws, each ranked, counting which arm lands in which
 * position. The draws come from a second sampler seeded with the policy, so asking for
 * probabilities never changes which actions `select` takes. The estimate is unbiased, so IPS
 * with it stays unbiased; its standard error is √(π(1−π)/mcSamples). As the probabilities do not
 * depend on the context, they are cached until the next update.
 */
import { resolveParams, type ParamsOf } from '../../models/params.js';
import { Rng } from '../../rng.js';
import { Sampler, betaArgmax } from '../sampling.js';
import {
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

export const THOMPSON_PARAMS = {
  alpha0: { type: 'number', default: 1, min: 1e-6, description: 'prior successes (Beta α₀); 1 with β₀ = 1 is the uniform prior' },
  beta0: { type: 'number', default: 1, min: 1e-6, description: 'prior failures (Beta β₀)' },
  mcSamples: { type: 'int', default: 10000, min: 1, description: 'Monte Carlo draws per action-probability estimate (for IPS/DR)' },
  seed: { type: 'int', default: 42, description: 'seed of the posterior draws' },
} as const;

export type ThompsonParams = ParamsOf<typeof THOMPSON_PARAMS>;

const THIRD = 1 / 3;

export class BernoulliThompson implements BanditPolicy {
  readonly kind = 'ts' as const;
  readonly nArms: number;
  readonly contextDim = 0;
  readonly contextual = false;
  readonly learns = true;
  readonly params: ThompsonParams;
  /** Posterior Beta parameters per arm. */
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  /** Marsaglia–Tsang constants [d_α, c_α, d_β, c_β] per arm (d = shape − 1/3, c = 1/√(9d)). */
  private readonly consts: Float64Array;
  private readonly draws: Float64Array;
  private readonly slate: Int32Array;
  private sampler: Sampler;
  private mcSampler: Sampler;
  private updates = 0;
  /** True while every α, β ≥ 1 (always with the default prior): the fused sampler applies. */
  private allShapesAtLeastOne: boolean;
  private cache: { updates: number; positions: number; probs: Float64Array } | null = null;

  constructor(nArms: number, params: Partial<Record<keyof ThompsonParams, unknown>> = {}) {
    checkArms(nArms, 'Thompson sampling');
    this.nArms = nArms;
    this.params = resolveParams('ts (bandit policy)', THOMPSON_PARAMS, params);
    this.alpha = new Float64Array(nArms).fill(this.params.alpha0);
    this.beta = new Float64Array(nArms).fill(this.params.beta0);
    this.consts = new Float64Array(4 * nArms);
    for (let a = 0; a < nArms; a++) this.refresh(a);
    this.allShapesAtLeastOne = this.params.alpha0 >= 1 && this.params.beta0 >= 1;
    this.draws = new Float64Array(nArms);
    this.slate = new Int32Array(nArms);
    const rng = new Rng(this.params.seed);
    this.sampler = new Sampler(rng.fork());
    this.mcSampler = new Sampler(rng.fork());
  }

  private refresh(a: number): void {
    const da = this.alpha[a] - THIRD;
    const db = this.beta[a] - THIRD;
    const o = 4 * a;
    this.consts[o] = da;
    this.consts[o + 1] = 1 / Math.sqrt(9 * da);
    this.consts[o + 2] = db;
    this.consts[o + 3] = 1 / Math.sqrt(9 * db);
  }

  /** One posterior draw for arm a. */
  private draw(s: Sampler, a: number): number {
    const al = this.alpha[a];
    const be = this.beta[a];
    const o = 4 * a;
    const x = al >= 1 ? s.gammaDC(this.consts[o], this.consts[o + 1]) : s.gamma(al);
    const y = be >= 1 ? s.gammaDC(this.consts[o + 2], this.consts[o + 3]) : s.gamma(be);
    return x / (x + y);
  }

  private drawAll(s: Sampler): Float64Array {
    const d = this.draws;
    for (let a = 0; a < this.nArms; a++) d[a] = this.draw(s, a);
    return d;
  }

  select(_context: Context): number {
    const s = this.sampler;
    if (this.allShapesAtLeastOne) return betaArgmax(s, this.consts, this.nArms);
    let best = 0;
    let bestDraw = -1;
    for (let a = 0; a < this.nArms; a++) {
      const v = this.draw(s, a);
      if (v > bestDraw) {
        bestDraw = v;
        best = a;
      }
    }
    return best;
  }

  selectSlate(_context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'Thompson sampling');
    return topK(this.drawAll(this.sampler), this.nArms, k, out ?? new Int32Array(k));
  }

  actionProbabilities(_context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'Thompson sampling');
    const n = this.nArms;
    const probs = probabilityBuffer(out, positions * n);
    const c = this.cache;
    if (c && c.updates === this.updates && c.positions === positions) {
      probs.set(c.probs);
      return probs;
    }
    probs.fill(0, 0, positions * n);
    const samples = this.params.mcSamples;
    for (let m = 0; m < samples; m++) {
      topK(this.drawAll(this.mcSampler), n, positions, this.slate);
      for (let p = 0; p < positions; p++) probs[p * n + this.slate[p]] += 1;
    }
    for (let i = 0; i < positions * n; i++) probs[i] /= samples;
    this.cache = { updates: this.updates, positions, probs: probs.slice(0, positions * n) };
    return probs;
  }

  update(_context: Context, action: number, reward: number): void {
    checkAction(action, this.nArms, 'Thompson sampling update');
    const r = reward < 0 ? 0 : reward > 1 ? 1 : reward;
    this.alpha[action] += r;
    this.beta[action] += 1 - r;
    this.refresh(action);
    if (!this.allShapesAtLeastOne) this.allShapesAtLeastOne = this.alpha.every((v) => v >= 1) && this.beta.every((v) => v >= 1);
    this.updates++;
  }

  /** Posterior mean α/(α+β) per arm. */
  means(): Float64Array {
    const out = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) out[a] = this.alpha[a] / (this.alpha[a] + this.beta[a]);
    return out;
  }

  toJSON(): PolicyState {
    return {
      format: 'recsys-bandit-policy',
      version: 1,
      kind: this.kind,
      nArms: this.nArms,
      contextDim: 0,
      params: { ...this.params },
      arrays: { alpha: toNumbers(this.alpha), beta: toNumbers(this.beta) },
      scalars: { updates: this.updates },
      sampler: this.sampler.state(),
      mcSampler: this.mcSampler.state(),
    };
  }

  static fromJSON(state: PolicyState): BernoulliThompson {
    checkState(state, 'ts');
    const p = new BernoulliThompson(state.nArms, state.params);
    p.alpha.set(stateArray(state, 'alpha', state.nArms));
    p.beta.set(stateArray(state, 'beta', state.nArms));
    for (let a = 0; a < p.nArms; a++) p.refresh(a);
    p.allShapesAtLeastOne = p.alpha.every((v) => v >= 1) && p.beta.every((v) => v >= 1);
    p.updates = state.scalars.updates ?? 0;
    if (state.sampler) p.sampler = Sampler.fromState(state.sampler);
    if (state.mcSampler) p.mcSampler = Sampler.fromState(state.mcSampler);
    return p;
  }
}
