/**
 * Parsers for the flags of `recsys simulate` (kept out of the command so they are tested here):
 *   --arms 5 | mf,content,two_tower | mf=0.031,content=0.027,two_tower=0.035
 *   --policies ts,ucb,egreedy,egreedy:epsilon=0.05:decay=0.01
 *   --param epsilon=0.05 (every policy that has it) | egreedy.epsilon=0.05 (one policy)
 *   --prob-range 0,1
 */
import { RecsysError } from '../errors.js';
import { isNamedPolicy, NAMED_POLICIES, POLICY_INFO, type NamedPolicy } from './policies/index.js';
import type { PolicySpec } from './simulate.js';

export interface ArmsSpec {
  arms: number;
  labels?: string[];
  probabilities?: number[];
}

export function parseArms(text: string): ArmsSpec {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { arms: Number(t) };
  const parts = t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length < 2) throw new RecsysError('RECSYS_ERR_USAGE', `--arms expects a number of arms (5), names (mf,content,two_tower) or names with probabilities (mf=0.03,content=0.02), got '${text}'`, { flag: '--arms' });
  const withP = parts.filter((p) => p.includes('='));
  if (withP.length > 0 && withP.length !== parts.length) {
    throw new RecsysError('RECSYS_ERR_USAGE', `--arms: give a probability for every arm or for none (got '${text}')`, { flag: '--arms' });
  }
  const labels = parts.map((p) => p.split('=')[0].trim());
  if (new Set(labels).size !== labels.length) throw new RecsysError('RECSYS_ERR_USAGE', `--arms: arm names must be distinct (got '${text}')`, { flag: '--arms' });
  if (withP.length === 0) return { arms: labels.length, labels };
  const probabilities = parts.map((p) => {
    const v = Number(p.split('=')[1]);
    if (!(v >= 0 && v <= 1)) throw new RecsysError('RECSYS_ERR_USAGE', `--arms: '${p}' needs a probability in [0, 1]`, { flag: '--arms' });
    return v;
  });
  return { arms: labels.length, labels, probabilities };
}

export function parseRange(text: string): [number, number] {
  const [a, b] = text.split(',').map((s) => Number(s.trim()));
  if (!(a >= 0 && b <= 1 && a < b)) throw new RecsysError('RECSYS_ERR_USAGE', `--prob-range expects lo,hi with 0 ≤ lo < hi ≤ 1, got '${text}'`, { flag: '--prob-range' });
  return [a, b];
}

/**
 * `--param` values: `name=value` applies to every policy whose schema has `name`; `policy.name=value`
 * to that policy only. Returns the params per policy name.
 */
export function splitPolicyParams(raw: Record<string, string>, policies: readonly string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const p of policies) out.set(p, {});
  for (const [key, value] of Object.entries(raw)) {
    const dot = key.indexOf('.');
    if (dot > 0) {
      const policy = key.slice(0, dot);
      const name = key.slice(dot + 1);
      if (!out.has(policy)) throw new RecsysError('RECSYS_ERR_USAGE', `--param ${key}: '${policy}' is not one of the policies run (${policies.join(', ')})`, { flag: '--param' });
      (out.get(policy) ?? {})[name] = value;
      continue;
    }
    const takers = policies.filter((p) => isNamedPolicy(p) && key in POLICY_INFO[p].schema);
    if (takers.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', `--param ${key}: none of the policies (${policies.join(', ')}) has a parameter '${key}'`, { flag: '--param' });
    for (const p of takers) (out.get(p) ?? {})[key] = value;
  }
  return out;
}

/** `ts,ucb,egreedy:epsilon=0.05:decay=0.01` → policy specs (inline params override --param). */
export function parsePolicies(text: string, params: Record<string, string> = {}): PolicySpec[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', `--policies expects a list such as ts,ucb,egreedy`, { flag: '--policies' });
  const names = items.map((item) => item.split(':')[0].trim());
  for (const n of names) {
    if (!isNamedPolicy(n)) throw new RecsysError('RECSYS_ERR_USAGE', `unknown policy '${n}'. Policies: ${NAMED_POLICIES.join(', ')}.`, { flag: '--policies' });
  }
  const shared = splitPolicyParams(params, [...new Set(names)]);
  return items.map((item, i) => {
    const name = names[i] as NamedPolicy;
    const inline: Record<string, string> = {};
    for (const kv of item.split(':').slice(1)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new RecsysError('RECSYS_ERR_USAGE', `--policies: '${kv}' in '${item}' should be name=value (e.g. egreedy:epsilon=0.05)`, { flag: '--policies' });
      inline[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
    const label = Object.keys(inline).length > 0 ? `${name} (${Object.entries(inline).map(([k, v]) => `${k}=${v}`).join(', ')})` : undefined;
    return { name, params: { ...(shared.get(name) ?? {}), ...inline }, label };
  });
}
