/**
 * Shared by the serving tests: a tiny hand-checked ALS model (3 users × 5 items, 2 factors) and
 * popularity model on the same history, Redis helpers (a unique key prefix per test file, cleanup,
 * private redis-server instances on spare loopback ports), and the quickstart models.
 *
 * Item factors          User factors        Training history (value 1 each)
 *   i0 [1, 0]             u0 [1, 0]           u0: i0
 *   i1 [0, 1]             u1 [0, 1]           u1: i1, i4
 *   i2 [1, 1]             u2 [.5, .5]         u2: i2
 *   i3 [2, 0]
 *   i4 [0, .5]
 * Catalogue: i0, i2, i4 in category 'a'; i1, i3 in 'b'.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsModel } from '../../src/core/models/als/als.js';
import { Popularity } from '../../src/core/models/popularity.js';
import { ServingModel } from '../../src/core/serving/model.js';
import { createRedisClient, waitReady, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { matrixFromRows } from '../helpers.js';

export const HISTORY_ROWS = [[0], [1, 4], [2]];
export const CATALOG = [
  { itemId: 'i0', category: 'a' },
  { itemId: 'i1', category: 'b' },
  { itemId: 'i2', category: 'a' },
  { itemId: 'i3', category: 'b' },
  { itemId: 'i4', category: 'a' },
];

export function tinyHistory() {
  return matrixFromRows(HISTORY_ROWS, 5);
}

export function tinyAls(version = 'als-test'): ServingModel {
  const history = tinyHistory();
  const model = AlsModel.fromFactors({
    userIds: history.users,
    itemIds: history.items,
    userFactors: Float32Array.of(1, 0, 0, 1, 0.5, 0.5),
    itemFactors: Float32Array.of(1, 0, 0, 1, 1, 1, 2, 0, 0, 0.5),
    params: { regularization: 0.1, alpha: 1 },
  });
  return new ServingModel({ recommender: model, history, catalog: CATALOG, version });
}

export async function tinyPopularity(version = 'popularity-test'): Promise<ServingModel> {
  const history = tinyHistory();
  const model = new Popularity();
  await model.fit(history);
  return new ServingModel({ recommender: model, history, catalog: CATALOG, version });
}

export const REDIS_URL = process.env.REDIS_URL ?? '';
export const NO_REDIS_REASON = 'REDIS_URL is not set: start Redis (redis-server --port 6379) and run with REDIS_URL=redis://127.0.0.1:6379 (CI sets it)';

/** A unique key prefix per test file and run, so parallel suites never see each other's keys. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function connect(url: string): Promise<RedisClient> {
  const client = createRedisClient(url, { commandTimeoutMs: 2000 });
  if (!(await waitReady(client, 3000))) throw new Error(`Redis at ${url} is not reachable`);
  return client;
}

/** Delete every key under `prefix` (test cleanup). */
export async function dropPrefix(client: RedisClient, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const redisDirs = new WeakMap<ChildProcess, string>();

/** A throwaway redis-server on a loopback port (no persistence); resolves once it answers. */
export async function startRedisServer(port: number, extra: string[] = []): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const probe = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 200 });
      void waitReady(probe, 200).then((ready) => {
        probe.disconnect();
        resolve(ready);
      });
    });
    if (ok) {
      redisDirs.set(child, dir);
      return child;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start within 5 s`);
}

/** Kill a child and wait for it; a redis-server started by startRedisServer also loses its temp dir. */
export function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const dir = redisDirs.get(child);
  const cleanup = (): void => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    cleanup();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => {
      cleanup();
      resolve();
    });
    child.kill(signal);
  });
}

/** Whether Debian's redis-server binary is on PATH (the fault and cluster tests start their own). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}
