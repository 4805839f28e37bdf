/**
 * One contract suite for every registered model (after implicit's recommender_base_test):
 * a model joins by being in the registry; `personal` models must also find the known best item
 * on a checkerboard fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelFactory, loadModel, modelNames } from '../../src/core/models/registry.js';
import type { CatalogAware, CatalogRow, Recommender } from '../../src/core/models/recommender.js';
import { matrixFromRows } from '../helpers.js';

/** Small params per model so the suite stays fast; personal = learns per-user taste. */
const SUITE: Record<string, { params: Record<string, unknown>; personal: boolean }> = {
  popularity: { params: {}, personal: false },
  als: { params: { factors: 4, iterations: 15, regularization: 0.1, alpha: 10, workers: 1 }, personal: true },
  content: { params: {}, personal: true },
  ensemble: { params: {}, personal: true },
  twotower: { params: { dimensions: 8, hidden: 16, batchSize: 32, epochs: 60, learningRate: 0.01, embeddingLearningRate: 0.1, temperature: 0.2, dropout: 0.1, backend: 'cpu', patience: 0 }, personal: true },
};

/**
 * Checkerboard: users 0..9 like items 0..9 (group A), users 10..19 like items 10..19 (group B).
 * Every user has seen all of their group's items except item (u mod 10) of their group.
 */
function checkerboard() {
  const rows: number[][] = [];
  for (let u = 0; u < 20; u++) {
    const base = u < 10 ? 0 : 10;
    const row: number[] = [];
    for (let j = 0; j < 10; j++) if (j !== u % 10) row.push(base + j);
    rows.push(row);
  }
  return matrixFromRows(rows, 20);
}

/** Group A items read 'alpha gadget' (category A), group B 'beta gizmo' (B): content can tell them apart. */
function checkerboardCatalog(): CatalogRow[] {
  return Array.from({ length: 20 }, (_, i) => ({
    productId: `i${i}`,
    title: i < 10 ? 'alpha gadget' : 'beta gizmo',
    description: null,
    category: i < 10 ? 'A' : 'B',
    brand: null,
    price: null,
    features: null,
    createdAt: null,
  }));
}

for (const name of modelNames()) {
  const spec = SUITE[name] ?? { params: {}, personal: false };
  test(`${name}: contract`, async (t) => {
    const data = checkerboard();
    const factory = modelFactory(name);
    const model = factory.create(spec.params);
    if (factory.needsCatalog) (model as Recommender & CatalogAware).setCatalog(checkerboardCatalog());
    await model.fit(data);
    const users = Int32Array.from({ length: data.nUsers }, (_, u) => u);
    const batch = await model.recommend(users, 5, { exclude: data });

    await t.test('batch equals single-user results', async () => {
      for (const u of [0, 7, 13]) {
        const one = await model.recommend(Int32Array.of(u), 5, { exclude: data });
        assert.deepEqual([...one.items], [...batch.items.subarray(u * 5, u * 5 + 5)]);
      }
    });

    await t.test('seen items are excluded; lists are sorted by score', () => {
      for (let u = 0; u < data.nUsers; u++) {
        const seen = new Set(data.rowItems(u));
        for (let j = 0; j < 5; j++) {
          const item = batch.items[u * 5 + j];
          if (item >= 0) assert.ok(!seen.has(item), `user ${u} got seen item ${item}`);
          if (j > 0 && item >= 0) assert.ok(batch.scores[u * 5 + j - 1] >= batch.scores[u * 5 + j]);
        }
      }
    });

    await t.test('k larger than the catalogue pads with -1', async () => {
      const r = await model.recommend(Int32Array.of(0), 30, { exclude: data });
      const real = [...r.items].filter((i) => i >= 0);
      assert.equal(real.length, 20 - data.rowLength(0));
      assert.equal(new Set(real).size, real.length);
      assert.equal(r.items[29], -1);
    });

    await t.test('score agrees with recommend', () => {
      const s = model.score(3, batch.items.subarray(15, 20));
      for (let j = 0; j < 5; j++) assert.ok(Math.abs(s[j] - batch.scores[15 + j]) < 1e-4);
    });

    await t.test('save → load gives identical rankings', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), `recsys-${name}-`)), 'model');
      await model.save(dir);
      const loaded = await loadModel(dir);
      assert.equal(loaded.name, name);
      const again = await loaded.recommend(users, 5, { exclude: data });
      assert.deepEqual([...again.items], [...batch.items]);
      assert.deepEqual(loaded.itemIds?.ids, data.items.ids);
    });

    if (spec.personal) {
      await t.test('finds the one unseen item of the user\'s own group first', () => {
        for (let u = 0; u < data.nUsers; u++) {
          const expected = (u < 10 ? 0 : 10) + (u % 10);
          assert.equal(batch.items[u * 5], expected, `user ${u}`);
        }
      });
    }
  });
}
