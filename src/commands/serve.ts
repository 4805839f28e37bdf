import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { RecsysError } from '../core/errors.js';
import { parseModelSpec, startServing } from '../core/serving/server.js';

export interface ServeResult {
  url: string;
  models: Array<{ name: string; version: string; dir: string | null }>;
  redis: 'ready' | 'down' | 'disabled';
  admin: boolean;
  stoppedBy: string;
  uptimeSeconds: number;
}

export default class Serve extends BaseCommand {
  static override summary = 'Serve trained models over HTTP with the three-tier Redis cache.';

  static override description = `Starts a fastify server answering
  GET  /v1/users/:userId/recommendations?k=&exclude=&category=&model=
  GET  /v1/items/:itemId/similar?k=
  POST /v1/events            (view/click/cart/purchase batches; the user's next list is recomputed)
  GET  /healthz  /readyz  /metrics (Prometheus)  /docs/json (OpenAPI)
and, when RECSYS_ADMIN_TOKEN is set, POST /admin/reload, POST /admin/users/:id/opt-out, DELETE /admin/users/:id.
With --experiments, requests without ?model= are assigned to the arms of the active experiment and
logged (see \`recsys experiments status|export\`).

Lists come from the first tier that has them: in-process LRU, L1 (per-user Redis cache), L2 (written by
\`recsys precompute\`), L3 (computed now). Every response says which tier answered. Without --redis-url
the server runs on the in-process tier and L3 alone; if Redis is down it keeps answering (degraded) and
reconnects by itself. SIGINT/SIGTERM stop it gracefully (requests in flight finish); SIGHUP reloads the
models from disk. See docs/serving.md.`;

  static override examples = [
    '<%= config.bin %> serve --model models/als',
    '<%= config.bin %> serve --model models/als --model models/popularity --redis-url redis://127.0.0.1:6379 --port 8080',
    'RECSYS_ADMIN_TOKEN=s3cret <%= config.bin %> serve --model als=models/als --store recsys.duckdb',
    '<%= config.bin %> serve --model als=models/als --model popularity=models/popularity --redis-url redis://127.0.0.1:6379 --experiments experiments.json',
  ];

  static override flags = {
    model: Flags.string({ char: 'm', description: 'Model artifact directory, or name=DIR; repeat to serve several (the first is the default, others via ?model=name).', multiple: true, required: true }),
    port: Flags.integer({ char: 'p', description: 'Port to listen on (0 = any free port).', default: 8080 }),
    host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
    'redis-url': Flags.string({ description: 'redis://host:port[/db] or redis-cluster://host:port,host:port,…  Leave out to run without Redis.', env: 'REDIS_URL' }),
    store: Flags.string({ description: 'DuckDB store with the products, for the ?category= filter.' }),
    prefix: Flags.string({ description: 'Prefix of every Redis key.', default: 'recsys' }),
    'default-k': Flags.integer({ description: 'List length when a request gives no k.', default: 10 }),
    'max-k': Flags.integer({ description: 'Largest k a request may ask for.', default: 200 }),
    'l1-ttl': Flags.integer({ description: 'Seconds a per-user list lives in the L1 Redis cache.', default: 3600 }),
    'lru-size': Flags.integer({ description: 'Users kept in the in-process LRU (0 = off).', default: 10000 }),
    'lru-ttl-ms': Flags.integer({ description: 'Milliseconds an in-process LRU entry lives.', default: 2000 }),
    'admin-token': Flags.string({ description: 'Bearer token for /admin routes (empty = admin routes off).', env: 'RECSYS_ADMIN_TOKEN', default: '' }),
    log: Flags.boolean({ description: 'Log every request (JSON lines on stdout).', default: false }),
    experiments: Flags.string({ description: 'JSON file of online experiments over the served models (A/B shares or Thompson sampling, canary ramp, guardrail rollback; docs/experiments.md). Reloaded when it changes and on POST /admin/reload.' }),
  };

  async run(): Promise<ServeResult> {
    const { flags } = await this.parse(Serve);
    if (flags.port < 0 || flags.port > 65535) throw new RecsysError('RECSYS_ERR_USAGE', `--port must be between 0 and 65535, got ${flags.port}`, { flag: '--port' });
    const server = await startServing({
      models: flags.model.map(parseModelSpec),
      host: flags.host,
      port: flags.port,
      redisUrl: flags['redis-url'] ?? null,
      store: flags.store ?? null,
      version: this.config.version,
      config: {
        keyPrefix: flags.prefix,
        defaultK: flags['default-k'],
        maxK: flags['max-k'],
        l1TtlSeconds: flags['l1-ttl'],
        lruEntries: flags['lru-size'],
        lruTtlMs: flags['lru-ttl-ms'],
        adminToken: flags['admin-token'],
        logger: flags.log,
        experimentsFile: flags.experiments ?? '',
      },
    });
    const t0 = Date.now();
    const admin = flags['admin-token'] !== '';
    if (this.jsonEnabled()) {
      // One line as soon as the server listens (scripts wait for it), the summary object at exit.
      process.stdout.write(`${JSON.stringify({ listening: server.url, models: server.models.map(({ name, version }) => ({ name, version })) })}\n`);
    } else {
      for (const m of server.models) {
        this.log(`model   ${m.name} ${m.version} (${m.dir})`);
        for (const note of m.notes) this.log(`        note: ${note}`);
      }
      const exp = server.app.recsys.experiments;
      if (exp) this.log(`experiments ${flags.experiments}: ${exp.all.map((e) => e.id).join(', ') || 'none'}; active: ${exp.active ? `${exp.active.id} (${exp.active.config.allocation.mode} over ${exp.active.config.arms.join(', ')})` : 'none'}`);
      this.log(`redis   ${flags['redis-url'] ? `${flags['redis-url']} (${server.redisReady ? 'ready' : 'not reachable yet: serving degraded, reconnecting'})` : 'none (in-process cache and real-time only)'}`);
      this.log(`admin   ${admin ? 'on (Authorization: Bearer $RECSYS_ADMIN_TOKEN)' : 'off (set RECSYS_ADMIN_TOKEN to enable /admin routes)'}`);
      this.log(`listening on ${server.url}  (try ${server.url}/v1/users/<id>/recommendations, ${server.url}/docs/json)`);
    }
    const stoppedBy = await new Promise<string>((done) => {
      const stop = (signal: string) => () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        process.off('SIGHUP', onHup);
        done(signal);
      };
      const onInt = stop('SIGINT');
      const onTerm = stop('SIGTERM');
      const onHup = (): void => {
        server.app.recsys.reloadModels().then(
          (r) => this.say(`reloaded ${r.models.map((m) => `${m.name} ${m.previousVersion} → ${m.version}`).join(', ')}`),
          (e: Error) => process.stderr.write(`reload failed, still serving the previous models: ${e.message}\n`),
        );
      };
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      process.on('SIGHUP', onHup);
    });
    const redis = server.app.recsys.tiers.state;
    this.say(`${stoppedBy}: closing (requests in flight finish first)`);
    await server.close();
    return {
      url: server.url,
      models: server.models.map(({ name, version, dir }) => ({ name, version, dir })),
      redis,
      admin,
      stoppedBy,
      uptimeSeconds: (Date.now() - t0) / 1000,
    };
  }
}
