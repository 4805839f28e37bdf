/**
 * The scaling benchmark (`recsys bench scale`, `npm run bench:scale`): every size in a fresh child
 * process (child.ts → size-run.ts), so each size's peak RSS is its own and a size that runs out of
 * memory is recorded as failed instead of taking the others down; then `precompute --shard i/N` as
 * N = 1 and N = 2 processes side by side against one Redis on a sample model; then the power-law
 * fits (cost.ts). Writes nothing itself but the per-size work folders (removed after each size);
 * report.ts turns the result into JSON, Markdown, SVG and HTML.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecsysError } from '../errors.js';
import { KeySpace } from '../serving/cache/keys.js';
import { closeRedis, createRedisClient, waitReady } from '../serving/cache/redis.js';
import type { PrecomputeResult } from '../serving/precompute.js';
import type { ShardChildOptions } from './child.js';
import { fitStages, type StageFit } from './cost.js';
import { formatCount, parseCount } from './measure.js';
import type { ScaleSizeOptions, ScaleSizeResult, ScaleSizeSpec } from './size-run.js';

export interface ScaleBenchmarkOptions {
  /** Event counts, e.g. [1e6, 5e6, 25e6, 1e8]. */
  sizes: number[];
  /** Scratch folder for the data (default a folder under /tmp); each size's data is removed after it. */
  workDir: string;
  factors?: number;
  iterations?: number;
  workers?: number;
  duckdbMemoryLimit?: string;
  /** Redis for the precompute stage and the shard runs; null skips both. */
  redisUrl: string | null;
  /** Size (events) whose model drives the shard runs; default the smallest size ≥ 5M, else the largest; null: no shard runs. */
  shardSize?: number | null;
  /** Users of the shard runs' sample model. */
  shardUsers?: number;
  /** Shard process counts to run (default [1, 2]). */
  shardCounts?: number[];
  /** V8 heap limit of each child (MiB). */
  childHeapMiB?: number;
  log?: (line: string) => void;
}

export interface ShardRun {
  processes: number;
  /** ALS threads per process (the machine's cores ÷ processes). */
  threadsPerProcess: number;
  users: number;
  wallSeconds: number;
  /** users ÷ wall (process start to last exit, model load included). */
  usersPerSecond: number;
  /** users ÷ (last shard's end − first shard's start of precompute): process start and model load excluded. */
  precomputeUsersPerSecond: number;
  perShard: Array<{ shard: string; users: number; seconds: number; loadSeconds: number; usersPerSecond: number }>;
  /** Keys found in Redis for the run: must equal users, each user once. */
  keysWritten: number;
  flipped: boolean;
}

export interface ScaleFailure {
  label: string;
  events: number;
  error: string;
}

export interface ScaleReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpu: string; memoryGiB: number; node: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  settings: { factors: number; iterations: number; duckdbMemoryLimit: string; redis: boolean };
  results: ScaleSizeResult[];
  failures: ScaleFailure[];
  shards: { size: string; users: number; items: number; runs: ShardRun[] } | null;
  fits: StageFit[];
  /** Set when sizes of earlier runs were merged in (mergeScaleReports): which run measured which sizes. */
  runs?: Array<{ startedAt: string; sizes: string[]; loadAverageStart: number[] }>;
}

/**
 * Adds the sizes of `earlier` that `later` did not run (e.g. re-running only 100M after a fix);
 * the fits are recomputed over all sizes, and `runs` says which run measured which size.
 */
export function mergeScaleReports(later: ScaleReport, earlier: ScaleReport): ScaleReport {
  const have = new Set(later.results.map((r) => r.size.interactions));
  const kept = earlier.results.filter((r) => !have.has(r.size.interactions));
  const results = [...kept, ...later.results].sort((a, b) => a.events - b.events);
  const done = new Set(results.map((r) => r.size.interactions));
  const failures = [...later.failures, ...earlier.failures.filter((f) => !done.has(f.events) && !have.has(f.events))];
  const runOf = (r: ScaleReport, sizes: ScaleSizeResult[]) => ({ startedAt: r.startedAt, sizes: sizes.map((x) => x.size.label), loadAverageStart: r.machine.loadAverageStart });
  return {
    ...later,
    results,
    failures,
    shards: later.shards ?? earlier.shards,
    fits: results.length >= 2 ? fitStages(results) : [],
    runs: [...(earlier.runs ?? [runOf(earlier, kept)]).filter((x) => x.sizes.length > 0), runOf(later, later.results)],
  };
}

