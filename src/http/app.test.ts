// Proves that buildApp answers every failure in the catalog's shape without leaking internals, limits size and rate, sets security headers, and serves health and OpenAPI.
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import { loadConfig } from '../config.js';
import { ManualClock } from '../domain/clock.js';
import { CountersignError, errorCatalog } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import type { Database, Row } from '../services/database.js';
import { IdempotencyRepository } from '../store/idempotency-repository.js';
import { buildApp } from './app.js';
import type { AppDependencies, RoutePlugin } from './dependencies.js';

const config = loadConfig({ LOG_LEVEL: 'silent' });

/** A database that answers `SELECT 1` with `answer`, for tests that need no storage. */
function stubDatabase(answer: () => Promise<Row[]> = async () => [{ one: 1 }]): Database {
  const executor = { query: async <T extends Row>() => (await answer()) as T[], script: async () => {} };
  return {
    engine: 'pglite',
    ...executor,
    transaction: async (work) => work(executor),
    snapshot: () => Promise.reject(new Error('no storage here')),
    close: async () => {},
  };
}

/** Counts handler runs, so that a test can assert a refused request executed nothing. */
const calls = { echo: 0 };

const testRoutes: RoutePlugin = (app) => {
  const body = Type.Object(
    {
      amount: Type.Integer({ minimum: 1 }),
      payee: Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      currency: Type.Optional(Type.String({ default: 'EUR' })),
    },
    { additionalProperties: false },
  );
  app.post('/v1/echo', { schema: { body, response: { 200: body } } }, async (request) => {
    calls.echo += 1;
    return request.body;
  });
  app.get('/v1/boom', async () => {
    throw new Error('secret internals: connection to 10.0.0.7 refused');
  });
  app.get('/v1/contended/:state', async (request) => {
    const { state } = request.params as { state: string };
    throw Object.assign(new Error('could not serialize access due to concurrent update'), { code: state });
  });
  app.get('/v1/conflict', async () => {
    throw new CountersignError('payment_not_approvable', {
      details: { status: 'canceled', code: 'overridden' },
    });
  });
  app.get('/page', async (_request, reply) => {
    reply.header('content-security-policy', "default-src 'self'").type('text/html');
    return '<p>page</p>';
  });
};

function build(overrides: Partial<AppDependencies> = {}): Promise<FastifyInstance> {
  const database = overrides.database ?? stubDatabase();
  return buildApp({
    config,
    database,
    // The bare repository: these tests check HTTP behaviour, not sealing.
    idempotencyStore: new IdempotencyRepository(database),
    clock: new ManualClock(),
    logger: false,
    routes: [testRoutes],
    ...overrides,
  });
}

function postEcho(app: FastifyInstance, payload: string, contentType = 'application/json') {
  return app.inject({ method: 'POST', url: '/v1/echo', payload, headers: { 'content-type': contentType } });
}

/** Asserts the exact error shape and code, and that the body carries no stack trace. */
function expectError(
  response: LightMyRequestResponse,
  code: keyof typeof errorCatalog,
  param?: string,
): void {
  const entry = errorCatalog[code];
  expect(response.statusCode).toBe(entry.status);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  const body = response.json() as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error['type']).toBe(entry.type);
  expect(body.error['code']).toBe(code);
  expect(typeof body.error['message']).toBe('string');
  expect(body.error['param']).toBe(param);
  expect(response.body).not.toMatch(/\n\s+at /);
}

describe.each(testEngines())('GET /healthz on %s', (engine) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(engine);
  });
  afterAll(async () => {
    await test.dispose();
  });

  it('answers 200 {"status":"ok"} when the database answers', async () => {
    const app = await build({ database: test.database });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
    await app.close();
  });
});

describe('GET /healthz without a database', () => {
  it('answers 503 service_unavailable, without the driver message, when the query fails', async () => {
    const failing = stubDatabase(async () => {
      throw new Error('ECONNREFUSED 10.0.0.7:5432');
    });
    const app = await build({ database: failing });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expectError(response, 'service_unavailable');
    expect(response.body).not.toContain('ECONNREFUSED');
    await app.close();
  });

  it('answers 503 when the database does not answer in time', async () => {
    const hanging = stubDatabase(() => new Promise<Row[]>(() => {}));
    const app = await build({ database: hanging, httpLimits: { healthCheckTimeoutMs: 20 } });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expectError(response, 'service_unavailable');
    await app.close();
  });
});

