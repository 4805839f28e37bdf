/**
 * The experiments of one server: loads the experiments file (validated against the served model
 * names), runs one ExperimentEngine per experiment with a refresh timer each, reloads the file when
 * it changes (fs.watch on its folder, so an editor's atomic rename is seen) or on demand
 * (POST /admin/reload), and keeps the previous experiments when a new file is invalid.
 *
 * The serving routes use it as follows:
 *  - GET recommendations without ?model=: `active.assign(user)` → serve that arm's model → if the
 *    user opted out (the list says 'opted-out-popularity'), serve the control instead and log
 *    nothing; otherwise `recordImpression` (queued: the response does not wait for Redis);
 *  - POST /v1/events: `attribute(events)`;
 *  - DELETE /admin/users/:id: `purgeUser(id)`.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { loadExperimentsFile, type ExperimentsConfig } from './config.js';
import { ExperimentEngine, type Assignment, type EngineView } from './engine.js';
import { ExperimentMetrics } from './metrics.js';
import { ExperimentStore, type RedisCall } from './store.js';

export type ExperimentLog = (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;

export interface ExperimentManagerOptions {
  /** The experiments file; or `config` for one given in memory (tests, benchmarks). */
  file?: string | null;
  config?: ExperimentsConfig | null;
  call: RedisCall;
  keyPrefix: string;
  /** Names of the served models, read at every (re)load. */
  servedModels: () => readonly string[];
  registry?: Registry | null;
  log?: ExperimentLog;
  /** Reload when the file changes (default true when a file is given). */
  watch?: boolean;
  /** Run the refresh timers (default true); off, the caller drives `tick()` (simulations). */
  timers?: boolean;
  now?: () => number;
}

export interface ExperimentEvent {
  userId: string;
  itemId: string;
  type: string;
  requestId?: string | null;
  tsMs: number;
}

export interface ExperimentsReloadReport {
  source: string | null;
  experiments: string[];
  active: string | null;
  /** Set when the file could not be loaded (the previous experiments keep running). */
  error?: string;
}

export class ExperimentManager {
  readonly store: ExperimentStore;
  readonly metrics: ExperimentMetrics | null;
  private engines: ExperimentEngine[] = [];
  private activeEngine: ExperimentEngine | null = null;
  private timers: NodeJS.Timeout[] = [];
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: ExperimentLog;
  private source: string | null;

  private constructor(private readonly opts: ExperimentManagerOptions) {
    this.store = new ExperimentStore(opts.call, opts.keyPrefix);
    this.metrics = opts.registry ? new ExperimentMetrics(opts.registry, () => this.views()) : null;
    this.log = opts.log ?? ((level, message) => process.stderr.write(`[experiments] ${level}: ${message}\n`));
    this.source = opts.file ? resolve(opts.file) : null;
    const metrics = this.metrics;
    if (metrics) {
      this.store.onWritten = (experiment, perArm, ok) => {
        for (const [arm, n] of perArm) metrics.impressionsLogged.inc({ experiment, arm, result: ok ? 'ok' : 'failed' }, n);
      };
    }
  }

  /** Load, publish the configs to Redis, read the shared state once, start timers and the watcher. */
  static async start(opts: ExperimentManagerOptions): Promise<ExperimentManager> {
    const m = new ExperimentManager(opts);
    const config = opts.config ?? loadExperimentsFile(m.source!, opts.servedModels());
    m.metrics?.configReloads.inc({ result: 'ok' });
    await m.install(config);
    if (m.source && (opts.watch ?? true)) m.watchFile(m.source);
    return m;
  }

  get active(): ExperimentEngine | null {
    return this.activeEngine;
  }

  get all(): readonly ExperimentEngine[] {
    return this.engines;
  }

  views(): EngineView[] {
    return this.engines.map((e) => e.view());
  }

  private async install(config: ExperimentsConfig): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const engines = config.experiments.map(
      (c) =>
        new ExperimentEngine(c, this.store, {
          now: this.opts.now,
          log: (level, message, data) => this.log(level, message, data),
          onRollback: (info) => this.metrics?.rollbacks.inc({ experiment: c.id, arm: info.arm }),
        }),
    );
    const now = (this.opts.now ?? Date.now)();
    for (const e of engines) {
      await this.store.register(e.id, JSON.stringify(e.config), e.config.canary?.arm ?? null, now);
      await e.tick();
    }
    this.engines = engines;
    this.activeEngine = engines.find((e) => e.config.enabled) ?? null;
    if (this.opts.timers ?? true) {
      for (const e of engines) {
        const t = setInterval(() => {
          void e.tick().catch((err: Error) => this.log('error', `experiment ${e.id}: refresh failed: ${err.message}`));
        }, e.config.refreshMs);
        t.unref();
        this.timers.push(t);
      }
    }
  }

  /** Re-read the file; on error keep the running experiments and rethrow. */
  async reload(): Promise<ExperimentsReloadReport> {
    if (this.source) {
      let config: ExperimentsConfig;
      try {
        config = loadExperimentsFile(this.source, this.opts.servedModels());
      } catch (e) {
        this.metrics?.configReloads.inc({ result: 'error' });
        throw e;
      }
      await this.install(config);
      this.metrics?.configReloads.inc({ result: 'ok' });
    }
    return this.summary();
  }

  summary(): ExperimentsReloadReport {
    return { source: this.source, experiments: this.engines.map((e) => e.id), active: this.activeEngine?.id ?? null };
  }

  private watchFile(path: string): void {
    if (!existsSync(dirname(path))) return;
    const name = basename(path);
    this.watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        if (this.closed || !existsSync(path)) return;
        this.reload().then(
          (r) => this.log('info', `reloaded ${path}: ${r.experiments.length} experiment(s), active: ${r.active ?? 'none'}`),
          (e: Error) => this.log('error', `${e.message} — still running the previous experiments`),
        );
      }, 100);
      this.debounce.unref();
    });
    this.watcher.unref();
  }

  async tickAll(): Promise<void> {
    for (const e of this.engines) await e.tick();
  }

  /**
   * Log an impression of the active experiment (queued: the request does not wait; the metrics
   * count it, ok or failed, when its batch is written).
   */
  recordImpression(a: Assignment, userId: string, requestId: string, itemIds: readonly string[]): void {
    const engines = this.engines;
    for (let i = 0; i < engines.length; i++) {
      if (engines[i].id === a.experiment) {
        engines[i].queueImpression(a, userId, requestId, itemIds);
        return;
      }
    }
    this.metrics?.impressionsLogged.inc({ experiment: a.experiment, arm: a.arm, result: 'failed' });
  }

  /** Attribute events to impressions of the active experiment; returns rewards counted. */
  async attribute(events: readonly ExperimentEvent[]): Promise<number> {
    const e = this.activeEngine;
    if (!e) return 0;
    let counted = 0;
    for (const ev of events) {
      for (const r of await e.attribute(ev)) {
        counted++;
        this.metrics?.rewards.inc({ experiment: e.id, kind: r.kind });
      }
    }
    return counted;
  }

  /** Deletion: purge the user's impressions and rewards from every experiment. */
  async purgeUser(userId: string): Promise<{ logEntries: number; keys: number } | undefined> {
    let logEntries = 0;
    let keys = 0;
    for (const e of this.engines) {
      const r = await this.store.purgeUser(e.id, userId);
      if (!r) return undefined;
      logEntries += r.logEntries;
      keys += r.keys;
    }
    return { logEntries, keys };
  }

  /** Stop timers and the watcher; queued impressions are written (flush) before it resolves. */
  close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = null;
    return this.store.flush();
  }
}
