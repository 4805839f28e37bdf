/**
 * Dense compute backends of the two-tower model: the one place that says where the matrix
 * products run. Everything else (embedding bags, ReLU, dropout, LayerNorm, losses, optimisers) is
 * plain TypeScript over Float32Arrays, with hand-written backward passes (towers.ts), because:
 *
 *  - `@tensorflow/tfjs-core` on its own registers no gradient functions in Node (its
 *    `register_all_gradients` module is extension-less ESM that Node cannot import; measured:
 *    `tf.grad` fails with "gradient function not found for Sum"), and the wasm backend has no
 *    `UnsortedSegmentSum`, so the gradient of an embedding gather cannot run there anyway;
 *  - the wasm backend's XNNPACK path is fast only for plain, untransposed products (measured here:
 *    10240×256 · 256×128 in 27 ms, 25 GFLOP/s; the transposed variants fall back to 2.2 GFLOP/s),
 *    so every product is issued as A·B with A and B row-major and the transposes done in JS.
 *
 * Backends (the model's `backend` param):
 *  - `blas`: the optional native kernel src/native/blas.c (cblas_sgemm of the system OpenBLAS,
 *    built by scripts/build-native.mjs where a C compiler and libopenblas-dev exist): 48–52 GFLOP/s
 *    on the products above against XNNPACK's 25, no copies into a tensor engine, OpenBLAS's own threads;
 *  - `wasm`: tfjs-backend-wasm (XNNPACK, SIMD, one thread in Node);
 *  - `cpu`: tfjs-backend-cpu (pure JS, always available; the fallback);
 *  - `webgpu`: tfjs-backend-webgpu over the `webgpu` npm package (Dawn). Neither package is a
 *    dependency; when either is missing, or Dawn finds no adapter (no GPU), this throws
 *    RECSYS_ERR_BACKEND_UNAVAILABLE saying how to enable it. It never falls back silently.
 *  - `auto`: blas where it was built, else wasm, else cpu; the returned backend says why it did not
 *    take the first (`fallbackReason`), which the fit report carries.
 * tfjs keeps one global engine; `ensureActive` switches it when two models use different backends.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RecsysError } from '../../errors.js';

export type BackendName = 'blas' | 'wasm' | 'cpu' | 'webgpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'blas', 'wasm', 'cpu', 'webgpu'];

export interface DenseBackend {
  readonly name: BackendName;
  /** Set when `auto` could not use wasm: why, in words. */
  readonly fallbackReason: string | null;
  /** Threads the products are spread over (1 = the calling thread only). */
  readonly threads: number;
  /**
   * C = A·B with A (m×k) and B (k×n) row-major; returns C (m×n) row-major: `out` when given and the
   * backend can write into it (blas), else a fresh array.
   */
  matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number, out?: Float32Array): Promise<Float32Array>;
  /** C = Aᵀ·B with A (rows×k) and B (rows×n) row-major; returns C (k×n). */
  matMulTransA(a: Float32Array, rows: number, k: number, b: Float32Array, n: number): Promise<Float32Array>;
}

/** The slice of the tfjs-core API used here (typed locally so the import stays lazy). */
type Tf = typeof import('@tensorflow/tfjs-core');

/** How optional modules are imported; tests replace it to simulate missing packages or adapters. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;
const defaultImporter: ModuleImporter = (specifier) => import(specifier);

export interface BackendOptions {
  importModule?: ModuleImporter;
  /**
   * Threads for large products (wasm/cpu): the calling thread plus threads − 1 worker threads,
   * each with its own tfjs engine, splitting A's rows. Default 1.
   */
  threads?: number;
  /** Dawn toggles for `webgpu` (default: env RECSYS_WEBGPU_FLAGS, comma-separated, e.g. backend=opengles). */
  webgpuFlags?: string[];
}

let tfPromise: Promise<Tf> | null = null;
const ready = new Map<BackendName, Promise<void>>();

async function loadTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    const tf = (await import('@tensorflow/tfjs-core')) as Tf;
    // PROD skips debug checks and silences tfjs's "install tfjs-node" banner (library code never prints).
    tf.env().set('PROD', true);
    return tf;
  })();
  return tfPromise;
}

