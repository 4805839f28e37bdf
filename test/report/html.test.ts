/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser, so this file type-checks against the DOM too.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { renderHtml } from '../../src/core/report/html.js';
import { writeReport } from '../../src/core/report/index.js';
import type { Report } from '../../src/core/eval/types.js';
import { ALS_REC_BY_RANK, FIXTURE_KS, POPULARITY_REC_BY_RANK, fixtureReport, tinyReport } from './fixture.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-html-'));
after(() => rm(root, { recursive: true, force: true }));

/** The SVG of one chart, by its data-chart name. */
function chartSvg(html: string, name: string): string {
  const start = html.indexOf(`data-chart="${name}"`);
  assert.ok(start >= 0, `chart ${name} present`);
  const open = html.lastIndexOf('<svg', start);
  return html.slice(open, html.indexOf('</svg>', start) + 6);
}
const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

const nModels = 2;
const recommendedItems = POPULARITY_REC_BY_RANK.filter((c) => c > 0).length + ALS_REC_BY_RANK.filter((c) => c > 0).length;
/** What each chart of the fixture report must plot: marks by tag name. */
const EXPECTED: Record<string, { path?: number; circle?: number; rect?: number }> = {
  'metric-at-k-precision': { path: nModels, circle: nModels * FIXTURE_KS.length },
  'metric-at-k-recall': { path: nModels, circle: nModels * FIXTURE_KS.length },
  'metric-at-k-ndcg': { path: nModels, circle: nModels * FIXTURE_KS.length },
  'metric-at-k-map': { path: nModels, circle: nModels * FIXTURE_KS.length },
  'distribution-ndcg': { rect: nModels * 10 },
  'distribution-recall': { rect: nModels * 10 },
  'long-tail': { path: 1, circle: recommendedItems },
  'beyond-accuracy': { rect: 4 * nModels },
};

test('report.html is self-contained: no external reference of any kind, a CSP that forbids loads', () => {
  const html = renderHtml(fixtureReport());
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`));
  // The only URL allowed is the SVG namespace (an identifier, never fetched).
  const urls = html.match(/\b(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
  assert.equal(count(html, /<script|<link|<img|<iframe|@import|url\(/gi), 0);
});

test('report.html has every chart with the expected number of plotted marks, each with a tooltip', () => {
  const html = renderHtml(fixtureReport());
  for (const [name, marks] of Object.entries(EXPECTED)) {
    const svg = chartSvg(html, name);
    assert.match(svg, /role="img" aria-label="[^"]+"/, `${name} accessible`);
    assert.equal(count(svg, /<path class="mark/g), marks.path ?? 0, `${name} paths`);
    assert.equal(count(svg, /<circle class="mark/g), marks.circle ?? 0, `${name} circles`);
    assert.equal(count(svg, /<rect class="mark/g), marks.rect ?? 0, `${name} rects`);
    const markCount = (marks.path ?? 0) + (marks.circle ?? 0) + (marks.rect ?? 0);
    assert.equal(count(svg, /class="mark[^"]*"[^>]*><title>[^<]+<\/title>/g), markCount, `${name}: every mark has a tooltip`);
    assert.equal(count(svg, /class="axis-label"/g) >= 1, true, `${name} axis labels`);
    assert.ok(!/NaN|Infinity|undefined/.test(svg), `${name} has no NaN coordinates`);
  }
  // Whiskers at every k for both models (the fixture has CIs everywhere).
  assert.equal(count(chartSvg(html, 'metric-at-k-ndcg'), /<g class="whisker"/g), nModels * FIXTURE_KS.length);
});

test('report.html escapes user-supplied text everywhere', () => {
  const r = fixtureReport();
  const evil = `<img src=x onerror="alert(1)">&amp;'`;
  const m = r.models[0];
  assert.ok(m);
  m.name = evil;
  m.params = { note: '</pre><script>alert(2)</script>' };
  r.runId = '<b>run</b>';
  r.dataset.store = '"><svg onload=alert(3)>';
  const html = renderHtml(r);
  assert.equal(count(html, /<img|<script|<b>run|<svg onload|onerror="alert/gi), 0);
  assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;&#39;'));
});

test('report.html on a large catalogue bins the long tail into log-spaced ranks', () => {
  const r = tinyReport();
  const e = r.models[0]?.evaluation;
  assert.ok(e);
  const n = 20000;
  e.longTail = {
    itemPopularity: Array.from({ length: n }, (_, i) => Math.round(1e5 / (i + 1))),
    recommendedCount: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 + (i % 7) : 0)),
  };
  const svg = chartSvg(renderHtml(r), 'long-tail');
  const points = count(svg, /<circle class="mark point"/g);
  // 40 bins per decade over 4.3 decades, fewer at the head where bins are single ranks.
  assert.ok(points > 50 && points <= 175, `${points} binned points`);
  assert.match(svg, /items ranked \d+–\d+ \(average per item\)/);
});

