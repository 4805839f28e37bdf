#!/usr/bin/env node
/**
 * Builds the optional native kernel src/native/blas.c (single-precision products through the
 * system OpenBLAS) into src/core/kernels/blas.node and dist/core/kernels/blas.node, where
 * src/core/models/twotower/backend.ts looks for it. Optional by design: where there is no C
 * compiler, no Node headers or no cblas.h/libopenblas (Debian: `apt install gcc libopenblas-dev`),
 * it says so and exits 0; the two-tower model then runs its products on tfjs wasm.
 * No node-gyp and no download: one compiler call against the headers of the running Node.
 * Usage: node scripts/build-native.mjs [--require] (--require: fail instead of skipping).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/native/blas.c');
const targets = [join(root, 'src/core/kernels/blas.node'), join(root, 'dist/core/kernels/blas.node')];
const required = process.argv.includes('--require');

function skip(reason) {
  for (const t of targets) rmSync(t, { force: true });
  const msg = `build-native: skipped (${reason}); the two-tower model will use tfjs wasm for its matrix products`;
  if (required) {
    process.stderr.write(`${msg}\n`);
    process.exit(1);
  }
  process.stdout.write(`${msg}\n`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`only built on Linux here, not ${process.platform}`);
const cc = process.env.CC ?? 'cc';
if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) skip(`no C compiler (${cc})`);
const nodeInclude = [join(dirname(process.execPath), '../include/node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
if (!nodeInclude) skip('Node\'s headers (node_api.h) were not found next to the node binary or in /usr/include/node');
const cblas = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'].find((f) => existsSync(f));
if (!cblas) skip('cblas.h not found: apt install libopenblas-dev');

const out = join(root, 'src/core/kernels/blas.node');
mkdirSync(dirname(out), { recursive: true });
const args = ['-O2', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=recsys_blas', `-I${nodeInclude}`, `-I${dirname(cblas)}`, source, '-lopenblas', '-o', out];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.status !== 0) skip(`${cc} failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(0, 3).join(' | ')}`);
mkdirSync(dirname(targets[1]), { recursive: true });
copyFileSync(out, targets[1]);
process.stdout.write(`build-native: blas.node (cblas_sgemm from OpenBLAS) → src/core/kernels, dist/core/kernels\n`);
