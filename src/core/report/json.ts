/**
 * report.json: the Report written verbatim with a stable layout, so that two reports of the same
 * run are byte-identical and two different runs diff cleanly:
 * - object keys are sorted (identifying and headline keys such as `format`, `runId`, `name`,
 *   `metrics` first, the rest in natural order, so `ndcg@5` comes before `ndcg@10`);
 * - objects are indented two spaces, but arrays of plain numbers/strings stay on one line (per-user
 *   arrays hold one number per evaluated user; one line each would make the file unreadable);
 * - non-finite numbers (NaN, ±Infinity: e.g. a p-value over fewer than two users) are written as
 *   `null`, as JSON.stringify does; readers must treat null as "not available".
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { RecsysError } from '../errors.js';
import type { Report } from '../eval/types.js';

/**
 * Keys written first, in this order, wherever they occur: what identifies an object, then the
 * headline numbers; bulky data (distributions, per-user arrays) follows in natural order.
 */
const KEY_PRIORITY = [
  'format', 'version', 'runId', 'createdAt', 'git', 'dataset', 'split', 'models', 'comparisons',
  'name', 'model', 'metric', 'artifact', 'params', 'ks', 'mainK', 'metrics', 'beyondAccuracy', 'users',
];

/** Natural order: digit runs compare as numbers, everything else by UTF-16 code unit (locale-free). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const ca = a.match(re) ?? [];
  const cb = b.match(re) ?? [];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i] ?? '';
    const y = cb[i] ?? '';
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const diff = Number(x) - Number(y);
      if (diff !== 0) return diff;
      return x.length - y.length; // '01' after '1'
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

function compareKeys(a: string, b: string): number {
  const pa = KEY_PRIORITY.indexOf(a);
  const pb = KEY_PRIORITY.indexOf(b);
  if (pa !== -1 || pb !== -1) return (pa === -1 ? KEY_PRIORITY.length : pa) - (pb === -1 ? KEY_PRIORITY.length : pb);
  return naturalCompare(a, b);
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

function scalar(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  return JSON.stringify(v);
}

/** `[1, 2, "a"]` for an array of primitives (undefined as null); null when any item is not one. */
function inlineArray(v: readonly unknown[]): string | null {
  const items = new Array<string>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x === 'number') items[i] = Number.isFinite(x) ? String(x) : 'null';
    else if (x === null || x === undefined) items[i] = 'null';
    else if (typeof x === 'string' || typeof x === 'boolean') items[i] = JSON.stringify(x);
    else return null;
  }
  return `[${items.join(', ')}]`;
}

function normalize(value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return withToJson.toJSON();
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  }
  return value;
}

function write(value: unknown, indent: string, out: string[]): void {
  const v = normalize(value);
  if (isPrimitive(v)) {
    out.push(scalar(v));
    return;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push('[]');
      return;
    }
    // Fast path for the per-user arrays (10^5 numbers each): one pass, no intermediate arrays.
    const flat = inlineArray(v);
    if (flat !== null) {
      out.push(flat);
      return;
    }
    const items = v.map(normalize);
    const inner = `${indent}  `;
    out.push('[\n');
    items.forEach((item, i) => {
      out.push(inner);
      if (item === undefined || typeof item === 'function') out.push('null');
      else write(item, inner, out);
      out.push(i < items.length - 1 ? ',\n' : '\n');
    });
    out.push(`${indent}]`);
    return;
  }
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function')
      .sort(compareKeys);
    if (keys.length === 0) {
      out.push('{}');
      return;
    }
    const inner = `${indent}  `;
    out.push('{\n');
    keys.forEach((k, i) => {
      out.push(`${inner}${JSON.stringify(k)}: `);
      write(obj[k], inner, out);
      out.push(i < keys.length - 1 ? ',\n' : '\n');
    });
    out.push(`${indent}}`);
    return;
  }
  // undefined, functions, symbols, bigint at the top level: nothing JSON can hold.
  out.push(typeof v === 'bigint' ? JSON.stringify(v.toString()) : 'null');
}

/** Any JSON-safe value as stable, readable JSON text (ends with a newline). */
export function stableJson(value: unknown): string {
  const out: string[] = [];
  write(value, '', out);
  out.push('\n');
  return out.join('');
}

/** The text of report.json for `report`. */
export function reportToJson(report: Report): string {
  return stableJson(report);
}

/**
 * Parse report.json text and check that it is a recsys report this version can read.
 * `source` names the file in error messages.
 */
export function parseReport(text: string, source = 'report.json'): Report {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_REPORT', `${source} is not valid JSON (${(e as Error).message}). Regenerate it with \`recsys eval\`.`, { file: source });
  }
  const obj = parsed as Partial<Report> | null;
  if (!obj || typeof obj !== 'object' || obj.format !== 'recsys-report') {
    throw new RecsysError('RECSYS_ERR_REPORT', `${source} is not a recsys report (expected "format": "recsys-report"). Pass the report.json that \`recsys eval\` wrote.`, {
      file: source,
    });
  }
  if (typeof obj.version !== 'number' || obj.version > 1) {
    throw new RecsysError('RECSYS_ERR_REPORT', `${source} has report version ${String(obj.version)}; this recsys reads version 1. Upgrade recsys or regenerate the report.`, {
      file: source,
    });
  }
  if (!Array.isArray(obj.models)) {
    throw new RecsysError('RECSYS_ERR_REPORT', `${source} has no "models" array; the file is truncated or was edited by hand. Regenerate it with \`recsys eval\`.`, {
      file: source,
    });
  }
  return obj as Report;
}

/** Read and check a report.json from disk. */
export async function readReport(path: string): Promise<Report> {
  if (!existsSync(path)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `report ${path} does not exist. Run \`recsys eval\` to write one, or check the path.`, { file: path });
  }
  return parseReport(await readFile(path, 'utf8'), path);
}
