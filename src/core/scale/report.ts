/**
 * The scaling benchmark's outputs: scale.json (the raw report, read back by `recsys bench capacity
 * --scale`), Markdown tables (BENCHMARKS.md, docs/scale.md), log-log SVG charts (cost and memory
 * against size, ALS seconds/iteration against nnz with the fitted line) and one self-contained
 * HTML page with all of them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeXml, seriesColor, xyChart, type XYSeries } from '../report/charts.js';
import { findFit, type StageFit } from './cost.js';
import { formatCount, GiB, MiB } from './measure.js';
import type { ScaleReport } from './benchmark.js';
import type { ScaleSizeResult, StageName } from './size-run.js';

const STAGE_LABEL: Record<StageName, string> = {
  synth: 'synth → Parquet',
  ingest: 'ingest → DuckDB',
  matrix: 'matrix (CSR)',
  als: 'ALS fit',
  recommend: 'recommend-all top-10 (projected)',
  precompute: 'precompute → Redis (projected)',
  save: 'save artifact',
};

const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const s2 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mib = (b: number | null): string => (b === null ? '–' : b >= 10 * GiB ? `${(b / GiB).toFixed(1)} GiB` : `${(b / MiB).toFixed(0)} MiB`);
const duration = (s: number): string => (s >= 7200 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s2(s)} s`);

function stage(r: ScaleSizeResult, name: StageName) {
  return r.stages.find((s) => s.stage === name) ?? null;
}

/** Time per stage (one row per size). */
export function timeTable(report: ScaleReport): string {
  const head = '| events | users × items | pairs (nnz) | synth | ingest | matrix | ALS s/iter wall · CPU (fit, iters) | recommend-all top-10 | precompute → Redis | save | child wall |';
  const rows = report.results.map((r) => {
    const rec = r.recommend;
    const pc = r.precompute;
    return `| ${formatCount(r.size.interactions)} | ${n0(r.matrix.users)} × ${n0(r.matrix.items)} | ${n0(r.matrix.nnz)} | ${s2(stage(r, 'synth')?.seconds ?? NaN)} s | ${s2(stage(r, 'ingest')?.seconds ?? NaN)} s | ${s2(stage(r, 'matrix')?.seconds ?? NaN)} s | ` +
      `**${s2(r.als.secondsPerIteration)} s** · ${s2(r.als.cpuSecondsPerIteration)} s (${s2(r.als.fitSeconds)} s, ${r.als.iterations}) | ${duration(rec.projectedSeconds)} (${n0(rec.sampleUsers)} users in ${s2(rec.seconds)} s) | ` +
      `${pc ? `${duration(pc.projectedSeconds)} (${n0(pc.sampleUsers)} in ${s2(pc.seconds)} s)` : '–'} | ${s2(stage(r, 'save')?.seconds ?? NaN)} s | ${duration(r.totalSeconds)} |`;
  });
  return [head, `|${' --- |'.repeat(11)}`, ...rows].join('\n');
}

/** Peak RSS per stage, DuckDB memory and bytes on disk (one row per size). */
export function memoryTable(report: ScaleReport): string {
  const head = '| events | synth | ingest (DuckDB after) | matrix (DuckDB after) | ALS fit | recommend | precompute | process peak | Parquet | store | CSR | factors | artifact |';
  const rows = report.results.map((r) => {
    const st = (n: StageName): string => mib(stage(r, n)?.peakRssBytes ?? null);
    return `| ${formatCount(r.size.interactions)} | ${st('synth')} | ${st('ingest')} (${mib(stage(r, 'ingest')?.duckdbBytes ?? null)}) | ${st('matrix')} (${mib(stage(r, 'matrix')?.duckdbBytes ?? null)}) | ${st('als')} | ${st('recommend')} | ${st('precompute')} | **${mib(r.processPeakRssBytes)}** | ` +
      `${mib(stage(r, 'synth')?.diskBytes ?? null)} | ${mib(stage(r, 'ingest')?.diskBytes ?? null)} | ${mib(r.matrix.csrBytes)} | ${mib(r.als.factorBytes)} | ${mib(stage(r, 'save')?.diskBytes ?? null)} |`;
  });
  return [head, `|${' --- |'.repeat(13)}`, ...rows].join('\n');
}

