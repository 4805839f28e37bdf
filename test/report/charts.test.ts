import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  barPanelsChart,
  escapeXml,
  histogramChart,
  linearTickFormat,
  linearTicks,
  logTicks,
  niceDomain,
  scaleLinear,
  scaleLog,
  scalePoint,
  tickIncrement,
  xyChart,
} from '../../src/core/report/charts.js';

const count = (svg: string, re: RegExp): number => (svg.match(re) ?? []).length;

test('ticks: d3-style steps of 1, 2 and 5 times a power of ten, no float drift', () => {
  assert.deepEqual(linearTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearTicks(0, 0.37, 5), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(linearTicks(0, 25, 5), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(linearTicks(1, 0, 2), [1, 0.5, 0]);
  assert.deepEqual(linearTicks(3, 3, 5), [3]);
  assert.equal(tickIncrement(0, 1, 10), -10); // step 1/10
  assert.equal(tickIncrement(0, 100, 10), 10);
  assert.deepEqual(niceDomain(0, 0.37, 5), [0, 0.4]);
  assert.deepEqual(niceDomain(0.013, 0.98, 5), [0, 1]);
  assert.deepEqual(niceDomain(0, 23, 5), [0, 25]);
  const fmt = linearTickFormat([0, 0.05, 0.1]);
  assert.deepEqual([0, 0.05, 0.1, -0].map(fmt), ['0.00', '0.05', '0.10', '0.00']);
  assert.deepEqual([0, 10000, 20000].map(linearTickFormat([0, 10000, 20000])), ['0', '10k', '20k']);
});

test('log ticks: decades, with 2× and 5× when the span is short', () => {
  assert.deepEqual(logTicks(1, 1000), [1, 10, 100, 1000]);
  assert.deepEqual(logTicks(0.001, 1), [0.001, 0.01, 0.1, 1]);
  assert.deepEqual(logTicks(1, 10), [1, 2, 5, 10]);
  assert.deepEqual(logTicks(0, 10), []);
});

test('scales map domain to range', () => {
  const lin = scaleLinear([0, 1], [100, 0]);
  assert.equal(lin(0.25), 75);
  const log = scaleLog([1, 100], [0, 200]);
  assert.equal(log(10), 100);
  const point = scalePoint([20, 1, 5, 10], [0, 400]);
  assert.deepEqual([1, 5, 10, 20].map(point), [50, 150, 250, 350]);
  assert.deepEqual(point.ticks(0), [1, 5, 10, 20]);
});

test('escapeXml escapes the five XML specials', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('xyChart: one path per line series, one circle per point, whiskers only where lo < hi, escaped text', () => {
  const svg = xyChart({
    name: 'demo',
    title: 'A <b>title</b>',
    description: 'desc',
    xLabel: 'k',
    yLabel: 'value',
    x: { type: 'point', values: [1, 5, 10] },
    y: { type: 'linear' },
    series: [
      { name: 'm&1', color: '#000', points: [1, 5, 10].map((x) => ({ x, y: x / 20, lo: x / 20 - 0.01, hi: x / 20 + 0.01, tooltip: `m1 at ${x}` })) },
      { name: 'm2', color: '#111', points: [{ x: 1, y: 0.2, tooltip: 't' }, { x: 5, y: Number.NaN, tooltip: 'nan is skipped' }] },
    ],
  });
  assert.match(svg, /^<svg [^>]*data-chart="demo" role="img" aria-label="A &lt;b&gt;title&lt;\/b&gt;\. desc"/);
  assert.equal(count(svg, /<path class="mark line"/g), 2);
  assert.equal(count(svg, /<circle class="mark point"/g), 4);
  assert.equal(count(svg, /<g class="whisker"/g), 3);
  assert.ok(svg.includes('>m&amp;1</text>'), 'legend text escaped');
  assert.ok(!svg.includes('NaN'), 'no NaN coordinates');
  assert.ok(svg.includes('<title>m1 at 5</title>'));
});

test('xyChart with no data says so instead of drawing an empty frame', () => {
  const svg = xyChart({ name: 'e', title: 'e', description: 'e', xLabel: 'x', yLabel: 'y', x: { type: 'log' }, y: { type: 'log' }, series: [] });
  assert.ok(svg.includes('>no data</text>'));
  assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'));
});

test('histogramChart dodges series within each bin and marks means', () => {
  const bins = [0, 1, 2, 3].map((i) => ({ x0: i / 4, x1: (i + 1) / 4, count: i + 1, tooltip: `bin ${i}` }));
  const svg = histogramChart({
    name: 'h',
    title: 'h',
    description: 'h',
    xLabel: 'x',
    yLabel: 'users',
    series: [
      { name: 'a', color: '#000', bins, mean: { value: 0.5, tooltip: 'mean a' } },
      { name: 'b', color: '#111', bins },
    ],
  });
  assert.equal(count(svg, /<rect class="mark bar"/g), 8);
  assert.equal(count(svg, /class="mean-line"/g), 1);
  // The two bars of bin 0 sit side by side inside the bin, not on top of each other.
  const xs = [...svg.matchAll(/<rect class="mark bar" x="([\d.]+)"[^>]*width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const [a0, b0] = [xs[0], xs[4]];
  assert.ok(a0 && b0 && b0[0] >= a0[0] + a0[1], `bar b (${b0?.[0]}) starts after bar a ends (${(a0?.[0] ?? 0) + (a0?.[1] ?? 0)})`);
});

test('barPanelsChart: one panel per metric with its own scale, one bar per series', () => {
  const svg = barPanelsChart({
    name: 'b',
    title: 'b',
    description: 'b',
    yLabel: 'v',
    legend: [{ name: 'a', color: '#000' }, { name: 'b', color: '#111' }],
    panels: [
      { title: 'coverage@10', format: (v) => v.toFixed(2), bars: [{ series: 'a', color: '#000', value: 0.2, tooltip: 'a cov' }, { series: 'b', color: '#111', value: 0.7, tooltip: 'b cov' }] },
      { title: 'novelty@10', format: (v) => v.toFixed(1), bars: [{ series: 'a', color: '#000', value: 9.5, tooltip: 'a nov' }, { series: 'b', color: '#111', value: Number.NaN, tooltip: 'b nov' }] },
    ],
  });
  assert.equal(count(svg, /<g class="panel"/g), 2);
  assert.equal(count(svg, /<rect class="mark bar"/g), 3, 'a NaN value draws no bar');
  assert.ok(svg.includes('>n/a</text>'));
  assert.ok(svg.includes('>9.5</text>'), 'value label');
});
