/**
 * One running experiment: assignment of requests to arms, impression and reward logging, the
 * periodic refresh of the shared counts (posteriors), guardrails and the canary ramp. The server
 * (routes) and the in-process simulation (bench/experiments.ts, tests) call the same methods.
 *
 * Allocation. Live arms are the arms not rolled back. A canary arm in its ramp takes the share of
 * its current step, s_c; the rest, 1 − s_c, is split over the other live arms:
 *  - fixed: in proportion to the configured shares;
 *  - thompson: by Bernoulli Thompson sampling (the bandits module's `BernoulliThompson`, posterior
 *    Beta(α₀ + clicks, β₀ + impressions − clicks) from the shared counters), mixed with a uniform
 *    choice with probability `explore`: π(a) = explore/K + (1 − explore)·π_TS(a).
 * The propensity logged with an impression is the probability its arm had: s_c for the canary,
 * (1 − s_c)·share for the others (π_TS by Monte Carlo over the posterior snapshot, as in
 * `recsys simulate`).
 *
 * Assignment. The canary decision hashes (salt, "canary", user) into [0, 1): the same users stay
 * in the canary as its share grows. Fixed shares hash (salt, user) into the cumulative shares of
 * the other arms: sticky per user across requests, processes and restarts, with nothing stored.
 * Thompson draws per request, or per user (the draw kept in Redis for stickySeconds, shared by all
 * servers).
 *
 * Guardrails (stats.ts): every refresh tests each live non-control arm against the control with
 * the mSPRT; a rejection rolls the arm back (share 0, the reason stored and logged, a metric
 * raised). The canary advances a step when it has had minImpressions at its step (and minSeconds),
 * and is not rolled back — it only advances while the guardrail holds.
 */
import { BernoulliThompson, NO_CONTEXT, type PolicyState } from '../bandits/policies/index.js';
import { Rng } from '../rng.js';
import { LruCache } from '../serving/cache/lru.js';
import type { ExperimentConfig } from './config.js';
import { guardrailTest, wilson, type ArmCounts, type SequentialTest } from './stats.js';
import type { Attribution, ExperimentStore } from './store.js';

/** 53-bit string hash (cyrb53, public domain) mapped to [0, 1). */
export function hash01(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 9007199254740992;
}

export interface Assignment {
  experiment: string;
  arm: string;
  /** The probability this arm had for this request (logged with the impression). */
  propensity: number;
  via: 'hash' | 'canary' | 'thompson' | 'explore' | 'sticky';
}

export interface RollbackInfo {
  arm: string;
  atMs: number;
  reason: string;
  armImpressions: number;
  controlImpressions: number;
  armCtr: number;
  controlCtr: number;
  lambda: number;
  threshold: number;
}

export interface ArmView extends ArmCounts {
  arm: string;
  control: boolean;
  share: number;
  rolledBack: RollbackInfo | null;
  ctr: number;
  ctrCi95: [number, number];
  conversionRate: number;
  conversionCi95: [number, number];
  /** CTR relative to the control's, minus 1 (NaN for the control or without data). */
  lift: number;
  guardrail: SequentialTest | null;
  /** Thompson: posterior mean. */
  posteriorMean: number | null;
}

export interface CanaryView {
  arm: string;
  step: number;
  steps: number[];
  share: number;
  since: number;
  impressionsAtStep: number;
  status: 'ramping' | 'complete' | 'rolled-back';
}

export interface EngineView {
  id: string;
  mode: 'fixed' | 'thompson';
  control: string;
  refreshedAt: number;
  arms: ArmView[];
  canary: CanaryView | null;
}

export interface EngineHooks {
  /** Where rollbacks and canary steps are reported (the server's logger, or stderr). */
  log?: (level: 'info' | 'warn', message: string, data: Record<string, unknown>) => void;
  onRollback?: (info: RollbackInfo) => void;
  onCanaryAdvance?: (arm: string, step: number, share: number) => void;
  now?: () => number;
}

