/** The experiments file: defaults filled once, and every mistake reported with the file and the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperimentsFile, parseExperimentsConfig } from '../../src/core/experiments/config.js';
import { isRecsysError } from '../../src/core/errors.js';

const MODELS = ['als', 'popularity', 'content'];

test('a minimal experiment gets equal fixed shares and every default', () => {
  const c = parseExperimentsConfig({ experiments: [{ id: 'ab', arms: ['als', 'popularity'], control: 'popularity' }] }, 'x.json', MODELS);
  const x = c.experiments[0];
  assert.deepEqual(x.allocation, { mode: 'fixed', shares: { als: 0.5, popularity: 0.5 } });
  assert.equal(x.salt, 'ab');
  assert.equal(x.enabled, true);
  assert.deepEqual(x.guardrail, { enabled: true, maxRelativeDrop: 0.05, alpha: 0.05, mixtureSd: 0.01, minImpressions: 500 });
  assert.equal(x.attributionWindowSeconds, 1800);
  assert.deepEqual(x.clickEvents, ['click', 'cart', 'purchase']);
  assert.equal(x.canary, null);
  assert.ok(Object.isFrozen(x));
});

test('thompson allocation and a canary are filled with their defaults', () => {
  const c = parseExperimentsConfig(
    { experiments: [{ id: 'ts', arms: ['als', 'popularity', 'content'], control: 'popularity', allocation: { mode: 'thompson', assignment: 'user' }, canary: { arm: 'content' } }] },
    'x.json',
    MODELS,
  );
  const x = c.experiments[0];
  assert.deepEqual(x.allocation, { mode: 'thompson', assignment: 'user', stickySeconds: 3600, alpha0: 1, beta0: 1, explore: 0.02, mcSamples: 10000, seed: null });
  assert.deepEqual(x.canary, { arm: 'content', steps: [0.01, 0.05, 0.25, 0.5], minImpressions: 1000, minSeconds: 0 });
});

test('mistakes name the file and the field', () => {
  const base = { id: 'e', arms: ['als', 'popularity'], control: 'popularity' };
  const cases: Array<[unknown, RegExp]> = [
    [[], /^x\.json: must be a JSON object with an "experiments" array$/],
    [{ experiments: [{ ...base, control: 'content' }] }, /^x\.json: experiments\[0\]\.control 'content' is not one of the arms \(als, popularity\)$/],
    [{ experiments: [{ ...base, arms: ['als', 'bert'] , control: 'als' }] }, /^x\.json: experiments\[0\]\.arms\[1\] 'bert' is not a served model\. Served: als, popularity, content/],
    [{ experiments: [{ ...base, allocation: { mode: 'random' } }] }, /^x\.json: experiments\[0\]\.allocation\.mode must be "fixed" or "thompson"$/],
    [{ experiments: [{ ...base, allocation: { mode: 'fixed', shares: { als: 0.5, popularity: 0.4 } } }] }, /experiments\[0\]\.allocation\.shares sum to 0\.9, not 1/],
    [{ experiments: [{ ...base, allocation: { mode: 'fixed', shares: { als: 0.5, content: 0.5 } } }] }, /experiments\[0\]\.allocation\.shares\.content is not an arm of the experiment/],
    [{ experiments: [{ ...base, guardrail: { alpha: 0.9 } }] }, /^x\.json: experiments\[0\]\.guardrail\.alpha must be <= 0\.5$/],
    [{ experiments: [{ ...base, gaurdrail: {} }] }, /^x\.json: experiments\[0\]\.gaurdrail is not a known field/],
    [{ experiments: [{ ...base, canary: { arm: 'popularity' } }] }, /experiments\[0\]\.canary\.arm 'popularity' is the control/],
    [{ experiments: [{ ...base, canary: { arm: 'als', steps: [0.1, 0.05] } }] }, /experiments\[0\]\.canary\.steps\[1\] \(0\.05\) must be larger than the step before \(0\.1\)/],
    [{ experiments: [base, { ...base, id: 'f' }] }, /experiments\[1\]\.enabled experiment 'f' and 'e' are both enabled/],
    [{ experiments: [base, { ...base, enabled: false }] }, /experiments\[1\]\.id 'e' is used by two experiments/],
    [{ experiments: [{ ...base, arms: ['als'] }] }, /experiments\[0\]\.arms must not have fewer than 2 items/],
  ];
  for (const [doc, re] of cases) {
    assert.throws(() => parseExperimentsConfig(doc, 'x.json', MODELS), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_USAGE' && re.test(e.message), `${JSON.stringify(doc)} → ${re}`);
  }
});

test('files: a missing file and bad JSON say which file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-exp-cfg-'));
  try {
    assert.throws(() => loadExperimentsFile(join(dir, 'nope.json')), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && e.message.includes('nope.json'));
    writeFileSync(join(dir, 'bad.json'), '{"experiments": [');
    assert.throws(() => loadExperimentsFile(join(dir, 'bad.json')), (e: unknown) => isRecsysError(e) && /bad\.json is not valid JSON/.test(e.message));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ experiments: [{ id: 'e', arms: ['als', 'popularity'], control: 'als' }] }));
    assert.equal(loadExperimentsFile(join(dir, 'ok.json'), MODELS).experiments[0].id, 'e');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