export const WEBGPU_HELP =
  'To train on a GPU: run on a machine with a GPU and its driver (Vulkan on Linux); `webgpu` (Dawn, prebuilt) and `@tensorflow/tfjs-backend-webgpu` are optional dependencies ' +
  '(if your install skipped them: `npm install webgpu @tensorflow/tfjs-backend-webgpu`). Without a GPU use --backend wasm (the default, fastest on CPU) or cpu.';

function unavailable(what: string, cause?: unknown): RecsysError {
  return new RecsysError('RECSYS_ERR_BACKEND_UNAVAILABLE', `backend webgpu is not available: ${what}. ${WEBGPU_HELP}`, { flag: '--param', param: 'backend', backend: 'webgpu' }, cause === undefined ? undefined : { cause });
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: Record<string, unknown>): Promise<unknown> };
  globals?: Record<string, unknown>;
}

async function initWebgpu(tf: Tf, opts: BackendOptions): Promise<void> {
  const importModule = opts.importModule ?? defaultImporter;
  let dawn: DawnModule;
  try {
    dawn = (await importModule('webgpu')) as DawnModule;
  } catch (e) {
    throw unavailable('the `webgpu` package (Dawn for Node) is not installed, so no GPU adapter can be opened', e);
  }
  if (typeof dawn.create !== 'function') throw unavailable('the installed `webgpu` package has no create() (expected webgpu ≥ 0.2)');
  if (dawn.globals) Object.assign(globalThis, dawn.globals);
  const flags = opts.webgpuFlags ?? (process.env.RECSYS_WEBGPU_FLAGS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const gpu = dawn.create(flags);
  if (flags.includes('backend=opengles')) {
    // Dawn's OpenGL ES backend (software GL, or GPUs without Vulkan) only offers compatibility-mode
    // adapters, and tfjs asks for its own adapter: every request must say so.
    const request = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (options?: Record<string, unknown>) => request({ ...options, featureLevel: 'compatibility' });
  }
  let adapter: unknown = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    throw unavailable('Dawn failed while looking for a GPU adapter', e);
  }
  if (!adapter) throw unavailable(`Dawn found no GPU adapter on this machine (no GPU, or no Vulkan/Metal/D3D12 driver)${flags.length ? `; Dawn flags: ${flags.join(',')}` : ''}`);
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (!nav || !nav.gpu) Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  try {
    await importModule('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw unavailable('the `@tensorflow/tfjs-backend-webgpu` package is not installed', e);
  }
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    throw unavailable('tfjs could not start its webgpu backend on the adapter', e);
  }
  if (!ok) throw unavailable('tfjs could not start its webgpu backend on the adapter');
}

async function initBackend(name: BackendName, opts: BackendOptions): Promise<void> {
  const tf = await loadTf();
  if (name === 'webgpu') return initWebgpu(tf, opts);
  if (name === 'blas') return;
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend(name);
  if (!ok) throw new RecsysError('RECSYS_ERR_BACKEND_UNAVAILABLE', `tfjs could not initialise its ${name} backend. Use --param backend=cpu (pure JavaScript, always works).`, { flag: '--param', param: 'backend', backend: name });
}

async function ensureActive(tf: Tf, name: BackendName): Promise<void> {
  if (tf.getBackend() !== name) await tf.setBackend(name);
}

/** Products below this many multiply-adds stay in the calling thread (a worker round trip costs ~0.2 ms). */
const PARALLEL_MIN_MACS = 1 << 22;

class TfjsBackend implements DenseBackend {
  readonly name: BackendName;
  readonly fallbackReason: string | null;
  readonly threads: number;
  private readonly tf: Tf;
  private readonly pool: MatMulPool | null;

  constructor(tf: Tf, name: BackendName, fallbackReason: string | null, threads: number) {
    this.tf = tf;
    this.name = name;
    this.fallbackReason = fallbackReason;
    this.pool = threads > 1 && name !== 'webgpu' ? matMulPool(name, threads - 1) : null;
    this.threads = this.pool ? threads : 1;
  }