/** Users and products for a size: the synthetic shop keeps 20 events per user and 200 per product. */
export function sizeSpec(events: number): ScaleSizeSpec {
  return { label: formatCount(events), interactions: events, users: Math.max(1000, Math.round(events / 20)), products: Math.max(200, Math.round(events / 200)) };
}

/** '1m,5m,25m,100m' → [1e6, 5e6, 2.5e7, 1e8] (sorted, distinct). */
export function parseSizes(text: string): number[] {
  const out = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = parseCount(s);
    if (!Number.isFinite(n) || n < 1000 || n > 2_000_000_000) {
      throw new RecsysError('RECSYS_ERR_USAGE', `--sizes: '${s}' is not an event count between 1k and 2b (e.g. 1m,5m,25m,100m)`, { flag: '--sizes' });
    }
    return n;
  });
  if (out.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', '--sizes is empty: pass e.g. 1m,5m,25m,100m', { flag: '--sizes' });
  return [...new Set(out)].sort((a, b) => a - b);
}

/** How to start a child: this module's sibling child.(ts|js), with the parent's loader flags (tsx). */
function childCommand(heapMiB: number): { exec: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const entry = here.replace(/benchmark\.(ts|js)$/, 'child.$1');
  const loader = process.execArgv.filter((a, i, all) => a.startsWith('--import') || a.startsWith('--loader') || all[i - 1] === '--import' || all[i - 1] === '--loader');
  return { exec: process.execPath, args: [...loader, `--max-old-space-size=${heapMiB}`, entry] };
}

async function runChild(mode: 'size' | 'shard', options: unknown, dir: string, heapMiB: number, log: (line: string) => void, tag: string): Promise<unknown> {
  await mkdir(dir, { recursive: true });
  const safe = `${mode}-${tag.replace(/[^A-Za-z0-9]+/g, '_')}-${Math.random().toString(36).slice(2, 8)}`;
  const optionsFile = join(dir, `${safe}-options.json`);
  const resultFile = join(dir, `${safe}-result.json`);
  await writeFile(optionsFile, JSON.stringify(options));
  const { exec, args } = childCommand(heapMiB);
  const child = spawn(exec, [...args, mode, optionsFile, resultFile], { stdio: ['ignore', 'inherit', 'pipe'] });
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    tail = (tail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(`[${tag}] ${line}`);
  });
  const code = await new Promise<number | null>((done) => child.on('close', (c, signal) => done(signal ? 128 : c)));
  if (code !== 0) throw new Error(`child exited with ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
  const result = JSON.parse(await readFile(resultFile, 'utf8')) as unknown;
  await rm(resultFile, { force: true });
  return result;
}

export async function runScaleBenchmark(opts: ScaleBenchmarkOptions): Promise<ScaleReport> {
  const log = opts.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const loadAverageStart = loadavg();
  const factors = opts.factors ?? 64;
  const iterations = opts.iterations ?? 3;
  const memoryLimit = opts.duckdbMemoryLimit ?? '6GB';
  const heap = opts.childHeapMiB ?? 8192;
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const shardSize = opts.redisUrl && opts.shardSize !== null ? (opts.shardSize ?? sizes.find((s) => s >= 5_000_000) ?? sizes[sizes.length - 1]) : null;
  const shardDir = join(opts.workDir, 'shard-model');
  const results: ScaleSizeResult[] = [];
  const failures: ScaleFailure[] = [];
  let shards: ScaleReport['shards'] = null;
  await mkdir(opts.workDir, { recursive: true });

  for (const events of sizes) {
    const spec = sizeSpec(events);
    const dir = join(opts.workDir, `size-${spec.label}`);
    const childOpts: ScaleSizeOptions = {
      size: spec,
      workDir: dir,
      factors,
      iterations,
      workers: opts.workers,
      duckdbMemoryLimit: memoryLimit,
      redisUrl: opts.redisUrl,
      shardModel: events === shardSize ? { dir: shardDir, users: opts.shardUsers ?? 20_000 } : null,
    };
    log(`size ${spec.label}: ${spec.users.toLocaleString()} users, ${spec.products.toLocaleString()} products, ${events.toLocaleString()} events`);
    try {
      const r = (await runChild('size', childOpts, dir, heap, log, spec.label)) as ScaleSizeResult;
      results.push(r);
    } catch (e) {
      failures.push({ label: spec.label, events, error: (e as Error).message });
      log(`size ${spec.label} FAILED: ${(e as Error).message}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (events === shardSize && opts.redisUrl && results.some((r) => r.size.interactions === events)) {
      try {
        shards = await runShards(opts.redisUrl, shardDir, opts.shardCounts ?? [1, 2], heap, log, spec.label);
      } catch (e) {
        log(`shard runs FAILED: ${(e as Error).message}`);
      } finally {
        await rm(shardDir, { recursive: true, force: true });
      }
    }
  }

  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'cpu', memoryGiB: totalmem() / 2 ** 30, node: process.version, loadAverageStart, loadAverageEnd: loadavg() },
    settings: { factors, iterations, duckdbMemoryLimit: memoryLimit, redis: opts.redisUrl !== null },
    results,
    failures,
    shards,
    fits: results.length >= 2 ? fitStages(results) : [],
  };
}

