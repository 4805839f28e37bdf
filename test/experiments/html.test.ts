/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser, so this file type-checks against the DOM too.
/**
 * The `experiments status --html` page: self-contained (no external reference, a CSP forbidding
 * loads), opened offline in headless Chromium (playwright-core), where the CTR-over-time and share
 * charts render one line per arm and one point per (arm, bucket).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderExperimentsHtml } from '../../src/core/experiments/html.js';
import { seriesOf, type ExperimentStatus } from '../../src/core/experiments/status.js';
import { wilson } from '../../src/core/experiments/stats.js';
import type { ArmView } from '../../src/core/experiments/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-exp-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Three one-minute buckets, two arms; 'b' was rolled back after the second.
const HASH: Record<string, string> = {
  '1764079200|imp|control': '100', '1764079200|clk|control': '30', '1764079200|imp|b': '100', '1764079200|clk|b': '20',
  '1764079260|imp|control': '150', '1764079260|clk|control': '45', '1764079260|imp|b': '150', '1764079260|clk|b': '25',
  '1764079320|imp|control': '300', '1764079320|clk|control': '90', '1764079320|conv|control': '9',
};

function arm(name: string, impressions: number, clicks: number, control: boolean, share: number, rolled: boolean): ArmView {
  return {
    arm: name, control, impressions, clicks, conversions: control ? 9 : 0, share,
    rolledBack: rolled ? { arm: name, atMs: 1764079300000, reason: 'CTR 18.0% vs control 30.0% <b>', armImpressions: 250, controlImpressions: 250, armCtr: 0.18, controlCtr: 0.3, lambda: 31, threshold: 20 } : null,
    ctr: clicks / impressions, ctrCi95: wilson(clicks, impressions), conversionRate: control ? 9 / impressions : 0, conversionCi95: wilson(control ? 9 : 0, impressions),
    lift: control ? NaN : (clicks / impressions) / 0.3 - 1, guardrail: control ? null : { difference: -0.105, lambda: 31, threshold: 20, pValue: 1 / 31, reject: true, ran: true }, posteriorMean: null,
  };
}

const status: ExperimentStatus = {
  id: 'exp1', description: 'als against <popularity>', enabled: true, mode: 'fixed', control: 'control',
  guardrail: { enabled: true, maxRelativeDrop: 0.05, alpha: 0.05, mixtureSd: 0.01, minImpressions: 100 }, attributionWindowSeconds: 1800,
  totals: { impressions: 800, clicks: 210, conversions: 9 },
  arms: [arm('control', 550, 165, true, 1, false), arm('b', 250, 45, false, 0, true)],
  canary: null, bucketSeconds: 60, series: seriesOf({ arms: ['control', 'b'] }, HASH), logEntries: 1010,
};

test('series: buckets in time order with per-bucket and cumulative CTR and shares', () => {
  const s = status.series;
  assert.deepEqual(s.map((p) => [p.t, p.arm, p.impressions, p.clicks]), [
    [1764079200, 'control', 100, 30], [1764079200, 'b', 100, 20],
    [1764079260, 'control', 150, 45], [1764079260, 'b', 150, 25],
    [1764079320, 'control', 300, 90],
  ]);
  assert.equal(s[3].cumulativeCtr, 45 / 250);
  assert.equal(s[4].share, 1);
  assert.equal(s[0].share, 0.5);
  assert.equal(s[4].conversions, 9);
});

test('the page is self-contained and escapes names', () => {
  const html = renderExperimentsHtml([status], new Date('2026-11-25T12:00:00Z'));
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`));
  assert.deepEqual([...new Set(html.match(/\b(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [])], ['http://www.w3.org/2000/svg']);
  assert.equal((html.match(/<script|<link|<img|<iframe|@import|url\(/gi) ?? []).length, 0);
  assert.ok(html.includes('als against &lt;popularity&gt;'));
  assert.ok(html.includes('rolled back: CTR 18.0% vs control 30.0% &lt;b&gt;'));
});

const CHROMIUM = process.env.RECSYS_CHROMIUM ?? '/usr/bin/chromium';
const browserSkip = existsSync(CHROMIUM) || process.env.CI ? false : `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set RECSYS_CHROMIUM. Skipped outside CI only; CI must run it.`;

test('headless Chromium renders the CTR-over-time chart offline: a line per arm, a point per bucket, no errors', { skip: browserSkip, timeout: 60_000 }, async () => {
  const file = join(dir, 'experiments.html');
  writeFileSync(file, renderExperimentsHtml([status]));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      external.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('.mark')];
        return {
          name: svg.getAttribute('data-chart'),
          width: box.width,
          height: box.height,
          lines: svg.querySelectorAll('path.mark').length,
          points: svg.querySelectorAll('circle.mark').length,
          drawn: marks.filter((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            return b.width > 0 || b.height > 0;
          }).length,
          total: marks.length,
          series: [...svg.querySelectorAll('g.series')].map((g) => g.getAttribute('data-series')),
        };
      }),
    );
    assert.deepEqual(charts.map((c) => c.name), ['ctr-exp1', 'share-exp1']);
    for (const c of charts) {
      assert.ok(c.width > 200 && c.height > 100, `${c.name} has a real size (${c.width}×${c.height})`);
      assert.deepEqual(c.series, ['control', 'b']);
      assert.equal(c.lines, 2, `${c.name}: one line per arm`);
      assert.equal(c.points, 5, `${c.name}: one point per (arm, bucket)`);
      assert.equal(c.drawn, c.total, `${c.name}: every mark has a non-empty box`);
    }
    const rows = await page.evaluate(() => [...document.querySelectorAll('tbody tr')].map((tr) => tr.querySelector('td')?.textContent));
    assert.deepEqual(rows, ['control (control)', 'b']);
    assert.deepEqual(external, []);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
  }
});
