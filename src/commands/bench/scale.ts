import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { parseSizes, runScaleBenchmark, type ScaleReport } from '../../core/scale/benchmark.js';
import { findFit } from '../../core/scale/cost.js';
import { writeScaleReport } from '../../core/scale/report.js';

export default class BenchScale extends BaseCommand {
  static override summary = 'Measure how every pipeline stage grows with data: synth → ingest → matrix → ALS → recommend-all → precompute.';

  static override description = `For each size (events), in a fresh child process: generate the synthetic shop (users = events/20,
products = events/200) as Parquet, ingest it into a DuckDB store, build the matrix, fit ALS (--factors,
--iterations fixed), rank top-10 for a sample of users and project to all of them, precompute a sample
into Redis (REDIS_URL), save the artifact. Records wall and CPU seconds, peak RSS per stage, DuckDB
memory and bytes on disk; then runs \`precompute --shard i/N\` as 1 and 2 processes against one Redis; fits
power laws (cost ∝ size^b) per stage. Writes <out>/scale.json (read by \`recsys bench capacity --scale\`),
<out>/index.html and SVG charts. Data goes under --work and is deleted after each size.
100M events peaked at 6.2 GiB of memory and about 4 GB of disk here; see docs/scale.md.`;

  static override examples = [
    '<%= config.bin %> bench scale --sizes 1m,5m',
    '<%= config.bin %> bench scale --sizes 1m,5m,25m,100m --work /mnt/scratch --out reports/scale',
  ];

  static override flags = {
    sizes: Flags.string({ description: 'Event counts, comma-separated (k, m, b suffixes).', default: '1m,5m,25m,100m' }),
    iterations: Flags.integer({ description: 'ALS iterations at every size (fixed, no early stop).', default: 3 }),
    factors: Flags.integer({ description: 'ALS factors.', default: 64 }),
    work: Flags.string({ description: 'Scratch folder for the generated data and stores (default under the OS temp folder).' }),
    out: Flags.string({ char: 'o', description: 'Report folder.', default: 'reports/scale' }),
    'memory-limit': Flags.string({ description: 'DuckDB memory_limit for the store (it spills beyond).', default: '6GB' }),
    'redis-url': Flags.string({ description: 'Redis for the precompute stage and the shard runs.', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379' }),
    'no-redis': Flags.boolean({ description: 'Skip the precompute stage and the shard runs.', default: false }),
    'shard-users': Flags.integer({ description: 'Users of the sample model the shard runs precompute.', default: 20_000 }),
  };

  async run(): Promise<ScaleReport & { files: { json: string; html: string } }> {
    const { flags } = await this.parse(BenchScale);
    const report = await runScaleBenchmark({
      sizes: parseSizes(flags.sizes),
      workDir: flags.work ?? join(tmpdir(), `recsys-scale-${process.pid}`),
      iterations: flags.iterations,
      factors: flags.factors,
      duckdbMemoryLimit: flags['memory-limit'],
      redisUrl: flags['no-redis'] ? null : flags['redis-url'],
      shardUsers: flags['shard-users'],
      log: flags.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
    const files = await writeScaleReport(report, flags.out, `recsys bench scale --sizes ${flags.sizes}`);
    for (const r of report.results) {
      this.say(`${r.size.label.padStart(5)}  nnz ${r.matrix.nnz.toLocaleString()}  ALS ${r.als.secondsPerIteration.toFixed(2)} s/iter (CPU ${r.als.cpuSecondsPerIteration.toFixed(2)})  peak ${(r.processPeakRssBytes / 2 ** 30).toFixed(2)} GiB  wall ${r.totalSeconds.toFixed(0)} s`);
    }
    for (const f of report.failures) this.say(`${f.label.padStart(5)}  FAILED: ${f.error}`);
    const fit = findFit(report.fits, 'als-iteration', 'nnz', 'cpu seconds');
    if (fit) this.say(`ALS CPU seconds/iteration ∝ nnz^${fit.exponent.toFixed(2)} (R² ${fit.r2.toFixed(3)})`);
    this.say(`report  ${files.html}\njson    ${files.json}`);
    return { ...report, files: { json: files.json, html: files.html } };
  }
}
