/**
 * Hand-written SVG chart primitives for the self-contained HTML report: linear, log and point
 * scales with "nice" ticks (the tick algorithm is d3-array's `tickIncrement`: steps of 1, 2 or 5
 * times a power of ten, chosen so that about `count` ticks cover the domain), axes with grid lines,
 * legends, and three chart kinds: an x/y chart (lines, points, CI whiskers), a grouped histogram
 * and small-multiple bar panels. Every chart is one `<svg>` string with `data-chart="<name>"`,
 * `role="img"`, an aria-label, a visible title, axis labels and a `<title>` tooltip on each plotted
 * mark; plotted marks carry `class="mark"` so tests (and readers of the DOM) can count them.
 *
 * No DOM and no dependency: text widths are estimated from character counts, which is enough to
 * lay out margins and legends for the short labels a report uses. All text is XML-escaped here,
 * so callers may pass user-supplied names (model names, params) as they are.
 */

/** Categorical palette (Observable 10): distinct, colour-blind-aware, readable on white. */
export const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'] as const;

export function seriesColor(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length] ?? '#4269d0';
}

const FONT_SIZE = 11;
const TITLE_SIZE = 14;
const TEXT_COLOR = '#1f2937';
const MUTED_COLOR = '#6b7280';
const GRID_COLOR = '#e5e7eb';
const AXIS_COLOR = '#9ca3af';

/** Escape text for XML/HTML element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Rough rendered width of `text` in a sans-serif font (px): enough for margins and legends. */
export function textWidth(text: string, fontSize = FONT_SIZE): number {
  let units = 0;
  for (const ch of text) {
    if ('il.,:;|!\'` '.includes(ch)) units += 0.3;
    else if ('mwMW@%'.includes(ch)) units += 0.85;
    else if (ch >= 'A' && ch <= 'Z') units += 0.66;
    else units += 0.56;
  }
  return units * fontSize;
}

/** Round to 2 decimals for compact, stable SVG coordinates. */
function r2(v: number): string {
  const x = Math.round(v * 100) / 100;
  return Object.is(x, -0) ? '0' : String(x);
}

// ---------------------------------------------------------------------------------------------
// Ticks and scales

const E10 = Math.sqrt(50);
const E5 = Math.sqrt(10);
const E2 = Math.sqrt(2);

/**
 * d3-array's tickIncrement: a positive result is the step; a negative one -n means a step of 1/n
 * (kept as an integer so that ticks like 0.1, 0.3 are computed as 1/10, 3/10 without float drift).
 */
export function tickIncrement(start: number, stop: number, count: number): number {
  const step = (stop - start) / Math.max(0, count);
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  const power = Math.floor(Math.log10(step));
  const error = step / Math.pow(10, power);
  const factor = error >= E10 ? 10 : error >= E5 ? 5 : error >= E2 ? 2 : 1;
  return power >= 0 ? factor * Math.pow(10, power) : -Math.pow(10, -power) / factor;
}

/** About `count` round tick values within [start, stop]. */
export function linearTicks(start: number, stop: number, count: number): number[] {
  if (!(count > 0) || !Number.isFinite(start) || !Number.isFinite(stop)) return [];
  if (start === stop) return [start];
  const reverse = stop < start;
  const [lo, hi] = reverse ? [stop, start] : [start, stop];
  const inc = tickIncrement(lo, hi, count);
  if (inc === 0) return [];
  const out: number[] = [];
  if (inc > 0) {
    const i1 = Math.ceil(lo / inc - 1e-9);
    const i2 = Math.floor(hi / inc + 1e-9);
    for (let i = i1; i <= i2; i++) out.push(i * inc + 0); // + 0 turns -0 into 0
  } else {
    const n = -inc;
    const i1 = Math.ceil(lo * n - 1e-9);
    const i2 = Math.floor(hi * n + 1e-9);
    for (let i = i1; i <= i2; i++) out.push(i / n + 0);
  }
  return reverse ? out.reverse() : out;
}

