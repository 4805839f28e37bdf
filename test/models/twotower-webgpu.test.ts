/**
 * The webgpu backend for real, on Dawn's OpenGL ES backend over Mesa's software rasterizer (this
 * machine has no GPU; research/npm-lab.md has the recipe). It proves the path end to end — products
 * equal the reference and a model trains — not its speed. Its own file: tfjs keeps one global
 * engine per process, and this one switches it to webgpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../src/core/models/twotower/backend.js';
import { TwoTowerModel } from '../../src/core/models/twotower/model.js';
import { isRecsysError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { matrixFromRows } from '../helpers.js';

process.env.EGL_PLATFORM ??= 'surfaceless';
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `recsys-xdg-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

const backend = await createBackend('webgpu', { webgpuFlags: ['backend=opengles'] }).catch((e: unknown) => e);
const skip = isRecsysError(backend) ? `no software GL adapter here (${backend.message.slice(0, 120)}…): apt install libegl-mesa0 libgles2` : false;
if (skip) console.log(`# skipped webgpu tests: ${skip}`);

test('webgpu on a software adapter: matMul and Aᵀ·B equal the reference', { skip }, async () => {
  const be = backend as Awaited<ReturnType<typeof createBackend>>;
  assert.equal(be.name, 'webgpu');
  const rng = new Rng(5);
  const m = 33, k = 17, n = 9;
  const a = Float32Array.from({ length: m * k }, () => rng.next() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => rng.next() - 0.5);
  const c = await be.matMul(a, m, k, b, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      assert.ok(Math.abs(c[i * n + j] - s) < 1e-4, `C[${i},${j}] ${c[i * n + j]} vs ${s}`);
    }
  }
  const g = Float32Array.from({ length: m * n }, () => rng.next() - 0.5);
  const ct = await be.matMulTransA(a, m, k, g, n);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += a[t * k + i] * g[t * n + j];
      assert.ok(Math.abs(ct[i * n + j] - s) < 1e-4, `AᵀB[${i},${j}]`);
    }
  }
});

test('webgpu on a software adapter: a two-tower trains and finds each user\'s unseen group item', { skip }, async () => {
  const rows: number[][] = [];
  for (let u = 0; u < 20; u++) {
    const base = u < 10 ? 0 : 10;
    rows.push(Array.from({ length: 10 }, (_, j) => base + j).filter((j) => j !== base + (u % 10)));
  }
  const data = matrixFromRows(rows, 20);
  const model = new TwoTowerModel({ dimensions: 8, hidden: 16, batchSize: 32, epochs: 40, learningRate: 0.01, embeddingLearningRate: 0.1, temperature: 0.2, dropout: 0.1, backend: 'webgpu', patience: 0 });
  const report = await model.fit(data);
  assert.equal(report.backend, 'webgpu');
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  const recs = await model.recommend(users, 1, { exclude: data });
  let hits = 0;
  for (let u = 0; u < 20; u++) if (recs.items[u] === (u < 10 ? 0 : 10) + (u % 10)) hits++;
  assert.ok(hits >= 16, `${hits}/20 users got their unseen group item first`);
});
