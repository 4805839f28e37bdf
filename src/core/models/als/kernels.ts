/**
 * Loader for the ALS WebAssembly kernels (built from src/core/kernels/assembly/als.ts by
 * scripts/build-wasm.mjs) and the shared-memory arena they run on.
 *
 * The .wasm file is looked up at `../../kernels/als.wasm` relative to this module: that is
 * src/core/kernels/als.wasm when running the TypeScript sources (tsx) and dist/core/kernels/als.wasm
 * when running the compiled package; the build script writes both. When it is missing (the build
 * step was skipped) `alsKernelModule()` returns null and the model falls back to the plain-TS
 * kernels in solver-reference.ts.
 *
 * JavaScript owns the memory layout: the arena is a bump allocator over one shared
 * WebAssembly.Memory, and kernels only read and write the offsets they are given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RecsysError } from '../../errors.js';

export const WASM_PATH = fileURLToPath(new URL('../../kernels/als.wasm', import.meta.url));

/*
 * The WebAssembly JS API, typed locally: the project compiles against lib ES2023 + @types/node,
 * neither of which declares it, and a global declaration here could clash with a DOM lib later.
 */
/** A compiled module (opaque; structured-cloneable to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernel exports (byte offsets are plain numbers). */
export interface AlsKernels {
  gramChunks(cStart: number, cEnd: number, Y: number, nRows: number, rowsPerChunk: number, kp: number, partials: number): void;
  /**
   * `nSeg` = 0: i32 column indices, indptr of rows + 1; `nSeg` ≥ 1: u16 indices in 65,536-column
   * segments, indptr of rows·nSeg + 1 (see the AssemblyScript source). `weights` = 0 means every
   * entry has the weight `uniform`.
   */
  cgRange(start: number, end: number, indptr: number, indices: number, nSeg: number, weights: number, uniform: number, X: number, Y: number, G: number, regs: number, kp: number, steps: number, scratch: number): void;
  choleskyRange(start: number, end: number, indptr: number, indices: number, nSeg: number, weights: number, uniform: number, X: number, Y: number, G: number, regs: number, kp: number, scratch: number): number;
  lossRange(start: number, end: number, indptr: number, indices: number, nSeg: number, weights: number, uniform: number, X: number, Y: number, G: number, regs: number, kp: number, scratch: number, out: number): void;
  topkRange(start: number, end: number, Q: number, P: number, nItems: number, kp: number, K: number, exclIndptr: number, exclIndices: number, outItems: number, outScores: number, scratch: number): void;
  topkScratchBytes(K: number): number;
  topkRangeQ(start: number, end: number, Q: number, P: number, P16: number, nItems: number, kp: number, K: number, KC: number, exclIndptr: number, exclIndices: number, outItems: number, outScores: number, scratch: number, sy: number, yAbsMax: number, y1Max: number, maxq: number): number;
  topkQScratchBytes(K: number, KC: number, kp: number): number;
  abiVersion(): number;
}

export type KernelName = 'gramChunks' | 'cgRange' | 'choleskyRange' | 'lossRange' | 'topkRange' | 'topkRangeQ';

/** The kernels' calling-convention version this loader speaks (abiVersion() in the AssemblyScript source). */
export const KERNEL_ABI_VERSION = 4;

let cachedModule: WasmModule | null | undefined;

/** The compiled kernel module, or null when the .wasm has not been built (or wasm SIMD is unavailable). */
export function alsKernelModule(): WasmModule | null {
  if (cachedModule !== undefined) return cachedModule;
  if (!existsSync(WASM_PATH)) {
    cachedModule = null;
    return null;
  }
  let module: WasmModule;
  try {
    module = new wasmApi.Module(readFileSync(WASM_PATH));
  } catch {
    // An engine without wasm SIMD or threads: use the TypeScript kernels.
    cachedModule = null;
    return null;
  }
  const version = instantiateKernels(module, new wasmApi.Memory({ initial: 1, maximum: 1, shared: true })).abiVersion();
  if (version !== KERNEL_ABI_VERSION) {
    throw new RecsysError('RECSYS_ERR_MODEL_FIT', `${WASM_PATH} was built from other kernel sources (ABI ${version}, this recsys needs ${KERNEL_ABI_VERSION}). Rebuild it with \`node scripts/build-wasm.mjs\` (part of \`npm run build\`).`, { file: WASM_PATH });
  }
  cachedModule = module;
  return cachedModule;
}

