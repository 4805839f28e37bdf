/**
 * report.html: one self-contained page that opens offline. Inline CSS, inline SVG charts built by
 * charts.ts, no script, no font, no image and no stylesheet from anywhere else; a
 * Content-Security-Policy of `default-src 'none'` makes the browser refuse any external load even if
 * one slipped in. Every piece of text that comes from the report (model names, params, paths) is
 * HTML-escaped.
 *
 * Charts (each `<svg data-chart="…">`):
 * - `metric-at-k-<metric>` for precision, recall, ndcg, map: mean vs k, one line per model, bootstrap
 *   95% CI whiskers where the evaluation has them;
 * - `distribution-<metric>` for ndcg and recall at the main k: per-user histogram per model;
 * - `long-tail`: items ranked by training popularity (log x) against their share of training
 *   popularity and of recommendations (log y), from EvaluationResult.longTail (per item, or per
 *   bucket of `rankBucketSize` ranks for large catalogues; plotted per log-spaced rank bin when
 *   there are more than LONG_TAIL_PLOT_MAX_POINTS points);
 * - `beyond-accuracy`: one bar panel per beyond-accuracy metric at the main k, one bar per model;
 * - `segments-user-history` / `segments-item-popularity`: NDCG per user-history bucket and recall per
 *   item-popularity bucket (eval/segments.ts), one bar per model;
 * - `ablation-<model>`: change against the full ensemble per removed member or rule (`--ablation`);
 * - `diversity-curve`: NDCG@k against intra-list diversity over the MMR λ (`--diversity-curve`).
 *
 * Tables: ranking metrics at the main k (models side by side, with CIs), every metric at every k
 * per model, beyond-accuracy at every k, paired comparisons, users, timings, configuration.
 */
import type { AblationReport, DiversityCurve, EvaluationResult, Histogram, Report, UserSegmentRow } from '../eval/types.js';
import { barPanelsChart, escapeXml, histogramChart, seriesColor, xyChart, type BarPanel, type HistogramSeries, type XYPoint, type XYSeries } from './charts.js';
import {
  METRIC_DESCRIPTIONS,
  beyondAccuracyKs,
  beyondAccuracyNames,
  beyondFormatter,
  beyondKey,
  beyondValues,
  describeGit,
  fmtInt,
  fmtNum,
  fmtP,
  fmtSeconds,
  fmtSigned,
  hasCi,
  isNum,
  rankingMetricNames,
  reportKs,
  reportMainK,
  timingRows,
} from './markdown.js';
import { stableJson } from './json.js';

const esc = escapeXml;

/** Metrics drawn as metric@k curves, and as per-user histograms at the main k. */
export const CURVE_METRICS = ['precision', 'recall', 'ndcg', 'map'];
export const DISTRIBUTION_METRICS = ['ndcg', 'recall'];
/** Above this many ranked items the long-tail plot averages items into log-spaced rank bins. */
export const LONG_TAIL_PLOT_MAX_POINTS = 600;

// ---------------------------------------------------------------------------------------------
// Chart data

function metricAtKChart(report: Report, metric: string): string {
  const ks = reportKs(report);
  const series: XYSeries[] = report.models.map((m, i) => ({
    name: m.name,
    color: seriesColor(i),
    lineTooltip: `${m.name}: ${metric}@k`,
    points: m.evaluation.ks
      .filter((k) => m.evaluation.metrics[`${metric}@${k}`] !== undefined)
      .sort((a, b) => a - b)
      .map((k): XYPoint => {
        const s = m.evaluation.metrics[`${metric}@${k}`];
        const ci = hasCi(s) ? ` (95% CI ${fmtNum(s.ci95[0])}–${fmtNum(s.ci95[1])})` : '';
        return {
          x: k,
          y: isNum(s?.mean) ? s.mean : NaN,
          lo: hasCi(s) ? s.ci95[0] : undefined,
          hi: hasCi(s) ? s.ci95[1] : undefined,
          tooltip: `${m.name}: ${metric}@${k} = ${fmtNum(s?.mean)}${ci}, ${fmtInt(s?.n)} users`,
        };
      }),
  }));
  return xyChart({
    name: `metric-at-k-${metric}`,
    title: `${metric}@k`,
    description: `Mean ${metric} at each cut-off k for ${report.models.length} model(s), with 95% confidence intervals.`,
    xLabel: 'cut-off k',
    yLabel: `mean ${metric}@k`,
    x: { type: 'point', values: ks },
    y: { type: 'linear', zero: true },
    series,
  });
}

