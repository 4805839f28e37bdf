import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { SimulateRunResult } from '../../src/core/bandits/workflow.js';
import { SHARED_DATASETS } from '../helpers.js';

const root = await mkdtemp(join(tmpdir(), 'recsys-simulate-cmd-'));
after(() => rm(root, { recursive: true, force: true }));
const repo = new URL('../../', import.meta.url).pathname;
const command = new URL('../../src/commands/simulate.ts', import.meta.url).pathname;

// The command class run from source in a child process (the test runner owns this process's stdout),
// with oclif's exit code passed on: what `recsys simulate <args>` does once built.
const RUNNER = `
const { default: Simulate } = await import(${JSON.stringify(command)});
try { await Simulate.run(process.argv.slice(1), ${JSON.stringify(repo)}); }
catch (e) { process.exitCode = e?.oclif?.exit ?? 1; if (!e?.oclif) console.error(e); }`;

function simulate(args: string[]): Promise<{ stdout: string; stderr: string; exit: number }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUNNER, '--', ...args], { cwd: repo, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolvePromise({ stdout, stderr, exit: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

test('simulate --logged --json returns the run result (report and paths) as the JSON output', async () => {
  const { stdout, exit } = await simulate(['--logged', join(SHARED_DATASETS, 'obd-small', 'random', 'women'), '--policy', 'random', '--estimator', 'ips,snips', '--bootstrap', '100', '--out', join(root, 'r'), '--json']);
  assert.equal(exit, 0);
  const result = JSON.parse(stdout) as SimulateRunResult;
  assert.equal(result.report.mode, 'logged');
  const l = result.report.logged;
  assert.ok(l && result.paths);
  assert.equal(l.result.estimates[0].estimator, 'ips');
  assert.equal(l.result.estimates[0].value, 0.0046);
  assert.ok(existsSync(result.paths.html));
});

test('simulate --env synthetic prints a regret table and writes a log that --logged reads back', async () => {
  const logPath = join(root, 'ab.csv');
  const { stdout } = await simulate([
    '--env', 'synthetic', '--arms', 'mf=0.04,content=0.03,two_tower=0.06', '--horizon', '2000', '--runs', '3',
    '--policies', 'ts,egreedy:epsilon=0.2', '--write-log', logPath, '--log-rows', '3000', '--out', join(root, 'r'), '-q',
  ]);
  assert.match(stdout, /env\s+3 arms, best arm p\* = 0\.0600; 3 runs × 2,000 steps/);
  assert.match(stdout, /^egreedy \(epsilon=0\.2\)\s+\d+\.\d/m);
  assert.match(stdout, /log\s+.*ab\.csv: 3,000 rows of a uniformly random policy/);
  const back = await simulate(['--logged', logPath, '--policy', 'ts', '--param', 'alpha0=2', '--estimator', 'replay,ips', '--bootstrap', '50', '--out', join(root, 'r'), '--json']);
  const result = JSON.parse(back.stdout) as SimulateRunResult;
  assert.deepEqual(result.report.logged?.log.arms, 3);
  assert.equal(result.report.logged?.policy.params.alpha0, 2);
  assert.equal(result.report.logged?.options.trainFraction, 0.5);
});

test('simulate usage errors: a stable code, the flag, and what to do', async () => {
  const men = join(SHARED_DATASETS, 'obd-small', 'random', 'men');
  const [none, noPolicy, badEstimator] = await Promise.all([
    simulate(['--json']),
    simulate(['--logged', men, '--json']),
    simulate(['--logged', men, '--policy', 'ts', '--estimator', 'ips,wrong']),
  ]);
  assert.equal(none.exit, 2);
  const e = JSON.parse(none.stdout) as { error: { code: string; message: string; data: { flag?: string } } };
  assert.equal(e.error.code, 'RECSYS_ERR_USAGE');
  assert.match(e.error.message, /--logged <file\|dir>.*--env synthetic/);
  assert.equal(noPolicy.exit, 2);
  assert.match(noPolicy.stdout, /give the policy to evaluate: --policy ts\|egreedy\|ucb\|linucb\|lints\|random/);
  assert.equal(badEstimator.exit, 2);
  assert.match(badEstimator.stderr, /unknown estimator 'wrong'/);
});