/** Like alsKernelModule() but throws an actionable error when the kernels are missing. */
export function requireKernelModule(): WasmModule {
  const m = alsKernelModule();
  if (!m) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `the ALS WebAssembly kernels are not available (${WASM_PATH} is missing or this Node lacks wasm SIMD/threads). Build them with \`node scripts/build-wasm.mjs\` (part of \`npm run build\`), or pass --param backend=js to use the TypeScript kernels.`, { flag: '--param', param: 'backend', file: WASM_PATH });
  }
  return m;
}

export function instantiateKernels(module: WasmModule, memory: WasmMemory): AlsKernels {
  const instance = new wasmApi.Instance(module, { env: { memory } });
  return instance.exports as unknown as AlsKernels;
}

const PAGE = 65536;
/** Bytes at the start of the memory reserved for the pool's atomic counters. */
export const ARENA_HEADER = 256;

function createSharedMemory(initialPages: number): WasmMemory {
  // Shared memory reserves its maximum up front (address space, not RAM); fall back to smaller
  // reservations where the address space is limited.
  for (const maximum of [65536, 32768, 16384, 4096]) {
    try {
      return new wasmApi.Memory({ initial: Math.min(initialPages, maximum), maximum, shared: true });
    } catch {
      // try a smaller reservation
    }
  }
  throw new RecsysError('RECSYS_ERR_MODEL_FIT', 'could not reserve shared WebAssembly memory for the ALS kernels. Pass --param backend=js to use the TypeScript kernels.');
}

let nextArenaId = 1;

/**
 * Bump allocator over one shared WebAssembly.Memory. Allocate everything a job needs first
 * (`alloc` may grow the memory), then take views (`f32`, `i32`, …). A grow never moves or
 * detaches shared memory: a view stays valid for as long as it is referenced, but covers only
 * the bytes that existed when it was taken. `reset()` frees everything at once.
 *
 * Only pages that are written count towards the process's resident memory, so a block that is
 * released and allocated again costs nothing more.
 */
export class SharedArena {
  /** Distinguishes arenas (worker threads re-instantiate the kernels when a job's arena changes). */
  readonly id = nextArenaId++;
  readonly memory: WasmMemory;
  readonly kernels: AlsKernels;
  private top = ARENA_HEADER;

  constructor(module: WasmModule, initialBytes = PAGE) {
    this.memory = createSharedMemory(Math.max(1, Math.ceil(initialBytes / PAGE)));
    this.kernels = instantiateKernels(module, this.memory);
  }

  get used(): number {
    return this.top;
  }

  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  reset(): void {
    this.top = ARENA_HEADER;
  }

  /** The current allocation point, to free everything allocated after it with `release`. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = Math.max(ARENA_HEADER, Math.min(mark, this.top));
  }

  /** A 64-byte aligned block of `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    // Not `& ~63`: bitwise operators wrap at 2^31, and arenas past 2 GiB (100M-interaction fits) are real.
    const ptr = Math.ceil(this.top / 64) * 64;
    const end = ptr + Math.max(bytes, 0);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const maxBytes = 65536 * PAGE;
      if (end > maxBytes) {
        throw new RecsysError('RECSYS_ERR_MODEL_FIT', `the ALS kernels need ${(end / 2 ** 30).toFixed(2)} GiB of WebAssembly memory, over the 4 GiB limit of wasm32. Use fewer factors or a smaller matrix, or --param backend=js.`);
      }
      // Grow by at least 25% to keep the number of grows small.
      const needPages = Math.ceil((end - have) / PAGE);
      const extra = Math.max(needPages, Math.min(Math.ceil(have / PAGE / 4), 65536 - have / PAGE - needPages));
      try {
        this.memory.grow(Math.max(needPages, extra));
      } catch {
        this.memory.grow(needPages);
      }
    }
    this.top = end;
    return ptr;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  u16(ptr: number, length: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, ptr, length);
  }
}
