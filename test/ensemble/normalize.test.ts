/** Score normalisations, the missing-value fill and the blend, on hand-computed values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendInto, fillMissing, normalizeInto, normalizeValue, normStats } from '../../src/core/models/ensemble/normalize.js';

const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} vs ${b}`);

test('minmax: 1 on the member\'s best, 0 on its N-th, linear outside', () => {
  const s = normStats('minmax', [4, 2, 0, NaN, -Infinity]);
  assert.equal(s.min, 0);
  assert.equal(s.max, 4);
  close(normalizeValue(s, 4), 1);
  close(normalizeValue(s, 2), 0.5);
  close(normalizeValue(s, -2), -0.5, 'an item below the top-N goes below 0');
  assert.ok(Number.isNaN(normalizeValue(s, Number.NEGATIVE_INFINITY)), 'a score the member cannot give is missing');
  const flat = normStats('minmax', [3, 3]);
  assert.deepEqual([normalizeValue(flat, 3), normalizeValue(flat, 2), normalizeValue(flat, 5)], [1, 0, 1]);
  assert.equal(normalizeValue(normStats('minmax', []), 7), 0, 'no top-N at all: 0');
});

test('zscore: (s − mean)/std with the population std over the top-N', () => {
  const s = normStats('zscore', [4, 2, 0]);
  close(s.mean, 2);
  close(s.std, Math.sqrt(8 / 3));
  close(normalizeValue(s, 4), 2 / Math.sqrt(8 / 3));
  close(normalizeValue(s, 2), 0);
  assert.equal(normalizeValue(normStats('zscore', [1, 1]), 5), 0, 'std 0 → 0');
});

test('rank: 1/(c + rank) with competition ranks; below the list → N + 1', () => {
  const s = normStats('rank', [0, 2, 4, 2], 60);
  close(normalizeValue(s, 4), 1 / 61);
  close(normalizeValue(s, 2), 1 / 62, 'ties share the best rank');
  close(normalizeValue(s, 0), 1 / 64);
  close(normalizeValue(s, 1), 1 / 64, 'three scores above 1: rank 4');
  close(normalizeValue(s, -5), 1 / 65, 'below every top-N score: rank N + 1');
  close(normalizeValue(s, 9), 1 / 61);
  close(normalizeValue(normStats('rank', [3, 1], 0), 1), 1 / 2, 'c = 0: plain reciprocal rank');
});

test('none is the raw score', () => {
  const s = normStats('none', [100, 3]);
  assert.equal(normalizeValue(s, 250), 250);
});

test('normalizeInto writes one member column of a row-major matrix', () => {
  const out = new Float64Array(6).fill(9);
  normalizeInto(normStats('minmax', [2, 0]), [2, 1, 0], out, 1, 2);
  assert.deepEqual([...out], [9, 1, 9, 0.5, 9, 0]);
});

test('fillMissing: min, zero or skip', () => {
  const col = (): Float64Array => Float64Array.of(0.5, NaN, -0.2);
  const a = col();
  fillMissing('min', a, 3);
  assert.deepEqual([...a], [0.5, -0.2, -0.2]);
  const b = col();
  fillMissing('zero', b, 3);
  assert.deepEqual([...b], [0.5, 0, -0.2]);
  const c = col();
  fillMissing('skip', c, 3);
  assert.ok(Number.isNaN(c[1]));
  const allMissing = Float64Array.of(NaN, NaN);
  fillMissing('min', allMissing, 2);
  assert.deepEqual([...allMissing], [0, 0], 'no finite value: 0');
});

test('blendInto: weighted sum; skip re-weights over the members that scored; none scored → −∞', () => {
  const norm = Float64Array.of(1, 0, 0.5, NaN, NaN, NaN);
  const out = new Float64Array(3);
  blendInto(norm, 3, [0.75, 0.25], out);
  close(out[0], 0.75);
  close(out[1], 0.5, '(0.75·0.5)/0.75 · (0.75 + 0.25)');
  assert.equal(out[2], -Infinity);
});
