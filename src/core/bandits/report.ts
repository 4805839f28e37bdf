/**
 * Reports of `recsys simulate`: report.json (the SimulationReport verbatim, stable key order),
 * report.md and a self-contained report.html, written together into reports/<run-id>/.
 *
 * The HTML follows the eval report's conventions (../report/html.ts): inline CSS and SVG only, a
 * Content-Security-Policy of `default-src 'none'`, every chart an `<svg data-chart="…" role="img">`
 * with a title, axis labels and a `<title>` tooltip on every plotted mark (`class="mark …"`).
 * Charts come from ../report/charts.ts where it has the kind (xyChart for log–log regret and the
 * replay curve); the two it lacks are drawn here with its scales, ticks and palette:
 * - `bandChart`: lines with a shaded band (cumulative regret and running CTR, mean ± 95% band over
 *   seeded runs);
 * - `forestChart`: one row per estimator, point estimate with its 95% CI, and vertical reference
 *   lines (the logging policy's observed value, the target policy's on-policy truth with its CI).
 *
 * Synthetic runs draw `regret`, `regret-loglog` and `ctr`; logged runs draw `estimates` and, with
 * replay, `replay`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import { escapeXml, linearTickFormat, niceDomain, scaleLinear, seriesColor, textWidth, xyChart, type XYSeries } from '../report/charts.js';
import type { GitInfo } from '../report/git.js';
import { stableJson } from '../report/json.js';
import { describeGit, fmtInt, fmtNum, fmtSeconds, isNum, mdText } from '../report/markdown.js';
import { ESTIMATOR_DESCRIPTIONS, type EstimatorName } from './estimators/core.js';
import type { DistributionMethod, LogSummary } from './logs/index.js';
import type { OfflineResult } from './offline.js';
import type { SyntheticResult } from './simulate.js';

export const SIMULATION_REPORT_FORMAT = 'recsys-simulate-report';
export const SIMULATION_REPORT_FILES = { json: 'report.json', markdown: 'report.md', html: 'report.html' } as const;

export interface LoggedPolicyInfo {
  /** 'ts', 'ucb', …, or 'fixed' for a distribution estimated from a target log. */
  name: string;
  label: string;
  description: string;
  params: Record<string, number | string | boolean>;
}

/** The target policy's own log: its distribution was estimated from it, its mean is the truth. */
export interface TargetLogInfo {
  log: LogSummary;
  method: DistributionMethod;
  onPolicy: { value: number; ci95: [number, number]; n: number };
}

export interface EstimateComparison {
  estimator: EstimatorName;
  /** estimate − truth. */
  error: number;
  /** |estimate − truth| / truth. */
  relativeError: number;
  /** Whether the truth lies in the estimate's 95% CI. */
  truthInCi: boolean;
  /** Whether the two 95% CIs overlap. */
  cisOverlap: boolean;
}

export interface LoggedSection {
  log: LogSummary;
  policy: LoggedPolicyInfo;
  target: TargetLogInfo | null;
  options: {
    estimators: EstimatorName[];
    trainFraction: number;
    clip: number | null;
    rewardModel: string;
    rewardLambda: number;
    bootstrapSamples: number;
    seed: number;
    assumeUniform: boolean;
  };
  result: OfflineResult;
  comparison: EstimateComparison[];
}

export interface SimulationReport {
  format: typeof SIMULATION_REPORT_FORMAT;
  version: 1;
  runId: string;
  createdAt: string;
  git: GitInfo;
  mode: 'synthetic' | 'logged';
  synthetic: SyntheticResult | null;
  logged: LoggedSection | null;
  timings: Record<string, number>;
}

const esc = escapeXml;
const TEXT = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';
const AXIS = '#9ca3af';
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif";

function r2(v: number): string {
  const x = Math.round(v * 100) / 100;
  return Object.is(x, -0) ? '0' : String(x);
}

