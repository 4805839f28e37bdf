/**
 * The ALS worker thread: instantiates the kernel module on the pool's shared memory and runs
 * kernel jobs, claiming chunks of rows from a shared atomic counter until none are left (the main
 * thread runs the same loop, `runChunks`, so N threads = main + N−1 workers).
 *
 * The worker is started from source text (`new Worker(WORKER_SOURCE, { eval: true })`) rather than
 * from a file: the same code then works from the TypeScript sources under tsx and from the compiled
 * dist/ without resolving a .ts/.js worker path or registering a TypeScript loader (and its extra
 * loader thread) inside every worker.
 */
import type { AlsKernels, KernelName, WasmMemory } from './kernels.js';

/** One kernel job: rows [bounds[c], bounds[c+1]) for every chunk c, claimed through `counter`. */
export interface KernelJob {
  id: number;
  op: KernelName;
  /** Kernel arguments after (start, end). */
  args: number[];
  /** Index in `args` that receives the thread's private scratch pointer (−1: none). */
  scratchIndex: number;
  scratch: number;
  scratchStride: number;
  /** Byte offset of the Int32 chunk counter and of the Int32 chunk bounds (nChunks + 1 entries). */
  counter: number;
  bounds: number;
  nChunks: number;
}

/**
 * Claim chunks until the counter passes nChunks and run the kernel on each; returns the sum of
 * the kernel's return values (e.g. Cholesky failures). Identical to the loop in WORKER_SOURCE.
 */
export function runChunks(kernels: AlsKernels, memory: WasmMemory, job: KernelJob, thread: number): number {
  const counter = new Int32Array(memory.buffer, job.counter, 1);
  const bounds = new Int32Array(memory.buffer, job.bounds, job.nChunks + 1);
  const fn = kernels[job.op] as (...a: number[]) => number | undefined;
  const args = job.args.slice();
  if (job.scratchIndex >= 0) args[job.scratchIndex] = job.scratch + thread * job.scratchStride;
  let result = 0;
  for (;;) {
    const c = Atomics.add(counter, 0, 1);
    if (c >= job.nChunks) break;
    result += fn(bounds[c], bounds[c + 1], ...args) ?? 0;
  }
  return result;
}

/** CommonJS source of the worker (kept in step with runChunks above). */
export const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const thread = workerData.thread;
let kernels = null;
let memory = null;
function runChunks(job) {
  const counter = new Int32Array(memory.buffer, job.counter, 1);
  const bounds = new Int32Array(memory.buffer, job.bounds, job.nChunks + 1);
  const fn = kernels[job.op];
  const args = job.args.slice();
  if (job.scratchIndex >= 0) args[job.scratchIndex] = job.scratch + thread * job.scratchStride;
  let result = 0;
  for (;;) {
    const c = Atomics.add(counter, 0, 1);
    if (c >= job.nChunks) break;
    result += fn(bounds[c], bounds[c + 1], ...args) || 0;
  }
  return result;
}
parentPort.on('message', (msg) => {
  if (msg.type === 'init') {
    memory = msg.memory;
    kernels = new WebAssembly.Instance(msg.module, { env: { memory } }).exports;
    return;
  }
  if (msg.type === 'run') {
    try {
      parentPort.postMessage({ type: 'done', id: msg.job.id, result: runChunks(msg.job) });
    } catch (e) {
      parentPort.postMessage({ type: 'error', id: msg.job.id, message: String((e && e.stack) || e) });
    }
  }
});
`;
