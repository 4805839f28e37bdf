/**
 * Experiments benchmark (`node --import tsx bench/experiments.ts [options]`).
 *
 * Starts a private redis-server on a spare loopback port (or uses --redis-url) and measures:
 *  - thompson (HTTP): the real server on loopback with Thompson sampling over three arms (mf,
 *    content, two_tower: the same synthetic ALS model under three names; what differs is the
 *    simulated users' click probability per arm). Simulated users request lists and click with the
 *    arm's probability, sending the click back with the response's requestId. Reported: the best
 *    arm's share per window of requests, and the regret against always serving it.
 *  - rollback (HTTP): fixed 50/50 between a control and an arm with a 10% lower CTR; how many
 *    impressions until the guardrail (mSPRT, δ = 5%, α = 0.05) rolls the arm back.
 *  - false (in process, same engine code against the same Redis): repeated runs with equal arms,
 *    and with the arm exactly at the threshold (5% lower: the worst case the test must hold), the
 *    share of runs with a (false) rollback under continuous monitoring (a check every 100
 *    impressions); and the impressions to rollback of a 10% drop over repeated runs.
 *  - overhead (HTTP): the same server setup with and without an experiment, every list cached
 *    (in-process LRU hits), autocannon at 1 and 10 connections, interleaved rounds: the latency the
 *    experiment layer adds (assignment + impression logging) at p50/p99.
 * Appends a dated section to BENCHMARKS.md (unless --no-append).
 *
 * Options: --only thompson,rollback,false,overhead  --runs N (per false-rollback scenario, default 100)
 *          --drop-runs N (runs of the 10%-drop scenario, default 20)
 *          --horizon N (impressions per run, default 10000)  --requests N (thompson HTTP run, default 20000)
 *          --seconds N (per overhead row, default 6)  --rounds N (default 3)  --redis-url URL  --no-append
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { IdMap } from '../src/core/data/matrix.js';
import { AlsModel } from '../src/core/models/als/als.js';
import { closeAlsPool } from '../src/core/models/als/pool.js';
import { Rng } from '../src/core/rng.js';
import { buildApp } from '../src/core/serving/app.js';
import { closeRedis, createRedisClient, waitReady, type RedisClient } from '../src/core/serving/cache/redis.js';
import { ServingModel } from '../src/core/serving/model.js';
import { parseExperimentsConfig } from '../src/core/experiments/config.js';
import { ExperimentManager } from '../src/core/experiments/manager.js';
import { simulateTraffic } from '../src/core/experiments/simulate.js';
import { directCall } from '../src/core/experiments/store.js';
import { wilson } from '../src/core/experiments/stats.js';
import { load, sparePort, type LoadResult } from './loadgen.js';

const ROOT = new URL('../', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ONLY = new Set((flag('--only') ?? 'thompson,rollback,false,overhead').split(','));
const RUNS = Number(flag('--runs') ?? 100);
const HORIZON = Number(flag('--horizon') ?? 10000);
const REQUESTS = Number(flag('--requests') ?? 20000);
const SECONDS = Number(flag('--seconds') ?? 6);
const ROUNDS = Number(flag('--rounds') ?? 3);
const APPEND = !args.includes('--no-append');
const DROP_RUNS = Number(flag('--drop-runs') ?? 20);
const CONCURRENT_RUNS = 8;
const log = (s: string): void => console.log(s);
const pct = (v: number, d = 1): string => `${(v * 100).toFixed(d)}%`;

/** Seeded synthetic ALS model (N(0, 1/√k) factors), 10 random training items per user. */
function syntheticModels(nUsers: number, nItems: number, factors: number, names: string[]): ServingModel[] {
  const rng = new Rng(2026);
  const scale = 1 / Math.sqrt(factors);
  const userFactors = Float32Array.from({ length: nUsers * factors }, () => rng.normal() * scale);
  const itemFactors = Float32Array.from({ length: nItems * factors }, () => rng.normal() * scale);
  const per = 10;
  const indptr = Int32Array.from({ length: nUsers + 1 }, (_, u) => u * per);
  const indices = new Int32Array(nUsers * per);
  for (let u = 0; u < nUsers; u++) {
    const row = new Set<number>();
    while (row.size < per) row.add(rng.int(nItems));
    indices.set([...row].sort((a, b) => a - b), u * per);
  }
  const userIds = new IdMap(Array.from({ length: nUsers }, (_, u) => `u${u}`));
  const itemIds = new IdMap(Array.from({ length: nItems }, (_, i) => `i${i}`));
  const recommender = AlsModel.fromFactors({ userIds, itemIds, userFactors, itemFactors, params: { alpha: 1, regularization: 0.05 } });
  return names.map((name) => new ServingModel({ recommender, name, history: { indptr, indices, values: new Float32Array(indices.length).fill(1) }, version: `bench-${name}` }));
}