/** Compact number for tooltips: 4 significant digits, thousands separators for large values. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

// ---------------------------------------------------------------------------------------------
// Shared SVG pieces (same structure and classes as ../report/charts.ts)

function svgOpen(name: string, title: string, description: string, width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${esc(name)}" role="img" aria-label="${esc(`${title}. ${description}`)}"` +
    ` viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" preserveAspectRatio="xMidYMid meet">` +
    `<title>${esc(title)}</title><g font-family="${FONT}" font-size="11">` +
    `<text class="chart-title" x="12" y="22" font-size="14" font-weight="600" fill="${TEXT}">${esc(title)}</text>`
  );
}

interface LegendItem {
  name: string;
  color: string;
  dashed?: boolean;
  band?: boolean;
}

function legend(items: readonly LegendItem[], x0: number, y0: number, maxWidth: number): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  let x = 0;
  let row = 0;
  const parts: string[] = [];
  for (const it of items) {
    const w = 22 + textWidth(it.name) + 16;
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      row++;
    }
    const cx = x0 + x;
    const cy = y0 + row * 18;
    const swatch = it.band
      ? `<rect x="${r2(cx)}" y="${r2(cy - 6)}" width="16" height="12" fill="${it.color}" fill-opacity="0.2"/>`
      : `<line x1="${r2(cx)}" y1="${r2(cy)}" x2="${r2(cx + 16)}" y2="${r2(cy)}" stroke="${it.color}" stroke-width="2.5"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
    parts.push(`<g class="legend-item">${swatch}<text x="${r2(cx + 22)}" y="${r2(cy)}" dominant-baseline="central" fill="${TEXT}">${esc(it.name)}</text></g>`);
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: (row + 1) * 18 };
}

function yGrid(ticks: readonly number[], y: (v: number) => number, fmt: (v: number) => string, x0: number, x1: number, label: string, midY: number): string {
  const parts = ['<g class="axis axis-y">'];
  for (const t of ticks) {
    parts.push(`<line x1="${r2(x0)}" y1="${r2(y(t))}" x2="${r2(x1)}" y2="${r2(y(t))}" stroke="${GRID}"/>`);
    parts.push(`<text x="${r2(x0 - 6)}" y="${r2(y(t))}" text-anchor="end" dominant-baseline="central" fill="${MUTED}">${esc(fmt(t))}</text>`);
  }
  parts.push(`<text class="axis-label" transform="translate(16,${r2(midY)}) rotate(-90)" text-anchor="middle" fill="${TEXT}">${esc(label)}</text></g>`);
  return parts.join('');
}

function xAxisLine(ticks: readonly number[], x: (v: number) => number, fmt: (v: number) => string, x0: number, x1: number, yPos: number, label: string, labelY: number): string {
  const parts = ['<g class="axis axis-x">', `<line x1="${r2(x0)}" y1="${r2(yPos)}" x2="${r2(x1)}" y2="${r2(yPos)}" stroke="${AXIS}"/>`];
  const widest = Math.max(0, ...ticks.map((t) => textWidth(fmt(t))));
  const spacing = ticks.length > 1 ? Math.abs(x(ticks[1]) - x(ticks[0])) : Infinity;
  const every = Math.max(1, Math.ceil((widest + 8) / Math.max(1, spacing)));
  ticks.forEach((t, i) => {
    if (i % every !== 0) return;
    parts.push(`<line x1="${r2(x(t))}" y1="${r2(yPos)}" x2="${r2(x(t))}" y2="${r2(yPos + 5)}" stroke="${AXIS}"/>`);
    parts.push(`<text x="${r2(x(t))}" y="${r2(yPos + 17)}" text-anchor="middle" fill="${MUTED}">${esc(fmt(t))}</text>`);
  });
  parts.push(`<text class="axis-label" x="${r2((x0 + x1) / 2)}" y="${r2(labelY)}" text-anchor="middle" fill="${TEXT}">${esc(label)}</text></g>`);
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Band chart

export interface BandSeries {
  name: string;
  color: string;
  x: readonly number[];
  mean: readonly number[];
  lo?: readonly number[];
  hi?: readonly number[];
  /** Tooltip of the line. */
  tooltip: string;
  /** Tooltip of the band. */
  bandTooltip?: string;
  dashed?: boolean;
}

export interface BandChartSpec {
  name: string;
  title: string;
  description: string;
  xLabel: string;
  yLabel: string;
  series: readonly BandSeries[];
  /** Horizontal reference lines. */
  refs?: ReadonlyArray<{ y: number; label: string; color: string }>;
  width?: number;
  height?: number;
  yFormat?: (v: number) => string;
  /** Start the y axis at 0 (default true; false fits it to the data). */
  zero?: boolean;
}

