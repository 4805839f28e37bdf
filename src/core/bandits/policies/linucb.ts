/**
 * LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010, Algorithm 1): for context
 * x, play the arm maximising
 *     p_a = θ̂_aᵀx + α·√(xᵀA_a⁻¹x),
 * A_a = λI + Σ xxᵀ and θ̂_a = A_a⁻¹b_a kept by Sherman–Morrison updates (see linear.ts). A slate
 * takes the k largest p_a. Deterministic given its state and the context, so π(a | x, position)
 * is one-hot (ties: the smaller index).
 */
import { resolveParams, type ParamsOf } from '../../models/params.js';
import { LinearArms } from './linear.js';
import {
  argmax,
  checkArms,
  checkSlate,
  checkState,
  oneHotProbabilities,
  probabilityBuffer,
  topK,
  type BanditPolicy,
  type Context,
  type PolicyState,
} from './types.js';

export const LINUCB_PARAMS = {
  alpha: { type: 'number', default: 1, min: 0, description: 'width of the confidence bound α' },
  lambda: { type: 'number', default: 1, min: 1e-9, description: 'ridge penalty λ (A starts at λI)' },
} as const;

export type LinUcbParams = ParamsOf<typeof LINUCB_PARAMS>;

export class LinUcb implements BanditPolicy {
  readonly kind = 'linucb' as const;
  readonly nArms: number;
  readonly contextDim: number;
  readonly contextual = true;
  readonly learns = true;
  readonly params: LinUcbParams;
  readonly model: LinearArms;
  private readonly mean: Float64Array;
  private readonly width: Float64Array;
  private readonly scores: Float64Array;
  private readonly slate: Int32Array;

  constructor(nArms: number, contextDim: number, params: Partial<Record<keyof LinUcbParams, unknown>> = {}) {
    checkArms(nArms, 'LinUCB');
    this.nArms = nArms;
    this.contextDim = contextDim;
    this.params = resolveParams('linucb (bandit policy)', LINUCB_PARAMS, params);
    this.model = new LinearArms(nArms, contextDim, this.params.lambda);
    this.mean = new Float64Array(nArms);
    this.width = new Float64Array(nArms);
    this.scores = new Float64Array(nArms);
    this.slate = new Int32Array(nArms);
  }

  /** p_a for every arm. */
  upperBounds(context: Context): Float64Array {
    this.model.predict(context, this.mean, this.width, 'LinUCB');
    const alpha = this.params.alpha;
    for (let a = 0; a < this.nArms; a++) this.scores[a] = this.mean[a] + alpha * this.width[a];
    return this.scores;
  }

  select(context: Context): number {
    return argmax(this.upperBounds(context), this.nArms);
  }

  selectSlate(context: Context, k: number, out?: Int32Array): Int32Array {
    checkSlate(k, this.nArms, 'LinUCB');
    return topK(this.upperBounds(context), this.nArms, k, out ?? new Int32Array(k));
  }

  actionProbabilities(context: Context, positions = 1, out?: Float64Array): Float64Array {
    checkSlate(positions, this.nArms, 'LinUCB');
    topK(this.upperBounds(context), this.nArms, positions, this.slate);
    return oneHotProbabilities(this.slate, this.nArms, positions, probabilityBuffer(out, positions * this.nArms));
  }

  update(context: Context, action: number, reward: number): void {
    this.model.update(context, action, reward, 'LinUCB update');
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
    };
  }

  static fromJSON(state: PolicyState): LinUcb {
    checkState(state, 'linucb');
    const p = new LinUcb(state.nArms, state.contextDim, state.params);
    p.model.restore(state);
    return p;
  }
}
