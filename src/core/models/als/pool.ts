/**
 * A process-wide pool of worker threads for the ALS kernels, all sharing one WasmMemory
 * (the arena). A job runs on `threads` threads: the main thread plus threads − 1 workers, each
 * claiming chunks of rows from an atomic counter in the arena header (dynamic load balancing;
 * chunk bounds are fixed by the caller, so results never depend on the thread count).
 *
 * The pool's own arena is a single resource: callers hold it through `withArena`, which serialises
 * users (two models fitting in one process take turns). A job may also run on another arena (a
 * fitted model keeps its factors in an arena of its own, engine.ts): `withArena(fn, arena)` takes
 * the same turn without resetting it, and workers re-instantiate the kernels on that arena's
 * memory when a job's arena differs from their last one. Idle workers are unref'ed, so they never
 * keep the process alive; `closeAlsPool()` terminates them explicitly.
 */
import { Worker } from 'node:worker_threads';
import { RecsysError } from '../../errors.js';
import { ARENA_HEADER, SharedArena, requireKernelModule, type WasmModule } from './kernels.js';
import { WORKER_SOURCE, runChunks, type KernelJob } from './worker.js';

interface PoolWorker {
  worker: Worker;
  pending: Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>;
  /** SharedArena.id of the memory the worker's kernels run on. */
  arenaId: number;
}

export interface RunSpec {
  op: KernelJob['op'];
  args: number[];
  scratchIndex: number;
  /** Scratch base and per-thread stride (thread t uses scratch + t·stride). */
  scratch: number;
  scratchStride: number;
  /** Chunk bounds (Int32, nChunks + 1 entries) already written into the arena. */
  bounds: number;
  nChunks: number;
  threads: number;
  /** The arena whose memory the offsets refer to (default: the pool's own). */
  arena?: SharedArena;
}

export class AlsPool {
  readonly module: WasmModule;
  readonly arena: SharedArena;
  private readonly workers: PoolWorker[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private broken: Error | null = null;

  constructor() {
    this.module = requireKernelModule();
    this.arena = new SharedArena(this.module);
  }

  /**
   * Run `fn` with exclusive use of the pool (and of `arena`): the pool's own arena is reset before
   * `fn` starts; another arena (a model's) is left as it is, its owner allocates above its data.
   */
  withArena<T>(fn: (pool: AlsPool) => Promise<T>, arena: SharedArena = this.arena): Promise<T> {
    const run = this.chain.then(() => {
      if (arena === this.arena) this.arena.reset();
      return fn(this);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private ensureWorkers(n: number): void {
    while (this.workers.length < n) {
      const thread = this.workers.length + 1;
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { thread }, execArgv: [] });
      const entry: PoolWorker = { worker, pending: new Map(), arenaId: this.arena.id };
      worker.on('message', (msg: { type: string; id: number; result?: number; message?: string }) => {
        const p = entry.pending.get(msg.id);
        if (!p) return;
        entry.pending.delete(msg.id);
        if (msg.type === 'done') p.resolve(msg.result ?? 0);
        else p.reject(new RecsysError('RECSYS_ERR_MODEL_FIT', `ALS kernel failed in worker thread ${thread}: ${msg.message ?? 'unknown error'}`));
      });
      const fail = (e: Error): void => {
        this.broken = e;
        for (const p of entry.pending.values()) p.reject(new RecsysError('RECSYS_ERR_MODEL_FIT', `ALS worker thread ${thread} died: ${e.message}`, {}, { cause: e }));
        entry.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (entry.pending.size > 0) fail(new Error(`exit code ${code}`));
      });
      worker.postMessage({ type: 'init', module: this.module, memory: this.arena.memory });
      worker.unref();
      this.workers.push(entry);
    }
  }

  /** Run one kernel job over all chunks on `threads` threads; resolves to the summed return values. */
  async run(spec: RunSpec): Promise<number> {
    if (this.broken) throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the ALS worker pool is unusable after an earlier failure: ${this.broken.message}. Restart the process.`);
    const threads = Math.max(1, Math.floor(spec.threads));
    this.ensureWorkers(threads - 1);
    const arena = spec.arena ?? this.arena;
    const memory = arena.memory;
    Atomics.store(new Int32Array(memory.buffer, 0, ARENA_HEADER / 4), 0, 0);
    const job: KernelJob = {
      id: this.nextId++,
      op: spec.op,
      args: spec.args,
      scratchIndex: spec.scratchIndex,
      scratch: spec.scratch,
      scratchStride: spec.scratchStride,
      counter: 0,
      bounds: spec.bounds,
      nChunks: spec.nChunks,
    };
    const waits: Array<Promise<number>> = [];
    for (let t = 0; t < threads - 1; t++) {
      const entry = this.workers[t];
      entry.worker.ref();
      if (entry.arenaId !== arena.id) {
        // Messages are handled in order: the kernels are re-instantiated before the job runs.
        entry.worker.postMessage({ type: 'init', module: this.module, memory });
        entry.arenaId = arena.id;
      }
      waits.push(new Promise<number>((resolve, reject) => {
        entry.pending.set(job.id, { resolve, reject });
      }));
      entry.worker.postMessage({ type: 'run', job });
    }
    let mainResult = 0;
    let mainError: unknown = null;
    try {
      mainResult = runChunks(arena.kernels, memory, job, 0);
    } catch (e) {
      mainError = e;
    }
    try {
      const results = await Promise.all(waits);
      if (mainError) throw mainError;
      return results.reduce((a, b) => a + b, mainResult);
    } finally {
      for (let t = 0; t < threads - 1; t++) this.workers[t].worker.unref();
    }
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }
}

let shared: AlsPool | null = null;

/** The process-wide pool (created on first use; throws when the wasm kernels are not built). */
export function alsPool(): AlsPool {
  if (!shared) shared = new AlsPool();
  return shared;
}

/** Terminate the pool's worker threads and drop its memory (a later job starts a fresh pool). */
export async function closeAlsPool(): Promise<void> {
  const p = shared;
  shared = null;
  if (p) await p.close();
}
