/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser, so this file type-checks against the DOM too.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { renderSimulationHtml, renderSimulationMarkdown, type SimulationReport } from '../../src/core/bandits/report.js';
import { runSimulation } from '../../src/core/bandits/workflow.js';
import { SHARED_DATASETS } from '../helpers.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-simulate-report-'));
after(() => rm(root, { recursive: true, force: true }));
const OBD = join(SHARED_DATASETS, 'obd-small');
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

const synthetic = await runSimulation({
  synthetic: { env: { arms: 5, range: [0, 1] }, horizon: 3000, runs: 8, policies: [{ name: 'ts' }, { name: 'ucb' }, { name: 'egreedy' }], seed: 42 },
  reportsDir: join(root, 'reports'),
  now: NOW,
});
const logged = await runSimulation({
  logged: { path: join(OBD, 'random', 'men'), targetLog: join(OBD, 'bts', 'men'), estimators: ['replay', 'ips', 'snips', 'dm', 'dr'], bootstrapSamples: 300 },
  reportsDir: join(root, 'reports'),
  now: NOW,
});

function chartSvg(html: string, name: string): string {
  const start = html.indexOf(`data-chart="${name}"`);
  assert.ok(start >= 0, `chart ${name} present`);
  const open = html.lastIndexOf('<svg', start);
  return html.slice(open, html.indexOf('</svg>', start) + 6);
}
const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

test('runSimulation writes report.json, report.md and report.html under reports/<run-id>/', async () => {
  assert.equal(synthetic.report.runId, '20260102-030405-synthetic-ts-ucb-egreedy');
  assert.equal(logged.report.runId, '20260102-030405-behaviour-random-men');
  for (const r of [synthetic, logged]) {
    assert.ok(r.paths);
    assert.deepEqual((await readdir(r.paths.dir)).sort(), ['report.html', 'report.json', 'report.md']);
    const json = JSON.parse(await readFile(r.paths.json, 'utf8')) as SimulationReport;
    assert.equal(json.format, 'recsys-simulate-report');
    assert.equal(json.mode, r.report.mode);
  }
  const l = logged.report.logged;
  assert.ok(l && l.target);
  assert.equal(l.policy.label, 'behaviour policy of bts/men');
  assert.equal(l.target.onPolicy.value, 0.0069);
  assert.deepEqual(l.comparison.map((c) => c.estimator), ['replay', 'ips', 'snips', 'dm', 'dr']);
  // Replay on the (uniform) random log is allowed and unwarned; IPS/SNIPS/DR hold the truth.
  assert.ok(l.comparison.filter((c) => ['ips', 'snips', 'dr'].includes(c.estimator)).every((c) => c.truthInCi));
});

