/**
 * report.md: a readable summary of a Report for pull requests and terminals — dataset and split,
 * one table per model of every ranking metric at every k with its bootstrap 95% CI, the models side
 * by side at the main k, beyond-accuracy metrics, paired comparisons with p-values, users
 * evaluated/skipped/empty, timings and the git commit. Output depends only on the Report (no clock,
 * no environment), so the same report always renders to the same text.
 *
 * Also exports the small formatting and metric-ordering helpers the HTML report shares.
 */
import type { EvaluationResult, MetricSummary, Report } from '../eval/types.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by html.ts)

/** Ranking metrics in reading order; names not listed here follow alphabetically. */
export const RANKING_METRIC_ORDER = ['precision', 'recall', 'recall_capped', 'ndcg', 'ndcg_graded', 'map', 'map_capped', 'mrr', 'hit_rate'];
export const BEYOND_METRIC_ORDER = ['coverage', 'diversity', 'novelty', 'popularity_bias'];

/** What each metric name means, with its denominator, for table headers and tooltips. */
export const METRIC_DESCRIPTIONS: Record<string, string> = {
  precision: 'hits in the top k ÷ k',
  recall: 'hits in the top k ÷ |R| (all relevant test items)',
  recall_capped: 'hits in the top k ÷ min(k, |R|)',
  ndcg: 'NDCG with binary gain',
  ndcg_graded: 'NDCG with graded gain 2^rel − 1',
  map: 'average precision ÷ |R|',
  map_capped: 'average precision ÷ min(k, |R|)',
  mrr: 'reciprocal rank of the first hit',
  hit_rate: 'share of users with at least one hit',
  coverage: 'share of the catalogue recommended to anyone',
  diversity: 'intra-list diversity by category',
  novelty: 'mean self-information −log2(popularity) in bits',
  popularity_bias: 'mean training popularity of recommended items',
};

export interface MetricKey {
  name: string;
  k: number;
}

/** 'ndcg@10' → {name: 'ndcg', k: 10}; null when the key has no '@k'. */
export function parseMetricKey(key: string): MetricKey | null {
  const at = key.lastIndexOf('@');
  if (at <= 0) return null;
  const k = Number(key.slice(at + 1));
  if (!Number.isInteger(k) || k <= 0) return null;
  return { name: key.slice(0, at), k };
}

function orderNames(names: Iterable<string>, order: readonly string[]): string[] {
  const set = new Set(names);
  const known = order.filter((n) => set.has(n));
  const rest = [...set].filter((n) => !order.includes(n)).sort();
  return [...known, ...rest];
}

/** Ranking metric names present in any of the evaluations, in reading order. */
export function rankingMetricNames(evals: readonly EvaluationResult[]): string[] {
  const names: string[] = [];
  for (const e of evals) for (const key of Object.keys(e.metrics)) {
    const p = parseMetricKey(key);
    if (p) names.push(p.name);
  }
  return orderNames(names, RANKING_METRIC_ORDER);
}

/** Beyond-accuracy keys present in any evaluation ('coverage@10', …), in reading order. */
export function beyondAccuracyKeys(evals: readonly EvaluationResult[]): string[] {
  const keys = new Set<string>();
  for (const e of evals) for (const key of Object.keys(e.beyondAccuracy)) keys.add(key);
  return [...keys].sort((a, b) => {
    const pa = parseMetricKey(a) ?? { name: a, k: 0 };
    const pb = parseMetricKey(b) ?? { name: b, k: 0 };
    const ia = BEYOND_METRIC_ORDER.indexOf(pa.name);
    const ib = BEYOND_METRIC_ORDER.indexOf(pb.name);
    if (ia !== ib) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    if (pa.name !== pb.name) return pa.name < pb.name ? -1 : 1;
    return pa.k - pb.k;
  });
}

/** All cut-offs of the report, ascending. */
export function reportKs(report: Report): number[] {
  const ks = new Set<number>();
  for (const m of report.models) for (const k of m.evaluation.ks) ks.add(k);
  return [...ks].sort((a, b) => a - b);
}