test('report.html reads the evaluator\'s bucketed long tail (rankBucketSize) in rank order', () => {
  const r = tinyReport();
  const e = r.models[0]?.evaluation;
  assert.ok(e);
  // 10,001 items summed into buckets of 10 ranks: 1,001 points, the last one holding one item.
  r.dataset.nItems = 10001;
  const nBuckets = 1001;
  e.longTail = {
    itemPopularity: Array.from({ length: nBuckets }, (_, b) => (b === nBuckets - 1 ? 1 : 10 * Math.round(1e4 / (b + 1)))),
    // Only the first bucket (ranks 1-10) and bucket 500 (ranks 5001-5010) are recommended.
    recommendedCount: Array.from({ length: nBuckets }, (_, b) => (b === 0 ? 90 : b === 500 ? 10 : 0)),
    rankBucketSize: 10,
  };
  const html = renderHtml(r);
  const svg = chartSvg(html, 'long-tail');
  const tips = [...svg.matchAll(/<circle class="mark point"[^>]*><title>([^<]+)<\/title>/g)].map((m) => m[1]);
  assert.deepEqual(tips, [
    'pop|ular: items ranked 1–10 (average per item): 9.0% of recommendations, 90 recommendations in all',
    // Bucket 500 (ranks 5001-5010) shares the log bin 10^(147/40)..10^(148/40) = 4732..5012 with its
    // neighbours, i.e. buckets from ranks 4731-4740 to 5001-5010: 280 items, 10/280/100 = 0.036% each.
    'pop|ular: items ranked 4731–5010 (average per item): 0.04% of recommendations, 10 recommendations in all',
  ]);
  // The last bucket is cut to the catalogue (10,001 items, not 10,010), so the head is 2,001 items;
  // 90% of recommendations go there; distinct items are unknown in buckets and not claimed.
  assert.match(html, /pop\|ular: 90\.0% of recommendations to the 2,001 most popular items \(top 20%\)/);
});

