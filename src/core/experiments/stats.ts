/**
 * Statistics of an online experiment: per-arm rates with Wilson intervals, and the guardrail's
 * always-valid sequential test.
 *
 * Guardrail test — mSPRT with a normal mixture (Johari, Koomen, Pekelis, Walsh 2017, "Peeking at
 * A/B tests: why it matters, and what to do about it", KDD; Robbins 1970). For an arm a against
 * the control c with a relative threshold δ, the quantity tested is
 *     d = p_a − (1 − δ)·p_c,          H0: d ≥ 0  (the arm is at most δ worse than the control)
 * estimated by d̂ = p̂_a − (1 − δ)·p̂_c with variance V = p̂_a(1−p̂_a)/n_a + (1−δ)²·p̂_c(1−p̂_c)/n_c.
 * With a N(0, τ²) mixture over the alternative, the likelihood ratio against d = 0 is
 *     Λ_n = √(V / (V + τ²)) · exp( τ²·d̂² / (2·V·(V + τ²)) ),
 * a non-negative martingale under d = 0, so by Ville's inequality P(∃n: Λ_n ≥ 1/α) ≤ α: the test
 * may be checked after every impression and still rolls back a healthy arm with probability ≤ α
 * (smaller still when d > 0; only d̂ < 0 triggers). The always-valid p-value is min(1, 1/max_s Λ_s).
 */

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** Wilson score interval for k successes in n trials (0, 0 for n = 0). */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 0];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface ArmCounts {
  impressions: number;
  clicks: number;
  conversions: number;
}

export interface SequentialTest {
  /** d̂ = p̂_arm − (1 − δ)·p̂_control. */
  difference: number;
  /** The mixture likelihood ratio Λ (0 before the test runs). */
  lambda: number;
  /** Rejection threshold 1/α. */
  threshold: number;
  /** Always-valid p-value of this look: min(1, 1/Λ). */
  pValue: number;
  /** Whether the arm is, with evidence, more than δ below the control. */
  reject: boolean;
  /** Whether both sides had the minimum impressions. */
  ran: boolean;
}

export interface GuardrailParams {
  maxRelativeDrop: number;
  alpha: number;
  mixtureSd: number;
  minImpressions: number;
}

/**
 * One look of the mSPRT for "arm more than δ below control". Rates are smoothed by half a click
 * (p̃ = (k + ½)/(n + 1)) only inside the variance, so an arm with no clicks yet does not get V = 0.
 */
export function guardrailTest(arm: ArmCounts, control: ArmCounts, g: GuardrailParams): SequentialTest {
  const threshold = 1 / g.alpha;
  if (arm.impressions < g.minImpressions || control.impressions < g.minImpressions) {
    return { difference: NaN, lambda: 0, threshold, pValue: 1, reject: false, ran: false };
  }
  const keep = 1 - g.maxRelativeDrop;
  const pa = arm.clicks / arm.impressions;
  const pc = control.clicks / control.impressions;
  const d = pa - keep * pc;
  const sa = (arm.clicks + 0.5) / (arm.impressions + 1);
  const sc = (control.clicks + 0.5) / (control.impressions + 1);
  const v = (sa * (1 - sa)) / arm.impressions + (keep * keep * sc * (1 - sc)) / control.impressions;
  const t2 = g.mixtureSd * g.mixtureSd;
  const logLambda = 0.5 * Math.log(v / (v + t2)) + (t2 * d * d) / (2 * v * (v + t2));
  const lambda = Math.exp(Math.min(logLambda, 700));
  return { difference: d, lambda, threshold, pValue: Math.min(1, 1 / lambda), reject: d < 0 && lambda >= threshold, ran: true };
}