/** Extend [start, stop] outward to multiples of the tick step (d3's `nice`). */
export function niceDomain(start: number, stop: number, count: number): [number, number] {
  let lo = start;
  let hi = stop;
  let prev = 0;
  for (let i = 0; i < 10; i++) {
    const step = tickIncrement(lo, hi, count);
    if (step === prev || step === 0) break;
    if (step > 0) {
      lo = Math.floor(lo / step) * step;
      hi = Math.ceil(hi / step) * step;
    } else {
      lo = Math.ceil(lo * step) / step;
      hi = Math.floor(hi * step) / step;
    }
    prev = step;
  }
  return [lo + 0, hi + 0];
}

/** Format ticks with just enough decimals for their step. */
export function linearTickFormat(ticks: readonly number[]): (v: number) => string {
  let step = Infinity;
  for (let i = 1; i < ticks.length; i++) step = Math.min(step, Math.abs((ticks[i] ?? 0) - (ticks[i - 1] ?? 0)));
  const decimals = Number.isFinite(step) && step > 0 ? Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)) : 2;
  return (v) => formatCompact(v, Math.min(decimals, 6));
}

/** 1234 → "1,234"; 12000 → "12k" when round; otherwise fixed decimals. */
function formatCompact(value: number, decimals: number): string {
  // A tick at -0 (from 0 / -n) or at -1e-17 (float noise) must read "0", not "-0.0".
  const v = Math.abs(value) < 1e-12 ? 0 : value;
  const a = Math.abs(v);
  if (decimals === 0 && a >= 10000 && a % 1000 === 0) return a >= 1e6 && a % 1e6 === 0 ? `${v / 1e6}M` : `${v / 1000}k`;
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Powers of ten inside [lo, hi] (plus 2× and 5× when that gives too few ticks). */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
  const p1 = Math.floor(Math.log10(a));
  const p2 = Math.ceil(Math.log10(b));
  const within = (v: number): boolean => v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9);
  const majors: number[] = [];
  for (let p = p1; p <= p2; p++) {
    const v = Number(`1e${p}`);
    if (within(v)) majors.push(v);
  }
  if (majors.length >= 3) return majors;
  const withMinor: number[] = [];
  for (let p = p1; p <= p2; p++) {
    for (const m of [1, 2, 5]) {
      const v = m * Number(`1e${p}`);
      if (within(v)) withMinor.push(v);
    }
  }
  return withMinor;
}

export function logTickFormat(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(6)));
}

export interface Scale {
  (value: number): number;
  readonly kind: 'linear' | 'log' | 'point';
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  ticks(count: number): number[];
  format(ticks: readonly number[]): (v: number) => string;
}

export function scaleLinear(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  const f = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  return Object.assign(f, {
    kind: 'linear' as const,
    domain,
    range,
    ticks: (count: number) => linearTicks(d0, d1, count),
    format: linearTickFormat,
  });
}

export function scaleLog(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0;
  const f = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((Math.log10(v) - l0) / span) * (r1 - r0))) as Scale;
  return Object.assign(f, {
    kind: 'log' as const,
    domain,
    range,
    ticks: () => logTicks(d0, d1),
    format: () => logTickFormat,
  });
}

/** Evenly spaced positions for an ordered set of values (e.g. k = 1, 5, 10, 20), with padding. */
export function scalePoint(values: readonly number[], range: readonly [number, number]): Scale {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const [r0, r1] = range;
  const step = (r1 - r0) / Math.max(1, sorted.length);
  const index = new Map(sorted.map((v, i) => [v, i] as const));
  const f = ((v: number) => r0 + step * ((index.get(v) ?? 0) + 0.5)) as Scale;
  return Object.assign(f, {
    kind: 'point' as const,
    domain: [sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0] as const,
    range,
    ticks: () => sorted,
    format: () => (v: number) => String(v),
  });
}

// ---------------------------------------------------------------------------------------------
// Frame, axes, legend

export interface LegendEntry {
  name: string;
  color: string;
  /** 'line' draws a short stroke, 'box' a filled square. */
  shape?: 'line' | 'box';
  dashed?: boolean;
}

interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

interface LegendLayout {
  svg: string;
  height: number;
}

