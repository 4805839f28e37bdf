/**
 * Linear Thompson sampling with disjoint per-arm models (after Agrawal & Goyal 2013, "Thompson
 * Sampling for Contextual Bandits with Linear Payoffs", with the per-arm ridge statistics of
 * LinUCB, see linear.ts): the posterior of arm a is θ_a ~ N(θ̂_a, v²·A_a⁻¹), and a decision plays
 * the argmax of the sampled scores θ_aᵀx.
 *
 * Only the scalar θ_aᵀx matters, and under the posterior it is N(θ̂_aᵀx, v²·xᵀA_a⁻¹x): sampling it
 * directly is exact and costs one normal per arm instead of a d-dimensional draw (arms are
 * independent, so the joint law of the scores is the same). π(a | x, position) is estimated by
 * Monte Carlo over `mcSamples` such draws from a second seeded sampler (unbiased, standard error
 * √(π(1−π)/mcSamples)); it depends on x, so nothing is cached.
 */
import { resolveParams, type ParamsOf } from '../../models/params.js';
import { Rng } from '../../rng.js';
import { Sampler } from '../sampling.js';
import { LinearArms } from './linear.js';
import {
  argmax,
  checkArms,
  checkSlate,
  checkState,
  probabilityBuffer,
  topK,
  type BanditPolicy,
  type Context,
  type PolicyState,
} from './types.js';

export const LINTS_PARAMS = {
  v: { type: 'number', default: 1, min: 0, description: 'posterior scale v (θ ~ N(θ̂, v²A⁻¹))' },
  lambda: { type: 'number', default: 1, min: 1e-9, description: 'ridge penalty λ (A starts at λI)' },
  mcSamples: { type: 'int', default: 1000, min: 1, description: 'Monte Carlo draws per action-probability estimate (for IPS/DR)' },
  seed: { type: 'int', default: 42, description: 'seed of the posterior draws' },
} as const;

export type LinTsParams = ParamsOf<typeof LINTS_PARAMS>;

export class LinearThompson implements BanditPolicy {
  readonly kind = 'lints' as const;
  readonly nArms: number;
  readonly contextDim: number;
  readonly contextual = true;
  readonly learns = true;
  readonly params: LinTsParams;
  readonly model: LinearArms;
  private readonly mean: Float64Array;
  private readonly width: Float64Array;
  private readonly scores: Float64Array;
  private readonly slate: Int32Array;
  private sampler: Sampler;
  private mcSampler: Sampler;

  constructor(nArms: number, contextDim: number, params: Partial<Record<keyof LinTsParams, unknown>> = {}) {
    checkArms(nArms, 'linear Thompson sampling');
    this.nArms = nArms;
    this.contextDim = contextDim;
    this.params = resolveParams('lints (bandit policy)', LINTS_PARAMS, params);
    this.model = new LinearArms(nArms, contextDim, this.params.lambda);
    this.mean = new Float64Array(nArms);
    this.width = new Float64Array(nArms);
    this.scores = new Float64Array(nArms);
    this.slate = new Int32Array(nArms);
    const rng = new Rng(this.params.seed);
    this.sampler = new Sampler(rng.fork());
    this.mcSampler = new Sampler(rng.fork());
  }

  private sampleScores(s: Sampler): Float64Array {
    const v = this.params.v;
    for (let a = 0; a < this.nArms; a++) this.scores[a] = this.mean[a] + v * this.width[a] * s.normal();
    return this.scores;
  }

  select(context: Context): number {
    this.model.predict(context, this.mean, this.width, 'linear Thompson sampling');
    return argmax(this.sampleScores(this.sampler), this.nArms);
  }

  selectSlate(context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'linear Thompson sampling');
    this.model.predict(context, this.mean, this.width, 'linear Thompson sampling');
    return topK(this.sampleScores(this.sampler), this.nArms, k, out ?? new Int32Array(k));
  }

  actionProbabilities(context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'linear Thompson sampling');
    const n = this.nArms;
    this.model.predict(context, this.mean, this.width, 'linear Thompson sampling');
    const probs = probabilityBuffer(out, positions * n);
    probs.fill(0, 0, positions * n);
    const samples = this.params.mcSamples;
    for (let m = 0; m < samples; m++) {
      const scores = this.sampleScores(this.mcSampler);
      if (positions === 1) probs[argmax(scores, n)] += 1;
      else {
        topK(scores, n, positions, this.slate);
        for (let p = 0; p < positions; p++) probs[p * n + this.slate[p]] += 1;
      }
    }
    for (let i = 0; i < positions * n; i++) probs[i] /= samples;
    return probs;
  }

  update(context: Context, action: number, reward: number): void {
    this.model.update(context, action, reward, 'linear Thompson sampling update');
  }

  toJSON(): PolicyState {
    return {
      format: 'recsys-bandit-policy',
      version: 1,
      kind: this.kind,
      nArms: this.nArms,
      contextDim: this.contextDim,
      params: { ...this.params },
      arrays: this.model.toArrays(),
      scalars: {},
      sampler: this.sampler.state(),
      mcSampler: this.mcSampler.state(),
    };
  }

  static fromJSON(state: PolicyState): LinearThompson {
    checkState(state, 'lints');
    const p = new LinearThompson(state.nArms, state.contextDim, state.params);
    p.model.restore(state);
    if (state.sampler) p.sampler = Sampler.fromState(state.sampler);
    if (state.mcSampler) p.mcSampler = Sampler.fromState(state.mcSampler);
    return p;
  }
}