/** Lines over a shared x axis, each with an optional shaded band between lo and hi. */
export function bandChart(spec: BandChartSpec): string {
  const width = spec.width ?? 560;
  const height = spec.height ?? 340;
  const items: LegendItem[] = spec.series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed }));
  for (const r of spec.refs ?? []) items.push({ name: r.label, color: r.color, dashed: true });
  const leg = legend(items, 12, 44, width - 24);
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const ys: number[] = [];
  const xs: number[] = [];
  for (const s of spec.series) {
    s.x.forEach((xv, i) => {
      if (!finite(xv) || !finite(s.mean[i])) return;
      xs.push(xv);
      ys.push(s.mean[i]);
      if (finite(s.lo?.[i])) ys.push(s.lo?.[i] ?? 0);
      if (finite(s.hi?.[i])) ys.push(s.hi?.[i] ?? 0);
    });
  }
  for (const r of spec.refs ?? []) if (finite(r.y)) ys.push(r.y);
  const yLo = spec.zero === false && ys.length ? Math.min(...ys) : Math.min(0, ...ys);
  let yHi = ys.length ? Math.max(...ys) : 1;
  if (yHi <= yLo) yHi = yLo + 1;
  const yDomain = niceDomain(yLo, yHi, 5);
  const top = 44 + leg.height + 6;
  const bottom = 50;
  const probe = scaleLinear(yDomain, [height - bottom, top]);
  const yTicks = probe.ticks(5);
  const yFmt = spec.yFormat ?? linearTickFormat(yTicks);
  const left = 30 + Math.max(16, ...yTicks.map((t) => textWidth(yFmt(t))));
  const right = width - 18;
  const y = scaleLinear(yDomain, [height - bottom, top]);
  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const xDomain = niceDomain(Math.min(0, xLo), xHi > xLo ? xHi : xLo + 1, 6);
  const x = scaleLinear(xDomain, [left, right]);
  const xTicks = x.ticks(6);
  const xFmt = x.format(xTicks);

  const parts = [svgOpen(spec.name, spec.title, spec.description, width, height), leg.svg];
  parts.push(yGrid(yTicks, y, yFmt, left, right, spec.yLabel, (top + height - bottom) / 2));
  parts.push(xAxisLine(xTicks, x, xFmt, left, right, height - bottom, spec.xLabel, height - 10));
  if (xs.length === 0) parts.push(`<text class="empty-note" x="${r2((left + right) / 2)}" y="${r2((top + height - bottom) / 2)}" text-anchor="middle" fill="${MUTED}" font-style="italic">no data</text>`);
  // Bands first, lines on top.
  for (const s of spec.series) {
    if (!s.lo || !s.hi) continue;
    const idx = s.x.map((_, i) => i).filter((i) => finite(s.x[i]) && finite(s.lo?.[i]) && finite(s.hi?.[i]));
    if (idx.length < 2) continue;
    const upper = idx.map((i, k) => `${k === 0 ? 'M' : 'L'}${r2(x(s.x[i]))},${r2(y(s.hi?.[i] ?? 0))}`).join('');
    const lower = [...idx].reverse().map((i) => `L${r2(x(s.x[i]))},${r2(y(s.lo?.[i] ?? 0))}`).join('');
    parts.push(`<path class="band" data-series="${esc(s.name)}" d="${upper}${lower}Z" fill="${s.color}" fill-opacity="0.18" stroke="none"><title>${esc(s.bandTooltip ?? `${s.name}: 95% band`)}</title></path>`);
  }
  for (const r of spec.refs ?? []) {
    if (!finite(r.y)) continue;
    parts.push(
      `<line class="ref" x1="${r2(left)}" y1="${r2(y(r.y))}" x2="${r2(right)}" y2="${r2(y(r.y))}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="5 4"><title>${esc(`${r.label}: ${fmtValue(r.y)}`)}</title></line>`,
    );
  }
  for (const s of spec.series) {
    const pts = s.x.map((xv, i) => [xv, s.mean[i]] as const).filter(([a, b]) => finite(a) && finite(b));
    if (pts.length === 0) continue;
    const d = pts.map(([a, b], k) => `${k === 0 ? 'M' : 'L'}${r2(x(a))},${r2(y(b))}`).join('');
    parts.push(
      `<g class="series" data-series="${esc(s.name)}"><path class="mark line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="5 4"' : ''}><title>${esc(s.tooltip)}</title></path></g>`,
    );
  }
  parts.push('</g></svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Forest chart

export interface ForestRow {
  label: string;
  value: number;
  lo: number;
  hi: number;
  color: string;
  tooltip: string;
}

export interface ForestChartSpec {
  name: string;
  title: string;
  description: string;
  xLabel: string;
  rows: readonly ForestRow[];
  /** Vertical reference lines, optionally with a shaded interval. */
  refs?: ReadonlyArray<{ x: number; lo?: number; hi?: number; label: string; color: string }>;
  width?: number;
}

/** One row per estimate: a point with its CI whisker, on a shared value axis. */
export function forestChart(spec: ForestChartSpec): string {
  const width = spec.width ?? 1100;
  const rowH = 34;
  const refs = spec.refs ?? [];
  const leg = legend(
    refs.map((r) => ({ name: r.label, color: r.color, dashed: true })),
    12,
    44,
    width - 24,
  );
  const top = 44 + leg.height + 10;
  const height = top + Math.max(1, spec.rows.length) * rowH + 50;
  const labelW = 16 + Math.max(40, ...spec.rows.map((r) => textWidth(r.label, 12)));
  const left = labelW + 12;
  const right = width - 24;
  const vals: number[] = [];
  for (const r of spec.rows) for (const v of [r.value, r.lo, r.hi]) if (Number.isFinite(v)) vals.push(v);
  for (const r of refs) for (const v of [r.x, r.lo, r.hi]) if (v !== undefined && Number.isFinite(v)) vals.push(v);
  let lo = vals.length ? Math.min(0, ...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  if (hi <= lo) hi = lo + 1;
  [lo, hi] = niceDomain(lo, hi, 6);
  const x = scaleLinear([lo, hi], [left, right]);
  const ticks = x.ticks(6);
  const fmt = x.format(ticks);
  const bottomY = top + spec.rows.length * rowH;
  const parts = [svgOpen(spec.name, spec.title, spec.description, width, height), leg.svg];
  // Vertical grid.
  parts.push('<g class="axis axis-x">');
  for (const t of ticks) {
    parts.push(`<line x1="${r2(x(t))}" y1="${r2(top - 4)}" x2="${r2(x(t))}" y2="${r2(bottomY)}" stroke="${GRID}"/>`);
    parts.push(`<text x="${r2(x(t))}" y="${r2(bottomY + 17)}" text-anchor="middle" fill="${MUTED}">${esc(fmt(t))}</text>`);
  }
  parts.push(`<line x1="${r2(left)}" y1="${r2(bottomY)}" x2="${r2(right)}" y2="${r2(bottomY)}" stroke="${AXIS}"/>`);
  parts.push(`<text class="axis-label" x="${r2((left + right) / 2)}" y="${r2(height - 10)}" text-anchor="middle" fill="${TEXT}">${esc(spec.xLabel)}</text></g>`);
  for (const r of refs) {
    if (!Number.isFinite(r.x)) continue;
    if (r.lo !== undefined && r.hi !== undefined && Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.hi > r.lo) {
      parts.push(
        `<rect class="ref-band" x="${r2(x(r.lo))}" y="${r2(top - 4)}" width="${r2(x(r.hi) - x(r.lo))}" height="${r2(bottomY - top + 4)}" fill="${r.color}" fill-opacity="0.12"><title>${esc(`${r.label}: 95% CI ${fmtValue(r.lo)}–${fmtValue(r.hi)}`)}</title></rect>`,
      );
    }
    parts.push(
      `<line class="ref" x1="${r2(x(r.x))}" y1="${r2(top - 4)}" x2="${r2(x(r.x))}" y2="${r2(bottomY)}" stroke="${r.color}" stroke-width="2" stroke-dasharray="5 4"><title>${esc(`${r.label}: ${fmtValue(r.x)}`)}</title></line>`,
    );
  }
  spec.rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    const g = [`<g class="series" data-series="${esc(r.label)}">`];
    g.push(`<text x="12" y="${r2(cy)}" dominant-baseline="central" font-size="12" fill="${TEXT}">${esc(r.label)}</text>`);
    if (Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.hi > r.lo) {
      g.push(
        `<g class="whisker" stroke="${r.color}" stroke-width="2"><line x1="${r2(x(r.lo))}" y1="${r2(cy)}" x2="${r2(x(r.hi))}" y2="${r2(cy)}"/>` +
          `<line x1="${r2(x(r.lo))}" y1="${r2(cy - 6)}" x2="${r2(x(r.lo))}" y2="${r2(cy + 6)}"/><line x1="${r2(x(r.hi))}" y1="${r2(cy - 6)}" x2="${r2(x(r.hi))}" y2="${r2(cy + 6)}"/></g>`,
      );
    }
    if (Number.isFinite(r.value)) {
      g.push(`<circle class="mark point" cx="${r2(x(r.value))}" cy="${r2(cy)}" r="5.5" fill="${r.color}" stroke="#fff" stroke-width="1.5"><title>${esc(r.tooltip)}</title></circle>`);
    } else {
      g.push(`<text x="${r2(left + 6)}" y="${r2(cy)}" dominant-baseline="central" fill="${MUTED}" font-style="italic">not available</text>`);
    }
    g.push('</g>');
    parts.push(g.join(''));
  });
  parts.push('</g></svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Charts of a report

function regretChart(s: SyntheticResult): string {
  return bandChart({
    name: 'regret',
    title: 'Cumulative regret',
    description: `Mean cumulative regret over ${s.runs} seeded runs of ${fmtInt(s.horizon)} steps per policy, with 95% bands.`,
    xLabel: 'step t',
    yLabel: 'cumulative regret Σ (p* − p(a_t))',
    width: 1100,
    height: 400,
    series: s.policies.map((p, i) => ({
      name: p.label,
      color: seriesColor(i),
      x: s.checkpoints,
      mean: p.regret.mean,
      lo: p.regret.lo,
      hi: p.regret.hi,
      tooltip: `${p.label}: regret ${fmtValue(p.finalRegret.mean)} after ${fmtInt(s.horizon)} steps (95% CI ${fmtValue(p.finalRegret.ci95[0])}–${fmtValue(p.finalRegret.ci95[1])}), growth exponent ${fmtNum(p.growthExponent, 2)}`,
      bandTooltip: `${p.label}: 95% band of the mean over ${s.runs} runs`,
    })),
  });
}

function regretLogLogChart(s: SyntheticResult): string {
  const series: XYSeries[] = s.policies.map((p, i) => ({
    name: p.label,
    color: seriesColor(i),
    mode: 'line',
    lineTooltip: `${p.label}: regret grows like t^${fmtNum(p.growthExponent, 2)} over the last decade`,
    points: s.checkpoints.map((t, c) => ({ x: t, y: p.regret.mean[c], tooltip: `${p.label}: R(${t}) = ${fmtValue(p.regret.mean[c])}` })),
  }));
  // A slope-1 reference through the largest final regret: linear growth.
  const maxFinal = Math.max(...s.policies.map((p) => p.finalRegret.mean), 1e-9);
  const refPoints = [Math.max(1, s.horizon / 1000), s.horizon].map((t) => ({ x: t, y: (maxFinal * t) / s.horizon, tooltip: `linear growth: ${fmtValue((maxFinal * t) / s.horizon)} at t = ${fmtInt(t)}` }));
  series.push({ name: 'linear growth (slope 1)', color: '#9498a0', mode: 'line', dashed: true, lineTooltip: 'reference: regret proportional to t', points: refPoints });
  return xyChart({
    name: 'regret-loglog',
    title: 'Regret on log–log axes',
    description: 'Mean cumulative regret against steps, both on log scales: a line flatter than the dashed slope-1 reference grows sub-linearly.',
    xLabel: 'step t (log scale)',
    yLabel: 'cumulative regret (log scale)',
    x: { type: 'log' },
    y: { type: 'log' },
    series,
  });
}

function ctrChart(s: SyntheticResult): string {
  // The first 1% of steps is a handful of coin flips per run: drawn, it would squash the y axis.
  const from = s.checkpoints.findIndex((t) => t >= s.horizon / 100);
  const cut = <T>(a: readonly T[]): T[] => a.slice(Math.max(0, from));
  return bandChart({
    name: 'ctr',
    title: 'Running reward rate (CTR)',
    description: `Mean reward per step up to t (from t = ${fmtInt(s.checkpoints[Math.max(0, from)])}), mean over ${s.runs} runs with 95% bands; the dashed line is the best arm's probability.`,
    xLabel: 'step t',
    yLabel: 'mean reward per step',
    zero: false,
    series: s.policies.map((p, i) => ({
      name: p.label,
      color: seriesColor(i),
      x: cut(s.checkpoints),
      mean: cut(p.ctr.mean),
      lo: cut(p.ctr.lo),
      hi: cut(p.ctr.hi),
      tooltip: `${p.label}: mean reward ${fmtNum(p.finalCtr)} per step over ${fmtInt(s.horizon)} steps`,
      bandTooltip: `${p.label}: 95% band of the running CTR`,
    })),
    refs: [{ y: s.env.optimalValue, label: 'best arm (p*)', color: '#6b7280' }],
  });
}

const ESTIMATOR_COLORS: Record<EstimatorName, string> = { replay: seriesColor(0), ips: seriesColor(1), snips: seriesColor(2), dm: seriesColor(3), dr: seriesColor(4) };

function estimatesChart(l: LoggedSection): string {
  const e = l.result.estimates;
  const refs: Array<{ x: number; lo?: number; hi?: number; label: string; color: string }> = [
    { x: l.result.logged.value, lo: l.result.logged.ci95[0], hi: l.result.logged.ci95[1], label: 'logging policy (observed)', color: '#6b7280' },
  ];
  if (l.target) refs.push({ x: l.target.onPolicy.value, lo: l.target.onPolicy.ci95[0], hi: l.target.onPolicy.ci95[1], label: 'target policy (observed on-policy)', color: '#b91c1c' });
  return forestChart({
    name: 'estimates',
    title: `Estimated value of ${l.policy.label}`,
    description: `Off-policy estimates of the target policy's mean reward with bootstrap 95% confidence intervals; dashed lines: the logging policy's observed mean${l.target ? " and the target policy's observed on-policy mean" : ''}.`,
    xLabel: `mean reward per row (${l.result.evalRows.toLocaleString('en-US')} evaluation rows of ${l.log.rows.toLocaleString('en-US')})`,
    rows: e.map((x) => ({
      label: x.estimator.toUpperCase(),
      value: x.value,
      lo: x.ci95[0],
      hi: x.ci95[1],
      color: ESTIMATOR_COLORS[x.estimator],
      tooltip: `${x.estimator}: ${fmtValue(x.value)} (95% CI ${fmtValue(x.ci95[0])}–${fmtValue(x.ci95[1])}), n = ${fmtInt(x.n)}, ESS = ${fmtInt(x.ess)}`,
    })),
    refs,
  });
}

function replayChart(l: LoggedSection): string {
  const curve = l.result.replayCurve;
  const last = curve[curve.length - 1];
  const series: XYSeries[] = [
    {
      name: 'replay estimate',
      color: ESTIMATOR_COLORS.replay,
      mode: 'line',
      lineTooltip: `replay: ${fmtValue(last?.value ?? NaN)} over ${fmtInt(last?.matched)} matched of ${fmtInt(last?.rows)} rows`,
      points: curve.map((p) => ({ x: p.rows, y: p.value, tooltip: `after ${fmtInt(p.rows)} rows: ${fmtInt(p.matched)} matched, mean reward ${fmtValue(p.value)}` })),
    },
    {
      name: 'logging policy (observed)',
      color: '#6b7280',
      mode: 'line',
      dashed: true,
      lineTooltip: `logging policy: ${fmtValue(l.result.logged.value)}`,
      points: [curve[0]?.rows ?? 0, last?.rows ?? 1].map((r) => ({ x: r, y: l.result.logged.value, tooltip: `logging policy: ${fmtValue(l.result.logged.value)}` })),
    },
  ];
  return xyChart({
    name: 'replay',
    title: 'Replay estimate as the log is walked',
    description: 'Mean reward over the rows where the policy chose the logged action, as evaluation rows are replayed in order.',
    xLabel: 'evaluation rows replayed',
    yLabel: 'mean reward of matched rows',
    x: { type: 'linear' },
    y: { type: 'linear', zero: true },
    series,
    width: 1100,
    height: 340,
  });
}

// ---------------------------------------------------------------------------------------------
// Markdown

function mdCode(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((s) => s.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${flat.startsWith('`') || flat.endsWith('`') ? ` ${flat} ` : flat}${fence}`;
}

function mdTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function ci(c: readonly [number, number] | undefined, digits = 5): string {
  return c && isNum(c[0]) && isNum(c[1]) ? `[${c[0].toFixed(digits)}, ${c[1].toFixed(digits)}]` : '–';
}

function paramsText(p: Record<string, unknown>): string {
  const entries = Object.entries(p);
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(', ') : '–';
}

export function renderSimulationMarkdown(r: SimulationReport): string {
  const out: string[] = [];
  const push = (...lines: string[]): void => {
    out.push(...lines);
  };
  push(`# recsys simulate ${mdText(r.runId)}`, '');
  push(`- **Created:** ${mdText(r.createdAt)}`);
  push(`- **Git commit:** ${mdText(describeGit(r.git))}`);
  if (r.synthetic) {
    const s = r.synthetic;
    push(`- **Environment:** ${envText(s)}`);
    push(`- **Runs:** ${s.runs} seeded runs of ${fmtInt(s.horizon)} steps (seed ${s.seed}); bands are 95% intervals of the mean over runs`, '');
    push('## Regret', '');
    push(
      ...mdTable(
        ['policy', 'regret at T', '95% CI', 'sd over runs', 'growth exponent', 'optimal arm, last 10%', 'mean reward', 'steps/s'],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        s.policies.map((p) => [
          mdText(p.label),
          fmtNum(p.finalRegret.mean, 1),
          ci(p.finalRegret.ci95, 1),
          fmtNum(p.finalRegret.sd, 1),
          fmtNum(p.growthExponent, 2),
          `${(100 * p.optimalShareLast10).toFixed(1)}%`,
          fmtNum(p.finalCtr),
          fmtInt(p.stepsPerSecond),
        ]),
      ),
      '',
    );
    push('Growth exponent: log(R(T)/R(T/10)) / log 10 of the mean regret curve; 1 is linear growth, lower is sub-linear.', '');
    push('## Policies', '');
    push(...mdTable(['policy', 'description', 'parameters'], ['l', 'l', 'l'], s.policies.map((p) => [mdText(p.label), mdText(p.description), mdCode(paramsText(p.params))])), '');
    push('## Arms', '');
    if (s.env.resampledPerRun) push('Every run drew its own arm probabilities; these are run 1\'s.', '');
    const header = ['arm', ...(s.env.segments > 1 ? s.env.probabilities.map((_, g) => `p (segment ${g + 1})`) : ['p'])];
    push(...mdTable(header, header.map((_, i) => (i === 0 ? 'l' : 'r')), s.env.labels.map((label, a) => [mdText(label), ...s.env.probabilities.map((row) => fmtNum(row[a]))])), '');
  }
  if (r.logged) {
    const l = r.logged;
    push(`- **Log:** ${mdCode(l.log.path)} (${l.log.format}): ${fmtInt(l.log.rows)} rows, ${l.log.arms} arms, ${l.log.positions} position(s), mean reward ${fmtNum(l.log.meanReward, 5)}${l.log.uniform ? ', uniformly random logging policy' : ''}`);
    push(`- **Policy:** ${mdText(l.policy.label)}: ${mdText(l.policy.description)} (${mdCode(paramsText(l.policy.params))})`);
    push(`- **Rows:** ${fmtInt(l.result.trainRows)} to train the policy, ${fmtInt(l.result.evalRows)} evaluated; bootstrap ${l.options.bootstrapSamples} resamples, seed ${l.options.seed}${l.options.clip ? `; weights clipped at ${l.options.clip}` : ''}`);
    if (l.target) push(`- **Target log:** ${mdCode(l.target.log.path)}: ${fmtInt(l.target.log.rows)} rows; its action distribution estimated by ${l.target.method} from its propensities`);
    push('');
    push('## Estimates', '');
    const rows = l.result.estimates.map((e) => [e.estimator, fmtNum(e.value, 5), ci(e.ci95), fmtInt(e.n), fmtInt(e.ess), mdText(ESTIMATOR_DESCRIPTIONS[e.estimator])]);
    rows.push(['logging policy (observed)', fmtNum(l.result.logged.value, 5), ci(l.result.logged.ci95), fmtInt(l.result.logged.n), '–', 'mean reward of the evaluation rows']);
    if (l.target) rows.push(['target policy (observed on-policy)', fmtNum(l.target.onPolicy.value, 5), ci(l.target.onPolicy.ci95), fmtInt(l.target.onPolicy.n), '–', `mean reward of ${mdText(basename(l.target.log.path))}`]);
    push(...mdTable(['estimator', 'value', '95% CI', 'n', 'ESS', 'definition'], ['l', 'r', 'r', 'r', 'r', 'l'], rows), '');
    if (l.comparison.length > 0) {
      push('## Against the observed on-policy value', '');
      push(
        ...mdTable(
          ['estimator', 'error', 'relative error', 'truth in 95% CI', 'CIs overlap'],
          ['l', 'r', 'r', 'l', 'l'],
          l.comparison.map((c) => [c.estimator, fmtNum(c.error, 5), `${(100 * c.relativeError).toFixed(1)}%`, c.truthInCi ? 'yes' : 'no', c.cisOverlap ? 'yes' : 'no']),
        ),
        '',
      );
    }
    if (l.result.rewardModel) {
      const m = l.result.rewardModel;
      push(`Reward model (DM, DR): per-action ${m.kind} regression, λ = ${m.lambda}, ${m.dim} features, fitted on ${fmtInt(m.rows)} rows (mean loss ${fmtNum(m.loss, 5)}). The DM interval covers row sampling only, not the model's own error.`, '');
    }
    if (l.result.warnings.length > 0 || l.log.notes.length > 0) {
      push('## Warnings and notes', '');
      for (const w of [...l.result.warnings, ...l.log.notes]) push(`- ${mdText(w)}`);
      push('');
    }
  }
  push('## Timings', '');
  push(...mdTable(['step', 'time'], ['l', 'r'], Object.entries(r.timings).map(([k, v]) => [mdText(k), fmtSeconds(v)])), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML

const CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --card: #ffffff; --good: #15803d; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 8px 24px; border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 20px; }
h1 { font-size: 22px; margin: 0; }
h1 .run { color: var(--muted); font-weight: 500; }
h2 { font-size: 17px; margin: 32px 0 10px; }
.meta { color: var(--muted); font-size: 13px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 20px; font-weight: 600; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 500px), 1fr)); gap: 14px; }
figure { margin: 0 0 14px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; min-width: 0; }
figure svg.chart { display: block; width: 100%; height: auto; }
figure.wide { overflow-x: auto; }
figure.wide svg.chart { min-width: 760px; }
figcaption { color: var(--muted); font-size: 12px; padding: 4px 6px 2px; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; vertical-align: top; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.desc { color: var(--muted); font-size: 12px; white-space: normal; text-align: left; min-width: 220px; }
thead th { background: #f1f5f9; font-weight: 600; color: #374151; }
tbody tr:last-child td { border-bottom: none; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; }
.badge.yes { background: #dcfce7; color: var(--good); }
.badge.no { background: #fee2e2; color: var(--bad); }
.note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
ul.warnings { background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px; padding: 10px 10px 10px 28px; margin: 0; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow-x: auto; margin: 0 0 10px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
`;

function tableHtml(head: string[], rows: string[]): string {
  return `<div class="table-wrap"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function card(label: string, value: string, sub: string): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="sub">${esc(sub)}</div></div>`;
}

function swatch(color: string): string {
  return `<span class="swatch" style="background:${color}"></span>`;
}

function envText(s: SyntheticResult): string {
  const segs = s.env.segments > 1 ? ` × ${s.env.segments} user segments` : '';
  const draw = s.env.resampledPerRun ? ', arm probabilities drawn afresh for every run' : '';
  return `synthetic Bernoulli bandit, ${s.env.arms} arms${segs}${draw}; best arm p* = ${fmtNum(s.env.optimalValue)}${s.env.resampledPerRun ? ' on average' : ''}`;
}

function syntheticHtml(s: SyntheticResult): string[] {
  const out: string[] = [];
  const best = [...s.policies].sort((a, b) => a.finalRegret.mean - b.finalRegret.mean)[0];
  out.push('<section class="cards" aria-label="Overview">');
  out.push(card('Environment', `${s.env.arms} arms${s.env.segments > 1 ? ` × ${s.env.segments}` : ''}`, envText(s)));
  out.push(card('Runs', `${s.runs} × ${fmtInt(s.horizon)}`, `seeded runs × steps (seed ${s.seed})`));
  if (best) out.push(card('Lowest regret', fmtValue(best.finalRegret.mean), `${best.label}, growth exponent ${fmtNum(best.growthExponent, 2)}`));
  out.push('</section>');
  out.push('<h2 id="regret">Cumulative regret</h2>');
  out.push(`<figure class="wide">${regretChart(s)}<figcaption>Regret R(t) = Σ (p* − p(a_s)) up to step t, mean over ${s.runs} runs; shaded: 95% interval of the mean (mean ± 1.96·sd/√runs).</figcaption></figure>`);
  out.push('<div class="grid">');
  out.push(`<figure>${regretLogLogChart(s)}<figcaption>On log–log axes a power law t^b is a straight line of slope b: logarithmic regret bends flat, fixed-ε exploration runs parallel to the dashed slope-1 line.</figcaption></figure>`);
  out.push(`<figure>${ctrChart(s)}<figcaption>Mean reward per step so far; the dashed line is what always playing the best arm earns.</figcaption></figure>`);
  out.push('</div>');
  out.push(
    tableHtml(
      ['policy', 'regret at T', '95% CI', 'sd over runs', 'growth exponent', 'optimal arm (last 10%)', 'mean reward', 'steps/s'],
      s.policies.map(
        (p, i) =>
          `<tr><td class="text">${swatch(seriesColor(i))}${esc(p.label)}</td><td>${fmtNum(p.finalRegret.mean, 1)}</td><td>${esc(ci(p.finalRegret.ci95, 1))}</td><td>${fmtNum(p.finalRegret.sd, 1)}</td>` +
          `<td>${fmtNum(p.growthExponent, 2)}</td><td>${(100 * p.optimalShareLast10).toFixed(1)}%</td><td>${fmtNum(p.finalCtr)}</td><td>${fmtInt(p.stepsPerSecond)}</td></tr>`,
      ),
    ),
  );
  out.push('<p class="note">Growth exponent: log(R(T)/R(T/10)) / log 10 of the mean regret curve (1 = linear growth).</p>');
  out.push('<h2 id="policies">Policies</h2>');
  out.push(tableHtml(['policy', 'description', 'parameters'], s.policies.map((p, i) => `<tr><td class="text">${swatch(seriesColor(i))}${esc(p.label)}</td><td class="desc">${esc(p.description)}</td><td class="text"><code>${esc(paramsText(p.params))}</code></td></tr>`)));
  out.push('<h2 id="arms">Arms</h2>');
  if (s.env.resampledPerRun) out.push(`<p class="note">Every run drew its own arm probabilities; the table shows run 1's.</p>`);
  const head = ['arm', ...(s.env.segments > 1 ? s.env.probabilities.map((_, g) => `p (segment ${g + 1})`) : ['p'])];
  out.push(tableHtml(head, s.env.labels.map((label, a) => `<tr><td class="text">${esc(label)}</td>${s.env.probabilities.map((row) => `<td>${fmtNum(row[a])}</td>`).join('')}</tr>`)));
  return out;
}

function loggedHtml(l: LoggedSection): string[] {
  const out: string[] = [];
  const r = l.result;
  out.push('<section class="cards" aria-label="Overview">');
  out.push(card('Log', `${fmtInt(l.log.rows)} rows`, `${l.log.arms} arms, ${l.log.positions} position(s), ${l.log.format}${l.log.uniform ? ', uniformly random logging' : ''}: ${l.log.path}`));
  out.push(card('Policy', l.policy.label, l.policy.description));
  out.push(card('Logging policy', fmtNum(r.logged.value, 5), `observed mean reward, 95% CI ${ci(r.logged.ci95)}`));
  if (l.target) out.push(card('Target on-policy', fmtNum(l.target.onPolicy.value, 5), `observed in ${l.target.log.path}, 95% CI ${ci(l.target.onPolicy.ci95)}`));
  out.push('</section>');
  if (r.warnings.length > 0 || l.log.notes.length > 0) {
    out.push('<h2 id="warnings">Warnings and notes</h2>');
    out.push(`<ul class="warnings">${[...r.warnings, ...l.log.notes].map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  }
  out.push('<h2 id="estimates">Estimates</h2>');
  out.push(`<figure class="wide">${estimatesChart(l)}<figcaption>Points: estimates; whiskers: bootstrap 95% confidence intervals; dashed lines and shaded areas: observed values with their 95% CIs.</figcaption></figure>`);
  const rows = r.estimates.map(
    (e) =>
      `<tr><td class="text">${swatch(ESTIMATOR_COLORS[e.estimator])}${esc(e.estimator)}</td><td>${fmtNum(e.value, 5)}</td><td>${esc(ci(e.ci95))}</td><td>${fmtInt(e.n)}</td><td>${fmtInt(e.ess)}</td>` +
      `<td>${isNum(e.details.maxWeight) ? fmtNum(e.details.maxWeight, 2) : '–'}</td><td class="desc">${esc(ESTIMATOR_DESCRIPTIONS[e.estimator])}</td></tr>`,
  );
  rows.push(`<tr><td class="text">logging policy (observed)</td><td>${fmtNum(r.logged.value, 5)}</td><td>${esc(ci(r.logged.ci95))}</td><td>${fmtInt(r.logged.n)}</td><td>–</td><td>–</td><td class="desc">mean reward of the evaluation rows</td></tr>`);
  if (l.target) rows.push(`<tr><td class="text">target policy (observed)</td><td>${fmtNum(l.target.onPolicy.value, 5)}</td><td>${esc(ci(l.target.onPolicy.ci95))}</td><td>${fmtInt(l.target.onPolicy.n)}</td><td>–</td><td>–</td><td class="desc">on-policy mean reward of the target policy's own log</td></tr>`);
  out.push(tableHtml(['estimator', 'value', '95% CI', 'n', 'ESS', 'max weight', 'definition'], rows));
  if (l.comparison.length > 0) {
    out.push('<h2 id="truth">Against the observed on-policy value</h2>');
    out.push(
      tableHtml(
        ['estimator', 'error', 'relative error', 'truth in 95% CI', 'CIs overlap'],
        l.comparison.map(
          (c) =>
            `<tr><td class="text">${esc(c.estimator)}</td><td>${fmtNum(c.error, 5)}</td><td>${(100 * c.relativeError).toFixed(1)}%</td>` +
            `<td class="text"><span class="badge ${c.truthInCi ? 'yes' : 'no'}">${c.truthInCi ? 'yes' : 'no'}</span></td><td class="text"><span class="badge ${c.cisOverlap ? 'yes' : 'no'}">${c.cisOverlap ? 'yes' : 'no'}</span></td></tr>`,
        ),
      ),
    );
  }
  if (r.replayCurve.length > 0) {
    out.push('<h2 id="replay">Replay</h2>');
    out.push(`<figure class="wide">${replayChart(l)}<figcaption>Replay keeps a row when the policy picks the logged action at the row's position, and lets the policy learn from it.</figcaption></figure>`);
  }
  if (r.rewardModel) {
    const m = r.rewardModel;
    out.push(`<p class="note">Reward model (DM, DR): per-action ${esc(m.kind)} regression, λ = ${esc(String(m.lambda))}, ${m.dim} features, fitted on ${fmtInt(m.rows)} rows (mean loss ${fmtNum(m.loss, 5)}). The DM interval covers row sampling only, not the reward model's own error.</p>`);
  }
  out.push('<h2 id="config">Configuration</h2>');
  // Context columns can number in the hundreds: the configuration shows how many, report.json lists them.
  const brief = (s: LogSummary): Record<string, unknown> => ({ ...s, contextColumns: `${s.contextColumns.length} columns (listed in report.json)` });
  out.push(`<pre>${esc(stableJson({ policy: l.policy, options: l.options, log: brief(l.log), target: l.target ? brief(l.target.log) : null }).trimEnd())}</pre>`);
  return out;
}

export function renderSimulationHtml(r: SimulationReport): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="generator" content="recsys">',
    `<title>recsys simulate ${esc(r.runId)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="top"><h1>recsys simulate <span class="run">${esc(r.runId)}</span></h1><div class="meta">${esc(r.mode === 'synthetic' ? 'online simulation' : 'off-policy evaluation')} · created ${esc(r.createdAt)} · git ${esc(describeGit(r.git))}</div></header>`,
  ];
  if (r.synthetic) out.push(...syntheticHtml(r.synthetic));
  if (r.logged) out.push(...loggedHtml(r.logged));
  out.push('<h2 id="timings">Timings</h2>');
  out.push(tableHtml(['step', 'time'], Object.entries(r.timings).map(([k, v]) => `<tr><td class="text">${esc(k)}</td><td>${fmtSeconds(v)}</td></tr>`)));
  out.push(`<footer>Generated by recsys · run ${esc(r.runId)} · ${esc(r.format)} v${r.version}. This file is self-contained and works offline.</footer>`);
  out.push('</main>', '</body>', '</html>', '');
  return out.join('\n');
}

export function renderSimulationJson(r: SimulationReport): string {
  return stableJson(r);
}

export interface SimulationReportPaths {
  dir: string;
  json: string;
  markdown: string;
  html: string;
}

/** Renders the three files, then writes them atomically into `dir` (a new folder is renamed into place). */
export async function writeSimulationReport(r: SimulationReport, dir: string): Promise<SimulationReportPaths> {
  const target = resolve(dir);
  const paths = { dir: target, json: join(target, SIMULATION_REPORT_FILES.json), markdown: join(target, SIMULATION_REPORT_FILES.markdown), html: join(target, SIMULATION_REPORT_FILES.html) };
  const files: Array<[string, string]> = [
    [SIMULATION_REPORT_FILES.json, renderSimulationJson(r)],
    [SIMULATION_REPORT_FILES.markdown, renderSimulationMarkdown(r)],
    [SIMULATION_REPORT_FILES.html, renderSimulationHtml(r)],
  ];
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    if (existsSync(target)) {
      for (const [name, text] of files) {
        const tmp = join(target, `.${name}.tmp-${tag}`);
        await writeFile(tmp, text);
        await rename(tmp, join(target, name));
      }
      return paths;
    }
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${basename(target)}.tmp-${tag}`);
    await mkdir(tmp);
    try {
      for (const [name, text] of files) await writeFile(join(tmp, name), text);
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return paths;
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_REPORT', `could not write the simulation report to ${target}: ${(e as Error).message}. Check that the folder is writable, or pass another one (--out).`, { file: target }, { cause: e });
  }
}