describe('errors in the catalog shape', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers an unknown path, and a known path with an unknown method, with 404 route_not_found', async () => {
    expectError(await app.inject({ method: 'GET', url: '/v1/nothing-here' }), 'route_not_found');
    expectError(await app.inject({ method: 'DELETE', url: '/v1/echo' }), 'route_not_found');
  });

  it('answers malformed JSON with 400 invalid_request and runs nothing', async () => {
    const before = calls.echo;
    expectError(await postEcho(app, '{"amount": 1,'), 'invalid_request');
    expectError(await postEcho(app, ''), 'invalid_request');
    expectError(
      await postEcho(app, '{"__proto__":{"admin":true},"amount":1,"payee":{"id":"p"}}'),
      'invalid_request',
    );
    expect(calls.echo).toBe(before);
  });

  it('answers any body that is not application/json with 415 unsupported_media_type', async () => {
    const before = calls.echo;
    const json = '{"amount":1,"payee":{"id":"p"}}';
    expectError(await postEcho(app, json, 'text/plain'), 'unsupported_media_type');
    expectError(
      await postEcho(app, 'amount=1', 'application/x-www-form-urlencoded'),
      'unsupported_media_type',
    );
    expectError(await postEcho(app, json, 'application/jsonx'), 'unsupported_media_type');
    const untyped = await app.inject({ method: 'POST', url: '/v1/echo', payload: Buffer.from(json) });
    expectError(untyped, 'unsupported_media_type');
    expect(calls.echo).toBe(before);
    const accepted = await postEcho(app, json, 'application/json; charset=utf-8');
    expect(accepted.statusCode).toBe(200);
    expect(calls.echo).toBe(before + 1);
  });

  it('answers a body over the limit with 413 payload_too_large and runs nothing', async () => {
    const before = calls.echo;
    const note = 'x'.repeat(limits.requestBodyBytesMax);
    const response = await postEcho(app, JSON.stringify({ amount: 1, payee: { id: note } }));
    expectError(response, 'payload_too_large');
    expect(calls.echo).toBe(before);
  });

  it('answers a schema violation with 400 invalid_request naming the field, and runs nothing', async () => {
    const before = calls.echo;
    const cases: [unknown, string | undefined][] = [
      [{ payee: { id: 'p' } }, 'amount'],
      [{ amount: '5', payee: { id: 'p' } }, 'amount'],
      [{ amount: 0, payee: { id: 'p' } }, 'amount'],
      [{ amount: 1, payee: { id: '' } }, 'payee.id'],
      [{ amount: 1, payee: {} }, 'payee.id'],
      [{ amount: 1, payee: { id: 'p' }, admin: true }, 'admin'],
      [[1, 2], undefined],
    ];
    for (const [body, param] of cases) {
      const response = await postEcho(app, JSON.stringify(body));
      expectError(response, 'invalid_request', param);
      if (param !== undefined) expect(response.json().error.message).toContain(param);
    }
    expect(calls.echo).toBe(before);
  });

  it('fills in schema defaults and keeps valid bodies as sent', async () => {
    const response = await postEcho(app, JSON.stringify({ amount: 7, payee: { id: 'p' } }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ amount: 7, payee: { id: 'p' }, currency: 'EUR' });
  });

  it('answers a CountersignError with its status, code and public details', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/conflict' });
    expectError(response, 'payment_not_approvable');
    // A detail never overrides the catalog fields.
    expect(response.json()).toEqual({
      error: {
        status: 'canceled',
        type: 'conflict_error',
        code: 'payment_not_approvable',
        message: errorCatalog.payment_not_approvable.message,
        requestId: response.headers['request-id'],
      },
    });
  });
});