/** The main k of the report (the first model's; models of one report share it). */
export function reportMainK(report: Report): number {
  return report.models[0]?.evaluation.mainK ?? 10;
}

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Fixed decimals; '–' for a missing value (null in JSON, NaN in memory). */
export function fmtNum(v: number | null | undefined, decimals = 4): string {
  return isNum(v) ? v.toFixed(decimals) : '–';
}

/** Integers with thousands separators. */
export function fmtInt(v: number | null | undefined): string {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : '–';
}

export function hasCi(s: MetricSummary | undefined): s is MetricSummary {
  return !!s && Array.isArray(s.ci95) && isNum(s.ci95[0]) && isNum(s.ci95[1]);
}

/** '0.1234 [0.1100, 0.1350]' (mean and 95% CI), or just the mean when no CI is available. */
export function fmtSummary(s: MetricSummary | undefined, decimals = 4): string {
  if (!s) return '–';
  const mean = fmtNum(s.mean, decimals);
  return hasCi(s) ? `${mean} [${fmtNum(s.ci95[0], decimals)}, ${fmtNum(s.ci95[1], decimals)}]` : mean;
}

/** p-values: 4 decimals, '< 0.0001' below that. */
export function fmtP(p: number | null | undefined): string {
  if (!isNum(p)) return '–';
  return p < 0.0001 ? '< 0.0001' : p.toFixed(4);
}

/** Signed difference with 4 decimals ('+0.0123', '−0.0040'). */
export function fmtSigned(v: number | null | undefined, decimals = 4): string {
  if (!isNum(v)) return '–';
  const s = Math.abs(v).toFixed(decimals);
  return v > 0 ? `+${s}` : v < 0 ? `−${s}` : s;
}

/** Durations: '850 ms', '1.23 s', '2 min 05 s'. */
export function fmtSeconds(s: number | null | undefined): string {
  if (!isNum(s)) return '–';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}

/**
 * Beyond-accuracy metrics mix shares, bits and counts: one formatter per metric with 4 decimals
 * when its largest value is below 10, 2 below 100, else 1, so a column lines up.
 */
export function beyondFormatter(values: ReadonlyArray<number | null | undefined>): (v: number | null | undefined) => string {
  let max = 0;
  for (const v of values) if (isNum(v)) max = Math.max(max, Math.abs(v));
  const decimals = max >= 100 ? 1 : max >= 10 ? 2 : 4;
  return (v) => fmtNum(v, decimals);
}

/** Every value of the beyond-accuracy metric `name` over models and cut-offs. */
export function beyondValues(evals: readonly EvaluationResult[], name: string): number[] {
  const out: number[] = [];
  for (const e of evals) for (const [key, v] of Object.entries(e.beyondAccuracy)) if ((parseMetricKey(key)?.name ?? key) === name) out.push(v);
  return out;
}

/** Beyond-accuracy metric names (coverage, novelty, …) present in any evaluation, in reading order. */
export function beyondAccuracyNames(evals: readonly EvaluationResult[]): string[] {
  const names: string[] = [];
  for (const key of beyondAccuracyKeys(evals)) names.push(parseMetricKey(key)?.name ?? key);
  return orderNames(names, BEYOND_METRIC_ORDER);
}

/** The cut-offs (of `ks`) at which some beyond-accuracy metric was computed; [mainK] if none says. */
export function beyondAccuracyKs(evals: readonly EvaluationResult[], ks: readonly number[], mainK: number): number[] {
  const present = new Set<number>();
  for (const e of evals) for (const key of Object.keys(e.beyondAccuracy)) {
    const p = parseMetricKey(key);
    if (p) present.add(p.k);
  }
  const out = ks.filter((k) => present.has(k));
  return out.length > 0 ? out : [mainK];
}

/** The key of a beyond-accuracy metric at k ('coverage@10'); names without a k are their own key. */
export function beyondKey(evals: readonly EvaluationResult[], name: string, k: number): string | null {
  const withK = `${name}@${k}`;
  for (const e of evals) {
    if (withK in e.beyondAccuracy) return withK;
    if (name in e.beyondAccuracy) return name;
  }
  return null;
}

