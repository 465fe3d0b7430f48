// Proves that operator endpoints accept exactly the operator's bearer token and answer every other request alike.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ManualClock } from '../domain/clock.js';
import type { Database } from '../services/database.js';
import { IdempotencyRepository } from '../store/idempotency-repository.js';
import { buildApp } from './app.js';
import { bearerToken, hashOperatorToken, requireOperator } from './operator-auth.js';

const operatorToken = randomBytes(24).toString('base64url');
let handled = 0;

const database: Database = {
  engine: 'pglite',
  query: async () => [],
  script: async () => {},
  transaction: async (work) => work({ query: async () => [], script: async () => {} }),
  snapshot: () => Promise.reject(new Error('no storage here')),
  close: async () => {},
};

describe('bearerToken', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['Bearer abc.DEF-123_~+/=', 'abc.DEF-123_~+/='],
    ['bearer abc', 'abc'],
    [undefined, undefined],
    ['', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Bearer  abc', undefined],
    ['Bearer abc def', undefined],
    ['Bearer abc ', undefined],
    ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', undefined],
    ['Bearer ab\tc', undefined],
    [`Bearer ${'a'.repeat(600)}`, undefined],
  ];
  it.each(cases)('parses %j as %j', (header, token) => {
    expect(bearerToken({ headers: header === undefined ? {} : { authorization: header } })).toBe(token);
  });
});

describe('requireOperator', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({
      config: loadConfig({ LOG_LEVEL: 'silent' }),
      database,
      idempotencyStore: new IdempotencyRepository(database),
      clock: new ManualClock(),
      logger: false,
      routes: [
        (scope) => {
          scope.get(
            '/v1/operator/probe',
            { preHandler: requireOperator(hashOperatorToken(operatorToken)) },
            async () => {
              handled += 1;
              return { ok: true };
            },
          );
        },
      ],
    });
  });
  afterAll(async () => {
    await app.close();
  });

  function probe(authorization?: string) {
    const headers = authorization === undefined ? {} : { authorization };
    return app.inject({ method: 'GET', url: '/v1/operator/probe', headers });
  }

  it('lets the operator token through', async () => {
    const response = await probe(`Bearer ${operatorToken}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('answers a missing, malformed or wrong token with the same 401 authentication_required', async () => {
    const before = handled;
    const refused = [
      await probe(),
      await probe(`Basic ${operatorToken}`),
      await probe(`Bearer ${operatorToken}x`),
      await probe(`Bearer ${operatorToken.slice(0, -1)}`),
      await probe(`Bearer  ${operatorToken}`),
    ];
    const first = refused[0]!;
    expect(first.statusCode).toBe(401);
    expect(first.json()).toMatchObject({
      error: { code: 'authentication_required', type: 'authentication_error' },
    });
    expect(first.headers['www-authenticate']).toBe('Bearer realm="countersign-operator"');
    for (const response of refused) {
      expect(response.statusCode).toBe(401);
      // The same answer, byte for byte, but for the request id, which differs between any two requests.
      const { requestId: _requestId, ...error } = response.json().error;
      const { requestId: _firstRequestId, ...firstError } = first.json().error;
      expect(error).toEqual(firstError);
      expect(response.body.length - String(_requestId).length).toBe(
        first.body.length - String(_firstRequestId).length,
      );
    }
    expect(handled).toBe(before);
  });

  it('refuses a token hash that is not a SHA-256 digest', () => {
    expect(() => requireOperator(new Uint8Array(31))).toThrow(RangeError);
  });
});
