/** For the `recsys experiments` commands: connect to the servers' Redis (or say how to), run, close. */
import { RecsysError } from '../errors.js';
import { closeRedis, createRedisClient, waitReady, type RedisClient } from '../serving/cache/redis.js';
import { ExperimentStore, directCall } from './store.js';

export async function withExperimentStore<T>(url: string, prefix: string, fn: (store: ExperimentStore, redis: RedisClient) => Promise<T>): Promise<T> {
  const redis = createRedisClient(url, { commandTimeoutMs: 30000 });
  try {
    if (!(await waitReady(redis, 5000))) {
      throw new RecsysError('RECSYS_ERR_REDIS', `cannot reach Redis at ${url} within 5 s: start it, or point --redis-url (or REDIS_URL) at the servers' Redis`, { flag: '--redis-url' });
    }
    return await fn(new ExperimentStore(directCall(redis), prefix), redis);
  } finally {
    await closeRedis(redis);
  }
}