/** Histogram of per-user values: the evaluation's own when present, else 10 bins over [0, 1]. */
function histogramOf(e: EvaluationResult, key: string): Histogram | null {
  const h = e.distributions[key];
  if (h && h.edges.length === h.counts.length + 1 && h.counts.length > 0) return h;
  const values = e.perUser[key];
  if (!values || values.length === 0) return null;
  const bins = 10;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!isNum(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return { edges, counts };
}

function distributionChart(report: Report, metric: string, mainK: number): string {
  const key = `${metric}@${mainK}`;
  const series: HistogramSeries[] = [];
  report.models.forEach((m, i) => {
    const h = histogramOf(m.evaluation, key);
    if (!h) return;
    const total = h.counts.reduce((a, b) => a + b, 0);
    const mean = m.evaluation.metrics[key]?.mean;
    series.push({
      name: m.name,
      color: seriesColor(i),
      bins: h.counts.map((count, b) => {
        const x0 = h.edges[b] ?? NaN;
        const x1 = h.edges[b + 1] ?? NaN;
        const close = b === h.counts.length - 1 ? ']' : ')';
        const share = total > 0 ? ` (${((100 * count) / total).toFixed(1)}%)` : '';
        return { x0, x1, count, tooltip: `${m.name}: ${fmtInt(count)} users${share} with ${key} in [${fmtNum(x0, 2)}, ${fmtNum(x1, 2)}${close}` };
      }),
      mean: isNum(mean) ? { value: mean, tooltip: `${m.name}: mean ${key} = ${fmtNum(mean)}` } : undefined,
    });
  });
  return histogramChart({
    name: `distribution-${metric}`,
    title: `Per-user ${key}`,
    description: `Histogram of ${key} over evaluated users, one bar colour per model; dashed lines mark the means.`,
    xLabel: `${key} of a user`,
    yLabel: 'users',
    series,
  });
}

/**
 * The long tail as consecutive segments of popularity ranks. A segment is one item, or one bucket
 * of `rankBucketSize` consecutive ranks when the evaluator summed a large catalogue.
 */
interface RankedItems {
  /** Segment s covers 0-based ranks [start[s], end[s]). */
  start: number[];
  end: number[];
  /** Training popularity summed over the segment. */
  trainCount: number[];
  /** For each model, recommendations (at the main k) summed over the segment. */
  recCounts: number[][];
  /** Items in the catalogue (end of the last segment). */
  nItems: number;
  /** Whether every segment is a single item (exact distinct-item counts are possible). */
  singleItems: boolean;
}

/**
 * Reads EvaluationResult.longTail, taking the first model that has one as the reference: every
 * model of a report was evaluated on the same split, so point i is the same item(s) in each.
 * Unbucketed arrays are sorted here by popularity (descending, ties by position), so a producer
 * that lists items in storage order still gives a correct plot; bucketed ones are already in rank
 * order and their last bucket is cut to the catalogue size when the dataset says it.
 */
function rankItems(report: Report): RankedItems | null {
  const ref = report.models.find((m) => m.evaluation.longTail.itemPopularity.length > 0);
  if (!ref) return null;
  const pop = ref.evaluation.longTail.itemPopularity;
  const size = Math.max(1, Math.floor(ref.evaluation.longTail.rankBucketSize ?? 1));
  const order = size > 1 ? Array.from(pop.keys()) : Array.from(pop.keys()).sort((a, b) => (pop[b] ?? 0) - (pop[a] ?? 0) || a - b);
  const n = order.length;
  let nItems = n * size;
  const fromDataset = report.dataset.nItems;
  if (size > 1 && isNum(fromDataset) && fromDataset > (n - 1) * size && fromDataset < nItems) nItems = fromDataset;
  return {
    start: order.map((_, s) => s * size),
    end: order.map((_, s) => Math.min(nItems, (s + 1) * size)),
    trainCount: order.map((i) => pop[i] ?? 0),
    recCounts: report.models.map((m) => order.map((i) => m.evaluation.longTail.recommendedCount[i] ?? 0)),
    nItems,
    singleItems: size === 1,
  };
}

/**
 * Groups of segments [from, to) to plot as one point each: every segment for up to
 * LONG_TAIL_PLOT_MAX_POINTS, else log-spaced in rank (40 per decade) so the head stays item-exact.
 */
function segmentGroups(ranked: RankedItems): Array<[number, number]> {
  const n = ranked.start.length;
  if (n <= LONG_TAIL_PLOT_MAX_POINTS) return Array.from({ length: n }, (_, i): [number, number] => [i, i + 1]);
  const groups: Array<[number, number]> = [];
  let from = 0;
  let j = 1;
  while (from < n) {
    let edge = Math.pow(10, j / 40);
    while (edge <= (ranked.end[from] ?? 0)) edge = Math.pow(10, ++j / 40);
    let to = from + 1;
    while (to < n && (ranked.end[to] ?? 0) <= edge) to++;
    groups.push([from, to]);
    from = to;
  }
  return groups;
}

function pct(v: number): string {
  if (v === 0) return '0%';
  const p = v * 100;
  return p >= 1 ? `${p.toFixed(1)}%` : p >= 0.01 ? `${p.toFixed(2)}%` : `${p.toPrecision(2)}%`;
}

/** Log-axis percent ticks: 100%, 10%, 1%, 0.1%, 0.01%. */
function pctTick(v: number): string {
  return `${Number((v * 100).toPrecision(3))}%`;
}

function sumRange(arr: readonly number[], from: number, to: number): number {
  let t = 0;
  for (let i = from; i < to; i++) t += arr[i] ?? 0;
  return t;
}

function longTailChart(report: Report, ranked: RankedItems | null, mainK: number): string {
  const series: XYSeries[] = [];
  if (ranked) {
    const trainTotal = sumRange(ranked.trainCount, 0, ranked.trainCount.length);
    const groups = segmentGroups(ranked).map(([from, to]) => {
      const r0 = ranked.start[from] ?? 0;
      const r1 = ranked.end[to - 1] ?? r0 + 1;
      return { from, to, items: Math.max(1, r1 - r0), x: Math.sqrt((r0 + 1) * r1), label: r1 - r0 <= 1 ? `item ranked ${r0 + 1}` : `items ranked ${r0 + 1}–${r1} (average per item)` };
    });
    series.push({
      name: 'training interactions',
      color: '#6b7280',
      mode: 'line',
      dashed: true,
      lineTooltip: `training popularity: share of all training popularity (${fmtInt(trainTotal)}) per item, by popularity rank`,
      points: groups.map((g) => {
        const share = trainTotal > 0 ? sumRange(ranked.trainCount, g.from, g.to) / g.items / trainTotal : 0;
        return { x: g.x, y: share, tooltip: `${g.label}: ${pct(share)} of training popularity` };
      }),
    });
    report.models.forEach((m, mi) => {
      const counts = ranked.recCounts[mi] ?? [];
      const total = sumRange(counts, 0, counts.length);
      const points: XYPoint[] = [];
      for (const g of groups) {
        const c = sumRange(counts, g.from, g.to);
        if (c <= 0 || total <= 0) continue;
        const share = c / g.items / total;
        const times = g.items === 1 ? `recommended ${fmtInt(c)} times` : `${fmtInt(c)} recommendations in all`;
        points.push({ x: g.x, y: share, tooltip: `${m.name}: ${g.label}: ${pct(share)} of recommendations, ${times}` });
      }
      series.push({ name: m.name, color: seriesColor(mi), mode: 'points', points, pointRadius: 3.5 });
    });
  }
  return xyChart({
    name: 'long-tail',
    title: `Popularity and long tail (top ${mainK})`,
    description: 'Items ranked by training popularity on a log axis against their share of training popularity (dashed line) and of recommendations (points, one colour per model).',
    xLabel: 'item popularity rank in training (1 = most popular, log scale)',
    yLabel: 'share per item (log scale)',
    x: { type: 'log' },
    y: { type: 'log', format: pctTick },
    series,
    width: 1100,
    height: 400,
  });
}

interface LongTailStats {
  /** Distinct items recommended; null when the evaluator summed items into buckets. */
  distinct: number | null;
  /** Share of recommendations going to the 20% most popular items (buckets prorated). */
  headShare: number;
  headItems: number;
}

function longTailStats(ranked: RankedItems | null): LongTailStats[] {
  if (!ranked) return [];
  const headItems = Math.max(1, Math.ceil(0.2 * ranked.nItems));
  return ranked.recCounts.map((counts) => {
    let total = 0;
    let head = 0;
    let distinct = 0;
    counts.forEach((c, s) => {
      const r0 = ranked.start[s] ?? 0;
      const r1 = ranked.end[s] ?? r0 + 1;
      total += c;
      if (c > 0) distinct++;
      if (r1 <= headItems) head += c;
      else if (r0 < headItems) head += (c * (headItems - r0)) / (r1 - r0);
    });
    return { distinct: ranked.singleItems ? distinct : null, headShare: total > 0 ? head / total : NaN, headItems };
  });
}

/** One panel per beyond-accuracy metric at the main k (each metric has its own unit and scale). */
function beyondAccuracyChart(report: Report, mainK: number): string {
  const evals = report.models.map((m) => m.evaluation);
  const panels: BarPanel[] = [];
  for (const name of beyondAccuracyNames(evals)) {
    const key = beyondKey(evals, name, mainK);
    if (!key) continue;
    const fmt = beyondFormatter(beyondValues(evals, name));
    panels.push({
      title: key,
      format: (v: number) => fmt(v),
      bars: report.models.map((m, i) => {
        const v = m.evaluation.beyondAccuracy[key];
        const value = isNum(v) ? v : NaN;
        return { series: m.name, color: seriesColor(i), value, tooltip: `${m.name}: ${key} = ${fmt(value)} (${METRIC_DESCRIPTIONS[name] ?? name})` };
      }),
    });
  }
  return barPanelsChart({
    name: 'beyond-accuracy',
    title: `Beyond-accuracy metrics at k = ${mainK}`,
    description: 'One panel per beyond-accuracy metric (each with its own scale), one bar per model.',
    yLabel: 'value (own scale per panel)',
    panels,
    legend: report.models.map((m, i) => ({ name: m.name, color: seriesColor(i) })),
    width: 1100,
    height: 300,
  });
}

// ---------------------------------------------------------------------------------------------
// Segments, ablation, diversity curve (ensemble evaluation)

function segmentChart(name: string, title: string, description: string, report: Report, buckets: string[], value: (m: Report['models'][number], bucket: string) => number, label: string): string {
  const panels: BarPanel[] = buckets.map((b) => ({
    title: b,
    format: (v: number) => fmtNum(v, 3),
    bars: report.models.map((m, i) => {
      const v = value(m, b);
      return { series: m.name, color: seriesColor(i), value: v, tooltip: `${m.name}: ${label} in ${b} = ${fmtNum(v)}` };
    }),
  }));
  return barPanelsChart({ name, title, description, yLabel: label, panels, legend: report.models.map((m, i) => ({ name: m.name, color: seriesColor(i) })), width: 1100, height: 300 });
}

function userSegmentRows(rows: readonly UserSegmentRow[], name: string, index: number, mainK: number): string[] {
  return rows.map(
    (r) =>
      `<tr>${modelCell(name, index)}<td class="text">${esc(r.segment)}</td><td>${fmtInt(r.users)}</td>` +
      ['ndcg', 'recall', 'map', 'hit_rate'].map((m) => {
        const s = r.metrics[`${m}@${mainK}`];
        return s && r.users > 0 ? `<td>${fmtNum(s.mean)}${hasCi(s) ? `<span class="ci">[${fmtNum(s.ci95[0])}, ${fmtNum(s.ci95[1])}]</span>` : ''}</td>` : '<td>–</td>';
      }).join('') +
      `<td>${fmtNum(r.diversity)}</td><td>${fmtNum(r.novelty, 2)}</td><td>${fmtNum(r.coverage)}</td></tr>`,
  );
}

function segmentSections(report: Report, mainK: number): string[] {
  const withSeg = report.models.map((m, i) => ({ m, i, seg: m.evaluation.segments })).filter((x) => x.seg);
  if (withSeg.length === 0) return [];
  const out: string[] = ['<h2 id="segments">Segments</h2>'];
  const head = [th('model', undefined, 'text'), th('segment', undefined, 'text'), th('users'), th(`ndcg@${mainK}`), th(`recall@${mainK}`), th(`map@${mainK}`), th(`hit_rate@${mainK}`), th('diversity'), th('novelty (bits)'), th('coverage')];
  const buckets = withSeg[0].seg?.byUserHistory.map((r) => r.segment) ?? [];
  out.push(
    `<figure class="wide">${segmentChart('segments-user-history', `ndcg@${mainK} by user history`, 'Mean NDCG per bucket of training interactions of the user, one bar per model.', report, buckets, (m, b) => m.evaluation.segments?.byUserHistory.find((r) => r.segment === b && r.users > 0)?.metrics[`ndcg@${mainK}`]?.mean ?? NaN, `ndcg@${mainK}`)}<figcaption>Users bucketed by their training interactions (fold-in interactions under strong generalization); n/a where a bucket has no users.</figcaption></figure>`,
  );
  out.push('<h3>By user history (training interactions)</h3>');
  out.push(tableHtml(head, withSeg.flatMap(({ m, i, seg }) => userSegmentRows(seg?.byUserHistory ?? [], m.name, i, mainK))));
  const routed = withSeg.filter(({ seg }) => seg?.byStrategy && seg.byStrategy.length > 0);
  if (routed.length > 0) {
    out.push('<h3>By answering strategy</h3>');
    out.push(tableHtml(head, routed.flatMap(({ m, i, seg }) => userSegmentRows(seg?.byStrategy ?? [], m.name, i, mainK))));
  }
  const itemBuckets = withSeg[0].seg?.byItemPopularity.map((r) => r.segment) ?? [];
  out.push(
    `<figure class="wide">${segmentChart('segments-item-popularity', `Recall of test items by item popularity (top ${mainK})`, 'Share of relevant test pairs found in the top k, by the training popularity of the item, one bar per model.', report, itemBuckets, (m, b) => m.evaluation.segments?.byItemPopularity.find((r) => r.segment === b && r.testPairs > 0)?.recall ?? NaN, 'recall')}<figcaption>head / mid / tail: items covering the first, second and last third of training interactions; cold: items without any.</figcaption></figure>`,
  );
  out.push('<h3>By item popularity</h3>');
  out.push(
    tableHtml(
      [th('model', undefined, 'text'), th('bucket', undefined, 'text'), th('items'), th('share of training interactions'), th('test pairs'), th(`found in top ${mainK}`), th('recall'), th('share of top-k slots')],
      withSeg.flatMap(({ m, i, seg }) =>
        (seg?.byItemPopularity ?? []).map(
          (r) =>
            `<tr>${modelCell(m.name, i)}<td class="text">${esc(r.segment)}</td><td>${fmtInt(r.items)}</td><td>${pct(r.trainShare)}</td><td>${fmtInt(r.testPairs)}</td><td>${fmtInt(r.hits)}</td><td>${fmtNum(r.recall)}</td><td>${pct(r.exposure)}</td></tr>`,
        ),
      ),
    ),
  );
  return out;
}

function ablationChart(a: AblationReport, index: number): string {
  const k = a.mainK;
  const rows = a.rows.filter((r) => r.removed);
  const delta = (metric: string) => (r: (typeof rows)[number]): number => r.comparisons.find((c) => c.metric === `${metric}@${k}`)?.meanDifference ?? NaN;
  const full = a.rows.find((r) => !r.removed);
  const beyond = (metric: string) => (r: (typeof rows)[number]): number => (r.beyondAccuracy[`${metric}@${k}`] ?? NaN) - (full?.beyondAccuracy[`${metric}@${k}`] ?? NaN);
  const panels: BarPanel[] = [
    [`Δ ndcg@${k}`, delta('ndcg')],
    [`Δ recall@${k}`, delta('recall')],
    [`Δ coverage@${k}`, beyond('coverage')],
    [`Δ diversity@${k}`, beyond('diversity')],
  ].map(([title, f]) => ({
    title: title as string,
    format: (v: number) => fmtSigned(v, 3),
    bars: rows.map((r, j) => {
      const v = (f as (r: (typeof rows)[number]) => number)(r);
      return { series: r.variant, color: seriesColor(j + 1), value: v, tooltip: `${r.variant}: ${title as string} = ${fmtSigned(v)} against the full ensemble` };
    }),
  }));
  return barPanelsChart({
    name: `ablation-${index}`,
    title: `Ablation of ${a.model}: change when one member or rule is removed`,
    description: 'One panel per metric; each bar is the difference of a variant (one member or rule removed) from the full ensemble.',
    yLabel: 'variant − full',
    panels,
    legend: rows.map((r, j) => ({ name: r.variant, color: seriesColor(j + 1) })),
    width: 1100,
    height: 320,
  });
}

function ablationSections(report: Report): string[] {
  if (!report.ablation || report.ablation.length === 0) return [];
  const out: string[] = ['<h2 id="ablation">Ablation</h2>'];
  report.ablation.forEach((a, index) => {
    const k = a.mainK;
    out.push(`<h3>${esc(a.model)}</h3>`);
    out.push(`<figure class="wide">${ablationChart(a, index)}<figcaption>Below zero: the ensemble loses when the member or rule is removed, so it contributes.</figcaption></figure>`);
    out.push(
      tableHtml(
        [th('variant', undefined, 'text'), th('weights', undefined, 'text'), th(`ndcg@${k}`), th('Δ ndcg', 'variant − full'), th('95% CI'), th('paired t p'), th('randomization p'), th(`Δ recall@${k}`), th(`Δ map@${k}`), th(`coverage@${k}`), th(`diversity@${k}`)],
        a.rows.map((r) => {
          const c = (m: string) => r.comparisons.find((x) => x.metric === `${m}@${k}`);
          const n = c('ndcg');
          const sig = n && isNum(n.tTestP) && isNum(n.randomizationP) && Math.max(n.tTestP, n.randomizationP) < 0.05;
          const cls = n && n.meanDifference > 0 ? 'pos' : n && n.meanDifference < 0 ? 'neg' : '';
          const weights = Object.entries(r.weights).map(([name, w]) => `${name} ${w.toFixed(2)}`).join(', ');
          return (
            `<tr><td class="text">${esc(r.variant)}${n ? (sig ? ' <span class="badge sig">significant</span>' : ' <span class="badge ns">n.s.</span>') : ''}</td><td class="text">${esc(weights)}</td>` +
            `${summaryCell({ metrics: r.metrics } as EvaluationResult, `ndcg@${k}`)}<td class="${cls}">${n ? fmtSigned(n.meanDifference) : '–'}</td>` +
            `<td>${n ? `[${fmtSigned(n.ci95[0])}, ${fmtSigned(n.ci95[1])}]` : '–'}</td><td>${n ? fmtP(n.tTestP) : '–'}</td><td>${n ? fmtP(n.randomizationP) : '–'}</td>` +
            `<td>${c('recall') ? fmtSigned(c('recall')?.meanDifference) : '–'}</td><td>${c('map') ? fmtSigned(c('map')?.meanDifference) : '–'}</td>` +
            `<td>${fmtNum(r.beyondAccuracy[`coverage@${k}`])}</td><td>${fmtNum(r.beyondAccuracy[`diversity@${k}`])}</td></tr>`
          );
        }),
      ),
    );
    if (a.skipped.length > 0) out.push(`<p class="note">Not ablated: ${a.skipped.map((s) => `${esc(s.name)} (${esc(s.reason)})`).join('; ')}.</p>`);
  });
  return out;
}

function diversityCurveChart(curves: readonly DiversityCurve[]): string {
  const k = curves[0]?.mainK ?? 10;
  const series: XYSeries[] = curves.map((c, i) => ({
    name: c.model,
    color: seriesColor(i),
    lineTooltip: `${c.model}: ndcg@${k} against diversity@${k} over λ`,
    points: c.points
      .filter((p) => isNum(p.diversity))
      .map((p): XYPoint => ({
        x: p.diversity as number,
        y: p.ndcg,
        lo: p.ndcgCi95[0],
        hi: p.ndcgCi95[1],
        tooltip: `${c.model}, λ = ${p.lambda}: ndcg@${k} ${fmtNum(p.ndcg)} (95% CI ${fmtNum(p.ndcgCi95[0])}–${fmtNum(p.ndcgCi95[1])}), diversity@${k} ${fmtNum(p.diversity)}, coverage@${k} ${fmtNum(p.coverage)}`,
      })),
  }));
  return xyChart({
    name: 'diversity-curve',
    title: `Diversity trade-off: ndcg@${k} against intra-list diversity over MMR λ`,
    description: 'Each point is the ensemble with the MMR diversity rule at one λ (1 = pure relevance, 0 = pure category diversity); whiskers: 95% CI of NDCG.',
    xLabel: `intra-list category diversity@${k}`,
    yLabel: `ndcg@${k}`,
    series,
    x: { type: 'linear' },
    y: { type: 'linear', zero: false },
    width: 760,
    height: 380,
  });
}

function diversityCurveSections(report: Report): string[] {
  const curves = report.diversityCurves ?? [];
  if (curves.length === 0) return [];
  const k = curves[0].mainK;
  const out: string[] = ['<h2 id="diversity-curve">Diversity trade-off</h2>'];
  out.push(`<figure class="wide">${diversityCurveChart(curves)}<figcaption>Moving left to right lowers λ: lists mix more categories at some cost in accuracy. Hover a point for its λ.</figcaption></figure>`);
  out.push(
    tableHtml(
      [th('model', undefined, 'text'), th('λ'), th(`ndcg@${k}`), th('95% CI'), th(`recall@${k}`), th(`diversity@${k}`), th(`coverage@${k}`)],
      curves.flatMap((c, i) =>
        c.points.map((p) => `<tr>${modelCell(c.model, i)}<td>${p.lambda}</td><td>${fmtNum(p.ndcg)}</td><td>[${fmtNum(p.ndcgCi95[0])}, ${fmtNum(p.ndcgCi95[1])}]</td><td>${fmtNum(p.recall)}</td><td>${fmtNum(p.diversity)}</td><td>${fmtNum(p.coverage)}</td></tr>`),
      ),
    ),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Page

const CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --card: #ffffff; --accent: #4269d0; --good: #15803d; --bad: #b91c1c; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 8px 24px; border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 20px; }
h1 { font-size: 22px; margin: 0; letter-spacing: -0.01em; }
h1 .run { color: var(--muted); font-weight: 500; }
h2 { font-size: 17px; margin: 32px 0 10px; }
h3 { font-size: 14px; margin: 18px 0 8px; }
.meta { color: var(--muted); font-size: 13px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 20px; font-weight: 600; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 500px), 1fr)); gap: 14px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; min-width: 0; }
figure svg.chart { display: block; width: 100%; height: auto; }
/* Wide charts keep a legible size on phones and scroll sideways inside their frame instead. */
figure.wide { overflow-x: auto; }
figure.wide svg.chart { min-width: 760px; }
figcaption { color: var(--muted); font-size: 12px; padding: 4px 6px 2px; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
thead th { background: #f1f5f9; font-weight: 600; color: #374151; position: sticky; top: 0; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: #f8fafc; }
.ci { display: block; color: var(--muted); font-size: 11px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; }
.badge.sig { background: #dcfce7; color: var(--good); }
.badge.ns { background: #f3f4f6; color: var(--muted); }
.pos { color: var(--good); }
.neg { color: var(--bad); }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 14px; align-items: start; }
.stack > * + * { margin-top: 12px; }
td.desc { color: var(--muted); font-size: 12px; white-space: normal; text-align: left; min-width: 220px; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow-x: auto; margin: 0 0 10px; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { body { background: #fff; } figure, .card, .table-wrap { break-inside: avoid; } }
`;

function modelCell(name: string, index: number): string {
  return `<td class="text"><span class="swatch" style="background:${seriesColor(index)}"></span>${esc(name)}</td>`;
}

function tableHtml(head: string[], rows: string[], cls = ''): string {
  return `<div class="table-wrap"><table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function th(text: string, title?: string, cls = ''): string {
  return `<th${cls ? ` class="${cls}"` : ''}${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</th>`;
}

function summaryCell(e: EvaluationResult, key: string): string {
  const s = e.metrics[key];
  if (!s) return '<td>–</td>';
  const ci = hasCi(s) ? `<span class="ci">[${fmtNum(s.ci95[0])}, ${fmtNum(s.ci95[1])}]</span>` : '';
  return `<td>${fmtNum(s.mean)}${ci}</td>`;
}

function card(label: string, value: string, sub: string): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="sub">${sub}</div></div>`;
}

export function renderHtml(report: Report): string {
  const evals = report.models.map((m) => m.evaluation);
  const mainK = reportMainK(report);
  const ks = reportKs(report);
  const names = rankingMetricNames(evals);
  const ranked = rankItems(report);
  const out: string[] = [];

  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="generator" content="recsys">',
    `<title>recsys report ${esc(report.runId)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
  );

  // Header and overview cards
  out.push(
    `<header class="top"><h1>recsys report <span class="run">${esc(report.runId)}</span></h1>` +
      `<div class="meta">created ${esc(report.createdAt)} · git ${esc(describeGit(report.git))}</div></header>`,
  );
  const d = report.dataset;
  const first = report.models[0]?.evaluation;
  const best = report.models
    .map((m, i) => ({ m, i, v: m.evaluation.metrics[`ndcg@${mainK}`]?.mean }))
    .filter((x) => isNum(x.v))
    .sort((a, b) => (b.v ?? 0) - (a.v ?? 0))[0];
  out.push('<section class="cards" aria-label="Overview">');
  out.push(card('Dataset', `${fmtInt(d.nUsers)} × ${fmtInt(d.nItems)}`, `users × items, ${fmtInt(d.nnz)} interactions<br><code>${esc(d.store)}</code>`));
  out.push(card('Split', `${fmtInt(report.split.trainPairs)} / ${fmtInt(report.split.testPairs)}`, `train / test pairs<br><code>${esc(JSON.stringify(report.split.config) ?? 'null')}</code>`));
  out.push(
    card(
      'Users evaluated',
      fmtInt(first?.users.evaluated),
      `${fmtInt(first?.users.skippedNoTest)} skipped (no test items), ${fmtInt(first?.users.emptyLists)} empty lists`,
    ),
  );
  if (best) out.push(card(`Best ndcg@${mainK}`, fmtNum(best.v), `${esc(best.m.name)} of ${report.models.length} model(s)`));
  const gitSub = report.git.commit === null ? esc(describeGit(report.git)) : report.git.dirty ? 'with uncommitted changes' : report.git.dirty === false ? 'clean work tree' : '';
  out.push(card('Git commit', report.git.commit ? report.git.commit.slice(0, 12) : '–', gitSub));
  out.push('</section>');

  // Summary table at the main k
  out.push(`<h2 id="summary">Ranking metrics at k = ${mainK}</h2>`);
  out.push(
    tableHtml(
      [th('metric', undefined, 'text'), ...report.models.map((m, i) => `<th><span class="swatch" style="background:${seriesColor(i)}"></span>${esc(m.name)}</th>`), th('definition', undefined, 'text')],
      names.map(
        (n) =>
          `<tr><td class="text">${esc(`${n}@${mainK}`)}</td>${report.models.map((m) => summaryCell(m.evaluation, `${n}@${mainK}`)).join('')}` +
          `<td class="desc">${esc(METRIC_DESCRIPTIONS[n] ?? '')}</td></tr>`,
      ),
      'summary',
    ),
  );
  out.push('<p class="note">Mean over evaluated users; bootstrap 95% confidence interval below each mean.</p>');

  // Metric@k curves
  out.push('<h2 id="curves">Metrics by cut-off k</h2>');
  out.push('<div class="grid">');
  for (const metric of CURVE_METRICS.filter((n) => names.includes(n))) {
    out.push(`<figure>${metricAtKChart(report, metric)}<figcaption>${esc(METRIC_DESCRIPTIONS[metric] ?? metric)}; whiskers: 95% CI.</figcaption></figure>`);
  }
  out.push('</div>');

  // Per-user distributions
  out.push(`<h2 id="distributions">Per-user distributions at k = ${mainK}</h2>`);
  out.push('<div class="grid">');
  for (const metric of DISTRIBUTION_METRICS.filter((n) => names.includes(n))) {
    out.push(`<figure>${distributionChart(report, metric, mainK)}<figcaption>How ${esc(metric)}@${mainK} is spread over users: a mean can hide that most users get nothing.</figcaption></figure>`);
  }
  out.push('</div>');

  // Long tail
  const stats = longTailStats(ranked);
  // Popularity-related beyond-accuracy metrics at the main k belong next to the long-tail plot.
  const tailKeys = beyondAccuracyNames(evals)
    .filter((n) => n === 'coverage' || n === 'novelty' || n === 'popularity_bias')
    .map((n): [string, string | null] => [n, beyondKey(evals, n, mainK)])
    .filter((x): x is [string, string] => x[1] !== null);
  out.push('<h2 id="long-tail">Popularity and long tail</h2>');
  out.push('<div class="stack">');
  const statsText = stats
    .map(
      (s, i) =>
        `${esc(report.models[i]?.name ?? '')}: ${s.distinct === null ? '' : `${fmtInt(s.distinct)} distinct items, `}` +
        `${isNum(s.headShare) ? pct(s.headShare) : '–'} of recommendations to the ${fmtInt(s.headItems)} most popular items (top 20%)`,
    )
    .join('; ');
  out.push(
    `<figure class="wide">${longTailChart(report, ranked, mainK)}<figcaption>Points above the dashed line are recommended more than their training popularity; a model that only recommends the head shows points at the far left only.${statsText ? ` ${statsText}.` : ''}</figcaption></figure>`,
  );
  out.push(
    tableHtml(
      [th('model', undefined, 'text'), th('distinct items recommended'), th('share to top 20% items'), ...tailKeys.map(([name, key]) => th(key, METRIC_DESCRIPTIONS[name]))],
      report.models.map(
        (m, i) =>
          `<tr>${modelCell(m.name, i)}<td>${fmtInt(stats[i]?.distinct)}</td><td>${isNum(stats[i]?.headShare) ? pct(stats[i]?.headShare ?? 0) : '–'}</td>` +
          `${tailKeys.map(([name, key]) => `<td>${beyondFormatter(beyondValues(evals, name))(m.evaluation.beyondAccuracy[key])}</td>`).join('')}</tr>`,
      ),
    ),
  );
  out.push('</div>');

  // Beyond accuracy
  out.push('<h2 id="beyond-accuracy">Beyond accuracy</h2>');
  const bNames = beyondAccuracyNames(evals);
  out.push(`<figure class="wide">${beyondAccuracyChart(report, mainK)}<figcaption>${bNames.map((n) => `${esc(n)}: ${esc(METRIC_DESCRIPTIONS[n] ?? n)}`).join(' · ')}</figcaption></figure>`);
  if (bNames.length > 0) {
    const bKs = beyondAccuracyKs(evals, ks, mainK);
    out.push('<h3>At every cut-off</h3>');
    const rows: string[] = [];
    for (const name of bNames) {
      const fmt = beyondFormatter(beyondValues(evals, name));
      report.models.forEach((m, i) => {
        const cells = bKs.map((k) => {
          const key = beyondKey([m.evaluation], name, k);
          return `<td>${key ? fmt(m.evaluation.beyondAccuracy[key]) : '–'}</td>`;
        });
        rows.push(`<tr><td class="text" title="${esc(METRIC_DESCRIPTIONS[name] ?? name)}">${esc(name)}</td>${modelCell(m.name, i)}${cells.join('')}</tr>`);
      });
    }
    out.push(tableHtml([th('metric', undefined, 'text'), th('model', undefined, 'text'), ...bKs.map((k) => th(k === mainK ? `@${k} (main)` : `@${k}`))], rows));
  }

  out.push(...segmentSections(report, mainK));
  out.push(...ablationSections(report));
  out.push(...diversityCurveSections(report));

  // Paired comparisons
  out.push('<h2 id="comparisons">Paired comparisons</h2>');
  if (report.comparisons.length === 0) out.push('<p class="note">No paired comparisons: they need two or more models evaluated on the same split.</p>');
  else {
    out.push(
      tableHtml(
        [th('metric', undefined, 'text'), th('baseline', undefined, 'text'), th('candidate', undefined, 'text'), th('Δ mean', 'candidate − baseline'), th('95% CI'), th('paired t p'), th('randomization p'), th('users'), th('at 5%', undefined, 'text')],
        report.comparisons.map((c) => {
          const sig = isNum(c.tTestP) && isNum(c.randomizationP) && Math.max(c.tTestP, c.randomizationP) < 0.05;
          const cls = isNum(c.meanDifference) && c.meanDifference > 0 ? 'pos' : isNum(c.meanDifference) && c.meanDifference < 0 ? 'neg' : '';
          return (
            `<tr><td class="text">${esc(c.metric)}</td><td class="text">${esc(c.baseline)}</td><td class="text">${esc(c.candidate)}</td>` +
            `<td class="${cls}">${fmtSigned(c.meanDifference)}</td><td>[${fmtSigned(c.ci95[0])}, ${fmtSigned(c.ci95[1])}]</td>` +
            `<td>${fmtP(c.tTestP)}</td><td>${fmtP(c.randomizationP)}</td><td>${fmtInt(c.n)}</td>` +
            `<td class="text">${sig ? '<span class="badge sig">significant</span>' : '<span class="badge ns">not significant</span>'}</td></tr>`
          );
        }),
      ),
    );
    out.push('<p class="note">Significant when both the paired t-test and the randomization (sign-flip) test give p &lt; 0.05.</p>');
  }

  // All metrics at every k, per model
  out.push('<h2 id="all-metrics">All metrics by cut-off</h2>');
  report.models.forEach((m, i) => {
    const e = m.evaluation;
    const mks = [...e.ks].sort((a, b) => a - b);
    out.push(`<h3><span class="swatch" style="background:${seriesColor(i)}"></span>${esc(m.name)}</h3>`);
    out.push(
      tableHtml(
        [th('metric', undefined, 'text'), ...mks.map((k) => th(k === e.mainK ? `@${k} (main)` : `@${k}`))],
        names.map((n) => `<tr><td class="text" title="${esc(METRIC_DESCRIPTIONS[n] ?? n)}">${esc(n)}</td>${mks.map((k) => summaryCell(e, `${n}@${k}`)).join('')}</tr>`),
      ),
    );
  });

  // Users and timings
  out.push('<h2 id="run">Users and timings</h2>');
  out.push('<div class="two">');
  out.push(
    tableHtml(
      [th('model', undefined, 'text'), th('evaluated'), th('skipped (no test items)'), th('empty lists (scored 0)')],
      report.models.map((m, i) => `<tr>${modelCell(m.name, i)}<td>${fmtInt(m.evaluation.users.evaluated)}</td><td>${fmtInt(m.evaluation.users.skippedNoTest)}</td><td>${fmtInt(m.evaluation.users.emptyLists)}</td></tr>`),
    ),
  );
  out.push(tableHtml([th('step', undefined, 'text'), th('time')], timingRows(report).map(([k, v]) => `<tr><td class="text">${esc(k)}</td><td>${fmtSeconds(v)}</td></tr>`)));
  out.push('</div>');

  // Configuration
  out.push('<h2 id="config">Configuration</h2>');
  out.push('<div class="two">');
  out.push(
    `<div><h3>Dataset and split</h3><pre>${esc(
      stableJson({ dataset: report.dataset, split: report.split, ks, mainK }).trimEnd(),
    )}</pre></div>`,
  );
  out.push(
    `<div><h3>Models</h3>${report.models
      .map((m) => `<pre>${esc(stableJson({ name: m.name, artifact: m.artifact, params: m.params }).trimEnd())}</pre>`)
      .join('')}</div>`,
  );
  out.push('</div>');

  out.push(`<footer>Generated by recsys · run ${esc(report.runId)} · report format ${esc(report.format)} v${esc(String(report.version))}. This file is self-contained and works offline.</footer>`);
  out.push('</main>', '</body>', '</html>', '');
  return out.join('\n');
}
