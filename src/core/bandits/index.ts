/**
 * Bandits and off-policy evaluation: policies (Thompson sampling, ε-greedy, UCB1, LinUCB, linear
 * Thompson sampling, random, fixed distributions), logged-data readers (Open Bandit Dataset and a
 * generic CSV/TSV/JSONL format), estimators (replay, IPS, SNIPS, DM, DR with bootstrap CIs and
 * effective sample sizes), the synthetic online simulator, and the reports of `recsys simulate`.
 */
export * from './policies/index.js';
export { Sampler, betaArgmax, gammaConstants, type SamplerState } from './sampling.js';
export * from './logs/index.js';
export * from './estimators/core.js';
export { fitRewardModel, RewardModel, choleskySolve, type RewardModelKind, type RewardModelOptions, type RewardModelFit } from './estimators/reward-model.js';
export { evaluateOffline, policyEncoder, type OfflineOptions, type OfflineResult, type ReplayCurvePoint } from './offline.js';
export { makeEnv, runSynthetic, writeSyntheticLog, checkpointsFor, type SyntheticEnv, type EnvOptions, type PolicySpec, type SyntheticOptions, type SyntheticResult, type SyntheticPolicyResult, type Band } from './simulate.js';
export * from './report.js';
export { runSimulation, type SimulateRunOptions, type SimulateRunResult, type SyntheticRunOptions, type LoggedRunOptions } from './workflow.js';
