/** Flag parsers shared by several commands. */
import { RecsysError } from '../core/errors.js';

/** `view=1,click=2,cart=4,purchase=8` → { view: 1, … } */
export function parseWeights(text: string | undefined): Record<string, number> | undefined {
  if (!text) return undefined;
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!k || v === undefined || !Number.isFinite(n)) {
      throw new RecsysError('RECSYS_ERR_USAGE', `--weights expects type=number pairs, got '${part}'. Example: --weights view=1,click=2,cart=4,purchase=8`, { flag: '--weights' });
    }
    out[k.trim()] = n;
  }
  return out;
}

/** `1,5,10,20` → [1, 5, 10, 20] */
export function parseKs(text: string): number[] {
  const ks = text.split(',').map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--k expects positive integers separated by commas, got '${text}'. Example: --k 1,5,10,20`, { flag: '--k' });
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}
