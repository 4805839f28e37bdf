/** The ensemble on a small shop: blend, routing, rules, persistence, the serving router. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnsembleModel, parseMemberWeights } from '../../src/core/models/ensemble/ensemble.js';
import { loadModel } from '../../src/core/models/registry.js';
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import { Router } from '../../src/core/router.js';
import { blendOnlyRules, resolveRulesConfig } from '../../src/core/rerank/config.js';
import { NEW_ITEM, shopCatalog, shopDemographics, shopMatrix, shopMembers } from './fixture.js';

const data = shopMatrix();
const members = await shopMembers(data);
const warmUsers = Int32Array.from({ length: 38 }, (_, u) => u);
const blendOnly = blendOnlyRules(resolveRulesConfig());

async function ensemble(params: Record<string, unknown>, weights?: Record<string, number>): Promise<EnsembleModel> {
  const e = new EnsembleModel(params);
  await e.configure({ models: [{ model: members.als }, { model: members.content }, { model: members.popularity }], ...(weights ? { weights } : {}) });
  e.setCatalog(shopCatalog());
  e.setDemographics(shopDemographics());
  await e.fit(data);
  return e;
}

test('a member with weight 1 reproduces that member\'s ranking exactly', async () => {
  const e = await ensemble({ rules: blendOnly }, { als: 1 });
  const mine = await e.recommend(warmUsers, 5, { exclude: data });
  const als = await members.als.recommend(warmUsers, 5, { exclude: data });
  assert.deepEqual([...mine.items], [...als.items]);
  assert.deepEqual(e.weightsByName(), { als: 1, content: 0, popularity: 0 });
});

test('raw weighted sum (normalization=none): the member on the widest scale decides alone', async () => {
  const raw = await ensemble({ normalization: 'none', rules: blendOnly }, { als: 0.1, content: 0.1, popularity: 0.8 });
  const counts = data.itemCounts();
  const r = await raw.recommend(warmUsers, 5, { exclude: data });
  for (let row = 0; row < warmUsers.length; row++) {
    for (let j = 1; j < 5; j++) {
      const a = r.items[row * 5 + j - 1];
      const b = r.items[row * 5 + j];
      if (b >= 0) assert.ok(counts[a] >= counts[b], `user ${row}: popularity order broken at ${j} (${counts[a]} < ${counts[b]})`);
    }
  }
  // Normalised, the same weights let ALS and content reorder within equal counts and across them.
  const norm = await ensemble({ rules: blendOnly }, { als: 0.1, content: 0.1, popularity: 0.8 });
  const n = await norm.recommend(warmUsers, 5, { exclude: data });
  assert.notDeepEqual([...n.items], [...r.items]);
});

test('routing: enough history → ensemble; 1–4 → content + ALS only; none → demographic segment, else popularity', async () => {
  const e = await ensemble({ router: { minSegmentUsers: 5 } });
  const { strategy, rows } = await e.recommendDetailed(Int32Array.of(0, 38, 39), 5, { exclude: data }, true);
  assert.deepEqual([...strategy], [0, 1, 2]);
  assert.ok(rows);
  assert.equal(rows[0].strategy, 'ensemble');
  assert.deepEqual(rows[0].participants.map((j) => e.members[j].name), ['als', 'content', 'popularity']);
  assert.equal(rows[1].strategy, 'few-interactions');
  assert.deepEqual(rows[1].participants.map((j) => e.members[j].name), ['als', 'content']);
  assert.equal(rows[2].strategy, 'demographic');
  assert.match(rows[2].detail, /segment age=35-44,gender=M \(19 users\)/);
  // 18 users of the second group + user 38 (two interactions). The segment's list is its members' most popular items (the second taste group's items).
  for (const i of rows[2].items) assert.ok(i >= 12, `segment list has item ${i}`);
  const noDemo = new EnsembleModel({});
  await noDemo.configure({ models: [{ model: members.popularity }] });
  await noDemo.fit(data);
  const cold = await noDemo.recommendDetailed(Int32Array.of(39), 3, { exclude: data }, true);
  assert.equal(cold.rows?.[0].strategy, 'popularity');
  const pop = await members.popularity.recommend(Int32Array.of(39), 3, { exclude: data });
  assert.deepEqual([...cold.rankings.items], [...pop.items]);
});

test('score agrees with recommend (zscore, boosts on)', async () => {
  const e = await ensemble({ normalization: 'zscore' }, { als: 0.5, content: 0.2, popularity: 0.3 });
  const r = await e.recommend(Int32Array.of(3, 25), 5, { exclude: data });
  for (const [row, u] of [[0, 3], [1, 25]]) {
    const s = e.score(u, r.items.subarray(row * 5, row * 5 + 5));
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(s[j] - r.scores[row * 5 + j]) < 1e-4, `user ${u} position ${j}: ${s[j]} vs ${r.scores[row * 5 + j]}`);
  }
});

test('the new-item rule makes a two-day-old product reachable and lifts it', async () => {
  const withBoost = await ensemble({});
  const without = await ensemble({ rules: { newItemBoost: { enabled: false } } });
  const groupB = Int32Array.from({ length: 18 }, (_, j) => 20 + j);
  const share = async (e: EnsembleModel): Promise<number> => {
    const r = await e.recommend(groupB, 3, { exclude: data });
    return [...r.items].filter((i) => i === NEW_ITEM).length / groupB.length;
  };
  const a = await share(withBoost);
  const b = await share(without);
  assert.ok(a >= 0.5 && a > b + 0.25, `share of group-B users with the new item in their top 3: ${a} with the boost, ${b} without`);
  assert.ok(a <= 16 / 18, 'users 20 and 21 bought it already');
});

test('save → load with members by reference; the folder can move; a missing member is named', async () => {
  const root = mkdtempSync(join(tmpdir(), 'recsys-ensemble-'));
  const models = join(root, 'models');
  mkdirSync(models);
  for (const [name, m] of Object.entries(members)) await m.save(join(models, name));
  const e = new EnsembleModel({ normalization: 'rank' });
  await e.configure({ members: [join(models, 'als'), join(models, 'content'), join(models, 'popularity')], weights: parseMemberWeights('als=0.6,content=0.1,popularity=0.3'), rules: { excludeLists: { lists: { blocked: ['i0'] } } } });
  e.setCatalog(shopCatalog());
  await e.fit(data);
  await e.save(join(models, 'ensemble'));
  const before = await e.recommend(warmUsers, 5, { exclude: data });
  assert.ok(![...before.items].includes(0), 'blocked item i0 never listed');
  const loaded = await loadModel(join(models, 'ensemble'));
  assert.equal(loaded.name, 'ensemble');
  assert.deepEqual((loaded as EnsembleModel).weightsByName(), { als: 0.6, content: 0.1, popularity: 0.3 });
  assert.deepEqual([...(await loaded.recommend(warmUsers, 5, { exclude: data })).items], [...before.items]);
  renameSync(models, join(root, 'moved'));
  const moved = await loadModel(join(root, 'moved', 'ensemble'));
  assert.deepEqual([...(await moved.recommend(warmUsers, 5, { exclude: data })).items], [...before.items]);
  rmSync(join(root, 'moved', 'content'), { recursive: true });
  await assert.rejects(loadModel(join(root, 'moved', 'ensemble')), /member 'content' is missing/);
});

test('learned weights are saved, reloaded and sum to 1', async () => {
  const e = await ensemble({ learnWeights: true, gridSteps: 10 });
  assert.ok(e.learned);
  const w = e.weightsByName();
  assert.ok(Math.abs(w.als + w.content + w.popularity - 1) < 1e-6);
  assert.ok(e.learned.ndcg >= e.learned.uniformNdcg);
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-ensemble-learned-')), 'ens');
  await e.save(dir);
  const loaded = (await loadModel(dir)) as EnsembleModel;
  assert.deepEqual(loaded.weightsByName(), w);
  assert.equal(loaded.learned?.ndcg, e.learned.ndcg);
});

test('bad configurations are rejected with the flag to fix', async () => {
  const e = new EnsembleModel({});
  await assert.rejects(e.configure({ models: [{ model: members.als }], weights: { mf: 1 } }), /names 'mf', which is not a member of this ensemble\. Members: als/);
  assert.throws(() => parseMemberWeights('als=-1'), /--member-weights expects member=weight/);
  const other = shopMatrix();
  const shifted = new InteractionMatrix({ ...other, users: other.users, items: new IdMap(other.items.ids.map((id) => `x${id}`)) });
  const f = new EnsembleModel({});
  await f.configure({ models: [{ model: members.popularity }] });
  await assert.rejects(f.fit(shifted), /trained on other items .* same --split/);
});

test('foldIn: a user with new interactions moves from cold to the ensemble', async () => {
  const e = await ensemble({ router: { minSegmentUsers: 5 } });
  const rows = Array.from({ length: 40 }, (_, u) => (u === 39 ? [12, 13, 14, 15, 16, 17] : []));
  const users: number[] = [];
  const items: number[] = [];
  rows.forEach((r, u) => r.forEach((i) => (users.push(u), items.push(i))));
  const fold = InteractionMatrix.fromCoo({ users: Int32Array.from(users), items: Int32Array.from(items), values: new Float32Array(users.length).fill(1), userIds: data.users, itemIds: data.items });
  await e.foldIn(fold, Int32Array.of(39));
  const { strategy, rankings } = await e.recommendDetailed(Int32Array.of(39), 5, { exclude: fold });
  assert.equal(strategy[0], 0);
  for (const i of rankings.items) assert.ok(i >= 12, `after fold-in the user gets group-B items, got ${i}`);
});

test('Router: strategies, reasons and explanations in external ids', async () => {
  const e = await ensemble({ router: { minSegmentUsers: 5, exploration: { enabled: true, slots: [2] } }, rules: { excludeLists: { lists: { outOfStock: ['i1'] } } } });
  const router = new Router(e);
  const known = await router.recommend({ userId: 'u3', k: 5, explain: true });
  assert.equal(known.strategy, 'ensemble');
  assert.equal(known.items.length, 5);
  assert.ok(known.items.every((x) => x.productId !== 'i1'), 'out of stock');
  assert.ok(known.items[0].reasons.some((r) => r.startsWith('proposed by')));
  assert.ok(known.items.some((x) => x.reasons.some((r) => r.startsWith('because you interacted with') || r.startsWith('similar to'))));
  assert.ok(known.items[2].reasons.some((r) => r.startsWith('exploration slot: category')), 'slot 2 is explored');
  assert.ok(known.rules.some((r) => r.rule === 'popularityBoost'));
  router.feedback(known.items[2].productId, 1);
  const fresh = await router.recommend({ history: [{ productId: 'i12' }, { productId: 'i13' }, { productId: 'nope' }], k: 4 });
  assert.equal(fresh.strategy, 'few-interactions');
  assert.ok(fresh.items.every((x) => !['i12', 'i13'].includes(x.productId)));
  const anon = await router.recommend({ demographics: { age: 31, gender: 'f' }, k: 3 });
  assert.equal(anon.strategy, 'demographic');
  assert.match(anon.detail, /age=25-34,gender=F/);
  const nobody = await router.recommend({ k: 3 });
  assert.equal(nobody.strategy, 'popularity');
});