test('beyond-accuracy: the chart shows the main k only, the table every k that has values', () => {
  const r = fixtureReport();
  for (const m of r.models) for (const k of [1, 5, 20]) m.evaluation.beyondAccuracy[`coverage@${k}`] = k / 100;
  const html = renderHtml(r);
  const svg = chartSvg(html, 'beyond-accuracy');
  assert.deepEqual([...svg.matchAll(/data-panel="([^"]+)"/g)].map((m) => m[1]), ['coverage@10', 'diversity@10', 'novelty@10', 'popularity_bias@10']);
  const table = html.slice(html.indexOf('<h3>At every cut-off</h3>'));
  assert.match(table, /<th>@1<\/th><th>@5<\/th><th>@10 \(main\)<\/th><th>@20<\/th>/);
  // coverage at k = 1 for popularity, then – where a metric was only computed at the main k.
  assert.match(table, />coverage<\/td><td class="text">.*?popularity<\/td><td>0\.0100<\/td><td>0\.0500<\/td><td>0\.2400<\/td><td>0\.2000<\/td>/);
  assert.match(table, />novelty<\/td><td class="text">.*?popularity<\/td><td>–<\/td><td>–<\/td><td>10\.00<\/td><td>–<\/td>/);
});

test('report.html renders a one-model, one-k report without comparisons', () => {
  const html = renderHtml(tinyReport());
  assert.ok(html.includes('No paired comparisons'));
  assert.equal(count(chartSvg(html, 'metric-at-k-ndcg'), /<circle class="mark/g), 1);
  assert.equal(count(chartSvg(html, 'distribution-ndcg'), /<rect class="mark/g), 2);
});

// ---------------------------------------------------------------------------------------------
// In a real browser, offline

const CHROMIUM = process.env.RECSYS_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const browserSkip =
  haveChromium || process.env.CI
    ? false
    : `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set RECSYS_CHROMIUM. Skipped outside CI only; CI must run it.`;

type Browser = Awaited<ReturnType<(typeof import('playwright-core'))['chromium']['launch']>>;
let browserPromise: Promise<Browser> | null = null;
/** One Chromium for the whole file (launching takes about a second). */
function getBrowser(): Promise<Browser> {
  browserPromise ??= import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }));
  return browserPromise;
}
after(async () => {
  if (browserPromise) await (await browserPromise.catch(() => null))?.close();
});

async function openReport(report: Report, name: string, width: number) {
  const dir = join(root, name);
  const paths = await writeReport(report, dir);
  const browser = await getBrowser();
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const external: string[] = [];
  // Block the network: anything but the file itself is aborted and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => errors.push(`requestfailed: ${req.url()}`));
  await page.goto(pathToFileURL(paths.html).href, { waitUntil: 'load' });
  return { context, page, errors, external };
}

test('report.html opens offline in Chromium: no errors, every chart drawn with its marks', { skip: browserSkip, timeout: 60_000 }, async () => {
  const { context, page, errors, external } = await openReport(fixtureReport(), 'fixture', 1280);
  try {
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('.mark')];
        const drawn = marks.filter((m) => {
          const b = (m as SVGGraphicsElement).getBBox();
          return b.width > 0 || b.height > 0;
        }).length;
        const byTag: Record<string, number> = {};
        for (const m of marks) byTag[m.tagName] = (byTag[m.tagName] ?? 0) + 1;
        return { name: svg.getAttribute('data-chart') ?? '', role: svg.getAttribute('role'), label: svg.getAttribute('aria-label') ?? '', width: box.width, height: box.height, byTag, drawn, total: marks.length };
      }),
    );
    assert.deepEqual(charts.map((c) => c.name).sort(), Object.keys(EXPECTED).sort());
    for (const c of charts) {
      const want = EXPECTED[c.name] ?? {};
      assert.equal(c.role, 'img');
      assert.ok(c.label.length > 10, `${c.name} aria-label`);
      assert.ok(c.width > 200 && c.height > 100, `${c.name} has a real size (${c.width}×${c.height})`);
      assert.deepEqual(c.byTag, Object.fromEntries(Object.entries(want).filter(([, v]) => v > 0)), `${c.name} marks`);
      // Histogram bins can be empty (zero height); everything else must be visible.
      if (!c.name.startsWith('distribution-')) assert.equal(c.drawn, c.total, `${c.name}: every mark has a non-empty box`);
      else assert.ok(c.drawn > c.total / 2, `${c.name}: most bins drawn`);
    }
    // Nothing overflows the page sideways at a desktop width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
    await page.screenshot({ path: '/tmp/report-screenshot.png', fullPage: true });
    assert.deepEqual(external, [], 'no network request');
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await context.close();
  }
});

test('report.html stays readable on a narrow screen (small charts scale, wide ones and tables scroll in place)', { skip: browserSkip, timeout: 60_000 }, async () => {
  const { context, page, errors, external } = await openReport(fixtureReport(), 'narrow', 420);
  try {
    const res = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      charts: [...document.querySelectorAll('svg[data-chart]')].map((s) => ({
        name: s.getAttribute('data-chart') ?? '',
        right: s.getBoundingClientRect().right,
        width: s.getBoundingClientRect().width,
        scrolls: s.parentElement ? s.parentElement.scrollWidth > s.parentElement.clientWidth : false,
      })),
    }));
    assert.ok(res.overflow <= 0, `page is ${res.overflow}px wider than a 420px window`);
    for (const c of res.charts) {
      if (c.name === 'long-tail' || c.name === 'beyond-accuracy') assert.ok(c.width >= 700 && c.scrolls, `${c.name} keeps its width and scrolls in its frame`);
      else assert.ok(c.right <= 420, `${c.name} fits the window (ends at ${c.right}px)`);
    }
    await page.screenshot({ path: '/tmp/report-screenshot-narrow.png', fullPage: true });
    assert.deepEqual(external, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