export class ExperimentEngine {
  readonly config: ExperimentConfig;
  private readonly armIndex: Map<string, number>;
  private counts: ArmCounts[];
  private rolledBack = new Map<string, RollbackInfo>();
  private canaryStep = 0;
  private canarySince = 0;
  private canaryBase = 0;
  /** Effective share per arm (index = config.arms). */
  private shares: Float64Array;
  /** Non-canary live arms and their cumulative normalised shares (fixed) or TS probabilities. */
  private others: number[] = [];
  private cumulative = new Float64Array(0);
  /** Normalised weight of each of `others` (fixed shares, or the Thompson mixture probabilities). */
  private weights = new Float64Array(0);
  private canaryShare = 0;
  private policy: BernoulliThompson | null = null;
  private readonly rng: Rng;
  private readonly stickyCache: LruCache<{ arm: string; propensity: number; expiresAt: number }>;
  private tests = new Map<string, SequentialTest>();
  private refreshedAt = 0;
  private ticking: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(
    config: ExperimentConfig,
    readonly store: ExperimentStore,
    private readonly hooks: EngineHooks = {},
  ) {
    this.config = config;
    this.armIndex = new Map(config.arms.map((a, i) => [a, i]));
    this.counts = config.arms.map(() => ({ impressions: 0, clicks: 0, conversions: 0 }));
    this.shares = new Float64Array(config.arms.length);
    const seed = config.allocation.mode === 'thompson' && config.allocation.seed !== null ? config.allocation.seed : (Math.random() * 2 ** 31) | 0;
    this.rng = new Rng(seed);
    this.stickyCache = new LruCache(100000, 3600 * 1000);
    this.now = hooks.now ?? Date.now;
    this.rebuild();
  }

  get id(): string {
    return this.config.id;
  }

  private get canaryArm(): string | null {
    return this.config.canary?.arm ?? null;
  }

  /** Recompute shares from counts, rollbacks and the canary step. */
  private rebuild(): void {
    const cfg = this.config;
    const canary = this.canaryArm;
    const steps = cfg.canary?.steps ?? [];
    const complete = canary !== null && this.canaryStep >= steps.length - 1;
    const canaryLive = canary !== null && !this.rolledBack.has(canary);
    // thompson: a canary joins the bandit once its ramp is complete; fixed: it keeps the last step's share.
    const canaryApart = canaryLive && !(complete && cfg.allocation.mode === 'thompson');
    this.canaryShare = canaryApart ? steps[Math.min(this.canaryStep, steps.length - 1)] : 0;
    this.others = [];
    for (let i = 0; i < cfg.arms.length; i++) {
      const arm = cfg.arms[i];
      if (this.rolledBack.has(arm)) continue;
      if (canaryApart && arm === canary) continue;
      this.others.push(i);
    }
    const rest = 1 - this.canaryShare;
    this.shares.fill(0);
    if (canaryApart && canary !== null) this.shares[this.armIndex.get(canary)!] = this.canaryShare;
    const k = this.others.length;
    const weights = new Float64Array(k);
    const alloc = cfg.allocation;
    if (alloc.mode === 'fixed') {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += weights[j] = alloc.shares[cfg.arms[this.others[j]]] ?? 0;
      if (sum <= 0) {
        // Every weighted arm was rolled back: the control (never rolled back) takes the rest.
        weights.fill(0);
        weights[this.others.indexOf(this.armIndex.get(cfg.control)!)] = 1;
        sum = 1;
      }
      for (let j = 0; j < k; j++) weights[j] /= sum;
      this.policy = null;
    } else {
      const state: PolicyState = {
        format: 'recsys-bandit-policy',
        version: 1,
        kind: 'ts',
        nArms: k,
        contextDim: 0,
        params: { alpha0: alloc.alpha0, beta0: alloc.beta0, mcSamples: alloc.mcSamples, seed: this.rng.int(2 ** 31) },
        arrays: {
          alpha: this.others.map((i) => alloc.alpha0 + this.counts[i].clicks),
          beta: this.others.map((i) => alloc.beta0 + Math.max(0, this.counts[i].impressions - this.counts[i].clicks)),
        },
        scalars: { updates: 0 },
      };
      this.policy = BernoulliThompson.fromJSON(state);
      const ts = k > 1 ? this.policy.actionProbabilities(NO_CONTEXT, 1) : Float64Array.of(1);
      // A Monte Carlo estimate of 0 would make IPS weights infinite: floor at one draw's worth.
      const floor = alloc.explore > 0 ? 0 : 1 / alloc.mcSamples;
      let sum = 0;
      for (let j = 0; j < k; j++) sum += weights[j] = Math.max(floor, alloc.explore / k + (1 - alloc.explore) * ts[j]);
      for (let j = 0; j < k; j++) weights[j] /= sum;
    }
    this.weights = weights;
    this.cumulative = new Float64Array(k);
    let acc = 0;
    for (let j = 0; j < k; j++) {
      acc += weights[j];
      this.cumulative[j] = acc;
      this.shares[this.others[j]] = rest * weights[j];
    }
  }

