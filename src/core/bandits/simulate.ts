/**
 * Online simulation against a synthetic Bernoulli bandit with known arm probabilities: each policy
 * plays `horizon` steps, `runs` times with different seeds, and the cumulative (pseudo-)regret
 *     R(t) = Σ_{s ≤ t} (p*(x_s) − p(x_s, a_s)),   p*(x) = max_a p(x, a)
 * is recorded at checkpoints; curves are averaged over runs with a 95% band (mean ± 1.96·sd/√runs).
 * Rewards are r_s = [u_s < p(x_s, a_s)] with u_s from a per-run environment stream shared by all
 * policies (common random numbers: policies are compared on the same luck).
 *
 * With `segments` > 1 the environment is contextual: each step draws a user segment uniformly,
 * arm probabilities differ per segment, linear policies see the segment one-hot and the regret is
 * against the best arm of the segment (context-free policies then converge to the best arm on
 * average, and their regret keeps growing linearly).
 *
 * Sub-linear growth is summarised by the exponent log(R(T)/R(T/10)) / log 10 of the mean curve:
 * about 1 for linear regret (fixed-ε exploration), well below 1 for logarithmic regret.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { RecsysError } from '../errors.js';
import { silentProgress, type Progress } from '../models/recommender.js';
import { Rng } from '../rng.js';
import { createPolicy, isNamedPolicy, NAMED_POLICIES, NO_CONTEXT, POLICY_INFO, type NamedPolicy } from './policies/index.js';
import { Sampler } from './sampling.js';

export interface SyntheticEnv {
  arms: number;
  labels: string[];
  segments: number;
  /** segments × arms, row-major. */
  probabilities: Float64Array;
  /** Best probability per segment. */
  best: Float64Array;
}

export interface EnvOptions {
  arms: number;
  labels?: string[];
  /** Explicit probabilities: `arms` values (one segment) or segments × arms. */
  probabilities?: readonly number[];
  /** Range of generated probabilities (default [0.05, 0.5]). */
  range?: [number, number];
  segments?: number;
  seed?: number;
}

/** The environment: explicit probabilities, or drawn uniformly from `range` with the seed. */
export function makeEnv(opts: EnvOptions): SyntheticEnv {
  const arms = opts.arms;
  if (!Number.isInteger(arms) || arms < 2) throw new RecsysError('RECSYS_ERR_USAGE', `a bandit needs at least 2 arms, got ${arms}`, { flag: '--arms' });
  const segments = opts.segments ?? 1;
  if (!Number.isInteger(segments) || segments < 1) throw new RecsysError('RECSYS_ERR_USAGE', `--segments must be a positive integer, got ${segments}`, { flag: '--segments' });
  const labels = opts.labels ?? Array.from({ length: arms }, (_, a) => `arm${a}`);
  if (labels.length !== arms) throw new RecsysError('RECSYS_ERR_USAGE', `${labels.length} arm names for ${arms} arms`, { flag: '--arms' });
  const probabilities = new Float64Array(segments * arms);
  if (opts.probabilities) {
    const p = opts.probabilities;
    if (p.length !== arms && p.length !== segments * arms) {
      throw new RecsysError('RECSYS_ERR_USAGE', `expected ${arms} arm probabilities (or ${segments}×${arms} with segments), got ${p.length}`, { flag: '--arms' });
    }
    for (let i = 0; i < segments * arms; i++) {
      const v = p.length === arms ? p[i % arms] : p[i];
      if (!(v >= 0 && v <= 1)) throw new RecsysError('RECSYS_ERR_USAGE', `arm probabilities must be in [0, 1], got ${v}`, { flag: '--arms' });
      probabilities[i] = v;
    }
  } else {
    const [lo, hi] = opts.range ?? [0.05, 0.5];
    if (!(lo >= 0 && hi <= 1 && lo < hi)) throw new RecsysError('RECSYS_ERR_USAGE', `--prob-range must satisfy 0 ≤ lo < hi ≤ 1, got ${lo},${hi}`, { flag: '--prob-range' });
    const s = new Sampler(new Rng(opts.seed ?? 42));
    for (let i = 0; i < segments * arms; i++) probabilities[i] = lo + (hi - lo) * s.uniform53();
  }
  const best = new Float64Array(segments);
  for (let g = 0; g < segments; g++) {
    let b = 0;
    for (let a = 0; a < arms; a++) b = Math.max(b, probabilities[g * arms + a]);
    best[g] = b;
  }
  return { arms, labels, segments, probabilities, best };
}

