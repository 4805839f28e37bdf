/**
 * The HTTP API through app.inject(), without Redis (in-process LRU + L3), on the hand-checked
 * tiny models of fixtures.ts: whole response bodies, cold start, similar items, events changing
 * the next list, 400s naming the field, OpenAPI, health, metrics and the admin routes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/core/serving/app.js';
import { STRATEGIES } from '../../src/core/serving/cache/codec.js';
import { EVENT_TYPES, resolveServingConfig } from '../../src/core/serving/config.js';
import type { AlsModel } from '../../src/core/models/als/als.js';
import { tinyAls, tinyPopularity } from './fixtures.js';

let app: FastifyInstance;

before(async () => {
  app = await buildApp({ models: [tinyAls(), await tinyPopularity()], config: { processMetrics: false } });
});

after(async () => {
  await app.close();
});

const get = async (url: string) => {
  const r = await app.inject(url);
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};

test('a known user: the model\'s list minus training items, with reasons; the repeat comes from the LRU', async () => {
  // u0 = [1, 0]: scores i0 1 (seen), i1 0, i2 1, i3 2, i4 0. Nearest history item of i3 and i2 is i0.
  const expected = {
    userId: 'u0',
    model: 'als',
    modelVersion: 'als-test',
    strategy: 'personalized',
    tier: 'l3',
    k: 2,
    items: [
      { itemId: 'i3', score: 2, reasons: [{ kind: 'similar-to', itemId: 'i0' }] },
      { itemId: 'i2', score: 1, reasons: [{ kind: 'similar-to', itemId: 'i0' }] },
    ],
  };
  assert.deepEqual(await get('/v1/users/u0/recommendations?k=2'), { status: 200, body: expected });
  assert.deepEqual(await get('/v1/users/u0/recommendations?k=2'), { status: 200, body: { ...expected, tier: 'lru' } });
});

test('ties are broken by the smaller item index, and k defaults to 10 (every unseen item)', async () => {
  // u1 = [0, 1], seen i1 and i4: i2 1, then i0 and i3 tie at 0.
  const r = await get('/v1/users/u1/recommendations');
  assert.equal(r.status, 200);
  assert.equal(r.body.k, 10);
  assert.deepEqual(
    (r.body.items as Array<{ itemId: string; score: number }>).map((x) => [x.itemId, x.score]),
    [['i2', 1], ['i0', 0], ['i3', 0]],
  );
});

test('an unknown user is a cold-start user (training counts), not a 404', async () => {
  // Training counts: i0 1, i1 1, i2 1, i3 0, i4 1.
  assert.deepEqual(await get('/v1/users/stranger/recommendations?k=3'), {
    status: 200,
    body: {
      userId: 'stranger',
      model: 'als',
      modelVersion: 'als-test',
      strategy: 'cold-start-popularity',
      tier: 'l3',
      k: 3,
      items: [
        { itemId: 'i0', score: 1, reasons: [{ kind: 'popular' }] },
        { itemId: 'i1', score: 1, reasons: [{ kind: 'popular' }] },
        { itemId: 'i2', score: 1, reasons: [{ kind: 'popular' }] },
      ],
    },
  });
  // A second unknown user shares the cold-start list in the LRU.
  const again = await get('/v1/users/another-stranger/recommendations?k=3');
  assert.equal(again.body.tier, 'lru');
  assert.equal(again.body.userId, 'another-stranger');
});

test('exclude= and category= filter the list', async () => {
  const ex = await get('/v1/users/u0/recommendations?k=2&exclude=i3,unknown-item');
  assert.deepEqual((ex.body.items as Array<{ itemId: string }>).map((x) => x.itemId), ['i2', 'i1']);
  const cat = await get('/v1/users/u0/recommendations?k=5&category=b');
  assert.deepEqual((cat.body.items as Array<{ itemId: string; score: number }>).map((x) => [x.itemId, x.score]), [['i3', 2], ['i1', 0]]);
  const none = await get('/v1/users/u0/recommendations?k=5&category=no-such-category');
  assert.deepEqual(none.body.items, []);
});

test('?model= picks another served model', async () => {
  assert.deepEqual(await get('/v1/users/u0/recommendations?k=2&model=popularity'), {
    status: 200,
    body: {
      userId: 'u0',
      model: 'popularity',
      modelVersion: 'popularity-test',
      strategy: 'personalized',
      tier: 'l3',
      k: 2,
      items: [
        { itemId: 'i1', score: 1, reasons: [{ kind: 'popular' }] },
        { itemId: 'i2', score: 1, reasons: [{ kind: 'popular' }] },
      ],
    },
  });
});

test('similar items: cosine of item factors (ALS), co-occurrence otherwise; unknown item is a 404', async () => {
  const r = await get('/v1/items/i0/similar?k=2');
  assert.equal(r.status, 200);
  const body = r.body as { items: Array<{ itemId: string; score: number }> };
  assert.deepEqual({ ...body, items: [] }, { itemId: 'i0', model: 'als', modelVersion: 'als-test', strategy: 'item-similarity', tier: 'l3', k: 2, items: [] });
  assert.deepEqual(body.items.map((x) => x.itemId), ['i3', 'i2']);
  assert.ok(Math.abs(body.items[0].score - 1) < 1e-6);
  assert.ok(Math.abs(body.items[1].score - Math.SQRT1_2) < 1e-6);
  assert.equal((await get('/v1/items/i0/similar?k=2')).body.tier, 'lru');

  // Popularity has no item vectors: co-occurrence over the training rows. i1 and i4 share user u1 only.
  const co = await get('/v1/items/i1/similar?k=3&model=popularity');
  assert.deepEqual(co.body, { itemId: 'i1', model: 'popularity', modelVersion: 'popularity-test', strategy: 'co-occurrence', tier: 'l3', k: 3, items: [{ itemId: 'i4', score: 1 }] });

  const missing = await get('/v1/items/nope/similar');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'RECSYS_ERR_UNKNOWN_ITEM');
  assert.match(String(missing.body.message), /'nope'/);
});

test('a purchase changes the very next list: ALS fold-in of history + the event, the item excluded', async () => {
  const before = await get('/v1/users/u2/recommendations?k=3');
  assert.equal(before.body.strategy, 'personalized');
  const t0 = performance.now();
  const post = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u2', itemId: 'i3', type: 'purchase', timestamp: '2026-01-02T03:04:05Z' }] } });
  assert.equal(post.statusCode, 202);
  assert.deepEqual(post.json(), { accepted: 1, persisted: false, users: 1 });
  const afterEvent = await get('/v1/users/u2/recommendations?k=3');
  const ms = performance.now() - t0;
  // Oracle: the model's own fold-in on history {i2: 1} + purchase {i3: 8}, both excluded.
  const als = app.recsys.models.default.recommender as AlsModel;
  const vector = als.recalculateUser(Int32Array.of(2, 3), Float32Array.of(1, 8));
  const oracle = await als.recommendForVector(vector, 3, Int32Array.of(2, 3));
  const expectedItems = Array.from(oracle.items).filter((i) => i >= 0).map((i) => `i${i}`);
  const body = afterEvent.body as { strategy: string; tier: string; items: Array<{ itemId: string; score: number }> };
  assert.equal(body.strategy, 'realtime');
  assert.equal(body.tier, 'l3');
  assert.deepEqual(body.items.map((x) => x.itemId), expectedItems);
  assert.ok(!expectedItems.includes('i3'), 'the purchased item is not recommended again');
  assert.notDeepEqual(body.items, before.body.items);
  body.items.forEach((x, r) => assert.ok(Math.abs(x.score - oracle.scores[r]) < 1e-6));
  process.stderr.write(`# event → changed list (POST + GET, in process): ${ms.toFixed(2)} ms\n`);
});

test('a popularity model without fold-in excludes the newly bought item', async () => {
  await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u0', itemId: 'i1', type: 'purchase' }] } });
  const r = await get('/v1/users/u0/recommendations?k=2&model=popularity');
  assert.equal(r.body.strategy, 'realtime');
  assert.deepEqual((r.body.items as Array<{ itemId: string }>).map((x) => x.itemId), ['i2', 'i4']);
});

test('an unknown user with events gets a fold-in list, not the cold-start one', async () => {
  await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'newcomer', itemId: 'i1', type: 'view' }, { userId: 'newcomer', itemId: 'i1', type: 'cart' }] } });
  const r = await get('/v1/users/newcomer/recommendations?k=2');
  assert.equal(r.body.strategy, 'realtime');
  // x solves against i1 = [0, 1] only: the best unseen items point along the 2nd factor: i2 (1·x2), then i4 (.5·x2).
  assert.deepEqual((r.body.items as Array<{ itemId: string }>).map((x) => x.itemId), ['i2', 'i4']);
});

test('malformed requests are 400s whose message names the field', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/v1/users/u0/recommendations?k=0', /querystring\/k must be >= 1/],
    ['/v1/users/u0/recommendations?k=abc', /querystring\/k must be integer/],
    ['/v1/users/u0/recommendations?k=201', /querystring\/k must be <= 200/],
    ['/v1/users/u0/recommendations?model=nope', /querystring\/model.*'nope'/],
    ['/v1/users/u0/recommendations?category=', /querystring\/category/],
  ];
  for (const [url, message] of cases) {
    const r = await get(url);
    assert.equal(r.status, 400, url);
    assert.match(String(r.body.message), message, url);
  }
  const bodies: Array<[unknown, RegExp]> = [
    [{}, /body must have required property 'events'/],
    [{ events: [] }, /body\/events must NOT have fewer than 1 items/],
    [{ events: [{ userId: 'u0', itemId: 'i1', type: 'buy' }] }, /body\/events\/0\/type must be equal to one of the allowed values/],
    [{ events: [{ userId: 'u0', type: 'view' }] }, /body\/events\/0 must have required property 'itemId'/],
    [{ events: [{ userId: 'u0', itemId: 'i1', type: 'view', timestamp: 'yesterday' }] }, /body\/events\/0\/timestamp must match format "date-time"/],
    [{ events: [{ userId: 'a\tb', itemId: 'i1', type: 'view' }] }, /body\/events\/0\/userId must match pattern/],
  ];
  for (const [payload, message] of bodies) {
    const r = await app.inject({ method: 'POST', url: '/v1/events', payload: payload as object });
    assert.equal(r.statusCode, 400, JSON.stringify(payload));
    assert.equal(r.json().code, 'FST_ERR_VALIDATION');
    assert.match(r.json().message, message, JSON.stringify(payload));
  }
});

test('/healthz, /readyz (Redis disabled), /metrics and the OpenAPI document', async () => {
  const health = await get('/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.deepEqual({ ...ready.body, models: (ready.body.models as Array<Record<string, unknown>>).map(({ loadedAt: _, ...m }) => m) }, {
    status: 'ready',
    redis: 'disabled',
    redisErrors: 0,
    pendingEvents: 0,
    models: [
      { name: 'als', version: 'als-test', kind: 'als', users: 3, items: 5 },
      { name: 'popularity', version: 'popularity-test', kind: 'popularity', users: 3, items: 5 },
    ],
  });
  const metrics = await app.inject('/metrics');
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  assert.match(metrics.body, /recsys_cache_lookups_total\{tier="lru",result="hit"\} [1-9]/);
  assert.match(metrics.body, /recsys_model_info\{model="als",version="als-test"\} 1/);
  assert.match(metrics.body, /recsys_events_ingested_total\{type="purchase"\} 2/);
  assert.match(metrics.body, /recsys_recommendation_duration_seconds_count\{tier="l3"\} [1-9]/);
  assert.match(metrics.body, /recsys_http_request_duration_seconds_count\{route="\/v1\/users\/:userId\/recommendations",method="GET",status="200"\} [1-9]/);
  assert.match(metrics.body, /recsys_redis_up 0/);

  const doc = (await get('/docs/json')).body as { openapi: string; paths: Record<string, Record<string, { parameters?: Array<{ name: string; required?: boolean }> }>> };
  assert.equal(doc.openapi, '3.0.3');
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/healthz', '/metrics', '/readyz', '/v1/events', '/v1/items/{itemId}/similar', '/v1/users/{userId}/recommendations']);
  const params = doc.paths['/v1/users/{userId}/recommendations'].get.parameters!;
  assert.deepEqual(params.map((p) => [p.name, p.required ?? false]).sort(), [['category', false], ['exclude', false], ['k', false], ['model', false], ['userId', true]]);
});

test('the schema enums list exactly the codec strategies and event types', async () => {
  const doc = (await get('/docs/json')).body as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, { enum?: string[] }> } }> }>; requestBody?: { content: Record<string, { schema: { properties: { events: { items: { properties: { type: { enum: string[] } } } } } } }> } }>> };
  const rec = doc.paths['/v1/users/{userId}/recommendations'].get.responses['200'].content['application/json'].schema;
  assert.deepEqual(rec.properties.strategy.enum, [...STRATEGIES]);
  const ev = doc.paths['/v1/events'].post.requestBody!.content['application/json'].schema;
  assert.deepEqual(ev.properties.events.items.properties.type.enum, [...EVENT_TYPES]);
});

test('admin routes: absent without a token; 401 without the right bearer; reload swaps atomically', async () => {
  assert.equal((await app.inject({ method: 'POST', url: '/admin/reload' })).statusCode, 404);

  let version = 1;
  const admin = await buildApp({
    models: [tinyAls('als-v1')],
    config: { adminToken: 's3cret', processMetrics: false },
    loadModels: async () => [tinyAls(`als-v${++version}`)],
  });
  try {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret' }]) {
      const r = await admin.inject({ method: 'POST', url: '/admin/reload', headers });
      assert.equal(r.statusCode, 401);
      assert.equal(r.json().code, 'RECSYS_ERR_UNAUTHORIZED');
    }
    const auth = { authorization: 'Bearer s3cret' };
    assert.equal((await admin.inject('/v1/users/u0/recommendations?k=1')).json().modelVersion, 'als-v1');
    const reload = await admin.inject({ method: 'POST', url: '/admin/reload', headers: auth });
    assert.equal(reload.statusCode, 200);
    assert.deepEqual(reload.json().models, [{ name: 'als', version: 'als-v2', previousVersion: 'als-v1' }]);
    const afterReload = await admin.inject('/v1/users/u0/recommendations?k=1');
    assert.equal(afterReload.json().modelVersion, 'als-v2');
    assert.equal(afterReload.json().tier, 'l3', 'the list cached for als-v1 is not served for als-v2');
    // Requests racing a reload all succeed, each on the model it picked up.
    const racing = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => admin.inject(`/v1/users/u${i % 3}/recommendations?k=2`)),
      admin.inject({ method: 'POST', url: '/admin/reload', headers: auth }),
      ...Array.from({ length: 20 }, (_, i) => admin.inject(`/v1/users/u${i % 3}/recommendations?k=3`)),
    ]);
    assert.deepEqual(new Set(racing.map((r) => r.statusCode)), new Set([200]));
    assert.equal((await admin.inject('/v1/users/u0/recommendations?k=1')).json().modelVersion, 'als-v3');

    const opt = await admin.inject({ method: 'POST', url: '/admin/users/u0/opt-out', headers: auth, payload: { optOut: true } });
    assert.deepEqual(opt.json(), { userId: 'u0', optedOut: true, persisted: false });
    const optedOut = await admin.inject('/v1/users/u0/recommendations?k=2');
    assert.deepEqual(optedOut.json().items.map((x: { itemId: string }) => x.itemId), ['i0', 'i1'], 'non-personalised: popularity, history not even excluded');
    assert.equal(optedOut.json().strategy, 'opted-out-popularity');
    await admin.inject({ method: 'POST', url: '/admin/users/u0/opt-out', headers: auth, payload: { optOut: false } });
    assert.equal((await admin.inject('/v1/users/u0/recommendations?k=2')).json().strategy, 'personalized');

    const badBody = await admin.inject({ method: 'POST', url: '/admin/users/u0/opt-out', headers: auth, payload: { optOut: 'maybe' } });
    assert.equal(badBody.statusCode, 400);
    assert.match(badBody.json().message, /body\/optOut must be boolean/);

    await admin.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ userId: 'u0', itemId: 'i3', type: 'purchase' }] } });
    const del = await admin.inject({ method: 'DELETE', url: '/admin/users/u0', headers: auth });
    assert.deepEqual(del.json(), { userId: 'u0', persisted: false, purged: {} });
    assert.equal((await admin.inject('/v1/users/u0/recommendations?k=2')).json().strategy, 'personalized', 'the live history is gone');
  } finally {
    await admin.close();
  }
});

test('config: defaults from the schema, errors name the option', () => {
  const c = resolveServingConfig({});
  assert.equal(c.l1TtlSeconds, 3600);
  assert.equal(c.defaultK, 10);
  assert.ok(Object.isFrozen(c));
  assert.throws(() => resolveServingConfig({ l1TtlSeconds: 0 }), /'l1TtlSeconds' must be >= 1/);
  assert.throws(() => resolveServingConfig({ keyPrefix: 'has space' }), /'keyPrefix' must match pattern/);
  assert.throws(() => resolveServingConfig({ nope: 1 } as never), /unknown serving option 'nope'/);
  assert.throws(() => resolveServingConfig({ defaultK: 50, maxK: 20 }), /'defaultK' \(50\) is larger than 'maxK' \(20\)/);
});
