// Proves that with the counts in Redis an approval is throttled through the shared counter like a password check, and that while Redis cannot be reached authentication is refused with 503 service_unavailable and Retry-After (fail closed) changing nothing, while the per-address limit lets requests through (fail open).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/domain/limits.js';
import type { PayerAttemptCounter } from '../../src/services/parties/payer-rate-limiter.js';
import { openSharedCounterConnection, type SharedCounterConnection } from '../../src/store/redis-client.js';
import { payerAttemptKey, RedisPayerAttemptCounter } from '../../src/store/redis-payer-attempt-counter.js';
import { call, createFundedPayer, createPayee, type FundedPayer, secondCodeFor } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { freePort } from '../support/processes.js';
import { deleteKeys, openTestRedis, uniqueKeyPrefix } from '../support/redis.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';

const payerLimit = 3;

describe.each(testEngines())('throttles counted in Redis on %s', (engine) => {
  const keyPrefix = uniqueKeyPrefix(`outage-${engine}`);
  let live: SharedCounterConnection;
  let down: SharedCounterConnection;
  let redisDown = false;
  let platform: TestPlatform;
  let payer: FundedPayer;

  beforeAll(async () => {
    live = await openTestRedis(keyPrefix);
    // Nothing listens on this port: every call to it fails as a Redis outage does.
    down = openSharedCounterConnection(`redis://127.0.0.1:${await freePort()}`, keyPrefix, () => {});
    const liveCounter = new RedisPayerAttemptCounter(live.redis);
    const downCounter = new RedisPayerAttemptCounter(down.redis);
    // One platform whose counter can be taken away mid-test, so that a refused approval has a payment to name.
    const counter: PayerAttemptCounter = {
      count: (attempts, windowMs) => (redisDown ? downCounter : liveCounter).count(attempts, windowMs),
    };
    platform = await startTestPlatform(engine, {
      rateLimitPerPayer: payerLimit,
      payerAttemptCounter: counter,
      // The per-address limit counts in the Redis that is down: it must let everything through.
      sharedCounters: down.redis,
      httpLimits: { requestsPerWindowPerAddressMax: 2 },
    });
    await createPayee(platform.app, platform.operatorToken, 'shop');
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'counted');
  });
  afterAll(async () => {
    await platform?.dispose();
    await Promise.all([live?.close(), down?.close()]);
    await deleteKeys(keyPrefix);
  });

  it('counts approvals in Redis with the password checks, and refuses the one past the limit', async () => {
    const created = await call(platform.app, 'POST', '/v1/payments', {
      payerId: payer.id,
      password: payer.password,
      payeeId: 'shop',
      amount: 100,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    expect(created.statusCode, created.body).toBe(201);
    const payment = created.json() as { id: string; firstCode: string };
    const wrong = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, {
      secondCode: '00000000',
    });
    expect(wrong.json().error.code).toBe('approval_failed');
    const secondCode = await secondCodeFor(payer, payment.firstCode);
    // Two attempts counted in this window: the third is the last one let through, so approving now works.
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(approved.statusCode, approved.body).toBe(200);
    const windowStartMs = platform.clock.nowMs() - (platform.clock.nowMs() % limits.payerRateLimitWindowMs);
    expect(await live.redis.get(payerAttemptKey({ payerId: payer.id, windowStartMs }))).toBe('3');
    // The fourth attempt in the window, a password check, is refused before the password is checked.
    const refused = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: payer.id,
      password: payer.password,
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    platform.clock.advance(limits.payerRateLimitWindowMs);
  });

  it('refuses a password check with 503 and Retry-After while Redis is down, changing nothing', async () => {
    redisDown = true;
    try {
      const before = await snapshotTables(platform.test.database);
      const response = await call(platform.app, 'POST', '/v1/sessions', {
        payerId: payer.id,
        password: payer.password,
      });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('service_unavailable');
      expect(response.headers['retry-after']).toBe('1');
      expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    } finally {
      redisDown = false;
    }
  });

  it('refuses an approval with 503 while Redis is down, the payment left to approve', async () => {
    const created = await call(platform.app, 'POST', '/v1/payments', {
      payerId: payer.id,
      password: payer.password,
      payeeId: 'shop',
      amount: 100,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    expect(created.statusCode, created.body).toBe(201);
    const payment = created.json() as { id: string; firstCode: string };
    const secondCode = await secondCodeFor(payer, payment.firstCode);
    redisDown = true;
    try {
      const before = await snapshotTables(platform.test.database);
      const refused = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('service_unavailable');
      expect(refused.headers['retry-after']).toBe('1');
      expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    } finally {
      redisDown = false;
    }
    // Redis back: the same code approves the payment.
    const approved = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('succeeded');
  });

  it('lets requests past the per-address limit through while its Redis is down (fail open)', async () => {
    const statuses: number[] = [];
    for (let request = 0; request < 4; request++) {
      const response = await platform.app.inject({
        method: 'GET',
        url: '/healthz',
        remoteAddress: '198.51.100.20',
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
  });
});
