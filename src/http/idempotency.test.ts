// Proves that a POST with an Idempotency-Key runs once: retries replay its response, a reused or busy key is refused without running anything, and a 5xx frees the key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import { loadConfig } from '../config.js';
import { ManualClock } from '../domain/clock.js';
import { CountersignError } from '../domain/errors.js';
import { IdempotencyRepository } from '../store/idempotency-repository.js';
import { buildApp } from './app.js';
import type { RoutePlugin } from './dependencies.js';
import { canonicalJson, runWithIdempotencyKey } from './idempotency.js';

/** Handler runs per route, and the keys handlers saw. */
const runs = { transfers: 0, flaky: 0, slow: 0, deferred: 0 };
const seenKeys: (string | undefined)[] = [];
let flakyFailuresLeft = 0;
let slowGate: { entered: () => void; proceed: Promise<void> } | undefined;

const transferBody = Type.Object(
  { amount: Type.Integer({ minimum: 1 }), memo: Type.Optional(Type.String({ default: 'none' })) },
  { additionalProperties: false },
);

const testRoutes: RoutePlugin = (app) => {
  const transferred = Type.Object(
    { run: Type.Integer(), amount: Type.Integer(), memo: Type.Optional(Type.String()) },
    { additionalProperties: false },
  );
  app.post(
    '/v1/transfers',
    { schema: { body: transferBody, response: { 201: transferred } } },
    async (request, reply) => {
      runs.transfers += 1;
      seenKeys.push(request.idempotencyKey);
      if (request.body.amount > 1000) throw new CountersignError('insufficient_funds');
      return reply
        .code(201)
        .send({ run: runs.transfers, amount: request.body.amount, memo: request.body.memo });
    },
  );
  app.post('/v1/flaky', async () => {
    runs.flaky += 1;
    if (flakyFailuresLeft > 0) {
      flakyFailuresLeft -= 1;
      throw new Error('database connection lost');
    }
    return { run: runs.flaky };
  });
  app.post('/v1/slow', async () => {
    runs.slow += 1;
    const gate = slowGate;
    if (gate !== undefined) {
      gate.entered();
      await gate.proceed;
    }
    return { run: runs.slow };
  });
  app.get('/v1/transfers', async () => ({ listed: true }));
  // A route that claims its key in its operation, as payments do; what the operation does is chosen by path.
  app.post<{ Params: { mode: string } }>(
    '/v1/deferred/:mode',
    { config: { idempotencyInOperation: true } },
    async (request, reply) => {
      const { mode } = request.params;
      if (mode === 'refuse-outside') throw new CountersignError('insufficient_funds');
      const run = await runWithIdempotencyKey(request, reply, async () => {
        runs.deferred += 1;
        if (mode === 'refuse-inside') throw new CountersignError('insufficient_funds');
        return { run: runs.deferred };
      });
      return run.replayed ? reply : run.value;
    },
  );
};