test('report.md: regret table for synthetic runs, estimates and truth comparison for logged ones', () => {
  const md = renderSimulationMarkdown(synthetic.report);
  assert.match(md, /^# recsys simulate 20260102-030405-synthetic-ts-ucb-egreedy/);
  assert.match(md, /\| policy \| regret at T \| 95% CI \| sd over runs \| growth exponent \|/);
  assert.match(md, /\| ts \| \d+\.\d \| \[\d+\.\d, \d+\.\d\] \|/);
  assert.match(md, /arm probabilities drawn afresh for every run/);
  const lmd = renderSimulationMarkdown(logged.report);
  assert.match(lmd, /\| target policy \(observed on-policy\) \| 0\.00690 \| \[0\.005\d+, 0\.00\d+\] \| 10,000 \|/);
  assert.match(lmd, /## Against the observed on-policy value/);
  assert.match(lmd, /\| ips \| -0\.00121 \| 17\.6% \| yes \| yes \|/);
});

test('report.html is self-contained, every chart has its marks with tooltips, user text is escaped', () => {
  const html = renderSimulationHtml(synthetic.report);
  assert.ok(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`));
  const urls = html.match(/\b(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
  assert.equal(count(html, /<script|<link|<img|<iframe|@import|url\(/gi), 0);
  // regret: 3 lines + 3 bands; log–log: 3 lines + the slope-1 reference; ctr: 3 lines + 3 bands.
  const regret = chartSvg(html, 'regret');
  assert.equal(count(regret, /<path class="mark line"/g), 3);
  assert.equal(count(regret, /<path class="band"/g), 3);
  assert.equal(count(chartSvg(html, 'regret-loglog'), /<path class="mark line"/g), 4);
  assert.equal(count(chartSvg(html, 'ctr'), /<path class="band"/g), 3);
  assert.equal(count(chartSvg(html, 'ctr'), /<line class="ref"/g), 1);
  for (const name of ['regret', 'regret-loglog', 'ctr']) {
    const svg = chartSvg(html, name);
    assert.match(svg, /role="img" aria-label="[^"]+"/);
    assert.equal(count(svg, /class="mark[^"]*"[^>]*><title>[^<]+<\/title>/g), count(svg, /class="mark/g), `${name}: every mark has a tooltip`);
    assert.ok(!/NaN|Infinity|undefined/.test(svg), `${name} has no NaN coordinates`);
  }
  const lhtml = renderSimulationHtml(logged.report);
  const est = chartSvg(lhtml, 'estimates');
  assert.equal(count(est, /<circle class="mark point"/g), 5);
  assert.equal(count(est, /<line class="ref"/g), 2);
  assert.equal(count(est, /<g class="whisker"/g), 5, 'a CI whisker per estimate');
  assert.ok(!/NaN|undefined/.test(est));
  assert.ok(lhtml.includes('data-chart="replay"'));

  const evil = structuredClone(logged.report);
  assert.ok(evil.logged);
  evil.logged.policy.label = '<img src=x onerror="alert(1)">';
  evil.runId = '<b>run</b>';
  const e = renderSimulationHtml(evil);
  assert.equal(count(e, /<img|<b>run|onerror="alert/gi), 0);
  assert.ok(e.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'));
});

// ---------------------------------------------------------------------------------------------
// In a real browser, offline

const CHROMIUM = process.env.RECSYS_CHROMIUM ?? '/usr/bin/chromium';
const browserSkip =
  existsSync(CHROMIUM) || process.env.CI
    ? false
    : `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set RECSYS_CHROMIUM. Skipped outside CI only; CI must run it.`;

test('the simulate reports open offline in Chromium: no errors, charts drawn at a real size, no overflow', { skip: browserSkip, timeout: 60_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    for (const [name, result, width] of [
      ['synthetic', synthetic, 1280],
      ['logged', logged, 1280],
      ['logged-narrow', logged, 420],
    ] as const) {
      assert.ok(result.paths);
      const context = await browser.newContext({ viewport: { width, height: 900 } });
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
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(pathToFileURL(result.paths.html).href, { waitUntil: 'load' });
      const charts = await page.evaluate(() =>
        [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = [...svg.querySelectorAll('.mark')];
          const drawn = marks.filter((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            return b.width > 0 || b.height > 0;
          }).length;
          return { name: svg.getAttribute('data-chart') ?? '', role: svg.getAttribute('role'), width: box.width, height: box.height, marks: marks.length, drawn };
        }),
      );
      const expected = name === 'synthetic' ? ['ctr', 'regret', 'regret-loglog'] : ['estimates', 'replay'];
      assert.deepEqual(charts.map((c) => c.name).sort(), expected);
      for (const c of charts) {
        assert.equal(c.role, 'img');
        assert.ok(c.width > 200 && c.height > 100, `${name}/${c.name} has a real size (${c.width}×${c.height})`);
        assert.ok(c.marks > 0 && c.drawn === c.marks, `${name}/${c.name}: ${c.drawn} of ${c.marks} marks drawn`);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name}: page is ${overflow}px wider than the window`);
      await page.screenshot({ path: `/tmp/simulate-report-${name}.png`, fullPage: true });
      assert.deepEqual(external, []);
      assert.deepEqual(errors, []);
      await context.close();
    }
  } finally {
    await browser.close();
  }
});
