/**
 * Export of a two-tower model's user and item embeddings for the serving layer and ANN indexes.
 * The vectors are unit length, so the dot product is the model's score (cosine).
 *
 *  - `binary`: `user_embeddings.f32` / `item_embeddings.f32` (float32 little-endian, row-major
 *    [rows, d], rows in id-map order), `user_ids.json` / `item_ids.json` (JSON arrays of the
 *    external ids) and `embeddings.json` (d, row counts, layout, score);
 *  - `parquet`: `user_embeddings.parquet` / `item_embeddings.parquet` with columns
 *    (id VARCHAR, vector FLOAT[]), the layout ALS factors use (als/parquet.ts: Spark MLlib's
 *    userFactors/itemFactors shape) and written by the same code, so
 *    `importFactorsParquet(users, items)` loads them back as a dot-product model.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RecsysError } from '../../errors.js';
import { AlsModel } from '../als/als.js';
import { exportFactorsParquet } from '../als/parquet.js';
import type { TwoTowerModel } from './model.js';

export type EmbeddingFormat = 'binary' | 'parquet' | 'both';

export const EMBEDDING_FILES = {
  userBinary: 'user_embeddings.f32',
  itemBinary: 'item_embeddings.f32',
  userIds: 'user_ids.json',
  itemIds: 'item_ids.json',
  manifest: 'embeddings.json',
  userParquet: 'user_embeddings.parquet',
  itemParquet: 'item_embeddings.parquet',
} as const;

export interface EmbeddingExport {
  dir: string;
  files: string[];
  dimensions: number;
  users: number;
  items: number;
}

/** Writes the embeddings of a fitted (or loaded) model into `dir` (created if missing). */
export async function exportEmbeddings(model: TwoTowerModel, dir: string, format: EmbeddingFormat = 'both'): Promise<EmbeddingExport> {
  if (!model.userIds || !model.itemIds) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', 'cannot export the embeddings of an unfitted two-tower model: call fit() or load a model first');
  }
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const d = model.params.dimensions;
  const files: string[] = [];
  const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  try {
    if (format === 'binary' || format === 'both') {
      const put = async (name: string, data: string | Buffer): Promise<void> => {
        await writeFile(join(root, name), data);
        files.push(join(root, name));
      };
      await put(EMBEDDING_FILES.userBinary, bytes(model.userEmbeddings));
      await put(EMBEDDING_FILES.itemBinary, bytes(model.itemEmbeddings));
      await put(EMBEDDING_FILES.userIds, JSON.stringify(model.userIds.ids));
      await put(EMBEDDING_FILES.itemIds, JSON.stringify(model.itemIds.ids));
      await put(
        EMBEDDING_FILES.manifest,
        JSON.stringify(
          {
            model: 'twotower',
            dimensions: d,
            users: model.userIds.size,
            items: model.itemIds.size,
            dtype: 'float32',
            byteOrder: 'little-endian',
            layout: 'row-major [rows, dimensions]; row r is the r-th id of the ids file',
            score: 'dot product of the unit vectors (cosine similarity)',
            files: { users: EMBEDDING_FILES.userBinary, items: EMBEDDING_FILES.itemBinary, userIds: EMBEDDING_FILES.userIds, itemIds: EMBEDDING_FILES.itemIds },
          },
          null,
          2,
        ),
      );
    }
  } catch (e) {
    throw new RecsysError('RECSYS_ERR_ARTIFACT', `could not write embeddings into ${root}: ${(e as Error).message}`, { file: root }, { cause: e });
  }
  if (format === 'parquet' || format === 'both') {
    // ALS's exchange format and writer; only the file names say "embeddings".
    const asFactors = AlsModel.fromFactors({ userIds: model.userIds, itemIds: model.itemIds, userFactors: model.userEmbeddings, itemFactors: model.itemEmbeddings });
    const written = await exportFactorsParquet(asFactors, root);
    const users = join(root, EMBEDDING_FILES.userParquet);
    const items = join(root, EMBEDDING_FILES.itemParquet);
    await rename(written.users, users);
    await rename(written.items, items);
    files.push(users, items);
  }
  return { dir: root, files, dimensions: d, users: model.userIds.size, items: model.itemIds.size };
}