  /** Effective traffic share per arm now. */
  shareOf(arm: string): number {
    const i = this.armIndex.get(arm);
    return i === undefined ? 0 : this.shares[i];
  }

  /** Which arm serves this user now. Never touches Redis except for thompson with assignment=user. */
  async assign(userId: string): Promise<Assignment> {
    const cfg = this.config;
    const canary = this.canaryArm;
    if (this.canaryShare > 0 && canary !== null && hash01(`${cfg.salt}\u0000canary\u0000${userId}`) < this.canaryShare) {
      return { experiment: cfg.id, arm: canary, propensity: this.canaryShare, via: 'canary' };
    }
    const rest = 1 - this.canaryShare;
    const alloc = cfg.allocation;
    if (alloc.mode === 'fixed') {
      const j = this.pick(hash01(`${cfg.salt}\u0000${userId}`));
      const arm = cfg.arms[this.others[j]];
      return { experiment: cfg.id, arm, propensity: rest * this.weights[j], via: 'hash' };
    }
    if (alloc.assignment === 'user') return this.stickyDraw(userId, rest);
    return this.draw(rest);
  }

  private pick(u: number): number {
    const c = this.cumulative;
    for (let j = 0; j < c.length - 1; j++) if (u < c[j]) return j;
    return c.length - 1;
  }

  private draw(rest: number): Assignment {
    const alloc = this.config.allocation;
    const k = this.others.length;
    let j: number;
    let via: Assignment['via'] = 'thompson';
    if (alloc.mode === 'thompson' && alloc.explore > 0 && this.rng.next() < alloc.explore) {
      j = this.rng.int(k);
      via = 'explore';
    } else {
      j = k > 1 && this.policy ? this.policy.select(NO_CONTEXT) : 0;
    }
    return { experiment: this.config.id, arm: this.config.arms[this.others[j]], propensity: rest * this.weights[j], via };
  }

  private async stickyDraw(userId: string, rest: number): Promise<Assignment> {
    const alloc = this.config.allocation;
    const ttlMs = alloc.mode === 'thompson' ? alloc.stickySeconds * 1000 : 0;
    const now = this.now();
    const live = (arm: string): boolean => !this.rolledBack.has(arm) && arm !== (this.canaryShare > 0 ? this.canaryArm : null);
    const cached = this.stickyCache.get(userId, now);
    if (cached && cached.expiresAt > now && live(cached.arm)) return { experiment: this.config.id, arm: cached.arm, propensity: cached.propensity, via: 'sticky' };
    const fresh = this.draw(rest);
    const value = `${fresh.arm}\t${fresh.propensity}`;
    const stored = await this.store.sticky(this.config.id, userId, value, ttlMs);
    if (!stored) return fresh; // Redis down: a per-request draw
    const [arm, p] = stored.value.split('\t');
    if (!live(arm) || !this.armIndex.has(arm)) {
      // The stored arm was rolled back (or left the experiment): draw again and keep the new one.
      await this.store.overwriteSticky(this.config.id, userId, value, ttlMs);
      this.stickyCache.set(userId, { arm: fresh.arm, propensity: fresh.propensity, expiresAt: now + ttlMs }, now);
      return fresh;
    }
    const propensity = Number(p);
    this.stickyCache.set(userId, { arm, propensity, expiresAt: now + Math.max(0, stored.ttlMs) }, now);
    return { experiment: this.config.id, arm, propensity, via: value === stored.value ? fresh.via : 'sticky' };
  }

  /** Log a served list. Resolves to whether Redis took it. */
  recordImpression(a: Assignment, userId: string, requestId: string, itemIds: readonly string[], tsMs = this.now()): Promise<boolean> {
    return new Promise((resolve) => this.queueImpression(a, userId, requestId, itemIds, tsMs, resolve));
  }

