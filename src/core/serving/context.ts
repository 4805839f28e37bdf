/**
 * What the route plugins share, created once per app by buildApp (no module-level singletons):
 * the frozen config, the swappable model set, the recommendation service, the Redis tiers and
 * the metrics registry.
 */
import { RecsysError } from '../errors.js';
import type { ExperimentManager } from '../experiments/manager.js';
import type { RedisTiers } from './cache/tiers.js';
import type { ServingConfig } from './config.js';
import type { ServingMetrics } from './metrics.js';
import type { ServingModel } from './model.js';
import type { RecommendationService } from './recommend.js';

/**
 * The loaded models, replaced as a whole on reload: a request takes the current set once, so a
 * request in flight during a swap finishes on the model it started with.
 */
export class ModelSet {
  private state: { list: readonly ServingModel[]; byName: ReadonlyMap<string, ServingModel> };

  constructor(models: readonly ServingModel[]) {
    this.state = ModelSet.index(models);
  }

  private static index(models: readonly ServingModel[]): ModelSet['state'] {
    if (models.length === 0) {
      throw new RecsysError('RECSYS_ERR_USAGE', 'no model to serve: pass at least one trained artifact (--model DIR)', { flag: '--model' });
    }
    const byName = new Map<string, ServingModel>();
    for (const m of models) {
      if (byName.has(m.name)) {
        throw new RecsysError('RECSYS_ERR_USAGE', `two served models are both named '${m.name}': give them distinct names (--model name=DIR)`, { flag: '--model' });
      }
      byName.set(m.name, m);
    }
    return { list: [...models], byName };
  }

  get list(): readonly ServingModel[] {
    return this.state.list;
  }

  get default(): ServingModel {
    return this.state.list[0];
  }

  /** The model a request names (`?model=`), or the default one. */
  pick(name: string | undefined): ServingModel {
    if (name === undefined) return this.state.list[0];
    const m = this.state.byName.get(name);
    if (!m) {
      throw new RecsysError('RECSYS_ERR_MODEL_UNKNOWN', `querystring/model: no served model is named '${name}'. Served: ${[...this.state.byName.keys()].join(', ')}.`, { field: 'model' });
    }
    return m;
  }

  /** Replace every model at once; returns the previous set. */
  swap(models: readonly ServingModel[]): readonly ServingModel[] {
    const previous = this.state.list;
    this.state = ModelSet.index(models);
    return previous;
  }
}

export interface ServingContext {
  config: Readonly<ServingConfig>;
  models: ModelSet;
  service: RecommendationService;
  tiers: RedisTiers;
  metrics: ServingMetrics;
  /** Loads fresh copies of the served models (POST /admin/reload, SIGHUP). */
  reload: () => Promise<ServingModel[]>;
  startedAt: number;
  /** Online experiments (--experiments), or null. */
  experiments: ExperimentManager | null;
}
