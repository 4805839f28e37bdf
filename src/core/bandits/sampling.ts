/**
 * Random variates for the bandit policies, fast enough for 10^8 Beta draws per run:
 *
 * - uniforms from xoshiro128** (the generator of `Rng`, inlined here because a Thompson-sampling
 *   step over 100 arms draws ~400 words and the class's per-call overhead would dominate; the
 *   state is four int32 words, seeded from an `Rng`, and can be saved with the policy);
 * - standard normals by the ziggurat method (Marsaglia & Tsang 2000, "The Ziggurat Method for
 *   Generating Random Variables", J. Stat. Softw. 5(8); 128 layers, one 32-bit word per draw in
 *   ~98.8% of cases, the exact tail algorithm beyond r = 3.442620);
 * - Gamma(a, 1) by Marsaglia & Tsang 2000 ("A Simple Method for Generating Gamma Variables",
 *   ACM TOMS 26(3)): for a ≥ 1, d = a − 1/3, c = 1/√(9d), draw x ~ N(0,1), v = (1 + c·x)³, accept
 *   d·v when v > 0 and u < 1 − 0.0331·x⁴ (squeeze) or ln u < x²/2 + d·(1 − v + ln v); for a < 1,
 *   Gamma(a) = Gamma(a + 1)·U^(1/a);
 * - Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
 */
import { RecsysError } from '../errors.js';
import { Rng } from '../rng.js';

// Ziggurat tables (Marsaglia & Tsang 2000, `zigset`), 128 layers.
const KN = new Int32Array(128);
const WN = new Float64Array(128);
const FN = new Float64Array(128);
const ZIG_R = 3.442619855899;
{
  const m1 = 2147483648.0;
  let dn = ZIG_R;
  let tn = dn;
  const vn = 9.91256303526217e-3;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * m1);
  KN[1] = 0;
  WN[0] = q / m1;
  WN[127] = dn / m1;
  FN[0] = 1;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * m1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m1;
  }
}

/** 2^-32: maps a 32-bit word to [0, 1). */
const INV_2_32 = 2.3283064365386963e-10;

/** Serialisable sampler state (the four xoshiro128** words). */
export type SamplerState = [number, number, number, number];

export class Sampler {
  /** xoshiro128** state; an Int32Array so the fused kernels below can load and store it. */
  readonly words = new Int32Array(4);

  /** Seeded from an Rng (or a seed), so a run is reproducible from its seed. */
  constructor(seed: Rng | number) {
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    for (let i = 0; i < 4; i++) this.words[i] = rng.nextUint32() | 0;
    if ((this.words[0] | this.words[1] | this.words[2] | this.words[3]) === 0) this.words[0] = 1;
  }