  private async local(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    const tf = this.tf;
    await ensureActive(tf, this.name);
    const ta = tf.tensor2d(a, [m, k], 'float32');
    const tb = tf.tensor2d(b, [k, n], 'float32');
    const tc = tf.matMul(ta, tb);
    try {
      // webgpu has no synchronous read-back; the CPU backends answer at once either way.
      const out = this.name === 'webgpu' ? await tc.data() : tc.dataSync();
      return out instanceof Float32Array ? out : Float32Array.from(out as ArrayLike<number>);
    } finally {
      ta.dispose();
      tb.dispose();
      tc.dispose();
    }
  }

  /** Aᵀ·B here: transpose the narrower of A and B (Aᵀ·B = (Bᵀ·A)ᵀ), so the big transpose is the cheaper one. */
  private async localTransA(a: Float32Array, rows: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    if (n < k) return transpose(await this.local(transpose(b, rows, n), n, rows, a, k), n, k);
    return this.local(transpose(a, rows, k), k, rows, b, n);
  }

  async matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    if (a.length !== m * k || b.length !== k * n) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: matMul shapes ${m}×${k} · ${k}×${n} do not match buffers of ${a.length} and ${b.length} values`);
    }
    const pool = this.pool;
    if (!pool || m * k * n < PARALLEL_MIN_MACS || m < 2 * this.threads) return this.local(a, m, k, b, n);
    // Row blocks of A: the last threads − 1 go to the workers, the first stays here.
    const bounds = splitRows(m, this.threads);
    const remote = bounds.slice(1, -1).map((start, t) => pool.run(t, 'mm', a.slice(start * k, bounds[t + 2] * k), bounds[t + 2] - start, k, b, n));
    const first = await this.local(a.subarray(0, bounds[1] * k), bounds[1], k, b, n);
    const out = new Float32Array(m * n);
    out.set(first);
    const parts = await Promise.all(remote);
    parts.forEach((part, t) => out.set(part, bounds[t + 1] * n));
    return out;
  }

  async matMulTransA(a: Float32Array, rows: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    if (a.length !== rows * k || b.length !== rows * n) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: matMulTransA shapes (${rows}×${k})ᵀ · ${rows}×${n} do not match buffers of ${a.length} and ${b.length} values`);
    }
    const pool = this.pool;
    if (!pool || rows * k * n < PARALLEL_MIN_MACS || rows < 2 * this.threads) return this.localTransA(a, rows, k, b, n);
    // Aᵀ·B = Σ over row blocks of A_blockᵀ·B_block: each thread transposes and multiplies its block.
    const bounds = splitRows(rows, this.threads);
    const remote = bounds.slice(1, -1).map((start, t) => pool.run(t, 'tn', a.slice(start * k, bounds[t + 2] * k), bounds[t + 2] - start, k, b.slice(start * n, bounds[t + 2] * n), n));
    const r0 = bounds[1];
    const out = await this.localTransA(a.subarray(0, r0 * k), r0, k, b.subarray(0, r0 * n), n);
    for (const part of await Promise.all(remote)) for (let j = 0; j < out.length; j++) out[j] += part[j];
    return out;
  }
}

/** Row bounds of `threads` nearly equal blocks. */
function splitRows(m: number, threads: number): number[] {
  return Array.from({ length: threads + 1 }, (_, t) => Math.round((t * m) / threads));
}

