/**
 * Closing the loop: traffic through the engine (real Redis), `recsys experiments export` writes the
 * log in the generic logged-bandit format, and `recsys simulate --logged <log> --target-log <log>`
 * estimates the served policy from the logged propensities: IPS equals the observed CTR (exactly
 * for fixed shares, within the CI for Thompson sampling, whose propensities change over time).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '../../src/core/bandits/workflow.js';
import { parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { exportExperimentLog } from '../../src/core/experiments/export.js';
import { ExperimentManager } from '../../src/core/experiments/manager.js';
import { simulateTraffic } from '../../src/core/experiments/simulate.js';
import { directCall } from '../../src/core/experiments/store.js';
import { closeRedis, type RedisClient } from '../../src/core/serving/cache/redis.js';
import { NO_REDIS_REASON, REDIS_URL, connect, dropPrefix, uniquePrefix } from '../serving/fixtures.js';

const skip = REDIS_URL ? false : NO_REDIS_REASON;
const prefix = uniquePrefix('exp-export');
const repo = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'recsys-exp-export-'));
let redis: RedisClient;
const managers: ExperimentManager[] = [];

before(async () => {
  if (REDIS_URL) redis = await connect(REDIS_URL);
});
after(async () => {
  for (const m of managers) m.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await closeRedis(redis);
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Command classes run from source, one after the other, in one child process (what `recsys <cmd>`
 * does once built; one tsx start-up for both). Each command's --json output is followed by a marker line.
 */
const MARK = '--8<--';
function runCommands(commands: Array<[string, string[]]>): Promise<{ outputs: string[]; stderr: string; exit: number }> {
  const runner = `const cmds = ${JSON.stringify(commands.map(([path, args]) => [join(repo, path), args]))};
for (const [path, args] of cmds) {
  const { default: C } = await import(path);
  try { await C.run(args, ${JSON.stringify(repo)}); } catch (e) { process.exitCode = e?.oclif?.exit ?? 1; if (!e?.oclif) console.error(e); break; }
  process.stdout.write('\\n${MARK}\\n');
}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner], { cwd: repo, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      resolve({ outputs: stdout.split(`\n${MARK}\n`), stderr, exit: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

async function traffic(id: string, allocation: Record<string, unknown>, impressions: number, seed: number) {
  const config = parseExperimentsConfig({ experiments: [{ id, arms: ['mf', 'content', 'two_tower'], control: 'mf', allocation, guardrail: { enabled: false } }] }, 'test');
  const m = await ExperimentManager.start({ config, call: directCall(redis), keyPrefix: prefix, servedModels: () => ['mf', 'content', 'two_tower'], timers: false });
  managers.push(m);
  return simulateTraffic(m.active!, { clickProbability: { mf: 0.2, content: 0.12, two_tower: 0.3 }, impressions, users: 20000, tickEvery: 100, seed });
}

test('fixed shares: the export evaluates in `recsys simulate --logged`, IPS of the served policy = observed CTR', { skip, timeout: 60_000 }, async () => {
  const sim = await traffic('fixed-export', { mode: 'fixed', shares: { mf: 0.5, content: 0.3, two_tower: 0.2 } }, 3000, 21);
  const out = join(dir, 'fixed.csv');
  const report = join(dir, 'reports');
  const runs = await runCommands([
    ['src/commands/experiments/export.ts', ['--experiment', 'fixed-export', '--out', out, '--redis-url', REDIS_URL, '--prefix', prefix, '--json']],
    ['src/commands/simulate.ts', ['--logged', out, '--target-log', out, '--estimator', 'ips,snips', '--bootstrap', '200', '--out', report, '--json']],
    ['src/commands/experiments/status.ts', ['--experiment', 'fixed-export', '--html', join(dir, 'status.html'), '--redis-url', REDIS_URL, '--prefix', prefix, '--json']],
  ]);
  assert.equal(runs.exit, 0, runs.stderr);
  const result = JSON.parse(runs.outputs[0]) as { rows: number; rewards: number; perArm: Record<string, { rows: number }> };
  assert.equal(result.rows, 3000);
  assert.equal(result.rewards, sim.clicks, 'every simulated click was attributed and exported');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'timestamp,request_id,arm,propensity,reward');
  assert.equal(lines.length, 3001);
  assert.match(lines[1], /^\d{10}\.\d{3},sim21-0,(mf,0\.5|content,0\.3|two_tower,0\.2),[01]$/);

  const logged = (JSON.parse(runs.outputs[1]) as { report: { logged: { result: { estimates: Array<{ estimator: string; value: number; ci95: [number, number] }> }; target: { onPolicy: { value: number } }; comparison: Array<{ estimator: string; truthInCi: boolean }> } } }).report.logged;
  const observed = sim.clicks / sim.impressions;
  assert.ok(Math.abs(logged.target.onPolicy.value - observed) < 1e-12);
  for (const e of logged.result.estimates) assert.ok(Math.abs(e.value - observed) < 1e-9, `${e.estimator} ${e.value} vs observed ${observed}`);
  assert.ok(logged.comparison.every((c) => c.truthInCi));

  // `experiments status --json` reads the same numbers back from Redis, and writes the page.
  const status = JSON.parse(runs.outputs[2]) as { experiments: Array<{ id: string; totals: { impressions: number; clicks: number; conversions: number }; arms: Array<{ arm: string; impressions: number; share: number }> }>; html: string };
  const s0 = status.experiments[0];
  assert.equal(s0.id, 'fixed-export');
  assert.deepEqual(s0.totals, { impressions: 3000, clicks: sim.clicks, conversions: 0 });
  assert.deepEqual(s0.arms.map((a) => [a.arm, a.impressions, a.share]), [['mf', sim.served.mf, 0.5], ['content', sim.served.content, 0.3], ['two_tower', sim.served.two_tower, 0.2]]);
  assert.match(readFileSync(status.html, 'utf8'), /data-chart="ctr-fixed-export"/);
});

test('thompson: propensities change as the posterior learns; IPS of the served policy still covers the observed CTR', { skip, timeout: 60_000 }, async () => {
  const sim = await traffic('ts-export', { mode: 'thompson', seed: 5, explore: 0.1 }, 2000, 22);
  const out = join(dir, 'ts.csv');
  const ex = await exportExperimentLog(managers[managers.length - 1].store, 'ts-export', out);
  assert.equal(ex.rows, 2000);
  const props = new Set(readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[3]));
  assert.ok(props.size > 10, `${props.size} distinct propensities`);
  const { report } = await runSimulation({ logged: { path: out, targetLog: out, estimators: ['ips', 'snips'], bootstrapSamples: 300, seed: 1 }, reportsDir: null });
  const observed = sim.clicks / sim.impressions;
  const ips = report.logged!.result.estimates.find((e) => e.estimator === 'ips')!;
  assert.ok(ips.ci95[0] <= observed && observed <= ips.ci95[1], `observed ${observed} in IPS CI [${ips.ci95}]`);
  assert.ok(Math.abs(ips.value - observed) / observed < 0.1, `IPS ${ips.value} vs observed ${observed}`);
});
