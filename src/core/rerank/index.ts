/**
 * Business-rule reranking: pure rule functions (rules.ts), their validated configuration
 * (config.ts) and the ordered pipeline that applies them and records what each changed (pipeline.ts).
 */
export * from './types.js';
export * from './rules.js';
export * from './config.js';
export * from './pipeline.js';
