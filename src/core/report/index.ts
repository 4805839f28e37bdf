/**
 * Run reports: `writeReport` writes report.json (the Report verbatim, stable layout), report.md (a
 * readable summary) and report.html (self-contained, charts inline) into one folder, usually
 * `reports/<run-id>/` with the id from `newRunId`.
 *
 * Writes are atomic per folder when the folder is new (everything goes into a sibling temp folder
 * that is renamed into place) and atomic per file when it exists already (e.g. a committed
 * `reports/baseline/`, whose other files are left alone): a crash never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';
import type { Report } from '../eval/types.js';
import { renderHtml } from './html.js';
import { reportToJson } from './json.js';
import { renderMarkdown } from './markdown.js';

export { renderHtml } from './html.js';
export { parseReport, readReport, reportToJson, stableJson } from './json.js';
export { renderMarkdown } from './markdown.js';
export { gitInfo, type GitInfo } from './git.js';

export const REPORT_FILES = { json: 'report.json', markdown: 'report.md', html: 'report.html' } as const;

export interface ReportPaths {
  dir: string;
  json: string;
  markdown: string;
  html: string;
}

/**
 * A sortable, filesystem-safe run id: UTC `YYYYMMDD-HHMMSS` then the label reduced to
 * `[a-z0-9._-]` (e.g. `20261125-104512-popularity`). Without a label, just the timestamp.
 */
export function newRunId(date: Date, label = ''): string {
  if (Number.isNaN(date.getTime())) {
    throw new RecsysError('RECSYS_ERR_USAGE', 'newRunId needs a valid Date; got an invalid one (check the clock or the value passed).');
  }
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const stamp = `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  const slug = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60)
    .replace(/[-.]+$/g, '');
  return slug ? `${stamp}-${slug}` : stamp;
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Render the three report files and write them into `dir`; returns their paths. */
export async function writeReport(report: Report, dir: string): Promise<ReportPaths> {
  const target = resolve(dir);
  const paths: ReportPaths = {
    dir: target,
    json: join(target, REPORT_FILES.json),
    markdown: join(target, REPORT_FILES.markdown),
    html: join(target, REPORT_FILES.html),
  };
  // Render everything before touching the disk, so a rendering bug writes nothing.
  const files: Array<[string, string]> = [
    [REPORT_FILES.json, reportToJson(report)],
    [REPORT_FILES.markdown, renderMarkdown(report)],
    [REPORT_FILES.html, renderHtml(report)],
  ];
  try {
    if (existsSync(target)) {
      for (const [name, text] of files) await writeFileAtomic(join(target, name), text);
      return paths;
    }
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
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
    throw new RecsysError(
      'RECSYS_ERR_REPORT',
      `could not write the report to ${target}: ${(e as Error).message}. Check that the folder is writable, or pass another one (--out / --reports-dir).`,
      { file: target },
      { cause: e },
    );
  }
}
