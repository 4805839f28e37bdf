/**
 * One tower of the two-tower model (the design's "Linear(in, 256) → ReLU → Dropout(0.3) →
 * Linear(256, d) → LayerNorm"), with its forward and backward pass written out by hand.
 *
 * The input is sparse: a one-hot id, multi-hot/weighted feature columns and (user tower, optional)
 * the mean over the last N items of the user's history. The first Linear over that input is
 * therefore an embedding bag (its weight rows are the "embeddings"):
 *
 *   h₀ = b₀ + E_id[id] + Σ_j x_j · E_feat[j] + Σ_h w_h · E_hist[h]              (n × w₀)
 *   a_l = dropout(relu(h_l)),  h_{l+1} = a_l W_l + b_l                          (l = 0 .. L−1)
 *   y = γ ⊙ (h_L − μ)/σ + β     (LayerNorm over the d outputs, σ = √(var + 1e-5))
 *   z = y / ‖y‖                 (unit vectors: the losses and the scorer use cosines)
 *
 * A row without an id row (id −1: a cold user/item, or an id dropped on purpose in training) gets
 * the feature row `unknownIdFeature` instead: the learned "unknown id" embedding.
 * `widths` = [w₀, w₁, …, d]; the default [256, 128] is the design's shape. The tables live outside
 * any autograd tape: backward scatters ∂L/∂h₀ into per-row sparse gradients (sparse-optim.ts),
 * and only the dense products go to the backend (backend.ts), always as untransposed A·B:
 *
 *   ∂y = (∂z − z (z·∂z)) / ‖y‖
 *   ∂γ = Σ ∂y ⊙ x̂,  ∂β = Σ ∂y,  ∂h_L = (∂x̂ − mean(∂x̂) − x̂ · mean(∂x̂ ⊙ x̂)) / σ   with ∂x̂ = ∂y ⊙ γ
 *   ∂W_l = a_lᵀ ∂h_{l+1},  ∂b_l = Σ ∂h_{l+1},  ∂a_l = ∂h_{l+1} W_lᵀ,  ∂h_l = ∂a_l · [a_l > 0] / (1 − p)
 *
 * (a_l > 0 exactly when h_l > 0 and the unit was kept, so no mask needs storing.) Dropout draws
 * four units per 32-bit random number, so p is rounded to a multiple of 1/256 (0.3 → 0.3008).
 * Initialisation follows PyTorch: tables N(0, initStd²), W and b U(±1/√fan_in), γ = 1, β = 0.
 */
import { RecsysError } from '../../errors.js';
import type { Rng } from '../../rng.js';
import { transpose, Workspace, type DenseBackend } from './backend.js';
import { SparseGrad } from './sparse-optim.js';

/** A sparse bag per row (CSR): columns index a table's rows, values weight them. */
export interface Bags {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface TowerInput {
  n: number;
  /** Id-table row per input row; −1 for none (cold: the features carry an "unknown id" column). */
  ids: Int32Array;
  features: Bags | null;
  history: Bags | null;
}

export interface TowerShape {
  widths: readonly number[];
  dropout: number;
  nIds: number;
  nFeatures: number;
  /** Rows of the history table (0 = the tower has no history bag). */
  nHistory: number;
  initStd: number;
  /** Feature row added for a row without an id (id −1): the learned "unknown id" embedding; −1 = none. */
  unknownIdFeature: number;
}

export interface DenseLayer {
  W: Float32Array;
  b: Float32Array;
  inDim: number;
  outDim: number;
}

/** Everything backward needs from a forward pass. */
export interface TowerCache {
  input: TowerInput;
  n: number;
  /** Inputs a_l of each dense layer (n × w_l). */
  acts: Float32Array[];
  xhat: Float32Array;
  invSigma: Float32Array;
  norm: Float32Array;
  /** The unit output vectors (n × d). */
  out: Float32Array;
  keepScale: number;
}

export interface TowerGrads {
  id: SparseGrad;
  features: SparseGrad;
  history: SparseGrad | null;
  b0: Float32Array;
  W: Float32Array[];
  b: Float32Array[];
  gamma: Float32Array;
  beta: Float32Array;
}

export interface ForwardOptions {
  /** Training mode: dropout on (needs `rng`). */
  train: boolean;
  rng?: Rng;
}

const LN_EPS = 1e-5;

export class Tower {
  readonly widths: readonly number[];
  readonly dropout: number;
  readonly initStd: number;
  nIds: number;
  readonly nFeatures: number;
  /** History rows are item rows: a warm start with new items grows them. */
  nHistory: number;
  readonly unknownIdFeature: number;
  idTable: Float32Array;
  featTable: Float32Array;
  histTable: Float32Array;
  b0: Float32Array;
  dense: DenseLayer[];
  gamma: Float32Array;
  beta: Float32Array;
  /** Activation and gradient buffers of the training path, reused across steps. */
  private readonly workspace = new Workspace();

