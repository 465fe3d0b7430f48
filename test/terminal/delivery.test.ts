// Proves on both engines that the delivery outbox sends each second-terminal challenge through push, a signed SMS-gateway message and the development outbox; retries a failing channel with backoff without resending to channels that accepted; marks a message failed after its last attempt, visibly; skips closed payments; survives a delivery that died mid-way; and never shows a first code in the operator's outbox listing.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/domain/limits.js';
import { deliveryBackoffMs } from '../../src/services/delivery/delivery-service.js';
import { sqlDeliveryStore } from '../../src/store/delivery-repository.js';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { type SmsReceiver, startSmsReceiver } from './support/sms-receiver.js';
import { injectTransport, TestTerminal } from './support/test-terminal.js';

const gatewaySecret = 'sms-gateway-secret-of-at-least-32-characters';

describe.each(testEngines())('delivery outbox on %s', (engine) => {
  let platform: TestPlatform;
  let receiver: SmsReceiver;
  let phone: TestTerminal;
  const now = () => platform.clock.nowMs();
  const password = 'correct horse battery';

  beforeAll(async () => {
    receiver = await startSmsReceiver();
    platform = await startTestPlatform(engine, {
      codeTtlSeconds: 600,
      deliveries: { smsGatewayUrl: receiver.url, smsGatewaySecret: gatewaySecret, developmentOutbox: true },
    });
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Corner Shop');
    const alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    phone = await TestTerminal.enroll(injectTransport(platform.app), now, alice.enrollmentUri, '4321');
  });
  afterAll(async () => {
    await platform.dispose();
    await receiver.close();
  });

  async function pay(amount: number): Promise<string> {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'alice',
      password,
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json().id;
  }

  async function delivery(paymentId: string) {
    const [row] = await platform.test.database.query<{ id: string }>(
      'SELECT id FROM deliveries WHERE payment_id = $1',
      [paymentId],
    );
    const answer = await call(platform.app, 'GET', `/v1/deliveries/${row!.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json();
  }

  async function firstCodeOf(paymentId: string): Promise<string> {
    const answer = await phone.call('GET', '/v1/terminal/challenges');
    const challenge = answer.json().data.find((c: { paymentId: string }) => c.paymentId === paymentId);
    return challenge.firstCode;
  }

  it('sends a challenge through every channel: a signed SMS message, the development outbox, push', async () => {
    receiver.status = 200;
    const paymentId = await pay(1234);
    expect(await platform.services.deliveries.processDue()).toBe(1);
    const firstCode = await firstCodeOf(paymentId);
    const shown = await delivery(paymentId);
    expect(shown).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastError: null,
      channel: 'second_terminal',
    });
    expect(shown.message).toEqual({
      amount: 1234,
      currency: 'EUR',
      payeeName: 'Corner Shop',
      expiresAt: expect.any(String),
    });
    expect(
      shown.attemptLog.map((a: { channel: string; succeeded: boolean }) => [a.channel, a.succeeded]).sort(),
    ).toEqual([
      ['development_outbox', true],
      ['push', true],
      ['sms', true],
    ]);
    expect(JSON.stringify(shown)).not.toContain(firstCode);

    const [message] = receiver.received.slice(-1);
    const signature = String(message!.headers['countersign-signature']);
    const [, t, v1] = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(signature)!;
    expect(v1).toBe(createHmac('sha256', gatewaySecret).update(`${t}.${message!.body}`).digest('hex'));
    expect(Number(t)).toBe(Math.floor(now() / 1000));
    expect(message!.headers['idempotency-key']).toBe(shown.id);
    const body = JSON.parse(message!.body);
    expect(body).toMatchObject({
      id: shown.id,
      type: 'second_terminal.challenge',
      recipient: { payerId: 'alice' },
      firstCode,
      payment: { id: paymentId, amount: 1234, currency: 'EUR', payeeName: 'Corner Shop' },
    });
    expect(body.text).toContain('12.34 EUR to Corner Shop');
    expect(body.text).toContain(firstCode);

    const outbox = await call(platform.app, 'GET', '/v1/development-outbox', undefined, {
      token: platform.operatorToken,
    });
    expect(outbox.json().data[0]).toMatchObject({
      paymentId,
      firstCode,
      amount: 1234,
      payeeName: 'Corner Shop',
    });
    const listing = await call(platform.app, 'GET', '/v1/deliveries?limit=5', undefined, {
      token: platform.operatorToken,
    });
    expect(listing.json().data[0]).toMatchObject({ id: shown.id, status: 'delivered' });
    expect(listing.body).not.toContain(firstCode);
    const approved = await phone.call('POST', `/v1/terminal/payments/${paymentId}/approve`, {
      secondCode: await phone.secondCode(firstCode),
    });
    expect(approved.json().status).toBe('succeeded');
  });

  it('retries a failing channel with backoff, and only that channel', async () => {
    receiver.status = 503;
    const logged: { details: Record<string, unknown>; message: string }[] = [];
    platform.services.deliveries.reportFailedAttemptsTo({
      warn: (details, message) => logged.push({ details, message }),
    });
    const paymentId = await pay(500);
    const sentBefore = receiver.received.length;
    await platform.services.deliveries.processDue();
    let shown = await delivery(paymentId);
    expect(shown).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'sms: the SMS gateway answered HTTP 503',
    });
    // The failed attempt is logged by channel and error, never with the message (it holds the first code).
    expect(logged).toEqual([
      {
        message: 'delivery attempt failed',
        details: {
          deliveryId: shown.id,
          channel: 'sms',
          attempt: 1,
          error: 'the SMS gateway answered HTTP 503',
          next: 'pending',
        },
      },
    ]);
    const wait = Date.parse(shown.nextAttemptAt) - now();
    expect(wait).toBeGreaterThanOrEqual(deliveryBackoffMs(1, 0.75));
    expect(wait).toBeLessThanOrEqual(deliveryBackoffMs(1));
    expect(await platform.services.deliveries.processDue()).toBe(0);
    receiver.status = 200;
    platform.clock.advance(wait);
    expect(await platform.services.deliveries.processDue()).toBe(1);
    shown = await delivery(paymentId);
    expect(shown).toMatchObject({ status: 'delivered', attempts: 2 });
    const second = shown.attemptLog.filter((a: { attempt: number }) => a.attempt === 2);
    expect(second.map((a: { channel: string }) => a.channel)).toEqual(['sms']);
    expect(receiver.received.length - sentBefore).toBe(2);
    const outbox = await call(platform.app, 'GET', '/v1/development-outbox', undefined, {
      token: platform.operatorToken,
    });
    expect(outbox.json().data.filter((m: { paymentId: string }) => m.paymentId === paymentId)).toHaveLength(
      1,
    );
  });

  it('fails a message after its last attempt, visibly, and lets the operator retry it', async () => {
    receiver.status = 500;
    const paymentId = await pay(600);
    for (let attempt = 1; attempt <= limits.deliveryAttemptsMax; attempt++) {
      expect(await platform.services.deliveries.processDue()).toBe(1);
      platform.clock.advance(limits.deliveryBackoffMaxMs);
    }
    const shown = await delivery(paymentId);
    expect(shown).toMatchObject({
      status: 'failed',
      attempts: limits.deliveryAttemptsMax,
      nextAttemptAt: null,
    });
    expect(shown.lastError).toBe('sms: the SMS gateway answered HTTP 500');
    expect(await platform.services.deliveries.processDue()).toBe(0);
    const failed = await call(platform.app, 'GET', '/v1/deliveries?status=failed', undefined, {
      token: platform.operatorToken,
    });
    expect(failed.json().data.map((d: { id: string }) => d.id)).toContain(shown.id);
    const audit = await platform.test.database.query<{ detail: string }>(
      `SELECT detail FROM audit_log WHERE event = 'delivery_failed'`,
    );
    expect(audit.map((entry) => JSON.parse(entry.detail).deliveryId)).toContain(shown.id);

    const notFailed = await call(
      platform.app,
      'POST',
      `/v1/deliveries/${(await delivery(await pay(1))).id}/retry`,
      undefined,
      {
        token: platform.operatorToken,
      },
    );
    expect(notFailed.statusCode).toBe(409);
    expect(notFailed.json().error).toMatchObject({ code: 'delivery_not_retryable', status: 'pending' });
    receiver.status = 200;
    const retried = await call(platform.app, 'POST', `/v1/deliveries/${shown.id}/retry`, undefined, {
      token: platform.operatorToken,
    });
    expect(retried.json()).toMatchObject({ status: 'pending', attempts: 0 });
    await platform.services.deliveries.processDue();
    expect((await delivery(paymentId)).status).toBe('delivered');
  });

  it('skips the challenge of a payment closed before its first attempt, sending nothing', async () => {
    receiver.status = 200;
    await platform.services.deliveries.processDue();
    const paymentId = await pay(700);
    const canceled = await call(platform.app, 'POST', `/v1/payments/${paymentId}/cancel`, {
      payerId: 'alice',
      password,
    });
    expect(canceled.json().status).toBe('canceled');
    const sentBefore = receiver.received.length;
    await platform.services.deliveries.processDue();
    expect(await delivery(paymentId)).toMatchObject({ status: 'skipped', attempts: 0, attemptLog: [] });
    expect(receiver.received.length).toBe(sentBefore);
  });

  it('sends again, after the lease, a message whose delivery died mid-way', async () => {
    receiver.status = 200;
    const paymentId = await pay(800);
    // A process claims the row and dies before sending.
    const claimed = await platform.test.database.transaction((tx) =>
      sqlDeliveryStore.claimDue(tx, now(), 10, now() + limits.deliveryLeaseMs),
    );
    expect(claimed.map((row) => row.paymentId)).toEqual([paymentId]);
    expect(await platform.services.deliveries.processDue()).toBe(0);
    platform.clock.advance(limits.deliveryLeaseMs);
    expect(await platform.services.deliveries.processDue()).toBe(1);
    expect((await delivery(paymentId)).status).toBe('delivered');
  });

  it('keeps the outbox listing and the development outbox for the operator only', async () => {
    const before = await snapshotTables(platform.test.database);
    for (const path of ['/v1/deliveries', '/v1/development-outbox']) {
      const anonymous = await call(platform.app, 'GET', path);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('authentication_required');
    }
    const unknown = await call(
      platform.app,
      'GET',
      '/v1/deliveries/00000000-0000-4000-8000-000000000000',
      undefined,
      {
        token: platform.operatorToken,
      },
    );
    expect(unknown.json().error.code).toBe('delivery_not_found');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('purges development-outbox messages after their retention', async () => {
    const count = async () =>
      (await platform.test.database.query('SELECT delivery_id FROM development_outbox')).length;
    expect(await count()).toBeGreaterThan(0);
    expect(await platform.services.deliveries.purgeDevelopmentMessages()).toBe(0);
    platform.clock.advance(limits.developmentOutboxRetentionHours * 3600 * 1000 + 1);
    await platform.services.deliveries.purgeDevelopmentMessages();
    expect(await count()).toBe(0);
  });
});

describe('delivery backoff', () => {
  it('doubles from one second to a one-minute cap, and jitter only shortens it by up to a quarter', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => deliveryBackoffMs(attempt))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
    ]);
    expect(deliveryBackoffMs(3, 0.75)).toBe(3000);
    expect(deliveryBackoffMs(3, 0.1)).toBe(3000);
    expect(deliveryBackoffMs(3, 2)).toBe(4000);
  });
});