/** The fitted exponents (seconds and peak RSS against events; ALS against nnz and users + items). */
export function fitTable(fits: readonly StageFit[]): string {
  const head = '| what | exponent b (cost ∝ size^b) | R² | sizes |';
  const rows = fits.map((f) => `| ${f.what} | **${f.exponent.toFixed(2)}** | ${f.r2.toFixed(3)} | ${formatCount(f.from)} … ${formatCount(f.to)} (${f.points}) |`);
  return [head, '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function shardTable(report: ScaleReport): string {
  if (!report.shards) return '';
  const head = '| processes | threads each | users | wall (start → last exit) | users/s (wall) | users/s (precompute window) | keys in Redis | pointer flipped |';
  const rows = report.shards.runs.map((r) => `| ${r.processes} | ${r.threadsPerProcess ?? '–'} | ${n0(r.users)} | ${s2(r.wallSeconds)} s | ${n0(r.usersPerSecond)} | **${n0(r.precomputeUsersPerSecond)}** | ${n0(r.keysWritten)} | ${r.flipped ? 'yes' : 'no'} |`);
  return [head, '| --- | --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export interface ScaleCharts {
  time: string;
  memory: string;
  als: string;
}

export function scaleCharts(report: ScaleReport): ScaleCharts {
  const rs = report.results;
  const xs = rs.map((r) => r.events);
  const stages = [...new Set(rs.flatMap((r) => r.stages.map((s) => s.stage)))];
  const perStage = (key: 'projectedSeconds' | 'peakRssBytes', scale: number): XYSeries[] =>
    stages.map((name, i) => ({
      name: STAGE_LABEL[name],
      color: seriesColor(i),
      points: rs.flatMap((r) => {
        const s = stage(r, name);
        return s ? [{ x: r.events, y: s[key] / scale, tooltip: `${STAGE_LABEL[name]} at ${formatCount(r.size.interactions)} events: ${key === 'peakRssBytes' ? mib(s.peakRssBytes) : duration(s.projectedSeconds)}` }] : [];
      }),
    }));
  const time = xyChart({
    name: 'scale-time',
    title: 'Wall time per stage against events (log-log)',
    description: 'Seconds of each pipeline stage for each benchmark size; recommend-all and precompute are projected from a sample to every user.',
    xLabel: 'events (interactions)',
    yLabel: 'seconds',
    series: perStage('projectedSeconds', 1),
    x: { type: 'log', values: xs },
    y: { type: 'log' },
    width: 640,
    height: 400,
  });
  const memory = xyChart({
    name: 'scale-memory',
    title: 'Peak RSS per stage against events (log-log)',
    description: 'Peak resident memory of the benchmark process during each stage, per size.',
    xLabel: 'events (interactions)',
    yLabel: 'peak RSS (MiB)',
    series: perStage('peakRssBytes', MiB),
    x: { type: 'log', values: xs },
    y: { type: 'log' },
    width: 640,
    height: 400,
  });
  const fit = findFit(report.fits, 'als-iteration', 'nnz');
  const nnz = rs.map((r) => r.matrix.nnz);
  const series: XYSeries[] = [
    { name: 'ALS seconds/iteration (median, wall)', color: seriesColor(0), points: rs.map((r) => ({ x: r.matrix.nnz, y: r.als.secondsPerIteration, tooltip: `${n0(r.matrix.nnz)} nnz: ${s2(r.als.secondsPerIteration)} s/iteration` })) },
    { name: 'ALS CPU seconds/iteration (all threads)', color: seriesColor(1), points: rs.map((r) => ({ x: r.matrix.nnz, y: r.als.cpuSecondsPerIteration, tooltip: `${n0(r.matrix.nnz)} nnz: ${s2(r.als.cpuSecondsPerIteration)} CPU s/iteration` })) },
  ];
  if (fit) {
    const lo = fit.from;
    const hi = fit.to;
    series.push({
      name: `fit: ∝ nnz^${fit.exponent.toFixed(2)} (${formatCount(lo)}–${formatCount(hi)} nnz)`,
      color: seriesColor(2),
      mode: 'line',
      dashed: true,
      points: [lo, hi].map((x) => ({ x, y: fit.coefficient * x ** fit.exponent, tooltip: '' })),
    });
    const anchor = rs[0].matrix.nnz;
    series.push({
      name: 'linear (slope 1) from the smallest size',
      color: seriesColor(9),
      mode: 'line',
      dashed: true,
      points: [anchor, Math.max(...nnz)].map((x) => ({ x, y: rs[0].als.secondsPerIteration * (x / anchor), tooltip: '' })),
    });
  }
  const als = xyChart({
    name: 'scale-als',
    title: 'ALS seconds per iteration against nnz (log-log)',
    description: `Median seconds per ALS iteration at ${report.settings.factors} factors, with the least-squares power law and a slope-1 reference line.`,
    xLabel: 'non-zeros (user, item pairs)',
    yLabel: 'seconds / iteration',
    series,
    x: { type: 'log', values: nnz },
    y: { type: 'log' },
    width: 640,
    height: 400,
  });
  return { time, memory, als };
}

function machineLine(report: ScaleReport): string {
  const m = report.machine;
  return `${m.cpus} × ${m.cpu}, ${m.memoryGiB.toFixed(0)} GiB, node ${m.node}; load average at start ${m.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}, at end ${m.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')}`;
}

function settingsLine(report: ScaleReport): string {
  const s = report.settings;
  const r0 = report.results[0];
  return `ALS factors ${s.factors}, ${s.iterations} iterations (CG 3 steps, alpha 1, regularization 0.05, ${r0 ? `${r0.als.backend}, ${r0.als.threads} threads` : ''}); DuckDB memory_limit ${s.duckdbMemoryLimit}; events weighted view 1 / click 2 / cart 4 / purchase 8; users = events ÷ 20, products = events ÷ 200.`;
}

/** The BENCHMARKS.md section (charts referenced as files relative to the repository root). */
export function scaleMarkdown(report: ScaleReport, opts: { command: string; chartPaths?: { time: string; memory: string; als: string } }): string {
  const fit = findFit(report.fits, 'als-iteration', 'nnz');
  const parts = [
    `\n## Scaling benchmark — ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC\n`,
    `Command: \`${opts.command}\`. Machine: ${machineLine(report)}.`,
    ...(report.runs && report.runs.length > 1 ? [`Merged from ${report.runs.length} runs: ${report.runs.map((r) => `${r.sizes.join(', ')} started ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC (load ${r.loadAverageStart.map((x) => x.toFixed(1)).join(' ')})`).join('; ')}.`] : []),
    `${settingsLine(report)} Each size ran in a fresh child process; peak RSS is per stage (Linux VmHWM reset before each stage). recommend-all and precompute ran on an evenly spaced sample of users and are projected to all users (linear in users).\n`,
    '### Wall time', timeTable(report), '',
    '### Peak memory and disk', memoryTable(report), '',
  ];
  if (report.failures.length > 0) parts.push('### Sizes that did not finish', ...report.failures.map((f) => `- ${f.label}: ${f.error}`), '');
  if (report.fits.length > 0) {
    parts.push('### Fitted exponents', fitTable(report.fits), '');
    const cpuFit = findFit(report.fits, 'als-iteration', 'nnz', 'cpu seconds');
    if (fit) parts.push(`ALS seconds/iteration against nnz from ${formatCount(fit.from)} to ${formatCount(fit.to)} nnz: exponent **${fit.exponent.toFixed(2)}** wall${cpuFit ? `, **${cpuFit.exponent.toFixed(2)}** CPU` : ''} (1 = linear).\n`);
  }
  if (report.shards) {
    parts.push(`### Precompute shards: \`precompute --shard i/N\` as N processes against one Redis (${formatCount(report.shards.users)} users × ${n0(report.shards.items)} items of the ${report.shards.size} model, top-10)`, shardTable(report), '');
  }
  if (opts.chartPaths) parts.push(`![wall time per stage](${opts.chartPaths.time})\n![peak RSS per stage](${opts.chartPaths.memory})\n![ALS seconds per iteration](${opts.chartPaths.als})\n`);
  return parts.join('\n');
}

const PAGE_CSS = `body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1e23}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #d0d4da;padding:4px 8px;text-align:right}th{background:#f3f4f6}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.muted{color:#666}`;

/** Markdown table → HTML table (the tables above have no pipes inside cells). */
function tableHtml(md: string): string {
  const lines = md.split('\n').filter((l) => l.startsWith('|'));
  if (lines.length < 2) return '';
  const cells = (l: string): string[] => l.slice(1, -1).split('|').map((c) => escapeXml(c.trim()).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>'));
  const [head, , ...body] = lines;
  return `<table><thead><tr>${cells(head).map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${body.map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function scaleHtml(report: ScaleReport, charts: ScaleCharts, command: string): string {
  const fit = findFit(report.fits, 'als-iteration', 'nnz');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>recsys scaling benchmark ${escapeXml(report.startedAt)}</title><style>${PAGE_CSS}</style></head><body>
<h1>Scaling benchmark</h1>
<p class="muted">${escapeXml(report.startedAt)} → ${escapeXml(report.finishedAt)} · <code>${escapeXml(command)}</code><br>${escapeXml(machineLine(report))}<br>${escapeXml(settingsLine(report))}</p>
<h2>Wall time</h2>${tableHtml(timeTable(report))}
<h2>Peak memory and disk</h2>${tableHtml(memoryTable(report))}
${report.failures.length ? `<h2>Sizes that did not finish</h2><ul>${report.failures.map((f) => `<li>${escapeXml(f.label)}: ${escapeXml(f.error)}</li>`).join('')}</ul>` : ''}
<div class="charts">${charts.time}${charts.memory}${charts.als}</div>
${report.fits.length ? `<h2>Fitted exponents</h2>${tableHtml(fitTable(report.fits))}${fit ? `<p>ALS seconds/iteration ∝ nnz<sup>${fit.exponent.toFixed(2)}</sup> from ${escapeXml(formatCount(fit.from))} to ${escapeXml(formatCount(fit.to))} nnz.</p>` : ''}` : ''}
${report.shards ? `<h2>Precompute shards (${escapeXml(report.shards.size)} model, ${n0(report.shards.users)} users)</h2>${tableHtml(shardTable(report))}` : ''}
</body></html>
`;
}

/** Writes scale.json, the three SVGs and index.html into `dir`; returns their paths. */
export async function writeScaleReport(report: ScaleReport, dir: string, command: string): Promise<{ json: string; html: string; charts: { time: string; memory: string; als: string } }> {
  await mkdir(dir, { recursive: true });
  const charts = scaleCharts(report);
  const paths = { time: join(dir, 'scale-time.svg'), memory: join(dir, 'scale-memory.svg'), als: join(dir, 'scale-als.svg') };
  await writeFile(paths.time, charts.time);
  await writeFile(paths.memory, charts.memory);
  await writeFile(paths.als, charts.als);
  const json = join(dir, 'scale.json');
  await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  const html = join(dir, 'index.html');
  await writeFile(html, scaleHtml(report, charts, command));
  return { json, html, charts: paths };
}
