import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseKs } from '../cli/flags.js';
import { formatGateTable, gateFailure, parseMaxDrop } from '../core/eval/gate.js';
import type { EvaluationResult } from '../core/eval/types.js';
import { runEvaluation, type EvalRunResult } from '../core/workflows/eval.js';
import { RecsysError } from '../core/errors.js';

export default class Eval extends BaseCommand {
  static override summary = 'Evaluate trained models on their split, write a report, and optionally gate against a baseline.';

  static override description = `Asks each model for its top-k list for every test user (training items excluded before the cut at
k), and computes precision, recall (÷|R| and ÷min(k,|R|)), NDCG (binary and graded), MAP (both
denominators), MRR and hit rate at every --k, with bootstrap 95% confidence intervals; plus catalogue
coverage, category diversity, novelty and popularity bias. Definitions: docs/metrics.md.

With several --model flags, every model is compared with the first on the same users (paired t-test
and randomization test). The report lands in <out>/<run-id>/ as report.json, report.md and a
self-contained report.html with charts.

--gate <baseline report.json> fails (exit code 10) when a metric dropped by more than its allowed
drop (--max-drop ndcg@10=0.01,recall@10=0.02; default: every ranking metric at the main k may drop
0.005) and prints which ones regressed: use it in CI so a pull request cannot make the model worse.`;

  static override examples = [
    '<%= config.bin %> eval --model models/popularity',
    '<%= config.bin %> eval --model models/popularity --model models/als --k 5,10,20',
    '<%= config.bin %> eval --model models/als --gate reports/baseline/report.json --max-drop ndcg@10=0.01',
    '<%= config.bin %> eval --model models/als --model models/ensemble --ablation --diversity-curve default',
    '<%= config.bin %> eval --model models/als --json | jq ".report.models[0].evaluation.metrics[\\"ndcg@10\\"].mean"',
  ];

  static override flags = {
    store: storeFlag,
    model: Flags.string({ char: 'm', description: 'Trained model directory (repeat to compare; the first is the reference).', multiple: true, required: true }),
    split: Flags.string({ char: 's', description: 'Saved split directory (default: the split the first model was trained on).' }),
    k: Flags.string({ description: 'Cut-offs to compute metrics at.', default: '1,5,10,20' }),
    'main-k': Flags.integer({ description: 'The k for per-user distributions, confidence intervals and comparisons.', default: 10, min: 1 }),
    'relevance-threshold': Flags.string({ description: 'Test pairs with a value below this are not relevant (e.g. 4 for ratings ≥ 4).', default: '0' }),
    bootstrap: Flags.integer({ description: 'Bootstrap resamples for the 95% confidence intervals.', default: 1000, min: 0 }),
    seed: Flags.integer({ description: 'Seed of the bootstrap and randomization tests.', default: 42 }),
    out: Flags.string({ char: 'o', description: 'Parent directory of report runs.', default: 'reports' }),
    label: Flags.string({ description: 'Label appended to the run id (default: the model names).' }),
    gate: Flags.string({ description: 'Baseline report.json to gate against.' }),
    'max-drop': Flags.string({ description: 'Allowed absolute drop per metric, e.g. ndcg@10=0.01,recall@10=0.02.', dependsOn: ['gate'] }),
    ablation: Flags.boolean({ description: 'Ensembles: also evaluate with each member and each rule removed, one at a time, with paired tests against the full ensemble (table and chart in the report).', default: false }),
    'diversity-curve': Flags.string({
      description: 'Ensembles: NDCG@k against category diversity over the λ of the MMR diversity rule; "default" = 1, 0.95, …, 0.5, 0.25, 0, or a list such as 1,0.8,0.5,0.',
    }),
  };

