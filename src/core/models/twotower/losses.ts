/**
 * Losses of the two-tower model, each returning the mean loss and its gradients with respect to the
 * towers' unit output vectors (towers.ts carries them further back).
 *
 * `bce` (the design as written): for each training pair and its sampled negatives,
 *   x = scale · cos(u, v),   ℓ = −y log σ(x) − (1 − y) log(1 − σ(x))   (mean over all scored pairs)
 * computed stably as max(x, 0) − x·y + log(1 + e^−|x|); ∂ℓ/∂x = σ(x) − y. With scale 1 (the
 * design) x stays in [−1, 1], so σ(x) never leaves [0.27, 0.73]: the loss floor is 0.313 nats and
 * the ranking signal is weak (../shared/research/baselines.md); `bceLogitScale` relaxes that.
 *
 * `softmax`: in-batch sampled softmax (Yi et al., "Sampling-Bias-Corrected Neural Modeling for
 * Large Corpus Item Recommendations", RecSys 2019). The batch's distinct items (plus optional
 * uniformly drawn ones: mixed negative sampling, Yang et al., WWW 2020 companion) are the
 * candidates C; for example r with user u and positive item i,
 *   s_uj = cos(u, v_j)/τ − log q_j,     ℓ_r = −s_ui + log Σ_{j ∈ C, j ∉ P_u∖{i}} e^{s_uj}
 * where q_j is the probability that item j is among the candidates at all (the log-Q correction:
 * popular items are in almost every batch and would otherwise be over-penalised as negatives), and
 * P_u are the user's other positives in the batch (accidental hits, masked out). Mean over the
 * batch's examples. With e_uj = e^{s_uj − max_j s_uj}, Z_r the masked sum:
 *   ∂ℓ/∂s_uj = Σ_{r of u} (e_uj/Z_r · [j unmasked for r] − [j = i_r]) / B
 * then ∂U = ∂S V / τ and ∂V = ∂Sᵀ U / τ, both as untransposed products on the backend.
 */
import { transpose, type DenseBackend, type Workspace } from './backend.js';

export interface LossResult {
  /** Mean loss over the examples (bce: over all scored pairs). */
  loss: number;
  /** ∂loss/∂U (nu × d) and ∂loss/∂V (nv × d). */
  dU: Float32Array;
  dV: Float32Array;
}

/**
 * Binary cross-entropy on sigmoid(scale · cos): pair p scores user row `users[p]` of U against item
 * row `items[p]` of V with label `labels[p]` (1 positive, 0 negative). U and V hold unit rows.
 */
export function bceLoss(U: Float32Array, V: Float32Array, d: number, users: Int32Array, items: Int32Array, labels: Uint8Array, scale: number, ws: Workspace | null = null): LossResult {
  const P = users.length;
  const dU = ws ? ws.f32('bce.dU', U.length, true) : new Float32Array(U.length);
  const dV = ws ? ws.f32('bce.dV', V.length, true) : new Float32Array(V.length);
  let total = 0;
  const inv = P > 0 ? 1 / P : 0;
  for (let p = 0; p < P; p++) {
    const uo = users[p] * d;
    const vo = items[p] * d;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += U[uo + j] * V[vo + j];
    const x = scale * dot;
    const y = labels[p];
    total += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
    const sig = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    const g = (sig - y) * scale * inv;
    for (let j = 0; j < d; j++) {
      dU[uo + j] += g * V[vo + j];
      dV[vo + j] += g * U[uo + j];
    }
  }
  return { loss: total * inv, dU, dV };
}

export interface SoftmaxBatch {
  /** User row (of U) and positive candidate row (of V) of each example. */
  exampleUser: Int32Array;
  exampleItem: Int32Array;
  /** log q_j per candidate row, or null for no correction. */
  logQ: Float32Array | null;
  temperature: number;
}

