/**
 * The ALS wasm arena past 2 GiB (a 100M-interaction fit needs about 2.3 GiB: 5.5M rows × 64
 * factors plus the training state). Bitwise alignment wrapped at 2^31 and gave negative offsets;
 * allocations now stay aligned and positive, and the kernels read and write above 2^31. Pages
 * never written are not resident, so the test costs little memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alsKernelModule, SharedArena } from '../../src/core/models/als/kernels.js';

const module = alsKernelModule();

test('arena: a block past 2^31 is 64-byte aligned and the Gram kernel computes on it', { skip: module ? false : 'ALS wasm kernels not built (node scripts/build-wasm.mjs)' }, () => {
  const arena = new SharedArena(module!);
  arena.alloc(2 ** 31 + 12_345); // virtual: untouched pages cost nothing
  const kp = 8;
  const Y = arena.alloc(4 * kp * 4);
  const partials = arena.alloc(kp * kp * 4);
  assert.ok(Y > 2 ** 31, `Y at ${Y}`);
  assert.equal(Y % 64, 0);
  assert.equal(partials % 64, 0);
  const y = arena.f32(Y, 4 * kp);
  for (let i = 0; i < y.length; i++) y[i] = (i % 7) - 3;
  arena.f32(partials, kp * kp).fill(0);
  arena.kernels.gramChunks(0, 1, Y, 4, 4, kp, partials);
  const got = arena.f32(partials, kp * kp);
  for (let a = 0; a < kp; a++) {
    for (let b = 0; b < kp; b++) {
      let s = 0;
      for (let r = 0; r < 4; r++) s += y[r * kp + a] * y[r * kp + b];
      assert.equal(got[a * kp + b], s, `G[${a},${b}]`);
    }
  }
});
