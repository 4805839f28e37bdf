/** The package is usable as a library, through its public entry only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as recsys from '../../src/index.js';
import { SHARED_DATASETS } from '../helpers.js';

test('public API: store → matrix → split → model → evaluate on ml-100k', async () => {
  const store = await recsys.openStore(':memory:');
  try {
    await recsys.ingestMovieLens(store, join(SHARED_DATASETS, 'ml-100k'), '100k');
    const matrix = await recsys.loadInteractionMatrix(store);
    assert.equal(matrix.nnz, 100000);
    const split = recsys.splitMatrix(matrix, recsys.parseSplitSpec('random:0.2'), await store.fingerprint());
    const model = recsys.createModel('popularity');
    await model.fit(split.train);
    const result = await recsys.evaluate(model, split, { ks: [10], bootstrapSamples: 100 });
    assert.ok(Math.abs(result.metrics['ndcg@10'].mean - 0.21424712860994027) < 1e-9);
  } finally {
    await store.close();
  }
});
