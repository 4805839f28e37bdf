import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapMeanCI,
  bootstrapMeanCIs,
  comparePaired,
  histogram,
  logGamma,
  mean,
  pairedTTest,
  quantileSorted,
  randomizationTest,
  regularizedIncompleteBeta,
  sampleStd,
  studentTCdf,
  studentTQuantile,
} from '../../src/core/eval/stats.js';
import { isRecsysError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

const near = (actual: number, expected: number, tol: number, msg = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${msg} expected ${expected} ± ${tol}, got ${actual}`);

// R's datasets::sleep: extra hours of sleep, drug 1 (group 1) vs drug 2 (group 2), same 10 patients.
const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

test('mean and sample standard deviation (n − 1)', () => {
  // [2,4,4,4,5,5,7,9]: mean 5, Σ(x−5)² = 32 → sd = √(32/7)
  assert.equal(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5);
  near(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12);
  assert.equal(sampleStd([3]), 0);
});

test('histogram bins [lo, hi] with the last bin closed', () => {
  const h = histogram([0, 0.1, 0.5, 0.99, 1, 1.5, NaN], 2, 0, 1);
  assert.deepEqual(h.edges, [0, 0.5, 1]);
  assert.deepEqual(h.counts, [2, 3]); // [0,0.5): 0, 0.1; [0.5,1]: 0.5, 0.99, 1; 1.5 and NaN dropped
});

test('quantiles interpolate like R type 7', () => {
  // quantile(c(1,2,3,4), 0.25) = 1.75 in R
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
});

test('log-gamma and the regularized incomplete beta against closed forms', () => {
  near(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14); // Γ(½) = √π
  near(logGamma(10), Math.log(362880), 1e-12); // Γ(10) = 9!
  // I_0.4(2, 3) = Σ_{j=2..4} C(4,j) 0.4^j 0.6^(4−j) = 0.3456 + 0.1536 + 0.0256 = 0.5248
  near(regularizedIncompleteBeta(2, 3, 0.4), 0.5248, 1e-14);
  // I_x(1, 1) = x; symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
  near(regularizedIncompleteBeta(1, 1, 0.3), 0.3, 1e-14);
  near(regularizedIncompleteBeta(2.5, 4, 0.7), 1 - regularizedIncompleteBeta(4, 2.5, 0.3), 1e-14);
});

test('Student t CDF and quantile against known values', () => {
  near(studentTCdf(1, 1), 0.75, 1e-12); // Cauchy: ½ + atan(1)/π
  near(studentTCdf(0, 5), 0.5, 1e-15);
  near(studentTCdf(-2, 3), 1 - studentTCdf(2, 3), 1e-14);
  near(studentTQuantile(0.975, 9), 2.262157162798205, 1e-9); // R: qt(0.975, 9)
  near(studentTQuantile(0.975, 1e7), 1.959963984540054, 1e-6); // → normal quantile
});

test('paired t-test reproduces R on the sleep data', () => {
  // R: t.test(extra ~ group, data = sleep, paired = TRUE)
  //   t = -4.0621, df = 9, p-value = 0.002833; 95% CI -2.4598858 -0.7001142; mean difference -1.58
  const r = pairedTTest(SLEEP_1, SLEEP_2);
  near(r.t, -4.0621, 5e-5);
  assert.equal(r.df, 9);
  near(r.p, 0.002833, 5e-7);
  near(r.meanDifference, -1.58, 1e-12);
  near(r.ci95[0], -2.4598858, 5e-8);
  near(r.ci95[1], -0.7001142, 5e-8);
  // swapping the samples flips t, keeps p
  const s = pairedTTest(SLEEP_2, SLEEP_1);
  near(s.t, 4.0621, 5e-5);
  near(s.p, r.p, 1e-15);
});

test('paired t-test degenerate cases', () => {
  assert.equal(pairedTTest([1, 2, 3], [1, 2, 3]).p, 1); // no difference at all
  assert.equal(pairedTTest([2, 3, 4], [1, 2, 3]).p, 0); // constant non-zero difference
  assert.equal(pairedTTest([1], [0]).p, 1); // n < 2: no evidence
  assert.throws(() => pairedTTest([1, 2], [1]), (e) => isRecsysError(e) && /same users/.test(e.message));
});

test('randomization test: exact enumeration on the sleep data', () => {
  // d = sleep1 − sleep2 has 9 negative values and one 0. Only the two all-same-sign patterns of the 9
  // reach |Σd| = 15.8, times 2 for the zero's sign: 4 of 2^10 = 1024 → p = 0.00390625 exactly.
  const r = randomizationTest(SLEEP_1, SLEEP_2, { permutations: 1024 });
  assert.equal(r.exact, true);
  assert.equal(r.permutations, 1024);
  assert.equal(r.p, 4 / 1024);
});

test('randomization test (Monte Carlo): seeded, sane under H0 and under a clear effect', () => {
  const rng = new Rng(5);
  const n = 400;
  const a = Array.from({ length: n }, () => rng.next());
  const noise = Array.from({ length: n }, (_, i) => a[i] + (rng.next() - 0.5) * 0.2);
  const better = a.map((x) => x + 0.05 + (rng.next() - 0.5) * 0.01);
  const r1 = randomizationTest(noise, a, { permutations: 999, seed: 1 });
  const r2 = randomizationTest(noise, a, { permutations: 999, seed: 1 });
  assert.equal(r1.p, r2.p); // same seed, same p
  assert.equal(r1.exact, false);
  assert.ok(r1.p > 0.01, `H0 data should not look significant (p = ${r1.p})`);
  // every sign pattern is less extreme than the observed one → p = (0 + 1)/(999 + 1)
  assert.equal(randomizationTest(better, a, { permutations: 999, seed: 1 }).p, 1 / 1000);
  assert.equal(randomizationTest(a, a).p, 1); // no difference at all
});

test('bootstrap CI is deterministic by seed and brackets the mean', () => {
  const rng = new Rng(9);
  const x = Array.from({ length: 2000 }, () => (rng.next() < 0.3 ? rng.next() : 0));
  const a = bootstrapMeanCI(x, { seed: 7 });
  const b = bootstrapMeanCI(x, { seed: 7 });
  const c = bootstrapMeanCI(x, { seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const m = mean(x);
  assert.ok(a[0] < m && m < a[1], `${a} should contain ${m}`);
  // width ≈ 2 · 1.96 · sd/√n for a mean of 2000 values (within 15%)
  const expected = (2 * 1.96 * sampleStd(x)) / Math.sqrt(x.length);
  near(a[1] - a[0], expected, 0.15 * expected, 'CI width');
  assert.deepEqual(bootstrapMeanCI([0.25, 0.25, 0.25]), [0.25, 0.25]); // no spread, no width
});

test('multi-column bootstrap shares resamples: each column matches its single-column CI', () => {
  const rng = new Rng(11);
  const n = 500;
  const m = 3;
  const values = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    values[i * m] = rng.int(2); // hit-rate-like 0/1
    values[i * m + 1] = rng.next() < 0.5 ? 0 : rng.next(); // many zero rows
    values[i * m + 2] = 0.5; // constant
  }
  const cis = bootstrapMeanCIs(values, n, m, { samples: 200, seed: 3 });
  for (let c = 0; c < m; c++) {
    const single = bootstrapMeanCI(Array.from({ length: n }, (_, i) => values[i * m + c]), { samples: 200, seed: 3 });
    near(cis[2 * c], single[0], 1e-12, `col ${c} lo`);
    near(cis[2 * c + 1], single[1], 1e-12, `col ${c} hi`);
  }
  assert.equal(cis[4], 0.5);
  assert.equal(cis[5], 0.5);
});

test('comparePaired: candidate − baseline, both p-values, bootstrap CI of the difference', () => {
  const cmp = comparePaired('ndcg@10', SLEEP_1, SLEEP_2, { baseline: 'drug1', candidate: 'drug2', permutations: 1024 });
  assert.equal(cmp.metric, 'ndcg@10');
  assert.equal(cmp.baseline, 'drug1');
  assert.equal(cmp.candidate, 'drug2');
  near(cmp.meanDifference, 1.58, 1e-12); // mean(sleep2 − sleep1)
  near(cmp.tTestP, 0.002833, 5e-7);
  assert.equal(cmp.randomizationP, 4 / 1024);
  assert.equal(cmp.n, 10);
  assert.ok(cmp.ci95[0] > 0 && cmp.ci95[0] < 1.58 && cmp.ci95[1] > 1.58, `${cmp.ci95}`);
  const same = comparePaired('x', [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]);
  assert.equal(same.meanDifference, 0);
  assert.equal(same.tTestP, 1);
  assert.equal(same.randomizationP, 1);
});
