// Proves on both engines the HTTP hardening: security headers on every answer, the body size limit, the server timeouts, forwarded addresses trusted only as far as the TRUST_PROXY hops or proxy addresses say, and TLS served directly from TLS_CERT/TLS_KEY with a certificate made for the test.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/domain/clock.js';
import { httpLimits } from '../../src/domain/limits.js';
import { buildApp } from '../../src/http/app.js';
import { startServer } from '../../src/main.js';
import { IdempotencyRepository } from '../../src/store/idempotency-repository.js';
import { type EngineName, openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

const run = promisify(execFile);

describe.each(testEngines())('HTTP hardening on %s', (engine: EngineName) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  it('sends the security headers on success, error and unknown routes', async () => {
    const answers = await Promise.all([
      platform.app.inject({ method: 'GET', url: '/healthz' }),
      platform.app.inject({ method: 'POST', url: '/v1/payers', payload: {} }),
      platform.app.inject({ method: 'GET', url: '/no/such/route' }),
    ]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 400, 404]);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cache-control': 'no-store',
      });
      expect(String(answer.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('refuses a body over 16 KiB with 413 before reading it as JSON', async () => {
    const answer = await platform.app.inject({
      method: 'POST',
      url: '/v1/payees',
      headers: { authorization: `Bearer ${platform.operatorToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'big-payee', name: 'x'.repeat(17 * 1024) }),
    });
    expect(answer.statusCode).toBe(413);
    expect(answer.json().error.code).toBe('payload_too_large');
    const rows = await platform.test.database.query(`SELECT id FROM payees WHERE id = 'big-payee'`);
    expect(rows).toEqual([]);
  });

  it('refuses a body that repeats a key, whichever value a parser would keep', async () => {
    const answer = await platform.app.inject({
      method: 'POST',
      url: '/v1/payees',
      headers: { authorization: `Bearer ${platform.operatorToken}`, 'content-type': 'application/json' },
      payload: '{"id":"twice-payee","name":"A","name":"B"}',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error).toMatchObject({ code: 'invalid_request', param: 'name' });
    expect(await platform.test.database.query(`SELECT id FROM payees WHERE id = 'twice-payee'`)).toEqual([]);
  });

  it.each([
    [
      'a path parameter over the length limit',
      `/v1/payers/${'a'.repeat(httpLimits.pathParameterLengthMax)}echoed-marker/balance?currency=EUR`,
      414,
      'uri_too_long',
      'echoed-marker',
    ],
    ['malformed percent-encoding', '/v1/payments/%E0%A4%A', 400, 'invalid_request', '%E0%A4%A'],
  ] as const)(
    'answers %s in the catalog shape, without echoing the URL',
    async (_what, url, status, code, sent) => {
      const answer = await platform.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${platform.operatorToken}` },
      });
      expect(answer.statusCode).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json()).toEqual({
        error: {
          type: 'invalid_request_error',
          code,
          message: expect.any(String),
          requestId: answer.headers['request-id'],
        },
      });
      expect(answer.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.body).not.toContain(sent);
      expect(answer.body).not.toContain('/v1/pay');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    },
  );

  it('bounds how long a request, an idle connection and a kept-alive socket may take', () => {
    const server = platform.app.server;
    expect(server.requestTimeout).toBe(httpLimits.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(httpLimits.keepAliveTimeoutMs);
    expect(server.timeout).toBe(httpLimits.connectionTimeoutMs);
    expect(httpLimits.requestTimeoutMs).toBeLessThanOrEqual(30_000);
  });
});

describe.each(testEngines())('forwarded addresses on %s', (engine: EngineName) => {
  let test: TestDatabase;
  const apps: FastifyInstance[] = [];

  async function appWith(trustProxy: string): Promise<FastifyInstance> {
    const app = await buildApp({
      config: loadConfig({ TRUST_PROXY: trustProxy, LOG_LEVEL: 'silent' }),
      database: test.database,
      idempotencyStore: new IdempotencyRepository(test.database),
      clock: new ManualClock(Date.now()),
      logger: false,
      // The address the platform takes for the client, as the rate limit and the request log see it.
      routes: [
        (app) => {
          app.get('/client-address', async (request) => ({ ip: request.ip }));
        },
      ],
      httpLimits: { requestsPerWindowPerAddressMax: 3 },
    });
    apps.push(app);
    return app;
  }

  const statuses = async (app: FastifyInstance) => {
    const result: number[] = [];
    for (let request = 0; request < 5; request++) {
      const answer = await app.inject({
        method: 'GET',
        url: '/healthz',
        remoteAddress: '10.0.0.1',
        headers: { 'x-forwarded-for': `198.51.100.${request}` },
      });
      result.push(answer.statusCode);
    }
    return result;
  };

  beforeAll(async () => {
    test = await openTestDatabase(engine, 2);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await test?.dispose();
  });

  /** The client address the app sees for one request from `remoteAddress` with `forwardedFor`. */
  const clientAddress = async (app: FastifyInstance, remoteAddress: string, forwardedFor: string) => {
    const answer = await app.inject({
      method: 'GET',
      url: '/client-address',
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor },
    });
    expect(answer.statusCode).toBe(200);
    return answer.json().ip as string;
  };

  it('ignores X-Forwarded-For unless TRUST_PROXY is set: a spoofed header does not escape the rate limit', async () => {
    expect(await statuses(await appWith('false'))).toEqual([200, 200, 200, 429, 429]);
  });

  it('counts each forwarded client on its own behind a trusted proxy', async () => {
    expect(await statuses(await appWith('1'))).toEqual([200, 200, 200, 200, 200]);
  });

  it('behind one proxy (TRUST_PROXY=1) keys on the address that proxy appended, not on one the client wrote', async () => {
    const app = await appWith('1');
    // The client sends "X-Forwarded-For: <anything>"; the proxy at 10.0.0.1 appends the client's address.
    expect(await clientAddress(app, '10.0.0.1', '1.2.3.4, 203.0.113.7')).toBe('203.0.113.7');
    const result: number[] = [];
    for (let request = 0; request < 5; request++) {
      const answer = await app.inject({
        method: 'GET',
        url: '/healthz',
        remoteAddress: '10.0.0.1',
        headers: { 'x-forwarded-for': `198.51.100.${request}, 203.0.113.9` },
      });
      result.push(answer.statusCode);
    }
    // A new spoofed address each time does not buy a new allowance: all five count for 203.0.113.9.
    expect(result).toEqual([200, 200, 200, 429, 429]);
  });

  it('trusts only the listed proxy addresses and networks, hop by hop from the socket', async () => {
    const app = await appWith('10.0.0.0/8, 192.0.2.1');
    expect(await clientAddress(app, '10.0.0.1', '1.2.3.4, 203.0.113.7, 192.0.2.1')).toBe('203.0.113.7');
    // A connection that does not come from a listed proxy is the client itself, whatever it claims.
    expect(await clientAddress(app, '203.0.113.50', '1.2.3.4')).toBe('203.0.113.50');
  });
});