  static fromState(state: readonly number[]): Sampler {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w))) {
      throw new RecsysError('RECSYS_ERR_USAGE', `sampler state must be four integers, got ${JSON.stringify(state)}`);
    }
    const s = new Sampler(1);
    for (let i = 0; i < 4; i++) s.words[i] = state[i] | 0;
    if ((s.words[0] | s.words[1] | s.words[2] | s.words[3]) === 0) s.words[0] = 1;
    return s;
  }

  state(): SamplerState {
    return [this.words[0], this.words[1], this.words[2], this.words[3]];
  }

  /** A 32-bit word as a signed int32 (xoshiro128**). */
  int32(): number {
    const w = this.words;
    let s0 = w[0];
    let s1 = w[1];
    let s2 = w[2];
    let s3 = w[3];
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    w[0] = s0;
    w[1] = s1;
    w[2] = s2;
    w[3] = s3;
    return result;
  }

  /** Uniform in (0, 1) with 32 bits: never 0, so ln(u) is finite. */
  uniform(): number {
    return ((this.int32() >>> 0) + 0.5) * INV_2_32;
  }

  /** Uniform in [0, 1) with 53 bits (for probabilities compared against tiny values). */
  uniform53(): number {
    const hi = this.int32() >>> 5;
    const lo = this.int32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), n ≤ 2^32 (multiply-shift; bias < n/2^32). */
  int(n: number): number {
    return Math.floor((this.int32() >>> 0) * INV_2_32 * n);
  }

  /** Standard normal (ziggurat). */
  normal(): number {
    const hz = this.int32();
    const iz = hz & 127;
    if (Math.abs(hz) < KN[iz]) return hz * WN[iz];
    return this.normalSlow(hz, iz);
  }

  /** The ziggurat's rare path: a wedge or the tail, given the word that missed the fast path. */
  normalSlow(hz0: number, iz0: number): number {
    let hz = hz0;
    let iz = iz0;
    for (;;) {
      const x = hz * WN[iz];
      if (iz === 0) {
        // Tail beyond r (Marsaglia 1964).
        let t: number;
        let y: number;
        do {
          t = -Math.log(this.uniform()) / ZIG_R;
          y = -Math.log(this.uniform());
        } while (y + y < t * t);
        return hz > 0 ? ZIG_R + t : -ZIG_R - t;
      }
      if (FN[iz] + this.uniform() * (FN[iz - 1] - FN[iz]) < Math.exp(-0.5 * x * x)) return x;
      hz = this.int32();
      iz = hz & 127;
      if (Math.abs(hz) < KN[iz]) return hz * WN[iz];
    }
  }

  /**
   * Gamma(a, 1) for a ≥ 1 given the precomputed d = a − 1/3 and c = 1/√(9d) (hot loops keep them
   * per arm; see `gammaConstants`).
   */
  gammaDC(d: number, c: number): number {
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Gamma(shape, 1), shape > 0. */
  gamma(shape: number): number {
    if (shape >= 1) {
      const d = shape - 1 / 3;
      return this.gammaDC(d, 1 / Math.sqrt(9 * d));
    }
    if (!(shape > 0)) throw new RecsysError('RECSYS_ERR_USAGE', `gamma shape must be > 0, got ${shape}`);
    // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a) (Marsaglia & Tsang 2000, §6).
    const d = shape + 1 - 1 / 3;
    return this.gammaDC(d, 1 / Math.sqrt(9 * d)) * Math.pow(this.uniform(), 1 / shape);
  }

  /** Beta(a, b), a, b > 0. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }
}

/**
 * Thompson-sampling argmax, fused for speed: for every arm a, θ_a = X/(X+Y) with X ~ Gamma(α_a),
 * Y ~ Gamma(β_a) (shapes ≥ 1), given `consts` = [d_α, c_α, d_β, c_β] per arm (Marsaglia–Tsang
 * constants, see `gammaConstants`); returns the arm with the largest θ (ties: the smaller index).
 * Draw for draw the same words and the same values as `sampler.beta(α_a, β_a)` arm by arm, but
 * with the generator state and the ziggurat's fast path in locals and both gamma draws unrolled:
 * this loop runs 10^8 times in a 1M-step, 100-arm simulation (2.2 s here, against 4+ s through
 * the methods).
 */
export function betaArgmax(sampler: Sampler, consts: Float64Array, n: number): number {
  const words = sampler.words;
  let s0 = words[0];
  let s1 = words[1];
  let s2 = words[2];
  let s3 = words[3];
  let best = 0;
  let bestDraw = -1;
  for (let a = 0, o = 0; a < n; a++, o += 4) {
    // X ~ Gamma(α_a). The two gamma draws are written out twice on purpose: a loop over them ran
    // ~25% slower (1M steps × 100 arms: 2.8 s against 2.2 s).
    let x = 0;
    {
      const d = consts[o];
      const c = consts[o + 1];
      for (;;) {
        let w = Math.imul(s1, 5);
        const hz = Math.imul((w << 7) | (w >>> 25), 9);
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const iz = hz & 127;
        let z = hz * WN[iz];
        if (!(Math.abs(hz) < KN[iz])) {
          words[0] = s0;
          words[1] = s1;
          words[2] = s2;
          words[3] = s3;
          z = sampler.normalSlow(hz, iz);
          s0 = words[0];
          s1 = words[1];
          s2 = words[2];
          s3 = words[3];
        }
        let v = 1 + c * z;
        if (v <= 0) continue;
        v = v * v * v;
        w = Math.imul(s1, 5);
        const hu = Math.imul((w << 7) | (w >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const u = ((hu >>> 0) + 0.5) * INV_2_32;
        const z2 = z * z;
        if (u < 1 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) {
          x = d * v;
          break;
        }
      }
    }
    // Y ~ Gamma(β_a).
    let y = 0;
    {
      const d = consts[o + 2];
      const c = consts[o + 3];
      for (;;) {
        let w = Math.imul(s1, 5);
        const hz = Math.imul((w << 7) | (w >>> 25), 9);
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const iz = hz & 127;
        let z = hz * WN[iz];
        if (!(Math.abs(hz) < KN[iz])) {
          words[0] = s0;
          words[1] = s1;
          words[2] = s2;
          words[3] = s3;
          z = sampler.normalSlow(hz, iz);
          s0 = words[0];
          s1 = words[1];
          s2 = words[2];
          s3 = words[3];
        }
        let v = 1 + c * z;
        if (v <= 0) continue;
        v = v * v * v;
        w = Math.imul(s1, 5);
        const hu = Math.imul((w << 7) | (w >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const u = ((hu >>> 0) + 0.5) * INV_2_32;
        const z2 = z * z;
        if (u < 1 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) {
          y = d * v;
          break;
        }
      }
    }
    const theta = x / (x + y);
    if (theta > bestDraw) {
      bestDraw = theta;
      best = a;
    }
  }
  words[0] = s0;
  words[1] = s1;
  words[2] = s2;
  words[3] = s3;
  return best;
}

/** d = a − 1/3 and c = 1/√(9d) of Marsaglia–Tsang for shape a ≥ 1. */
export function gammaConstants(shape: number): { d: number; c: number } {
  const d = shape - 1 / 3;
  return { d, c: 1 / Math.sqrt(9 * d) };
}
