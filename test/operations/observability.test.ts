// Proves on both engines the operator's view of a running platform: /metrics (guarded by the operator token or METRICS_TOKEN, counters that move with a payment), the Request-Id on every answer and in error bodies, /livez and /readyz, and a configuration that reports every bad variable at once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { pendingMigrationCount, readMigrations } from '../../src/store/migrate.js';
import { call, createFundedPayer, createPayee, secondCodeFor } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/** Parses the Prometheus text format into `name{labels}` → value; comments and blank lines skipped. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

describe.each(testEngines())('observability on %s', (engine) => {
  let platform: TestPlatform;
  const metricsToken = `cs_metrics_${randomBytes(24).toString('base64url')}`;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { metrics: { metricsToken } });
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const scrape = async (token: string) => {
    const answer = await call(platform.app, 'GET', '/metrics', undefined, { token });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(answer.body);
  };

  it('refuses /metrics without a token or with a wrong one, and reads the same with either right token', async () => {
    const anonymous = await call(platform.app, 'GET', '/metrics');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('authentication_required');
    expect(anonymous.body).not.toContain('countersign_');
    const wrong = await call(platform.app, 'GET', '/metrics', undefined, { token: `${metricsToken}x` });
    expect(wrong.statusCode).toBe(401);
    const payers = await call(platform.app, 'GET', '/v1/payees/nobody/balance?currency=EUR', undefined, {
      token: metricsToken,
    });
    // METRICS_TOKEN reads metrics and nothing else.
    expect(payers.statusCode).toBe(401);
    expect((await scrape(metricsToken)).has('countersign_database_connections_in_use')).toBe(true);
    expect((await scrape(platform.operatorToken)).has('countersign_database_connections_in_use')).toBe(true);
  });

  it('moves the request, payment and batch counters with a payment, and counts a refused approval', async () => {
    const approveRoute = 'route="/v1/payments/:id/approve"';
    const before = await scrape(metricsToken);
    const payer = await createFundedPayer(platform.app, platform.operatorToken, 'metrics-payer', 5_000);
    await createPayee(platform.app, platform.operatorToken, 'metrics-shop');
    const payment = await call(platform.app, 'POST', '/v1/payments', {
      payerId: payer.id,
      password: payer.password,
      payeeId: 'metrics-shop',
      amount: 700,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    expect(payment.statusCode, payment.body).toBe(201);
    const { id, firstCode } = payment.json() as { id: string; firstCode: string };
    const refused = await call(platform.app, 'POST', `/v1/payments/${id}/approve`, {
      secondCode: '00000000',
    });
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    const approved = await call(platform.app, 'POST', `/v1/payments/${id}/approve`, {
      secondCode: await secondCodeFor(payer, firstCode),
    });
    expect(approved.statusCode, approved.body).toBe(200);

    const after = await scrape(metricsToken);
    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(moved('countersign_payments{status="succeeded"}')).toBe(1);
    expect(
      moved(`countersign_http_request_duration_seconds_count{method="POST",${approveRoute},status="200"}`),
    ).toBe(1);
    expect(
      moved(
        `countersign_http_request_duration_seconds_count{method="POST",${approveRoute},status="${refused.statusCode}"}`,
      ),
    ).toBe(1);
    expect(
      moved(
        `countersign_http_errors_total{method="POST",${approveRoute},code="${refused.json().error.code}"}`,
      ),
    ).toBe(1);
    expect(moved('countersign_commit_batch_operations_total{operation="all"}')).toBeGreaterThanOrEqual(2);
    // A path that matched no route is one label, whatever the path: a scanner cannot grow the label set.
    await call(platform.app, 'GET', '/no/such/path/1');
    await call(platform.app, 'GET', '/no/such/path/2');
    const unmatched = await scrape(metricsToken);
    expect(
      unmatched.get(
        'countersign_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect([...unmatched.keys()].some((name) => name.includes('/no/such/path'))).toBe(false);
  });

  it('answers every request with a Request-Id, the one its error body carries', async () => {
    const refused = await call(platform.app, 'POST', '/v1/payers', {}, { token: platform.operatorToken });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.json().error.requestId).toBe(refused.headers['request-id']);
    const notFound = await call(platform.app, 'GET', '/nowhere');
    expect(notFound.json().error.requestId).toBe(notFound.headers['request-id']);
    const ok = await call(platform.app, 'GET', '/livez');
    expect(ok.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.headers['request-id']).not.toBe(notFound.headers['request-id']);
  });

  it('keeps a well-formed X-Request-Id and replaces a malformed or over-long one', async () => {
    const kept = await call(platform.app, 'GET', '/nowhere', undefined, {
      headers: { 'x-request-id': 'shop-7f3a:checkout.42' },
    });
    expect(kept.headers['request-id']).toBe('shop-7f3a:checkout.42');
    expect(kept.json().error.requestId).toBe('shop-7f3a:checkout.42');
    for (const bad of ['two words', 'a'.repeat(129), 'quote"d', '']) {
      const replaced = await call(platform.app, 'GET', '/livez', undefined, {
        headers: { 'x-request-id': bad },
      });
      expect(replaced.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers /livez and /readyz, and /healthz as before', async () => {
    for (const url of ['/livez', '/readyz', '/healthz']) {
      const answer = await call(platform.app, 'GET', url);
      expect(answer.statusCode, url).toBe(200);
      expect(answer.json()).toEqual({ status: 'ok' });
    }
  });

  it('counts the migrations a database lacks, which is what /readyz refuses on', async () => {
    const known = (await readMigrations()).map((migration) => migration.name);
    expect(await pendingMigrationCount(platform.test.database, known)).toBe(0);
    expect(await pendingMigrationCount(platform.test.database, [...known, '9999_not_yet'])).toBe(1);
  });
});

describe('configuration', () => {
  it('reports every invalid variable at once, each by name', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', METRICS_TOKEN: 'short', TRUST_PROXY: 'all' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems.map((problem) => problem.variable)).toEqual([
      'PORT',
      'LOG_LEVEL',
      'TRUST_PROXY',
      'METRICS_TOKEN',
    ]);
    for (const name of ['PORT', 'LOG_LEVEL', 'TRUST_PROXY', 'METRICS_TOKEN'])
      expect(error.message).toContain(name);
    expect(error.message).not.toContain('short');
  });

  it('keeps the single-variable message as it was', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^PORT: must be a whole number/);
  });
});
