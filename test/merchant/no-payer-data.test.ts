// Proves on both engines that nothing merchant-facing — API answers, errors and webhooks, driven through the typed client — carries the payer's id, accounts or secrets: every string of every payload is walked.

import { Countersign, CountersignApiError } from '@countersign/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountId } from '../../src/services/ledger/accounts.js';
import { call, createFundedPayer, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import {
  createMerchant,
  injectFetch,
  payRequest,
  startWebhookReceiver,
  type TestMerchant,
  type WebhookReceiver,
} from './merchant-support.js';

/** Every string in a JSON value, object keys included. */
function stringsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, member] of Object.entries(value)) {
      into.push(key);
      stringsOf(member, into);
    }
  }
  return into;
}

describe.each(testEngines())('no payer data reaches the merchant on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let terminalId: string;
  let sessionToken: string;
  let shop: TestMerchant;
  let receiver: WebhookReceiver;
  let countersign: Countersign;
  const payloads: string[] = [];
  const secretsOfPayer: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { webhookAllowPrivateTargets: true });
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'payer-zq7x9k', 50_000);
    const [terminal] = await platform.test.database.query<{ id: string }>(
      'SELECT id FROM terminals WHERE payer_id = $1',
      [payer.id],
    );
    terminalId = terminal!.id;
    sessionToken = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: payer.id, password: payer.password })
    ).json().token;
    receiver = await startWebhookReceiver([500]);
    shop = await createMerchant(platform.app, platform.operatorToken, 'private-shop', {
      webhookUrl: receiver.url,
    });
    countersign = new Countersign({
      apiKey: shop.apiKey,
      baseUrl: 'http://platform.invalid',
      fetch: injectFetch(platform.app, (body) => payloads.push(body)),
      maxNetworkRetries: 0,
    });
  });
  afterAll(async () => {
    await receiver.close();
    await platform.dispose();
  });

  /** The payer starts paying; remembers the codes as secrets that must never reach the merchant. */
  async function startPaying(requestId: string): Promise<string> {
    const payment = (await payRequest(platform.app, payer, requestId)).json();
    const code = await secondCodeFor(payer, payment.firstCode);
    secretsOfPayer.push(payment.firstCode, code);
    return code;
  }

  const expectApiError = async (promise: Promise<unknown>, code: string) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CountersignApiError);
    expect((error as CountersignApiError).code).toBe(code);
  };

  it('walks a whole merchant integration and finds no trace of the payer anywhere', async () => {
    // Paid by redemption, after a wrong code.
    const paid = await countersign.paymentRequests.create({
      amount: 1200,
      currency: 'EUR',
      reference: 'order-p1',
    });
    await expectApiError(
      countersign.paymentRequests.redeem(paid.id, { secondCode: '12345678' }),
      'payment_request_no_pending_payment',
    );
    const code = await startPaying(paid.id);
    await expectApiError(
      countersign.paymentRequests.redeem(paid.id, { secondCode: '00000000' }),
      'approval_failed',
    );
    const redeemed = await countersign.paymentRequests.redeem(paid.id, { secondCode: code });
    expect(redeemed.status).toBe('paid');
    await expectApiError(
      countersign.paymentRequests.redeem(paid.id, { secondCode: code }),
      'payment_request_not_open',
    );
    // Refunds, in part and beyond what is left.
    const refund = await countersign.refunds.create({ paymentId: redeemed.paymentId!, amount: 200 });
    await expectApiError(
      countersign.refunds.create({ paymentId: redeemed.paymentId!, amount: 5000 }),
      'refund_exceeds_remaining',
    );
    await countersign.refunds.retrieve(refund.id);
    await countersign.refunds.list();
    // Canceled while the payer was paying, and expired.
    const canceled = await countersign.paymentRequests.create({
      amount: 300,
      currency: 'EUR',
      reference: 'order-p2',
    });
    await startPaying(canceled.id);
    await countersign.paymentRequests.cancel(canceled.id);
    const expired = await countersign.paymentRequests.create({
      amount: 400,
      currency: 'EUR',
      reference: 'order-p3',
      expiresInSeconds: 60,
    });
    platform.clock.advance(61_000);
    await countersign.paymentRequests.retrieve(expired.id);
    // Payer-side failures a merchant might see the consequences of.
    const locked = await countersign.paymentRequests.create({
      amount: 500,
      currency: 'EUR',
      reference: 'order-p4',
    });
    await call(
      platform.app,
      'POST',
      '/v1/payments',
      { paymentRequestId: locked.id, deliverTo: 'second_terminal' },
      {
        token: sessionToken,
      },
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectApiError(
        countersign.paymentRequests.redeem(locked.id, { secondCode: '00000000' }),
        'approval_failed',
      );
    }
    await countersign.paymentRequests.retrieve(locked.id);
    // Webhooks: a failed attempt, a retry, a replay.
    await platform.services.webhooks.deliverDue();
    platform.clock.advance(40_000);
    await platform.services.webhooks.deliverDue();
    const deliveries = await countersign.webhookDeliveries.list({ limit: 100 });
    await countersign.webhookDeliveries.retrieve(deliveries.data[0]!.id);
    await countersign.webhookDeliveries.replay(deliveries.data[0]!.id);
    await platform.services.webhooks.deliverDue();
    for await (const event of countersign.events.listAll()) await countersign.events.retrieve(event.id);
    for await (const _ of countersign.paymentRequests.listAll()) {
      // Every page is recorded by the fetch.
    }
    await countersign.balance.retrieve('EUR');
    await countersign.merchant.retrieve();

    const bodies = [...payloads, ...receiver.received.map((webhook) => webhook.body)];
    expect(receiver.received.length).toBeGreaterThanOrEqual(5);
    expect(payloads.length).toBeGreaterThan(25);
    const forbidden = [
      payer.id,
      payer.password,
      payer.keyHex,
      terminalId,
      sessionToken,
      accountId('payer', payer.id, 'EUR'),
      ...secretsOfPayer,
    ];
    let walked = 0;
    for (const body of bodies) {
      for (const text of stringsOf(JSON.parse(body))) {
        walked += 1;
        for (const secret of forbidden)
          expect(text, `a merchant saw ${JSON.stringify(text)}`).not.toContain(secret);
        expect(text.toLowerCase()).not.toMatch(/^payer/);
      }
    }
    // The verification code is four digits, which may occur by chance inside ids; it must never be a value.
    for (const body of bodies) expect(stringsOf(JSON.parse(body))).not.toContain(payer.verificationCode);
    expect(walked).toBeGreaterThan(500);
  });
});
