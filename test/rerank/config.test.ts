/** The rules/router configuration: defaults come from the schema, and every bad key is named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enabledRuleNames, readRerankFile, resolveRerankFile, resolveRouterConfig, resolveRulesConfig, without } from '../../src/core/rerank/index.js';
import { RecsysError } from '../../src/core/errors.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RecsysError, `expected a RecsysError, got ${String(e)}`);
    assert.equal(e.code, 'RECSYS_ERR_USAGE');
    assert.match(e.message, pattern);
    return true;
  });
}

test('defaults: the design\'s β = 0.1, a 7-day new-item window, diversity off, exclusions on', () => {
  const r = resolveRulesConfig();
  assert.equal(r.popularityBoost.beta, 0.1);
  assert.equal(r.newItemBoost.days, 7);
  assert.equal(r.diversity.enabled, false);
  assert.equal(r.excludeBought.enabled, true);
  assert.equal(r.excludeBought.types, null);
  assert.deepEqual(enabledRuleNames(r), ['excludeBought', 'excludeLists', 'popularityBoost', 'newItemBoost']);
  assert.deepEqual(enabledRuleNames(without(r, 'popularityBoost')), ['excludeBought', 'excludeLists', 'newItemBoost']);
  const router = resolveRouterConfig();
  assert.equal(router.minHistory, 5);
  assert.equal(router.minSegmentUsers, 20);
});

test('partial configs keep the other defaults', () => {
  const r = resolveRulesConfig({ diversity: { enabled: true, lambda: 0.5 } });
  assert.equal(r.diversity.lambda, 0.5);
  assert.equal(r.diversity.method, 'mmr');
  assert.equal(r.diversity.maxPerCategory, 3);
  assert.equal(r.popularityBoost.beta, 0.1);
});

test('an unknown key is named with the keys allowed there', () => {
  rejects(() => resolveRulesConfig({ diversity: { lamda: 0.5 } } as never), /unknown key 'diversity\.lamda'.*in 'diversity': enabled, method, lambda, maxPerCategory/);
  rejects(() => resolveRulesConfig({ popularityBost: {} } as never), /unknown key 'popularityBost'.*top level: excludeBought, excludeLists, popularityBoost/);
  rejects(() => resolveRerankFile({ rules: {}, routes: {} }), /unknown key 'routes'/);
});

test('a bad value names the key, the rule and what it got', () => {
  rejects(() => resolveRulesConfig({ diversity: { lambda: 2 } }), /'diversity\.lambda' must be <= 1, got 2/);
  rejects(() => resolveRulesConfig({ popularityBoost: { beta: 'high' } } as never), /'popularityBoost\.beta' must be number, got "high"/);
  rejects(() => resolveRulesConfig({ diversity: { method: 'shuffle' } } as never), /'diversity\.method'.*allowed: "mmr", "cap".*got "shuffle"/);
  rejects(() => resolveRulesConfig([] as never), /must be a JSON object, got an array/);
});

test('readRerankFile: a missing file, invalid JSON and a bad key each say which file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-rules-'));
  await assert.rejects(readRerankFile(join(dir, 'none.json')), /does not exist/);
  writeFileSync(join(dir, 'bad.json'), '{ "rules": ');
  await assert.rejects(readRerankFile(join(dir, 'bad.json')), /bad\.json is not valid JSON/);
  writeFileSync(join(dir, 'typo.json'), JSON.stringify({ rules: { newItemBoost: { dayz: 3 } } }));
  await assert.rejects(readRerankFile(join(dir, 'typo.json')), /typo\.json: unknown key 'rules\.newItemBoost\.dayz'/);
  writeFileSync(join(dir, 'ok.json'), JSON.stringify({ rules: { excludeLists: { lists: { outOfStock: ['p1'] } } }, router: { minHistory: 3 } }));
  const ok = await readRerankFile(join(dir, 'ok.json'));
  assert.deepEqual(ok.rules.excludeLists.lists, { outOfStock: ['p1'] });
  assert.equal(ok.router.minHistory, 3);
});
