import { Flags } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BaseCommand } from '../../cli/base.js';
import { withExperimentStore } from '../../core/experiments/connect.js';
import { renderExperimentsHtml } from '../../core/experiments/html.js';
import { experimentStatus, type ExperimentStatus } from '../../core/experiments/status.js';

export interface ExperimentsStatusResult {
  experiments: ExperimentStatus[];
  html: string | null;
}

const pct = (v: number, d = 2): string => (Number.isFinite(v) ? `${(v * 100).toFixed(d)}%` : '–');

export default class ExperimentsStatus extends BaseCommand {
  static override summary = 'Live statistics of the online experiments: impressions, CTR and conversion per arm with 95% intervals, shares, guardrails, canary.';

  static override description = `Reads what the servers (\`recsys serve --experiments <file>\`) share in Redis — the published
config, the counters every server updates atomically, rollbacks and the canary step, the CTR-over-time
buckets — and prints a table per experiment (or the same as JSON with --json). --html writes a small
self-contained page with each arm's CTR over time and its traffic share over time. Read-only: no
guardrail or canary decision is taken from here.`;

  static override examples = [
    '<%= config.bin %> experiments status',
    '<%= config.bin %> experiments status --experiment models-2026-11 --json',
    '<%= config.bin %> experiments status --html reports/experiments.html --redis-url redis://10.0.0.5:6379 --prefix shop',
  ];

  static override flags = {
    experiment: Flags.string({ char: 'e', description: 'Experiment id (default: every experiment registered under the prefix).', multiple: true }),
    html: Flags.string({ description: 'Also write an HTML page with CTR over time to this file.' }),
    'redis-url': Flags.string({ description: 'Redis the servers use (redis://… or redis-cluster://…).', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379' }),
    prefix: Flags.string({ description: 'Key prefix of the servers (`recsys serve --prefix`).', default: 'recsys' }),
  };

  async run(): Promise<ExperimentsStatusResult> {
    const { flags } = await this.parse(ExperimentsStatus);
    const experiments = await withExperimentStore(flags['redis-url'], flags.prefix, async (store) => {
      const ids = flags.experiment?.length ? flags.experiment : (await store.registered()).sort();
      const out: ExperimentStatus[] = [];
      for (const id of ids) out.push(await experimentStatus(store, id));
      return out;
    });
    let html: string | null = null;
    if (flags.html) {
      html = resolve(flags.html);
      await writeFile(html, renderExperimentsHtml(experiments));
    }
    if (experiments.length === 0) this.say(`no experiment under prefix '${flags.prefix}' (start \`recsys serve --experiments <file>\` with this Redis and prefix)`);
    for (const s of experiments) {
      this.say(`${s.id} (${s.enabled ? 'enabled' : 'disabled'}, ${s.mode}, control ${s.control}): ${s.totals.impressions.toLocaleString('en-US')} impressions, ${s.totals.clicks.toLocaleString('en-US')} clicks`);
      const rows = [['arm', 'impressions', 'clicks', 'CTR [95% CI]', 'conv. [95% CI]', 'lift', 'share', 'guardrail Λ', 'state']];
      for (const a of s.arms) {
        rows.push([
          `${a.arm}${a.control ? '*' : ''}`,
          a.impressions.toLocaleString('en-US'),
          a.clicks.toLocaleString('en-US'),
          `${pct(a.ctr)} [${pct(a.ctrCi95[0])}, ${pct(a.ctrCi95[1])}]`,
          `${pct(a.conversionRate)} [${pct(a.conversionCi95[0])}, ${pct(a.conversionCi95[1])}]`,
          a.control ? '–' : pct(a.lift, 1),
          pct(a.share, 1),
          a.guardrail?.ran ? `${a.guardrail.lambda.toFixed(2)} / ${a.guardrail.threshold.toFixed(0)}` : '–',
          a.rolledBack ? 'ROLLED BACK' : 'live',
        ]);
      }
      const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      for (const r of rows) this.say(`  ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')}`);
      for (const a of s.arms) if (a.rolledBack) this.say(`  ${a.arm} rolled back at ${new Date(a.rolledBack.atMs).toISOString()}: ${a.rolledBack.reason}`);
      if (s.canary) this.say(`  canary ${s.canary.arm}: step ${s.canary.step + 1}/${s.canary.steps.length} (${pct(s.canary.share, 1)} of traffic), ${s.canary.status}`);
      this.say('  * control');
    }
    if (html) this.say(`wrote ${html}`);
    return { experiments, html };
  }
}
