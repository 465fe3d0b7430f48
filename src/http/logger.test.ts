// Proves that the HTTP log never contains credentials, codes or query strings, whichever way the logger is given.
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ManualClock } from '../domain/clock.js';
import type { Database } from '../services/database.js';
import { IdempotencyRepository } from '../store/idempotency-repository.js';
import { buildApp } from './app.js';
import type { RoutePlugin } from './dependencies.js';
import { httpLoggerOptions, secretFieldNames, serializeRequest } from './logger.js';

function memorySink(): { sink: Writable; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      callback();
    },
  });
  return { sink, lines };
}

const database: Database = {
  engine: 'pglite',
  query: async () => [],
  script: async () => {},
  transaction: async (work) => work({ query: async () => [], script: async () => {} }),
  snapshot: () => Promise.reject(new Error('no storage here')),
  close: async () => {},
};

// A handler that logs secrets by mistake, as a careless change might.
const carelessRoutes: RoutePlugin = (app) => {
  const schema = {
    body: Type.Object({ password: Type.String() }),
    // Declared, since an unknown query parameter is refused: the test shows a known one is not logged.
    querystring: Type.Object({ session: Type.Optional(Type.String()) }),
    response: { 200: Type.Object({ ok: Type.Boolean() }) },
  };
  app.post('/v1/login', { schema }, async (request) => {
    request.log.info({ body: request.body, payer: { verificationCode: '1234' }, token: 'tok' }, 'careless');
    return { ok: true };
  });
};

describe('HTTP logging', () => {
  it.each(['options', 'instance'] as const)(
    'redacts secrets and logs no headers or query (logger as %s)',
    async (kind) => {
      const { sink, lines } = memorySink();
      const logger =
        kind === 'instance' ? pino({ level: 'info' }, sink) : { level: 'info' as const, stream: sink };
      const app = await buildApp({
        config: loadConfig({ LOG_LEVEL: 'silent' }),
        database,
        idempotencyStore: new IdempotencyRepository(database),
        clock: new ManualClock(),
        logger,
        routes: [carelessRoutes],
      });
      const response = await app.inject({
        method: 'POST',
        url: '/v1/login?session=query-secret',
        headers: { authorization: 'Bearer header-secret', cookie: 'sid=cookie-secret' },
        payload: { password: 'body-secret' },
      });
      expect(response.statusCode).toBe(200);
      await app.close();
      const log = lines.join('\n');
      expect(log).toContain('careless');
      expect(log).toContain('"url":"/v1/login"');
      expect(log).toContain('[redacted]');
      for (const secret of [
        'query-secret',
        'header-secret',
        'cookie-secret',
        'body-secret',
        '1234',
        '"tok"',
      ]) {
        expect(log).not.toContain(secret);
      }
    },
  );

  it.each(['options', 'instance'] as const)(
    'logs a failed database query without its SQL or parameters (logger as %s)',
    async (kind) => {
      const { sink, lines } = memorySink();
      const logger =
        kind === 'instance' ? pino({ level: 'info' }, sink) : { level: 'info' as const, stream: sink };
      // The shape of a driver's error: the statement and its bound values ride on the error object.
      const failingRoutes: RoutePlugin = (app) => {
        app.get('/v1/failing', async () => {
          const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
            code: '22021',
            query: 'SELECT * FROM payers WHERE id = $1 -- statement-secret',
            params: ['params-secret'],
            parameters: ['parameters-secret'],
          });
          throw error;
        });
      };
      const app = await buildApp({
        config: loadConfig({ LOG_LEVEL: 'silent' }),
        database,
        idempotencyStore: new IdempotencyRepository(database),
        clock: new ManualClock(),
        logger,
        routes: [failingRoutes],
      });
      const response = await app.inject({ method: 'GET', url: '/v1/failing' });
      await app.close();
      expect(response.statusCode).toBe(500);
      expect(response.json().error.code).toBe('internal_error');
      const log = lines.join('\n');
      expect(log).toContain('invalid byte sequence');
      expect(log).toContain('22021');
      for (const leaked of [
        'statement-secret',
        'params-secret',
        'parameters-secret',
        '"query"',
        '"params"',
      ]) {
        expect(log).not.toContain(leaked);
      }
      expect(response.body).not.toContain('secret');
    },
  );

  it('logs a database error without SQL or parameters, also when it is the cause of another error', () => {
    const { sink, lines } = memorySink();
    const logger = pino(httpLoggerOptions('info'), sink);
    const cause = Object.assign(new Error('duplicate key'), {
      query: 'INSERT q-secret',
      params: ['p-secret'],
    });
    logger.error({ err: new Error('wrapped', { cause }) }, 'failed');
    logger.error({ err: cause }, 'failed');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain('duplicate key');
    expect(lines.join('\n')).not.toMatch(/q-secret|p-secret/);
  });

  it('redacts every secret field at the top level and two levels down', () => {
    const { sink, lines } = memorySink();
    const logger = pino(httpLoggerOptions('info'), sink);
    for (const name of secretFieldNames) {
      logger.info({ [name]: 'S1', outer: { [name]: 'S2', inner: { [name]: 'S3' } } }, name);
    }
    expect(lines).toHaveLength(secretFieldNames.length);
    expect(lines.join('\n')).not.toMatch(/S[123]/);
  });

  it('serializes a request as method, path and address only', () => {
    const request = { method: 'GET', url: '/v1/payments?token=x', ip: '192.0.2.1', headers: { cookie: 'c' } };
    expect(serializeRequest(request)).toEqual({
      method: 'GET',
      url: '/v1/payments',
      remoteAddress: '192.0.2.1',
    });
  });
});