// ---------------------------------------------------------------------------------------------
// Worker threads for products: each loads tfjs-core and the same backend from the paths this
// module resolves, and answers 'mm' (A·B) and 'tn' (Aᵀ·B) on the blocks it is sent.

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const tf = require(workerData.core);
require(workerData.backendModule);
tf.env().set('PROD', true);
const ready = tf.setBackend(workerData.backend);
function transpose(src, rows, cols) {
  const dst = new Float32Array(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
    }
  }
  return dst;
}
parentPort.on('message', async (msg) => {
  try {
    if (!(await ready)) throw new Error('tfjs could not start the ' + workerData.backend + ' backend in a worker thread');
    const { id, op, a, m, k, b, n } = msg;
    const ta = op === 'tn' ? tf.tensor2d(transpose(a, m, k), [k, m]) : tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, op === 'tn' ? [m, n] : [k, n]);
    const tc = tf.matMul(ta, tb);
    const out = tc.dataSync().slice();
    ta.dispose(); tb.dispose(); tc.dispose();
    parentPort.postMessage({ id, out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: String((e && e.stack) || e) });
  }
});
`;

class MatMulPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(backend: BackendName, count: number) {
    const req = createRequire(import.meta.url);
    const workerData = {
      core: req.resolve('@tensorflow/tfjs-core'),
      backendModule: req.resolve(backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu'),
      backend,
    };
    for (let t = 0; t < count; t++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] });
      w.on('message', (msg: { id: number; out?: Float32Array; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined || !msg.out) p.reject(new RecsysError('RECSYS_ERR_MODEL_FIT', `a two-tower matMul worker failed: ${msg.error ?? 'no result'}. Retry with --param threads=1.`));
        else p.resolve(msg.out);
        if (this.pending.size === 0) for (const x of this.workers) x.unref();
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new RecsysError('RECSYS_ERR_MODEL_FIT', `a two-tower matMul worker crashed: ${e.message}. Retry with --param threads=1.`, {}, { cause: e }));
        this.pending.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }

  run(worker: number, op: 'mm' | 'tn', a: Float32Array, m: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    const id = this.nextId++;
    const w = this.workers[worker];
    w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // `a` is a private copy: hand its buffer over instead of copying it again.
      w.postMessage({ id, op, a, m, k, b, n }, [a.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

const pools = new Map<string, MatMulPool>();

function matMulPool(backend: BackendName, workers: number): MatMulPool {
  const key = `${backend}:${workers}`;
  let p = pools.get(key);
  if (!p) {
    p = new MatMulPool(backend, workers);
    pools.set(key, p);
  }
  return p;
}

/** The native kernel's exports (src/native/blas.c). */
interface BlasAddon {
  sgemm(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transA: number, out: Float32Array): void;
  threads(): number;
  setThreads(n: number): void;
}

/** Where scripts/build-native.mjs writes the addon: src/core/kernels (tsx) or dist/core/kernels (compiled). */
export const BLAS_PATH = fileURLToPath(new URL('../../kernels/blas.node', import.meta.url));
let blasAddon: BlasAddon | null | undefined;
let blasError = '';

/** The native BLAS kernel, or null (with `blasUnavailableReason()`) where it was not built or does not load. */
export function loadBlas(): BlasAddon | null {
  if (blasAddon !== undefined) return blasAddon;
  if (!existsSync(BLAS_PATH)) {
    blasError = `the native BLAS kernel was not built (${BLAS_PATH} is missing: install a C compiler and libopenblas-dev, then npm run build)`;
    blasAddon = null;
    return null;
  }
  try {
    blasAddon = createRequire(import.meta.url)(BLAS_PATH) as BlasAddon;
  } catch (e) {
    blasError = `the native BLAS kernel at ${BLAS_PATH} did not load (${e instanceof Error ? e.message : String(e)}); rebuild it with npm run build`;
    blasAddon = null;
  }
  return blasAddon;
}

export function blasUnavailableReason(): string {
  loadBlas();
  return blasError;
}

/** Products through cblas_sgemm; OpenBLAS runs `threads` threads of its own. */
class BlasBackend implements DenseBackend {
  readonly name = 'blas' as const;
  readonly fallbackReason: string | null = null;
  readonly threads: number;
  private readonly blas: BlasAddon;

  constructor(blas: BlasAddon, threads: number) {
    this.blas = blas;
    blas.setThreads(threads);
    this.threads = blas.threads();
  }

  async matMul(a: Float32Array, m: number, k: number, b: Float32Array, n: number, into?: Float32Array): Promise<Float32Array> {
    if (a.length !== m * k || b.length !== k * n) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: matMul shapes ${m}×${k} · ${k}×${n} do not match buffers of ${a.length} and ${b.length} values`);
    }
    const out = into && into.length === m * n ? into : new Float32Array(m * n);
    this.blas.sgemm(a, m, k, b, n, 0, out);
    return out;
  }

  async matMulTransA(a: Float32Array, rows: number, k: number, b: Float32Array, n: number): Promise<Float32Array> {
    if (a.length !== rows * k || b.length !== rows * n) {
      throw new RecsysError('RECSYS_ERR_MODEL_FIT', `internal: matMulTransA shapes (${rows}×${k})ᵀ · ${rows}×${n} do not match buffers of ${a.length} and ${b.length} values`);
    }
    const out = new Float32Array(k * n);
    this.blas.sgemm(a, k, rows, b, n, 1, out);
    return out;
  }
}