interface RecBody {
  items: Array<{ itemId: string }>;
  requestId?: string;
  experiment?: { arm: string; propensity: number };
}

/**
 * Simulated users over HTTP: `workers` loops, each requesting a random user's list, clicking with
 * the served arm's probability (POST /v1/events with the requestId), until `total` requests or
 * `stop()` says so. Returns per-request arms in order.
 */
async function httpUsers(url: string, o: { total: number; users: number; workers: number; p: Record<string, number>; seed: number; stop?: () => boolean }): Promise<{ arms: string[]; clicks: number; seconds: number }> {
  const rng = new Rng(o.seed);
  const arms: string[] = [];
  let clicks = 0;
  let issued = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (issued < o.total && !(o.stop?.() ?? false)) {
      issued++;
      const user = `u${rng.int(o.users)}`;
      const res = await fetch(`${url}/v1/users/${user}/recommendations?k=10`);
      const body = (await res.json()) as RecBody;
      if (!body.experiment) throw new Error(`no experiment in the response: ${JSON.stringify(body).slice(0, 200)}`);
      arms.push(body.experiment.arm);
      if (rng.next() < (o.p[body.experiment.arm] ?? 0)) {
        clicks++;
        const ev = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId: user, itemId: body.items[rng.int(body.items.length)].itemId, type: 'click', requestId: body.requestId }] }) });
        await ev.arrayBuffer();
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return { arms, clicks, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const started = new Date();
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  let redisUrl = flag('--redis-url');
  let redisServer: ReturnType<typeof spawn> | null = null;
  if (!redisUrl) {
    const port = await sparePort();
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'bench-exp-redis-'))], { stdio: 'ignore' });
    redisUrl = `redis://127.0.0.1:${port}`;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { redisServer?.kill('SIGKILL'); process.exit(130); });
  }
  const redis: RedisClient = createRedisClient(redisUrl, { commandTimeoutMs: 5000 });
  if (!(await waitReady(redis, 5000))) throw new Error(`Redis at ${redisUrl} is not reachable (is redis-server installed?)`);
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  const prefix = `benchx${process.pid}`;
  const ARMS = ['mf', 'content', 'two_tower'];
  const models = syntheticModels(10000, 20000, 32, ARMS);
  const lines: string[] = [];
  const section = (title: string, body: string[]): void => {
    lines.push(`### ${title}`, '', ...body, '');
    log(`\n${title}\n${body.join('\n')}`);
  };
  const serve = async (experiments: ReturnType<typeof parseExperimentsConfig> | null, keyPrefix: string, extra: Record<string, unknown> = {}) => {
    const app = await buildApp({ models, redis, experiments, config: { keyPrefix, processMetrics: false, ...extra } });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { app, url };
  };

  // ---------------------------------------------------------------------------------------------
  if (ONLY.has('thompson')) {
    const p = { mf: 0.2, content: 0.15, two_tower: 0.25 };
    const exp = parseExperimentsConfig({ experiments: [{ id: 'ts-http', arms: ARMS, control: 'mf', allocation: { mode: 'thompson', seed: 1 }, refreshMs: 250 }] }, 'bench');
    const { app, url } = await serve(exp, `${prefix}-ts`);
    const r = await httpUsers(url, { total: REQUESTS, users: 10000, workers: 16, p, seed: 1 });
    const window = Math.max(1, Math.floor(REQUESTS / 10));
    const rows = ['| requests | two_tower (best, CTR 0.25) | mf (0.20) | content (0.15) | regret so far |', '| --- | --- | --- | --- | --- |'];
    let regret = 0;
    for (let w = 0; w * window < r.arms.length; w++) {
      const slice = r.arms.slice(w * window, (w + 1) * window);
      for (const a of slice) regret += 0.25 - p[a as keyof typeof p];
      const share = (arm: string): string => pct(slice.filter((a) => a === arm).length / slice.length);
      rows.push(`| ${(w * window + 1).toLocaleString('en-US')}–${(w * window + slice.length).toLocaleString('en-US')} | ${share('two_tower')} | ${share('mf')} | ${share('content')} | ${regret.toFixed(1)} |`);
    }
    const uniformRegret = (r.arms.length * (0.05 + 0.1)) / 3;
    await app.recsys.experiments!.tickAll();
    const v = app.recsys.experiments!.active!.view();
    await app.close();
    section(`Thompson sampling over three arms, real server on loopback + Redis (${r.arms.length.toLocaleString('en-US')} requests)`, [
      `${r.arms.length.toLocaleString('en-US')} GET /v1/users/<random of 10,000>/recommendations?k=10 from 16 concurrent simulated users, a click (POST /v1/events with the requestId) with probability mf 0.20, content 0.15, two_tower 0.25; the servers re-read the shared posterior every 250 ms; explore = 0.02. ${r.seconds.toFixed(1)} s (${Math.round(r.arms.length / r.seconds)} requests/s with their clicks), ${r.clicks.toLocaleString('en-US')} clicks.`,
      '',
      ...rows,
      '',
      `Regret against always serving two_tower: **${regret.toFixed(1)}** clicks over ${r.arms.length.toLocaleString('en-US')} requests (an even split would lose ${uniformRegret.toFixed(0)}). Final posterior means: ${v.arms.map((a) => `${a.arm} ${a.posteriorMean?.toFixed(4)} (${a.impressions.toLocaleString('en-US')} impressions)`).join(', ')}.`,
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  if (ONLY.has('rollback')) {
    // List-level CTRs of 0.5 and 0.45 (10% lower) keep the HTTP run short: at CTR 0.2 the same
    // relative drop needs about 4× the impressions (the in-process rows below measure that case).
    const p = { mf: 0.5, content: 0.45 };
    const exp = parseExperimentsConfig({ experiments: [{ id: 'rollback-http', arms: ['mf', 'content'], control: 'mf', refreshMs: 100 }] }, 'bench');
    const { app, url } = await serve(exp, `${prefix}-rb`);
    const engine = app.recsys.experiments!.active!;
    const r = await httpUsers(url, { total: 400000, users: 200000, workers: 16, p, seed: 2, stop: () => engine.isRolledBack('content') });
    await app.recsys.experiments!.tickAll();
    const info = engine.view().arms.find((a) => a.arm === 'content')!.rolledBack;
    const metrics = (await app.inject('/metrics')).body;
    const raised = /recsys_experiment_rollbacks_total\{experiment="rollback-http",arm="content"\} 1/.test(metrics);
    await app.close();
    section('Guardrail rollback of a degraded arm, real server on loopback + Redis', [
      `Fixed 50/50 between the control (list CTR 0.50) and an arm with a 10% lower CTR (0.45); guardrail: roll back when the arm is more than 5% below the control, mSPRT α = 0.05, τ = 0.01, checked every 100 ms by the server. ${r.arms.length.toLocaleString('en-US')} requests in ${r.seconds.toFixed(1)} s.`,
      info
        ? `Rolled back after **${(info.armImpressions + info.controlImpressions).toLocaleString('en-US')} impressions** (${info.armImpressions.toLocaleString('en-US')} of the arm); reason logged: "${info.reason}". recsys_experiment_rollbacks_total raised: ${raised ? 'yes' : 'no'}.`
        : 'No rollback within the request budget.',
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  if (ONLY.has('false')) {
    const scenario = async (name: string, pArm: number, runs: number, horizon: number, seed0: number) => {
      let rollbacks = 0;
      const at: number[] = [];
      const t0 = performance.now();
      for (let start = 0; start < runs; start += CONCURRENT_RUNS) {
        const batch = Array.from({ length: Math.min(CONCURRENT_RUNS, runs - start) }, async (_, j) => {
          const run = start + j;
          const config = parseExperimentsConfig({ experiments: [{ id: `${name}-${run}`, arms: ['control', 'arm'], control: 'control' }] }, 'bench');
          const m = await ExperimentManager.start({ config, call: directCall(redis), keyPrefix: `${prefix}-f`, servedModels: () => ['control', 'arm'], timers: false });
          const r = await simulateTraffic(m.active!, { clickProbability: { control: 0.2, arm: pArm }, impressions: horizon, users: 100000, tickEvery: 100, seed: seed0 + run, stopOnRollbackOf: 'arm', batch: 500, requestPrefix: `${name}${run}` });
          m.close();
          if (r.rollbackAt !== null) {
            rollbacks++;
            at.push(r.rollbackAt);
          }
          await m.store.reset(`${name}-${run}`);
        });
        await Promise.all(batch);
        process.stdout.write(`\r${name}: ${Math.min(start + CONCURRENT_RUNS, runs)}/${runs} runs, ${rollbacks} rollbacks`);
      }
      process.stdout.write('\n');
      at.sort((a, b) => a - b);
      return { rollbacks, runs, at, seconds: (performance.now() - t0) / 1000 };
    };
    const equal = await scenario('equal', 0.2, RUNS, HORIZON, 1000);
    const boundary = await scenario('boundary', 0.19, RUNS, HORIZON, 5000);
    const drop = await scenario('drop10', 0.18, DROP_RUNS, 200000, 9000);
    const rate = (s: { rollbacks: number; runs: number }): string => {
      const [lo, hi] = wilson(s.rollbacks, s.runs);
      return `${s.rollbacks}/${s.runs} = **${pct(s.rollbacks / s.runs)}** [95% CI ${pct(lo)}, ${pct(hi)}]`;
    };
    const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    section('Guardrail error rate under continuous monitoring (in process, same engine, same Redis)', [
      `Each run: a new experiment, fixed 50/50, control CTR 0.20, the check after every 100 impressions (the test is peeked at up to ${HORIZON / 100} times per run), guardrail δ = 5%, α = 0.05, ${HORIZON.toLocaleString('en-US')} impressions per run; ${CONCURRENT_RUNS} runs at a time.`,
      '',
      '| scenario | arm CTR | runs with a rollback |',
      '| --- | --- | --- |',
      `| equal arms | 0.20 | ${rate(equal)} (${equal.seconds.toFixed(0)} s) |`,
      `| arm exactly at the threshold (5% lower: H0's worst case) | 0.19 | ${rate(boundary)} (${boundary.seconds.toFixed(0)} s) |`,
      `| arm 10% lower (runs up to 200,000 impressions) | 0.18 | ${rate(drop)}; impressions to rollback: median ${drop.at.length ? q(drop.at, 0.5).toLocaleString('en-US') : '–'}, p10 ${drop.at.length ? q(drop.at, 0.1).toLocaleString('en-US') : '–'}, p90 ${drop.at.length ? q(drop.at, 0.9).toLocaleString('en-US') : '–'} (${drop.seconds.toFixed(0)} s) |`,
      '',
      'A rollback in the first two rows is a false rollback: it must stay at or under α = 5% (Ville\'s inequality bounds it by α for any number of looks at the threshold, and by less for equal arms).',
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  if (ONLY.has('overhead')) {
    const exp = parseExperimentsConfig({ experiments: [{ id: 'overhead', arms: ARMS, control: 'mf' }] }, 'bench');
    const cached = { lruEntries: 100000, lruTtlMs: 3600000 };
    const plain = await serve(null, `${prefix}-o1`, cached);
    const withExp = await serve(exp, `${prefix}-o2`, cached);
    const rng = new Rng(3);
    const paths = Array.from({ length: 1000 }, () => `/v1/users/u${rng.int(10000)}/recommendations?k=10`);
    // Every list cached on every arm: each user's arm is sticky, so one pass warms it; the plain server serves mf.
    for (const target of [plain, withExp]) for (const path of paths) await (await fetch(`${target.url}${path}`)).arrayBuffer();
    for (const target of [plain, withExp]) await load(target.url, paths, 1, 10);
    // Closed loop at 1 connection (pure latency), fixed request rates (latency at a given load, no
    // queueing from saturation), and closed loop at 10 connections (saturation: throughput).
    const LOADS = [
      { label: '1 connection, closed loop', c: 1, rate: 0 },
      { label: '10 connections, 1,000 req/s', c: 10, rate: 1000 },
      { label: '10 connections, 2,000 req/s', c: 10, rate: 2000 },
      { label: '10 connections, closed loop (saturated)', c: 10, rate: 0 },
    ];
    const NAMES = ['without experiments', 'with an experiment (fixed, 3 arms)'] as const;
    const samples = new Map<string, LoadResult[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const l of LOADS) {
        for (const [name, target] of [[NAMES[0], plain], [NAMES[1], withExp]] as const) {
          const r = await load(target.url, paths, SECONDS, l.c, l.rate);
          const key = `${name}|${l.label}`;
          samples.set(key, [...(samples.get(key) ?? []), r]);
          log(`round ${round} ${name}, ${l.label}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(3)} p99 ${r.p99.toFixed(3)} ms, non-2xx ${r.non2xx}`);
        }
      }
    }
    const tiers = await withExp.app.recsys.metrics.registry.getSingleMetricAsString('recsys_recommendation_duration_seconds');
    const lruHits = Number(/_count\{tier="lru"\} (\d+)/.exec(tiers)?.[1] ?? 0);
    const allTiers = [...tiers.matchAll(/_count\{tier="(\w+)"\} (\d+)/g)].reduce((s, m) => s + Number(m[2]), 0);
    await withExp.app.recsys.experiments!.tickAll();
    const logged = withExp.app.recsys.experiments!.active!.view().arms.reduce((s, a) => s + a.impressions, 0);
    await plain.app.close();
    await withExp.app.close();
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rows = ['| load | server | req/s | p50 ms | p95 ms | p99 ms | added p50 | added p99 |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
    for (const l of LOADS) {
      const base = samples.get(`${NAMES[0]}|${l.label}`)!;
      for (const name of NAMES) {
        const rs = samples.get(`${name}|${l.label}`)!;
        const add50 = median(rs.map((r) => r.p50)) - median(base.map((r) => r.p50));
        const add99 = median(rs.map((r) => r.p99)) - median(base.map((r) => r.p99));
        rows.push(`| ${l.label} | ${name} | ${Math.round(median(rs.map((r) => r.rps))).toLocaleString('en-US')} | ${median(rs.map((r) => r.p50)).toFixed(3)} | ${median(rs.map((r) => r.p95)).toFixed(3)} | ${median(rs.map((r) => r.p99)).toFixed(3)} | ${rs === base ? '–' : `${add50 >= 0 ? '+' : ''}${add50.toFixed(3)} ms`} | ${rs === base ? '–' : `**${add99 >= 0 ? '+' : ''}${add99.toFixed(3)} ms**`} |`);
      }
    }
    // The layer's own CPU per request, without HTTP: assign + queue the impression, and the
    // batched writes (awaited at the end), over the same engine code the route runs.
    const micro = await ExperimentManager.start({ config: exp, call: directCall(redis), keyPrefix: `${prefix}-micro`, servedModels: () => ARMS, timers: false });
    const items = Array.from({ length: 10 }, (_, i) => `i${i}`);
    const perCall: number[] = [];
    const N = 50000;
    const redisCpu = async (): Promise<number> => {
      const info = await redis.info('cpu');
      return (Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN)) * 1e6;
    };
    const redis0 = await redisCpu();
    const cpu0 = process.cpuUsage();
    const tm = performance.now();
    for (let i = 0; i < N; i++) {
      const t1 = performance.now();
      const user = `u${i % 10000}`;
      const a = await micro.active!.assign(user);
      micro.recordImpression(a, user, `m${i}`, items);
      perCall.push(performance.now() - t1);
    }
    await micro.store.flush();
    const microMs = (performance.now() - tm) / N;
    const cpu1 = process.cpuUsage(cpu0);
    const serverCpuUs = (cpu1.user + cpu1.system) / N;
    const redisCpuUs = ((await redisCpu()) - redis0) / N;
    const entries = await redis.xlen(micro.store.keys.log(exp.experiments[0].id));
    await micro.close();
    perCall.sort((a, b) => a - b);
    const q = (p: number): number => perCall[Math.min(perCall.length - 1, Math.floor(p * perCall.length))];
    section('Overhead of the experiment layer on a cached request', [
      `In process (no HTTP), ${N.toLocaleString('en-US')} requests through the layer: assign + queue the impression takes p50 ${(q(0.5) * 1000).toFixed(1)} µs, p99 ${(q(0.99) * 1000).toFixed(1)} µs on the request path; including the batched Redis writes (every ${micro.store.flushMs} ms or ${micro.store.maxBatch} impressions, awaited at the end), **${(microMs * 1000).toFixed(1)} µs per request** on average: ${serverCpuUs.toFixed(1)} µs of this process's CPU (assign, queue, write) and ${redisCpuUs.toFixed(1)} µs of Redis CPU per impression${redisServer ? '' : ' (a shared Redis: other clients count too)'}, ${entries.toLocaleString('en-US')} stream entries for ${N.toLocaleString('en-US')} impressions.`,
      '',
      `Two servers on the same 20,000-item synthetic model (under three names), same Redis, every requested list in the in-process LRU (${pct(lruHits / Math.max(1, allTiers))} of the experiment server's answers were LRU hits); the experiment server assigns each request by hashing (fixed shares over 3 arms) and queues the impression, written to Redis in batches (every ${micro.store.flushMs} ms, or at once when ${micro.store.maxBatch} are queued): one Lua call and one stream entry per batch. autocannon, ${SECONDS} s per row, ${ROUNDS} interleaved rounds, medians; ${logged.toLocaleString('en-US')} impressions logged.`,
      '',
      ...rows,
    ]);
  }

  if (!redisServer) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await redis.del(...found);
    } while (cursor !== '0');
  }
  await closeRedis(redis);
  redisServer?.kill('SIGKILL');
  await closeAlsPool();

  const header = [
    `## Experiments benchmark — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`node --import tsx bench/experiments.ts${args.length ? ` ${args.join(' ')}` : ''}\`.`,
    `Dataset: synthetic ALS factors (seeded N(0, 1/√32)), 10,000 users × 20,000 items, 10 training items per user; simulated users with known click probabilities per arm.`,
    `Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, redis-server ${redisVersion} (${redisServer ? 'private instance started by the bench' : redisUrl}). Load average at start: ${load0}; at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    '',
  ];
  const text = [...header, ...lines].join('\n');
  if (APPEND) {
    const file = join(ROOT, 'BENCHMARKS.md');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    appendFileSync(file, `${before.endsWith('\n\n') ? '' : '\n'}${text}`);
    log(`appended to ${file}`);
  } else {
    log(`\n${text}`);
  }
}

await main();
