/**
 * Process measurements for the scaling benchmark: peak resident memory per stage and sizes on disk.
 *
 * Peak RSS per stage uses Linux's high-water mark: writing "5" to /proc/self/clear_refs resets
 * VmHWM (and getrusage's maxrss) to the current RSS, so VmHWM read after the stage is that stage's
 * peak, even when the stage runs synchronous JS for minutes (a sampling timer would not fire).
 * Elsewhere the process-wide maxRSS (never reset) is the fallback, marked as such.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let canReset: boolean | null = null;

/** Resets the peak-RSS high-water mark; false where the OS does not allow it (then peaks are cumulative). */
export function resetPeakRss(): boolean {
  if (canReset === false) return false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    canReset = true;
  } catch {
    canReset = false;
  }
  return canReset;
}

/** Peak RSS (bytes) since the last reset (VmHWM), or the process's max RSS where /proc is missing. */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Bytes of a file, or of every file below a folder; 0 when missing. */
export function diskBytes(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += diskBytes(join(path, name));
  return total;
}

/** "1m" → 1,000,000; "500k", "25M", "1b", "2500000" also accepted; NaN when unreadable. */
export function parseCount(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmb]?)\s*$/i.exec(text);
  if (!m) return NaN;
  const mult = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'b'];
  return Math.round(Number(m[1]) * mult);
}

/** 1e6 → "1M", 25e6 → "25M", 5e5 → "500k". */
export function formatCount(n: number): string {
  if (n >= 1e9 && n % 1e8 === 0) return `${n / 1e9}B`;
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e2 === 0) return `${n / 1e3}k`;
  return n.toLocaleString('en-US');
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
