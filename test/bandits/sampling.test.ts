import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sampler, betaArgmax, gammaConstants } from '../../src/core/bandits/sampling.js';

/** Mean and (population) variance of n draws. */
function moments(n: number, draw: () => number): { mean: number; variance: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean, min, max };
}

const near = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${actual}`);

test('ziggurat normals: mean 0, variance 1, kurtosis 3, and the tails beyond r = 3.44 are drawn', () => {
  const s = new Sampler(1);
  const n = 400_000;
  let s1 = 0;
  let s2 = 0;
  let s4 = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const z = s.normal();
    s1 += z;
    s2 += z * z;
    s4 += z ** 4;
    if (Math.abs(z) > 3.442620) tail++;
  }
  // Standard errors: mean 1/√n = 0.0016, variance √(2/n) = 0.0022, kurtosis √(96/n) = 0.015.
  near(s1 / n, 0, 0.008, 'mean');
  near(s2 / n, 1, 0.011, 'variance');
  near(s4 / n, 3, 0.08, 'fourth moment');
  // P(|Z| > 3.44262) = 5.76e-4 → 230 of 400,000 (sd 15).
  assert.ok(tail > 160 && tail < 300, `${tail} tail draws`);
});

test('Marsaglia–Tsang gamma: mean = shape and variance = shape, for shapes below and above 1', () => {
  const s = new Sampler(2);
  for (const shape of [0.3, 1, 3.7, 250]) {
    const n = 200_000;
    const m = moments(n, () => s.gamma(shape));
    // se(mean) = √(shape/n); se(var) ≈ shape·√(2/n)·√(1 + 3/shape)
    near(m.mean, shape, 6 * Math.sqrt(shape / n), `Gamma(${shape}) mean`);
    near(m.variance, shape, 6 * shape * Math.sqrt(2 / n) * Math.sqrt(1 + 3 / shape), `Gamma(${shape}) variance`);
    assert.ok(m.min > 0, 'gamma draws are positive');
  }
});

test('Beta(a, b) = X/(X+Y): mean a/(a+b) and variance ab/((a+b)²(a+b+1))', () => {
  const s = new Sampler(3);
  for (const [a, b] of [
    [1, 1],
    [3, 50],
    [0.5, 0.5],
    [200, 3000],
    [1.5, 1],
  ]) {
    const n = 200_000;
    const m = moments(n, () => s.beta(a, b));
    const mean = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    near(m.mean, mean, 6 * Math.sqrt(variance / n), `Beta(${a},${b}) mean`);
    // se of the sample variance is √((μ₄ − σ⁴)/n): 0.2–0.4% of σ² for these shapes at n = 200,000.
    near(m.variance, variance, 0.02 * variance, `Beta(${a},${b}) variance`);
    assert.ok(m.min >= 0 && m.max <= 1);
  }
});

test('the fused Thompson argmax draws exactly what the sampler methods draw', () => {
  const alpha = [1, 2, 7.5, 1, 30, 1.2];
  const beta = [1, 9, 3, 40, 31, 1];
  const n = alpha.length;
  const consts = new Float64Array(4 * n);
  alpha.forEach((a, i) => {
    const ca = gammaConstants(a);
    const cb = gammaConstants(beta[i]);
    consts.set([ca.d, ca.c, cb.d, cb.c], 4 * i);
  });
  const fused = new Sampler(11);
  const slow = new Sampler(11);
  const counts = new Array<number>(n).fill(0);
  for (let step = 0; step < 20_000; step++) {
    const a = betaArgmax(fused, consts, n);
    let best = 0;
    let bestDraw = -1;
    for (let i = 0; i < n; i++) {
      const x = slow.gammaDC(consts[4 * i], consts[4 * i + 1]);
      const y = slow.gammaDC(consts[4 * i + 2], consts[4 * i + 3]);
      if (x / (x + y) > bestDraw) {
        bestDraw = x / (x + y);
        best = i;
      }
    }
    assert.equal(a, best, `step ${step}`);
    counts[a]++;
  }
  assert.deepEqual(fused.state(), slow.state(), 'both consumed the same words');
  assert.ok(counts[2] > counts[0] && counts[2] > counts[3], `Beta(7.5, 3) wins most often: ${counts}`);
});

test('sampler state round-trips and continues the same stream', () => {
  const a = new Sampler(5);
  for (let i = 0; i < 100; i++) a.normal();
  const b = Sampler.fromState(a.state());
  for (let i = 0; i < 1000; i++) assert.equal(b.beta(2, 3), a.beta(2, 3));
  assert.throws(() => Sampler.fromState([1, 2, 3]), /four integers/);
});