  /** Log a served list without waiting (the request path): queued, written with the next batch. */
  queueImpression(a: Assignment, userId: string, requestId: string, itemIds: readonly string[], tsMs = this.now(), done?: (ok: boolean) => void): void {
    const cfg = this.config;
    this.store.queueImpression(cfg.id, { requestId, arm: a.arm, propensity: a.propensity, userId, itemIds, tsMs }, this.bucket(tsMs), cfg.streamMaxLen, cfg.recentImpressions, cfg.attributionWindowSeconds * 1000, done);
  }

  private bucket(ms: number): number {
    const b = this.config.bucketSeconds;
    return Math.floor(ms / 1000 / b) * b;
  }

  /**
   * Attribute one event: a click-type event rewards the impression (once), a conversion-type event
   * counts a conversion (once). Returns the kinds counted.
   */
  async attribute(e: { userId: string; itemId: string; type: string; requestId?: string | null; tsMs: number }): Promise<Array<{ kind: 'clk' | 'conv'; attribution: Attribution }>> {
    const cfg = this.config;
    const kinds: Array<'clk' | 'conv'> = [];
    if (cfg.clickEvents.includes(e.type)) kinds.push('clk');
    if (cfg.conversionEvents.includes(e.type)) kinds.push('conv');
    const out: Array<{ kind: 'clk' | 'conv'; attribution: Attribution }> = [];
    for (const kind of kinds) {
      const a = await this.store.attribute(cfg.id, e.userId, e.itemId, e.requestId ?? null, e.tsMs, cfg.attributionWindowSeconds * 1000, kind);
      if (!a || !a.counted) continue;
      if (await this.store.recordReward(cfg.id, kind, a, e.userId, e.itemId, this.bucket(a.impressionMs), cfg.streamMaxLen, e.tsMs)) out.push({ kind, attribution: a });
    }
    return out;
  }