function layoutLegend(entries: readonly LegendEntry[], x0: number, y0: number, maxWidth: number): LegendLayout {
  if (entries.length < 2) return { svg: '', height: 0 };
  const rowHeight = 18;
  let x = 0;
  let row = 0;
  const parts: string[] = [];
  for (const e of entries) {
    const w = 22 + textWidth(e.name) + 16;
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      row++;
    }
    const cx = x0 + x;
    const cy = y0 + row * rowHeight;
    const swatch =
      e.shape === 'line'
        ? `<line x1="${r2(cx)}" y1="${r2(cy)}" x2="${r2(cx + 16)}" y2="${r2(cy)}" stroke="${e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="4 3"' : ''}/>`
        : `<rect x="${r2(cx + 2)}" y="${r2(cy - 6)}" width="12" height="12" rx="2" fill="${e.color}"/>`;
    parts.push(`<g class="legend-item">${swatch}<text x="${r2(cx + 22)}" y="${r2(cy)}" dominant-baseline="central" fill="${TEXT_COLOR}">${escapeXml(e.name)}</text></g>`);
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: (row + 1) * rowHeight };
}

function svgOpen(name: string, title: string, description: string, width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(name)}" role="img" aria-label="${escapeXml(`${title}. ${description}`)}"` +
    ` viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" preserveAspectRatio="xMidYMid meet">` +
    `<title>${escapeXml(title)}</title>` +
    `<g font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif" font-size="${FONT_SIZE}">` +
    `<text class="chart-title" x="12" y="22" font-size="${TITLE_SIZE}" font-weight="600" fill="${TEXT_COLOR}">${escapeXml(title)}</text>`
  );
}

const SVG_CLOSE = '</g></svg>';