describe.each(testEngines())('idempotent POST on %s', (engine) => {
  let test: TestDatabase;
  let app: FastifyInstance;
  const clock = new ManualClock();

  beforeAll(async () => {
    test = await openTestDatabase(engine);
    app = await buildApp({
      config: loadConfig({ LOG_LEVEL: 'silent' }),
      database: test.database,
      idempotencyStore: new IdempotencyRepository(test.database),
      clock,
      logger: false,
      routes: [testRoutes],
    });
  });
  afterAll(async () => {
    await app.close();
    await test.dispose();
  });
  beforeEach(async () => {
    runs.transfers = 0;
    runs.flaky = 0;
    runs.slow = 0;
    runs.deferred = 0;
    seenKeys.length = 0;
    flakyFailuresLeft = 0;
    slowGate = undefined;
    await test.database.query('DELETE FROM idempotency_keys');
  });

  function post(
    url: string,
    key: string | undefined,
    payload: unknown,
    extra: InjectOptions['headers'] = {},
  ) {
    const headers = {
      'content-type': 'application/json',
      ...extra,
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    };
    return app.inject({
      method: 'POST',
      url,
      headers,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  async function storedKeys(): Promise<number> {
    const rows = await test.database.query<{ count: bigint }>(
      'SELECT count(*) AS count FROM idempotency_keys',
    );
    return Number(rows[0]!.count);
  }

  it('replays the first response to a retry and runs the handler once', async () => {
    const first = await post('/v1/transfers', 'key-1', { amount: 5, memo: 'rent' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same request, other key order and whitespace: still the same request.
    const retry = await post('/v1/transfers', 'key-1', '{ "memo": "rent",  "amount": 5 }');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(retry.body).toBe(first.body);
    expect(retry.headers['x-content-type-options']).toBe('nosniff');
    expect(runs.transfers).toBe(1);
    expect(seenKeys).toEqual(['key-1']);
  });

  it('hashes the body as sent, before schema defaults are filled in', async () => {
    const first = await post('/v1/transfers', 'key-defaults', { amount: 5 });
    expect(first.json()).toMatchObject({ memo: 'none' });
    const explicit = await post('/v1/transfers', 'key-defaults', { amount: 5, memo: 'none' });
    expect(explicit.statusCode).toBe(422);
    const retry = await post('/v1/transfers', 'key-defaults', { amount: 5 });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(runs.transfers).toBe(1);
  });

  it('replays a stored 4xx outcome too', async () => {
    const first = await post('/v1/transfers', 'key-poor', { amount: 5000 });
    expect(first.statusCode).toBe(402);
    const retry = await post('/v1/transfers', 'key-poor', { amount: 5000 });
    expect(retry.statusCode).toBe(402);
    expect(retry.body).toBe(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(runs.transfers).toBe(1);
  });

  it('answers the same key with another body with 422 idempotency_key_reused, and runs nothing', async () => {
    const first = await post('/v1/transfers', 'key-2', { amount: 5 });
    const otherBody = await post('/v1/transfers', 'key-2', { amount: 6 });
    expect(otherBody.statusCode).toBe(422);
    expect(otherBody.json()).toMatchObject({
      error: { code: 'idempotency_key_reused', param: 'Idempotency-Key' },
    });
    expect(runs).toEqual({ transfers: 1, flaky: 0, slow: 0, deferred: 0 });
    // The first request's record is untouched.
    const retry = await post('/v1/transfers', 'key-2', { amount: 5 });
    expect(retry.body).toBe(first.body);
  });

  it('refuses the key of an authenticated caller on another path, since its keys span all routes', async () => {
    const caller = { authorization: 'Bearer merchant-token' };
    expect((await post('/v1/transfers', 'key-7', { amount: 5 }, caller)).statusCode).toBe(201);
    const otherPath = await post('/v1/flaky', 'key-7', { amount: 5 }, caller);
    expect(otherPath.statusCode).toBe(422);
    expect(runs).toEqual({ transfers: 1, flaky: 0, slow: 0, deferred: 0 });
    // Anonymous keys are scoped by route, so the same key on another route is another key.
    expect((await post('/v1/flaky', 'key-7', {})).statusCode).toBe(200);
    expect(runs.flaky).toBe(1);
  });

  it('answers a concurrent request with the same key with one 409 idempotency_key_in_use', async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let proceed!: () => void;
    slowGate = { entered, proceed: new Promise<void>((resolve) => (proceed = resolve)) };
    const firstPending = post('/v1/slow', 'key-3', {});
    await handlerEntered;
    const concurrent = await post('/v1/slow', 'key-3', {});
    expect(concurrent.statusCode).toBe(409);
    expect(concurrent.json()).toMatchObject({
      error: { code: 'idempotency_key_in_use', param: 'Idempotency-Key' },
    });
    expect(concurrent.headers['retry-after']).toBe('1');
    proceed();
    const first = await firstPending;
    expect(first.statusCode).toBe(200);
    const retry = await post('/v1/slow', 'key-3', {});
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect(runs.slow).toBe(1);
  });

  it('answers a malformed Idempotency-Key with 400 invalid_request and runs nothing', async () => {
    for (const key of ['k'.repeat(256), '', 'clé']) {
      const response = await post('/v1/transfers', key, { amount: 5 });
      expect(response.statusCode, `key ${JSON.stringify(key)}`).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_request', param: 'Idempotency-Key' } });
    }
    expect(runs.transfers).toBe(0);
    expect(await storedKeys()).toBe(0);
    const longest = await post('/v1/transfers', 'k'.repeat(255), { amount: 5 });
    expect(longest.statusCode).toBe(201);
  });

  it('releases the key after a 5xx, so that a retry runs again', async () => {
    flakyFailuresLeft = 1;
    const failed = await post('/v1/flaky', 'key-4', {});
    expect(failed.statusCode).toBe(500);
    expect(await storedKeys()).toBe(0);
    const retried = await post('/v1/flaky', 'key-4', {});
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(runs.flaky).toBe(2);
    const replayed = await post('/v1/flaky', 'key-4', {});
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(runs.flaky).toBe(2);
  });

  it('keeps two callers with the same key apart', async () => {
    const alice = await post(
      '/v1/transfers',
      'shared',
      { amount: 5 },
      { authorization: 'Bearer alice-token' },
    );
    const bob = await post('/v1/transfers', 'shared', { amount: 6 }, { authorization: 'Bearer bob-token' });
    expect(alice.statusCode).toBe(201);
    expect(bob.statusCode).toBe(201);
    expect(runs.transfers).toBe(2);
    const aliceRetry = await post(
      '/v1/transfers',
      'shared',
      { amount: 5 },
      { authorization: 'Bearer alice-token' },
    );
    expect(aliceRetry.body).toBe(alice.body);
    // No credential is stored in clear.
    const scopes = await test.database.query<{ scope: string }>('SELECT scope FROM idempotency_keys');
    expect(scopes.map((row) => row.scope).join()).not.toContain('token');
  });

  it('does not claim a key for a request that fails validation', async () => {
    const invalid = await post('/v1/transfers', 'key-5', { amount: 'five' });
    expect(invalid.statusCode).toBe(400);
    expect(await storedKeys()).toBe(0);
    const valid = await post('/v1/transfers', 'key-5', { amount: 5 });
    expect(valid.statusCode).toBe(201);
  });

  it('runs every request without a key, and ignores the header on GET', async () => {
    await post('/v1/transfers', undefined, { amount: 5 });
    await post('/v1/transfers', undefined, { amount: 5 });
    expect(runs.transfers).toBe(2);
    const listed = await app.inject({
      method: 'GET',
      url: '/v1/transfers',
      headers: { 'idempotency-key': 'k'.repeat(300) },
    });
    expect(listed.statusCode).toBe(200);
    expect(await storedKeys()).toBe(0);
  });

  it('stores a refusal from inside an operation that claims its key, and replays it', async () => {
    const first = await post('/v1/deferred/refuse-inside', 'refused-inside', {});
    expect(first.statusCode, first.body).toBe(402);
    expect(await storedKeys()).toBe(1);
    const retry = await post('/v1/deferred/refuse-inside', 'refused-inside', {});
    expect(retry.statusCode).toBe(402);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    // The operation runs again (its claim is part of it) and learns the key was answered already.
    expect(runs.deferred).toBe(2);
  });

  it('answers 500 and stores nothing when such a route refuses outside its operation, or returns unclaimed', async () => {
    for (const mode of ['refuse-outside', 'unclaimed']) {
      const answer = await post(`/v1/deferred/${mode}`, `bug-${mode}`, {});
      expect(answer.statusCode, `${mode}: ${answer.body}`).toBe(500);
      expect(answer.json().error.code).toBe('internal_error');
      expect(answer.body).not.toContain('invariant');
    }
    expect(await storedKeys()).toBe(0);
    expect(runs.deferred).toBe(1);
  });

  it('lets a retry take over a key whose holder crashed, once the lease expired', async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // A request that never finishes stands for a process that died mid-request.
    slowGate = { entered, proceed: new Promise<void>(() => {}) };
    void post('/v1/slow', 'key-6', {});
    await handlerEntered;
    slowGate = undefined;
    expect((await post('/v1/slow', 'key-6', {})).statusCode).toBe(409);
    clock.advance(60_000);
    const retried = await post('/v1/slow', 'key-6', {});
    expect(retried.statusCode).toBe(200);
    expect(runs.slow).toBe(2);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
    expect(canonicalJson([2, 1])).toBe('[2,1]');
    expect(canonicalJson(undefined)).toBe('');
  });
});