  /**
   * Re-read the shared counts and state, then (act = true) check guardrails and advance the
   * canary, and rebuild the shares. One at a time; a call during a tick waits for it.
   */
  tick(act = true): Promise<void> {
    this.ticking ??= this.runTick(act).finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async runTick(act: boolean): Promise<void> {
    const cfg = this.config;
    const shared = await this.store.read(cfg.id);
    if (!shared) return; // Redis down: keep the last snapshot
    this.counts = cfg.arms.map((arm) => ({
      impressions: Number(shared.stats[`imp:${arm}`] ?? 0),
      clicks: Number(shared.stats[`clk:${arm}`] ?? 0),
      conversions: Number(shared.stats[`conv:${arm}`] ?? 0),
    }));
    const rolled = new Map<string, RollbackInfo>();
    for (const arm of cfg.arms) {
      const raw = shared.state[`rollback:${arm}`];
      if (raw) rolled.set(arm, JSON.parse(raw) as RollbackInfo);
    }
    this.rolledBack = rolled;
    const canary = this.canaryArm;
    if (canary) {
      this.canaryStep = Number(shared.state[`canary:${canary}:step`] ?? 0);
      this.canarySince = Number(shared.state[`canary:${canary}:since`] ?? this.now());
      this.canaryBase = Number(shared.state[`canary:${canary}:base`] ?? 0);
    }
    this.refreshedAt = this.now();
    this.runTests();
    if (act) {
      await this.applyGuardrails();
      await this.advanceCanary();
    }
    this.rebuild();
  }

  private runTests(): void {
    const cfg = this.config;
    const control = this.counts[this.armIndex.get(cfg.control)!];
    this.tests = new Map();
    for (let i = 0; i < cfg.arms.length; i++) {
      const arm = cfg.arms[i];
      if (arm === cfg.control) continue;
      this.tests.set(arm, guardrailTest(this.counts[i], control, cfg.guardrail));
    }
  }

  private async applyGuardrails(): Promise<void> {
    const cfg = this.config;
    if (!cfg.guardrail.enabled) return;
    const control = this.counts[this.armIndex.get(cfg.control)!];
    for (const [arm, t] of this.tests) {
      if (!t.reject || this.rolledBack.has(arm)) continue;
      const c = this.counts[this.armIndex.get(arm)!];
      const now = this.now();
      const armCtr = c.clicks / c.impressions;
      const controlCtr = control.clicks / control.impressions;
      const info: RollbackInfo = {
        arm,
        atMs: now,
        reason: `CTR ${(armCtr * 100).toFixed(3)}% vs control ${(controlCtr * 100).toFixed(3)}% (${((armCtr / controlCtr - 1) * 100).toFixed(1)}%): more than ${(cfg.guardrail.maxRelativeDrop * 100).toFixed(1)}% below the control with mSPRT evidence Λ = ${t.lambda.toFixed(1)} ≥ 1/α = ${t.threshold.toFixed(1)} after ${c.impressions} impressions of the arm and ${control.impressions} of the control`,
        armImpressions: c.impressions,
        controlImpressions: control.impressions,
        armCtr,
        controlCtr,
        lambda: t.lambda,
        threshold: t.threshold,
      };
      const mine = await this.store.rollback(cfg.id, arm, JSON.stringify(info), cfg.streamMaxLen, now);
      this.rolledBack.set(arm, info);
      if (mine) {
        this.hooks.log?.('warn', `experiment ${cfg.id}: rolled back arm '${arm}': ${info.reason}`, { experiment: cfg.id, ...info });
        this.hooks.onRollback?.(info);
      }
    }
  }

  private async advanceCanary(): Promise<void> {
    const c = this.config.canary;
    if (!c || this.rolledBack.has(c.arm) || this.canaryStep >= c.steps.length - 1) return;
    const t = this.tests.get(c.arm);
    if (t?.reject) return;
    const imp = this.counts[this.armIndex.get(c.arm)!].impressions;
    const now = this.now();
    if (imp - this.canaryBase < c.minImpressions || now - this.canarySince < c.minSeconds * 1000) return;
    if (await this.store.advanceCanary(this.config.id, c.arm, this.canaryStep, now, imp)) {
      this.canaryStep++;
      this.canarySince = now;
      this.canaryBase = imp;
      this.hooks.log?.('info', `experiment ${this.config.id}: canary '${c.arm}' advanced to step ${this.canaryStep + 1}/${c.steps.length} (${(c.steps[this.canaryStep] * 100).toFixed(1)}% of traffic) after ${imp} impressions`, { experiment: this.config.id, arm: c.arm, step: this.canaryStep });
      this.hooks.onCanaryAdvance?.(c.arm, this.canaryStep, c.steps[this.canaryStep]);
    }
  }

  isRolledBack(arm: string): boolean {
    return this.rolledBack.has(arm);
  }

  countsOf(arm: string): ArmCounts {
    return { ...this.counts[this.armIndex.get(arm) ?? 0] };
  }

  view(): EngineView {
    const cfg = this.config;
    const control = this.counts[this.armIndex.get(cfg.control)!];
    const controlCtr = control.impressions > 0 ? control.clicks / control.impressions : NaN;
    const alloc = cfg.allocation;
    const arms: ArmView[] = cfg.arms.map((arm, i) => {
      const c = this.counts[i];
      const ctr = c.impressions > 0 ? c.clicks / c.impressions : 0;
      return {
        arm,
        control: arm === cfg.control,
        ...c,
        share: this.shares[i],
        rolledBack: this.rolledBack.get(arm) ?? null,
        ctr,
        ctrCi95: wilson(c.clicks, c.impressions),
        conversionRate: c.impressions > 0 ? c.conversions / c.impressions : 0,
        conversionCi95: wilson(c.conversions, c.impressions),
        lift: arm === cfg.control || !(controlCtr > 0) || c.impressions === 0 ? NaN : ctr / controlCtr - 1,
        guardrail: this.tests.get(arm) ?? null,
        posteriorMean: alloc.mode === 'thompson' ? (alloc.alpha0 + c.clicks) / (alloc.alpha0 + alloc.beta0 + c.impressions) : null,
      };
    });
    const canary = cfg.canary;
    return {
      id: cfg.id,
      mode: alloc.mode,
      control: cfg.control,
      refreshedAt: this.refreshedAt,
      arms,
      canary: canary
        ? {
            arm: canary.arm,
            step: this.canaryStep,
            steps: [...canary.steps],
            share: this.shares[this.armIndex.get(canary.arm)!],
            since: this.canarySince,
            impressionsAtStep: this.counts[this.armIndex.get(canary.arm)!].impressions - this.canaryBase,
            status: this.rolledBack.has(canary.arm) ? 'rolled-back' : this.canaryStep >= canary.steps.length - 1 ? 'complete' : 'ramping',
          }
        : null,
    };
  }
}