/** In-batch sampled softmax with log-Q correction and accidental-hit masking (module comment). */
export async function softmaxLoss(backend: DenseBackend, U: Float32Array, nu: number, V: Float32Array, nc: number, d: number, batch: SoftmaxBatch, ws: Workspace | null = null): Promise<LossResult> {
  const { exampleUser, exampleItem, logQ, temperature } = batch;
  const B = exampleUser.length;
  const invT = 1 / temperature;
  const VT = transpose(V, nc, d, ws ? ws.f32('softmax.VT', nc * d) : undefined);
  // S becomes e = exp(s − rowMax) in place, then ∂S.
  const S = await backend.matMul(U, nu, d, VT, nc, ws ? ws.f32('softmax.S', nu * nc) : undefined);
  const rowMax = new Float64Array(nu);
  const rowSum = new Float64Array(nu);
  for (let u = 0; u < nu; u++) {
    const o = u * nc;
    let m = -Infinity;
    for (let j = 0; j < nc; j++) {
      const s = S[o + j] * invT - (logQ ? logQ[j] : 0);
      S[o + j] = s;
      if (s > m) m = s;
    }
    rowMax[u] = m;
    let z = 0;
    for (let j = 0; j < nc; j++) {
      const e = Math.exp(S[o + j] - m);
      S[o + j] = e;
      z += e;
    }
    rowSum[u] = z;
  }
  // Examples grouped by user: the user's batch positives are masked for its other examples.
  const firstOf = new Int32Array(nu).fill(-1);
  const nextOf = new Int32Array(B).fill(-1);
  for (let r = B - 1; r >= 0; r--) {
    const u = exampleUser[r];
    nextOf[r] = firstOf[u];
    firstOf[u] = r;
  }
  const invB = B > 0 ? 1 / B : 0;
  let total = 0;
  const coef = new Float64Array(nu);
  // Per example: Z_r = rowSum − Σ e of the user's other positives.
  const Z = new Float64Array(B);
  for (let u = 0; u < nu; u++) {
    let posSum = 0;
    for (let r = firstOf[u]; r >= 0; r = nextOf[r]) posSum += S[u * nc + exampleItem[r]];
    for (let r = firstOf[u]; r >= 0; r = nextOf[r]) {
      const ei = S[u * nc + exampleItem[r]];
      const z = rowSum[u] - posSum + ei;
      Z[r] = z;
      total += -Math.log(ei) + Math.log(z);
      coef[u] += 1 / z;
    }
  }
  // ∂S: unmasked entries e_uj · Σ_r 1/Z_r; the user's positives only get their own example's term.
  for (let u = 0; u < nu; u++) {
    const o = u * nc;
    if (firstOf[u] < 0) {
      S.fill(0, o, o + nc);
      continue;
    }
    const c = coef[u] * invB * invT;
    const pos: number[] = [];
    for (let r = firstOf[u]; r >= 0; r = nextOf[r]) pos.push(exampleItem[r], S[o + exampleItem[r]]);
    for (let j = 0; j < nc; j++) S[o + j] *= c;
    for (let p = 0, r = firstOf[u]; r >= 0; r = nextOf[r], p += 2) {
      const j = pos[p];
      S[o + j] = ((pos[p + 1] / Z[r] - 1) * invB) * invT;
    }
  }
  const dU = await backend.matMul(S, nu, nc, V, d, ws ? ws.f32('softmax.dU', nu * d) : undefined);
  const dVT = await backend.matMulTransA(U, nu, d, S, nc);
  const dV = transpose(dVT, d, nc, ws ? ws.f32('softmax.dV', nc * d) : undefined);
  return { loss: total * invB, dU, dV };
}

/**
 * log q_j for candidates under in-batch sampling: the chance that item j (unigram probability p_j)
 * is among B examples drawn with replacement, or among M uniform draws over N items:
 *   q_j = 1 − (1 − p_j)^B · (1 − 1/N)^M
 */
export function candidateLogQ(probabilities: Float64Array, candidates: Int32Array, batch: number, uniformDraws: number, nUniform: number): Float32Array {
  const out = new Float32Array(candidates.length);
  const missUniform = uniformDraws > 0 && nUniform > 0 ? Math.pow(1 - 1 / nUniform, uniformDraws) : 1;
  for (let c = 0; c < candidates.length; c++) {
    const p = probabilities[candidates[c]];
    const q = 1 - Math.exp(batch * Math.log1p(-Math.min(p, 1 - 1e-12))) * missUniform;
    out[c] = Math.log(Math.max(q, 1e-12));
  }
  return out;
}
