/**
 * Model and split artifacts on disk: a directory with `manifest.json` plus one raw little-endian
 * file per tensor (`<name>.f32`, `<name>.i32`, `<name>.f64`) and id maps as JSON arrays.
 * Writes are atomic: everything goes into a sibling temp dir which is renamed into place, so a
 * crash never leaves a half-written artifact (an old one is replaced only after the new one is
 * complete).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError } from './errors.js';
import { IdMap } from './data/matrix.js';

export const ARTIFACT_FORMAT = 'recsys-artifact';
export const ARTIFACT_VERSION = 1;

export type Tensor = Float32Array | Int32Array | Float64Array;

export interface TensorEntry {
  file: string;
  dtype: 'float32' | 'int32' | 'float64';
  shape: number[];
}

export interface Manifest {
  format: typeof ARTIFACT_FORMAT;
  version: number;
  /** What the artifact holds: a model name ('als', 'popularity', …) or 'split'. */
  kind: string;
  createdAt: string;
  params: Record<string, unknown>;
  /** sha256 of the canonical JSON of params: a mismatch means a cached result is stale. */
  paramsHash: string;
  tensors: Record<string, TensorEntry>;
  /** Files holding id maps (JSON arrays of external ids). */
  idMaps: Record<string, string>;
  /** Anything else the owner wants to keep (fit report, dataset fingerprint, …). */
  meta: Record<string, unknown>;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((key) => [key, o[key]]));
    }
    return v;
  });
}

export function hashParams(params: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 16);
}

function dtypeOf(t: Tensor): TensorEntry['dtype'] {
  if (t instanceof Float32Array) return 'float32';
  if (t instanceof Int32Array) return 'int32';
  return 'float64';
}

const EXT: Record<TensorEntry['dtype'], string> = { float32: 'f32', int32: 'i32', float64: 'f64' };

export interface ArtifactContent {
  kind: string;
  params: Record<string, unknown>;
  tensors: Record<string, { data: Tensor; shape?: number[] }>;
  idMaps?: Record<string, IdMap | readonly string[]>;
  meta?: Record<string, unknown>;
}

/** Write an artifact atomically into `dir` (created or replaced). */
export async function saveArtifact(dir: string, content: ArtifactContent): Promise<Manifest> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const tensors: Record<string, TensorEntry> = {};
    for (const [name, { data, shape }] of Object.entries(content.tensors)) {
      const dtype = dtypeOf(data);
      const file = `${name}.${EXT[dtype]}`;
      await writeFile(join(tmp, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      tensors[name] = { file, dtype, shape: shape ?? [data.length] };
    }
    const idMaps: Record<string, string> = {};
    for (const [name, map] of Object.entries(content.idMaps ?? {})) {
      const ids = map instanceof IdMap ? map.ids : map;
      const file = `${name}.ids.json`;
      await writeFile(join(tmp, file), JSON.stringify(ids));
      idMaps[name] = file;
    }
    const manifest: Manifest = {
      format: ARTIFACT_FORMAT,
      version: ARTIFACT_VERSION,
      kind: content.kind,
      createdAt: new Date().toISOString(),
      params: content.params,
      paramsHash: hashParams(content.params),
      tensors,
      idMaps,
      meta: content.meta ?? {},
    };
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    // Swap into place: move any old artifact aside first, then rename, then drop the old one.
    let old: string | null = null;
    if (existsSync(target)) {
      old = `${tmp}.old`;
      await rename(target, old);
    }
    await rename(tmp, target);
    if (old) await rm(old, { recursive: true, force: true });
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `could not write artifact to ${target}: ${(e as Error).message}`, { file: target }, { cause: e });
  }
}

export interface LoadedArtifact {
  dir: string;
  manifest: Manifest;
  tensor(name: string): Tensor;
  float32(name: string): Float32Array;
  int32(name: string): Int32Array;
  float64(name: string): Float64Array;
  idMap(name: string): IdMap;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(resolve(dir), 'manifest.json');
  if (!existsSync(path)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `no artifact at ${dir}: ${path} does not exist. Train one first (recsys train) or check the path.`, { file: path });
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `${path} is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (manifest.format !== ARTIFACT_FORMAT) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `${path} is not a recsys artifact (format ${String(manifest.format)})`, { file: path });
  }
  if (manifest.version > ARTIFACT_VERSION) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `${path} has artifact version ${manifest.version}; this recsys reads up to ${ARTIFACT_VERSION}. Upgrade recsys.`, { file: path });
  }
  return manifest;
}

export async function loadArtifact(dir: string): Promise<LoadedArtifact> {
  const root = resolve(dir);
  const manifest = await readManifest(root);
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of Object.entries(manifest.tensors)) {
    const buf = await readFile(join(root, entry.file));
    // Copy into a fresh, aligned ArrayBuffer (Buffer pool offsets may be unaligned).
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const data = entry.dtype === 'float32' ? new Float32Array(ab) : entry.dtype === 'int32' ? new Int32Array(ab) : new Float64Array(ab);
    const expected = entry.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `${join(root, entry.file)} holds ${data.length} values, manifest says shape [${entry.shape.join(', ')}]`, { file: join(root, entry.file) });
    }
    tensors.set(name, data);
  }
  const idMaps = new Map<string, IdMap>();
  for (const [name, file] of Object.entries(manifest.idMaps)) {
    idMaps.set(name, new IdMap(JSON.parse(await readFile(join(root, file), 'utf8')) as string[]));
  }
  const get = (name: string): Tensor => {
    const t = tensors.get(name);
    if (!t) throw new RecsysError('RECSYS_ERR_ARTIFACT', `artifact ${root} has no tensor '${name}'`, { file: root });
    return t;
  };
  return {
    dir: root,
    manifest,
    tensor: get,
    float32: (n) => get(n) as Float32Array,
    int32: (n) => get(n) as Int32Array,
    float64: (n) => get(n) as Float64Array,
    idMap: (n) => {
      const m = idMaps.get(n);
      if (!m) throw new RecsysError('RECSYS_ERR_ARTIFACT', `artifact ${root} has no id map '${n}'`, { file: root });
      return m;
    },
  };
}
