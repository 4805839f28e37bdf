/**
 * Timing script for the synthetic generator (not a test):
 *   node --import tsx bench/synth.ts [events ...]        e.g. bench/synth.ts 1000000 5000000
 * Each size runs in a fresh child process so peak RSS (process.resourceUsage().maxRSS) is per size.
 * Users and products scale with the events in the peers' ratio (100k users × 20k items per 5M).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynth, SYNTH_PRESETS } from '../src/core/data/synth.js';

async function one(events: number): Promise<void> {
  const users = Math.max(100, Math.round((events / 5_000_000) * 100_000));
  const products = Math.max(50, Math.round((events / 5_000_000) * 20_000));
  const out = mkdtempSync(join(tmpdir(), 'recsys-synth-bench-'));
  try {
    const r = await generateSynth({ users, products, interactions: events, seed: 42, outDir: out });
    const mb = (f: string): number => +(statSync(f).size / 2 ** 20).toFixed(1);
    console.log(
      JSON.stringify({
        events,
        users,
        products,
        distinctPairs: r.counts.distinctPairs,
        byType: r.counts.byType,
        seconds: +r.seconds.toFixed(2),
        timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, +v.toFixed(2)])),
        eventsPerSecond: Math.round(events / r.seconds),
        peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
        fileMiB: { interactions: mb(r.files.interactions), products: mb(r.files.products), users: mb(r.files.users) },
      }),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--one') {
  await one(Number(args[1]));
} else {
  const sizes = args.length > 0 ? args.map(Number) : [SYNTH_PRESETS.quickstart.interactions, 1_000_000, 5_000_000];
  const self = fileURLToPath(import.meta.url);
  for (const size of sizes) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--one', String(size)], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
