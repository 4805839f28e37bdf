/**
 * `recsys serve` and `recsys precompute` as a user runs them: the built bin/run.js in a subprocess
 * on the quickstart's models (npm test builds first). The server answers a known user, an unknown
 * user and an item-similarity request, and stops cleanly on SIGTERM.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runQuickstart } from '../../src/core/workflows/quickstart.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, uniquePrefix } from './fixtures.js';
import { closeRedis } from '../../src/core/serving/cache/redis.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/run.js');
const built = existsSync(join(ROOT, 'dist/commands/serve.js'));
const tmpDirs: string[] = [];
after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
const skip = built ? false : 'dist/commands/serve.js is missing: run `npm run build` first (npm test does)';

test('recsys serve: known user, unknown user, similar items over HTTP; SIGTERM stops it with exit 0', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-serve-cli-'));
  tmpDirs.push(dir);
  const qs = await runQuickstart({ dir, scale: 0.3 });
  const als = qs.models.find((m) => m.model === 'als')!.modelDir;
  const pop = qs.models.find((m) => m.model === 'popularity')!.modelDir;
  const env = { ...process.env, FORCE_COLOR: '0', REDIS_URL: '', RECSYS_ADMIN_TOKEN: '' };
  const child = spawn(process.execPath, [BIN, 'serve', '--model', als, '--model', pop, '--port', '0', '--store', join(dir, 'recsys.duckdb'), '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const out: string[] = [];
  const first = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      out.push(l);
      if (out.length === 1) resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const { listening, models } = JSON.parse(first) as { listening: string; models: Array<{ name: string; version: string }> };
  assert.match(listening, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(models.map((m) => m.name), ['als', 'popularity']);

  const known = (await (await fetch(`${listening}/v1/users/u000001/recommendations?k=5`)).json()) as { strategy: string; items: unknown[]; modelVersion: string };
  assert.deepEqual([known.strategy, known.items.length, known.modelVersion], ['personalized', 5, models[0].version]);
  const unknown = (await (await fetch(`${listening}/v1/users/never-seen/recommendations?k=5`)).json()) as { strategy: string; items: unknown[] };
  assert.deepEqual([unknown.strategy, unknown.items.length], ['cold-start-popularity', 5]);
  const similar = (await (await fetch(`${listening}/v1/items/p000001/similar?k=3`)).json()) as { strategy: string; items: unknown[] };
  assert.deepEqual([similar.strategy, similar.items.length], ['item-similarity', 3]);
  const category = (await (await fetch(`${listening}/v1/users/u000001/recommendations?k=3&category=books`)).json()) as { items: unknown[] };
  assert.equal(category.items.length, 3, '--store gives the category filter');
  assert.equal((await fetch(`${listening}/admin/reload`, { method: 'POST' })).status, 404, 'no admin routes without RECSYS_ADMIN_TOKEN');

  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0, stderr);
  const summary = JSON.parse(out.slice(1).join('\n')) as { stoppedBy: string; url: string; redis: string };
  assert.deepEqual([summary.stoppedBy, summary.url, summary.redis], ['SIGTERM', listening, 'disabled']);
});

test('recsys precompute --json reports users/s and flips the pointer', { skip: skip || (REDIS_URL ? false : NO_REDIS_REASON) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-precompute-cli-'));
  tmpDirs.push(dir);
  const qs = await runQuickstart({ dir, scale: 0.3 });
  const als = qs.models.find((m) => m.model === 'als')!.modelDir;
  const prefix = uniquePrefix('cli');
  const r = spawnSync(process.execPath, [BIN, 'precompute', '--model', als, '--k', '50', '--prefix', prefix, '--redis-url', REDIS_URL, '--json'], { cwd: dir, encoding: 'utf8' });
  const redis = await connect(REDIS_URL);
  try {
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { users: number; k: number; flipped: boolean; usersPerSecond: number; runId: string; modelVersion: string };
    assert.deepEqual([out.users, out.k, out.flipped], [600, 50, true]);
    assert.ok(out.usersPerSecond > 0);
    assert.equal(await redis.get(`${prefix}:l2:{${out.modelVersion}}:current`), out.runId);
    const bad = spawnSync(process.execPath, [BIN, 'precompute', '--model', als, '--shard', '3/2', '--redis-url', REDIS_URL], { cwd: dir, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--shard expects i\/N/);
  } finally {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
});
