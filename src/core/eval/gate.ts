/**
 * The CI model gate: compare a candidate report with a committed baseline report and fail when a
 * metric got worse by more than its allowed absolute drop (`recsys eval --gate baseline.json
 * --max-drop ndcg@10=0.01,recall@10=0.02`). Every metric is higher-is-better except
 * popularity_bias, where a rise is the regression. Without rules, every ranking metric at the
 * baseline's main k is gated with DEFAULT_MAX_DROP: run-to-run noise of a deterministic pipeline is
 * zero, but a tolerance keeps harmless numeric changes (summation order, float32 scores) from
 * failing CI.
 */
import { readFile } from 'node:fs/promises';
import { RecsysError } from '../errors.js';
import { BEYOND_ACCURACY_METRICS, metricKey, RANKING_METRICS } from './metrics.js';
import type { EvaluationResult, GateResult, GateRow, GateRule, Report } from './types.js';

/** Allowed absolute drop of each default rule. */
export const DEFAULT_MAX_DROP = 0.005;

/** Slack for floating-point rounding of the delta (0.1 − 0.09 is 0.010000000000000009). */
const ROUNDING_SLACK = 1e-9;

const KNOWN_METRICS: readonly string[] = [...RANKING_METRICS, ...BEYOND_ACCURACY_METRICS];
const LOWER_IS_BETTER = new Set<string>(['popularity_bias']);

function baseName(key: string): string {
  const at = key.indexOf('@');
  return at < 0 ? key : key.slice(0, at);
}

/**
 * Parses `--max-drop` text: comma-separated `metric@k=drop` pairs, drop an absolute amount ≥ 0
 * (e.g. "ndcg@10=0.01,recall@10=0.02"). Empty text gives no rules (the defaults then apply).
 */
export function parseMaxDrop(text: string, flag = '--max-drop'): GateRule[] {
  const rules: GateRule[] = [];
  const seen = new Set<string>();
  const example = `${flag} ndcg@10=0.01,recall@10=0.02`;
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${flag}: "${part}" has no "=": write metric@k=drop, e.g. ${example}`, { flag });
    }
    const metric = part.slice(0, eq).trim();
    const valueText = part.slice(eq + 1).trim();
    const m = /^([a-z_]+)@([1-9][0-9]*)$/.exec(metric);
    if (!m) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${flag}: "${metric}" is not a metric@k key (lower-case name, "@", a positive k), e.g. ${example}`, { flag });
    }
    if (!KNOWN_METRICS.includes(m[1])) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${flag}: unknown metric "${m[1]}" in "${part}"; known metrics: ${KNOWN_METRICS.join(', ')}`, { flag });
    }
    const maxDrop = valueText === '' ? NaN : Number(valueText);
    if (!Number.isFinite(maxDrop) || maxDrop < 0) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${flag}: the allowed drop of ${metric} must be a number ≥ 0 (an absolute amount such as 0.01), got "${valueText}"`, { flag });
    }
    if (seen.has(metric)) {
      throw new RecsysError('RECSYS_ERR_USAGE', `${flag}: ${metric} is given twice; keep one allowed drop per metric`, { flag });
    }
    seen.add(metric);
    rules.push({ metric, maxDrop });
  }
  return rules;
}

/** Every ranking metric at `k` with the default tolerance. */
export function defaultGateRules(k: number, maxDrop = DEFAULT_MAX_DROP): GateRule[] {
  return RANKING_METRICS.map((name) => ({ metric: metricKey(name, k), maxDrop }));
}

function metricValue(e: EvaluationResult, key: string): number | undefined {
  const summary = e.metrics[key];
  if (summary && typeof summary.mean === 'number') return summary.mean;
  const v = e.beyondAccuracy[key];
  return typeof v === 'number' ? v : undefined;
}