/** Terminates the matMul worker threads (they are unref'ed, so this is only needed for a clean exit in tests). */
export async function closeTwoTowerWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

/**
 * A ready backend. `auto` tries wasm and falls back to cpu (saying why); an explicit name either
 * works or throws RECSYS_ERR_BACKEND_UNAVAILABLE.
 */
export async function createBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<DenseBackend> {
  const tf = await loadTf();
  const threads = Math.max(1, Math.floor(opts.threads ?? 1));
  const start = (name: BackendName): Promise<void> => {
    let p = ready.get(name);
    if (!p) {
      p = initBackend(name, opts);
      ready.set(name, p);
      // A failed start may succeed later (e.g. after installing a package); do not cache failures.
      p.catch(() => ready.delete(name));
    }
    return p;
  };
  if (choice === 'auto') {
    const blas = loadBlas();
    if (blas) return new BlasBackend(blas, threads);
    try {
      await start('wasm');
      return new TfjsBackend(tf, 'wasm', `${blasError}; using tfjs wasm`, threads);
    } catch (e) {
      await start('cpu');
      return new TfjsBackend(tf, 'cpu', `${blasError}, and the wasm backend did not start (${e instanceof Error ? e.message : String(e)}); using the pure-JS cpu backend`, threads);
    }
  }
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `unknown backend '${String(choice)}'; use one of ${BACKEND_CHOICES.join(', ')}`, { flag: '--param', param: 'backend' });
  }
  if (choice === 'blas') {
    const blas = loadBlas();
    if (!blas) throw new RecsysError('RECSYS_ERR_BACKEND_UNAVAILABLE', `backend blas is not available: ${blasError}. Or use --backend wasm.`, { flag: '--backend', backend: 'blas' });
    return new BlasBackend(blas, threads);
  }
  await start(choice);
  return new TfjsBackend(tf, choice, null, threads);
}

// ---------------------------------------------------------------------------------------------
// Layout helpers shared by the towers and the losses (row-major Float32 matrices).

/**
 * Scratch buffers reused from one training step to the next. A fresh multi-megabyte typed array
 * costs a page fault per 4 KiB on first write, and on this dev machine (a sandboxed VM) that is
 * ~23 µs a page: allocating and filling an 8 MiB array took 52–62 ms against 5 ms for refilling a
 * reused one. A step needs ~40 MiB of activations and gradients, so they live here. Only the
 * training path uses a workspace (fit is never concurrent with itself); inference allocates.
 */
export class Workspace {
  private readonly bufs = new Map<string, Float32Array>();

  /** `length` floats for `key`, valid until the next request for `key`; zeroed when `zero`, else stale. */
  f32(key: string, length: number, zero = false): Float32Array {
    const have = this.bufs.get(key);
    if (have && have.length >= length) {
      const view = have.subarray(0, length);
      if (zero) view.fill(0);
      return view;
    }
    // Room to grow (batches vary in distinct rows); fill() touches every page now, once.
    const fresh = new Float32Array(Math.ceil(length * 1.25) + 16).fill(0);
    this.bufs.set(key, fresh);
    return fresh.subarray(0, length);
  }
}

/** Bᵀ of a row-major rows×cols matrix, blocked so both sides stay in cache. */
export function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array = new Float32Array(rows * cols)): Float32Array {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const so = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[so + c];
      }
    }
  }
  return dst;
}

/** Plain triple-loop A·B in float64 accumulation: the oracle of the tests. */
export function matMulReference(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}
