import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArtifact, saveArtifact, hashParams } from '../../src/core/artifacts.js';
import { IdMap } from '../../src/core/data/matrix.js';

test('save → load round-trips tensors, id maps and params', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-art-')), 'model');
  const f = Float32Array.from([1.5, -2, 3]);
  const i = Int32Array.from([7, 8]);
  await saveArtifact(dir, { kind: 'test', params: { b: 2, a: 1 }, tensors: { f: { data: f, shape: [3] }, i: { data: i } }, idMaps: { items: new IdMap(['x', 'y']) } });
  const art = await loadArtifact(dir);
  assert.deepEqual([...art.float32('f')], [1.5, -2, 3]);
  assert.deepEqual([...art.int32('i')], [7, 8]);
  assert.deepEqual(art.idMap('items').ids, ['x', 'y']);
  assert.equal(art.manifest.paramsHash, hashParams({ a: 1, b: 2 }));
});

test('overwriting an artifact leaves no temp dirs behind', async () => {
  const root = mkdtempSync(join(tmpdir(), 'recsys-art-'));
  const dir = join(root, 'model');
  await saveArtifact(dir, { kind: 'test', params: {}, tensors: { f: { data: Float32Array.from([1]) } } });
  await saveArtifact(dir, { kind: 'test', params: {}, tensors: { f: { data: Float32Array.from([2]) } } });
  assert.deepEqual(readdirSync(root), ['model']);
  assert.deepEqual([...(await loadArtifact(dir)).float32('f')], [2]);
});

test('a corrupt artifact is reported with the file, not loaded', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'recsys-art-')), 'model');
  await saveArtifact(dir, { kind: 'test', params: {}, tensors: { f: { data: Float32Array.from([1, 2]) } } });
  writeFileSync(join(dir, 'f.f32'), Buffer.alloc(4));
  await assert.rejects(loadArtifact(dir), /f\.f32 holds 1 values, manifest says shape \[2\]/);
  await assert.rejects(loadArtifact(join(dir, 'nope')), /no artifact at/);
});