  async run(): Promise<EvalRunResult> {
    const { flags } = await this.parse(Eval);
    const ks = parseKs(flags.k);
    const result = await runEvaluation({
      models: flags.model,
      split: flags.split,
      store: flags.store,
      eval: {
        ks,
        mainK: flags['main-k'],
        relevanceThreshold: Number(flags['relevance-threshold']),
        bootstrapSamples: flags.bootstrap,
        seed: flags.seed,
      },
      reportsDir: flags.out,
      label: flags.label,
      gate: flags.gate ? { baseline: flags.gate, rules: flags['max-drop'] ? parseMaxDrop(flags['max-drop']) : undefined } : undefined,
      progress: this.progress(flags.quiet),
      ablation: flags.ablation,
      ...(flags['diversity-curve'] ? { diversityCurve: parseLambdas(flags['diversity-curve']) } : {}),
    });
    if (!this.jsonEnabled()) this.printSummary(result, flags['main-k']);
    if (result.gate && !result.gate.passed) {
      if (this.jsonEnabled()) this.logJson({ ...result, error: gateFailure(result.gate).toJSON() });
      else process.stderr.write(`${chalk.red('Error')} ${chalk.dim('[RECSYS_ERR_GATE_FAILED]')} the model got worse than the baseline ${flags.gate}\n`);
      this.exit(10);
    }
    return result;
  }

  private printSummary(result: EvalRunResult, k: number): void {
    const { report, paths } = result;
    const s = report.split;
    this.log(`split   ${s.fingerprint}: ${s.trainPairs.toLocaleString()} train / ${s.testPairs.toLocaleString()} test pairs`);
    const names = ['precision', 'recall', 'recall_capped', 'ndcg', 'map', 'map_capped', 'mrr', 'hit_rate'];
    const header = ['model', 'users', ...names.map((n) => `${n}@${k}`), `coverage@${k}`];
    const rows = report.models.map((m) => {
      const e: EvaluationResult = m.evaluation;
      return [m.name, String(e.users.evaluated), ...names.map((n) => fmt(e.metrics[`${n}@${k}`]?.mean)), fmt(e.beyondAccuracy[`coverage@${k}`])];
    });
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    this.log('');
    this.log(chalk.bold(header.map((h, c) => h.padStart(widths[c])).join('  ')));
    for (const r of rows) this.log(r.map((x, c) => x.padStart(widths[c])).join('  '));
    for (const c of report.comparisons.filter((x) => x.metric === `ndcg@${k}`)) {
      this.log(`\n${c.candidate} vs ${c.baseline}: Δ${c.metric} = ${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(4)} [${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}], paired t p=${c.tTestP.toPrecision(3)}, randomization p=${c.randomizationP.toPrecision(3)}`);
    }
    const skipped = report.models[0]?.evaluation.users.skippedNoTest ?? 0;
    if (skipped > 0) this.log(chalk.dim(`(${skipped} users without test items skipped)`));
    for (const a of report.ablation ?? []) {
      this.log(`\nablation of ${a.model} (Δ against the full ensemble, paired t p):`);
      for (const r of a.rows) {
        const key = `ndcg@${a.mainK}`;
        const c = r.comparisons.find((x) => x.metric === key);
        const delta = c ? `  Δ ${c.meanDifference >= 0 ? '+' : ''}${c.meanDifference.toFixed(4)} [${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}] p=${c.tTestP.toPrecision(3)}` : '';
        this.log(`  ${r.variant.padEnd(20)} ${key} ${fmt(r.metrics[key]?.mean)}  coverage ${fmt(r.beyondAccuracy[`coverage@${a.mainK}`])}  diversity ${fmt(r.beyondAccuracy[`diversity@${a.mainK}`])}${delta}`);
      }
      for (const s of a.skipped) this.log(chalk.dim(`  (${s.name} not ablated: ${s.reason})`));
    }
    for (const c of report.diversityCurves ?? []) {
      this.log(`\ndiversity curve of ${c.model}: ${c.points.map((p) => `λ=${p.lambda} ndcg ${p.ndcg.toFixed(4)} div ${fmt(p.diversity ?? undefined)}`).join('; ')}`);
    }
    this.log(`\nreport  ${paths.html}`);
    if (result.gate) this.log(`\n${formatGateTable(result.gate)}`);
  }
}

/** `default` → the standard λ grid; otherwise comma-separated numbers in [0, 1]. */
function parseLambdas(text: string): true | number[] {
  if (text.trim() === '' || text === 'default' || text === 'true') return true;
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--diversity-curve expects 'default' or λ values in [0, 1] separated by commas, got '${text}'. Example: --diversity-curve 1,0.8,0.6,0.4,0.2,0`, { flag: '--diversity-curve' });
  }
  return xs;
}

function fmt(v: number | undefined): string {
  return v === undefined || Number.isNaN(v) ? '-' : v.toFixed(4);
}
