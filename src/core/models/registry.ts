/**
 * Model registry: the one place that maps a model name to its class. `train --model NAME`
 * creates through it, and `loadModel(dir)` reads an artifact's manifest and hands it to the
 * right class. A new model joins by adding one entry to MODELS (and the contract suite in
 * test/models/contract.test.ts picks it up).
 */
import { RecsysError } from '../errors.js';
import { readManifest } from '../artifacts.js';
import type { ModelFactory, Recommender } from './recommender.js';
import { popularityFactory } from './popularity.js';
import { alsFactory } from './als/als.js';
import { contentFactory } from './content.js';
import { ensembleFactory } from './ensemble/ensemble.js';
import { twoTowerFactory } from './twotower/model.js';

const MODELS = new Map<string, ModelFactory>([
  ['popularity', popularityFactory],
  ['als', alsFactory],
  ['content', contentFactory],
  ['ensemble', ensembleFactory],
  ['twotower', twoTowerFactory],
]);

export function registerModel(name: string, factory: ModelFactory): void {
  MODELS.set(name, factory);
}

export function modelNames(): string[] {
  return [...MODELS.keys()].sort();
}

export function modelFactory(name: string): ModelFactory {
  const f = MODELS.get(name);
  if (!f) {
    throw new RecsysError('RECSYS_ERR_MODEL_UNKNOWN', `unknown model '${name}'. Available models: ${modelNames().join(', ')}.`, { flag: '--model' });
  }
  return f;
}

export function createModel(name: string, params: Record<string, unknown> = {}): Recommender {
  return modelFactory(name).create(params);
}

/** Load any saved model: the manifest's kind picks the class. */
export async function loadModel(dir: string): Promise<Recommender> {
  const manifest = await readManifest(dir);
  return modelFactory(manifest.kind).load(dir);
}
