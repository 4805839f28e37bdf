/**
 * The server half of the serving benchmark's rate sweep, run as a child process of bench/serve.ts
 * so that the server has its own event loop (the load generator is a third process):
 *   node --import tsx bench/serve-server.ts '<json>'
 * with {redisUrl, model: '20k' | '1m', users, config, warmPaths}. Builds the seeded synthetic model
 * (the same as the parent's, see serve-model.ts), builds the app, listens on a loopback port,
 * requests every warm path once (cache scenarios), then prints one JSON line {url, setupSeconds}
 * and serves until SIGTERM.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../src/core/serving/app.js';
import { closeRedis, createRedisClient, SERVING_AUTO_PIPELINING, waitReady } from '../src/core/serving/cache/redis.js';
import type { ServingConfig } from '../src/core/serving/config.js';
import { closeAlsPool } from '../src/core/models/als/pool.js';
import { MODELS } from './serve-model.js';

interface ServerSpec {
  redisUrl: string;
  /** 'bare': fastify + a default ioredis client, one GET of a 10-item JSON list (the machine's ceiling). */
  model: keyof typeof MODELS | 'bare';
  users: number;
  config: Partial<ServingConfig>;
  warmPaths: string[];
  /** A/B of the Redis client's auto-pipelining (default: what `recsys serve` uses). */
  autoPipelining?: boolean;
}

async function serveBare(spec: ServerSpec, t0: number): Promise<void> {
  const plain = new Redis(spec.redisUrl);
  const key = `${spec.config.keyPrefix ?? 'bench'}:bare`;
  await plain.set(key, JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ itemId: `i${i}`, score: 1 - i / 10 }))));
  const bare = Fastify();
  bare.get('/v1/users/:userId/recommendations', async (_req, reply) => reply.type('application/json').send(await plain.get(key)));
  const url = await bare.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ url, setupSeconds: (performance.now() - t0) / 1000 })}\n`);
  process.once('SIGTERM', () => {
    void bare.close().then(() => {
      plain.disconnect();
      process.exit(0);
    });
  });
}

async function serveApp(spec: ServerSpec, t0: number): Promise<void> {
  const model = spec.model === '1m' ? MODELS['1m']() : MODELS['20k'](spec.users);
  const redis = createRedisClient(spec.redisUrl, { commandTimeoutMs: 5000, autoPipelining: spec.autoPipelining ?? SERVING_AUTO_PIPELINING });
  if (!(await waitReady(redis, 5000))) throw new Error(`Redis at ${spec.redisUrl} is not reachable`);
  const app = await buildApp({ models: [model], redis, config: { processMetrics: false, ...spec.config } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  for (const p of spec.warmPaths) await fetch(`${url}${p}`).then((r) => r.arrayBuffer());
  process.stdout.write(`${JSON.stringify({ url, setupSeconds: (performance.now() - t0) / 1000 })}\n`);
  const stop = async (): Promise<void> => {
    await app.close();
    await closeRedis(redis);
    await closeAlsPool();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
const t0 = performance.now();
if (spec.model === 'bare') await serveBare(spec, t0);
else await serveApp(spec, t0);
