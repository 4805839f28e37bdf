import { existsSync, readFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { RecsysError } from '../../core/errors.js';
import { planCapacity, type CapacityPlan, type CapacityRow, type MeasuredRates } from '../../core/serving/capacity.js';
import type { ScaleReport } from '../../core/scale/benchmark.js';
import { projectScale, type ScaleProjection } from '../../core/scale/projection.js';

export default class BenchCapacity extends BaseCommand {
  static override summary = 'Servers, Redis memory and cost for a stated load, from the rates `npm run bench:serve` measured.';

  static override description = `Reads the measured serving rates (reports/bench-serve.json, written by \`npm run bench:serve\`:
requests/s per tier, Redis bytes per stored list, Redis GET/s, precompute users/s) and scales them to the
load you state. Defaults are the design's target: 100M users, 10M items, 1M requests/s. Prints the app
cores and servers, Redis memory and nodes, precompute time, and a monthly cost at the given unit prices,
each line with the arithmetic behind it. The rates come from one small machine with the load generator on
the same cores, so the plan over-provisions. Re-measure on the target hardware before you buy.

With --scale (reports/scale/scale.json, written by \`npm run bench:scale\`), it also projects the batch side
to --interactions: ALS core-seconds per iteration and memory, recommend-all and precompute core-hours,
ingest and matrix time, from the largest measured size and the fitted cost exponents (docs/scale.md).
Without bench:serve's rates (no --from file), only that batch projection is printed.`;

  static override examples = [
    '<%= config.bin %> bench capacity',
    '<%= config.bin %> bench capacity --users 5000000 --items 200000 --qps 20000 --l1-share 0.6 --l2-share 0.3 --l3-share 0.1',
    '<%= config.bin %> bench capacity --scale reports/scale/scale.json --interactions 1000000000 --cluster-cores 256',
  ];

  static override flags = {
    from: Flags.string({ description: 'Measured rates (JSON written by npm run bench:serve).', default: 'reports/bench-serve.json' }),
    users: Flags.integer({ description: 'Users with a precomputed list.', default: 100_000_000 }),
    items: Flags.integer({ description: 'Catalogue size.', default: 10_000_000 }),
    qps: Flags.integer({ description: 'Recommendation requests per second.', default: 1_000_000 }),
    'lru-share': Flags.string({ description: 'Share of requests answered by the in-process LRU.', default: '0.2' }),
    'l1-share': Flags.string({ description: 'Share answered by L1 (per-user Redis cache).', default: '0.5' }),
    'l2-share': Flags.string({ description: 'Share answered by L2 (precomputed).', default: '0.25' }),
    'l3-share': Flags.string({ description: 'Share computed in real time (L3).', default: '0.05' }),
    'active-users': Flags.string({ description: 'Share of users with an L1 entry and a recent history at once.', default: '0.1' }),
    'history-bytes': Flags.integer({ description: 'Redis bytes of recent history per active user.', default: 1500 }),
    'server-cores': Flags.integer({ description: 'Cores per app server.', default: 16 }),
    'redis-node-gib': Flags.string({ description: 'Usable memory per Redis node (GiB).', default: '25' }),
    'usd-core-hour': Flags.string({ description: 'Price of one core-hour (app servers).', default: '0.04' }),
    'usd-gib-hour': Flags.string({ description: 'Price of one GiB-hour of Redis memory.', default: '0.01' }),
    'precompute-cores': Flags.integer({ description: 'Cores of the precompute fleet.', default: 64 }),
    scale: Flags.string({ description: 'Scaling results (JSON written by npm run bench:scale) for the batch projection.' }),
    interactions: Flags.integer({ description: 'Interactions (events) for the batch projection.', default: 1_000_000_000 }),
    factors: Flags.integer({ description: 'ALS factors for the batch projection.', default: 64 }),
    'pairs-per-event': Flags.string({ description: 'Distinct (user, item) pairs per event (default: measured by bench:scale).' }),
    'cluster-cores': Flags.integer({ description: 'Cores of the training / batch cluster.', default: 64 }),
    'box-gib': Flags.integer({ description: 'Memory of the single bigger machine being weighed (GiB).', default: 256 }),
  };

  async run(): Promise<(CapacityPlan & { measured: MeasuredRates; scale?: ScaleProjection }) | { scale: ScaleProjection }> {
    const { flags } = await this.parse(BenchCapacity);
    let scale: ScaleProjection | undefined;
    if (flags.scale !== undefined) {
      if (!existsSync(flags.scale)) {
        throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `no scaling results at ${flags.scale}: run \`npm run bench:scale\` first (it writes reports/scale/scale.json), or fix --scale`, { flag: '--scale', file: flags.scale });
      }
      const report = JSON.parse(readFileSync(flags.scale, 'utf8')) as ScaleReport;
      const ppe = flags['pairs-per-event'] === undefined ? undefined : Number(flags['pairs-per-event']);
      if (ppe !== undefined && !(ppe > 0 && ppe <= 1)) throw new RecsysError('RECSYS_ERR_USAGE', `--pairs-per-event must be in (0, 1], got '${flags['pairs-per-event']}'`, { flag: '--pairs-per-event' });
      scale = projectScale(report, {
        users: flags.users,
        items: flags.items,
        interactions: flags.interactions,
        factors: flags.factors,
        pairsPerEvent: ppe,
        clusterCores: flags['cluster-cores'],
        boxMemoryGiB: flags['box-gib'],
      });
      if (!existsSync(flags.from)) {
        this.printRows(scale.rows);
        this.say(`(no serving rates at ${flags.from}: run \`npm run bench:serve\` for the serving plan)`);
        return { scale };
      }
    }
    if (!existsSync(flags.from)) {
      throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `no measured rates at ${flags.from}: run \`npm run bench:serve\` first (it writes reports/bench-serve.json), or pass --from`, { flag: '--from', file: flags.from });
    }
    const measured = JSON.parse(readFileSync(flags.from, 'utf8')) as MeasuredRates;
    for (const [name, v] of Object.entries({ ...measured.rps, getPerSecond: measured.redis?.getPerSecond, bytesPerL2List: measured.redis?.bytesPerL2List, precompute: measured.precompute?.usersPerSecond })) {
      if (!(typeof v === 'number' && v > 0)) {
        throw new RecsysError('RECSYS_ERR_USAGE', `${flags.from} has no measurement for '${name}': run the full \`npm run bench:serve\` (not a --only subset)`, { flag: '--from', file: flags.from });
      }
    }
    const num = (flag: string, text: string): number => {
      const x = Number(text);
      if (!Number.isFinite(x) || x < 0) throw new RecsysError('RECSYS_ERR_USAGE', `--${flag} must be a non-negative number, got '${text}'`, { flag: `--${flag}` });
      return x;
    };
    const plan = planCapacity(measured, {
      users: flags.users,
      items: flags.items,
      qps: flags.qps,
      shares: { lru: num('lru-share', flags['lru-share']), l1: num('l1-share', flags['l1-share']), l2: num('l2-share', flags['l2-share']), l3: num('l3-share', flags['l3-share']) },
      activeUserShare: num('active-users', flags['active-users']),
      historyBytesPerUser: flags['history-bytes'],
      serverCores: flags['server-cores'],
      redisNodeMemoryGiB: num('redis-node-gib', flags['redis-node-gib']),
      usdPerCoreHour: num('usd-core-hour', flags['usd-core-hour']),
      usdPerGiBHour: num('usd-gib-hour', flags['usd-gib-hour']),
      precomputeCores: flags['precompute-cores'],
    });
    this.printRows(plan.rows);
    if (scale) {
      this.say('');
      this.printRows(scale.rows);
      return { ...plan, measured, scale };
    }
    return { ...plan, measured };
  }

  private printRows(rows: readonly CapacityRow[]): void {
    const w1 = Math.max(...rows.map((r) => r.what.length));
    const w2 = Math.max(...rows.map((r) => r.value.length));
    for (const r of rows) this.say(`${r.what.padEnd(w1)}  ${r.value.padStart(w2)}  ${r.how}`);
  }
}
