/**
 * The Redis connection the serving layer uses, standalone or Cluster (ioredis), configured to
 * fail fast instead of queueing: with Redis down a request must fall through to the in-process
 * tiers and L3 in microseconds, not wait for a reconnect.
 *  - enableOfflineQueue=false: a command issued while disconnected rejects at once;
 *  - commandTimeout: a command slower than the budget rejects (counted as an error);
 *  - retryStrategy: reconnect forever with capped backoff, so the tiers come back by themselves;
 *  - enableAutoPipelining (AUTO_PIPELINING, on for batch writers such as precompute): commands
 *    issued in one tick share one write (and, on a cluster, are grouped per node). The HTTP server
 *    turns it off (SERVING_AUTO_PIPELINING): each request's commands are issued from its own socket
 *    callback, and Node flushes nextTick work after every callback, so the "pipelines" hold one
 *    command each and only add a Pipeline object and a tick per command — measured with ioredis
 *    alone, one HGET costs ~32 µs of CPU without it and ~74 µs with it at 1 in flight (16 vs 23 µs
 *    at 4), and the server's L1/L2 CPU per request drops accordingly (docs/serving.md).
 *
 * URLs: `redis://host:port[/db]` (standalone) or `redis-cluster://host:port[,host:port…]`.
 */
import { Cluster, Redis } from 'ioredis';
import { RecsysError } from '../../errors.js';

export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  commandTimeoutMs?: number;
  /** Called on every connection error (the client reconnects by itself). */
  onError?: (err: Error) => void;
  /** Max backoff between reconnect attempts. */
  maxRetryDelayMs?: number;
  /** ioredis enableAutoPipelining (default: see AUTO_PIPELINING). */
  autoPipelining?: boolean;
}

export function isClusterUrl(url: string): boolean {
  return url.startsWith('redis-cluster://');
}

export const AUTO_PIPELINING = true;
/** The HTTP server's client: see the module comment. */
export const SERVING_AUTO_PIPELINING = false;

export function createRedisClient(url: string, opts: RedisConnectOptions = {}): RedisClient {
  const maxDelay = opts.maxRetryDelayMs ?? 1000;
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 200,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(50 * times, maxDelay),
    enableAutoPipelining: opts.autoPipelining ?? AUTO_PIPELINING,
  };
  let client: RedisClient;
  if (isClusterUrl(url)) {
    const nodes = url
      .slice('redis-cluster://'.length)
      .split(',')
      .map((hp) => {
        const [host, port] = hp.split(':');
        const p = Number(port);
        if (!host || !Number.isInteger(p) || p <= 0) {
          throw new RecsysError('RECSYS_ERR_USAGE', `cannot read cluster node '${hp}' in ${url}: expected redis-cluster://host:port[,host:port…]`, { flag: '--redis-url' });
        }
        return { host, port: p };
      });
    client = new Cluster(nodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: opts.autoPipelining ?? AUTO_PIPELINING,
      clusterRetryStrategy: (times: number) => Math.min(50 * times, maxDelay),
      redisOptions: { ...common, enableAutoPipelining: false },
    });
  } else {
    if (!/^rediss?:\/\//.test(url)) {
      throw new RecsysError('RECSYS_ERR_USAGE', `--redis-url must start with redis://, rediss:// or redis-cluster://, got '${url}'`, { flag: '--redis-url' });
    }
    client = new Redis(url, common);
  }
  // Without a listener ioredis prints every connection error; the caller counts them instead.
  client.on('error', (err: Error) => opts.onError?.(err));
  return client;
}

export function isReady(client: RedisClient | null): boolean {
  return client !== null && client.status === 'ready';
}

/** Wait until the client is ready (or `timeoutMs` passes); resolves to whether it is. */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      done(client.status === 'ready');
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      done(true);
    };
    client.once('ready', onReady);
  });
}

/** Close without waiting on a server that may be gone. */
export async function closeRedis(client: RedisClient | null): Promise<void> {
  if (!client) return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect();
}
