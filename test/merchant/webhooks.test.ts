// Proves signed webhooks from the outbox on both engines: the client verifies signatures and refuses tampering, a failed delivery is retried with backoff, a lapsed claim is resent, attempts are visible and replayable, and a delivery gives up after three days.

import { verifyWebhook, type WebhookEvent, WebhookSignatureError } from '@countersign/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookLimits } from '../../src/domain/limits.js';
import { sqlWebhookStore } from '../../src/store/webhook-repository.js';
import { createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import {
  createMerchant,
  createRequest,
  merchantCall,
  payRequest,
  secondCode,
  startWebhookReceiver,
  type TestMerchant,
  type WebhookReceiver,
} from './merchant-support.js';

describe.each(testEngines())('webhooks on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let receiver: WebhookReceiver;
  let shop: TestMerchant;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { webhookAllowPrivateTargets: true });
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'webhook-payer', 100_000);
    receiver = await startWebhookReceiver();
    shop = await createMerchant(platform.app, platform.operatorToken, 'hook-shop', {
      webhookUrl: receiver.url,
    });
  });
  afterAll(async () => {
    await receiver.close();
    await platform.dispose();
  });

  const nowSeconds = () => platform.clock.nowMs() / 1000;
  const deliveries = async () =>
    (await merchantCall(platform.app, shop, 'GET', '/v1/webhook-deliveries?limit=100')).json().data as {
      id: string;
      eventId: string;
      eventType: string;
      status: string;
      attemptCount: number;
      nextAttemptAt: string | null;
      replayOf: string | null;
      attempts: { attempt: number; responseStatus: number | null; error: string | null }[];
    }[];

  /** The latest delivery of the event of `type` about request `requestId`. */
  async function deliveryOf(requestId: string, type: string) {
    const events = (await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=100')).json()
      .data as WebhookEvent[];
    const event = events.find(
      (candidate) => candidate.type === type && candidate.data.object.id === requestId,
    );
    if (event === undefined) throw new Error(`no ${type} event for ${requestId}`);
    const mine = (await deliveries()).filter((delivery) => delivery.eventId === event.id);
    return mine.find((delivery) => !mine.some((other) => other.replayOf === delivery.id)) ?? mine[0];
  }

  async function paidRequest(amount: number) {
    const request = await createRequest(platform.app, shop, amount);
    const payment = (await payRequest(platform.app, payer, request.id)).json();
    const redeemed = await merchantCall(
      platform.app,
      shop,
      'POST',
      `/v1/payment-requests/${request.id}/redeem`,
      {
        secondCode: await secondCode(payer, payment.firstCode),
      },
    );
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    return { requestId: request.id, paymentId: payment.id as string };
  }

  it('signs the payment_request.paid event, and the client verifies it', async () => {
    const { requestId, paymentId } = await paidRequest(1500);
    expect(await platform.services.webhooks.deliverDue()).toBe(1);
    await receiver.waitFor(1);
    const delivered = receiver.received.at(-1)!;
    expect(delivered.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(delivered.headers['content-type']).toBe('application/json; charset=utf-8');
    const event: WebhookEvent = await verifyWebhook(
      delivered.body,
      delivered.signature,
      shop.webhookSecret,
      300,
      nowSeconds(),
    );
    expect(Object.keys(event)).toEqual(['id', 'object', 'type', 'createdAt', 'data']);
    // One form of time everywhere: an ISO 8601 UTC string, like every object's (API version 2026-12-01).
    expect(event.createdAt).toBe(new Date(event.createdAt).toISOString());
    expect(event.type).toBe('payment_request.paid');
    expect(event.data.object).toMatchObject({ id: requestId, status: 'paid', paymentId, amount: 1500 });
    const listed = await merchantCall(platform.app, shop, 'GET', `/v1/events/${event.id}`);
    expect(JSON.stringify(listed.json())).toBe(delivered.body);
    const delivery = await deliveryOf(requestId, 'payment_request.paid');
    expect(delivery).toMatchObject({ eventId: event.id, status: 'succeeded', attemptCount: 1 });
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, responseStatus: 200, error: null }),
    ]);
  });

  it('refuses a tampered body, a wrong secret, an old timestamp, a forged timestamp and a missing header', async () => {
    const { body, signature } = receiver.received.at(-1)!;
    const refusal = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(WebhookSignatureError);
      return (error as WebhookSignatureError).reason;
    };
    const now = nowSeconds();
    const tampered = body.replace('"amount":1500', '"amount":15');
    expect(tampered).not.toBe(body);
    expect(await refusal(verifyWebhook(tampered, signature, shop.webhookSecret, 300, now))).toBe(
      'signature_mismatch',
    );
    expect(await refusal(verifyWebhook(body, signature, `${shop.webhookSecret}x`, 300, now))).toBe(
      'signature_mismatch',
    );
    expect(await refusal(verifyWebhook(body, signature, shop.webhookSecret, 300, now + 301))).toBe(
      'timestamp_outside_tolerance',
    );
    const timestamp = Number(/t=(\d+)/.exec(signature!)![1]);
    const forged = signature!.replace(`t=${timestamp}`, `t=${timestamp + 60}`);
    expect(await refusal(verifyWebhook(body, forged, shop.webhookSecret, 300, now))).toBe(
      'signature_mismatch',
    );
    expect(await refusal(verifyWebhook(body, undefined, shop.webhookSecret, 300, now))).toBe(
      'missing_header',
    );
    expect(await refusal(verifyWebhook(body, 'v1=abc', shop.webhookSecret, 300, now))).toBe(
      'malformed_header',
    );
    // The untouched delivery still verifies: the refusals above are about the changes alone.
    await expect(verifyWebhook(body, signature, shop.webhookSecret, 300, now)).resolves.toMatchObject({
      type: 'payment_request.paid',
    });
  });

  it('retries a delivery after the receiver failed, with backoff, sending the same body', async () => {
    const failing = await startWebhookReceiver([500]);
    await merchantCall(platform.app, shop, 'POST', '/v1/merchant', { webhookUrl: failing.url });
    const logged: { details: Record<string, unknown>; message: string }[] = [];
    platform.services.webhooks.reportFailedAttemptsTo({
      warn: (details, message) => logged.push({ details, message }),
    });
    try {
      const request = await createRequest(platform.app, shop, 42);
      const canceled = await merchantCall(
        platform.app,
        shop,
        'POST',
        `/v1/payment-requests/${request.id}/cancel`,
      );
      expect(canceled.json().status, canceled.body).toBe('canceled');
      expect(await platform.services.webhooks.deliverDue()).toBe(1);
      const failed = await deliveryOf(request.id, 'payment_request.canceled');
      expect(failed).toMatchObject({
        eventType: 'payment_request.canceled',
        status: 'pending',
        attemptCount: 1,
      });
      expect(failed!.attempts).toEqual([
        expect.objectContaining({ responseStatus: 500, error: 'http_status' }),
      ]);
      // The failed attempt is logged, with what an operator needs and without the body or the URL.
      expect(logged).toEqual([
        {
          message: 'webhook attempt failed',
          details: expect.objectContaining({
            merchantId: shop.id,
            attempt: 1,
            responseStatus: 500,
            next: 'pending',
          }),
        },
      ]);
      expect(JSON.stringify(logged)).not.toContain(request.id);
      expect(JSON.stringify(logged)).not.toContain(failing.url);
      const waitMs = Date.parse(failed!.nextAttemptAt!) - platform.clock.nowMs();
      expect(waitMs).toBeGreaterThanOrEqual(webhookLimits.firstRetryDelayMs * 0.9 - 1000);
      expect(waitMs).toBeLessThanOrEqual(webhookLimits.firstRetryDelayMs * 1.1);
      expect(await platform.services.webhooks.deliverDue()).toBe(0);
      platform.clock.advance(waitMs);
      expect(await platform.services.webhooks.deliverDue()).toBe(1);
      const succeeded = await deliveryOf(request.id, 'payment_request.canceled');
      expect(succeeded).toMatchObject({ status: 'succeeded', attemptCount: 2, nextAttemptAt: null });
      expect(succeeded!.attempts.map((attempt) => attempt.responseStatus)).toEqual([500, 200]);
      expect(failing.received).toHaveLength(2);
      expect(failing.received[1]!.body).toBe(failing.received[0]!.body);
      await verifyWebhook(
        failing.received[1]!.body,
        failing.received[1]!.signature,
        shop.webhookSecret,
        300,
        nowSeconds(),
      );
    } finally {
      await merchantCall(platform.app, shop, 'POST', '/v1/merchant', { webhookUrl: receiver.url });
      await failing.close();
    }
  });

  it('sends again a delivery whose claim lapsed because its process died mid-attempt', async () => {
    const request = await createRequest(platform.app, shop, 43);
    await merchantCall(platform.app, shop, 'POST', `/v1/payment-requests/${request.id}/cancel`);
    const count = receiver.received.length;
    // A process claims the delivery and dies before sending it or recording anything.
    const claimed = await platform.test.database.transaction((tx) =>
      sqlWebhookStore.claimDue(tx, platform.clock.nowMs(), platform.clock.nowMs() + 40_000, 10),
    );
    expect(claimed).toHaveLength(1);
    expect(await platform.services.webhooks.deliverDue()).toBe(0);
    platform.clock.advance(40_000);
    expect(await platform.services.webhooks.deliverDue()).toBe(1);
    expect(receiver.received).toHaveLength(count + 1);
    const delivery = await deliveryOf(request.id, 'payment_request.canceled');
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 2 });
    expect(delivery!.attempts).toEqual([expect.objectContaining({ attempt: 2, responseStatus: 200 })]);
  });

  it('gives up after three days of failures, and delivers again when the merchant replays', async () => {
    const closed = await startWebhookReceiver();
    const deadUrl = closed.url;
    await closed.close();
    await merchantCall(platform.app, shop, 'POST', '/v1/merchant', { webhookUrl: deadUrl });
    const request = await createRequest(platform.app, shop, 44);
    await merchantCall(platform.app, shop, 'POST', `/v1/payment-requests/${request.id}/cancel`);
    const startedMs = platform.clock.nowMs();
    let attempts = 0;
    for (let pass = 0; pass < 40; pass++) {
      attempts += await platform.services.webhooks.deliverDue();
      const delivery = await deliveryOf(request.id, 'payment_request.canceled');
      if (delivery!.status !== 'pending') break;
      platform.clock.advance(Date.parse(delivery!.nextAttemptAt!) - platform.clock.nowMs());
    }
    const gaveUp = await deliveryOf(request.id, 'payment_request.canceled');
    expect(gaveUp).toMatchObject({ status: 'failed', nextAttemptAt: null });
    expect(gaveUp!.attempts.every((attempt) => attempt.error === 'connection_failed')).toBe(true);
    expect(attempts).toBe(gaveUp!.attemptCount);
    expect(attempts).toBeGreaterThan(15);
    expect(platform.clock.nowMs() - startedMs).toBeLessThanOrEqual(webhookLimits.retryWindowMs);
    expect(platform.clock.nowMs() - startedMs).toBeGreaterThan(
      webhookLimits.retryWindowMs - webhookLimits.retryDelayMaxMs * 1.2,
    );
    // The merchant fixes the URL and replays: a new delivery of the same event, sent at once.
    await merchantCall(platform.app, shop, 'POST', '/v1/merchant', { webhookUrl: receiver.url });
    const replayed = await merchantCall(
      platform.app,
      shop,
      'POST',
      `/v1/webhook-deliveries/${gaveUp!.id}/replay`,
      undefined,
      'replay-1',
    );
    expect(replayed.statusCode, replayed.body).toBe(201);
    expect(replayed.json()).toMatchObject({
      eventId: gaveUp!.eventId,
      status: 'pending',
      replayOf: gaveUp!.id,
    });
    const again = await merchantCall(
      platform.app,
      shop,
      'POST',
      `/v1/webhook-deliveries/${gaveUp!.id}/replay`,
      undefined,
      'replay-1',
    );
    expect(again.json().id).toBe(replayed.json().id);
    const count = receiver.received.length;
    expect(await platform.services.webhooks.deliverDue()).toBe(1);
    expect(receiver.received).toHaveLength(count + 1);
    const event = await verifyWebhook(
      receiver.received.at(-1)!.body,
      receiver.received.at(-1)!.signature,
      shop.webhookSecret,
      300,
      nowSeconds(),
    );
    expect(event).toMatchObject({ id: gaveUp!.eventId, type: 'payment_request.canceled' });
  });

  it('lists events with cursor pagination, newest first, and refuses a foreign cursor', async () => {
    const first = await merchantCall(platform.app, shop, 'GET', '/v1/events?limit=2');
    expect(first.statusCode).toBe(200);
    const page = first.json() as { data: { id: string; createdAt: string }[]; hasMore: boolean };
    expect(page.data).toHaveLength(2);
    expect(page.hasMore).toBe(true);
    const next = await merchantCall(
      platform.app,
      shop,
      'GET',
      `/v1/events?limit=100&starting_after=${page.data[1]!.id}`,
    );
    const rest = next.json() as { data: { id: string }[]; hasMore: boolean };
    expect(rest.hasMore).toBe(false);
    const all = [...page.data, ...rest.data].map((event) => event.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(4);
    for (const limit of ['0', '101']) {
      const bad = await merchantCall(platform.app, shop, 'GET', `/v1/events?limit=${limit}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'invalid_request', param: 'limit' });
    }
    const other = await createMerchant(platform.app, platform.operatorToken, 'hook-other');
    const foreign = await merchantCall(platform.app, other, 'GET', `/v1/events?starting_after=${all[0]}`);
    expect(foreign.json().error).toMatchObject({ code: 'invalid_request', param: 'starting_after' });
    expect((await merchantCall(platform.app, other, 'GET', `/v1/events/${all[0]}`)).statusCode).toBe(404);
  });
});