  constructor(shape: TowerShape, rng: Rng | null) {
    if (shape.widths.length < 1 || shape.widths.some((w) => !Number.isInteger(w) || w < 1)) {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `tower widths must be positive integers, got [${shape.widths.join(', ')}]`, { param: 'hidden' });
    }
    this.widths = [...shape.widths];
    this.dropout = shape.dropout;
    this.initStd = shape.initStd;
    this.nIds = shape.nIds;
    this.nFeatures = shape.nFeatures;
    this.nHistory = shape.nHistory;
    this.unknownIdFeature = shape.unknownIdFeature;
    if (this.unknownIdFeature >= shape.nFeatures) throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `internal: unknown-id feature ${this.unknownIdFeature} outside ${shape.nFeatures} feature rows`);
    const w0 = this.w0;
    this.idTable = new Float32Array(shape.nIds * w0);
    this.featTable = new Float32Array(shape.nFeatures * w0);
    this.histTable = new Float32Array(shape.nHistory * w0);
    this.b0 = new Float32Array(w0);
    this.dense = [];
    for (let l = 0; l + 1 < this.widths.length; l++) {
      const inDim = this.widths[l];
      const outDim = this.widths[l + 1];
      this.dense.push({ W: new Float32Array(inDim * outDim), b: new Float32Array(outDim), inDim, outDim });
    }
    this.gamma = new Float32Array(this.d).fill(1);
    this.beta = new Float32Array(this.d);
    if (rng) {
      fillNormal(this.idTable, rng, this.initStd);
      fillNormal(this.featTable, rng, this.initStd);
      fillNormal(this.histTable, rng, this.initStd);
      for (const layer of this.dense) {
        const bound = 1 / Math.sqrt(layer.inDim);
        fillUniform(layer.W, rng, bound);
        fillUniform(layer.b, rng, bound);
      }
    }
  }

  get w0(): number {
    return this.widths[0];
  }

  get d(): number {
    return this.widths[this.widths.length - 1];
  }

  /** Zeroed gradients shaped like this tower. */
  newGrads(): TowerGrads {
    const w0 = this.w0;
    return {
      id: new SparseGrad(this.nIds, w0, 4096),
      features: new SparseGrad(Math.max(1, this.nFeatures), w0, 1024),
      history: this.nHistory > 0 ? new SparseGrad(this.nHistory, w0, 4096) : null,
      b0: new Float32Array(w0),
      W: this.dense.map((l) => new Float32Array(l.W.length)),
      b: this.dense.map((l) => new Float32Array(l.b.length)),
      gamma: new Float32Array(this.d),
      beta: new Float32Array(this.d),
    };
  }

  /** The embedding-bag layer: h₀ (n × w₀), written into `into` when given (every element is set). */
  private inputLayer(input: TowerInput, start: number, end: number, into: Float32Array | null = null): Float32Array {
    const w0 = this.w0;
    const n = end - start;
    const h = into ?? new Float32Array(n * w0);
    const { idTable, featTable, histTable, b0 } = this;
    for (let r = 0; r < n; r++) {
      const o = r * w0;
      const row = start + r;
      const id = input.ids[row];
      // h = b₀ + (the id row, or the unknown-id row) in one pass.
      let src: Float32Array | null = null;
      let so = 0;
      if (id >= 0) {
        if (id >= this.nIds) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: id row ${id} outside a table of ${this.nIds} rows`);
        src = idTable;
        so = id * w0;
      } else if (this.unknownIdFeature >= 0) {
        src = featTable;
        so = this.unknownIdFeature * w0;
      }
      if (src) for (let d = 0; d < w0; d++) h[o + d] = b0[d] + src[so + d];
      else h.set(b0, o);
      const f = input.features;
      if (f) {
        for (let p = f.indptr[row]; p < f.indptr[row + 1]; p++) {
          const fo = f.indices[p] * w0;
          const v = f.values[p];
          for (let d = 0; d < w0; d++) h[o + d] += v * featTable[fo + d];
        }
      }
      const hb = input.history;
      if (hb && this.nHistory > 0) {
        for (let p = hb.indptr[row]; p < hb.indptr[row + 1]; p++) {
          const ho = hb.indices[p] * w0;
          const v = hb.values[p];
          for (let d = 0; d < w0; d++) h[o + d] += v * histTable[ho + d];
        }
      }
    }
    return h;
  }

  /** Forward over all rows of `input` (training: keep the cache for backward). */
  async forward(input: TowerInput, backend: DenseBackend, opts: ForwardOptions): Promise<TowerCache> {
    return this.forwardRange(input, 0, input.n, backend, opts);
  }

  /** Eval-mode outputs only, in chunks of `chunk` rows (bounded memory for whole catalogues). */
  async embed(input: TowerInput, backend: DenseBackend, chunk = 8192): Promise<Float32Array> {
    const d = this.d;
    const out = new Float32Array(input.n * d);
    for (let start = 0; start < input.n; start += chunk) {
      const end = Math.min(input.n, start + chunk);
      const c = await this.forwardRange(input, start, end, backend, { train: false });
      out.set(c.out, start * d);
    }
    return out;
  }

  private async forwardRange(input: TowerInput, start: number, end: number, backend: DenseBackend, opts: ForwardOptions): Promise<TowerCache> {
    const n = end - start;
    const train = opts.train && this.dropout > 0;
    if (train && !opts.rng) throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'internal: training forward pass without a random generator');
    const mask = train ? new DropoutMask(this.dropout, opts.rng as Rng) : null;
    const keepScale = mask ? mask.scale : 1;
    const L = this.dense.length;
    // Training reuses this tower's buffers step after step; inference (possibly concurrent) allocates.
    const ws = opts.train ? this.workspace : null;
    // The embedding bag, with ReLU + dropout fused in while each row is hot (when a dense layer follows).
    let h = this.inputLayer(input, start, end, ws ? ws.f32('h0', n * this.w0) : null);
    if (L > 0) activate(h, 0, h.length, mask);
    const acts: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      const layer = this.dense[l];
      acts.push(h);
      const next = await backend.matMul(h, n, layer.inDim, layer.W, layer.outDim, ws ? ws.f32(`h${l + 1}`, n * layer.outDim) : undefined);
      const b = layer.b;
      const od = layer.outDim;
      if (l + 1 < L) {
        for (let r = 0; r < n; r++) {
          const o = r * od;
          for (let d = 0; d < od; d++) next[o + d] += b[d];
          activate(next, o, o + od, mask);
        }
      }
      h = next;
    }
    // (last layer's bias +) LayerNorm + L2 normalisation, row by row.
    const d = this.d;
    const lastBias = L > 0 ? this.dense[L - 1].b : null;
    const xhat = h;
    const invSigma = ws ? ws.f32('invSigma', n) : new Float32Array(n);
    const norm = ws ? ws.f32('norm', n) : new Float32Array(n);
    const out = ws ? ws.f32('out', n * d) : new Float32Array(n * d);
    const { gamma, beta } = this;
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let mean = 0;
      if (lastBias) {
        for (let j = 0; j < d; j++) {
          const x = xhat[o + j] + lastBias[j];
          xhat[o + j] = x;
          mean += x;
        }
      } else {
        for (let j = 0; j < d; j++) mean += xhat[o + j];
      }
      mean /= d;
      let varSum = 0;
      for (let j = 0; j < d; j++) {
        const c = xhat[o + j] - mean;
        varSum += c * c;
      }
      // (two passes: a one-pass E[x²] − E[x]² loses digits in float arithmetic)
      const is = 1 / Math.sqrt(varSum / d + LN_EPS);
      invSigma[r] = is;
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const x = (xhat[o + j] - mean) * is;
        xhat[o + j] = x;
        const y = gamma[j] * x + beta[j];
        out[o + j] = y;
        sq += y * y;
      }
      const nr = Math.sqrt(sq);
      norm[r] = nr;
      const inv = nr > 1e-12 ? 1 / nr : 0;
      for (let j = 0; j < d; j++) out[o + j] *= inv;
    }
    // Backward is only ever run on a whole-input forward (start 0, end n), so the input rows line up.
    return { input, n, acts, xhat, invSigma, norm, out, keepScale };
  }

  /** Accumulates the gradients of the loss into `grads`, given ∂L/∂z (n × d). */
  async backward(cache: TowerCache, dOut: Float32Array, grads: TowerGrads, backend: DenseBackend): Promise<void> {
    const { n, xhat, invSigma, norm, out, acts, keepScale } = cache;
    const d = this.d;
    const ws = this.workspace;
    let dh: Float32Array = ws.f32('dh', n * d);
    const { gamma } = this;
    const L = this.dense.length;
    const lastBiasGrad = L > 0 ? grads.b[L - 1] : null;
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let zdz = 0;
      for (let j = 0; j < d; j++) zdz += out[o + j] * dOut[o + j];
      const invNorm = norm[r] > 1e-12 ? 1 / norm[r] : 0;
      // dy, then LayerNorm backward.
      let meanDx = 0;
      let meanDxX = 0;
      for (let j = 0; j < d; j++) {
        const dy = (dOut[o + j] - out[o + j] * zdz) * invNorm;
        grads.gamma[j] += dy * xhat[o + j];
        grads.beta[j] += dy;
        const dx = dy * gamma[j];
        dh[o + j] = dx;
        meanDx += dx;
        meanDxX += dx * xhat[o + j];
      }
      meanDx /= d;
      meanDxX /= d;
      const is = invSigma[r];
      // ∂h_L, and (fused while the row is hot) the last Linear's bias gradient.
      if (lastBiasGrad) {
        for (let j = 0; j < d; j++) {
          const v = (dh[o + j] - meanDx - xhat[o + j] * meanDxX) * is;
          dh[o + j] = v;
          lastBiasGrad[j] += v;
        }
      } else {
        for (let j = 0; j < d; j++) dh[o + j] = (dh[o + j] - meanDx - xhat[o + j] * meanDxX) * is;
      }
    }
    for (let l = this.dense.length - 1; l >= 0; l--) {
      const layer = this.dense[l];
      const a = acts[l];
      const { inDim, outDim } = layer;
      // ∂W = aᵀ ∂h, ∂b = Σ ∂h
      const dW = await backend.matMulTransA(a, n, inDim, dh, outDim);
      const gW = grads.W[l];
      for (let j = 0; j < gW.length; j++) gW[j] += dW[j];
      // ∂a = ∂h Wᵀ, through dropout and ReLU (for l = 0 inside scatterInput, row by row).
      const WT = transpose(layer.W, inDim, outDim);
      const da = await backend.matMul(dh, n, outDim, WT, inDim, ws.f32(`da${l}`, n * inDim));
      if (l > 0) {
        const gb = grads.b[l - 1];
        for (let r = 0; r < n; r++) {
          const o = r * inDim;
          for (let j = 0; j < inDim; j++) {
            const v = a[o + j] > 0 ? da[o + j] * keepScale : 0;
            da[o + j] = v;
            gb[j] += v;
          }
        }
      }
      dh = da;
    }
    this.scatterInput(cache.input, dh, L > 0 ? acts[0] : null, keepScale, grads);
  }

  /** ∂a₀ (masked here by a₀ > 0 when a dense layer followed) → ∂h₀ → bias and table rows. */
  private scatterInput(input: TowerInput, dh: Float32Array, a0: Float32Array | null, keepScale: number, grads: TowerGrads): void {
    const w0 = this.w0;
    const n = input.n;
    const gb0 = grads.b0;
    for (let r = 0; r < n; r++) {
      const o = r * w0;
      if (a0) {
        for (let j = 0; j < w0; j++) {
          const v = a0[o + j] > 0 ? dh[o + j] * keepScale : 0;
          dh[o + j] = v;
          gb0[j] += v;
        }
      } else {
        for (let j = 0; j < w0; j++) gb0[j] += dh[o + j];
      }
      const id = input.ids[r];
      if (id >= 0) grads.id.add(id, dh, o, 1);
      else if (this.unknownIdFeature >= 0) grads.features.add(this.unknownIdFeature, dh, o, 1);
      const f = input.features;
      if (f) for (let p = f.indptr[r]; p < f.indptr[r + 1]; p++) grads.features.add(f.indices[p], dh, o, f.values[p]);
      const hb = input.history;
      if (hb && grads.history) for (let p = hb.indptr[r]; p < hb.indptr[r + 1]; p++) grads.history.add(hb.indices[p], dh, o, hb.values[p]);
    }
  }

  /** Dense parameters in a fixed order (optimiser slots and artifacts follow it). */
  denseParams(): Array<{ name: string; value: Float32Array }> {
    const out = [{ name: 'b0', value: this.b0 }];
    this.dense.forEach((l, i) => {
      out.push({ name: `W${i}`, value: l.W }, { name: `b${i + 1}`, value: l.b });
    });
    out.push({ name: 'gamma', value: this.gamma }, { name: 'beta', value: this.beta });
    return out;
  }

  /** Dense gradients in denseParams() order. */
  static denseGrads(g: TowerGrads): Float32Array[] {
    const out = [g.b0];
    g.W.forEach((w, i) => out.push(w, g.b[i]));
    out.push(g.gamma, g.beta);
    return out;
  }

  static zeroDense(g: TowerGrads): void {
    for (const a of Tower.denseGrads(g)) a.fill(0);
  }
}

/**
 * Dropout masks from a xorshift32 stream seeded by the run's Rng (one Rng call per pass instead of
 * one per unit). Each 32-bit draw decides four units by its four bytes, so the drop probability is
 * p rounded to a multiple of 1/256 (0.3 → 77/256 = 0.3008); `scale` = 1/(1 − that).
 */
export class DropoutMask {
  private state: number;
  readonly threshold: number;
  readonly scale: number;

  constructor(p: number, rng: Rng) {
    this.threshold = Math.min(255, Math.round(p * 256));
    this.scale = 1 / (1 - this.threshold / 256);
    this.state = rng.nextUint32() | 1;
  }

  next(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.state = s;
    return s;
  }
}

/** a[from..to) = dropout(relu(a)) in place (mask null: relu only). */
function activate(a: Float32Array, from: number, to: number, mask: DropoutMask | null): void {
  if (!mask) {
    for (let j = from; j < to; j++) if (!(a[j] > 0)) a[j] = 0;
    return;
  }
  const t = mask.threshold;
  const scale = mask.scale;
  let j = from;
  for (; j + 4 <= to; j += 4) {
    const s = mask.next();
    const v0 = a[j];
    const v1 = a[j + 1];
    const v2 = a[j + 2];
    const v3 = a[j + 3];
    a[j] = v0 > 0 && (s & 255) >= t ? v0 * scale : 0;
    a[j + 1] = v1 > 0 && ((s >>> 8) & 255) >= t ? v1 * scale : 0;
    a[j + 2] = v2 > 0 && ((s >>> 16) & 255) >= t ? v2 * scale : 0;
    a[j + 3] = v3 > 0 && s >>> 24 >= t ? v3 * scale : 0;
  }
  if (j < to) {
    const s = mask.next();
    for (let k = 0; j < to; j++, k += 8) {
      const v = a[j];
      a[j] = v > 0 && ((s >>> k) & 255) >= t ? v * scale : 0;
    }
  }
}

/** N(0, std²) by Box–Muller pairs over a xorshift stream seeded from `rng` (the tables are large). */
function fillNormal(a: Float32Array, rng: Rng, std: number): void {
  let s = rng.nextUint32() | 1;
  const u01 = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  for (let j = 0; j < a.length; j += 2) {
    const r = Math.sqrt(-2 * Math.log(u01())) * std;
    const t = 2 * Math.PI * u01();
    a[j] = r * Math.cos(t);
    if (j + 1 < a.length) a[j + 1] = r * Math.sin(t);
  }
}

function fillUniform(a: Float32Array, rng: Rng, bound: number): void {
  for (let j = 0; j < a.length; j++) a[j] = (2 * rng.next() - 1) * bound;
}