export interface PolicySpec {
  name: NamedPolicy;
  params?: Record<string, unknown>;
  /** Shown in reports (default: the name, plus params when several specs share a name). */
  label?: string;
}

export interface SyntheticOptions {
  /** A fixed environment, or one per run (run r gets env(r): Bayesian regret over environments). */
  env: SyntheticEnv | ((run: number) => SyntheticEnv);
  horizon: number;
  runs: number;
  policies: readonly PolicySpec[];
  seed?: number;
  /** Points per curve on a linear grid (default 200; log-spaced points are added below it). */
  points?: number;
  progress?: Progress;
}

export interface Band {
  mean: number[];
  lo: number[];
  hi: number[];
}

export interface SyntheticPolicyResult {
  label: string;
  name: NamedPolicy;
  params: Record<string, number | string | boolean>;
  description: string;
  /** Cumulative regret at the checkpoints: mean over runs and its 95% band. */
  regret: Band;
  /** Mean reward per step up to each checkpoint (the policy's running CTR). */
  ctr: Band;
  finalRegret: { mean: number; sd: number; ci95: [number, number]; min: number; max: number; perRun: number[] };
  finalCtr: number;
  /** log(R(T)/R(T/10)) / log 10 of the mean curve (1 = linear growth). */
  growthExponent: number;
  /** Share of the last 10% of steps that played an optimal arm (mean over runs). */
  optimalShareLast10: number;
  seconds: number;
  stepsPerSecond: number;
}

export interface SyntheticResult {
  env: {
    arms: number;
    labels: string[];
    segments: number;
    /** Whether every run drew its own arm probabilities (then `probabilities` are run 1's). */
    resampledPerRun: boolean;
    probabilities: number[][];
    best: number[];
    /** Mean over segments (and runs) of the best arm's probability. */
    optimalValue: number;
  };
  horizon: number;
  runs: number;
  seed: number;
  checkpoints: number[];
  policies: SyntheticPolicyResult[];
}

/** Step counts (1-based) where curves are sampled: a linear grid plus log-spaced points below it. */
export function checkpointsFor(horizon: number, points = 200): Int32Array {
  const set = new Set<number>();
  for (let j = 1; j <= points; j++) set.add(Math.max(1, Math.round((horizon * j) / points)));
  for (let e = 0; Math.pow(10, e / 10) <= horizon; e++) set.add(Math.round(Math.pow(10, e / 10)));
  set.add(horizon);
  return Int32Array.from([...set].filter((t) => t >= 1 && t <= horizon).sort((a, b) => a - b));
}

function band(values: Float64Array, runs: number, points: number): Band {
  const mean: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let c = 0; c < points; c++) {
    let s = 0;
    for (let r = 0; r < runs; r++) s += values[r * points + c];
    const m = s / runs;
    let ss = 0;
    for (let r = 0; r < runs; r++) ss += (values[r * points + c] - m) ** 2;
    const half = runs > 1 ? (1.96 * Math.sqrt(ss / (runs - 1))) / Math.sqrt(runs) : 0;
    mean.push(m);
    lo.push(m - half);
    hi.push(m + half);
  }
  return { mean, lo, hi };
}

