/**
 * Online experiments in `recsys serve`: A/B allocation by sticky hashing or Thompson sampling over
 * the served models, a canary ramp, impressions and attributed rewards logged to Redis (shared
 * posteriors), always-valid guardrails with automatic rollback, live statistics, and the export of
 * the log in the logged-bandit format `recsys simulate --logged` evaluates. See docs/experiments.md.
 */
export { parseExperimentsConfig, loadExperimentsFile, ExperimentSchema, ExperimentsFileSchema, type ExperimentConfig, type ExperimentsConfig } from './config.js';
export { ExperimentEngine, hash01, type Assignment, type ArmView, type CanaryView, type EngineView, type RollbackInfo } from './engine.js';
export { ExperimentManager, type ExperimentManagerOptions, type ExperimentEvent, type ExperimentsReloadReport } from './manager.js';
export { ExperimentStore, ExperimentKeys, directCall, type RedisCall } from './store.js';
export { guardrailTest, wilson, type ArmCounts, type SequentialTest, type GuardrailParams } from './stats.js';
export { experimentStatus, seriesOf, type ExperimentStatus, type SeriesPoint } from './status.js';
export { renderExperimentsHtml } from './html.js';
export { exportExperimentLog, type ExportOptions, type ExportResult } from './export.js';
export { simulateTraffic, type TrafficOptions, type TrafficResult } from './simulate.js';
export { withExperimentStore } from './connect.js';