/** N shard processes side by side per count, against one Redis; checks every user was written once. */
async function runShards(redisUrl: string, dir: string, counts: number[], heap: number, log: (line: string) => void, sizeLabel: string): Promise<NonNullable<ScaleReport['shards']>> {
  const manifest = JSON.parse(await readFile(join(dir, 'model', 'manifest.json'), 'utf8')) as { tensors: { userFactors: { shape: number[] }; itemFactors: { shape: number[] } } };
  const nUsers = manifest.tensors.userFactors.shape[0];
  const nItems = manifest.tensors.itemFactors.shape[0];
  const prefix = `recsys-scale-shards-${process.pid}`;
  const redis = createRedisClient(redisUrl, { commandTimeoutMs: 30000 });
  const runs: ShardRun[] = [];
  try {
    if (!(await waitReady(redis, 5000))) throw new RecsysError('RECSYS_ERR_REDIS', `cannot reach Redis at ${redisUrl}`, { flag: '--redis-url' });
    for (const count of counts) {
      const runId = `scale.n${count}.${Date.now().toString(36)}`;
      log(`shards: ${count} process(es) over ${nUsers.toLocaleString()} users × ${nItems.toLocaleString()} items`);
      const t0 = performance.now();
      const per = (await Promise.all(
        Array.from({ length: count }, (_, index) => {
          // One machine's cores split between the processes, as N machines would each use their own.
          const o: ShardChildOptions = { dir, redisUrl, shard: { index, count }, runId, keyPrefix: prefix, k: 10, workers: Math.max(1, Math.floor(cpus().length / count)) };
          return runChild('shard', o, join(dir, 'runs'), heap, log, `shard ${index}/${count}`);
        }),
      )) as Array<PrecomputeResult & { loadSeconds: number; startMs: number; endMs: number }>;
      const wall = (performance.now() - t0) / 1000;
      let keysWritten = 0;
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', new KeySpace(prefix).l2Pattern(runId), 'COUNT', 5000);
        cursor = next;
        keysWritten += found.length;
      } while (cursor !== '0');
      const users = per.reduce((s, r) => s + r.users, 0);
      runs.push({
        processes: count,
        threadsPerProcess: Math.max(1, Math.floor(cpus().length / count)),
        users,
        wallSeconds: wall,
        usersPerSecond: users / wall,
        precomputeUsersPerSecond: users / ((Math.max(...per.map((r) => r.endMs)) - Math.min(...per.map((r) => r.startMs))) / 1000),
        perShard: per.map((r) => ({ shard: `${r.shard.index}/${r.shard.count}`, users: r.users, seconds: r.seconds, loadSeconds: r.loadSeconds, usersPerSecond: r.usersPerSecond })),
        keysWritten,
        flipped: per.some((r) => r.flipped),
      });
      log(`shards: ${count} → ${(users / wall).toFixed(0)} users/s wall, ${keysWritten} keys`);
      await dropPrefix(redis, prefix);
    }
  } finally {
    await dropPrefix(redis, prefix).catch(() => undefined);
    await closeRedis(redis);
  }
  return { size: sizeLabel, users: nUsers, items: nItems, runs };
}

async function dropPrefix(redis: ReturnType<typeof createRedisClient>, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
}
