#!/usr/bin/env node
/**
 * Compiles the AssemblyScript kernels (src/core/kernels/assembly/*.ts) to WebAssembly with SIMD and
 * shared memory, and writes each .wasm next to both places the loader looks:
 *   src/core/kernels/<name>.wasm   (running from TypeScript source through tsx: tests, benches)
 *   dist/core/kernels/<name>.wasm  (running the compiled package)
 * The loader (src/core/models/als/kernels.ts) resolves `../../kernels/<name>.wasm` relative to its
 * own module, which is one of the two. Usage: node scripts/build-wasm.mjs [--check]
 * (--check only verifies that the sources compile, writing nothing).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src/core/kernels/assembly');
const targets = [join(root, 'src/core/kernels'), join(root, 'dist/core/kernels')];
const check = process.argv.includes('--check');

// Shared memory needs a declared maximum; 65536 pages = 4 GiB, the wasm32 limit. Callers create
// the memory with the maximum they need (it may be smaller than the module's).
const FLAGS = [
  '-O3', '--noAssert', '--runtime', 'stub',
  '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
];

const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.ts'));
let failed = false;
for (const file of sources) {
  const name = file.replace(/\.ts$/, '');
  const outputs = {};
  const stderr = { write: (s) => { process.stderr.write(s); return true; } };
  const { error } = await asc.main([join(sourceDir, file), '--outFile', `${name}.wasm`, ...FLAGS], {
    stdout: { write: () => true },
    stderr,
    writeFile: (fname, contents) => { outputs[fname] = contents; },
  });
  if (error) {
    process.stderr.write(`build-wasm: ${file} failed to compile: ${error.message}\n`);
    failed = true;
    continue;
  }
  const wasm = outputs[`${name}.wasm`];
  if (!wasm) {
    process.stderr.write(`build-wasm: asc produced no ${name}.wasm\n`);
    failed = true;
    continue;
  }
  if (check) continue;
  for (const dir of targets) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.wasm`), wasm);
  }
  process.stdout.write(`build-wasm: ${name}.wasm (${wasm.length} bytes) → ${targets.map((t) => t.slice(root.length + 1)).join(', ')}\n`);
}
process.exit(failed ? 1 : 0);