function pickEvaluation(report: Report, which: 'baseline' | 'candidate', name: string | undefined): EvaluationResult {
  const names = report.models.map((m) => m.name);
  if (name !== undefined) {
    const found = report.models.find((m) => m.name === name);
    if (!found) {
      throw new RecsysError('RECSYS_ERR_REPORT', `the ${which} report (run ${report.runId}) has no model "${name}"; it has: ${names.join(', ') || 'none'}`, { flag: '--model' });
    }
    return found.evaluation;
  }
  if (report.models.length !== 1) {
    throw new RecsysError(
      'RECSYS_ERR_REPORT',
      `the ${which} report (run ${report.runId}) holds ${report.models.length} models (${names.join(', ') || 'none'}): pass --model to say which one to gate`,
      { flag: '--model' },
    );
  }
  return report.models[0].evaluation;
}


/**
 * Gates `candidate` against `baseline`. `opts.model` names the model to compare in both reports
 * (needed when a report holds several); `opts.candidateModel` overrides it for the candidate
 * (e.g. gate "als" against the baseline's "popularity"). A metric missing in either report is a
 * failed row with a reason. Different split or dataset fingerprints add warnings.
 */
export function gate(baseline: Report, candidate: Report, rules: GateRule[], opts: { model?: string; candidateModel?: string } = {}): GateResult {
  const base = pickEvaluation(baseline, 'baseline', opts.model);
  const cand = pickEvaluation(candidate, 'candidate', opts.candidateModel ?? opts.model ?? (candidate.models.length === 1 ? undefined : base.model));
  const effective = rules.length > 0 ? rules : defaultGateRules(base.mainK);

  const rows: GateRow[] = effective.map(({ metric, maxDrop }) => {
    const b = metricValue(base, metric);
    const c = metricValue(cand, metric);
    if (b === undefined || c === undefined) {
      const where = b === undefined && c === undefined ? 'both reports' : b === undefined ? 'the baseline report' : 'the candidate report';
      const ks = (b === undefined ? base : cand).ks.join(', ');
      return {
        metric,
        baseline: b ?? NaN,
        candidate: c ?? NaN,
        delta: NaN,
        maxDrop,
        passed: false,
        reason: `missing in ${where} (evaluated at k = ${ks}); evaluate with --ks including this k, or drop it from --max-drop`,
      };
    }
    const delta = c - b;
    const worsening = LOWER_IS_BETTER.has(baseName(metric)) ? delta : -delta;
    const passed = worsening <= maxDrop + ROUNDING_SLACK;
    const row: GateRow = { metric, baseline: b, candidate: c, delta, maxDrop, passed };
    if (!passed) {
      row.reason = LOWER_IS_BETTER.has(baseName(metric))
        ? `rose by ${worsening.toFixed(4)} (lower is better), more than the allowed ${maxDrop}`
        : `dropped by ${worsening.toFixed(4)}, more than the allowed ${maxDrop}`;
    }
    return row;
  });

  const warnings: string[] = [];
  if (baseline.split?.fingerprint && candidate.split?.fingerprint && baseline.split.fingerprint !== candidate.split.fingerprint) {
    warnings.push(
      `the reports were evaluated on different splits (fingerprints ${baseline.split.fingerprint} vs ${candidate.split.fingerprint}): differences may come from the split, not the model`,
    );
  }
  if (baseline.dataset?.fingerprint && candidate.dataset?.fingerprint && baseline.dataset.fingerprint !== candidate.dataset.fingerprint) {
    warnings.push(`the reports come from different data (dataset fingerprints ${baseline.dataset.fingerprint} vs ${candidate.dataset.fingerprint}): regenerate the baseline if the data changed on purpose`);
  }
  if (base.users.evaluated !== cand.users.evaluated) {
    warnings.push(`the baseline averaged over ${base.users.evaluated} users, the candidate over ${cand.users.evaluated}`);
  }
  return { passed: rows.every((r) => r.passed), rows, baselineModel: base.model, candidateModel: cand.model, warnings };
}

function fmt(v: number, signed = false): string {
  if (Number.isNaN(v)) return 'missing';
  const s = v.toFixed(4);
  return signed && v >= 0 ? `+${s}` : s;
}

