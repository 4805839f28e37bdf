/**
 * ALS hyper-parameters: the one schema (defaults and validation live here only). Names follow
 * implicit (factors, regularization, alpha, iterations, cg_steps → cgSteps) so settings transfer;
 * `regularizationScaling=als-wr` gives Spark MLlib's λ·n_u scaling so Spark's regParam transfers.
 */
import type { ParamsOf } from '../params.js';

export const ALS_PARAMS = {
  factors: { type: 'int', default: 64, min: 1, max: 1024, description: 'number of latent factors (rank k)' },
  iterations: { type: 'int', default: 15, min: 1, max: 10000, description: 'alternating sweeps (users then items)' },
  regularization: { type: 'number', default: 0.01, min: 0, description: 'L2 penalty λ on every factor vector (implicit default 0.01)' },
  alpha: { type: 'number', default: 40, min: 0, description: 'confidence scale: c = 1 + alpha·r (linear) or 1 + alpha·log(1 + r/eps) (log), Hu et al. 2008' },
  confidence: { type: 'enum', values: ['linear', 'log'], default: 'linear', description: 'confidence form: linear 1 + alpha·r, or log 1 + alpha·log(1 + r/eps)' },
  eps: { type: 'number', default: 1, min: 1e-12, description: 'log confidence only: the ε in 1 + alpha·log(1 + r/ε)' },
  regularizationScaling: { type: 'enum', values: ['plain', 'als-wr'], default: 'plain', description: 'plain = λ for every row; als-wr = λ·n (n = the row\'s positive interactions), as Spark MLlib ALS' },
  solver: { type: 'enum', values: ['cg', 'cholesky'], default: 'cg', description: 'cg = conjugate gradient warm-started from the previous factors (fast); cholesky = exact solve (reference)' },
  cgSteps: { type: 'int', default: 3, min: 1, max: 1000, description: 'conjugate-gradient steps per row and sweep (implicit cg_steps)' },
  seed: { type: 'int', default: 42, min: 0, description: 'seed of the initial factors (uniform in [0, 0.01), as implicit)' },
  workers: { type: 'int', default: 0, min: 0, max: 256, description: 'threads for training and batch scoring, the main thread included; 0 = one per CPU core' },
  backend: { type: 'enum', values: ['auto', 'wasm', 'js'], default: 'auto', description: 'kernels: wasm = WebAssembly SIMD on worker threads, js = plain TypeScript (reference), auto = wasm when built' },
  calculateLoss: { type: 'boolean', default: false, description: 'compute the training objective after every iteration (costs about one CG step)' },
  patience: { type: 'int', default: 3, min: 0, max: 10000, description: 'with a validation split: stop after this many iterations without a better validation NDCG@10 (0 = never stop early)' },
} as const;

export type AlsParams = ParamsOf<typeof ALS_PARAMS>;
