/**
 * `recsys experiments status`: the state of experiments read back from Redis alone (the config
 * each server published, the shared counters and state, the CTR-over-time buckets), computed by
 * the same engine the servers run, read-only (no rollback or canary step is taken from here).
 */
import { RecsysError } from '../errors.js';
import type { ExperimentConfig } from './config.js';
import { ExperimentEngine, type ArmView, type CanaryView } from './engine.js';
import { wilson } from './stats.js';
import type { ExperimentStore } from './store.js';

export interface SeriesPoint {
  /** Bucket start, seconds since the epoch. */
  t: number;
  arm: string;
  impressions: number;
  clicks: number;
  conversions: number;
  ctr: number;
  /** CTR of all impressions up to and including this bucket, with its Wilson 95% interval. */
  cumulativeCtr: number;
  cumulativeCi95: [number, number];
  /** Share of this bucket's impressions that went to the arm. */
  share: number;
}

export interface ExperimentStatus {
  id: string;
  description: string;
  enabled: boolean;
  mode: 'fixed' | 'thompson';
  control: string;
  guardrail: ExperimentConfig['guardrail'];
  attributionWindowSeconds: number;
  totals: { impressions: number; clicks: number; conversions: number };
  arms: ArmView[];
  canary: CanaryView | null;
  bucketSeconds: number;
  series: SeriesPoint[];
  /** Entries in the impression log (XLEN). */
  logEntries: number;
}

export async function experimentStatus(store: ExperimentStore, id: string): Promise<ExperimentStatus> {
  const raw = await store.storedConfig(id);
  if (!raw) {
    const known = await store.registered();
    throw new RecsysError('RECSYS_ERR_USAGE', `no experiment '${id}' under key prefix '${store.keys.prefix}'. Known: ${known.length ? known.sort().join(', ') : 'none (start `recsys serve --experiments <file>` with the same --prefix and Redis)'}`, { flag: '--experiment' });
  }
  const config = JSON.parse(raw) as ExperimentConfig;
  const engine = new ExperimentEngine(config, store);
  await engine.tick(false);
  const view = engine.view();
  const series = seriesOf(config, await store.series(id));
  const logEntries = (await store.call('x_xlen', (r) => r.xlen(store.keys.log(id)))) ?? 0;
  const totals = view.arms.reduce((a, x) => ({ impressions: a.impressions + x.impressions, clicks: a.clicks + x.clicks, conversions: a.conversions + x.conversions }), { impressions: 0, clicks: 0, conversions: 0 });
  return {
    id,
    description: config.description,
    enabled: config.enabled,
    mode: view.mode,
    control: config.control,
    guardrail: config.guardrail,
    attributionWindowSeconds: config.attributionWindowSeconds,
    totals,
    arms: view.arms,
    canary: view.canary,
    bucketSeconds: config.bucketSeconds,
    series,
    logEntries,
  };
}

/** Buckets "<t>|imp|<arm>" → per-arm points in time order, with running CTRs. */
export function seriesOf(config: Pick<ExperimentConfig, 'arms'>, hash: Record<string, string>): SeriesPoint[] {
  const byBucket = new Map<number, Map<string, { imp: number; clk: number; conv: number }>>();
  for (const [field, value] of Object.entries(hash)) {
    const a = field.indexOf('|');
    const b = field.indexOf('|', a + 1);
    if (a <= 0 || b <= a) continue;
    const t = Number(field.slice(0, a));
    const kind = field.slice(a + 1, b) as 'imp' | 'clk' | 'conv';
    const arm = field.slice(b + 1);
    if (!Number.isFinite(t) || !config.arms.includes(arm)) continue;
    let m = byBucket.get(t);
    if (!m) byBucket.set(t, (m = new Map()));
    const c = m.get(arm) ?? { imp: 0, clk: 0, conv: 0 };
    if (kind === 'imp' || kind === 'clk' || kind === 'conv') c[kind] += Number(value);
    m.set(arm, c);
  }
  const out: SeriesPoint[] = [];
  const running = new Map(config.arms.map((arm) => [arm, { imp: 0, clk: 0 }]));
  for (const t of [...byBucket.keys()].sort((x, y) => x - y)) {
    const m = byBucket.get(t)!;
    let total = 0;
    for (const c of m.values()) total += c.imp;
    for (const arm of config.arms) {
      const c = m.get(arm);
      if (!c || c.imp === 0) continue;
      const r = running.get(arm)!;
      r.imp += c.imp;
      r.clk += c.clk;
      out.push({
        t,
        arm,
        impressions: c.imp,
        clicks: c.clk,
        conversions: c.conv,
        ctr: c.clk / c.imp,
        cumulativeCtr: r.clk / r.imp,
        cumulativeCi95: wilson(r.clk, r.imp),
        share: total > 0 ? c.imp / total : 0,
      });
    }
  }
  return out;
}