describe.each(testEngines())('TLS on %s', (engine: EngineName) => {
  let directory: string;
  let test: TestDatabase | undefined;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-tls-'));
    // A throw-away self-signed certificate for 127.0.0.1, made by the openssl command line.
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(directory, 'key.pem'),
      '-out',
      path.join(directory, 'cert.pem'),
    ]);
    if (engine === 'postgres') {
      test = await openTestDatabase(engine, 2);
      await test.database.close();
    }
  });
  afterAll(async () => {
    await test?.dispose().catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  });

  it('needs TLS_CERT and TLS_KEY together, and names the one missing', () => {
    expect(() => loadConfig({ TLS_CERT: 'cert.pem' })).toThrow(ConfigError);
    expect(() => loadConfig({ TLS_CERT: 'cert.pem' })).toThrow(/^TLS_KEY/);
    expect(loadConfig({ TLS_CERT: 'c.pem', TLS_KEY: 'k.pem', PORT: '8443' }).publicUrl).toBe(
      'https://127.0.0.1:8443',
    );
  });

  it('serves HTTPS directly with the configured certificate, with HSTS', async () => {
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: directory,
      LOG_LEVEL: 'silent',
      OPERATOR_TOKEN: `cs_op_${randomBytes(32).toString('base64url')}`,
      MASTER_KEY: randomBytes(32).toString('hex'),
      TLS_CERT: path.join(directory, 'cert.pem'),
      TLS_KEY: path.join(directory, 'key.pem'),
      ...(test?.url === undefined ? {} : { DATABASE_URL: test.url }),
    });
    const server = await startServer(config);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = await readFile(path.join(directory, 'cert.pem'));
      const answer = await new Promise<{ status: number; hsts: string | undefined; protocol: string }>(
        (resolve, reject) => {
          https
            .get(`${server.url}/healthz`, { ca }, (response) => {
              response.resume();
              resolve({
                status: response.statusCode ?? 0,
                hsts: response.headers['strict-transport-security'],
                protocol: (response.socket as { getProtocol?: () => string }).getProtocol?.() ?? '',
              });
            })
            .on('error', reject);
        },
      );
      expect(answer.status).toBe(200);
      expect(answer.hsts).toContain('max-age=');
      expect(answer.protocol).toMatch(/^TLSv1\.[23]$/);
      // Plain HTTP to the TLS port gets no API answer.
      const plain = await fetch(server.url.replace('https:', 'http:') + '/healthz').then(
        (response) => response.status,
        () => 'refused',
      );
      expect(plain).not.toBe(200);
    } finally {
      await server.close();
    }
  }, 180_000);
});
