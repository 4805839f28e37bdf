/**
 * Prometheus metrics of the experiments, registered on the serving app's own registry:
 *
 *  - recsys_experiment_impressions{experiment,arm}        impressions of the arm (all servers, from Redis)
 *  - recsys_experiment_clicks{experiment,arm}             attributed clicks (one per impression at most)
 *  - recsys_experiment_conversions{experiment,arm}        attributed conversions
 *  - recsys_experiment_ctr{experiment,arm,bound}          CTR; bound="estimate"|"lower"|"upper" (Wilson 95%)
 *  - recsys_experiment_conversion_rate{experiment,arm,bound}
 *  - recsys_experiment_share{experiment,arm}              current traffic share (0 after a rollback)
 *  - recsys_experiment_guardrail_lambda{experiment,arm}   mSPRT statistic Λ (rollback at 1/α)
 *  - recsys_experiment_rolled_back{experiment,arm}        1 once the arm is rolled back
 *  - recsys_experiment_canary_step{experiment,arm}        0-based step of the canary ramp
 *  - recsys_experiment_rollbacks_total{experiment,arm}    rollbacks this process made (alert on it)
 *  - recsys_experiment_impressions_logged_total{experiment,arm,result}  this process's impression writes (ok|failed)
 *  - recsys_experiment_rewards_total{experiment,kind}     events attributed by this process
 *  - recsys_experiment_config_reloads_total{result}       experiments file (re)loads: ok | error
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EngineView } from './engine.js';

export class ExperimentMetrics {
  readonly rollbacks: Counter<'experiment' | 'arm'>;
  readonly impressionsLogged: Counter<'experiment' | 'arm' | 'result'>;
  readonly rewards: Counter<'experiment' | 'kind'>;
  readonly configReloads: Counter<'result'>;

  constructor(registry: Registry, views: () => readonly EngineView[]) {
    const registers = [registry];
    const perArm = (name: string, help: string, value: (a: EngineView['arms'][number], v: EngineView) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['experiment', 'arm'],
        registers,
        collect() {
          this.reset();
          for (const v of views()) for (const a of v.arms) this.set({ experiment: v.id, arm: a.arm }, value(a, v));
        },
      });
    };
    perArm('recsys_experiment_impressions', 'Impressions per arm (shared counters in Redis)', (a) => a.impressions);
    perArm('recsys_experiment_clicks', 'Attributed clicks per arm (at most one per impression)', (a) => a.clicks);
    perArm('recsys_experiment_conversions', 'Attributed conversions per arm', (a) => a.conversions);
    perArm('recsys_experiment_share', 'Current traffic share of the arm', (a) => a.share);
    perArm('recsys_experiment_guardrail_lambda', 'mSPRT likelihood ratio of "arm more than maxRelativeDrop below control" (rollback at 1/alpha)', (a) => a.guardrail?.lambda ?? 0);
    perArm('recsys_experiment_rolled_back', '1 once the arm has been rolled back by the guardrail', (a) => (a.rolledBack ? 1 : 0));
    const withBounds = (name: string, help: string, pick: (a: EngineView['arms'][number]) => [number, [number, number]]): void => {
      new Gauge({
        name,
        help,
        labelNames: ['experiment', 'arm', 'bound'],
        registers,
        collect() {
          this.reset();
          for (const v of views()) {
            for (const a of v.arms) {
              const [est, [lo, hi]] = pick(a);
              this.set({ experiment: v.id, arm: a.arm, bound: 'estimate' }, est);
              this.set({ experiment: v.id, arm: a.arm, bound: 'lower' }, lo);
              this.set({ experiment: v.id, arm: a.arm, bound: 'upper' }, hi);
            }
          }
        },
      });
    };
    withBounds('recsys_experiment_ctr', 'Click-through rate per arm with its Wilson 95% interval', (a) => [a.ctr, a.ctrCi95]);
    withBounds('recsys_experiment_conversion_rate', 'Conversions per impression with its Wilson 95% interval', (a) => [a.conversionRate, a.conversionCi95]);
    new Gauge({
      name: 'recsys_experiment_canary_step',
      help: '0-based step of the canary ramp',
      labelNames: ['experiment', 'arm'],
      registers,
      collect() {
        this.reset();
        for (const v of views()) if (v.canary) this.set({ experiment: v.id, arm: v.canary.arm }, v.canary.step);
      },
    });
    this.rollbacks = new Counter({ name: 'recsys_experiment_rollbacks_total', help: 'Arms rolled back by this process\'s guardrail check', labelNames: ['experiment', 'arm'], registers });
    this.impressionsLogged = new Counter({ name: 'recsys_experiment_impressions_logged_total', help: 'Impression writes by this process (failed: Redis unavailable)', labelNames: ['experiment', 'arm', 'result'], registers });
    this.rewards = new Counter({ name: 'recsys_experiment_rewards_total', help: 'Events attributed to an impression by this process', labelNames: ['experiment', 'kind'], registers });
    this.configReloads = new Counter({ name: 'recsys_experiment_config_reloads_total', help: 'Loads of the experiments file', labelNames: ['result'], registers });
  }
}