function labelsFor(specs: readonly PolicySpec[]): string[] {
  const count = new Map<string, number>();
  for (const s of specs) count.set(s.name, (count.get(s.name) ?? 0) + 1);
  return specs.map((s) => {
    if (s.label) return s.label;
    const params = Object.entries(s.params ?? {}).filter(([k]) => k !== 'seed');
    if ((count.get(s.name) ?? 0) > 1 && params.length > 0) return `${s.name} (${params.map(([k, v]) => `${k}=${String(v)}`).join(', ')})`;
    return s.name;
  });
}

export function runSynthetic(opts: SyntheticOptions): SyntheticResult {
  const { horizon, runs } = opts;
  const envOf = typeof opts.env === 'function' ? opts.env : (): SyntheticEnv => opts.env as SyntheticEnv;
  const envs = Array.from({ length: runs }, (_, r) => envOf(r));
  const env = envs[0];
  if (!Number.isInteger(horizon) || horizon < 10) throw new RecsysError('RECSYS_ERR_USAGE', `--horizon must be an integer ≥ 10, got ${horizon}`, { flag: '--horizon' });
  if (!Number.isInteger(runs) || runs < 1) throw new RecsysError('RECSYS_ERR_USAGE', `--runs must be a positive integer, got ${runs}`, { flag: '--runs' });
  if (opts.policies.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', `give at least one policy: --policies ${NAMED_POLICIES.join(',')}`, { flag: '--policies' });
  const seed = opts.seed ?? 42;
  const progress = opts.progress ?? silentProgress;
  const checkpoints = checkpointsFor(horizon, opts.points ?? 200);
  const nPoints = checkpoints.length;
  const K = env.arms;
  const S = env.segments;
  if (envs.some((e) => e.arms !== K || e.segments !== S)) throw new RecsysError('RECSYS_ERR_USAGE', 'every run of a simulation needs the same number of arms and segments');
  const labels = labelsFor(opts.policies);
  const dim = S; // linear policies see the segment one-hot ([1] with one segment)
  const x = new Float64Array(dim);
  const tail = horizon - Math.floor(horizon * 0.9);

  const results: SyntheticPolicyResult[] = [];
  progress.start('simulate', opts.policies.length * runs);
  opts.policies.forEach((spec, pi) => {
    if (!isNamedPolicy(spec.name)) throw new RecsysError('RECSYS_ERR_USAGE', `unknown policy '${spec.name}'. Policies: ${NAMED_POLICIES.join(', ')}.`, { flag: '--policies' });
    const regretAt = new Float64Array(runs * nPoints);
    const ctrAt = new Float64Array(runs * nPoints);
    const finals: number[] = [];
    let optimalTail = 0;
    let params: Record<string, number | string | boolean> = {};
    let seconds = 0;
    for (let r = 0; r < runs; r++) {
      const userParams = spec.params ?? {};
      const withSeed = 'seed' in POLICY_INFO[spec.name].schema ? { ...userParams, seed: Number(userParams.seed ?? seed) + 1000 * r + pi } : userParams;
      const policy = createPolicy(spec.name, { nArms: K, contextDim: dim, params: withSeed });
      if (r === 0) params = { ...policy.params };
      const contextual = policy.contextual;
      const probs = envs[r].probabilities;
      const best = envs[r].best;
      const envRng = new Sampler(new Rng(seed * 7919 + r));
      let regret = 0;
      let reward = 0;
      let c = 0;
      const t0 = performance.now();
      if (S === 1) x[0] = 1;
      for (let t = 1; t <= horizon; t++) {
        let seg = 0;
        if (S > 1) {
          seg = envRng.int(S);
          if (contextual) {
            x.fill(0);
            x[seg] = 1;
          }
        }
        const a = policy.select(contextual ? x : NO_CONTEXT);
        const p = probs[seg * K + a];
        const rew = envRng.uniform53() < p ? 1 : 0;
        policy.update(contextual ? x : NO_CONTEXT, a, rew);
        regret += best[seg] - p;
        reward += rew;
        if (t > horizon - tail && p === best[seg]) optimalTail++;
        if (t === checkpoints[c]) {
          regretAt[r * nPoints + c] = regret;
          ctrAt[r * nPoints + c] = reward / t;
          c++;
        }
      }
      seconds += (performance.now() - t0) / 1000;
      finals.push(regret);
      progress.tick(1, { policy: labels[pi], run: r + 1 });
    }
    const regretBand = band(regretAt, runs, nPoints);
    const ctrBand = band(ctrAt, runs, nPoints);
    const m = finals.reduce((s, v) => s + v, 0) / runs;
    const sd = runs > 1 ? Math.sqrt(finals.reduce((s, v) => s + (v - m) ** 2, 0) / (runs - 1)) : 0;
    const half = runs > 1 ? (1.96 * sd) / Math.sqrt(runs) : 0;
    // R(T/10) from the nearest checkpoint at or below T/10.
    const tenth = horizon / 10;
    let ci = 0;
    while (ci + 1 < nPoints && checkpoints[ci + 1] <= tenth) ci++;
    const rEnd = regretBand.mean[nPoints - 1];
    const rTenth = regretBand.mean[ci];
    const growth = rEnd > 0 && rTenth > 0 ? Math.log(rEnd / rTenth) / Math.log(horizon / checkpoints[ci]) : NaN;
    results.push({
      label: labels[pi],
      name: spec.name,
      params,
      description: POLICY_INFO[spec.name].description,
      regret: regretBand,
      ctr: ctrBand,
      finalRegret: { mean: m, sd, ci95: [m - half, m + half], min: Math.min(...finals), max: Math.max(...finals), perRun: finals },
      finalCtr: ctrBand.mean[nPoints - 1],
      growthExponent: growth,
      optimalShareLast10: optimalTail / (runs * tail),
      seconds,
      stepsPerSecond: (runs * horizon) / Math.max(seconds, 1e-9),
    });
  });
  progress.stop();
  const probabilities: number[][] = [];
  for (let g = 0; g < S; g++) probabilities.push(Array.from(env.probabilities.subarray(g * K, (g + 1) * K)));
  let optimalValue = 0;
  for (const e of envs) for (let g = 0; g < S; g++) optimalValue += e.best[g] / (S * runs);
  return {
    env: { arms: K, labels: env.labels, segments: S, resampledPerRun: typeof opts.env === 'function', probabilities, best: Array.from(env.best), optimalValue },
    horizon,
    runs,
    seed,
    checkpoints: Array.from(checkpoints),
    policies: results,
  };
}

/**
 * Writes a log of a uniformly random policy on the environment (an evenly split A/B test) as CSV:
 * `timestamp,segment,arm,reward,propensity` (segment only with several segments; one row per
 * second from 2024-01-01T00:00:00Z), arms by label.
 * `recsys simulate --logged` reads it back, so estimators can be checked against known truth.
 */
export async function writeSyntheticLog(path: string, env: SyntheticEnv, rows: number, seed = 42): Promise<{ path: string; rows: number; meanReward: number }> {
  if (!Number.isInteger(rows) || rows < 1) throw new RecsysError('RECSYS_ERR_USAGE', `--log-rows must be a positive integer, got ${rows}`, { flag: '--log-rows' });
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const s = new Sampler(new Rng(seed));
  const K = env.arms;
  let sum = 0;
  const header = env.segments > 1 ? 'timestamp,segment,arm,reward,propensity\n' : 'timestamp,arm,reward,propensity\n';
  const t0 = Date.UTC(2024, 0, 1) / 1000;
  let buf = header;
  for (let t = 0; t < rows; t++) {
    const seg = env.segments > 1 ? s.int(env.segments) : 0;
    const a = s.int(K);
    const r = s.uniform53() < env.probabilities[seg * K + a] ? 1 : 0;
    sum += r;
    buf += env.segments > 1 ? `${t0 + t},s${seg},${env.labels[a]},${r},${1 / K}\n` : `${t0 + t},${env.labels[a]},${r},${1 / K}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return { path, rows, meanReward: sum / rows };
}