export function shortCommit(commit: string | null): string {
  return commit ? commit.slice(0, 12) : '';
}

/** A sentence about the git state, e.g. "0123456789ab (with uncommitted changes)". */
export function describeGit(git: Report['git']): string {
  if (!git.commit) return git.dirty === null ? 'not a git checkout' : 'no commit yet';
  return git.dirty ? `${shortCommit(git.commit)} (with uncommitted changes)` : shortCommit(git.commit);
}

/** Timings in a fixed order: the report's own steps, then each model's recommend and metrics time. */
export function timingRows(report: Report): Array<[string, number]> {
  const rows: Array<[string, number]> = Object.keys(report.timings)
    .sort()
    .map((k) => [k.replace(/Seconds$/, ''), report.timings[k] ?? NaN]);
  for (const m of report.models) {
    rows.push([`${m.name}: recommend`, m.evaluation.timings.recommendSeconds]);
    rows.push([`${m.name}: metrics`, m.evaluation.timings.metricsSeconds]);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Markdown escaping

/**
 * Escape text for Markdown prose and table cells: no markup, no HTML, no cell breaks. An `_`
 * between two letters/digits cannot open emphasis (CommonMark), so `recall_capped` stays readable.
 */
export function mdText(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|#~&]/g, (c, offset: number, whole: string) =>
      c === '_' && /[A-Za-z0-9]/.test(whole[offset - 1] ?? '') && /[A-Za-z0-9]/.test(whole[offset + 1] ?? '') ? c : `\\${c}`,
    );
}

/** An inline code span that survives backticks in the text (and pipes inside tables). */
function mdCode(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((s) => s.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function mdCodeBlock(text: string, lang: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((s) => s.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, ...text.split('\n'), fence];
}

function table(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

// ---------------------------------------------------------------------------------------------

export function renderMarkdown(report: Report): string {
  const lines: string[] = [];
  const evals = report.models.map((m) => m.evaluation);
  const ks = reportKs(report);
  const mainK = reportMainK(report);
  const names = rankingMetricNames(evals);
  const push = (...l: string[]): void => {
    lines.push(...l);
  };

  push(`# recsys report ${mdText(report.runId)}`, '');
  push(`- **Created:** ${mdText(report.createdAt)}`);
  push(`- **Git commit:** ${report.git.commit ? mdCode(describeGit(report.git)) : mdText(describeGit(report.git))}`);
  const d = report.dataset;
  push(
    `- **Dataset:** ${mdCode(d.store)}: ${fmtInt(d.nUsers)} users × ${fmtInt(d.nItems)} items, ${fmtInt(d.nnz)} interactions (fingerprint ${mdCode(d.fingerprint)})`,
  );
  const s = report.split;
  push(`- **Split:** ${mdCode(JSON.stringify(s.config) ?? 'null')}: ${fmtInt(s.trainPairs)} train pairs, ${fmtInt(s.testPairs)} test pairs (fingerprint ${mdCode(s.fingerprint)})`);
  push(`- **Models:** ${report.models.map((m) => mdText(m.name)).join(', ') || 'none'}; cut-offs k = ${ks.join(', ')} (main k = ${mainK})`);
  push('');

  push('## Ranking metrics', '');
  push('Mean over evaluated users with a bootstrap 95% confidence interval in brackets.', '');
  if (report.models.length > 1) {
    push(`### All models at k = ${mainK}`, '');
    const rows = names.map((n) => [mdText(n), ...report.models.map((m) => fmtSummary(m.evaluation.metrics[`${n}@${mainK}`]))]);
    push(...table(['metric', ...report.models.map((m) => mdText(m.name))], ['l', ...report.models.map((): 'r' => 'r')], rows), '');
  }
  for (const m of report.models) {
    const e = m.evaluation;
    const mks = [...e.ks].sort((a, b) => a - b);
    push(`### ${mdText(m.name)}`, '');
    const header = ['metric', ...mks.map((k) => (k === e.mainK ? `@${k} (main)` : `@${k}`))];
    const rows = names.map((n) => [mdText(n), ...mks.map((k) => fmtSummary(e.metrics[`${n}@${k}`]))]);
    push(...table(header, ['l', ...mks.map((): 'r' => 'r')], rows), '');
  }
  push('Metric names: ' + names.map((n) => `${mdText(n)} = ${mdText(METRIC_DESCRIPTIONS[n] ?? n)}`).join('; ') + '.', '');

  const bNames = beyondAccuracyNames(evals);
  push('## Beyond accuracy', '');
  if (bNames.length === 0) push('No beyond-accuracy metrics were computed.', '');
  else {
    const bKs = beyondAccuracyKs(evals, ks, mainK);
    const rows: string[][] = [];
    for (const name of bNames) {
      const fmt = beyondFormatter(beyondValues(evals, name));
      for (const m of report.models) {
        const cells = bKs.map((k) => {
          const key = beyondKey([m.evaluation], name, k);
          return key ? fmt(m.evaluation.beyondAccuracy[key]) : '–';
        });
        rows.push([mdText(name), mdText(m.name), ...cells]);
      }
    }
    push(...table(['metric', 'model', ...bKs.map((k) => (k === mainK ? `@${k} (main)` : `@${k}`))], ['l', 'l', ...bKs.map((): 'r' => 'r')], rows), '');
    push('Metric names: ' + bNames.map((n) => `${mdText(n)} = ${mdText(METRIC_DESCRIPTIONS[n] ?? n)}`).join('; ') + '.', '');
  }

  push(...ensembleMarkdown(report, mainK));

  push('## Paired comparisons', '');
  if (report.comparisons.length === 0) push('No paired comparisons (they need two or more models on the same split).', '');
  else {
    const rows = report.comparisons.map((c) => [
      mdText(c.metric),
      mdText(c.baseline),
      mdText(c.candidate),
      fmtSigned(c.meanDifference),
      `[${fmtSigned(c.ci95[0])}, ${fmtSigned(c.ci95[1])}]`,
      fmtP(c.tTestP),
      fmtP(c.randomizationP),
      fmtInt(c.n),
    ]);
    push(...table(['metric', 'baseline', 'candidate', 'Δ mean (candidate − baseline)', '95% CI', 'paired t p', 'randomization p', 'users'], ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'], rows), '');
  }

  push('## Users', '');
  push(
    ...table(
      ['model', 'evaluated', 'skipped (no test items)', 'empty lists (scored 0)'],
      ['l', 'r', 'r', 'r'],
      report.models.map((m) => [mdText(m.name), fmtInt(m.evaluation.users.evaluated), fmtInt(m.evaluation.users.skippedNoTest), fmtInt(m.evaluation.users.emptyLists)]),
    ),
    '',
  );

  push('## Timings', '');
  push(...table(['step', 'time'], ['l', 'r'], timingRows(report).map(([k, v]) => [mdText(k), fmtSeconds(v)])), '');

  push('## Models', '');
  for (const m of report.models) {
    push(`### ${mdText(m.name)}`, '');
    push(`- **Artifact:** ${m.artifact ? mdCode(m.artifact) : 'none (not saved)'}`, '');
    push(...mdCodeBlock(JSON.stringify(m.params, null, 2) ?? '{}', 'json'), '');
  }
  push('---', '', 'Charts (metric@k curves, per-user distributions, long tail) are in `report.html` next to this file.');
  return `${lines.join('\n')}\n`;
}

/** Segments, ablation and the diversity curve (present when `recsys eval` computed them). */
function ensembleMarkdown(report: Report, mainK: number): string[] {
  const lines: string[] = [];
  const withSeg = report.models.filter((m) => m.evaluation.segments);
  if (withSeg.length > 0) {
    lines.push('## Segments', '');
    const metrics = ['ndcg', 'recall', 'map'];
    const userRows = (key: 'byUserHistory' | 'byStrategy'): string[][] =>
      withSeg.flatMap((m) =>
        (m.evaluation.segments?.[key] ?? []).map((r) => [
          mdText(m.name),
          mdText(r.segment),
          fmtInt(r.users),
          ...metrics.map((x) => (r.users > 0 ? fmtSummary(r.metrics[`${x}@${mainK}`]) : '–')),
          fmtNum(r.diversity),
          fmtNum(r.novelty, 2),
          fmtNum(r.coverage),
        ]),
      );
    const header = ['model', 'segment', 'users', ...metrics.map((x) => `${x}@${mainK}`), 'diversity', 'novelty', 'coverage'];
    const align: Array<'l' | 'r'> = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
    lines.push('### By user history (training interactions)', '', ...table(header, align, userRows('byUserHistory')), '');
    if (withSeg.some((m) => (m.evaluation.segments?.byStrategy?.length ?? 0) > 0)) lines.push('### By answering strategy', '', ...table(header, align, userRows('byStrategy')), '');
    lines.push(
      '### By item popularity',
      '',
      'head / mid / tail: items covering the first, second and last third of training interactions; cold: items without any.',
      '',
      ...table(
        ['model', 'bucket', 'items', 'share of training', 'test pairs', `found in top ${mainK}`, 'recall', 'share of slots'],
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
        withSeg.flatMap((m) =>
          (m.evaluation.segments?.byItemPopularity ?? []).map((r) => [mdText(m.name), mdText(r.segment), fmtInt(r.items), fmtNum(r.trainShare), fmtInt(r.testPairs), fmtInt(r.hits), fmtNum(r.recall), fmtNum(r.exposure)]),
        ),
      ),
      '',
    );
  }
  for (const a of report.ablation ?? []) {
    const k = a.mainK;
    lines.push(`## Ablation of ${mdText(a.model)}`, '', 'Each variant removes one member (its weight spread over the others) or one rule; differences are variant − full with paired tests on the same users.', '');
    lines.push(
      ...table(
        ['variant', 'weights', `ndcg@${k}`, 'Δ ndcg', '95% CI', 'paired t p', 'randomization p', 'Δ recall', 'Δ map', 'coverage', 'diversity'],
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        a.rows.map((r) => {
          const c = (m: string) => r.comparisons.find((x) => x.metric === `${m}@${k}`);
          const n = c('ndcg');
          return [
            mdText(r.variant),
            mdText(Object.entries(r.weights).map(([name, w]) => `${name} ${w.toFixed(2)}`).join(', ')),
            fmtSummary(r.metrics[`ndcg@${k}`]),
            n ? fmtSigned(n.meanDifference) : '–',
            n ? `[${fmtSigned(n.ci95[0])}, ${fmtSigned(n.ci95[1])}]` : '–',
            n ? fmtP(n.tTestP) : '–',
            n ? fmtP(n.randomizationP) : '–',
            c('recall') ? fmtSigned(c('recall')?.meanDifference) : '–',
            c('map') ? fmtSigned(c('map')?.meanDifference) : '–',
            fmtNum(r.beyondAccuracy[`coverage@${k}`]),
            fmtNum(r.beyondAccuracy[`diversity@${k}`]),
          ];
        }),
      ),
      '',
    );
    for (const s of a.skipped) lines.push(`- ${mdText(s.name)} not ablated: ${mdText(s.reason)}`);
    if (a.skipped.length > 0) lines.push('');
  }
  for (const c of report.diversityCurves ?? []) {
    const k = c.mainK;
    lines.push(`## Diversity trade-off of ${mdText(c.model)}`, '', 'The MMR diversity rule at each λ (1 = pure relevance).', '');
    lines.push(
      ...table(
        ['λ', `ndcg@${k}`, `recall@${k}`, `diversity@${k}`, `coverage@${k}`],
        ['r', 'r', 'r', 'r', 'r'],
        c.points.map((p) => [String(p.lambda), `${fmtNum(p.ndcg)} [${fmtNum(p.ndcgCi95[0])}, ${fmtNum(p.ndcgCi95[1])}]`, fmtNum(p.recall), fmtNum(p.diversity), fmtNum(p.coverage)]),
      ),
      '',
    );
  }
  return lines;
}