function yAxis(scale: Scale, ticks: readonly number[], fmt: (v: number) => string, x: number, width: number, label: string, labelX: number): string {
  const parts: string[] = ['<g class="axis axis-y">'];
  for (const t of ticks) {
    const y = scale(t);
    parts.push(`<line x1="${r2(x)}" y1="${r2(y)}" x2="${r2(x + width)}" y2="${r2(y)}" stroke="${GRID_COLOR}"/>`);
    parts.push(`<text x="${r2(x - 6)}" y="${r2(y)}" text-anchor="end" dominant-baseline="central" fill="${MUTED_COLOR}">${escapeXml(fmt(t))}</text>`);
  }
  const [r0, r1] = scale.range;
  const mid = (r0 + r1) / 2;
  parts.push(`<text class="axis-label" transform="translate(${r2(labelX)},${r2(mid)}) rotate(-90)" text-anchor="middle" fill="${TEXT_COLOR}">${escapeXml(label)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

function xAxis(scale: Scale, ticks: readonly number[], fmt: (v: number) => string, y: number, label: string, labelY: number): string {
  const [r0, r1] = scale.range;
  const parts: string[] = ['<g class="axis axis-x">', `<line x1="${r2(Math.min(r0, r1))}" y1="${r2(y)}" x2="${r2(Math.max(r0, r1))}" y2="${r2(y)}" stroke="${AXIS_COLOR}"/>`];
  for (const t of ticks) {
    const x = scale(t);
    parts.push(`<line x1="${r2(x)}" y1="${r2(y)}" x2="${r2(x)}" y2="${r2(y + 5)}" stroke="${AXIS_COLOR}"/>`);
    parts.push(`<text x="${r2(x)}" y="${r2(y + 17)}" text-anchor="middle" fill="${MUTED_COLOR}">${escapeXml(fmt(t))}</text>`);
  }
  parts.push(`<text class="axis-label" x="${r2((r0 + r1) / 2)}" y="${r2(labelY)}" text-anchor="middle" fill="${TEXT_COLOR}">${escapeXml(label)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

/** Drop x ticks whose labels would overlap (keeps first, last and every n-th). */
function thinTicks(scale: Scale, ticks: readonly number[], fmt: (v: number) => string): number[] {
  if (ticks.length < 3) return [...ticks];
  const widest = Math.max(...ticks.map((t) => textWidth(fmt(t))));
  const spacing = Math.abs(scale(ticks[1] ?? 0) - scale(ticks[0] ?? 0));
  const every = Math.max(1, Math.ceil((widest + 8) / Math.max(1, spacing)));
  return ticks.filter((_, i) => i % every === 0);
}

function emptyNote(x: number, y: number, text: string): string {
  return `<text class="empty-note" x="${r2(x)}" y="${r2(y)}" text-anchor="middle" fill="${MUTED_COLOR}" font-style="italic">${escapeXml(text)}</text>`;
}

// ---------------------------------------------------------------------------------------------
// X/Y chart: lines, points, whiskers

export interface XYPoint {
  x: number;
  y: number;
  /** Optional confidence interval, drawn as a whisker when lo < hi. */
  lo?: number;
  hi?: number;
  tooltip: string;
}

export interface XYSeries {
  name: string;
  color: string;
  points: readonly XYPoint[];
  /** 'line+points' (default), 'line' (a path only) or 'points' (circles only). */
  mode?: 'line+points' | 'line' | 'points';
  dashed?: boolean;
  /** Tooltip for the whole line (mode 'line'). */
  lineTooltip?: string;
  pointRadius?: number;
}

export interface XYChartSpec {
  name: string;
  title: string;
  /** One sentence for screen readers: what the chart shows. */
  description: string;
  xLabel: string;
  yLabel: string;
  series: readonly XYSeries[];
  x: { type: 'point' | 'linear' | 'log'; values?: readonly number[] };
  y: { type: 'linear' | 'log'; zero?: boolean; format?: (v: number) => string };
  width?: number;
  height?: number;
}

export function xyChart(spec: XYChartSpec): string {
  const width = spec.width ?? 560;
  const height = spec.height ?? 340;
  const legend = layoutLegend(
    spec.series.map((s) => ({ name: s.name, color: s.color, shape: s.mode === 'points' ? 'box' : 'line', dashed: s.dashed })),
    12,
    44,
    width - 24,
  );
  const valid = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && (spec.y.type !== 'log' || v > 0);
  const xsOk = (v: number): boolean => Number.isFinite(v) && (spec.x.type !== 'log' || v > 0);
  const pts = spec.series.flatMap((s) => s.points.filter((p) => xsOk(p.x) && valid(p.y)));
  const ys = pts.flatMap((p) => [p.y, ...(valid(p.lo) ? [p.lo] : []), ...(valid(p.hi) ? [p.hi] : [])]);
  const xs = spec.x.values ?? pts.map((p) => p.x);

  // y domain first: its tick labels decide the left margin.
  let yDomain: [number, number];
  if (spec.y.type === 'log') {
    const lo = ys.length ? Math.min(...ys) : 1;
    const hi = ys.length ? Math.max(...ys) : 10;
    yDomain = [Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi)))];
    if (yDomain[0] === yDomain[1]) yDomain = [yDomain[0], yDomain[1] * 10];
  } else {
    const lo = spec.y.zero !== false ? Math.min(0, ...ys) : ys.length ? Math.min(...ys) : 0;
    let hi = ys.length ? Math.max(...ys) : 1;
    if (hi <= lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo));
    yDomain = niceDomain(lo, hi, 5);
  }
  const top = 44 + legend.height + (legend.height ? 6 : 0);
  const bottom = 50;
  const yProbe = spec.y.type === 'log' ? scaleLog(yDomain, [height - bottom, top]) : scaleLinear(yDomain, [height - bottom, top]);
  const yTicks = yProbe.ticks(5);
  const yFmt = spec.y.format ?? yProbe.format(yTicks);
  const left = 30 + Math.max(16, ...yTicks.map((t) => textWidth(yFmt(t))));
  const margin: Margin = { top, right: 18, bottom, left };
  const innerRight = width - margin.right;
  const y = spec.y.type === 'log' ? scaleLog(yDomain, [height - margin.bottom, margin.top]) : scaleLinear(yDomain, [height - margin.bottom, margin.top]);

  let x: Scale;
  if (spec.x.type === 'point') x = scalePoint(xs, [margin.left, innerRight]);
  else if (spec.x.type === 'log') {
    const lo = xs.length ? Math.min(...xs) : 1;
    const hi = xs.length ? Math.max(...xs) : 10;
    // Start at a power of ten but end at the data: a catalogue of 1,682 items should not leave
    // the right 20% of the plot empty up to 10,000.
    const start = Math.pow(10, Math.floor(Math.log10(lo)));
    const d: [number, number] = [start, Math.max(hi, start * 10)];
    x = scaleLog(d, [margin.left, innerRight]);
  } else {
    const lo = xs.length ? Math.min(...xs) : 0;
    const hi = xs.length ? Math.max(...xs) : 1;
    x = scaleLinear(niceDomain(lo, hi > lo ? hi : lo + 1, 6), [margin.left, innerRight]);
  }
  const xTicksAll = x.ticks(6);
  const xFmt = x.format(xTicksAll);
  const xTicks = thinTicks(x, xTicksAll, xFmt);

  const parts: string[] = [svgOpen(spec.name, spec.title, spec.description, width, height), legend.svg];
  parts.push(yAxis(y, yTicks, yFmt, margin.left, innerRight - margin.left, spec.yLabel, 16));
  parts.push(xAxis(x, xTicks, xFmt, height - margin.bottom, spec.xLabel, height - 10));

  if (pts.length === 0) parts.push(emptyNote((margin.left + innerRight) / 2, (margin.top + height - margin.bottom) / 2, 'no data'));

  const nSeries = spec.series.length;
  spec.series.forEach((s, si) => {
    const mode = s.mode ?? 'line+points';
    const points = s.points.filter((p) => xsOk(p.x) && valid(p.y));
    // Dodge series slightly on a point scale so whiskers of different models do not overlap.
    const dodge = spec.x.type === 'point' && nSeries > 1 ? (si - (nSeries - 1) / 2) * 5 : 0;
    const px = (p: XYPoint): number => x(p.x) + dodge;
    const g: string[] = [`<g class="series" data-series="${escapeXml(s.name)}">`];
    if (mode !== 'points' && points.length > 0) {
      const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${r2(px(p))},${r2(y(p.y))}`).join('');
      const tip = s.lineTooltip ?? s.name;
      g.push(
        `<path class="mark line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="5 4"' : ''}><title>${escapeXml(tip)}</title></path>`,
      );
    }
    for (const p of points) {
      if (valid(p.lo) && valid(p.hi) && p.hi > p.lo) {
        const cx = px(p);
        const y0 = y(p.lo);
        const y1 = y(p.hi);
        g.push(
          `<g class="whisker" stroke="${s.color}" stroke-width="1.5"><line x1="${r2(cx)}" y1="${r2(y0)}" x2="${r2(cx)}" y2="${r2(y1)}"/>` +
            `<line x1="${r2(cx - 4)}" y1="${r2(y0)}" x2="${r2(cx + 4)}" y2="${r2(y0)}"/><line x1="${r2(cx - 4)}" y1="${r2(y1)}" x2="${r2(cx + 4)}" y2="${r2(y1)}"/></g>`,
        );
      }
    }
    if (mode !== 'line') {
      const radius = s.pointRadius ?? 4;
      for (const p of points) {
        g.push(
          `<circle class="mark point" cx="${r2(px(p))}" cy="${r2(y(p.y))}" r="${radius}" fill="${s.color}" stroke="#fff" stroke-width="1"${mode === 'points' ? ' fill-opacity="0.85"' : ''}><title>${escapeXml(p.tooltip)}</title></circle>`,
        );
      }
    }
    g.push('</g>');
    parts.push(g.join(''));
  });
  parts.push(SVG_CLOSE);
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Histogram (several series dodged within each bin)

