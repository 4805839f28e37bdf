/**
 * The library's public surface: `import { openStore, ingestMovieLens, loadInteractionMatrix,
 * splitMatrix, parseSplitSpec, Popularity, evaluate } from 'recsys'`. Re-exports only; every
 * command of the CLI is a thin layer over these.
 */
export { RecsysError, isRecsysError, ERROR_CODES, type RecsysErrorCode, type RecsysErrorData } from './core/errors.js';
export { Rng } from './core/rng.js';
export { TopK, topKDense } from './core/topk.js';

// Data: store, ingest, matrix, splits, synthetic data
export { openStore, Store, type StoreStats } from './core/data/store.js';
export {
  ingestInteractions,
  ingestProducts,
  ingestUsers,
  type IngestResult,
  type InteractionIngestOptions,
  type ProductIngestOptions,
  type UserIngestOptions,
  type RejectedRow,
} from './core/data/ingest/index.js';
export { ingestMovieLens, type MovieLensVariant } from './core/data/ingest/movielens.js';
export { ingestSynth } from './core/data/ingest/synth.js';
export { loadInteractionMatrix, loadItemMetadata, loadProducts, type MatrixOptions, type ValueMode, type ProductRow } from './core/data/load-matrix.js';
export { InteractionMatrix, IdMap, transposeCsr, type CsrRows, type CsrData } from './core/data/matrix.js';
export { splitMatrix, parseSplitSpec, saveSplit, loadSplit, exportSplitTsv, splitStats } from './core/data/split.js';
export type { Split, SplitConfig } from './core/data/split-types.js';
export { generateSynth, SYNTH_PRESETS, type SynthOptions, type SynthResult } from './core/data/synth.js';

// Models
export type { Recommender, Rankings, FitOptions, FitReport, RecommendOptions, Progress, ModelFactory } from './core/models/recommender.js';
export { silentProgress, emptyRankings } from './core/models/recommender.js';
export { createModel, loadModel, modelNames, modelFactory, registerModel } from './core/models/registry.js';
export { resolveParams, parseParamList, type ParamSchema } from './core/models/params.js';
export { Popularity, POPULARITY_PARAMS } from './core/models/popularity.js';
export { AlsModel, AlsModel as ALS, alsFactory, ALS_PARAMS, type AlsParams, type AlsFitReport, type ExplainResult } from './core/models/als/als.js';
export { exportFactorsParquet, importFactorsParquet } from './core/models/als/parquet.js';
export { closeAlsPool } from './core/models/als/pool.js';
export { ContentModel, contentFactory, CONTENT_PARAMS, STRATEGIES, type CatalogItem } from './core/models/content.js';
export { Featurizer } from './core/features/featurizer.js';
export { Tokenizer, porterStem } from './core/features/tokenize.js';
export { TfidfVectorizer } from './core/features/tfidf.js';
export { randomizedSvd } from './core/features/svd.js';
export { loadOnnxTextEncoder, type TextEncoder } from './core/features/text-encoder.js';
export type { CatalogAware, CatalogRow } from './core/models/recommender.js';
export { saveArtifact, loadArtifact, readManifest, type Manifest } from './core/artifacts.js';

// Evaluation, statistics, gate, reports
export { evaluate, evaluateRankings, compareEvaluations, resolveEvalOptions, DEFAULT_EVAL_OPTIONS } from './core/eval/evaluate.js';
export * as metrics from './core/eval/metrics.js';
export { bootstrapMeanCI, pairedTTest, randomizationTest, comparePaired, studentTCdf } from './core/eval/stats.js';
export { gate, parseMaxDrop, defaultGateRules, formatGateTable, gateFailure, loadReport } from './core/eval/gate.js';
export type { EvalOptions, EvaluationResult, MetricSummary, PairedComparison, Report, GateRule, GateResult } from './core/eval/types.js';
export { writeReport, newRunId, readReport, renderHtml, renderMarkdown, type ReportPaths } from './core/report/index.js';

// Workflows (what the CLI commands call)
export { trainModel, type TrainOptions, type TrainResult } from './core/workflows/train.js';
export { runEvaluation, type EvalRunOptions, type EvalRunResult } from './core/workflows/eval.js';
export { resolveSplit } from './core/workflows/split.js';
export { ingestPath } from './core/workflows/ingest.js';
export { runQuickstart } from './core/workflows/quickstart.js';
export * as bandits from './core/bandits/index.js';

// Ensemble, business rules, cold-start routing
export { EnsembleModel, ensembleFactory, parseMemberWeights, ENSEMBLE_PARAMS } from './core/models/ensemble/ensemble.js';
export { Router, DemographicSegments, chooseStrategy } from './core/router.js';
export * as rerank from './core/rerank/index.js';
export { runAblation, diversityCurve } from './core/eval/ablation.js';
export { segmentMetrics } from './core/eval/segments.js';

// Serving
export { buildApp } from './core/serving/app.js';
export { ServingModel } from './core/serving/model.js';
export { startServing } from './core/serving/server.js';
export { runPrecompute } from './core/serving/precompute.js';
export { createRedisClient } from './core/serving/cache/redis.js';
export { IvfIndex } from './core/serving/ann.js';
export { planCapacity } from './core/serving/capacity.js';

// Serving: the event stream folded into the store (`recsys ingest --from-stream`)
export { ingestStream, readStreamCheckpoint, streamCheckpointKey, type StreamIngestOptions, type StreamIngestResult, type StreamReject } from './core/workflows/ingest-stream.js';

// Scale: the scaling benchmark, its cost model, and the Spark ALS hand-off
export { runScaleBenchmark, parseSizes, sizeSpec, type ScaleReport, type ScaleBenchmarkOptions, type ShardRun } from './core/scale/benchmark.js';
export { runScaleSize, type ScaleSizeResult, type StageRecord } from './core/scale/size-run.js';
export { fitPowerLaw, fitStages, type PowerFit, type StageFit } from './core/scale/cost.js';
export { projectScale, type ScaleProjection, type ScaleTarget } from './core/scale/projection.js';
export { writeScaleReport, scaleMarkdown } from './core/scale/report.js';
export { exportForSparkAls, importSparkAlsFactors, writeSparkAlsLayout, type SparkExportResult } from './core/scale/spark.js';

// Online experiments in `recsys serve`: A/B and Thompson allocation over served models, canary, guardrails, export
export { parseExperimentsConfig, loadExperimentsFile, type ExperimentConfig, type ExperimentsConfig } from './core/experiments/config.js';
export { ExperimentEngine, hash01, type Assignment, type ArmView, type EngineView, type RollbackInfo } from './core/experiments/engine.js';
export { ExperimentManager, type ExperimentManagerOptions, type ExperimentsReloadReport } from './core/experiments/manager.js';
export { ExperimentStore, directCall, type RedisCall } from './core/experiments/store.js';
export { guardrailTest, wilson, type SequentialTest } from './core/experiments/stats.js';
export { experimentStatus, type ExperimentStatus } from './core/experiments/status.js';
export { renderExperimentsHtml } from './core/experiments/html.js';
export { exportExperimentLog, type ExportResult } from './core/experiments/export.js';
export { simulateTraffic, type TrafficOptions, type TrafficResult } from './core/experiments/simulate.js';