/** Plain-text table of a gate result (no colours: the CLI may add them), ending with a verdict line. */
export function formatGateTable(result: GateResult): string {
  const header = ['metric', 'baseline', 'candidate', 'delta', 'allowed drop', 'result'];
  const body = result.rows.map((r) => [
    r.metric,
    fmt(r.baseline),
    fmt(r.candidate),
    Number.isNaN(r.delta) ? '-' : fmt(r.delta, true),
    fmt(r.maxDrop),
    r.passed ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 || c === cells.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const out: string[] = [];
  if (result.baselineModel !== undefined) out.push(`gate: candidate "${result.candidateModel}" vs baseline "${result.baselineModel}"`);
  out.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) out.push(line(row));
  const failed = result.rows.filter((r) => !r.passed);
  for (const r of failed) if (r.reason) out.push(`  ${r.metric}: ${r.reason}`);
  for (const w of result.warnings ?? []) out.push(`warning: ${w}`);
  const regressed = failed.filter((r) => !Number.isNaN(r.delta)).map((r) => r.metric);
  const missing = failed.filter((r) => Number.isNaN(r.delta)).map((r) => r.metric);
  const parts: string[] = [];
  if (regressed.length > 0) parts.push(`${regressed.length} regressed beyond their allowed drop: ${regressed.join(', ')}`);
  if (missing.length > 0) parts.push(`${missing.length} missing: ${missing.join(', ')}`);
  out.push(result.passed ? `PASSED: all ${result.rows.length} metrics within their allowed drop` : `FAILED: ${failed.length} of ${result.rows.length} metrics failed; ${parts.join('; ')}`);
  return out.join('\n');
}

/** A RecsysError (code RECSYS_ERR_GATE_FAILED, exit 10) carrying the table, for the CLI to throw when the gate fails. */
export function gateFailure(result: GateResult): RecsysError {
  const failed = result.rows.filter((r) => !r.passed).map((r) => r.metric);
  return new RecsysError('RECSYS_ERR_GATE_FAILED', `model gate failed on ${failed.join(', ')}\n${formatGateTable(result)}`, { failed, rows: result.rows });
}

/**
 * Reads and checks a report.json written by `recsys eval` (format "recsys-report", version 1, with
 * at least one evaluated model). `flag` names the option the path came from, for the messages.
 */
export async function loadReport(path: string, flag = '--gate'): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `${flag}: report ${path} does not exist; pass the report.json that \`recsys eval\` wrote under reports/<run-id>/`, { file: path, flag }, { cause: e });
    }
    throw new RecsysError('RECSYS_ERR_REPORT', `${flag}: cannot read report ${path}: ${(e as Error).message}`, { file: path, flag }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_REPORT', `${flag}: ${path} is not valid JSON (${(e as Error).message}); pass the report.json that \`recsys eval\` wrote`, { file: path, flag }, { cause: e });
  }
  const bad = (what: string): RecsysError =>
    new RecsysError('RECSYS_ERR_REPORT', `${flag}: ${path} is not a recsys report: ${what}; pass the report.json that \`recsys eval\` wrote under reports/<run-id>/`, { file: path, flag });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('expected a JSON object');
  const r = json as Record<string, unknown>;
  if (r.format !== 'recsys-report') throw bad(`its "format" is ${JSON.stringify(r.format)}, expected "recsys-report"`);
  if (r.version !== 1) {
    throw new RecsysError('RECSYS_ERR_REPORT', `${flag}: ${path} is a version ${JSON.stringify(r.version)} recsys report; this recsys reads version 1: regenerate it with this version's \`recsys eval\``, { file: path, flag });
  }
  if (!Array.isArray(r.models) || r.models.length === 0) throw bad('it has no evaluated models ("models" is empty or missing)');
  for (const [i, m] of (r.models as unknown[]).entries()) {
    const model = m as Record<string, unknown> | null;
    const ev = model?.evaluation as Record<string, unknown> | undefined;
    if (!model || typeof model.name !== 'string' || !ev || typeof ev.metrics !== 'object' || ev.metrics === null || typeof ev.beyondAccuracy !== 'object' || typeof ev.mainK !== 'number') {
      throw bad(`models[${i}] lacks a name or an evaluation with metrics, beyondAccuracy and mainK`);
    }
  }
  return json as Report;
}
