/**
 * `recsys experiments status --html <file>`: a self-contained page (inline SVG charts from
 * report/charts.ts, no script, no external reference; a CSP that forbids loads) with, per
 * experiment, a table of the arms (impressions, CTR and conversion rate with 95% intervals,
 * lift, share, guardrail) and two charts: each arm's cumulative CTR over time (with intervals)
 * and its share of the traffic over time.
 */
import { escapeXml, seriesColor, xyChart, type XYSeries } from '../report/charts.js';
import type { ExperimentStatus } from './status.js';

const CSS = `
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2937; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 10px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.charts svg { max-width: 100%; height: auto; }
.note { color: #6b7280; font-size: 13px; }
.bad { color: #b91c1c; }
.scroll { overflow-x: auto; }
`;

const pct = (v: number, digits = 2): string => (Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : '–');

function section(s: ExperimentStatus): string {
  const start = s.series.length > 0 ? s.series[0].t : 0;
  const minutes = (t: number): number => (t - start) / 60;
  const rows = s.arms
    .map(
      (a) =>
        `<tr><td>${escapeXml(a.arm)}${a.control ? ' (control)' : ''}</td><td>${a.impressions.toLocaleString('en-US')}</td><td>${a.clicks.toLocaleString('en-US')}</td>` +
        `<td>${pct(a.ctr)} [${pct(a.ctrCi95[0])}, ${pct(a.ctrCi95[1])}]</td><td>${pct(a.conversionRate)} [${pct(a.conversionCi95[0])}, ${pct(a.conversionCi95[1])}]</td>` +
        `<td>${a.control ? '–' : pct(a.lift, 1)}</td><td>${pct(a.share, 1)}</td>` +
        `<td>${a.guardrail?.ran ? `Λ = ${a.guardrail.lambda.toFixed(2)} / ${a.guardrail.threshold.toFixed(0)}` : a.control ? '–' : 'waiting for data'}</td>` +
        `<td${a.rolledBack ? ' class="bad"' : ''}>${a.rolledBack ? `rolled back: ${escapeXml(a.rolledBack.reason)}` : 'live'}</td></tr>`,
    )
    .join('');
  const ctrSeries: XYSeries[] = s.arms.map((a, i) => ({
    name: a.arm,
    color: seriesColor(i),
    points: s.series
      .filter((p) => p.arm === a.arm)
      .map((p) => ({
        x: minutes(p.t),
        y: p.cumulativeCtr,
        lo: p.cumulativeCi95[0],
        hi: p.cumulativeCi95[1],
        tooltip: `${a.arm} at ${new Date(p.t * 1000).toISOString().slice(0, 16).replace('T', ' ')}: CTR so far ${pct(p.cumulativeCtr)} [${pct(p.cumulativeCi95[0])}, ${pct(p.cumulativeCi95[1])}]; this bucket ${p.clicks}/${p.impressions}`,
      })),
  }));
  const shareSeries: XYSeries[] = s.arms.map((a, i) => ({
    name: a.arm,
    color: seriesColor(i),
    points: s.series.filter((p) => p.arm === a.arm).map((p) => ({ x: minutes(p.t), y: p.share, tooltip: `${a.arm}: ${pct(p.share, 1)} of the impressions of bucket ${new Date(p.t * 1000).toISOString().slice(11, 16)}` })),
  }));
  const ctrChart = xyChart({
    name: `ctr-${s.id}`,
    title: 'CTR over time (cumulative, 95% interval)',
    description: `Cumulative click-through rate of each arm of experiment ${s.id} per ${s.bucketSeconds}-second bucket`,
    xLabel: 'minutes since the first impression',
    yLabel: 'CTR',
    series: ctrSeries,
    x: { type: 'linear' },
    y: { type: 'linear', zero: false, format: (v) => `${(v * 100).toFixed(1)}%` },
  });
  const shareChart = xyChart({
    name: `share-${s.id}`,
    title: 'Traffic share over time',
    description: `Share of each ${s.bucketSeconds}-second bucket's impressions that went to each arm of experiment ${s.id}`,
    xLabel: 'minutes since the first impression',
    yLabel: 'share of impressions',
    series: shareSeries,
    x: { type: 'linear' },
    y: { type: 'linear', format: (v) => `${Math.round(v * 100)}%` },
  });
  const canary = s.canary
    ? `<p>Canary <b>${escapeXml(s.canary.arm)}</b>: step ${s.canary.step + 1} of ${s.canary.steps.length} (${s.canary.steps.map((x) => pct(x, 0)).join(' → ')}), ${s.canary.status}, now ${pct(s.canary.share, 1)} of the traffic, ${s.canary.impressionsAtStep.toLocaleString('en-US')} impressions at this step.</p>`
    : '';
  return [
    `<h2>${escapeXml(s.id)} <span class="note">${s.enabled ? 'enabled' : 'disabled'} · ${s.mode} · control ${escapeXml(s.control)}</span></h2>`,
    s.description ? `<p>${escapeXml(s.description)}</p>` : '',
    `<p class="note">${s.totals.impressions.toLocaleString('en-US')} impressions, ${s.totals.clicks.toLocaleString('en-US')} clicks, ${s.totals.conversions.toLocaleString('en-US')} conversions; attribution window ${s.attributionWindowSeconds} s. Guardrail: roll back an arm more than ${pct(s.guardrail.maxRelativeDrop, 1)} below the control (mSPRT, α = ${s.guardrail.alpha}, always valid under continuous monitoring).</p>`,
    canary,
    `<div class="scroll"><table><thead><tr><th>arm</th><th>impressions</th><th>clicks</th><th>CTR [95% CI]</th><th>conversion [95% CI]</th><th>lift vs control</th><th>share now</th><th>guardrail</th><th>state</th></tr></thead><tbody>${rows}</tbody></table></div>`,
    `<div class="charts">${ctrChart}${shareChart}</div>`,
  ].join('\n');
}

export function renderExperimentsHtml(statuses: readonly ExperimentStatus[], generatedAt = new Date()): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>recsys experiments</title>',
    `<style>${CSS}</style></head><body>`,
    `<h1>Experiments</h1><p class="note">Generated ${escapeXml(generatedAt.toISOString())} by <code>recsys experiments status --html</code>.</p>`,
    statuses.length ? statuses.map(section).join('\n') : '<p>No experiment found.</p>',
    '</body></html>',
    '',
  ].join('\n');
}
