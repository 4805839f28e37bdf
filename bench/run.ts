/**
 * `npm run bench`: every benchmark in turn, each in its own process (so peak RSS is per benchmark),
 * each appending its dated section to BENCHMARKS.md. Not a test: the numbers vary with load.
 */
import { spawnSync } from 'node:child_process';

const benches = ['bench/spine.ts', 'bench/als.ts', 'bench/content.ts', 'bench/ensemble.ts', 'bench/twotower.ts'];
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', b, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