describe('an unexpected exception', () => {
  it('gives 500 internal_error with a generic message, and logs the stack', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const app = await build({ logger: pino({ level: 'info' }, sink) });
    const response = await app.inject({ method: 'GET', url: '/v1/boom' });
    expectError(response, 'internal_error');
    expect(response.json()).toEqual({
      error: {
        type: 'api_error',
        code: 'internal_error',
        message: errorCatalog.internal_error.message,
        requestId: response.headers['request-id'],
      },
    });
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toContain('10.0.0.7');
    await app.close();
    const logged = lines.map((line) => JSON.parse(line) as { level: number; err?: { stack?: string } });
    const errorLine = logged.find((line) => line.level === 50);
    expect(errorLine?.err?.stack).toContain('secret internals');
    expect(errorLine?.err?.stack).toMatch(/\n\s+at /);
  });
});

describe('a transaction whose retries are exhausted', () => {
  it.each(['40001', '40P01'])(
    'answers SQLSTATE %s with 503 service_unavailable and Retry-After',
    async (state) => {
      const app = await build();
      const response = await app.inject({ method: 'GET', url: `/v1/contended/${state}` });
      expectError(response, 'service_unavailable');
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).not.toContain('serialize');
      await app.close();
    },
  );

  it('leaves any other SQLSTATE a 500 internal_error', async () => {
    const app = await build();
    const response = await app.inject({ method: 'GET', url: '/v1/contended/23505' });
    expectError(response, 'internal_error');
    expect(response.headers['retry-after']).toBeUndefined();
    await app.close();
  });
});

describe('security headers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(async () => {
    await app.close();
  });

  const strictPolicy = "default-src 'none'; frame-ancestors 'none'";

  it('are set on successes, errors and 404s alike', async () => {
    const responses = [
      await postEcho(app, JSON.stringify({ amount: 1, payee: { id: 'p' } })),
      await app.inject({ method: 'GET', url: '/v1/boom' }),
      await app.inject({ method: 'GET', url: '/v1/missing' }),
      await app.inject({ method: 'GET', url: '/healthz' }),
    ];
    for (const response of responses) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['content-security-policy']).toBe(strictPolicy);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('let a page route choose its own Content-Security-Policy', async () => {
    const response = await app.inject({ method: 'GET', url: '/page' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toBe("default-src 'self'");
    expect(response.headers['x-frame-options']).toBe('DENY');
  });

  it('add Strict-Transport-Security when the public URL is https', async () => {
    const https = await build({
      config: loadConfig({ PUBLIC_URL: 'https://pay.example', LOG_LEVEL: 'silent' }),
    });
    const response = await https.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    await https.close();
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document listing the routes of route plugins, and hides its own', async () => {
    const app = await build();
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json() as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info.title).toBe('Countersign');
    expect(typeof document.info.version).toBe('string');
    const echo = document.paths['/v1/echo']?.['post'];
    expect(echo?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { type: 'object', required: ['amount', 'payee'] } } },
    });
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
      }
    }
    expect(document.paths['/openapi.json']).toBeUndefined();
    expect(document.paths['/healthz']).toBeUndefined();
    await app.close();
  });
});

describe('rate limit', () => {
  it('answers 429 rate_limited with Retry-After once an address used its budget, on any path', async () => {
    const app = await build({ httpLimits: { requestsPerWindowPerAddressMax: 3, rateLimitWindowMs: 60_000 } });
    const address = { remoteAddress: '192.0.2.10' };
    const allowed = [
      await app.inject({ method: 'GET', url: '/healthz', ...address }),
      await app.inject({ method: 'GET', url: '/v1/missing', ...address }),
      await app.inject({ method: 'GET', url: '/healthz', ...address }),
    ];
    expect(allowed.map((response) => response.statusCode)).toEqual([200, 404, 200]);
    const before = calls.echo;
    const limited = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { amount: 1, payee: { id: 'p' } },
      ...address,
    });
    expectError(limited, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(calls.echo).toBe(before);
    expectError(await app.inject({ method: 'GET', url: '/v1/missing', ...address }), 'rate_limited');
    // Another address has its own budget.
    const other = await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.11' });
    expect(other.statusCode).toBe(200);
    await app.close();
  });
});