export interface HistogramSeries {
  name: string;
  color: string;
  bins: ReadonlyArray<{ x0: number; x1: number; count: number; tooltip: string }>;
  /** Draws a dashed vertical line at the series mean. */
  mean?: { value: number; tooltip: string };
}

export interface HistogramSpec {
  name: string;
  title: string;
  description: string;
  xLabel: string;
  yLabel: string;
  series: readonly HistogramSeries[];
  width?: number;
  height?: number;
}

export function histogramChart(spec: HistogramSpec): string {
  const width = spec.width ?? 560;
  const height = spec.height ?? 340;
  const legend = layoutLegend(spec.series.map((s) => ({ name: s.name, color: s.color })), 12, 44, width - 24);
  const bins = spec.series.flatMap((s) => s.bins.filter((b) => Number.isFinite(b.x0) && Number.isFinite(b.x1) && Number.isFinite(b.count)));
  const xLo = bins.length ? Math.min(...bins.map((b) => b.x0)) : 0;
  const xHi = bins.length ? Math.max(...bins.map((b) => b.x1)) : 1;
  const yHi = bins.length ? Math.max(1, ...bins.map((b) => b.count)) : 1;
  const top = 44 + legend.height + (legend.height ? 6 : 0);
  const bottom = 50;
  const yDomain = niceDomain(0, yHi, 5);
  const yProbe = scaleLinear(yDomain, [height - bottom, top]);
  const yTicks = yProbe.ticks(5).filter((t) => Number.isInteger(t));
  const yFmt = yProbe.format(yTicks);
  const left = 30 + Math.max(16, ...yTicks.map((t) => textWidth(yFmt(t))));
  const innerRight = width - 18;
  const y = scaleLinear(yDomain, [height - bottom, top]);
  const x = scaleLinear([xLo, xHi > xLo ? xHi : xLo + 1], [left, innerRight]);
  const xTicksAll = x.ticks(6);
  const xFmt = x.format(xTicksAll);

  const parts: string[] = [svgOpen(spec.name, spec.title, spec.description, width, height), legend.svg];
  parts.push(yAxis(y, yTicks, yFmt, left, innerRight - left, spec.yLabel, 16));
  parts.push(xAxis(x, thinTicks(x, xTicksAll, xFmt), xFmt, height - bottom, spec.xLabel, height - 10));
  if (bins.length === 0) parts.push(emptyNote((left + innerRight) / 2, (top + height - bottom) / 2, 'no data'));

  const n = Math.max(1, spec.series.length);
  spec.series.forEach((s, si) => {
    const g: string[] = [`<g class="series" data-series="${escapeXml(s.name)}">`];
    for (const b of s.bins) {
      if (!Number.isFinite(b.x0) || !Number.isFinite(b.x1) || !Number.isFinite(b.count)) continue;
      // A gap between bins (not between the series of one bin) keeps bins readable as bins.
      const binW = x(b.x1) - x(b.x0);
      const binGap = Math.min(6, binW * 0.12);
      const bw = (binW - binGap) / n;
      const bx = x(b.x0) + binGap / 2 + si * bw;
      const yTop = y(b.count);
      g.push(
        `<rect class="mark bar" x="${r2(bx)}" y="${r2(yTop)}" width="${r2(Math.max(0.5, bw - (n > 1 ? 0.5 : 0)))}" height="${r2(Math.max(0, y(0) - yTop))}" fill="${s.color}"><title>${escapeXml(b.tooltip)}</title></rect>`,
      );
    }
    if (s.mean && Number.isFinite(s.mean.value)) {
      const mx = x(s.mean.value);
      g.push(
        `<line class="mean-line" x1="${r2(mx)}" y1="${r2(top)}" x2="${r2(mx)}" y2="${r2(y(0))}" stroke="${s.color}" stroke-width="2" stroke-dasharray="5 3"><title>${escapeXml(s.mean.tooltip)}</title></line>`,
      );
    }
    g.push('</g>');
    parts.push(g.join(''));
  });
  parts.push(SVG_CLOSE);
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Small-multiple bar panels: one panel per metric, each with its own y scale, one bar per series

export interface BarPanel {
  title: string;
  /** Formats the value label above each bar and the panel's ticks. */
  format: (v: number) => string;
  bars: ReadonlyArray<{ series: string; color: string; value: number; tooltip: string }>;
}

export interface BarPanelsSpec {
  name: string;
  title: string;
  description: string;
  yLabel: string;
  panels: readonly BarPanel[];
  legend: readonly LegendEntry[];
  width?: number;
  height?: number;
}

export function barPanelsChart(spec: BarPanelsSpec): string {
  const width = spec.width ?? 1100;
  const height = spec.height ?? 320;
  const legend = layoutLegend(spec.legend, 12, 44, width - 24);
  const top = 44 + legend.height + (legend.height ? 6 : 0) + 22; // room for panel titles
  const bottom = 30;
  const nPanels = Math.max(1, spec.panels.length);
  const outerLeft = 26;
  const panelW = (width - outerLeft - 8) / nPanels;
  const parts: string[] = [svgOpen(spec.name, spec.title, spec.description, width, height), legend.svg];
  parts.push(
    `<text class="axis-label" transform="translate(16,${r2((top + height - bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="${TEXT_COLOR}">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.panels.length === 0) parts.push(emptyNote(width / 2, (top + height - bottom) / 2, 'no data'));

  spec.panels.forEach((panel, pi) => {
    const values = panel.bars.map((b) => b.value).filter((v) => Number.isFinite(v));
    const lo = Math.min(0, ...values);
    let hi = Math.max(0, ...values);
    if (hi <= lo) hi = lo + 1;
    // Headroom above the tallest bar for its value label.
    const domain = niceDomain(lo, hi * 1.12, 4);
    const probe = scaleLinear(domain, [height - bottom, top]);
    const ticks = probe.ticks(4);
    const fmt = probe.format(ticks);
    const px0 = outerLeft + pi * panelW;
    const axisX = px0 + 8 + Math.max(...ticks.map((t) => textWidth(fmt(t))), 10) + 6;
    const px1 = px0 + panelW - 12;
    const y = scaleLinear(domain, [height - bottom, top]);
    const g: string[] = [`<g class="panel" data-panel="${escapeXml(panel.title)}">`];
    g.push(`<text class="panel-title" x="${r2((axisX + px1) / 2)}" y="${r2(top - 12)}" text-anchor="middle" font-weight="600" fill="${TEXT_COLOR}">${escapeXml(panel.title)}</text>`);
    for (const t of ticks) {
      const ty = y(t);
      g.push(`<line x1="${r2(axisX)}" y1="${r2(ty)}" x2="${r2(px1)}" y2="${r2(ty)}" stroke="${GRID_COLOR}"/>`);
      g.push(`<text x="${r2(axisX - 5)}" y="${r2(ty)}" text-anchor="end" dominant-baseline="central" fill="${MUTED_COLOR}">${escapeXml(fmt(t))}</text>`);
    }
    g.push(`<line x1="${r2(axisX)}" y1="${r2(y(0))}" x2="${r2(px1)}" y2="${r2(y(0))}" stroke="${AXIS_COLOR}"/>`);
    const slot = (px1 - axisX) / Math.max(1, panel.bars.length);
    const barW = Math.min(56, slot * 0.72);
    panel.bars.forEach((b, bi) => {
      const cx = axisX + slot * (bi + 0.5);
      if (!Number.isFinite(b.value)) {
        g.push(`<text x="${r2(cx)}" y="${r2(y(0) - 6)}" text-anchor="middle" fill="${MUTED_COLOR}">n/a</text>`);
        return;
      }
      const yv = y(b.value);
      const y0 = y(0);
      g.push(
        `<rect class="mark bar" x="${r2(cx - barW / 2)}" y="${r2(Math.min(yv, y0))}" width="${r2(barW)}" height="${r2(Math.max(0.5, Math.abs(y0 - yv)))}" rx="2" fill="${b.color}"><title>${escapeXml(b.tooltip)}</title></rect>`,
      );
      const name = b.series.length > 18 ? `${b.series.slice(0, 17)}…` : b.series;
      if (textWidth(name, 10) <= slot - 2) {
        g.push(`<text class="bar-label" x="${r2(cx)}" y="${r2(height - bottom + 14)}" text-anchor="middle" font-size="10" fill="${MUTED_COLOR}">${escapeXml(name)}</text>`);
      }
      const label = panel.format(b.value);
      // Value labels only when they fit above the bar's slot.
      if (textWidth(label, 10) <= slot + 4) {
        g.push(`<text class="bar-value" x="${r2(cx)}" y="${r2(Math.min(yv, y0) - 5)}" text-anchor="middle" font-size="10" fill="${TEXT_COLOR}">${escapeXml(label)}</text>`);
      }
    });
    g.push('</g>');
    parts.push(g.join(''));
  });
  parts.push(SVG_CLOSE);
  return parts.join('');
}
