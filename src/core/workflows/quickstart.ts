/**
 * `recsys quickstart`: the whole job end to end on an embedded default, with no network and no
 * data of the user's: generate a small synthetic shop, ingest it, cut a random 80/20 split,
 * train every quick model, evaluate them against each other and write the report.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateSynth, SYNTH_PRESETS, type SynthResult } from '../data/synth.js';
import { openStore } from '../data/store.js';
import { ingestSynth } from '../data/ingest/synth.js';
import type { Progress } from '../models/recommender.js';
import { modelNames } from '../models/registry.js';
import { trainModel, type TrainResult } from './train.js';
import { runEvaluation, type EvalRunResult } from './eval.js';

export const QUICKSTART_WEIGHTS = { view: 1, click: 2, cart: 4, purchase: 8 };

/** Models quickstart trains, in report order (popularity first: the bar to clear). */
export const QUICKSTART_MODELS: Array<{ model: string; params: Record<string, unknown> }> = [
  { model: 'popularity', params: {} },
  { model: 'als', params: { factors: 32, iterations: 10 } },
];

export interface QuickstartOptions {
  dir: string;
  seed?: number;
  /** Scale the preset (1 = 2,000 users × 500 products × 60,000 events). */
  scale?: number;
  progress?: Progress;
}

export interface QuickstartResult {
  dir: string;
  data: SynthResult;
  ingest: { interactions: number; products: number; users: number; seconds: number };
  models: TrainResult[];
  evaluation: EvalRunResult;
  seconds: number;
}

export async function runQuickstart(opts: QuickstartOptions): Promise<QuickstartResult> {
  const t0 = performance.now();
  const dir = resolve(opts.dir);
  // Start clean: quickstart owns this directory.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const scale = opts.scale ?? 1;
  const preset = SYNTH_PRESETS.quickstart;
  const data = await generateSynth({
    users: Math.round(preset.users * scale),
    products: Math.round(preset.products * scale),
    interactions: Math.round(preset.interactions * scale),
    seed: opts.seed ?? 42,
    outDir: join(dir, 'data'),
    progress: opts.progress,
  });

  const storePath = join(dir, 'recsys.duckdb');
  const store = await openStore(storePath);
  let ingest: QuickstartResult['ingest'];
  try {
    const r = await ingestSynth(store, data.outDir, { progress: opts.progress });
    ingest = { interactions: r.interactions.rowsIngested, products: r.products?.rowsIngested ?? 0, users: r.users?.rowsIngested ?? 0, seconds: r.seconds };
  } finally {
    await store.close();
  }

  const available = new Set(modelNames());
  const models: TrainResult[] = [];
  for (const { model, params } of QUICKSTART_MODELS.filter((m) => available.has(m.model))) {
    models.push(
      await trainModel({
        store: storePath,
        model,
        params,
        split: `random:0.2:seed=${opts.seed ?? 42}`,
        splitsDir: join(dir, 'splits'),
        matrix: { weights: QUICKSTART_WEIGHTS },
        out: join(dir, 'models', model),
        progress: opts.progress,
      }),
    );
  }
  const evaluation = await runEvaluation({
    models: models.map((m) => m.modelDir),
    store: storePath,
    reportsDir: join(dir, 'reports'),
    label: 'quickstart',
    progress: opts.progress,
  });
  return { dir, data, ingest, models, evaluation, seconds: (performance.now() - t0) / 1000 };
}
