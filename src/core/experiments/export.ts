/**
 * `recsys experiments export`: the experiment's impression log, joined with its attributed
 * rewards, written in the generic logged-bandit format `recsys simulate --logged` reads
 * (src/core/bandits/logs/generic.ts): one row per served list (decision),
 *
 *   timestamp,request_id,arm,propensity,reward
 *   1764079200.123,Xa3f-1k,als,0.5,1
 *
 * action = the arm (model) that served the list, propensity = the probability the assignment
 * gave that arm for that request (fixed share, canary step share, or the Thompson sampler's
 * probability at that time), reward = 1 when the list got a click (or, with reward=conversion, a
 * conversion) within the attribution window. User ids are not exported. `recsys simulate
 * --logged <file> --target-log <file>` then estimates the served policy by IPS/SNIPS from the
 * logged propensities (it equals the observed CTR, up to the CI); `--policy ts|egreedy|…`
 * estimates how another allocation would have done.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { RecsysError } from '../errors.js';
import { impressionsOf, type ExperimentStore } from './store.js';

export interface ExportOptions {
  reward?: 'click' | 'conversion';
  format?: 'csv' | 'jsonl';
}

export interface ExportResult {
  experiment: string;
  path: string;
  format: 'csv' | 'jsonl';
  reward: 'click' | 'conversion';
  rows: number;
  rewards: number;
  meanReward: number;
  perArm: Record<string, { rows: number; rewards: number; meanReward: number }>;
  /** Reward entries whose impression is no longer in the log (trimmed or purged). */
  orphanRewards: number;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function exportExperimentLog(store: ExperimentStore, experiment: string, path: string, o: ExportOptions = {}): Promise<ExportResult> {
  const reward = o.reward ?? 'click';
  const kind = reward === 'click' ? 'clk' : 'conv';
  const format = o.format ?? (/\.jsonl?$|\.ndjson$/i.test(path) ? 'jsonl' : 'csv');
  if (!(await store.storedConfig(experiment))) {
    const known = await store.registered();
    throw new RecsysError('RECSYS_ERR_USAGE', `no experiment '${experiment}' under key prefix '${store.keys.prefix}'. Known: ${known.length ? known.sort().join(', ') : 'none'}`, { flag: '--experiment' });
  }
  // Impressions, one row each (a log entry holds a flushed batch of them, see store.ts), ordered by
  // impression time (a purge rewrites entries at the end of the stream); rewards mark their
  // impression's row once every entry has been read.
  const rows: Array<{ ts: number; rid: string; arm: string; p: string; reward: number }> = [];
  const rewarded = new Set<string>();
  const done = await store.call('x_export', (r) =>
    store.scanLog(r, experiment, (page) => {
      for (const e of page) {
        const f = e.fields;
        if (f.t === 'imp') {
          for (const imp of impressionsOf(f)) rows.push({ ts: imp.tsMs / 1000, rid: imp.requestId, arm: imp.arm, p: String(imp.propensity), reward: 0 });
        } else if (f.t === kind) {
          rewarded.add(f.rid);
        }
      }
    }).then(() => true),
  );
  if (done !== true) throw new RecsysError('RECSYS_ERR_REDIS', `could not read the log of experiment '${experiment}' from Redis`);
  if (rows.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', `experiment '${experiment}' has no impressions in its log yet: serve some traffic first`, { flag: '--experiment' });

  rows.sort((a, b) => a.ts - b.ts); // stable: a batch keeps its order
  const index = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) index.set(rows[i].rid, i);
  let orphanRewards = 0;
  for (const rid of rewarded) {
    const i = index.get(rid);
    if (i === undefined) orphanRewards++;
    else rows[i].reward = 1;
  }
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const write = async (line: string): Promise<void> => {
    if (!out.write(line)) await once(out, 'drain');
  };
  if (format === 'csv') await write('timestamp,request_id,arm,propensity,reward\n');
  const perArm: ExportResult['perArm'] = {};
  let rewards = 0;
  for (const row of rows) {
    const a = (perArm[row.arm] ??= { rows: 0, rewards: 0, meanReward: 0 });
    a.rows++;
    a.rewards += row.reward;
    rewards += row.reward;
    const ts = row.ts.toFixed(3);
    await write(format === 'csv' ? `${ts},${csvField(row.rid)},${csvField(row.arm)},${row.p},${row.reward}\n` : `${JSON.stringify({ timestamp: Number(ts), request_id: row.rid, arm: row.arm, propensity: Number(row.p), reward: row.reward })}\n`);
  }
  out.end();
  await once(out, 'finish');
  for (const a of Object.values(perArm)) a.meanReward = a.rewards / a.rows;
  return { experiment, path, format, reward, rows: rows.length, rewards, meanReward: rewards / rows.length, perArm, orphanRewards };
}
