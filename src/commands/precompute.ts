import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { closeAlsPool } from '../core/models/als/pool.js';
import { closeRedis, createRedisClient, waitReady } from '../core/serving/cache/redis.js';
import { RecsysError } from '../core/errors.js';
import { ServingModel } from '../core/serving/model.js';
import { parseShard, runPrecompute, type PrecomputeResult } from '../core/serving/precompute.js';

export default class Precompute extends BaseCommand {
  static override summary = 'Write every user\'s top-k list into Redis (the L2 tier of `recsys serve`).';

  static override description = `Ranks all users of the model (or one shard of them) in batches, using the model's own
parallel batch scoring (ALS: wasm kernels on worker threads), and writes the lists into a versioned Redis
namespace with pipelined writes. The "current run" pointer the servers read is flipped only when every
shard of the run is complete, so a crash half way never serves a partial run: the previous run stays
current. Older runs of the model are then expired after --keep-previous seconds.

For N machines run one copy per machine with --shard 0/N … --shard N-1/N and the same --run-id (the
default id is the same for all shards of one model, k and N).`;

  static override examples = [
    '<%= config.bin %> precompute --model models/als --k 100',
    '<%= config.bin %> precompute --model models/als --k 100 --shard 0/4 --redis-url redis://10.0.0.5:6379 --json',
  ];

  static override flags = {
    model: Flags.string({ char: 'm', description: 'Model artifact directory (the one `recsys serve` serves).', required: true }),
    k: Flags.integer({ description: 'List length stored per user.', default: 100 }),
    shard: Flags.string({ description: 'Which part of the users: i/N (user index mod N = i).', default: '0/1' }),
    'redis-url': Flags.string({ description: 'redis://host:port[/db] or redis-cluster://host:port,…', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379' }),
    prefix: Flags.string({ description: 'Prefix of every Redis key (the same as `recsys serve --prefix`).', default: 'recsys' }),
    'batch-size': Flags.integer({ description: 'Users ranked and written per batch.', default: 1024 }),
    'run-id': Flags.string({ description: 'Id shared by all shards of one run.' }),
    rate: Flags.integer({ description: 'At most this many users per second (0 = unlimited), to spare a live Redis.', default: 0 }),
    ttl: Flags.integer({ description: 'Seconds each stored list lives.', default: 7 * 86400 }),
    'keep-previous': Flags.integer({ description: 'Seconds the previous run stays readable after the flip.', default: 300 }),
  };

  async run(): Promise<PrecomputeResult> {
    const { flags } = await this.parse(Precompute);
    const shard = parseShard(flags.shard);
    const model = await ServingModel.load(flags.model);
    const redis = createRedisClient(flags['redis-url'], { commandTimeoutMs: 30000 });
    try {
      if (!(await waitReady(redis, 5000))) {
        throw new RecsysError('RECSYS_ERR_REDIS', `cannot reach Redis at ${flags['redis-url']} within 5 s: start it, or point --redis-url (or REDIS_URL) at a running server`, { flag: '--redis-url' });
      }
      const result = await runPrecompute({
        model,
        redis,
        k: flags.k,
        shard,
        keyPrefix: flags.prefix,
        batchSize: flags['batch-size'],
        runId: flags['run-id'],
        maxUsersPerSecond: flags.rate,
        ttlSeconds: flags.ttl,
        keepPreviousSeconds: flags['keep-previous'],
        progress: this.progress(flags.quiet),
      });
      if (!flags.quiet) {
        this.say(`precomputed ${result.users.toLocaleString()} users × top-${result.k} of ${result.model} (${result.modelVersion}) in ${result.seconds.toFixed(2)} s: ${Math.round(result.usersPerSecond).toLocaleString()} users/s, ${(result.bytes / 1048576).toFixed(1)} MiB`);
        this.say(result.flipped ? `current run is now ${result.runId}${result.previousRunId ? ` (was ${result.previousRunId}; ${result.expiredKeys.toLocaleString()} old lists expire in ${flags['keep-previous']} s)` : ''}` : `shard ${shard.index}/${shard.count} done; run ${result.runId} becomes current when all ${shard.count} shards are`);
      }
      return result;
    } finally {
      await closeRedis(redis);
      await closeAlsPool();
    }
  }
}
